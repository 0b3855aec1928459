#!/usr/bin/env python3
"""kafka_lock fault-injection suite: real PHP workers, a real broker / cluster, injected faults,
a recorded history and a checker (chaos/checker.py). See docs/reliability.md.

  python3 chaos/run.py --quick          short variant (make test): about two minutes, single broker
  python3 chaos/run.py --full           everything, repeated (make chaos)
  python3 chaos/run.py --scenarios kill,pause --reps 2 --duration 20

Scenarios: kill (kill -9 of holders in the critical section), pause (SIGSTOP of a holder past
its lease, then SIGCONT), mixed (readers and writers of one lock and weighted semaphore shares of
another on one topic, under kill -9 and SIGSTOP past the lease; full only: two controls that
must show violations, a writer that takes a read lock and a share paused past its lease),
restart (single broker restarted under load, shorter and longer than
the lease), cluster (three-node cluster: kill and restart the partition leader, then a
follower), junk (garbage records produced into the lock topic under load), cutoff (a holder cut
off from a live broker through a proxy; and the whole broker paused with SIGSTOP), forge (a
hostile writer copying live holders' owners, refs, keys and commitments, and other releases'
secrets, and replaying earlier records), truncate (DeleteRecords to the high watermark while
locks are held, then new processes join), compacted (a topic with cleanup.policy=compact must
be refused), retention (retention.ms below the join window refused; a short retention.bytes
accepted and safe), skew (full only: one cluster node's wall clock ahead, the partitions'
leadership moved to and from it while a holder is cut off: no violation within
lock.max_clock_step, and a control beyond it that must show violations; chaos/skew.py).

The brokers are private to the suite (chaos/brokers.py: ports 9192.. by default), never the
shared `make kafka-start` / `make cluster-start` ones. Exit status 1 on any safety violation,
on any failed check (a missing or unreadable log, fewer acquisitions or faults than the
scenario's minimum, an exception the scenario does not allow, a stuck waiter or a missed
liveness expectation; --lenient-liveness only reports the last two), when interrupted, and when
not every planned run finished. Results: .run/chaos/results/.
"""
import argparse
import base64
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import brokers  # noqa: E402
import checker  # noqa: E402
import kafkaproto  # noqa: E402
import proxy as proxy_mod  # noqa: E402
import skew as skew_mod  # noqa: E402

EXT = os.environ.get("KAFKA_LOCK_EXT", os.path.join(ROOT, "target", "release", "libkafka_lock.so"))
WORKER = os.path.join(HERE, "worker.php")


def mono():
    return time.monotonic_ns()


def say(*a):
    print("chaos:", *a, flush=True)


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return f.read().split()[:3]
    except OSError:
        return None


# ---------------------------------------------------------------------------------------------
class Tailer(threading.Thread):
    """Reads every partition of a run's topic as its records arrive and keeps them all, so the
    history the checker replays stays complete when records are deleted under the workers
    (DeleteRecords in `truncate`, retention in `retention`): log.json is then written from
    here. A record deleted before it was read is a gap (log.json "gaps": the checker fails the
    run's input check). Also notes every move of a partition's log start (self.moves)."""

    def __init__(self, bootstrap, topic, every=0.025):
        super().__init__(daemon=True)
        self.bootstrap, self.topic, self.every = bootstrap, topic, every
        md = kafkaproto.cluster_metadata(bootstrap, topic)
        self.parts = sorted(md["partitions"])
        self.records = {p: [] for p in self.parts}
        self.next = {p: 0 for p in self.parts}
        self.log_start = {p: 0 for p in self.parts}
        self.gaps, self.moves, self.errors = [], [], []
        self.undecodable = {}
        self.conns = {}
        self.lock = threading.Lock()
        self.halt = threading.Event()

    def _conn(self, part):
        c = self.conns.get(part)
        if c is None:
            leader, _p, brokers = kafkaproto.leader_of(self.bootstrap, self.topic, part)
            c = self.conns[part] = kafkaproto.Connection(*brokers[leader])
        return c

    def _fetch(self, part):
        """One fetch from where this partition was left. -> its high watermark."""
        c = self._conn(part)
        err, hw, log_start, recs = c.fetch_ex(self.topic, part, self.next[part])
        if err == kafkaproto.ERR_OFFSET_OUT_OF_RANGE:
            first = c.log_start(self.topic, part)
            if first > self.next[part]:
                self.gaps.append({"partition": part, "from": self.next[part], "to": first, "t": mono()})
                self._moved(part, first)
                self.next[part] = first
            return -1
        if err:
            raise kafkaproto.KafkaError("fetch %s-%d: error %d" % (self.topic, part, err))
        for r in recs:
            if r.get("undecodable"):
                self.undecodable.setdefault(str(part), []).append(r)
            else:
                self.records[part].append(r)
            self.next[part] = r["offset"] + 1
        if log_start > self.log_start[part]:
            self._moved(part, log_start)
        return hw

    def _moved(self, part, start):
        self.moves.append({"t": mono(), "wall": time.time(), "partition": part, "from": self.log_start[part],
                           "to": start})
        self.log_start[part] = start

    def catch_up(self):
        """Reads every partition up to its high watermark now. -> {partition: high watermark}:
        every record below it has been kept."""
        with self.lock:
            out = {}
            for part in self.parts:
                for _ in range(10000):
                    hw = self._fetch(part)
                    if hw >= 0 and self.next[part] >= hw:
                        out[part] = hw
                        break
            return out

    def run(self):
        while not self.halt.wait(self.every):
            try:
                with self.lock:
                    for part in self.parts:
                        self._fetch(part)
            except Exception as e:  # noqa: BLE001 (a broker hiccup: reconnect and go on)
                self.errors.append(repr(e)[:200])
                for c in self.conns.values():
                    c.close()
                self.conns = {}

    def stop(self):
        self.halt.set()
        self.join(timeout=5)

    def log(self):
        """-> the "partitions" of log.json, and the extra fields (gaps, log starts)."""
        parts = {str(p): [{"offset": r["offset"], "timestamp": r["timestamp"], "log_append": r["log_append"],
                           "key": None if r["key"] is None else base64.b64encode(r["key"]).decode(),
                           "value": None if r["value"] is None else base64.b64encode(r["value"]).decode()}
                          for r in recs] for p, recs in self.records.items()}
        extra = {"gaps": self.gaps, "log_start": {str(p): s for p, s in self.log_start.items()},
                 "read_by": "tailer", "tailer_errors": self.errors[:20]}
        if self.undecodable:
            extra["undecodable_batches"] = self.undecodable
        return parts, extra


