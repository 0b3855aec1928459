#!/usr/bin/env python3
"""make fpm-test: kafka_lock in a real php-fpm pool behind a real nginx, loaded with ab.

  python3 fpm/run.py                 the test, about 25 s (make fpm-test, part of make test, runs
                                     --self-check first, about 12 s)
  python3 fpm/run.py --self-check    the same load against fpm/app.php with the lock skipped
                                     (KL_SKIP_LOCK=1): passes only if the checker reports the
                                     overlaps and the lost counter updates that this causes
  python3 fpm/run.py --keep          keep the run directory (kept anyway on failure)

A private php-fpm8.2 master (static pool, 8 workers, the extension loaded with
-d extension=/abs/path/libkafka_lock.so) and a private nginx on a free port of 127.0.0.1, both
configured from fpm/*.conf.in under a fresh run directory, serve fpm/app.php. Several ab
processes load one hot lock and many identifiers at once; some holds end with releaseLock(),
some are left to the end of the request, some call exit(), some throw an uncaught exception,
and the driver sends requests whose holder SIGKILLs its own worker; the FPM master gets SIGUSR2
(graceful reload) twice during the load. Afterwards the driver checks, from the app's event log
(hrtime stamps) and the FPM, PHP and nginx logs:

  - no two holds of one lock overlap (a killed holder's hold lasts until the next holder enters,
    who must enter after the kill and after the end of the lease the killed holder trusted);
  - every per-lock counter (read, sleep, write inside the hold) equals the number of holds that
    incremented it: no lost update;
  - fencing tokens strictly increase in hold order, per lock;
  - every hold ended, every lease held to its end, no acquire timed out;
  - a killed holder's lock passed on within lock.ttl + 1.5 s of the kill;
  - php-fpm.log: one "exited on signal 9" per kill sent, no other signal, no non-zero exit code,
    no worker output, no error; both reloads done; the PHP error log holds only the deliberate
    uncaught exceptions; every nginx response has the status its end calls for.

Exit status 0 when every check passed (with --self-check: when the checker caught the broken
lock), 1 otherwise. A line of figures is appended to .run/fpm-measurements.log.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FPM_BIN = 'php-fpm8.2'
NGINX_BIN = 'nginx'
AB_BIN = 'ab'

WORKERS = 8
TTL = 2.0              # lock.ttl: a killed holder blocks its lock for at most this long
HANDOFF_MARGIN = 1.5   # a killed holder's lock must pass on within TTL + this (as multiprocess_kill.phpt)
WINDOW_US = 1000       # the counter's read-modify-write window
MANY = 16              # identifiers of the "many" load


def now():
    """CLOCK_MONOTONIC in ns: the clock of hrtime(true) in the workers."""
    return time.monotonic_ns()


class Fail(Exception):
    pass


def log(msg):
    print(f'fpm-test: {msg}', flush=True)


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def render(template, dest, fields):
    with open(os.path.join(HERE, template)) as f:
        text = f.read()
    for key, value in fields.items():
        text = text.replace(f'@{key}@', str(value))
    left = re.findall(r'@[A-Z_]+@', text)
    if left:
        raise Fail(f'{template}: unfilled fields {left}')
    with open(dest, 'w') as f:
        f.write(text)


def read(path):
    try:
        with open(path, errors='replace') as f:
            return f.read()
    except FileNotFoundError:
        return ''


def tail(path, n=30):
    return '\n'.join(read(path).splitlines()[-n:])


def await_cond(what, cond, timeout, proc=None, logfile=None):
    """Polls cond() every 10 ms until it is true; fails after timeout or if proc exited."""
    deadline = time.monotonic() + timeout
    while True:
        if cond():
            return
        if proc is not None and proc.poll() is not None:
            raise Fail(f'{what}: the process exited with status {proc.returncode}'
                       + (f'; {logfile}:\n{tail(logfile)}' if logfile else ''))
        if time.monotonic() > deadline:
            raise Fail(f'{what}: not within {timeout:.0f} s' + (f'; {logfile}:\n{tail(logfile)}' if logfile else ''))
        time.sleep(0.01)


def can_connect(family, address):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(0.5)
    try:
        s.connect(address)
        return True
    except OSError:
        return False
    finally:
        s.close()


def http_get(url, timeout):
    """(status, body); status 0 when no HTTP response came at all."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode(errors='replace')
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors='replace')
    except (urllib.error.URLError, OSError) as e:
        return 0, str(e)


