#!/usr/bin/python3
"""kafka_lock benchmark suite (issue 6): this extension against symfony/lock 5.4 (Redis,
PostgreSQL advisory locks, flock) and against Kafka's own floor, side by side in one run;
shared (read) locks against symfony/lock's shared locks (scenario 6) and DistributedSemaphore
against symfony/semaphore 5.4 on Redis (scenario 7).

    /usr/bin/python3 bench/run.py            full run (make bench), 7-15 minutes (scenario 5 runs
                                             100,000 cycles and at least 150 s)
    /usr/bin/python3 bench/run.py --quick    smoke run (make bench-quick), under a minute

Prints one table per scenario, writes the raw numbers (JSON, CSV), the tables (summary.md)
and PNG plots into bench/results/<stamp>-<mode>/ (bench/results/latest points at the last).
Exits non-zero on errors (a process failing, a broken mutual exclusion), never on figures:
a missed target is printed as MISSED.

Needs: bench/setup.sh (Redis, PostgreSQL, symfony/lock and symfony/semaphore), the extension
built at target/release/libkafka_lock.so, bench/kafka-floor built (scenarios 1, 3 and 4b, and
the deletion of the run's topics), a broker (make kafka-start).
Standard library only, plus matplotlib (Debian python3-matplotlib) for the plots.
"""

import argparse
import bisect
import csv
import datetime
import json
import os
import platform
import random
import re
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
PHP_DIR = os.path.join(BENCH, "php")
EXT = os.path.join(ROOT, "target", "release", "libkafka_lock.so")
# Built into the extension's target/ (Makefile: bench-build), sharing the librdkafka build.
FLOOR_BIN = os.path.join(ROOT, "target", "release", "kafka-floor")
SYMFONY_AUTOLOAD = "/usr/share/php/Symfony/Component/Lock/autoload.php"
SEMAPHORE_AUTOLOAD = "/usr/share/php/Symfony/Component/Semaphore/autoload.php"

CONTENDERS = ["kafka_lock", "redis", "pgsql", "flock"]
LABEL = {
    "floor": "Kafka floor (Rust, produce+consume)",
    "scale_floor": "Kafka scale floor (Rust)",
    "handoff_floor": "Kafka hand-off floor (Rust)",
    "floor_pair": "Kafka floor + release ack",
    "kafka_lock": "kafka_lock",
    "redis": "symfony RedisStore",
    "pgsql": "symfony PostgreSqlStore",
    "flock": "symfony FlockStore",
    "php": "bare php -n (no lock)",
    "php+ext": "php -n + extension loaded, unused",
    "startup_floor": "Kafka floor: new clients to 1st record read (Rust)",
}
# Scenario 7 compares semaphores: kafka_lock's DistributedSemaphore, symfony/semaphore on Redis.
SEM_CONTENDERS = ["kafka_lock", "redis"]
SEM_LABEL = {"kafka_lock": "kafka_lock DistributedSemaphore", "redis": "symfony/semaphore RedisStore"}
COLOR = {"floor": "#777777", "floor_pair": "#bbbbbb", "kafka_lock": "#d62728", "redis": "#1f77b4", "pgsql": "#2ca02c", "flock": "#ff7f0e"}

# Sizes of each scenario per mode. The quick mode is a smoke run: tiny but every code path.
MODES = {
    "full": {
        "s1_n": 10000, "s1_warmup": 500, "s1_rounds": 3,
        "s2_procs": [2, 8, 32], "s2_duration": 5.0, "s2_hold_us": 1000,
        "s3_runs": 30,
        "s4_procs": 16, "s4_keys": [1, 100, 10000], "s4_partitions": [1, 8, 32], "s4_duration": 3.0,
        "s4_join_old": [10000, 100000], "s4_join_recent": [10000, 100000], "s4_join_runs": 5,
        "s5_cycles": 100000, "s5_redis_cycles": 100000, "s5_min_seconds": 150,
        "s6_procs": 8, "s6_duration": 5.0, "s6_hold_us": 1000, "s6_read_pct": 90,
        "s7_procs": 8, "s7_limit": 3, "s7_weight": 1, "s7_duration": 5.0, "s7_hold_us": 1000, "s7_retry_us": 1000,
        "s8_procs": 20, "s8_window": 20.0,
        "s9_workers": 16, "s9_concurrency": 32, "s9_duration": 10, "s9_hold_us": 1000,
    },
    "quick": {
        "s1_n": 300, "s1_warmup": 50, "s1_rounds": 1,
        "s2_procs": [2, 8], "s2_duration": 1.0, "s2_hold_us": 1000,
        "s3_runs": 5,
        "s4_procs": 4, "s4_keys": [100], "s4_partitions": [8], "s4_duration": 1.0,
        "s4_join_old": [], "s4_join_recent": [10000], "s4_join_runs": 2,
        "s5_cycles": 2000, "s5_redis_cycles": 0, "s5_min_seconds": 0,
        "s6_procs": 8, "s6_duration": 0.4, "s6_hold_us": 1000, "s6_read_pct": 90,
        "s7_procs": 8, "s7_limit": 3, "s7_weight": 1, "s7_duration": 0.4, "s7_hold_us": 1000, "s7_retry_us": 1000,
        "s8_procs": 4, "s8_window": 2.0,
        "s9_workers": 8, "s9_concurrency": 16, "s9_duration": 2, "s9_hold_us": 1000,
    },
}
JOIN_WINDOW_S = 70  # MAX_TTL_MS + JOIN_MARGIN_MS of src/protocol/mod.rs

# Targets of issue 6.
TARGET_S1_RATIO = 1.5
TARGET_JAIN = 0.99
TARGET_HANDOFF_P50_MS = 3.0
TARGET_COLD_P50_MS = 50.0
# Issue 15, scenario 4: at least this share of the Kafka scale floor's ops/s at every partition
# count, and of RedisStore's at the best partition count.
TARGET_SCALE_X_FLOOR = 0.8
TARGET_SCALE_X_REDIS = 0.5
# Issue 15, scenario 2: hand-off p50 with the most processes within this factor of the middle count's.
TARGET_HANDOFF_GROWTH = 1.5


class BenchError(Exception):
    """A failure of the benchmark itself (not a missed target)."""


# ---------------------------------------------------------------- statistics