class Run:
    """One run of one scenario: a fresh topic, a fresh fenced store, workers, a fault log."""
    counter = 0

    def __init__(self, suite, scenario, rep, params, bootstrap):
        Run.counter += 1
        self.suite, self.scenario, self.rep, self.p = suite, scenario, rep, params
        self.bootstrap = bootstrap
        self.name = "%s-%d" % (scenario, rep) + (("-" + params["variant"]) if params.get("variant") else "")
        self.dir = os.path.join(suite.out, self.name)
        os.makedirs(self.dir, exist_ok=True)
        self.topic = "chaos-%s-%s-%d" % (scenario, suite.stamp, Run.counter)
        self.sock = "/tmp/kl-chaos-%d-%d.sock" % (os.getpid(), Run.counter)
        self.store = subprocess.Popen([sys.executable, os.path.join(HERE, "store.py"), self.sock],
                                      stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        self.store.stdout.readline()
        self._conn = None
        self.workers = {}  # pid -> (Popen, path)
        self.killed = set()
        self.faults = open(os.path.join(self.dir, "faults.jsonl"), "w")
        self.t_begin = mono()
        self.deadline = self.t_begin + int(params["duration"] * 1e9)
        self.nworker = 0
        self.load_begin = loadavg()
        self.tailer = None
        self.extra_meta = {}
        self.log_annotate = None  # called with log.json's dict before it is written (skew)

    # -- workers --
    def spawn(self, **over):
        args = dict(self.p["worker"])
        args.update(over)
        remaining = max(0.5, (self.deadline - mono()) / 1e9)
        args.setdefault("duration", round(remaining, 3))
        bootstrap = args.pop("via", None) or self.bootstrap
        self.nworker += 1
        path = os.path.join(self.dir, "w-%03d.jsonl" % self.nworker)
        cmd = ["php", "-n", "-d", "extension=" + EXT, WORKER, "--log=" + path, "--store=" + self.sock,
               "--topic=" + self.topic, "--brokers=" + bootstrap, "--ttl=%s" % self.p["ttl"]]
        cmd += ["--%s=%s" % (k, v) for k, v in args.items()]
        err = open(os.path.join(self.dir, "w-%03d.stderr" % self.nworker), "wb")
        proc = subprocess.Popen(cmd, stdout=err, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        err.close()
        self.workers[proc.pid] = (proc, path)
        return proc.pid

    def alive_workers(self):
        return [pid for pid, (p, _) in self.workers.items() if p.poll() is None]

    # -- the store --
    def store_req(self, req):
        for _ in range(2):
            try:
                if self._conn is None:
                    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    s.connect(self.sock)
                    self._conn = s.makefile("rwb")
                self._conn.write((json.dumps(req) + "\n").encode())
                self._conn.flush()
                return json.loads(self._conn.readline())
            except (OSError, ValueError):
                self._conn = None
        raise RuntimeError("fenced store unreachable")

    def inside(self, pred=None):
        out = [e for e in self.store_req({"op": "inside"})["inside"] if e["pid"] in self.workers
               and e["pid"] not in self.killed and self.workers[e["pid"]][0].poll() is None]
        return [e for e in out if pred is None or pred(e)]

    def wait_inside(self, pred=None, timeout=10.0, min_age_ms=0):
        end = time.monotonic() + timeout
        while time.monotonic() < end and mono() < self.deadline:
            now = mono()
            got = [e for e in self.inside(pred) if (now - e["t"]) / 1e6 >= min_age_ms]
            if got:
                return random.choice(got)
            time.sleep(0.002)
        return None

    # -- faults --
    def fault(self, **kw):
        kw.setdefault("t", mono())
        self.faults.write(json.dumps(kw) + "\n")
        self.faults.flush()
        return kw

    def kill(self, pid, **kw):
        t = mono()
        os.kill(pid, signal.SIGKILL)
        self.killed.add(pid)
        self.store_req({"op": "forget", "pid": pid})
        return self.fault(kind="kill", fault=True, pid=pid, t=t, **kw)

    def sleep_until(self, t_ns):
        while mono() < t_ns:
            time.sleep(min(0.05, max(0.0, (t_ns - mono()) / 1e9)))

    def remaining(self):
        return (self.deadline - mono()) / 1e9

    # -- the end --
    def read_log(self):
        """The lock topic's records for log.json: from the tailer when the run deleted records
        (it kept every record it read), else read back now from offset 0."""
        log = {"topic": self.topic, "partitions": {}}
        if self.tailer is not None:
            try:
                self.tailer.catch_up()
            except Exception as e:  # noqa: BLE001 (the gaps and errors tell the checker)
                self.tailer.errors.append("final catch-up: %r" % e)
            self.tailer.stop()
            log["partitions"], extra = self.tailer.log()
            log.update(extra)
            return log
        md = kafkaproto.cluster_metadata(self.bootstrap, self.topic)
        for part in sorted(md["partitions"]):
            recs = kafkaproto.read_partition(self.bootstrap, self.topic, part)
            log["partitions"][str(part)] = [
                {"offset": r["offset"], "timestamp": r["timestamp"], "log_append": r["log_append"],
                 "key": None if r["key"] is None else base64.b64encode(r["key"]).decode(),
                 "value": None if r["value"] is None else base64.b64encode(r["value"]).decode()}
                for r in recs if not r.get("undecodable")]
            bad = [r for r in recs if r.get("undecodable")]
            if bad:
                log.setdefault("undecodable_batches", {})[str(part)] = bad
        if self.log_annotate is not None:
            try:
                self.log_annotate(log)
            except Exception as e:  # noqa: BLE001 (the checker fails the run's input check)
                log["skew_error"] = repr(e)[:300]
        return log

    def finish(self):
        grace = self.p.get("grace", max(10.0, 3 * self.p["ttl"] + 5))
        end = time.monotonic() + grace + max(0.0, self.remaining())
        while time.monotonic() < end and self.alive_workers():
            time.sleep(0.05)
        t_end = mono()
        stragglers = self.alive_workers()
        for pid in stragglers:
            os.kill(pid, signal.SIGKILL)
        codes = {}
        for pid, (p, _) in self.workers.items():
            codes[str(pid)] = p.wait()
        dump = self.store_req({"op": "dump", "path": os.path.join(self.dir, "store.jsonl")})
        self.store.kill()
        self.store.wait()
        try:
            os.unlink(self.sock)
        except OSError:
            pass
        self.faults.close()
        try:
            log = self.read_log()
            with open(os.path.join(self.dir, "log.json"), "w") as f:
                json.dump(log, f)
        except Exception as e:  # noqa: BLE001
            say("warning: could not read the topic back: %s" % e)
        meta = {"scenario": self.scenario, "rep": self.rep, "params": self.p, "topic": self.topic,
                "workers": {str(pid): os.path.basename(path) for pid, (_, path) in self.workers.items()},
                "t_begin": self.t_begin, "t_end": t_end, "exit_codes": codes, "stragglers": stragglers,
                "liveness_bound_s": self.p["worker"].get("acq-timeout", 30), "grace_s": grace,
                "store_counters": dump.get("counters"), "load_begin": self.load_begin, "load_end": loadavg(),
                **self.extra_meta}
        with open(os.path.join(self.dir, "meta.json"), "w") as f:
            json.dump(meta, f, indent=1)
        return checker.check_run(self.dir)


# ---------------------------------------------------------------------------------------------
# Scenarios. Each gets a Run whose workers it starts, injects its faults until run.deadline.

def start_workers(run):
    p = run.p
    for _ in range(p.get("hot", 0)):
        run.spawn()
    for _ in range(p.get("mixed_workers", 0)):
        run.spawn(**{"mixed": p.get("mixed_locks", 8), "hot-share": 0})


# The mixed scenario: workers that hold in every mode (worker.php --mode). Each role is kept
# (a killed worker's place is taken by one of the same role).
def mixed_roles(p):
    """-> [spawn arguments]: p["rw_writers"] writers and p["rw_readers"] readers of lock "rw", and
    one share of semaphore "sem" (limit p["sem_limit"]) per weight in p["sem_weights"]. The
    control variant `liar` makes the first writer take its holds with acquireReadLock()."""
    roles = []
    for i in range(p.get("rw_writers", 0)):
        roles.append({"lock": "rw", "mode": "writer", "hold-ms": p.get("writer_hold", "20-60"),
                      **({"take": "read"} if p.get("variant") == "liar" and i == 0 else {})})
    for _ in range(p.get("rw_readers", 0)):
        roles.append({"lock": "rw", "mode": "reader", "hold-ms": p.get("reader_hold", "60-160")})
    for wgt in p.get("sem_weights", []):
        roles.append({"lock": "sem", "mode": "share", "limit": p["sem_limit"], "weight": wgt,
                      "hold-ms": p.get("share_hold", "40-120")})
    return roles


def sc_mixed(run):
    """Readers and writers on one lock ("rw"), semaphore shares of limit 3 with weights 1 and 2
    on another ("sem"), one topic. Faults in turn, every `every` seconds: kill -9 of a holder of
    "rw" inside its critical section (writers and readers alternately preferred), kill -9 of a
    share inside its critical section, SIGSTOP of a holder of "rw" for `pause` seconds (past
    its lease; readers and writers alternately preferred, starting with readers on odd reps), then
    SIGCONT. A killed worker's
    place is taken by a new one of the same role. Variant sharepause (a control): the pauses
    hit shares, which no token fences (chaos/store.py): the limit must be seen broken."""
    p = run.p
    role_of = {}
    for role in mixed_roles(p):
        role_of[run.spawn(**role)] = role
    time.sleep(p.get("warmup", 1.0))
    n = 0
    while run.remaining() > p["ttl"] + 2:
        step = n % 3
        if step == 2 and run.remaining() <= p["pause"] + p["ttl"] + 2:
            step = 0  # no time left for a pause to be judged: a kill instead
        prefer = ["exclusive", "shared"][(n // 3 + run.rep) % 2]  # (quick runs see one pause: by rep)
        n += 1
        if step == 2:
            lock = "sem" if p.get("variant") == "sharepause" else "rw"
            want = (lambda e: e["lock"] == lock) if lock == "sem" else (lambda e: e["lock"] == "rw" and e["mode"] == prefer)
            e = run.wait_inside(want, timeout=3) or run.wait_inside(lambda e: e["lock"] == lock, timeout=3)
            if e is None:
                continue
            t = mono()
            os.kill(e["pid"], signal.SIGSTOP)
            time.sleep(p["pause"])
            t_cont = mono()
            os.kill(e["pid"], signal.SIGCONT)
            run.fault(kind="sigstop", fault=True, pid=e["pid"], lock=e["lock"], token=e["token"], mode=e["mode"],
                      t=t, t_cont=t_cont, pause_s=(t_cont - t) / 1e9)
        else:
            lock = "rw" if step == 0 else "sem"
            want = (lambda e: e["lock"] == "rw" and e["mode"] == prefer) if lock == "rw" else (lambda e: e["lock"] == "sem")
            e = run.wait_inside(want, timeout=3) or run.wait_inside(lambda e: e["lock"] == lock, timeout=3)
            if e is None:
                continue
            waiters = sum(1 for r in role_of.values() if r["lock"] == e["lock"]) - 1
            run.kill(e["pid"], lock=e["lock"], token=e["token"], mode=e["mode"], waiters=waiters)
            role = role_of.pop(e["pid"], None)
            if role is not None:
                role_of[run.spawn(**role)] = role
        time.sleep(p["every"])


def sc_kill(run):
    """kill -9 of the holder inside its critical section, every `every` seconds."""
    start_workers(run)
    p = run.p
    time.sleep(p.get("warmup", 1.0))
    n = 0
    while run.remaining() > p["ttl"] + 2:
        want_hot = n % 3 != 2 or not p.get("mixed_workers")
        e = run.wait_inside(lambda e: (e["lock"] == "hot") == want_hot, timeout=5)
        if e is None:
            e = run.wait_inside(timeout=5)
        if e is None:
            continue
        waiters = p.get("hot", 0) - 1 if e["lock"] == "hot" else 0
        run.kill(e["pid"], lock=e["lock"], token=e["token"], waiters=waiters)
        n += 1
        # Keep the number of contenders: a new worker takes the dead one's place.
        if e["lock"] == "hot":
            run.spawn()
        else:
            run.spawn(**{"mixed": p.get("mixed_locks", 8), "hot-share": 0})
        time.sleep(p["every"])


def sc_pause(run):
    """SIGSTOP of the holder (inside its critical section, after its read) for longer than its
    lease, then SIGCONT: the next holder must get a higher token and the store must refuse the
    resumed holder's write."""
    start_workers(run)
    p = run.p
    time.sleep(p.get("warmup", 1.0))
    while run.remaining() > p["pause"] + p["ttl"] + 2:
        e = run.wait_inside(lambda e: e["lock"] == "hot", timeout=5)
        if e is None:
            continue
        t = mono()
        os.kill(e["pid"], signal.SIGSTOP)
        time.sleep(p["pause"])
        t_cont = mono()
        os.kill(e["pid"], signal.SIGCONT)
        run.fault(kind="sigstop", fault=True, pid=e["pid"], lock=e["lock"], token=e["token"], t=t, t_cont=t_cont,
                  pause_s=(t_cont - t) / 1e9)
        time.sleep(p["every"])


def sc_restart(run, single):
    """Restart the single broker under load: down for `down` seconds (plus the broker's own
    start-up), so shorter or longer than the lease."""
    start_workers(run)
    p = run.p
    time.sleep(p.get("warmup", 2.0))
    while run.remaining() > p.get("min_left", 15):
        sig = signal.SIGKILL if p.get("kill") else signal.SIGTERM
        t = mono()
        single.node.stop(sig)
        t_down = mono()
        time.sleep(p.get("down", 0))
        single.node.launch()
        single.node.ready()
        t_up = mono()
        run.fault(kind="broker_restart", fault=True, t=t, t_down=t_down, t_up=t_up, signal=int(sig),
                  outage_s=(t_up - t) / 1e9, longer_than_lease=(t_up - t) / 1e9 > p["ttl"], t_recover_from=t_up)
        say("  broker restart (%s): unavailable %.1f s, lease %.1f s" % (signal.Signals(sig).name, (t_up - t) / 1e9, p["ttl"]))
        time.sleep(p["every"])


def sc_cluster(run, cluster):
    """Three-node cluster: kill -9 the leader of the hot lock's partition, restart it; then a
    follower. Leaders are found with a Metadata request (chaos/kafkaproto.py)."""
    start_workers(run)
    p = run.p
    time.sleep(p.get("warmup", 3.0))
    # The partition of the hot lock: murmur2 like the extension; read it from the log instead
    # (the first acquire of "hot" in any partition).
    part = hot_partition(run)
    roles = p.get("roles", ["leader", "follower"])
    i = 0
    while run.remaining() > p.get("min_left", 20):
        role = roles[i % len(roles)]
        i += 1
        leader, info, _ = kafkaproto.leader_of(cluster.bootstrap, run.topic, part)
        victim = leader if role == "leader" else random.choice([r for r in info["replicas"] if r != leader])
        node = cluster.nodes[victim]
        t = mono()
        node.kill()
        run.fault(kind="node_kill", fault=True, role=role, node=victim, partition=part, t=t, isr=info["isr"],
                  lock="hot", recover="fresh")
        time.sleep(p["down"])
        new_leader = None
        try:
            new_leader = kafkaproto.leader_of(cluster.bootstrap, run.topic, part)[0]
        except Exception:  # noqa: BLE001
            pass
        t_s = mono()
        cluster.start_node(victim)
        run.fault(kind="node_start", node=victim, t=t_s, t_up=mono(), new_leader=new_leader)
        say("  killed %s (node %d), leader then %s, restarted in %.1f s" % (role, victim, new_leader, (mono() - t_s) / 1e9))
        # Wait until the node is back in the ISR before the next fault.
        end = time.monotonic() + 30
        while time.monotonic() < end:
            try:
                if victim in kafkaproto.leader_of(cluster.bootstrap, run.topic, part)[1]["isr"]:
                    break
            except Exception:  # noqa: BLE001
                pass
            time.sleep(0.2)
        time.sleep(p["every"])


def hot_partition(run):
    try:
        md = kafkaproto.cluster_metadata(run.bootstrap, run.topic)
        for part in sorted(md["partitions"]):
            for r in kafkaproto.read_partition(run.bootstrap, run.topic, part):
                if r["key"] == b"hot":
                    return part
    except Exception:  # noqa: BLE001
        pass
    return 0


JUNK_KINDS = ["random_bytes", "bad_json", "unknown_op", "forged_ref", "forged_owner", "wrong_key", "oversized",
              "null_key", "null_value", "bad_types", "extra_field", "bad_ttl", "tick"]


def junk_record(kind, live, rnd):
    """-> (key, value) for one junk record of `kind`. live: [(key, token, owner)] seen in the log."""
    def j(d):
        return json.dumps(d).encode()
    key = rnd.choice([b"hot", b"m0", b"m1", b"m%d" % rnd.randrange(8)])
    tok, owner = 0, "nobody/1/0/0"
    if live:
        lk, tok, owner = rnd.choice(live)
    if kind == "random_bytes":
        return (bytes(rnd.randrange(256) for _ in range(rnd.randrange(0, 64))) or None,
                bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 200))))
    if kind == "bad_json":
        return key, rnd.choice([b"{", b"{\"v\":1,\"op\":\"release\"", b"[1,2]", b"null", b"\"acquire\"", b"{\"v\":1,}",
                                b"{\"v\":1,\"op\":\"tick\"} trailing", b"\xff\xfe{}"])
    if kind == "unknown_op":
        return key, j({"v": 1, "op": rnd.choice(["steal", "ACQUIRE", "grant", ""]), "owner": "x", "ref": tok})
    if kind == "forged_ref":  # renew/release of a live token by a stranger, or of a token that does not exist
        ref = tok if rnd.random() < 0.5 else rnd.randrange(0, 1 << 40)
        if rnd.random() < 0.5:
            return key, j({"v": 1, "op": "release", "owner": "forger/%d" % rnd.randrange(1000), "ref": ref})
        return key, j({"v": 1, "op": "renew", "owner": "forger", "ref": ref, "prev": int(time.time() * 1000), "ttl": 60000})
    if kind == "forged_owner":  # the real owner name but a ref that is not its own live request
        return key, j({"v": 1, "op": "release", "owner": owner, "ref": tok + 1 + rnd.randrange(5)})
    if kind == "wrong_key":  # the real owner and ref, under another lock's key
        other = b"zz-other-%d" % rnd.randrange(5)
        if rnd.random() < 0.5:
            return other, j({"v": 1, "op": "release", "owner": owner, "ref": tok})
        return other, j({"v": 1, "op": "renew", "owner": owner, "ref": tok, "prev": int(time.time() * 1000), "ttl": 60000})
    if kind == "oversized":
        return key, j({"v": 1, "op": "acquire", "owner": "x" * rnd.choice([129, 3000, 100000]), "seq": 1, "ttl": 1000})
    if kind == "null_key":
        return None, j({"v": 1, "op": rnd.choice(["acquire", "release"]), "owner": "ghost", "seq": 1, "ttl": 1000}
                       if rnd.random() < 0.5 else {"v": 1, "op": "release", "owner": owner, "ref": tok})
    if kind == "null_value":
        return key, None
    if kind == "bad_types":
        return key, rnd.choice([
            j({"v": 1, "op": "acquire", "owner": "g", "seq": "1", "ttl": 1000}),
            j({"v": 1, "op": "acquire", "owner": "g", "seq": 1.0, "ttl": 1000}),
            b'{"v":1,"op":"acquire","owner":"g","seq":1,"ttl":1e3}',
            j({"v": 1, "op": "acquire", "owner": 5, "seq": 1, "ttl": 1000}),
            j({"v": True, "op": "tick"}),
            j({"v": 2, "op": "tick"}),
            b'{"v":1,"op":"tick","op":"tick"}',
            j({"v": 1, "op": "renew", "owner": owner, "ref": -1, "prev": 0, "ttl": 1000}),
        ])
    if kind == "extra_field":
        return key, j({"v": 1, "op": "release", "owner": owner, "ref": tok, "force": True})
    if kind == "bad_ttl":
        return key, j({"v": 1, "op": "acquire", "owner": "g", "seq": 1, "ttl": rnd.choice([0, 60001, -5, 1 << 70])})
    if kind == "tick":  # well-formed: only moves the log clock
        return None, j({"v": 1, "op": "tick"})
    raise ValueError(kind)


def sc_junk(run):
    """Garbage produced into every partition of the lock topic while the workers run."""
    start_workers(run)
    p = run.p
    time.sleep(p.get("warmup", 1.0))
    rnd = random.Random(p.get("seed", 7))
    prod = kafkaproto.Producer(run.bootstrap, run.topic)
    md = kafkaproto.cluster_metadata(run.bootstrap, run.topic)
    parts = sorted(md["partitions"])
    sent = {}
    live = []
    last_scan = 0
    interval = 1.0 / p["rate"]
    nxt = time.monotonic()
    t_junk = mono()
    while run.remaining() > 1.0:
        if time.monotonic() - last_scan > 0.5:  # learn live tokens and owners to forge with
            last_scan = time.monotonic()
            live = []
            for part in parts:
                try:
                    for r in kafkaproto.read_partition(run.bootstrap, run.topic, part)[-50:]:
                        try:
                            d = json.loads(r["value"])
                            if d.get("op") == "acquire":
                                live.append((r["key"], r["offset"], d["owner"]))
                        except Exception:  # noqa: BLE001
                            pass
                except Exception:  # noqa: BLE001
                    pass
        kind = rnd.choice(JUNK_KINDS)
        key, value = junk_record(kind, live, rnd)
        res = prod.send(rnd.choice(parts), [(key, value)])
        ok = res is not None and res[0] == 0
        s = sent.setdefault(kind, [0, 0])
        s[0 if ok else 1] += 1
        nxt += interval
        time.sleep(max(0.0, nxt - time.monotonic()))
    prod.close()
    run.fault(kind="junk", fault=True, recover="none", t=t_junk, count=sum(v[0] for v in sent.values()),
              sent={k: v[0] for k, v in sent.items()},
              refused_by_broker={k: v[1] for k, v in sent.items() if v[1]})
    run.junk_sent = sum(v[0] for v in sent.values())


def sc_hostile(run):
    """Junk that the plain junk scenario does not cover; each variant is a finding (see
    docs/reliability.md, "Bugs found"): `zstd`: one zstd-compressed record batch (what a Java
    producer with compression.type=zstd writes) in the hot lock's partition; `oldref`: on a
    topic older than the join window (70 s), renews forged by a stranger for offsets 0..4 (long
    released), with a fresh prev, while new processes join."""
    start_workers(run)
    p = run.p
    part = None
    if p["variant"] == "oldref":
        # Age the topic past the join window under normal load, then forge and bring joiners.
        while run.remaining() > p["attack_for"]:
            time.sleep(0.5)
        part = hot_partition(run)
        prod = kafkaproto.Producer(run.bootstrap, run.topic)
        t = mono()
        run.fault(kind="forged_old_renews", fault=True, lock="hot", t=t, recover="none")
        joiners = 0
        while run.remaining() > 2:
            now = int(time.time() * 1000)
            for ref in range(5):
                prod.send(part, [(b"hot", json.dumps({"v": 1, "op": "renew", "owner": "forger", "ref": ref,
                                                      "prev": now, "ttl": 60000}).encode())])
            if joiners < p.get("joiners", 2):
                run.spawn()
                joiners += 1
            time.sleep(5)
        prod.close()
        return
    time.sleep(p.get("warmup", 3.0))
    t = mono()
    cmd = ["java", "-cp", brokers.LIBS + "/*", "org.apache.kafka.tools.ConsoleProducer", "--bootstrap-server",
           run.bootstrap, "--topic", run.topic, "--compression-codec", "zstd", "--property", "parse.key=true",
           "--property", "key.separator=:"]
    out = subprocess.run(cmd, input=b'hot:{"v":1,"op":"tick"}\n', capture_output=True, timeout=120)
    # The batch is in the log once the console producer has exited (acks=all by default).
    run.fault(kind="zstd_batch", fault=True, lock="hot", t=mono(), t_started=t, recover="fresh", rc=out.returncode,
              stderr=out.stderr.decode(errors="replace")[-300:])
    while run.remaining() > 0.5:
        time.sleep(0.2)


def sc_cutoff(run, single, prox):
    """(a) a holder whose connection goes through a proxy that is then cut (the broker and the
    other clients carry on), (b) the broker itself paused with SIGSTOP past the lease. The
    victim holds the hot lock and polls isAcquired() until it turns false."""
    start_workers(run)
    p = run.p
    time.sleep(p.get("warmup", 1.0))
    modes = p.get("modes", ["cut", "broker_pause"])
    i = 0
    while run.remaining() > 4 * p["ttl"] + 3:
        mode = modes[i % len(modes)]
        i += 1
        via = single.proxied_bootstrap if mode == "cut" else None
        victim = run.spawn(**{"watch-max": 4 * p["ttl"] + 2, "iterations": 1, "via": via, "acq-timeout": 30})
        e = run.wait_inside(lambda e: e["pid"] == victim, timeout=20)
        if e is None:
            say("  victim %d never got the lock" % victim)
            continue
        t = mono()
        if mode == "cut":
            prox.cut.set()
            run.fault(kind="cut", fault=True, victim=victim, pid=victim, lock=e["lock"], token=e["token"], t=t)
        else:
            single.node.pause()
            run.fault(kind="broker_pause", fault=True, victim=victim, pid=victim, lock=e["lock"], token=e["token"], t=t)
        hold = p["cut_for"]
        time.sleep(hold)
        t_h = mono()
        if mode == "cut":
            prox.cut.clear()
        else:
            single.node.resume()
        run.fault(kind="heal", mode=mode, t=t_h)
        # Let the victim finish (its write is refused if the next holder touched the store).
        w = run.workers[victim][0]
        end = time.monotonic() + p["ttl"] * 4 + 15
        while w.poll() is None and time.monotonic() < end:
            time.sleep(0.05)
        time.sleep(p["every"])


def create_topic(run, configs):
    """Makes the run's topic before any worker starts (the workers then only check it), with
    `configs` on top of what the extension itself would set."""
    cfg = {"message.timestamp.type": "LogAppendTime", "cleanup.policy": "delete", "retention.ms": "604800000"}
    cfg.update(configs)
    kafkaproto.create_topic(run.bootstrap, run.topic, run.p.get("partitions", 3), cfg)
    run.extra_meta["topic_configs"] = cfg
    return cfg


def wait_workers_exit(run, timeout):
    end = time.monotonic() + timeout
    while run.alive_workers() and time.monotonic() < end:
        time.sleep(0.05)


def sc_forge(run):
    """A hostile writer (chaos/forger.py, its own process) reads the topic and keeps producing,
    for the live holders it sees, releases copying owner and ref (without a secret, and with
    one copied from another release), renews copying owner, ref and commit with ttl 1 and a prev
    in the future, byte-for-byte replays of earlier records, and acquires in a holder's name
    with its next seq (docs/protocol.md, "Owner proofs"). Nothing it writes may end or shorten
    a request, nor be taken by a process for its own."""
    start_workers(run)
    p = run.p
    # The forger targets live holders: start it once someone holds a lock.
    run.wait_inside(timeout=15)
    out = os.path.join(run.dir, "forged.jsonl")
    err = open(os.path.join(run.dir, "forger.stderr"), "wb")
    t = mono()
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "forger.py"), "--bootstrap", run.bootstrap,
                             "--topic", run.topic, "--out", out, "--rate", str(p["rate"]),
                             "--seed", str(p.get("seed", 11) * 100 + run.rep)],
                            stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL)
    err.close()
    proc.stdout.readline()  # "ready": it has the topic's metadata
    while run.remaining() > 1.0 and proc.poll() is None:
        time.sleep(0.1)
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = proc.wait()
    summary = {}
    try:
        summary = [json.loads(line) for line in open(out) if '"summary"' in line][-1]
    except (OSError, ValueError, IndexError):
        pass
    run.fault(kind="forge", fault=True, recover="none", t=t, count=sum(summary.get("sent", {}).values()),
              sent=summary.get("sent"), forger_rc=rc, rate=p["rate"])
    if rc != 0:
        say("  forger exited with %s (see %s/forger.stderr)" % (rc, run.dir))