def extension_supports(php_ext, ini):
    """Whether the extension registers the INI setting `ini` (each lock.* option has one)."""
    out = subprocess.run(['php', '-n', '-d', f'extension={php_ext}', '-r',
                          f'echo ini_get({json.dumps(ini)}) === false ? "no" : "yes";'],
                         capture_output=True, text=True, timeout=30)
    return out.stdout.strip() == 'yes'


class Run:
    def __init__(self, args, ext):
        self.args = args
        self.ext = ext
        self.dir = tempfile.mkdtemp(prefix='kafka_lock_fpm.')
        os.makedirs(os.path.join(self.dir, 'nginx-tmp'))
        self.topic = f'fpm_test_{time.strftime("%Y%m%d%H%M%S")}_{os.getpid()}_{os.urandom(3).hex()}'
        self.port = free_port()
        self.procs = []          # everything this driver started, stopped in stop_all()
        self.fpm = self.nginx = None
        self.kills = []          # (lock kind, sent at, status, body)
        self.reloads = []        # (SIGUSR2 at, ready at)
        self.notes = []

    def path(self, name):
        return os.path.join(self.dir, name)

    def url(self, query):
        return f'http://127.0.0.1:{self.port}/app.php?{query}'

    # ---- processes ------------------------------------------------------------------------
    def start(self, cmd, logname):
        out = open(self.path(logname), 'ab')
        # A session of its own: stop_all() ends the process group this driver created (a php-fpm
        # master and its workers, nginx and its workers) by its id.
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                             start_new_session=True, cwd=self.dir)
        out.close()
        self.procs.append(p)
        return p

    def stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 10
        for p in self.procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()

    def fpm_ready_count(self):
        return read(self.path('php-fpm.log')).count('ready to handle connections')

    def start_servers(self):
        root = os.geteuid() == 0
        user = os.environ.get('USER') or __import__('pwd').getpwuid(os.geteuid()).pw_name
        extra = []
        if extension_supports(self.ext, 'kafka_lock.max_clock_step'):
            extra.append('php_admin_value[kafka_lock.max_clock_step] = 0')
            self.notes.append('lock.max_clock_step = 0')
        else:
            self.notes.append('lock.max_clock_step not in this build')
        render('php-fpm.conf.in', self.path('php-fpm.conf'), {
            'RUN': self.dir, 'WORKERS': WORKERS, 'TOPIC': self.topic, 'WINDOW_US': WINDOW_US,
            'MANY': MANY, 'SKIP_LOCK': '1' if self.args.self_check else '0',
            'BROKERS': os.environ.get('KAFKA_LOCK_BROKERS', 'localhost:9092'), 'TTL': TTL,
            # As root, php-fpm wants the workers' user named (and -R to allow root itself).
            'USER_LINES': f'user = {user}\ngroup = {user}' if root else '',
            'EXTRA_INI': '\n'.join(extra),
        })
        render('nginx.conf.in', self.path('nginx.conf'), {
            'RUN': self.dir, 'PORT': self.port, 'APP': os.path.join(HERE, 'app.php'),
            'USER_LINE': f'user {user};' if root else '',
        })
        fpm_cmd = [FPM_BIN, '-n', '-F', '-y', self.path('php-fpm.conf'),
                   '-d', 'extension=posix', '-d', f'extension={self.ext}'] + (['-R'] if root else [])
        t0 = time.monotonic()
        self.fpm = self.start(fpm_cmd, 'php-fpm.out')
        await_cond('php-fpm ready', lambda: self.fpm_ready_count() >= 1
                   and can_connect(socket.AF_UNIX, self.path('php-fpm.sock')),
                   15, self.fpm, self.path('php-fpm.log'))
        t1 = time.monotonic()
        self.nginx = self.start([NGINX_BIN, '-p', self.dir + '/', '-c', self.path('nginx.conf'),
                                 '-e', self.path('nginx-error.log')], 'nginx.out')
        await_cond(f'nginx listening on 127.0.0.1:{self.port}',
                   lambda: can_connect(socket.AF_INET, ('127.0.0.1', self.port)),
                   10, self.nginx, self.path('nginx-error.log'))
        t2 = time.monotonic()
        # End to end: nginx -> FPM -> the extension -> Kafka (creates the topic).
        status, body = http_get(self.url('warm=1'), 30)
        if status != 200 or body.strip() != 'ready':
            raise Fail(f'warm-up request: HTTP {status}: {body.strip()[:300]}\n'
                       f'php-fpm.log:\n{tail(self.path("php-fpm.log"))}\nphp-errors.log:\n{tail(self.path("php-errors.log"))}')
        t3 = time.monotonic()
        log(f'php-fpm ({WORKERS} workers) ready in {t1 - t0:.2f} s, nginx on 127.0.0.1:{self.port} '
            f'in {t2 - t1:.2f} s, first request (topic {self.topic}) in {t3 - t2:.2f} s; '
            + ', '.join(self.notes))

    # ---- load -----------------------------------------------------------------------------
    def kill_request(self, kind):
        sent = now()
        status, body = http_get(self.url(f'lock={kind}&end=kill'), 60)
        self.kills.append((kind, sent, status, body.strip()[:200]))

    def reload(self):
        before = self.fpm_ready_count()
        sent = now()
        os.kill(self.fpm.pid, signal.SIGUSR2)
        try:
            await_cond('php-fpm ready again after SIGUSR2', lambda: self.fpm_ready_count() > before,
                       45, self.fpm, self.path('php-fpm.log'))
            self.reloads.append((sent, now()))
        except Fail as e:
            self.reloads.append((sent, None))
            self.notes.append(str(e))

    def load(self):
        secs = self.args.duration
        # (concurrency, query): 7 connections on the hot lock, 3 on 16 identifiers, against 8
        # workers, so requests also queue in FPM's backlog.
        abs_ = [(4, 'lock=hot&end=release'), (1, 'lock=hot&end=request_end'), (1, 'lock=hot&end=exit'),
                (1, 'lock=hot&end=throw'), (3, 'lock=many&end=mix')]
        # Kills (fraction of the load time, lock) and reloads (fraction), spread over the load.
        kills = [(0.10, 'hot'), (0.20, 'many'), (0.30, 'hot'), (0.50, 'many'), (0.60, 'hot'),
                 (0.75, 'many'), (0.85, 'hot')]
        # The first reload lands while a killed holder still blocks the hot lock: the workers that
        # wait for it in acquireLock() get SIGQUIT and must finish their requests all the same.
        reloads = [0.32, 0.70]
        self.load_start = now()
        ab_procs = []
        for i, (c, q) in enumerate(abs_):
            ab_procs.append((q, self.start([AB_BIN, '-q', '-r', '-s', '60', '-t', str(secs), '-c', str(c),
                                            self.url(q)], f'ab-{i}.out')))
        timers = []
        for frac, kind in kills:
            timers.append(threading.Timer(frac * secs, self.kill_request, (kind,)))
        for frac in reloads:
            timers.append(threading.Timer(frac * secs, self.reload))
        for t in timers:
            t.daemon = True
            t.start()
        deadline = time.monotonic() + secs + 30
        for q, p in ab_procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                raise Fail(f'ab ({q}) still running {secs + 30} s after the start of a {secs} s load')
        self.load_end = now()
        for t in timers:
            t.join(max(0.1, deadline - time.monotonic()))
            if t.is_alive():
                raise Fail('a kill request or a reload did not finish within 30 s after the load')
        self.ab = {}
        for i, (q, p) in enumerate(ab_procs):
            text = read(self.path(f'ab-{i}.out'))
            m = re.search(r'Complete requests:\s+(\d+)', text)
            self.ab[q] = int(m.group(1)) if m else None
            if p.returncode != 0 or m is None:
                raise Fail(f'ab ({q}) failed (status {p.returncode}):\n{text[-2000:]}')
        # Requests that ab gave up on at its time limit still run in FPM: await their end (a request
        # whose worker died without its last event is not awaited; the checker reports it).
        try:
            await_cond('every request that began in the app ended', lambda: not self.unfinished(alive_only=True), 30)
        except Fail:
            left = self.unfinished(alive_only=True)
            raise Fail(f'{len(left)} requests still running 30 s after the load: '
                       + '; '.join(f'{rid} ({e["id"]}, end {e["end"]}, pid {e["pid"]})' for rid, e in list(left.items())[:5]))
        self.drained = now()

    def events(self):
        out = []
        for line in read(self.path('events.log')).splitlines():
            if line.endswith('}'):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
        return out

    def unfinished(self, alive_only=False):
        """rid -> begin event of the requests that have not logged their last event yet (with
        alive_only, only those whose worker still runs)."""
        open_ = {}
        for e in self.events():
            if e['ev'] == 'begin':
                open_[e['rid']] = e
            elif e['ev'] in ('released', 'timeout', 'kill') or (e['ev'] == 'leave' and e.get('how') == 'shutdown'):
                open_.pop(e['rid'], None)
        if alive_only:
            open_ = {rid: e for rid, e in open_.items() if os.path.exists(f'/proc/{e["pid"]}')}
        return open_

    def stop_servers(self):
        """Graceful stops (SIGQUIT) of nginx and php-fpm, awaited; both must have run until then."""
        for name, p in (('nginx', self.nginx), ('php-fpm', self.fpm)):
            if p.poll() is not None:
                raise Fail(f'the {name} master exited during the test (status {p.returncode})')
        for p in (self.nginx, self.fpm):
            p.send_signal(signal.SIGQUIT)
        for name, p in (('nginx', self.nginx), ('php-fpm', self.fpm)):
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                raise Fail(f'{name} did not stop within 20 s of SIGQUIT')
            if p.returncode != 0:
                raise Fail(f'{name} exited with status {p.returncode} after SIGQUIT')