def pct(values, p):
    """Nearest-rank percentile of a list of numbers (p in 0..100)."""
    if not values:
        return float("nan")
    s = sorted(values)
    rank = max(1, min(len(s), int(-(-p * len(s) // 100))))
    return s[rank - 1]


def jain(counts):
    """Jain's fairness index: 1 when every process got the same share, 1/n when one got all."""
    total = sum(counts)
    squares = sum(c * c for c in counts)
    return (total * total) / (len(counts) * squares) if squares else float("nan")


def pct_str(x):
    return "-" if x != x else f"{x * 100:.0f}%"


def ms(ns):
    return ns / 1e6


def fmt(x, digits=3):
    if x is None or (isinstance(x, float) and x != x):
        return "-"
    if isinstance(x, int):
        return f"{x:,}"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.{digits}f}"


# ---------------------------------------------------------------- machine and load

def cpu_times():
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields), idle


def busy_fraction(seconds):
    """Share of all cores busy (by anyone) over `seconds`."""
    t0, i0 = cpu_times()
    time.sleep(seconds)
    t1, i1 = cpu_times()
    return 1 - (i1 - i0) / max(1, t1 - t0)


class LoadMeter:
    """CPU busy share and load average over one scenario (others' test suites included)."""

    def __init__(self):
        self.t, self.i = cpu_times()
        self.load0 = os.getloadavg()[0]

    def done(self):
        t, i = cpu_times()
        return {"cpu_busy": round(1 - (i - self.i) / max(1, t - self.t), 3),
                "loadavg_start": round(self.load0, 2), "loadavg_end": round(os.getloadavg()[0], 2)}


def other_load():
    """What else runs here: processes using CPU that are not ours (a rough picture of the noise)."""
    try:
        out = subprocess.run(["ps", "-eo", "pcpu,comm", "--sort=-pcpu"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    top = []
    for line in out.splitlines()[1:9]:
        parts = line.split(None, 1)
        if len(parts) == 2 and float(parts[0]) >= 5.0:
            top.append(f"{parts[1].strip()} {parts[0]}%")
    return top


def machine_info():
    info = {"cores": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version()}
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"^model name\s*:\s*(.+)$", f.read(), re.M)
            info["cpu"] = m.group(1).strip() if m else "?"
        with open("/proc/meminfo") as f:
            m = re.search(r"^MemTotal:\s*(\d+)", f.read(), re.M)
            info["memory_gib"] = round(int(m.group(1)) / 1024 / 1024, 1)
    except OSError:
        pass

    def out(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=20).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return "?"

    info["php"] = out(["php", "-n", "-r", "echo PHP_VERSION;"])
    ri = out(["php", "-n", "-d", f"extension={EXT}", "--ri", "kafka_lock"])
    m = re.search(r"librdkafka[^=>\n]*=>\s*(\S+)", ri)
    info["librdkafka"] = m.group(1) if m else "?"
    m = re.search(r"[Vv]ersion\s*=>\s*(\S+)", ri)
    info["kafka_lock"] = m.group(1) if m else "?"
    jars = os.listdir(os.path.join(ROOT, ".cache", "kafka", "libs")) if os.path.isdir(os.path.join(ROOT, ".cache", "kafka", "libs")) else []
    kafka = [j for j in jars if re.match(r"kafka_2\.13-[\d.]+\.jar$", j)]
    info["kafka"] = kafka[0][len("kafka_2.13-"):-4] if kafka else "?"
    info["commit"] = out(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    info["dirty"] = bool(out(["git", "-C", ROOT, "status", "--porcelain", "--", "src", "Cargo.toml", "Cargo.lock"]))
    try:
        st = os.stat(EXT)
        info["ext"] = f"{EXT} (built {datetime.datetime.fromtimestamp(st.st_mtime):%Y-%m-%d %H:%M})"
    except OSError:
        info["ext"] = EXT
    info["redis"] = out(["redis-server", "--version"]).split(" v=")[-1].split(" ")[0]
    m = re.search(r"PostgreSQL\)?\s+([\d.]+)", out(["psql", "--version"])) if shutil.which("psql") else None
    info["postgresql"] = m.group(1) if m else "?"
    m = re.search(r"Version:\s*(\S+)", out(["dpkg-query", "-s", "php-symfony-lock"]))
    info["symfony_lock"] = m.group(1) if m else "?"
    m = re.search(r"Version:\s*(\S+)", out(["dpkg-query", "-s", "php-symfony-semaphore"]))
    info["symfony_semaphore"] = m.group(1) if m else "?"
    return info


# ---------------------------------------------------------------- processes

class Runner:
    def __init__(self, args, mode, outdir):
        self.args = args
        self.mode = mode
        self.cfg = MODES[mode]
        self.out = outdir
        self.raw = os.path.join(outdir, "raw")
        os.makedirs(self.raw, exist_ok=True)
        self.flock_dir = os.path.join(outdir, "flock")
        os.makedirs(self.flock_dir, exist_ok=True)
        self.stamp = datetime.datetime.now().strftime("%Y%m%d%H%M%S")
        self.prefix = f"kafka_lock_bench_{self.stamp}_"
        self.results = {}
        self.tables = []  # (title, header, rows, notes)
        self.errors = []
        self.seq = 0

    # -- commands

    def topic(self, name):
        return self.prefix + name

    def php(self, contender, script, **opts):
        cmd = ["php", "-n", "-d", "memory_limit=1G"]
        if contender == "kafka_lock":
            cmd += ["-d", f"extension={EXT}", "-d", f"kafka_lock.brokers={self.args.brokers}"]
        elif contender == "redis":
            cmd += ["-d", "extension=igbinary", "-d", "extension=redis"]
        elif contender == "pgsql":
            cmd += ["-d", "extension=pdo", "-d", "extension=pdo_pgsql"]
        cmd.append(os.path.join(PHP_DIR, script))
        opts.setdefault("contender", contender)
        opts.setdefault("flock_dir", self.flock_dir)
        cmd += [f"--{k}={v}" for k, v in opts.items()]
        return cmd

    def raw_path(self, name):
        self.seq += 1
        return os.path.join(self.raw, f"{self.seq:03d}-{name}.json")

    def run_json(self, cmd, name, timeout=900):
        path = self.raw_path(name)
        if "--out" not in " ".join(cmd):
            cmd = cmd + [f"--out={path}"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise BenchError(f"{name}: exit {proc.returncode}: {' '.join(cmd)}\n{proc.stderr[-2000:]}{proc.stdout[-1000:]}")
        if proc.stderr.strip():
            print(f"  [{name}] stderr: {proc.stderr.strip()[-500:]}")
        with open(path) as f:
            return json.load(f)

    def floor_tool(self, *args, timeout=300):
        cmd = [FLOOR_BIN, args[0], "--brokers", self.args.brokers] + list(args[1:])
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise BenchError(f"kafka-floor {' '.join(args)}: exit {proc.returncode}\n{proc.stderr}")
        return proc.stdout

    def workers(self, cmds, duration_s, name, ready_timeout=120):
        """Starts worker processes, waits until all are warmed up ("ready"), sends them one
        start/end pair of CLOCK_MONOTONIC instants, waits for them and returns their results."""
        paths = [self.raw_path(f"{name}-w{i}") for i in range(len(cmds))]
        procs = [subprocess.Popen(c + [f"--out={p}"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, bufsize=1) for c, p in zip(cmds, paths)]
        try:
            sel = selectors.DefaultSelector()
            for p in procs:
                sel.register(p.stdout, selectors.EVENT_READ, p)
            waiting = set(procs)
            deadline = time.monotonic() + ready_timeout
            while waiting:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise BenchError(f"{name}: {len(waiting)} worker(s) not ready within {ready_timeout} s")
                for key, _ in sel.select(timeout=left):
                    p = key.data
                    line = p.stdout.readline()
                    if line.strip() == "ready":
                        waiting.discard(p)
                        sel.unregister(p.stdout)
                    elif line == "":
                        p.wait()
                        raise BenchError(f"{name}: a worker exited before it was ready (exit {p.returncode}):\n"
                                         f"{p.stderr.read()[-2000:]}")
            start = time.monotonic_ns() + 300_000_000
            end = start + int(duration_s * 1e9)
            for p in procs:
                p.stdin.write(f"{start} {end}\n")
                p.stdin.flush()
            failed = []
            for p in procs:
                try:
                    p.wait(timeout=duration_s + 120)
                except subprocess.TimeoutExpired:
                    failed.append(f"worker {p.pid} did not stop")
                    continue
                if p.returncode != 0:
                    failed.append(f"worker {p.pid} exit {p.returncode}: {p.stderr.read()[-1500:]}")
            if failed:
                raise BenchError(f"{name}: " + "\n".join(failed))
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        results = []
        for path in paths:
            with open(path) as f:
                results.append(json.load(f))
        return results, start, end

    # -- output

    def table(self, title, header, rows, notes=()):
        self.tables.append((title, header, rows, list(notes)))
        widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(str(h)) for i, h in enumerate(header)]
        print(f"\n== {title}")
        print("  ".join(str(h).ljust(w) for h, w in zip(header, widths)))
        print("  ".join("-" * w for w in widths))
        for r in rows:
            print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
        for n in notes:
            print(f"   {n}")
        sys.stdout.flush()

    def csv(self, name, header, rows):
        with open(os.path.join(self.out, name), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(rows)

    def check(self, ok, what):
        """A target: printed, never fatal."""
        return f"{'met' if ok else 'MISSED'}: {what}"


# ---------------------------------------------------------------- scenario 1

def scenario1(r):
    cfg = r.cfg
    rounds = cfg["s1_rounds"]
    n = max(1, cfg["s1_n"] // rounds)
    samples = {c: {"total": [], "acquire": [], "release": []} for c in ["floor", "floor_pair"] + CONTENDERS}
    floor_ack = []
    topic_floor = r.topic("s1_floor")
    topic = r.topic("s1")
    # Rounds interleave the contenders, so a burst of load from elsewhere hits all of them.
    for rnd in range(rounds):
        path = r.raw_path(f"s1-floor-r{rnd}")
        r.floor_tool("floor", "--topic", topic_floor, "--n", str(n), "--warmup", str(cfg["s1_warmup"]), "--out", path)
        with open(path) as f:
            d = json.load(f)
        samples["floor"]["total"] += [us * 1000 for us in d["rtt_us"]]
        samples["floor_pair"]["total"] += [us * 1000 for us in d["pair_us"]]
        floor_ack += [us * 1000 for us in d["ack_us"]]
        for c in CONTENDERS:
            opts = {"n": n, "warmup": cfg["s1_warmup"], "run": f"{r.stamp}-{rnd}"}
            if c == "kafka_lock":
                opts["topic"] = topic
            d = r.run_json(r.php(c, "uncontended.php", **opts), f"s1-{c}-r{rnd}")
            samples[c]["total"] += d["total_ns"]
            samples[c]["acquire"] += d["acquire_ns"]
            samples[c]["release"] += d["release_ns"]
    floor_p50 = pct(samples["floor"]["total"], 50)
    redis_p50 = pct(samples["redis"]["total"], 50)
    rows, csv_rows, res = [], [], {}
    for c in ["floor", "floor_pair"] + CONTENDERS:
        t = samples[c]["total"]
        fig = {"n": len(t), "p50_ms": ms(pct(t, 50)), "p99_ms": ms(pct(t, 99)), "max_ms": ms(max(t)),
               "mean_ms": ms(statistics.fmean(t)),
               "acquire_p50_ms": ms(pct(samples[c]["acquire"], 50)) if samples[c]["acquire"] else None,
               "release_p50_ms": ms(pct(samples[c]["release"], 50)) if samples[c]["release"] else None,
               "x_floor": pct(t, 50) / floor_p50, "x_redis": pct(t, 50) / redis_p50}
        res[c] = fig
        rows.append([LABEL[c], fmt(fig["p50_ms"]), fmt(fig["p99_ms"]), fmt(fig["max_ms"]),
                     fmt(fig["acquire_p50_ms"]), fmt(fig["release_p50_ms"]),
                     f"{fig['x_floor']:.2f}", f"{fig['x_redis']:.2f}"])
        csv_rows.append([c, fig["n"], fig["p50_ms"], fig["p99_ms"], fig["max_ms"], fig["mean_ms"],
                         fig["acquire_p50_ms"], fig["release_p50_ms"], fig["x_floor"], fig["x_redis"]])
    res["floor_ack_p50_ms"] = ms(pct(floor_ack, 50))
    ratio = res["kafka_lock"]["x_floor"]
    pair_ratio = res["kafka_lock"]["p50_ms"] / res["floor_pair"]["p50_ms"]
    res["kafka_lock"]["x_floor_pair"] = pair_ratio
    notes = [
        f"{res['kafka_lock']['n']:,} acquire+release per contender (distinct locks, one process, after warm-up), "
        f"{rounds} interleaved round(s); floor: produce one record (acks=all) until consumed back; "
        f"floor + release ack: then produce a second record until acknowledged (releaseLock() waits for "
        f"that); a produce ack alone: p50 {fmt(res['floor_ack_p50_ms'])} ms",
        r.check(ratio <= TARGET_S1_RATIO, f"kafka_lock p50 <= {TARGET_S1_RATIO} x floor: {ratio:.2f} x "
                                          f"({pair_ratio:.2f} x the floor + release ack)"),
    ]
    r.table("Scenario 1: uncontended acquire+release, one long-lived process (ms)",
            ["contender", "p50", "p99", "max", "acq p50", "rel p50", "x floor", "x redis"], rows, notes)
    r.csv("s1_uncontended.csv", ["contender", "n", "p50_ms", "p99_ms", "max_ms", "mean_ms", "acquire_p50_ms",
                                 "release_p50_ms", "x_floor_p50", "x_redis_p50"], csv_rows)
    r.results["s1"] = res
    r.s1_samples = {c: samples[c]["total"] for c in samples}


# ---------------------------------------------------------------- scenario 2

def analyse_contention(results, start, end, hold_us):
    """Merges the workers' holds on one lock into hand-offs, waits and fairness.

    A release is a hand-off when another process was waiting for the lock as it began; its
    latency runs from the release's start to the next holder's acquire returning, whoever
    that is. When the releasing process itself is that next holder (it came back and won
    while others waited: barging), the hand-off counts as 'same'."""
    holds = []
    for w, res in enumerate(results):
        for t0, t1, t2, t3 in res["events"]:
            holds.append((t1, t2, t0, t3, w))
    holds.sort()
    # Per process, its requests in order: (requested, acquired), to ask "was w waiting at t?".
    requests = [sorted((e[0], e[1]) for e in res["events"]) for res in results]
    starts = [[q[0] for q in reqs] for reqs in requests]

    def waiting(w, t):
        i = bisect.bisect_right(starts[w], t) - 1
        return i >= 0 and requests[w][i][0] <= t < requests[w][i][1]

    in_window = [h for h in holds if start <= h[0] < end]
    counts = [sum(1 for h in in_window if h[4] == w) for w in range(len(results))]
    # next_other[i]: index of the first hold after i by another process.
    next_other = [len(holds)] * len(holds)
    for i in range(len(holds) - 2, -1, -1):
        next_other[i] = i + 1 if holds[i + 1][4] != holds[i][4] else next_other[i + 1]
    handoffs, to_waiter, overlaps, same = [], [], 0, 0
    for i, (prev, nxt) in enumerate(zip(holds, holds[1:])):
        if nxt[0] < prev[1]:
            overlaps += 1  # the next hold began before the previous one ended: exclusion broken
        if not (start <= prev[0] < end and nxt[0] < end):
            continue
        if any(waiting(w, prev[1]) for w in range(len(results)) if w != prev[4]):
            handoffs.append(nxt[0] - prev[1])
            if nxt[4] == prev[4]:
                same += 1
            if next_other[i] < len(holds):
                to_waiter.append(holds[next_other[i]][0] - prev[1])
    waits = [h[0] - h[2] for h in holds if h[2] < end]
    hold_ns = [h[1] - h[0] for h in in_window]
    duration = (end - start) / 1e9
    return {
        "holds": len(in_window), "per_s": len(in_window) / duration,
        "handoffs": len(handoffs),
        "handoff_p50_ms": ms(pct(handoffs, 50)) if handoffs else float("nan"),
        "handoff_p99_ms": ms(pct(handoffs, 99)) if handoffs else float("nan"),
        "waiter_p50_ms": ms(pct(to_waiter, 50)) if to_waiter else float("nan"),
        "waiter_p99_ms": ms(pct(to_waiter, 99)) if to_waiter else float("nan"),
        "hold_p50_ms": ms(pct(hold_ns, 50)) if hold_ns else float("nan"),
        "jain": jain(counts), "counts": counts,
        "longest_wait_ms": ms(max(waits)) if waits else float("nan"),
        "wait_p99_ms": ms(pct(waits, 99)) if waits else float("nan"),
        "same_holder_share": same / len(handoffs) if handoffs else float("nan"),
        "overlaps": overlaps,
        "rss_kib_max": max(x["rss_kib"] for x in results),
    }


def scenario2(r):
    cfg = r.cfg
    res, rows, csv_rows, per_proc = {}, [], [], []
    notes = []
    for procs in cfg["s2_procs"]:
        for c in CONTENDERS:
            opts = {"keys": 1, "hold_us": cfg["s2_hold_us"], "prefix": f"hot-{r.stamp}-{procs}"}
            if c == "kafka_lock":
                opts["topic"] = r.topic(f"s2_{procs}")
            cmds = [r.php(c, "contend.php", **opts) for _ in range(procs)]
            meter = LoadMeter()
            results, start, end = r.workers(cmds, cfg["s2_duration"], f"s2-{c}-{procs}")
            a = analyse_contention(results, start, end, cfg["s2_hold_us"])
            a["load"] = meter.done()
            res[f"{c}/{procs}"] = a
            if a["overlaps"]:
                r.errors.append(f"scenario 2 {c} x{procs}: {a['overlaps']} overlapping holds (mutual exclusion broken)")
            bound = procs * (cfg["s2_hold_us"] / 1000 + a["handoff_p99_ms"]) * 1.5
            a["wait_bound_ms"] = bound
            rows.append([LABEL[c], procs, fmt(a["per_s"]), fmt(a["handoff_p50_ms"]), fmt(a["handoff_p99_ms"]),
                         fmt(a["waiter_p50_ms"]), fmt(a["waiter_p99_ms"]), f"{a['jain']:.3f}", fmt(a["longest_wait_ms"]), fmt(bound),
                         pct_str(a["same_holder_share"]), a["overlaps"]])
            csv_rows.append([c, procs, a["holds"], a["per_s"], a["handoff_p50_ms"], a["handoff_p99_ms"],
                             a["waiter_p50_ms"], a["waiter_p99_ms"], a["jain"],
                             a["longest_wait_ms"], a["wait_p99_ms"], bound, a["same_holder_share"], a["overlaps"],
                             a["hold_p50_ms"], a["load"]["cpu_busy"], a["load"]["loadavg_start"]])
            for i, n in enumerate(a["counts"]):
                per_proc.append([c, procs, i, n])
            if c == "kafka_lock":
                notes.append(r.check(a["jain"] >= TARGET_JAIN, f"kafka_lock x{procs} Jain >= {TARGET_JAIN}: {a['jain']:.3f}"))
                notes.append(r.check(a["longest_wait_ms"] <= bound,
                                     f"kafka_lock x{procs} longest wait <= {fmt(bound)} ms: {fmt(a['longest_wait_ms'])} ms"))
                notes.append(r.check(a["handoff_p50_ms"] <= TARGET_HANDOFF_P50_MS,
                                     f"kafka_lock x{procs} hand-off p50 <= {TARGET_HANDOFF_P50_MS} ms: {fmt(a['handoff_p50_ms'])} ms"))
        # Kafka's own hand-off floor: a token passed round as many Rust processes through one
        # partition, two records per hold (bench/kafka-floor handoff).
        topic = r.topic(f"s2_floor_{procs}")
        cmds = [[FLOOR_BIN, "handoff", "--brokers", r.args.brokers, "--topic", topic, "--workers", str(procs),
                 "--index", str(i), "--hold_us", str(cfg["s2_hold_us"])] for i in range(procs)]
        meter = LoadMeter()
        results, start, end = r.workers(cmds, cfg["s2_duration"], f"s2-floor-{procs}")
        a = analyse_contention(results, start, end, cfg["s2_hold_us"])
        a["load"] = meter.done()
        res[f"floor/{procs}"] = a
        rows.append([LABEL["handoff_floor"], procs, fmt(a["per_s"]), fmt(a["handoff_p50_ms"]), fmt(a["handoff_p99_ms"]),
                     fmt(a["waiter_p50_ms"]), fmt(a["waiter_p99_ms"]), f"{a['jain']:.3f}", fmt(a["longest_wait_ms"]),
                     "-", pct_str(a["same_holder_share"]), a["overlaps"]])
        csv_rows.append(["floor", procs, a["holds"], a["per_s"], a["handoff_p50_ms"], a["handoff_p99_ms"],
                         a["waiter_p50_ms"], a["waiter_p99_ms"], a["jain"], a["longest_wait_ms"], a["wait_p99_ms"], "",
                         a["same_holder_share"], a["overlaps"], a["hold_p50_ms"], a["load"]["cpu_busy"],
                         a["load"]["loadavg_start"]])
    many, few = max(cfg["s2_procs"]), sorted(cfg["s2_procs"])[len(cfg["s2_procs"]) // 2]
    if many != few and all(f"{c}/{n}" in res for c in ("kafka_lock", "floor") for n in (many, few)):
        k = res[f"kafka_lock/{many}"]["handoff_p50_ms"] / max(res[f"kafka_lock/{few}"]["handoff_p50_ms"], 1e-9)
        f = res[f"floor/{many}"]["handoff_p50_ms"] / max(res[f"floor/{few}"]["handoff_p50_ms"], 1e-9)
        notes.append(r.check(k <= TARGET_HANDOFF_GROWTH,
                             f"kafka_lock hand-off p50 at {many} processes <= {TARGET_HANDOFF_GROWTH:g} x at {few}: "
                             f"{k:.2f} x (Kafka's hand-off floor: {f:.2f} x)"))
    notes.insert(0, f"{cfg['s2_duration']:g} s per run, each process holds {cfg['s2_hold_us'] / 1000:g} ms (usleep), "
                    "blocking acquire; hand-off = release begins -> the waiting next holder's acquire returns; "
                    "'to another' = from the release to the next hold by another process; 'same' = hand-offs "
                    "won by the releasing process again although another one waited; "
                    "bound = processes x (hold + hand-off p99) x 1.5; Kafka hand-off floor: a token passed round "
                    "as many Rust processes through one partition (bench/kafka-floor handoff), two records per hold")
    r.table("Scenario 2: contention on one hot lock",
            ["contender", "procs", "holds/s", "hand-off p50", "p99", "to another p50", "p99", "Jain", "longest wait", "bound", "same", "overlaps"],
            rows, notes)
    r.csv("s2_contention.csv", ["contender", "procs", "holds", "holds_per_s", "handoff_p50_ms", "handoff_p99_ms",
                                "to_another_p50_ms", "to_another_p99_ms", "jain",
                                "longest_wait_ms", "wait_p99_ms", "wait_bound_ms", "same_holder_share", "overlaps",
                                "hold_p50_ms", "cpu_busy", "loadavg_start"], csv_rows)
    r.csv("s2_per_process.csv", ["contender", "procs", "process", "holds"], per_proc)
    for v in res.values():
        v.pop("events", None)
    r.results["s2"] = res


# ---------------------------------------------------------------- scenario 3

def scenario3(r):
    cfg = r.cfg
    topic = r.topic("s3")
    variants = {
        "php": ["php", "-n", "-r", ""],
        "php+ext": ["php", "-n", "-d", f"extension={EXT}", "-r", ""],
    }
    for c in CONTENDERS:
        opts = {"id": f"cold-{r.stamp}"}
        if c == "kafka_lock":
            opts["topic"] = topic
        variants[c] = r.php(c, "cold.php", **opts)
    # One untimed run each: creates the topic, warms the page cache.
    for name, cmd in variants.items():
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise BenchError(f"scenario 3 {name}: exit {p.returncode}\n{p.stderr[-2000:]}")
    times = {name: [] for name in variants}
    meter = LoadMeter()
    for _ in range(cfg["s3_runs"]):
        order = list(variants)
        random.shuffle(order)
        for name in order:
            t0 = time.perf_counter_ns()
            p = subprocess.run(variants[name], capture_output=True, text=True, timeout=60)
            t1 = time.perf_counter_ns()
            if p.returncode != 0:
                raise BenchError(f"scenario 3 {name}: exit {p.returncode}\n{p.stderr[-2000:]}")
            times[name].append(t1 - t0)
    load = meter.done()
    # The floor of a cold start without PHP: fresh librdkafka clients (the extension's settings),
    # metadata, produce one record, read it back from its offset (client destruction excluded).
    path = r.raw_path("s3-startup-floor")
    r.floor_tool("startup", "--topic", r.topic("s3_floor"), "--n", str(cfg["s3_runs"]), "--out", path)
    with open(path) as f:
        times["startup_floor"] = [us * 1000 for us in json.load(f)["rtt_us"]]
    res, rows, csv_rows = {}, [], []
    redis_p50 = pct(times["redis"], 50)
    for name in ["php", "php+ext", "startup_floor"] + CONTENDERS:
        t = times[name]
        fig = {"p50_ms": ms(pct(t, 50)), "p99_ms": ms(pct(t, 99)), "max_ms": ms(max(t)), "x_redis": pct(t, 50) / redis_p50}
        res[name] = fig
        rows.append([LABEL[name], fmt(fig["p50_ms"]), fmt(fig["p99_ms"]), fmt(fig["max_ms"]), f"{fig['x_redis']:.2f}"])
        csv_rows.append([name, len(t), fig["p50_ms"], fig["p99_ms"], fig["max_ms"], fig["x_redis"]])
    res["load"] = load
    k = res["kafka_lock"]["p50_ms"]
    r.table("Scenario 3: cold start, a fresh PHP CLI process: construct, acquire once, release, exit (wall ms)",
            ["process", "p50", "p99", "max", "x redis"], rows,
            [f"{cfg['s3_runs']} runs each, interleaved in random order; spawn to exit, measured by the runner",
             f"Kafka's own cold-start floor: a bare php -n plus fresh clients' first record "
             f"= {fmt(res['php']['p50_ms'] + res['startup_floor']['p50_ms'])} ms",
             r.check(k <= TARGET_COLD_P50_MS, f"kafka_lock p50 <= {TARGET_COLD_P50_MS:g} ms: {fmt(k)} ms "
                                              f"({fmt(k - res['php']['p50_ms'])} ms over a bare php -n)")])
    r.csv("s3_cold_start.csv", ["process", "runs", "p50_ms", "p99_ms", "max_ms", "x_redis_p50"], csv_rows)
    r.results["s3"] = res


# ---------------------------------------------------------------- scenario 4

def scenario4_fill_old(r):
    """Fills the topics whose records must be older than the join window by the time
    scenario 4b measures; returns when they were filled."""
    for n in r.cfg["s4_join_old"]:
        out = r.floor_tool("fill", "--topic", r.topic(f"join_old_{n}"), "--n", str(n), "--keys", "1000")
        print(f"  {out.strip()}")
    return time.monotonic()


def scenario4(r):
    cfg = r.cfg
    procs = cfg["s4_procs"]
    res, rows, csv_rows = {}, [], []

    def run(contender, label, parts, keys, cmds, name):
        """One contender's run: its figures, its table row and CSV row."""
        meter = LoadMeter()
        results, start, end = r.workers(cmds, cfg["s4_duration"], name)
        a = analyse_contention(results, start, end, 0)
        lat = [e[3] - e[0] for x in results for e in x["events"] if start <= e[1] < end]
        fig = {"ops_per_s": a["holds"] / cfg["s4_duration"], "jain": a["jain"],
               "op_p50_ms": ms(pct(lat, 50)), "op_p99_ms": ms(pct(lat, 99)),
               "rss_mib_max": max(x["rss_kib"] for x in results) / 1024,
               "rss_mib_mean": statistics.fmean(x["rss_kib"] for x in results) / 1024,
               "overlaps": a["overlaps"], "load": meter.done()}
        rows.append([label, parts, keys, fmt(fig["ops_per_s"]), fmt(fig["op_p50_ms"]), fmt(fig["op_p99_ms"]),
                     f"{fig['jain']:.3f}", fmt(fig["rss_mib_mean"], 1), fmt(fig["rss_mib_max"], 1)])
        csv_rows.append([contender, "" if parts == "-" else parts, "" if keys == "-" else keys, procs,
                         fig["ops_per_s"], fig["op_p50_ms"], fig["op_p99_ms"], fig["jain"], fig["rss_mib_mean"],
                         fig["rss_mib_max"], fig["load"]["cpu_busy"]])
        return fig

    for parts in cfg["s4_partitions"]:
        topic = r.topic(f"s4_p{parts}")
        for keys in cfg["s4_keys"]:
            opts = {"keys": keys, "hold_us": 0, "prefix": f"s4-{keys}", "topic": topic, "partitions": parts}
            cmds = [r.php("kafka_lock", "contend.php", **opts) for _ in range(procs)]
            fig = run("kafka_lock", "kafka_lock", parts, keys, cmds, f"s4-p{parts}-k{keys}")
            if keys == 1 and fig["overlaps"]:
                r.errors.append(f"scenario 4 p{parts} k{keys}: {fig['overlaps']} overlapping holds")
            res[f"kafka_lock/p{parts}/k{keys}"] = fig
    # Kafka's own scale floor: as many Rust processes doing the same produce-and-follow work on
    # as many partitions, without the protocol (bench/kafka-floor `scale`).
    for parts in cfg["s4_partitions"]:
        topic = r.topic(f"s4_floor_p{parts}")
        cmds = [[FLOOR_BIN, "scale", "--brokers", r.args.brokers, "--topic", topic, "--partitions", str(parts)]
                for _ in range(procs)]
        res[f"floor/p{parts}"] = run("floor", LABEL["scale_floor"], parts, "-", cmds, f"s4-floor-p{parts}")
    # The same work on symfony's RedisStore, for scale.
    for keys in cfg["s4_keys"]:
        opts = {"keys": keys, "hold_us": 0, "prefix": f"s4r-{r.stamp}-{keys}"}
        cmds = [r.php("redis", "contend.php", **opts) for _ in range(procs)]
        res[f"redis/k{keys}"] = run("redis", LABEL["redis"], "-", keys, cmds, f"s4-redis-k{keys}")
    checks = []
    keys = max(cfg["s4_keys"])
    for parts in cfg["s4_partitions"]:
        k, f = res.get(f"kafka_lock/p{parts}/k{keys}"), res.get(f"floor/p{parts}")
        if k and f and f["ops_per_s"]:
            ratio = k["ops_per_s"] / f["ops_per_s"]
            checks.append(r.check(ratio >= TARGET_SCALE_X_FLOOR,
                                  f"kafka_lock ops/s >= {TARGET_SCALE_X_FLOOR:g} x the Kafka scale floor on {parts} "
                                  f"partition(s), {keys:,} identifiers: {ratio:.2f} x"))
    redis = res.get(f"redis/k{keys}")
    best = max((res[f"kafka_lock/p{p}/k{keys}"]["ops_per_s"] for p in cfg["s4_partitions"]
                if f"kafka_lock/p{p}/k{keys}" in res), default=None)
    if redis and best is not None and redis["ops_per_s"]:
        ratio = best / redis["ops_per_s"]
        checks.append(r.check(ratio >= TARGET_SCALE_X_REDIS,
                              f"kafka_lock ops/s >= {TARGET_SCALE_X_REDIS:g} x RedisStore's at {procs} processes, "
                              f"{keys:,} identifiers (best partition count): {ratio:.2f} x"))
    r.table(f"Scenario 4: scale, {procs} processes, acquire+release (no hold) on random identifiers",
            ["contender", "partitions", "identifiers", "ops/s", "op p50 ms", "op p99 ms", "Jain", "RSS MiB mean",
             "RSS MiB max"], rows,
            [f"{cfg['s4_duration']:g} s per run after a warm-up that joins every partition used; "
             "ops/s = acquire+release pairs per second, all processes together; RSS = each process at its end; "
             "Kafka scale floor: the same number of Rust processes (bench/kafka-floor scale), each following every "
             "partition, producing a record to a random one until read back, then a second until acknowledged"]
            + checks)
    r.csv("s4_scale.csv", ["contender", "partitions", "identifiers", "processes", "ops_per_s", "op_p50_ms", "op_p99_ms",
                           "jain", "rss_mib_mean", "rss_mib_max", "cpu_busy"], csv_rows)
    r.results["s4"] = res


def scenario4_join(r, filled_old_at):
    cfg = r.cfg
    topics = [("empty (new topic)", 0, "new", r.topic("join_new"))]
    for n in cfg["s4_join_old"]:
        topics.append((f"{n:,} records older than the window", n, "old", r.topic(f"join_old_{n}")))
    for n in cfg["s4_join_recent"]:
        topics.append((f"{n:,} records within the window", n, "recent", r.topic(f"join_recent_{n}")))
    if cfg["s4_join_old"]:
        age = time.monotonic() - filled_old_at
        if age < JOIN_WINDOW_S + 5:
            wait = JOIN_WINDOW_S + 5 - age
            print(f"  waiting {wait:.0f} s until the old records are older than the {JOIN_WINDOW_S} s join window")
            time.sleep(wait)
    res, rows, csv_rows = {}, [], []
    for label, n, kind, topic in topics:
        if kind == "recent":
            out = r.floor_tool("fill", "--topic", topic, "--n", str(n), "--keys", "1000")
            print(f"  {out.strip()}")
        elif kind == "new":
            # Created (and first joined) by an untimed process, so the runs time the join alone.
            r.run_json(r.php("kafka_lock", "join.php", topic=topic, id="create"), "s4j-create")
        firsts, seconds, constructs, rss = [], [], [], []
        for i in range(cfg["s4_join_runs"]):
            d = r.run_json(r.php("kafka_lock", "join.php", topic=topic, id=f"join-{i}"), f"s4j-{kind}-{n}")
            firsts.append(d["first_ns"])
            seconds.append(d["second_ns"])
            constructs.append(d["construct_ns"])
            rss.append(d["rss_kib"])
        both = [a + b for a, b in zip(constructs, firsts)]
        fig = {"records": n, "kind": kind, "first_p50_ms": ms(pct(firsts, 50)), "first_max_ms": ms(max(firsts)),
               "construct_first_p50_ms": ms(pct(both, 50)),
               "second_p50_ms": ms(pct(seconds, 50)), "construct_p50_ms": ms(pct(constructs, 50)),
               "rss_mib": max(rss) / 1024}
        res[f"{kind}/{n}"] = fig
        rows.append([label, fmt(fig["construct_p50_ms"]), fmt(fig["first_p50_ms"]), fmt(fig["first_max_ms"]),
                     fmt(fig["construct_first_p50_ms"]), fmt(fig["second_p50_ms"]), fmt(fig["rss_mib"], 1)])
        csv_rows.append([kind, n, fig["construct_p50_ms"], fig["first_p50_ms"], fig["first_max_ms"],
                         fig["construct_first_p50_ms"], fig["second_p50_ms"], fig["rss_mib"]])
    notes = [f"{cfg['s4_join_runs']} fresh processes per topic; first acquire+release = the join (produce, "
             "offsetsForTimes(t0 - 70 s), replay from there to its own record) plus the acquire; second = joined already"]
    if "new/0" in res and any(k.startswith("old/") for k in res):
        # Construct + first: the clients' start-up wait lands in one or the other.
        worst = max(v["construct_first_p50_ms"] for k, v in res.items() if k.startswith("old/"))
        base = res["new/0"]["construct_first_p50_ms"]
        notes.append(r.check(worst <= 1.5 * base + 2,
                             f"join flat with topic length (old records, construct + first): {fmt(worst)} ms vs "
                             f"{fmt(base)} ms on an empty topic"))
    r.table("Scenario 4b: cost of joining a partition vs topic length (ms)",
            ["topic", "construct", "first acq+rel p50", "max", "construct + first", "second acq+rel", "RSS MiB"],
            rows, notes)
    r.csv("s4_join.csv", ["kind", "records", "construct_p50_ms", "first_p50_ms", "first_max_ms",
                          "construct_first_p50_ms", "second_p50_ms", "rss_mib"], csv_rows)
    r.results["s4_join"] = res


# ---------------------------------------------------------------- scenario 5

def scenario5(r):
    cfg = r.cfg
    bare = subprocess.run(["php", "-n", "-r", 'preg_match("/^VmRSS:\\s+(\\d+)/m", file_get_contents("/proc/self/status"), $m); echo $m[1];'],
                          capture_output=True, text=True, timeout=30)
    bare_kib = int(bare.stdout.strip()) if bare.returncode == 0 and bare.stdout.strip().isdigit() else None
    res = {"bare_php_kib": bare_kib}
    rows, csv_rows = [], []
    runs = [("kafka_lock", cfg["s5_cycles"])]
    if cfg["s5_redis_cycles"]:
        runs.append(("redis", cfg["s5_redis_cycles"]))
    window_s = JOIN_WINDOW_S + 10  # what a view keeps lives at most 60 s of log time; plus margin
    for c, cycles in runs:
        opts = {"cycles": cycles, "points": 20, "min_seconds": cfg["s5_min_seconds"] if c == "kafka_lock" else 0}
        if c == "kafka_lock":
            opts["topic"] = r.topic("s5")
        meter = LoadMeter()
        d = r.run_json(r.php(c, "memory.php", **opts), f"s5-{c}", timeout=3600)
        samples = d["samples"]
        res[c] = {"samples": samples, "load": meter.done()}
        by = {s["stage"]: s for s in samples}
        cyc = [s for s in samples if s["stage"] == "cycles"]
        last = cyc[-1]
        total = by["released"]["cycles"]
        # Growth is read after a warm-up. Nothing a view keeps outlives 60 s of log time (builds
        # before b9fc121 kept a tombstone per released request that long, so their memory grew
        # with the release rate for the first minute): when the run is long enough, read growth
        # from past that window; otherwise from the first checkpoint at or past 20 % of the cycles.
        if last["elapsed_s"] >= window_s + 30:
            first = next(s for s in cyc if s["elapsed_s"] >= window_s)
            basis = f"from {first['elapsed_s']:.0f} s on (past the 60 s window)"
        else:
            first = next(s for s in cyc if s["cycles"] >= total * 0.2)
            basis = "from 20 % of the cycles on"
        held = by["one lock held"]["rss_kib"]
        peak = max(s["rss_kib"] for s in cyc)
        res[c].update({"loaded_kib": by["loaded"]["rss_kib"], "held_kib": held,
                       "first_checkpoint_kib": first["rss_kib"], "end_kib": last["rss_kib"], "peak_kib": peak,
                       "growth_kib": last["rss_kib"] - first["rss_kib"], "cycles": total,
                       "first_checkpoint_cycles": first["cycles"], "growth_basis": basis,
                       "seconds": last["elapsed_s"], "cycles_per_s": last["cycles"] / last["elapsed_s"]})
        rows.append([LABEL[c], fmt(by["loaded"]["rss_kib"] / 1024, 1), fmt(held / 1024, 1),
                     f"{first['rss_kib'] / 1024:.1f} @ {first['cycles']:,}", f"{peak / 1024:.1f}",
                     f"{last['rss_kib'] / 1024:.1f} @ {last['cycles']:,}",
                     f"{(last['rss_kib'] - first['rss_kib']) / 1024:+.1f}", fmt(res[c]["cycles_per_s"]),
                     f"{last['elapsed_s']:.0f}"])
        for s in samples:
            csv_rows.append([c, s["stage"], s["cycles"], s.get("elapsed_s", ""), s["rss_kib"], s["hwm_kib"]])
    k = res["kafka_lock"]
    growth_per_cycle = k["growth_kib"] * 1024 / max(1, k["cycles"] - k["first_checkpoint_cycles"])
    notes = [f"bare php -n: {fmt(bare_kib / 1024, 1) if bare_kib else '?'} MiB; identifiers all distinct; "
             f"kafka_lock runs at least {cfg['s5_min_seconds']} s; growth = RSS at the end minus RSS at the checkpoint; "
             "kafka_lock keeps no tombstone for requests whose acquire it read (since b9fc121; before, one per released request for 60 s of log time)",
             r.check(k["growth_kib"] <= 1024, f"kafka_lock: no growth ({k['growth_basis']}, <= 1 MiB): "
                                              f"{k['growth_kib']:+,} KiB, {growth_per_cycle:.1f} bytes per cycle")]
    r.table("Scenario 5: memory (RSS, MiB)",
            ["contender", "loaded", "one lock held", "checkpoint", "peak", "end", "growth", "cycles/s", "s"], rows, notes)
    r.csv("s5_memory.csv", ["contender", "stage", "cycles", "elapsed_s", "rss_kib", "hwm_kib"], csv_rows)
    r.results["s5"] = res


# ---------------------------------------------------------------- scenarios 6 and 7

def analyse_holds(results, start, end, limit=None):
    """Merges the workers' holds on one shared lock (events carry a 5th field, 1 for a read)
    or one semaphore (no 5th field: every hold is a share) into rates, waits and concurrency.

    A hold runs from its acquire returning to its release beginning. A sweep over those
    intervals counts, for a lock, the holds that began while a write was held or the writes
    that began while anything was held (mutual exclusion broken), and the most readers held at
    once; for a semaphore of `limit`, the holds that began while `limit` were held already
    (over the limit), and the most held at once. Means are over time within [start, end)."""
    holds = []
    for w, res in enumerate(results):
        for e in res["events"]:
            read = e[4] == 1 if len(e) > 4 else True
            holds.append((e[0], e[1], e[2], e[3], read, w))
    points = []
    for i, h in enumerate(holds):
        points.append((h[1], 1, i))
        points.append((h[2], 0, i))  # at one instant, ends go before starts: not an overlap
    points.sort()
    readers = writers = 0
    max_readers = max_writers = max_held = 0
    broken = 0
    shared_ns = any_read_ns = held_ns = 0  # reader-ns, ns with a reader, holder-ns (in the window)
    last = start
    for t, kind, i in points:
        lo, hi = max(last, start), min(t, end)
        if hi > lo:
            held_ns += (readers + writers) * (hi - lo)
            shared_ns += readers * (hi - lo)
            if readers:
                any_read_ns += hi - lo
        last = t
        read = holds[i][4]
        if kind == 0:
            if read:
                readers -= 1
            else:
                writers -= 1
            continue
        if limit is None:
            broken += (readers + writers) if not read else writers
        elif readers >= limit:
            broken += 1
        if read:
            readers += 1
        else:
            writers += 1
        max_readers = max(max_readers, readers)
        max_writers = max(max_writers, writers)
        max_held = max(max_held, readers + writers)
    duration = (end - start) / 1e9
    in_window = [h for h in holds if start <= h[1] < end]
    reads = sum(1 for h in in_window if h[4])
    writes = len(in_window) - reads
    counts = [sum(1 for h in in_window if h[5] == w) for w in range(len(results))]

    def waits(read):
        return [h[1] - h[0] for h in holds if h[0] < end and h[4] == read]

    out = {
        "holds": len(in_window), "per_s": len(in_window) / duration,
        "reads_per_s": reads / duration, "writes_per_s": writes / duration,
        "write_share": writes / len(in_window) if in_window else float("nan"),
        "max_held": max_held, "max_readers": max_readers, "max_writers": max_writers,
        "mean_held": held_ns / (end - start),
        "mean_readers_when_read": shared_ns / any_read_ns if any_read_ns else float("nan"),
        "broken": broken, "jain": jain(counts), "counts": counts,
        "release_p50_ms": ms(pct([h[3] - h[2] for h in holds], 50)) if holds else float("nan"),
        "rss_kib_max": max(x["rss_kib"] for x in results),
    }
    for name, read in (("read", True), ("write", False)):
        w = waits(read)
        out[f"{name}_wait_p50_ms"] = ms(pct(w, 50)) if w else float("nan")
        out[f"{name}_wait_p99_ms"] = ms(pct(w, 99)) if w else float("nan")
        out[f"{name}_wait_max_ms"] = ms(max(w)) if w else float("nan")
        out[f"{name}_waits"] = len(w)
    return out


def scenario6(r):
    cfg = r.cfg
    procs, hold_us, read_pct = cfg["s6_procs"], cfg["s6_hold_us"], cfg["s6_read_pct"]
    res, rows, csv_rows = {}, [], []
    for c in CONTENDERS:
        opts = {"hold_us": hold_us, "read_pct": read_pct, "prefix": f"rw-{r.stamp}"}
        if c == "kafka_lock":
            opts["topic"] = r.topic("s6")
        cmds = [r.php(c, "readwrite.php", **opts) for _ in range(procs)]
        meter = LoadMeter()
        results, start, end = r.workers(cmds, cfg["s6_duration"], f"s6-{c}")
        a = analyse_holds(results, start, end)
        a["load"] = meter.done()
        res[c] = a
        if a["broken"]:
            r.errors.append(f"scenario 6 {c}: {a['broken']} holds overlapping a write (mutual exclusion broken)")
        rows.append([LABEL[c], fmt(a["per_s"]), fmt(a["reads_per_s"]), fmt(a["writes_per_s"]),
                     fmt(a["read_wait_p50_ms"]), fmt(a["read_wait_p99_ms"]),
                     fmt(a["write_wait_p50_ms"]), fmt(a["write_wait_p99_ms"]), fmt(a["write_wait_max_ms"]),
                     fmt(a["release_p50_ms"]), a["max_readers"], fmt(a["mean_readers_when_read"], 2), a["broken"]])
        csv_rows.append([c, procs, read_pct, a["holds"], a["per_s"], a["reads_per_s"], a["writes_per_s"],
                         a["read_wait_p50_ms"], a["read_wait_p99_ms"], a["read_wait_max_ms"],
                         a["write_wait_p50_ms"], a["write_wait_p99_ms"], a["write_wait_max_ms"],
                         a["release_p50_ms"], a["max_readers"], a["mean_readers_when_read"], a["max_writers"], a["broken"],
                         a["jain"],
                         a["load"]["cpu_busy"], a["load"]["loadavg_start"]])
    base = res.get("redis", {}).get("per_s")
    notes = [f"{procs} processes on one lock, {cfg['s6_duration']:g} s per contender; each operation is a read "
             f"({read_pct} %, at random) or a write, blocking acquire (shared or exclusive), hold "
             f"{hold_us / 1000:g} ms (usleep), release; wait = request -> acquire returns; ops/s counts both kinds",
             "max readers = most shared holds at once; mean readers = readers held on average while any was; "
             "broken = holds that began while a write was held, or writes that began while anything was held "
             "(must be 0: the run fails otherwise); release p50 = release call, both kinds",
             "symfony: Lock::acquireRead(true)/acquire(true); FlockStore blocks in flock(LOCK_SH/LOCK_EX), "
             "PostgreSqlStore in pg_advisory_lock_shared()/pg_advisory_lock(), RedisStore retries every 90-110 ms"]
    if base:
        notes.append("ops/s relative to symfony RedisStore: " + ", ".join(
            f"{LABEL[c]} {res[c]['per_s'] / base:.2f}" for c in CONTENDERS if c != "redis"))
    r.table(f"Scenario 6: read-mostly, {procs} processes on one lock, {read_pct} % reads",
            ["contender", "ops/s", "reads/s", "writes/s", "read wait p50 ms", "p99", "write wait p50 ms", "p99",
             "longest write wait", "release p50", "max readers", "mean readers", "broken"], rows, notes)
    r.csv("s6_read_mostly.csv", ["contender", "procs", "read_pct", "holds", "ops_per_s", "reads_per_s", "writes_per_s",
                                 "read_wait_p50_ms", "read_wait_p99_ms", "read_wait_max_ms", "write_wait_p50_ms",
                                 "write_wait_p99_ms", "write_wait_max_ms", "release_p50_ms", "max_readers",
                                 "mean_readers_when_read",
                                 "max_writers", "broken", "jain", "cpu_busy", "loadavg_start"], csv_rows)
    r.results["s6"] = res


def scenario7(r):
    cfg = r.cfg
    procs, limit, weight, hold_us = cfg["s7_procs"], cfg["s7_limit"], cfg["s7_weight"], cfg["s7_hold_us"]
    res, rows, csv_rows = {}, [], []
    for c in SEM_CONTENDERS:
        opts = {"hold_us": hold_us, "limit": limit, "weight": weight, "prefix": f"sem-{r.stamp}"}
        if c == "kafka_lock":
            opts["topic"] = r.topic("s7")
        else:
            opts["retry_us"] = cfg["s7_retry_us"]
        cmds = [r.php(c, "semaphore.php", **opts) for _ in range(procs)]
        meter = LoadMeter()
        results, start, end = r.workers(cmds, cfg["s7_duration"], f"s7-{c}")
        a = analyse_holds(results, start, end, limit=limit // weight)
        a["load"] = meter.done()
        retries = [x["retries"] for x in results if x.get("retries") is not None]
        a["retries_per_hold"] = sum(retries) / max(1, a["holds"]) if retries else None
        res[c] = a
        if a["broken"]:
            r.errors.append(f"scenario 7 {c}: {a['broken']} holds began while {limit // weight} were held "
                            f"(semaphore limit {limit} broken)")
        rows.append([SEM_LABEL[c], fmt(a["per_s"]), fmt(a["read_wait_p50_ms"]), fmt(a["read_wait_p99_ms"]),
                     fmt(a["read_wait_max_ms"]), fmt(a["release_p50_ms"]), a["max_held"], fmt(a["mean_held"], 2), a["broken"],
                     f"{a['jain']:.3f}", "-" if a["retries_per_hold"] is None else fmt(a["retries_per_hold"], 2)])
        csv_rows.append([c, procs, limit, weight, a["holds"], a["per_s"], a["read_wait_p50_ms"], a["read_wait_p99_ms"],
                         a["read_wait_max_ms"], a["release_p50_ms"], a["max_held"], a["mean_held"], a["broken"], a["jain"],
                         a["retries_per_hold"], a["load"]["cpu_busy"], a["load"]["loadavg_start"]])
        # analyse_holds counts every share as a "read": rename for the results.
        for k in ("p50_ms", "p99_ms", "max_ms"):
            a[f"wait_{k}"] = a.pop(f"read_wait_{k}")
        for k in ("write_wait_p50_ms", "write_wait_p99_ms", "write_wait_max_ms", "write_waits", "reads_per_s",
                  "writes_per_s", "write_share", "max_readers", "max_writers", "mean_readers_when_read"):
            a.pop(k, None)
        a["waits"] = a.pop("read_waits")
    notes = [f"{procs} processes on one semaphore of limit {limit}, weight {weight}, {cfg['s7_duration']:g} s per "
             f"contender; blocking acquire, hold {hold_us / 1000:g} ms (usleep), release; wait = request -> acquire returns",
             f"max held = most shares held at once (at most {limit // weight}); mean held = shares held on average over "
             "the run; over limit = holds that began while the limit was held (must be 0: the run fails otherwise)",
             f"symfony/semaphore 5.4's acquire() never blocks: the blocking acquire is a retry loop sleeping "
             f"{cfg['s7_retry_us']} us +- 25 % (usleep) after each refusal; retries = refused attempts per hold"]
    if "redis" in res and "kafka_lock" in res:
        notes.append(f"ops/s: kafka_lock / symfony/semaphore = {res['kafka_lock']['per_s'] / res['redis']['per_s']:.2f}")
    r.table(f"Scenario 7: semaphore, {procs} processes, limit {limit}, weight {weight}",
            ["contender", "holds/s", "wait p50 ms", "p99", "longest wait", "release p50", "max held", "mean held",
             "over limit", "Jain",
             "retries"], rows, notes)
    r.csv("s7_semaphore.csv", ["contender", "procs", "limit", "weight", "holds", "holds_per_s", "wait_p50_ms", "wait_p99_ms",
                               "wait_max_ms", "release_p50_ms", "max_held", "mean_held", "over_limit", "jain",
                               "retries_per_hold",
                               "cpu_busy", "loadavg_start"], csv_rows)
    r.results["s7"] = res



# ---------------------------------------------------------------- scenario 8

UNFOLLOW_AFTER_S = 30  # UNFOLLOW_AFTER of src/protocol/client.rs


def process_cpu_s(pid):
    """CPU seconds (user + system, every thread) a process has used."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def scenario8(r):
    """Idle workers: N processes that locked once and then sit there. The broker's CPU and the
    processes' own over a window while they still follow the partition (right after their lock)
    and over one after UNFOLLOW_AFTER, against the broker alone."""
    cfg = r.cfg
    procs, window = cfg["s8_procs"], cfg["s8_window"]
    broker_pid = int(open(os.path.join(ROOT, ".run", "kafka", "pid")).read().strip())

    def meter(seconds, pids):
        b0, p0, t0 = process_cpu_s(broker_pid), sum(process_cpu_s(p) for p in pids), time.monotonic()
        time.sleep(seconds)
        b1, p1, t1 = process_cpu_s(broker_pid), sum(process_cpu_s(p) for p in pids), time.monotonic()
        return (b1 - b0) / (t1 - t0), (p1 - p0) / (t1 - t0)

    base_broker, _ = meter(window, [])
    topic = r.topic("s8")
    workers = []
    try:
        for i in range(procs):
            cmd = r.php("kafka_lock", "idle.php", topic=topic, id=f"idle-{i}")
            workers.append(subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
        for w in workers:
            if w.stdout.readline().strip() != "ready":
                raise BenchError(f"scenario 8: an idle worker did not start (exit {w.poll()})")
        ready_at = time.monotonic()
        pids = [w.pid for w in workers]
        following = meter(window, pids)
        time.sleep(max(0.0, ready_at + UNFOLLOW_AFTER_S + 2 - time.monotonic()))
        unfollowed = meter(window, pids)
    finally:
        for w in workers:
            try:
                w.stdin.close()
            except OSError:
                pass
        for w in workers:
            try:
                w.wait(timeout=10)
            except subprocess.TimeoutExpired:
                w.kill()
    res, rows = {"procs": procs, "window_s": window, "broker_alone_pct": 100 * base_broker}, []
    for name, (broker, own) in [("following (first window after the lock)", following),
                                (f"after UNFOLLOW_AFTER ({UNFOLLOW_AFTER_S} s)", unfollowed)]:
        per_proc_broker = 100 * (broker - base_broker) / procs
        per_proc_own = 100 * own / procs
        key = "following" if name.startswith("following") else "unfollowed"
        res[key] = {"broker_pct": 100 * broker, "broker_pct_per_process": per_proc_broker,
                    "own_pct_per_process": per_proc_own}
        rows.append([name, fmt(100 * broker, 2), fmt(per_proc_broker, 3), fmt(per_proc_own, 3)])
    rows.insert(0, ["broker alone", fmt(100 * base_broker, 2), "-", "-"])
    f, u = res["following"]["broker_pct_per_process"], res["unfollowed"]["broker_pct_per_process"]
    r.table(f"Scenario 8: {procs} idle PHP processes that locked once (CPU, % of one core, {window:g} s windows)",
            ["phase", "broker", "broker per idle process", "own per idle process"], rows,
            ["broker per idle process = (broker - broker alone) / processes; own = the processes' CPU (all threads) / processes",
             r.check(u <= max(f, 0.0) / 20, f"idle cost to the broker at most 1/20 of a following process's: "
                                            f"{fmt(u, 3)} vs {fmt(f, 3)} % of a core")])
    r.results["s8"] = res


# ---------------------------------------------------------------- scenario 9

FPM_EXTENSIONS = {"kafka_lock": [EXT], "redis": ["igbinary", "redis"], "pgsql": ["pdo", "pdo_pgsql"], "flock": []}


def fpm_helpers():
    """fpm/run.py (make fpm-test) as a module: its template, port and wait helpers."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("fpm_run", os.path.join(ROOT, "fpm", "run.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ab_figures(text):
    """Requests per second, complete and failed requests, and the percentiles (ms) of ab's output."""
    def number(pattern):
        m = re.search(pattern, text)
        if not m:
            raise BenchError(f"scenario 9: ab printed no '{pattern}':\n{text[-1500:]}")
        return float(m.group(1))
    pcts = {int(p): float(v) for p, v in re.findall(r"^\s+(\d+)%\s+(\d+)", text, re.M)}
    return {"rps": number(r"Requests per second:\s+([\d.]+)"), "complete": int(number(r"Complete requests:\s+(\d+)")),
            "failed": int(number(r"Failed requests:\s+(\d+)")),
            "non2xx": int(re.search(r"Non-2xx responses:\s+(\d+)", text).group(1)) if "Non-2xx" in text else 0,
            "p50_ms": pcts.get(50), "p99_ms": pcts.get(99), "max_ms": pcts.get(100)}


def scenario9(r):
    """A real php-fpm pool behind nginx, loaded with ab: every request takes one hot lock around a
    read-modify-write of a counter file. Requests per second and latency per contender, and the
    counter checked against the requests answered (a lost update fails the run)."""
    cfg = r.cfg
    fr = fpm_helpers()
    workers, conc, secs, hold_us = cfg["s9_workers"], cfg["s9_concurrency"], cfg["s9_duration"], cfg["s9_hold_us"]
    root = os.geteuid() == 0
    user = os.environ.get("USER") or __import__("pwd").getpwuid(os.geteuid()).pw_name
    res, rows, csv_rows = {}, [], []
    for c in CONTENDERS:
        run_dir = tempfile.mkdtemp(prefix=f"kafka_lock_bench_fpm_{c}.")
        os.makedirs(os.path.join(run_dir, "nginx-tmp"))
        port = fr.free_port()
        fr.render(os.path.join(BENCH, "fpm", "php-fpm.conf.in"), os.path.join(run_dir, "php-fpm.conf"), {
            "RUN": run_dir, "WORKERS": workers, "CONTENDER": c, "TOPIC": r.topic("s9"), "LOCK_ID": f"fpm-hot-{r.stamp}",
            "FLOCK_DIR": r.flock_dir, "HOLD_US": hold_us, "BROKERS": r.args.brokers,
            "PG_PORT": os.environ.get("BENCH_PG_PORT", "5432"), "REDIS_PORT": os.environ.get("BENCH_REDIS_PORT", "6379"),
            "USER_LINES": f"user = {user}\ngroup = {user}" if root else ""})
        fr.render("nginx.conf.in", os.path.join(run_dir, "nginx.conf"), {
            "RUN": run_dir, "PORT": port, "APP": os.path.join(PHP_DIR, "fpm_app.php"),
            "USER_LINE": f"user {user};" if root else ""})
        fpm_cmd = ["php-fpm8.2", "-n", "-F", "-y", os.path.join(run_dir, "php-fpm.conf")]
        for ext in FPM_EXTENSIONS[c]:
            fpm_cmd += ["-d", f"extension={ext}"]
        fpm_cmd += ["-R"] if root else []
        procs = []
        try:
            for cmd, name in [(fpm_cmd, "php-fpm"), (["nginx", "-p", run_dir + "/", "-c", os.path.join(run_dir, "nginx.conf"),
                                                      "-e", os.path.join(run_dir, "nginx-error.log")], "nginx")]:
                out = open(os.path.join(run_dir, f"{name}.out"), "ab")
                procs.append(subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                              start_new_session=True, cwd=run_dir))
                out.close()
                if name == "php-fpm":
                    fr.await_cond("php-fpm ready", lambda: fr.can_connect(socket.AF_UNIX, os.path.join(run_dir, "php-fpm.sock")),
                                  15, procs[-1], os.path.join(run_dir, "php-fpm.log"))
            fr.await_cond(f"nginx on {port}", lambda: fr.can_connect(socket.AF_INET, ("127.0.0.1", port)), 10, procs[-1])
            url = f"http://127.0.0.1:{port}/app.php"
            # One request per worker and then some: every worker connects (and joins) before the load.
            warm = 0
            for _ in range(workers * 3):
                status, body = fr.http_get(url, 30)
                if status != 200 or body.strip() != "ok":
                    raise BenchError(f"scenario 9 {c}: warm-up request: HTTP {status}: {body.strip()[:300]}\n"
                                     + fr.tail(os.path.join(run_dir, "php-errors.log")))
                warm += 1
            meter = LoadMeter()
            ab = subprocess.run(["ab", "-q", "-s", "60", "-t", str(secs), "-n", "10000000", "-c", str(conc), url],
                                capture_output=True, text=True, timeout=secs + 120)
            load = meter.done()
            if ab.returncode != 0:
                raise BenchError(f"scenario 9 {c}: ab exit {ab.returncode}: {ab.stderr[-1000:]}")
            fig = ab_figures(ab.stdout)
            # ab stops waiting at its time limit; the requests it left still run in the pool (a
            # worker blocked in flock() at the stop would be cut short by the signal): await their
            # end, seen as no increment for half a second.
            done_log = os.path.join(run_dir, "counter.done")
            seen, stable_since = -1, time.monotonic()
            while time.monotonic() - stable_since < 0.5:
                now_seen = os.path.getsize(done_log) if os.path.exists(done_log) else 0
                if now_seen != seen:
                    seen, stable_since = now_seen, time.monotonic()
                time.sleep(0.05)
        finally:
            for p in procs:
                if p.poll() is None:
                    os.killpg(p.pid, signal.SIGQUIT)
            for p in procs:
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
        with open(os.path.join(run_dir, "counter")) as f:
            counter_text = f.read()
        counted = int(counter_text or 0)
        with open(os.path.join(run_dir, "counter.done")) as f:
            increments = f.read().count("\n")
        errors = fr.read(os.path.join(run_dir, "php-errors.log")).strip()
        if counted != increments:
            raise BenchError(f"scenario 9 {c}: counter {counter_text!r} after {increments} increments: lost updates "
                             f"(run directory kept: {run_dir})")
        shutil.rmtree(run_dir, ignore_errors=True)
        if errors:
            raise BenchError(f"scenario 9 {c}: PHP errors:\n{errors[-1500:]}")
        fig["load"] = load
        res[c] = fig
        rows.append([LABEL[c], fmt(fig["rps"]), fmt(fig["p50_ms"]), fmt(fig["p99_ms"]), fmt(fig["max_ms"]),
                     fig["complete"], fig["failed"] + fig["non2xx"], f"{100 * load['cpu_busy']:.0f} %"])
        csv_rows.append([c, workers, conc, secs, fig["rps"], fig["p50_ms"], fig["p99_ms"], fig["max_ms"],
                         fig["complete"], fig["failed"], fig["non2xx"]])
    k, redis = res["kafka_lock"], res["redis"]
    r.table(f"Scenario 9: php-fpm ({workers} static workers) behind nginx, ab -c {conc} for {secs} s, "
            f"one hot lock held {hold_us} us per request around a counter", ["contender", "requests/s", "p50 ms",
            "p99 ms", "max ms", "requests", "failed", "cores busy"], rows,
            ["latency: ab's percentiles of the whole request (whole ms); every request takes one lock, reads a "
             "counter file, sleeps the hold, writes it back, releases; the counter equalled the increments made (one "
             "line each in a log) for every contender (the run fails otherwise)",
             r.check(k["rps"] >= redis["rps"], f"kafka_lock requests/s at least RedisStore's: {fmt(k['rps'])} vs {fmt(redis['rps'])}"),
             r.check(k["p99_ms"] <= redis["p99_ms"] / 4, f"kafka_lock p99 at most a quarter of RedisStore's: "
                                                       f"{fmt(k['p99_ms'])} vs {fmt(redis['p99_ms'])} ms")])
    r.csv("s9_fpm.csv", ["contender", "workers", "concurrency", "seconds", "rps", "p50_ms", "p99_ms", "max_ms",
                         "complete", "failed", "non2xx"], csv_rows)
    r.results["s9"] = res

# ---------------------------------------------------------------- plots

def plots(r):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("\nno matplotlib (Debian python3-matplotlib, bench/setup.sh): plots skipped")
        return []
    made = []

    def save(fig, name):
        path = os.path.join(r.out, name)
        fig.tight_layout()
        fig.savefig(path, dpi=80)
        plt.close(fig)
        made.append(path)

    if hasattr(r, "s1_samples"):
        fig, ax = plt.subplots(figsize=(7, 4))
        for c, t in r.s1_samples.items():
            s = sorted(ms(x) for x in t)
            ax.plot(s, [(i + 1) / len(s) for i in range(len(s))], label=LABEL[c], color=COLOR[c])
        ax.set_xscale("log")
        ax.set_xlabel("acquire+release latency, ms (log)")
        ax.set_ylabel("fraction of operations")
        ax.set_title("Scenario 1: uncontended latency CDF")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
        save(fig, "s1_latency_cdf.png")

    s2 = r.results.get("s2")
    if s2:
        procs_list = r.cfg["s2_procs"]
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
        for c in CONTENDERS:
            xs = [p for p in procs_list if f"{c}/{p}" in s2]
            axes[0].plot(xs, [s2[f"{c}/{p}"]["per_s"] for p in xs], "o-", label=LABEL[c], color=COLOR[c])
            axes[1].plot(xs, [s2[f"{c}/{p}"]["handoff_p50_ms"] for p in xs], "o-", label=LABEL[c], color=COLOR[c])
        xs = [p for p in procs_list if f"floor/{p}" in s2]
        for ax, field in zip(axes, ["per_s", "handoff_p50_ms"]):
            ax.plot(xs, [s2[f"floor/{p}"][field] for p in xs], "s--", color="grey", label=LABEL["handoff_floor"])
        axes[0].set_title("holds per second (1 ms hold)")
        axes[1].set_title("hand-off latency p50, ms (log)")
        axes[1].set_yscale("log")
        for ax in axes:
            ax.set_xlabel("processes on one lock")
            ax.set_xscale("log", base=2)
            ax.set_xticks(procs_list)
            ax.set_xticklabels([str(p) for p in procs_list])
            ax.grid(True, alpha=0.3)
        axes[0].legend(fontsize=8)
        save(fig, "s2_throughput.png")

        p = 8 if 8 in procs_list else procs_list[-1]
        fig, axes = plt.subplots(1, len(CONTENDERS), figsize=(10, 3), sharey=False)
        for ax, c in zip(axes, CONTENDERS):
            a = s2.get(f"{c}/{p}")
            if not a:
                continue
            ax.bar(range(1, len(a["counts"]) + 1), a["counts"], color=COLOR[c])
            ax.set_title(f"{LABEL[c]}\nJain {a['jain']:.3f}", fontsize=9)
            ax.set_xlabel("process")
            ax.set_xticks(range(1, len(a["counts"]) + 1))
        axes[0].set_ylabel(f"holds in {r.cfg['s2_duration']:g} s")
        fig.suptitle(f"Scenario 2: holds per process, {p} processes on one lock", fontsize=10)
        save(fig, "s2_fairness.png")

    s4 = r.results.get("s4")
    if s4:
        fig, ax = plt.subplots(figsize=(6, 3.6))
        for keys in r.cfg["s4_keys"]:
            xs = [p for p in r.cfg["s4_partitions"] if f"kafka_lock/p{p}/k{keys}" in s4]
            ax.plot(xs, [s4[f"kafka_lock/p{p}/k{keys}"]["ops_per_s"] for p in xs], "o-", label=f"kafka_lock, {keys:,} ids")
            if f"redis/k{keys}" in s4:
                y = s4[f"redis/k{keys}"]["ops_per_s"]
                ax.axhline(y, ls=":", color="#1f77b4", lw=1)
                ax.annotate(f"Redis, {keys:,} ids", (max(r.cfg["s4_partitions"]), y), fontsize=7, color="#1f77b4",
                            ha="right", va="bottom")
        xs = [p for p in r.cfg["s4_partitions"] if f"floor/p{p}" in s4]
        if xs:
            ax.plot(xs, [s4[f"floor/p{p}"]["ops_per_s"] for p in xs], "s--", color="grey", label="Kafka scale floor")
        ax.set_xlabel("partitions")
        ax.set_ylabel("acquire+release per s")
        ax.set_title(f"Scenario 4: {r.cfg['s4_procs']} processes (dotted: symfony Redis)", fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
        save(fig, "s4_scale.png")

    s5 = r.results.get("s5")
    if s5:
        fig, ax = plt.subplots(figsize=(6, 3.4))
        for c in ("kafka_lock", "redis"):
            if c in s5:
                pts = [s for s in s5[c]["samples"] if s["stage"] == "cycles"]
                ax.plot([s["elapsed_s"] for s in pts], [s["rss_kib"] / 1024 for s in pts], "o-", ms=3,
                        label=f"{LABEL[c]} ({s5[c]['cycles_per_s']:,.0f} cycles/s)", color=COLOR[c])
        ax.axvline(60, ls=":", color="#777777", lw=1)
        ax.annotate("longest lease (60 s)", (60, 1), fontsize=7, color="#777777", ha="left")
        ax.set_xlabel("seconds of acquire/release cycles")
        ax.set_ylabel("RSS, MiB")
        ax.set_ylim(bottom=0)
        ax.set_title("Scenario 5: process RSS along acquire/release cycles", fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
        save(fig, "s5_memory.png")

    s6, s7 = r.results.get("s6"), r.results.get("s7")
    if s6 or s7:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
        if s6:
            cs = [c for c in CONTENDERS if c in s6]
            xs = range(len(cs))
            axes[0].bar(xs, [s6[c]["reads_per_s"] for c in cs], color=[COLOR[c] for c in cs], label="reads")
            axes[0].bar(xs, [s6[c]["writes_per_s"] for c in cs], bottom=[s6[c]["reads_per_s"] for c in cs],
                        color=[COLOR[c] for c in cs], alpha=0.45, hatch="//", label="writes")
            for x, c in zip(xs, cs):
                axes[0].annotate(f"write wait p99\n{s6[c]['write_wait_p99_ms']:,.0f} ms", (x, s6[c]["per_s"]),
                                 ha="center", va="bottom", fontsize=7)
            axes[0].set_xticks(list(xs))
            axes[0].set_xticklabels([LABEL[c].replace("symfony ", "") for c in cs], fontsize=8)
            axes[0].set_ylabel("holds per second")
            axes[0].set_title(f"Scenario 6: {r.cfg['s6_procs']} processes, {r.cfg['s6_read_pct']} % reads", fontsize=10)
            axes[0].legend(fontsize=8, loc="upper left")
        if s7:
            cs = [c for c in SEM_CONTENDERS if c in s7]
            xs = range(len(cs))
            axes[1].bar(xs, [s7[c]["per_s"] for c in cs], color=[COLOR[c] for c in cs])
            for x, c in zip(xs, cs):
                axes[1].annotate(f"wait p50 {s7[c]['wait_p50_ms']:.2f} ms\nmax held {s7[c]['max_held']}",
                                 (x, s7[c]["per_s"]), ha="center", va="bottom", fontsize=7)
            axes[1].set_xticks(list(xs))
            axes[1].set_xticklabels([SEM_LABEL[c] for c in cs], fontsize=8)
            axes[1].set_ylabel("holds per second")
            axes[1].set_title(f"Scenario 7: semaphore of {r.cfg['s7_limit']}, {r.cfg['s7_procs']} processes", fontsize=10)
        for ax in axes:
            ax.grid(True, axis="y", alpha=0.3)
            ax.margins(y=0.2)
        save(fig, "s6_s7_shared.png")

    s9 = r.results.get("s9")
    if s9:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
        cs = [c for c in CONTENDERS if c in s9]
        xs = range(len(cs))
        axes[0].bar(xs, [s9[c]["rps"] for c in cs], color=[COLOR[c] for c in cs])
        axes[0].set_ylabel("requests per second")
        axes[1].bar(xs, [s9[c]["p99_ms"] for c in cs], color=[COLOR[c] for c in cs])
        axes[1].set_ylabel("p99 request latency, ms")
        for ax in axes:
            ax.set_xticks(list(xs))
            ax.set_xticklabels([LABEL[c].replace("symfony ", "") for c in cs], fontsize=8)
            ax.grid(True, axis="y", alpha=0.3)
        fig.suptitle(f"Scenario 9: php-fpm ({r.cfg['s9_workers']} workers) behind nginx, ab -c {r.cfg['s9_concurrency']}, "
                     f"one hot lock", fontsize=10)
        save(fig, "s9_fpm.png")
    return made


def summary_md(r, info, header_lines):
    lines = [f"# kafka_lock benchmark, {r.mode} run {r.stamp}", ""] + header_lines + [""]
    for title, header, rows, notes in r.tables:
        lines += [f"### {title}", "", "| " + " | ".join(map(str, header)) + " |",
                  "|" + "|".join(" --- " for _ in header) + "|"]
        lines += ["| " + " | ".join(map(str, row)) + " |" for row in rows]
        lines += [""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- main

def preflight(args, want):
    problems = []
    if not os.path.exists(EXT):
        problems.append(f"no extension at {EXT} (make build)")
    # The floor tool measures scenarios 1, 3 and 4b; the others run without it (the run's
    # topics are then left on the broker, and the end of the run says so).
    if not os.access(FLOOR_BIN, os.X_OK) and any(want(s) for s in ("s1", "s2", "s3", "s4", "s4join")):
        problems.append(f"no {FLOOR_BIN} (make bench-build)")
    if not os.path.exists(SYMFONY_AUTOLOAD):
        problems.append("symfony/lock is not installed (bench/setup.sh)")
    if want("s7") and not os.path.exists(SEMAPHORE_AUTOLOAD):
        problems.append("symfony/semaphore is not installed (bench/setup.sh: php-symfony-semaphore)")
    ready = os.path.join(ROOT, "scripts", "kafka_ready.py")
    p = subprocess.run([sys.executable, ready, "--timeout", "10", "--quiet", args.brokers.split(",")[0]],
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        problems.append(f"no broker at {args.brokers} (make kafka-start): {p.stderr.strip()[-300:]}")
    for c in ("redis", "pgsql"):
        cmd = subprocess.run(
            ["php", "-n", "-d", "extension=igbinary", "-d", "extension=redis", "-d", "extension=pdo", "-d", "extension=pdo_pgsql",
             "-r", "new Redis();" if c == "redis" else "new PDO('pgsql:host=127.0.0.1;port=' . (getenv('BENCH_PG_PORT') ?: 5432) . ';dbname=kafka_lock_bench', 'kafka_lock_bench', 'bench');"],
            capture_output=True, text=True, timeout=30)
        if cmd.returncode != 0:
            problems.append(f"{c} not usable (bench/setup.sh): {cmd.stderr.strip()[-300:]}{cmd.stdout.strip()[-300:]}")
    if shutil.which("redis-cli"):
        ping = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", os.environ.get("BENCH_REDIS_PORT", "6379"), "ping"],
                              capture_output=True, text=True, timeout=10)
        if "PONG" not in ping.stdout:
            problems.append("redis-server does not answer on 127.0.0.1 (bench/setup.sh)")
    if problems:
        raise BenchError("not ready:\n  " + "\n  ".join(problems))


def main():
    global EXT, CONTENDERS
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smoke run, under a minute")
    ap.add_argument("--brokers", default="localhost:9092")
    ap.add_argument("--only", default="", help="comma-separated scenarios to run: s1,s2,s3,s4,s4join,s5,s6,s7,s8,s9")
    ap.add_argument("--results", default=os.path.join(BENCH, "results"))
    ap.add_argument("--contenders", default=",".join(CONTENDERS),
                    help="comma-separated subset of kafka_lock,redis,pgsql,flock (kafka_lock and redis are always run)")
    ap.add_argument("--ext", default=EXT, help="the extension to measure (default: target/release/libkafka_lock.so)")
    ap.add_argument("--keep-topics", action="store_true", help="do not delete this run's topics at the end")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override one size of the mode (MODES in this file), e.g. --set s7_limit=8 "
                         "--set s7_retry_us=100000; lists as comma-separated numbers; repeatable")
    args = ap.parse_args()
    EXT = os.path.abspath(args.ext)
    # kafka_lock and redis are the reference of every ratio, so they always run.
    CONTENDERS = [c for c in CONTENDERS if c in set(args.contenders.split(",")) | {"kafka_lock", "redis"}]
    mode = "quick" if args.quick else "full"
    for kv in args.set:
        key, _, value = kv.partition("=")
        if key not in MODES[mode] or not value:
            ap.error(f"--set {kv}: want KEY=VALUE with KEY one of {', '.join(MODES[mode])}")
        old = MODES[mode][key]
        try:
            MODES[mode][key] = [int(v) for v in value.split(",")] if isinstance(old, list) else type(old)(value)
        except ValueError:
            ap.error(f"--set {kv}: not a {type(old).__name__}")
    only = set(filter(None, args.only.split(",")))

    def want(s):
        # Scenario 8 waits out UNFOLLOW_AFTER (about 75 s): not part of the quick run.
        if s == "s8" and args.quick and not only:
            return False
        return not only or s in only

    if os.path.exists(os.path.join(ROOT, ".run", "pg_port")) and "BENCH_PG_PORT" not in os.environ:
        with open(os.path.join(ROOT, ".run", "pg_port")) as f:
            os.environ["BENCH_PG_PORT"] = f.read().strip()
    started = time.monotonic()
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    outdir = os.path.join(args.results, f"{stamp}-{mode}")
    os.makedirs(outdir, exist_ok=True)
    latest = os.path.join(args.results, "latest")
    if os.path.islink(latest) or not os.path.exists(latest):
        if os.path.islink(latest):
            os.unlink(latest)
        os.symlink(os.path.basename(outdir), latest)

    try:
        preflight(args, want)
    except BenchError as e:
        print(f"bench: {e}", file=sys.stderr)
        return 2
    r = Runner(args, mode, outdir)
    info = machine_info()
    busy_before = busy_fraction(2.0)
    info["cpu_busy_before"] = round(busy_before, 3)
    info["loadavg_before"] = os.getloadavg()
    info["others"] = other_load()
    header = [
        f"- mode: {mode}; command: `{'make bench-quick' if args.quick else 'make bench'}` "
        f"(`/usr/bin/python3 bench/run.py{' --quick' if args.quick else ''}`)"
        + (f"; sizes changed: {', '.join(args.set)}" if args.set else ""),
        f"- machine: {info.get('cores')} cores ({info.get('cpu', '?')}), {info.get('memory_gib', '?')} GiB, "
        f"Linux {info['kernel']}",
        f"- extension: {info['ext']}; repository at {info['commit']}{' with uncommitted changes in src/' if info['dirty'] else ''}",
        f"- software: PHP {info['php']}, kafka_lock {info['kafka_lock']} (librdkafka {info['librdkafka']}), "
        f"Apache Kafka {info['kafka']} (one local KRaft node), symfony/lock {info['symfony_lock']}, "
        f"symfony/semaphore {info['symfony_semaphore']}, Redis {info['redis']}, "
        f"PostgreSQL {info['postgresql']}",
        f"- load before the run: {busy_before * 100:.0f}% of all cores busy, load average {info['loadavg_before'][0]:.2f}"
        + (f"; busiest others: {', '.join(info['others'])}" if info["others"] else ""),
    ]
    print(f"kafka_lock bench, {mode} mode -> {outdir}")
    for h in header[1:]:
        print(h.replace("- ", "", 1))
    status = 0
    run_meter = LoadMeter()
    scenarios = [("s1", scenario1), ("s2", scenario2), ("s3", scenario3), ("s4", scenario4), ("s5", scenario5),
                 ("s4join", lambda r: scenario4_join(r, filled_old_at)), ("s6", scenario6), ("s7", scenario7),
                 ("s8", scenario8), ("s9", scenario9)]
    passed, failed = 0, 0
    try:
        filled_old_at = None
        if want("s4join"):
            try:
                filled_old_at = scenario4_fill_old(r)
            except (BenchError, subprocess.SubprocessError, OSError) as e:
                r.errors.append(f"filling the join topics: {e}")
        for name, fn in scenarios:
            if not want(name):
                continue
            errors_before = len(r.errors)
            try:
                fn(r)
            except (BenchError, subprocess.SubprocessError, OSError, KeyError, ValueError, ZeroDivisionError,
                    json.JSONDecodeError) as e:
                r.errors.append(f"scenario {name}: {type(e).__name__}: {e}")
            if len(r.errors) > errors_before:
                failed += 1
            else:
                passed += 1
    finally:
        if not args.keep_topics and not os.access(FLOOR_BIN, os.X_OK):
            print(f"  no {FLOOR_BIN} (make bench-build): this run's topics ({r.prefix}*) are left on the broker")
        elif not args.keep_topics:
            try:
                print("  " + r.floor_tool("delete", "--prefix", r.prefix).strip())
            except (BenchError, subprocess.SubprocessError, OSError) as e:
                print(f"  could not delete this run's topics: {e}")
    load = run_meter.done()
    header.append(f"- during the run: {load['cpu_busy'] * 100:.0f}% of all cores busy on average (this bench included), "
                  f"load average {load['loadavg_start']:.2f} at the start, {load['loadavg_end']:.2f} at the end; "
                  f"run time {time.monotonic() - started:.0f} s")
    made = plots(r) if r.tables else []
    r.results["machine"] = info
    r.results["run_load"] = load
    r.results["errors"] = r.errors
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump(r.results, f, indent=1, default=str)
    with open(os.path.join(outdir, "summary.md"), "w") as f:
        f.write(summary_md(r, info, header))
    print(f"\n{header[-1][2:]}")
    print(f"results: {outdir} (results.json, summary.md, *.csv{', ' + str(len(made)) + ' plots' if made else ''})")
    if r.errors:
        status = 1
        print("\nbench: ERRORS:", file=sys.stderr)
        for e in r.errors:
            print(f"  {e}", file=sys.stderr)
    else:
        print("bench: no errors (targets are reported above, they do not fail the run)")
    # The plain closing line CI reads: scenarios that ran without an error.
    print(f"bench: {passed} passed, {failed} failed")
    return status


if __name__ == "__main__":
    sys.exit(main())