def sc_truncate(run):
    """DeleteRecords up to the high watermark of every partition, at random moments while the
    hot lock is held, each followed at once by new worker processes (joiners). The runner's
    tailer keeps every record before it is deleted, so the checker still replays the whole
    log. A joiner cannot know its window is complete: it trusts no grant until a join window
    (70 s) of log time has passed since its join record, and whoever queues behind its
    request waits with it (docs/protocol.md, "History that was deleted")."""
    p = run.p
    create_topic(run, {})
    run.tailer = Tailer(run.bootstrap, run.topic)
    run.tailer.start()
    start_workers(run)
    rnd = random.Random(p.get("seed", 5) * 100 + run.rep)
    lo, hi = p["truncate_between"]
    moments, tries = [], 0
    while len(moments) < p["truncations"] and tries < 1000:  # random, at least min_spacing apart
        tries += 1
        x = rnd.uniform(lo, hi)
        if all(abs(x - m) >= p.get("min_spacing", 5) for m in moments):
            moments.append(x)
    hot = kafkaproto.partition_for("hot", len(run.tailer.parts))
    for at in sorted(moments):
        run.sleep_until(run.t_begin + int(at * 1e9))
        e = run.wait_inside(lambda e: e["lock"] == "hot", timeout=10)
        # The holder becomes a lagging consumer: stopped until the hot lock's partition has
        # records it has not read, which the deletion then removes. When it resumes, its position
        # lies below the log start (its session must reset the partition: requests lost).
        lagging = None
        if e is not None and p.get("lagging", True):
            lagging = e["pid"]
            t_stop = mono()
            os.kill(lagging, signal.SIGSTOP)
            hw0 = run.tailer.catch_up()[hot]
            end = time.monotonic() + 3
            while run.tailer.catch_up()[hot] <= hw0 and time.monotonic() < end:
                time.sleep(0.01)
        try:
            hws = run.tailer.catch_up()
            t, wall = mono(), time.time()
            low = kafkaproto.delete_records(run.bootstrap, run.topic, hws)
        finally:
            if lagging is not None:
                os.kill(lagging, signal.SIGCONT)
                stopped_s = round((mono() - t_stop) / 1e9, 3)
        joiners = [run.spawn() for _ in range(p.get("joiners", 1))]
        run.fault(kind="truncate", fault=True, recover="none", t=t, wall=wall, lock="hot", offsets=hws,
                  low_watermarks={str(k): v for k, v in low.items()}, holder=e, joiners=joiners,
                  lagging=lagging, lagging_stopped_s=stopped_s if lagging is not None else None,
                  excuse_waits_s=p["excuse_waits_s"])
        say("  deleted records up to %s (hot lock held by %s, stopped meanwhile), joiners %s"
            % (hws, e and e["pid"], joiners))
    while run.remaining() > 0.5:
        time.sleep(0.1)