# ---- the checker --------------------------------------------------------------------------
def pct(values, p):
    values = sorted(values)
    if not values:
        return None
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def ms(ns):
    return f'{ns / 1e6:.1f} ms'


def check(run):
    """(failures: {category: [messages]}, figures: dict) of a finished run."""
    failures = {}

    def fail(category, message):
        failures.setdefault(category, []).append(message)

    t0 = run.load_start

    def at(ns):
        return f'{(ns - t0) / 1e9:+.3f} s'

    events = run.events()
    by_rid = {}
    for e in events:
        by_rid.setdefault(e['rid'], []).append(e)

    holds = {}  # lock id -> [hold]
    ends = {}
    timeouts = 0
    for rid, evs in by_rid.items():
        kinds = {e['ev']: e for e in evs}
        begin = kinds.get('begin')
        if begin is None:
            continue
        ends[begin['end']] = ends.get(begin['end'], 0) + 1
        if 'timeout' in kinds:
            timeouts += 1
            fail('liveness', f'request {rid} ({begin["id"]}, pid {begin["pid"]}) timed out after 25 s in acquireLock()')
            continue
        enter = kinds.get('enter')
        if enter is None:
            fail('liveness', f'request {rid} ({begin["id"]}, pid {begin["pid"]}) began at {at(begin["t"])} and never entered its hold')
            continue
        h = {'rid': rid, 'pid': enter['pid'], 'id': enter['id'], 'token': enter['token'], 'end': begin['end'],
             'acquiring': kinds['acquiring']['t'], 'enter': enter['t'], 'inc': 'inc' in kinds}
        if 'kill' in kinds:
            h.update(killed=True, stop=kinds['kill']['t'], until=kinds['kill']['until'])
        elif 'leave' in kinds:
            h.update(killed=False, stop=kinds['leave']['t'], how=kinds['leave']['how'])
            if not kinds['leave']['held']:
                fail('lease', f'hold {rid} on {h["id"]} (pid {h["pid"]}): isAcquired() false at its end ({kinds["leave"]["how"]}): the lease was lost inside the hold')
        else:
            fail('liveness', f'hold {rid} on {h["id"]} (pid {h["pid"]}) entered at {at(h["enter"])} and never ended (no leave, no kill)')
            continue
        if 'released' in kinds and not kinds['released']['ok']:
            fail('lease', f'hold {rid} on {h["id"]}: releaseLock() returned false')
        if 'survived kill' in kinds:
            fail('fpm', f'request {rid}: pid {h["pid"]} survived its own SIGKILL')
        if not h['inc']:
            fail('counter', f'hold {rid} on {h["id"]} did not increment its counter')
        holds.setdefault(h['id'], []).append(h)

    handoff = {'release': [], 'request end': [], 'kill': []}
    overlaps = token_errors = 0
    for lock_id, hs in sorted(holds.items()):
        hs.sort(key=lambda h: h['enter'])
        prev = None
        latest = None  # the hold whose end is the latest so far
        for h in hs:
            if latest is not None and h['enter'] < latest['stop']:
                overlaps += 1
                what = 'was SIGKILLed' if latest['killed'] else 'left'
                fail('overlap', f'{lock_id}: hold {h["rid"]} (pid {h["pid"]}) entered at {at(h["enter"])}, before hold '
                     f'{latest["rid"]} (pid {latest["pid"]}, entered {at(latest["enter"])}) {what} at {at(latest["stop"])}')
            if prev is not None:
                if h['token'] is None or prev['token'] is None or h['token'] <= prev['token']:
                    token_errors += 1
                    fail('token', f'{lock_id}: fencing token {h["token"]} of hold {h["rid"]} (entered {at(h["enter"])}) '
                         f'not above {prev["token"]} of the hold before it ({prev["rid"]}, entered {at(prev["enter"])})')
                waited = h['acquiring'] < prev['stop']
                if prev['killed']:
                    if h['enter'] < prev['until']:
                        overlaps += 1
                        fail('overlap', f'{lock_id}: hold {h["rid"]} entered at {at(h["enter"])}, before the end of the lease '
                             f'({at(prev["until"])}) that SIGKILLed holder {prev["rid"]} (pid {prev["pid"]}) trusted')
                    bound = max(prev['stop'] + TTL * 1e9, h['acquiring']) + HANDOFF_MARGIN * 1e9
                    if h['enter'] > bound:
                        fail('kill hand-off', f'{lock_id}: holder {prev["rid"]} (pid {prev["pid"]}) SIGKILLed at {at(prev["stop"])}; '
                             f'the next holder ({h["rid"]}, acquiring since {at(h["acquiring"])}) entered only at {at(h["enter"])}, '
                             f'more than lock.ttl {TTL} s + {HANDOFF_MARGIN} s later')
                    if waited:
                        handoff['kill'].append(h['enter'] - prev['stop'])
                elif waited and h['enter'] >= prev['stop']:
                    handoff['release' if prev['how'] == 'release' else 'request end'].append(h['enter'] - prev['stop'])
            prev = h
            if latest is None or h['stop'] > latest['stop']:
                latest = h
    killed_holds = [h for hs in holds.values() for h in hs if h['killed']]
    # A kill whose lock nobody took afterwards: its hand-off was not observed (a "many" identifier
    # that no later request picked); counted, not a failure.
    unobserved_kills = sum(1 for hs in holds.values() if hs and hs[-1]['killed'])

    # Counters: each file against the holds that incremented it.
    lost = 0
    for lock_id, hs in sorted(holds.items()):
        incs = sum(1 for h in hs if h['inc'])
        text = read(run.path(f'counter-{lock_id}')).strip()
        value = int(text) if text.isdigit() else None
        if value != incs:
            lost += incs - (value or 0)
            fail('counter', f'counter of {lock_id} is {value}, but {incs} holds incremented it ({incs - (value or 0)} updates lost)')

    # php-fpm's log: one SIGKILL per kill sent, nothing else abnormal.
    fpm_log = read(run.path('php-fpm.log')).splitlines()
    signals = [int(m.group(1)) for line in fpm_log for m in [re.search(r'exited on signal (\d+)', line)] if m]
    sigkills = signals.count(9)
    kills_sent = len(run.kills)
    if sigkills != kills_sent or len(killed_holds) != kills_sent:
        fail('fpm', f'{kills_sent} kill requests sent, {len(killed_holds)} holders logged their SIGKILL, '
             f'php-fpm.log has {sigkills} "exited on signal 9"')
    for line in fpm_log:
        bad = (re.search(r'exited on signal (?!9\b)\d+', line) or 'SIGSEGV' in line
               or re.search(r'exited with code [1-9]', line) or 'said into std' in line
               or re.search(r'\] (ERROR|ALERT|EMERG|CRIT)', line))
        if bad:
            fail('fpm', f'php-fpm.log: {line.strip()}')
    ready = sum('ready to handle connections' in line for line in fpm_log)
    if ready != 1 + len(run.reloads) or any(r is None for _, r in run.reloads):
        fail('fpm', f'{len(run.reloads)} reloads (SIGUSR2) sent, php-fpm.log has {ready} "ready to handle connections" (expected {1 + len(run.reloads)})')
    # Workers started by the last reload that served requests: the reloaded pool was used.
    pids_first = {}
    for e in events:
        pids_first.setdefault(e['pid'], e['t'])
    after_reload = 0
    if run.reloads and run.reloads[-1][1] is not None:
        new_pids = {p for p, t in pids_first.items() if t > run.reloads[-1][1]}
        after_reload = sum(1 for e in events if e['ev'] == 'begin' and e['pid'] in new_pids)
        if after_reload == 0:
            fail('fpm', 'no request was served by a worker of the last reload')

    # PHP's error log: the deliberate uncaught exceptions, nothing else.
    entries = []
    for line in read(run.path('php-errors.log')).splitlines():
        if line.startswith('['):
            entries.append(line)
        elif entries:
            entries[-1] += '\n' + line
    thrown = sum(1 for hs in holds.values() for h in hs if h['end'] == 'throw')
    deliberate = [e for e in entries if 'Uncaught RuntimeException: deliberate uncaught exception inside the hold' in e]
    for e in entries:
        if e not in deliberate:
            fail('php', f'php-errors.log: {e[:500]}')
    if len(deliberate) != thrown:
        fail('php', f'{thrown} holds threw, php-errors.log has {len(deliberate)} uncaught exceptions')

    # nginx: every response as its request's end calls for.
    expect = {'release': {200}, 'request_end': {200}, 'exit': {200}, 'throw': {500}, 'kill': {502}}
    statuses = {}
    for line in read(run.path('nginx-access.log')).splitlines():
        m = re.match(r'(\S+) (\d+) (\S+) (\S+) "(.*)"$', line)
        if not m:
            fail('nginx', f'nginx-access.log: unreadable line {line}')
            continue
        rid, status, request = m.group(1), int(m.group(2)), m.group(5)
        statuses[status] = statuses.get(status, 0) + 1
        begin = next((e for e in by_rid.get(rid, []) if e['ev'] == 'begin'), None)
        if begin is None:
            if not (request.startswith('GET /app.php?warm=1 ') and status == 200):
                fail('nginx', f'HTTP {status} for "{request}", a request that never reached the app')
            continue
        # 499: ab closed the connection at its time limit; the request ran to its end in FPM all the same.
        ok = expect[begin['end']] | ({499} if begin['end'] != 'kill' else set())
        if status not in ok:
            fail('nginx', f'HTTP {status} for request {rid} ({begin["id"]}, end {begin["end"]}): expected {sorted(ok)}')
    # A killed worker's connection: "Connection reset by peer" (what was left unread in its socket)
    # or "upstream prematurely closed connection", once per kill; no other error.
    upstream_lost = 0
    for line in read(run.path('nginx-error.log')).splitlines():
        if not re.search(r'\[(error|crit|alert|emerg)\]', line):
            continue
        if 'end=kill' in line and ('Connection reset by peer' in line or 'upstream prematurely closed connection' in line):
            upstream_lost += 1
        else:
            fail('nginx', f'nginx-error.log: {line.strip()[:300]}')
    if upstream_lost != kills_sent:
        fail('nginx', f'{kills_sent} kills, nginx-error.log reports {upstream_lost} connections to a killed worker lost')

    # A worker's first request builds its Kafka session (connect, replay the partition): how long.
    first = {}
    for rid, evs in by_rid.items():
        kinds = {e['ev']: e for e in evs}
        if 'begin' in kinds and 'acquiring' in kinds:
            b = kinds['begin']
            if b['pid'] not in first or b['t'] < first[b['pid']][0]:
                first[b['pid']] = (b['t'], kinds['acquiring']['t'] - b['t'])
    session_start = [d for _, d in first.values()]

    # After a reload every worker is new and joins the partition at the same moment: how long from
    # SIGUSR2 until a new worker's first hold (of any lock).
    first_hold_after_reload = []
    for sent, _ in run.reloads:
        new_pids = {p for p, (t, _) in first.items() if t > sent}
        enters = [h['enter'] for hs in holds.values() for h in hs if h['pid'] in new_pids]
        first_hold_after_reload.append(round((min(enters) - sent) / 1e9, 2) if enters else None)

    n_holds = sum(len(hs) for hs in holds.values())
    load_s = (run.load_end - run.load_start) / 1e9
    fig = {
        'requests': sum(statuses.values()), 'statuses': statuses, 'holds': n_holds,
        'hot holds': len(holds.get('hot', [])), 'identifiers': len(holds),
        'ends': ends, 'kills': kills_sent, 'kills unobserved': unobserved_kills, 'reloads': len(run.reloads),
        'reload s': [round((r - s) / 1e9, 2) if r else None for s, r in run.reloads],
        'served after last reload': after_reload, 'first hold after reload s': first_hold_after_reload,
        'load s': round(load_s, 1), 'holds/s': round(n_holds / load_s, 1),
        'overlaps': overlaps, 'lost updates': lost, 'token errors': token_errors, 'timeouts': timeouts,
        'workers seen': len(pids_first),
    }
    if session_start:
        fig['session start'] = {'n': len(session_start), 'p50 ms': round(pct(session_start, 50) / 1e6, 1),
                                'max ms': round(max(session_start) / 1e6, 1)}
    for k, v in handoff.items():
        if v:
            fig[f'hand-off {k}'] = {'n': len(v), 'p50 ms': round(pct(v, 50) / 1e6, 2),
                                    'p99 ms': round(pct(v, 99) / 1e6, 2), 'max ms': round(max(v) / 1e6, 1)}
    return failures, fig