def sc_refused(run):
    """A topic the lock must refuse (cleanup.policy with compact, retention.ms below the join
    window): every worker's constructor must throw DistributedLockTopicException naming the
    setting, and no worker may lock on it."""
    p = run.p
    cfg = create_topic(run, p["topic_configs"])
    t = mono()
    for _ in range(p["workers"]):
        run.spawn()
    run.fault(kind="refused_topic", fault=True, recover="none", t=t, configs=cfg, workers=p["workers"])
    wait_workers_exit(run, p["duration"])


def sc_retention(run):
    """retention.ms below the join window: refused (sc_refused). retention.bytes: a short one is
    accepted, and the broker deletes records by size (segments rolled every segment.ms) while
    locks are held; the tailer keeps every record for the checker and notes each deletion."""
    p = run.p
    if p["variant"] == "ms":
        return sc_refused(run)
    # The workers must join before deletion begins (a process that joins after it waits a join
    # window, as in `truncate`), and deletion must begin while they work: the broker's retention
    # task starts 30 s after the broker; a probe topic with the same settings shows it runs.
    cfg = dict(p["topic_configs"])
    probe = run.topic + "-probe"
    kafkaproto.create_topic(run.bootstrap, probe, 1, {"segment.ms": "100", "retention.bytes": "1000"})
    prod = kafkaproto.Producer(run.bootstrap, probe)
    t_probe = time.monotonic()
    with kafkaproto.Connection(*kafkaproto.split(run.bootstrap)) as c:
        while c.log_start(probe, 0) == 0 and time.monotonic() - t_probe < 60:
            prod.send(0, [(b"probe", b'{"v":1,"op":"tick"}')])
            time.sleep(0.01)
        active = c.log_start(probe, 0) > 0
    prod.close()
    run.extra_meta["retention_active_after_s"] = round(time.monotonic() - t_probe, 2) if active else None
    create_topic(run, cfg)
    run.tailer = Tailer(run.bootstrap, run.topic)
    run.tailer.start()
    run.t_begin = mono()  # the probe's time is not the run's
    run.deadline = run.t_begin + int(p["duration"] * 1e9)
    start_workers(run)
    # Long holders, each on its own lock in the hot lock's partition (the busiest, so the one
    # whose records retention deletes first).
    parts = p.get("partitions", 3)
    names = [n for n in ("long-%d" % i for i in range(100))
             if kafkaproto.partition_for(n, parts) == kafkaproto.partition_for("hot", parts)]
    for name in names[:p.get("long_holders", 0)]:
        run.spawn(**{"lock": name, "hold-ms": p["long_hold"]})
    while run.remaining() > 0.5:
        time.sleep(0.1)
    for m in list(run.tailer.moves):
        run.fault(kind="retention_delete", fault=True, recover="none", **m)