def print_failures(failures, limit=12, word='FAILED'):
    for category, messages in failures.items():
        print(f'{word} [{category}]: {len(messages)}')
        for m in messages[:limit]:
            print(f'    {m}')
        if len(messages) > limit:
            print(f'    ... and {len(messages) - limit} more')


def figures_line(fig):
    def h(k):
        v = fig.get(f'hand-off {k}')
        return f'{v["p50 ms"]} / {v["p99 ms"]} / {v["max ms"]} ms (n {v["n"]})' if v else '-'
    return (f'{fig["requests"]} requests ({", ".join(f"{s}: {n}" for s, n in sorted(fig["statuses"].items()))}) in '
            f'{fig["load s"]} s; {fig["holds"]} holds ({fig["holds/s"]}/s; hot {fig["hot holds"]}, '
            f'{fig["identifiers"]} identifiers); ends {json.dumps(fig["ends"], sort_keys=True)}; '
            f'{fig["kills"]} SIGKILLs ({fig["kills unobserved"]} with no later holder), '
            f'{fig["reloads"]} reloads ({", ".join(f"{r} s" for r in fig["reload s"])}; first hold by a new worker '
            f'{", ".join(f"{r} s" for r in fig["first hold after reload s"])} after SIGUSR2), '
            f'{fig["served after last reload"]} requests by the last reload\'s workers, {fig["workers seen"]} worker pids; '
            f'hand-off p50/p99/max after release {h("release")}, after request end {h("request end")}, '
            f'after SIGKILL {h("kill")}; a worker\'s first request spent p50 {fig["session start"]["p50 ms"]} ms, '
            f'max {fig["session start"]["max ms"]} ms constructing DistributedLock (its session)')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--self-check', action='store_true',
                    help='skip the lock in the app (KL_SKIP_LOCK=1) and require the checker to catch it')
    ap.add_argument('--duration', type=float, default=None, help='seconds of load (default 24, self-check 8)')
    ap.add_argument('--keep', action='store_true', help='keep the run directory')
    ap.add_argument('--ext', default=os.environ.get('KAFKA_LOCK_EXT', os.path.join(ROOT, 'target/release/libkafka_lock.so')))
    args = ap.parse_args()
    if args.duration is None:
        args.duration = 8.0 if args.self_check else 24.0
    started = time.monotonic()
    ext = os.path.abspath(args.ext)
    os.environ['PATH'] += ':/usr/sbin:/sbin'
    for tool in (FPM_BIN, NGINX_BIN, AB_BIN, 'php'):
        if shutil.which(tool) is None:
            print(f'fpm-test: {tool} not found (make setup installs php8.2-fpm nginx-light apache2-utils)')
            return 1
    if not os.path.exists(ext):
        print(f'fpm-test: no extension at {ext} (make build)')
        return 1

    run = Run(args, ext)
    # FPM loads a private copy: a rebuild of target/ during the run cannot change the code under
    # test (nor pull the file from under a running worker), and a reload execs the same copy.
    source, ext = ext, run.path('libkafka_lock.so')
    shutil.copy2(source, ext)
    run.ext = ext
    mode = 'self-check (lock skipped)' if args.self_check else 'test'
    log(f'{mode}: run directory {run.dir}, extension {source} (copied there)')
    failures, fig, error = {}, None, None
    try:
        run.start_servers()
        log(f'load: {args.duration:.0f} s of ab on the hot lock and {MANY} identifiers, 7 SIGKILLs inside holds, 2 reloads')
        run.load()
        run.stop_servers()
        failures, fig = check(run)
    except Fail as e:
        error = str(e)
    except KeyboardInterrupt:
        error = 'interrupted'
    finally:
        run.stop_all()
        os.unlink(ext)  # the copy (41 MB); kept logs name the file it was copied from
    wall = time.monotonic() - started

    if error is not None:
        print(f'FAILED: {error}')
        print(f'fpm-test: logs kept in {run.dir}')
        return 1
    print(f'fpm-test: {figures_line(fig)}; wall time {wall:.1f} s')
    if args.self_check:
        caught = {k for k in ('overlap', 'counter') if failures.get(k)}
        print_failures(failures, limit=3, word='self-check, caught as it should be')
        if not args.keep:
            shutil.rmtree(run.dir, ignore_errors=True)
        if caught == {'overlap', 'counter'}:
            print(f'fpm-test self-check: OK, without the lock the checker reports {len(failures["overlap"])} overlaps '
                  f'and {fig["lost updates"]} lost counter updates')
            return 0
        print('fpm-test self-check: FAILED, the checker did not report both overlaps and lost updates without the lock')
        return 1
    os.makedirs(os.path.join(ROOT, '.run'), exist_ok=True)
    with open(os.path.join(ROOT, '.run', 'fpm-measurements.log'), 'a') as f:
        f.write(f'{time.strftime("%Y-%m-%dT%H:%M:%S")} {"FAILED" if failures else "passed"}: {figures_line(fig)}; '
                f'wall {wall:.1f} s; {json.dumps(fig, sort_keys=True)}\n')
    if failures:
        print_failures(failures)
        print(f'fpm-test: FAILED, logs kept in {run.dir}')
        return 1
    if args.keep:
        log(f'logs kept in {run.dir}')
    else:
        shutil.rmtree(run.dir, ignore_errors=True)
    print(f'fpm-test: passed (no overlap, counters exact, tokens increasing, {fig["kills"]} SIGKILLs and '
          f'{fig["reloads"]} reloads handled) in {wall:.1f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