# ---------------------------------------------------------------------------------------------
def plans(mode):
    """Scenario parameters. quick: about two minutes in all (make test); full: the doc's run.

    min_acq / min_faults: the fewest acquisitions and landed faults (a kill or pause that hit a
    critical section, a watched cut-off, a restart, a node kill, a junk record) a run must have,
    or it fails as having checked too little: acquisitions about a fifth of what one run did on
    this 2-core machine, faults what even a slow run lands (docs/reliability.md, "Scenarios").
    Scaled with the duration when --duration or --set duration= changes it.
    allowed_exceptions: the exception classes a worker may see (only scenarios that take the
    broker away allow any); any other fails the run. known_liveness_bug: the scenario shows an
    open bug; its liveness failures are reported apart and do not fail the run."""
    q = mode == "quick"
    w = lambda hold, timeout=20: {"hold-ms": hold, "acq-timeout": timeout}  # noqa: E731
    conn = ["DistributedLockConnectionException"]
    P = {}
    P["kill"] = [dict(ttl=1.0, duration=10 if q else 100, every=1.3, hot=4, mixed_workers=2, mixed_locks=6,
                      worker=w("20-80"), reps=1 if q else 3, min_acq=80 if q else 750, min_faults=2 if q else 20)]
    P["pause"] = [dict(ttl=1.0, duration=11 if q else 45, pause=2.5, every=1.0, hot=3,
                       worker=w("150-250"), reps=1 if q else 3, min_acq=10 if q else 35, min_faults=1 if q else 3)]
    # Shared locks and semaphores (docs/reliability.md, "Shared locks and semaphores"): 2 writers
    # and 3 readers of "rw", 4 shares of "sem" (limit 3, weights 1, 1, 2, 2: two weight-2 shares
    # must never hold together, a weight-1 and a weight-2 one may). min_together: overlapping
    # holds that may hold together (readers, shares), or the run tested nothing shared.
    mixed = dict(ttl=1.0, pause=2.5, every=1.0, rw_writers=2, rw_readers=3, sem_limit=3, sem_weights=[1, 1, 2, 2],
                 worker=w("20-60"), allowed_exceptions=[])
    P["mixed"] = [dict(mixed, duration=12 if q else 60, reps=1 if q else 2, min_acq=MIN_ACQ["mixed"][mode],
                       min_faults=2 if q else 12, min_together=50 if q else 300)]
    if not q:
        # Controls (violations expected; the suite fails if one shows none): a writer that
        # takes its holds with acquireReadLock() (it overlaps readers while they trust their
        # holds), and pauses of shares past their lease (no token fences a share: the limit is
        # broken by the store's view while the paused share is stale).
        P["mixed"].append(dict(mixed, variant="liar", control=True, duration=20, reps=1, min_acq=150, min_faults=3,
                               min_together=120))
        P["mixed"].append(dict(mixed, variant="sharepause", control=True, duration=20, reps=1, min_acq=150,
                               min_faults=3, min_together=120))
    P["junk"] = [dict(ttl=1.0, duration=6 if q else 40, rate=100 if q else 150, hot=4, mixed_workers=2, mixed_locks=6,
                      worker=w("10-40"), reps=1 if q else 3, min_acq=100 if q else 750, min_faults=100 if q else 1000)]
    P["cutoff"] = [dict(ttl=1.0, duration=13 if q else 50, cut_for=2.5, every=0.5, hot=3,
                        modes=["cut", "broker_pause"], worker=w("10-40"), reps=1 if q else 3,
                        min_acq=60 if q else 200, min_faults=1 if q else 4)]
    # Restarts: "long" is longer than the lease (2 s lease, SIGTERM, 3 s down, then the
    # broker's own start-up); "short" is shorter (30 s lease: a SIGTERM restart takes 5-15 s
    # here); "kill9" is an unclean restart (SIGKILL, log recovery on start; about 20 s here).
    P["restart"] = [dict(variant="long", ttl=2.0, duration=14 if q else 60, kill=False, down=3.0, every=6.0, min_left=8,
                         hot=4, mixed_workers=2, mixed_locks=6, worker=w("20-60", 45), reps=1 if q else 2,
                         min_acq=60 if q else 200, min_faults=1 if q else 2, allowed_exceptions=conn)]
    if not q:
        P["restart"].append(dict(variant="short", ttl=30.0, duration=70, kill=False, down=0.0, every=8.0, min_left=15,
                                 hot=4, mixed_workers=2, mixed_locks=6, worker=w("20-60", 90), reps=2,
                                 min_acq=300, min_faults=2, allowed_exceptions=conn))
        P["restart"].append(dict(variant="kill9", ttl=10.0, duration=70, kill=True, down=0.0, every=8.0, min_left=25,
                                 hot=4, mixed_workers=2, mixed_locks=6, worker=w("20-60", 90), reps=1,
                                 min_acq=300, min_faults=1, allowed_exceptions=conn))
        P["cluster"] = [dict(variant="ttl5", ttl=5.0, duration=90, down=8.0, every=5.0, min_left=25, hot=4, mixed_workers=2,
                             mixed_locks=6, worker=w("20-60", 60), reps=2, min_acq=700, min_faults=2, allowed_exceptions=conn),
                        dict(variant="ttl2", ttl=2.0, duration=70, down=8.0, every=5.0, min_left=25, hot=4, mixed_workers=2,
                             mixed_locks=6, worker=w("20-60", 60), reps=1, min_acq=500, min_faults=1, allowed_exceptions=conn)]
        # Findings (docs/reliability.md, "Bugs found"): zstd is bug 3 (fixed, so it must pass
        # like any scenario); oldref is bug 4 (open: its liveness failures are reported as known).
        P["hostile"] = [dict(variant="zstd", ttl=1.0, duration=25, hot=3, mixed_workers=1, mixed_locks=4,
                             worker=w("10-40", 20), reps=1, min_acq=150, min_faults=1),
                        dict(variant="oldref", ttl=1.0, duration=110, attack_for=30, joiners=2, hot=3,
                             worker=w("10-40", 20), reps=1, min_acq=500, min_faults=1, allowed_exceptions=conn,
                             known_liveness_bug="bug 4: a renew forged for a long-released offset blocks the lock")]
    # Issue 10: writers that lie, and history that is cut short (docs/reliability.md).
    topic_exc = ["DistributedLockTopicException"]
    P["forge"] = [dict(ttl=1.0, duration=12 if q else 60, rate=60 if q else 100, hot=4, mixed_workers=2, mixed_locks=6,
                       worker=w("10-40"), reps=1 if q else 2, min_acq=MIN_ACQ["forge"][mode],
                       min_faults=150 if q else 1500)]
    # Joiners after a truncation wait a join window (70 s of log time), and so does whoever
    # queues behind them: acquires that begin within excuse_waits_s after a truncation may time
    # out (expected waits); later ones must not. The quick run ends inside that window.
    P["truncate"] = [dict(ttl=3.0, duration=13 if q else 175, truncations=1 if q else 3,
                          truncate_between=[3, 5] if q else [5, 60], min_spacing=10, joiners=2,
                          excuse_waits_s=80, hot=3, mixed_workers=1, mixed_locks=4,
                          worker=w("100-400", 4 if q else 10), reps=1, min_acq=MIN_ACQ["truncate"][mode],
                          min_faults=1 if q else 3)]
    if not q:
        # One cluster node's wall clock 1.5 s ahead (faketime); every partition's leadership moves
        # to it while a victim holding the hot lock is cut off, and back (chaos/skew.py). The two
        # variants differ only in lock.max_clock_step: 1.5 s (the step is inside the budget: no
        # violation allowed) and 0 (the control: the victims trust their leases after the next
        # grant; violations are expected, and the suite fails if it shows none).
        skewed = dict(ttl=5.0, skew=1.5, duration=80, every=2.0, hot=3, mixed_workers=2, mixed_locks=4, reps=1,
                      min_acq=400, min_faults=9, allowed_exceptions=[])
        P["skew"] = [dict(skewed, variant="within", worker=dict(w("20-60", 30), **{"clock-step": 1.5})),
                     dict(skewed, variant="beyond", control=True, worker=dict(w("20-60", 30), **{"clock-step": 0}))]
    refusal = dict(ttl=1.0, duration=20, workers=3, worker=w("10-40"), reps=1, min_acq=0, min_faults=3,
                   allowed_exceptions=topic_exc)
    P["compacted"] = [dict(refusal, variant="compact", topic_configs={"cleanup.policy": "compact"},
                           expect_refusal={"class": "DistributedLockTopicException", "names": "cleanup.policy"})]
    if not q:
        P["compacted"].append(dict(refusal, variant="compact-delete", topic_configs={"cleanup.policy": "compact,delete"},
                                   expect_refusal={"class": "DistributedLockTopicException",
                                                   "names": "cleanup.policy"}))
    P["retention"] = [dict(refusal, variant="ms", topic_configs={"retention.ms": "69999"},
                           expect_refusal={"class": "DistributedLockTopicException", "names": "retention.ms"}),
                      # Long holders hold locks of the hot lock's partition for 3-5 s: their
                      # acquires are deleted while they hold.
                      dict(variant="bytes", ttl=1.0, duration=12 if q else 60, hot=4, mixed_workers=2, mixed_locks=6,
                           long_holders=3, long_hold="3000-5000",
                           topic_configs={"retention.bytes": str(RETENTION_BYTES), "segment.ms": "500"},
                           worker=w("10-40"), reps=1, min_acq=MIN_ACQ["retention"][mode],
                           min_faults=3 if q else 20)]
    return P


# Minimum acquisitions of the new scenarios, per mode (about a fifth of what one run did here;
# docs/reliability.md, "Scenarios").
MIN_ACQ = {"mixed": {"quick": 70, "full": 400}, "forge": {"quick": 75, "full": 450}, "truncate": {"quick": 15, "full": 150},
           "retention": {"quick": 200, "full": 1000}}
RETENTION_BYTES = 30000


ORDER = ["kill", "pause", "mixed", "junk", "cutoff", "forge", "truncate", "compacted", "retention", "restart", "cluster",
         "skew", "hostile"]


class Suite:
    def __init__(self, args):
        self.args = args
        self.stamp = time.strftime("%Y%m%d-%H%M%S")
        self.out = args.out or os.path.join(brokers.RUN, "results", self.stamp + "-" + args.mode)
        os.makedirs(self.out, exist_ok=True)
        self.single = brokers.Single(args.port_base)
        self.cluster = brokers.Cluster(args.port_base)
        self.proxy = None
        self.cluster_proxies = []
        self.results = {}

    def runs(self):
        """-> [(scenario, rep, params)]: the runs of the plan, after --duration, --set, --reps."""
        plan = plans(self.args.mode)
        unknown = set(self.args.scenarios or []) - set(ORDER)
        if unknown:
            raise SystemExit("chaos: unknown scenario(s): %s (known: %s)" % (",".join(sorted(unknown)), ",".join(ORDER)))
        out = []
        for s in [s for s in ORDER if s in plan and (not self.args.scenarios or s in self.args.scenarios)]:
            for params in plan[s]:
                planned = params["duration"]
                if self.args.duration:
                    params["duration"] = self.args.duration
                for kv in self.args.set or []:
                    k, _, v = kv.partition("=")
                    try:
                        params[k] = json.loads(v)
                    except ValueError:
                        params[k] = v
                # The minimums are for the planned duration: a shorter run needs fewer (and
                # still at least one acquisition), a longer one more.
                if params["duration"] != planned:
                    scale = params["duration"] / planned
                    for k in ("min_acq", "min_faults"):
                        if k in params and not any(kv.startswith(k + "=") for kv in self.args.set or []):
                            params[k] = max(1 if k == "min_acq" else 0, int(params[k] * scale))
                out += [(s, rep, params) for rep in range(1, (self.args.reps or params["reps"]) + 1)]
        return out

    def run(self, runs):
        for s, rep, params in runs:
            self.one(s, rep, params)

    def one(self, s, rep, params):
        if s in ("cluster", "skew"):
            if self.single.node.running() and not self.args.keep_brokers:
                self.single.stop()
            t = time.monotonic()
            skew = {skew_mod.SKEWED_NODE: params["skew"]} if s == "skew" else None
            if self.cluster.start(skew=skew):
                say("cluster started in %.1f s%s" % (time.monotonic() - t,
                                                     " (node %d's clock %+g s)" % (skew_mod.SKEWED_NODE, params["skew"])
                                                     if skew else ""))
            bootstrap = self.cluster.bootstrap
        else:
            t = time.monotonic()
            if self.single.start():
                say("single broker started in %.1f s" % (time.monotonic() - t))
            bootstrap = self.single.bootstrap
        if s == "cutoff" and self.proxy is None:
            self.proxy = proxy_mod.Proxy(self.single.proxy_port, self.single.cut_port)
        if s == "skew" and not self.cluster_proxies:
            self.cluster_proxies = [proxy_mod.Proxy(self.cluster.proxy_ports[n], self.cluster.cut_ports[n])
                                    for n in sorted(self.cluster.nodes)]
        t_run = time.monotonic()
        run = Run(self, s, rep, dict(params), bootstrap)
        say("%s: %s (topic %s, lease %.1f s, %.0f s, load %s)" % (s, run.name, run.topic, params["ttl"], params["duration"],
                                                                   " ".join(loadavg() or [])))
        try:
            if s == "kill":
                sc_kill(run)
            elif s == "pause":
                sc_pause(run)
            elif s == "mixed":
                sc_mixed(run)
            elif s == "restart":
                sc_restart(run, self.single)
            elif s == "cluster":
                sc_cluster(run, self.cluster)
            elif s == "junk":
                sc_junk(run)
            elif s == "cutoff":
                sc_cutoff(run, self.single, self.proxy)
            elif s == "hostile":
                sc_hostile(run)
            elif s == "forge":
                sc_forge(run)
            elif s == "truncate":
                sc_truncate(run)
            elif s == "compacted":
                sc_refused(run)
            elif s == "retention":
                sc_retention(run)
            elif s == "skew":
                skew_mod.sc_skew(run, self.cluster, self.cluster_proxies, start_workers)
        finally:
            if self.single.node.paused:
                self.single.node.resume()
            for px in ([self.proxy] if self.proxy else []) + self.cluster_proxies:
                px.cut.clear()
            res = run.finish()
        label = s + ("/" + params["variant"] if params.get("variant") else "") + (" (control)" if params.get("control") else "")
        self.results.setdefault(label, []).append(res)
        with open(os.path.join(self.out, "results.jsonl"), "a") as f:
            f.write(json.dumps(res, default=str) + "\n")
        v = res["safety_violations"]
        say("  %s (%.0f s): %d acquisitions (min %d), %d faults (%d landed, min %d), %d overlaps (%d excused), "
            "%d fenced writes, %d safety violations, %d failed checks"
            % (run.name, time.monotonic() - t_run, res["acquisitions"], params.get("min_acq", 1), res["faults"],
               res["faults_landed"], params.get("min_faults", 0), res["overlaps"], res["overlaps_excused"],
               res["fenced_writes"], v, len(res["failures"])))
        if params.get("control"):
            say("  control: %d safety violations seen (expected: the same fault beyond the lock's budget)" % v)
        for x in res["violations"][:5]:
            say("  %s:" % ("expected violation (control)" if params.get("control") else "VIOLATION"),
                json.dumps(x, default=str))
        for x in res["failures"][:5]:
            say("  FAILED CHECK:", json.dumps(x, default=str))

    def cleanup(self):
        if self.proxy:
            self.proxy.close()
        for px in self.cluster_proxies:
            px.close()
        if not self.args.keep_brokers:
            self.single.stop()
            self.cluster.stop()


def snapshot(folder, when):
    """What else loads the machine: load average and the busiest processes (docs/reliability.md)."""
    try:
        ps = subprocess.run(["top", "-b", "-n", "1", "-o", "%CPU", "-w", "200"], capture_output=True, text=True).stdout
    except OSError:
        ps = ""
    with open(os.path.join(folder, "load.txt"), "a") as f:
        f.write("== %s %s load average %s\n" % (when, time.strftime("%Y-%m-%d %H:%M:%S"), " ".join(loadavg() or [])))
        f.write("\n".join(line[:200] for line in ps.splitlines()[:20]) + "\n")


class LoadSampler(threading.Thread):
    """Samples the 1-minute load average and the machine's CPU use (/proc/stat, all processes,
    the suite's own included) every 5 s, for the report."""

    def __init__(self):
        super().__init__(daemon=True)
        self.loads, self.busy = [], []
        self.stop = threading.Event()

    @staticmethod
    def cpu():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        idle = v[3] + (v[4] if len(v) > 4 else 0)
        return sum(v), idle

    def run(self):
        prev = self.cpu()
        while not self.stop.wait(5.0):
            cur = self.cpu()
            dt, di = cur[0] - prev[0], cur[1] - prev[1]
            if dt > 0:
                self.busy.append(100.0 * (dt - di) / dt)
            prev = cur
            la = loadavg()
            if la:
                self.loads.append(float(la[0]))

    def summary(self):
        if not self.loads:
            return "no samples"
        return ("load average (1 min) min %.1f / mean %.1f / max %.1f; CPU busy %.0f%% on average (max %.0f%%) "
                "over %d samples" % (min(self.loads), sum(self.loads) / len(self.loads), max(self.loads),
                                    sum(self.busy) / max(1, len(self.busy)), max(self.busy or [0]), len(self.loads)))


def fmt(v, f="%.0f"):
    return "-" if v is None else f % v


def table(results):
    cols = ["scenario", "runs", "acquisitions", "faults", "overlaps (excused)", "fenced writes", "token viol.",
            "FIFO overtakes", "view viol.", "lost updates", "stuck", "acquire errors", "leases lost", "hand-off p50/p99 ms", "recovery p50/max s", "longest gap s",
            "safety viol.", "failed checks"]
    rows = []
    for label, rs in results.items():
        hand = []
        rec = []
        never = 0
        for r in rs:
            hand += r.get("_handoffs", [])
            rec += r.get("recovery_s", [])
            never += sum(1 for n in r.get("notes", []) if n.get("kind") == "no critical section after a fault")
        rows.append([
            label, str(len(rs)), str(sum(r["acquisitions"] for r in rs)), str(sum(r["faults"] for r in rs)),
            "%d (%d)" % (sum(r["overlaps"] for r in rs), sum(r["overlaps_excused"] for r in rs)),
            str(sum(r["fenced_writes"] for r in rs)), str(sum(r["token_violations"] for r in rs)),
            str(sum(r["fifo_overtakes"] for r in rs)), str(sum(r["view_violations"] for r in rs)),
            str(sum(r["lost_updates"] for r in rs)), str(sum(r["stuck"] for r in rs)),
            str(sum(r.get("acquire_errors", 0) for r in rs)), str(sum(r.get("leases_lost", 0) for r in rs)),
            "%s / %s" % (fmt(checker.pct(hand, 50), "%.1f"), fmt(checker.pct(hand, 99), "%.1f")),
            "%s / %s" % (fmt(checker.pct(rec, 50), "%.2f"), fmt(max(rec) if rec else None, "%.2f"))
            + (" (%d never)" % never if never else ""),
            fmt(max([r["longest_gap_s"] for r in rs if r.get("longest_gap_s") is not None] or [None]), "%.1f"),
            str(sum(r["safety_violations"] for r in rs)),
            str(sum(len(r.get("failures", [])) for r in rs)),
        ])
    w = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(cols)]
    lines = ["| " + " | ".join(c.ljust(w[i]) for i, c in enumerate(cols)) + " |",
             "|" + "|".join("-" * (x + 2) for x in w) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(v.ljust(w[i]) for i, v in enumerate(r)) + " |")
    return "\n".join(lines)


def recheck(folder, lenient_liveness=False):
    results = {}
    order = []
    if os.path.exists(os.path.join(folder, "results.jsonl")):
        order = [json.loads(line)["run"] for line in open(os.path.join(folder, "results.jsonl"))]
    runs = order or sorted(d for d in os.listdir(folder) if os.path.exists(os.path.join(folder, d, "meta.json")))
    with open(os.path.join(folder, "results.jsonl"), "w") as out:
        for d in runs:
            res = checker.check_run(os.path.join(folder, d))
            try:
                with open(os.path.join(folder, d, "meta.json")) as f:
                    variant = json.load(f)["params"].get("variant")
            except (OSError, ValueError, KeyError):
                variant = None  # the checker reports the missing meta.json
            label = res["scenario"] + ("/" + variant if variant else "") + (" (control)" if res.get("control") else "")
            results.setdefault(label, []).append(res)
            out.write(json.dumps(res, default=str) + "\n")
    print(table(results))
    return report([r for rs in results.values() for r in rs], len(runs), None, lenient_liveness, folder)


def report(results, planned, interrupted, lenient_liveness, out):
    """Prints the verdict (checker.suite_verdict) -> exit status."""
    reasons, warnings = checker.suite_verdict(results, planned, interrupted, lenient_liveness)
    for w in warnings[:20]:
        say("warning:", w)
    for r in results:
        if r.get("control"):
            say("control: %s: %d violations seen%s" % (r["run"], r["safety_violations"],
                                                        "" if r["safety_violations"] else " (FAILS: it must show some)"))
    if reasons:
        for r in reasons[:20]:
            say("FAILED:", r)
        if len(reasons) > 20:
            say("FAILED: ... %d more" % (len(reasons) - 20))
        say("FAILED: %d reason(s); details in %s/results.jsonl" % (len(reasons), out))
        return 1
    controls = [r for r in results if r.get("control")]
    say("passed: %d runs, 0 safety violations%s, every check ran and passed"
        % (len(results), " outside %d control run(s), which showed theirs" % len(controls) if controls else ""))
    return 0


def main():
    ap = argparse.ArgumentParser(description="kafka_lock fault-injection suite")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--quick", dest="mode", action="store_const", const="quick")
    g.add_argument("--full", dest="mode", action="store_const", const="full")
    ap.add_argument("--scenarios", type=lambda s: s.split(","), help="comma list of: " + ",".join(ORDER))
    ap.add_argument("--reps", type=int, help="repetitions per scenario (overrides the plan)")
    ap.add_argument("--duration", type=float, help="seconds per run (overrides the plan)")
    ap.add_argument("--set", action="append", help="override a plan parameter, e.g. --set ttl=0.5 --set hot=8")
    ap.add_argument("--out", help="results folder (default .run/chaos/results/STAMP-MODE)")
    ap.add_argument("--port-base", type=int, default=9192, help="first port of the private brokers (default 9192)")
    ap.add_argument("--keep-brokers", action="store_true", help="leave the private brokers running afterwards")
    ap.add_argument("--lenient-liveness", action="store_true",
                    help="only report stuck waiters and missed liveness expectations (by default they fail the run)")
    ap.add_argument("--recheck", metavar="RESULTS_DIR", help="check the runs of an earlier results folder again and print its table")
    ap.set_defaults(mode="quick")
    args = ap.parse_args()
    if args.recheck:
        return recheck(args.recheck, args.lenient_liveness)
    if not os.path.exists(EXT):
        say("no extension at %s (make build)" % EXT)
        return 2
    import selftest
    if selftest.main() != 0:
        say("FAILED: the checker's self-test failed")
        return 1
    skew_bad = skew_mod.selftest()  # the clock conversion of the skew scenario (a few ms)
    if skew_bad:
        for x in skew_bad:
            say("FAILED: skew self-test:", x)
        return 1
    suite = Suite(args)
    runs = suite.runs()
    t0 = time.monotonic()
    load0 = loadavg()
    snapshot(suite.out, "start")
    sampler = LoadSampler()
    sampler.start()
    say("%s run, results in %s, load average %s, %d cores" % (args.mode, suite.out, " ".join(load0 or []), os.cpu_count()))

    interrupted = []

    def on_signal(signum, frame):
        interrupted.append(signal.Signals(signum).name)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        suite.run(runs)
    except KeyboardInterrupt:
        say("interrupted (%s)" % ",".join(interrupted or ["KeyboardInterrupt"]))
        interrupted = interrupted or ["KeyboardInterrupt"]
    finally:
        suite.cleanup()
    snapshot(suite.out, "end")
    sampler.stop.set()
    with open(os.path.join(suite.out, "load.txt"), "a") as f:
        f.write("== during the run: %s\n" % sampler.summary())
    print()
    print(table(suite.results))
    print()
    say("%.0f s; during the run: %s; results in %s" % (time.monotonic() - t0, sampler.summary(), suite.out))
    return report([r for rs in suite.results.values() for r in rs], len(runs), ",".join(interrupted),
                  args.lenient_liveness, suite.out)


if __name__ == "__main__":
    sys.exit(main())
