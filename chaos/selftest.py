#!/usr/bin/env python3
"""Self-test of the checker: hand-made histories with one known fault each must be flagged
with exactly the violation or failed check it plants (and a clean one must pass), so a green
chaos run means something. Also the suite's verdict (interrupted, nothing ran, runs missing)
and the brokers' cluster-id generator. run.py runs this first (so `make test` does).

usage: selftest.py  (exit 1 if the checker misses a planted fault or flags a clean history)
"""
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import brokers  # noqa: E402
import checker  # noqa: E402
import replay  # noqa: E402

MS = 1_000_000  # ns
WALL0 = 1_800_000_000.0  # seconds; wall = WALL0 + t/1e9 in these histories


def acq(owner, seq, ttl=1000, mode=None, limit=None, weight=None):
    d = {"v": 1, "op": "acquire", "owner": owner, "seq": seq, "ttl": ttl}
    if mode is not None:
        d["mode"] = mode
    if mode == "semaphore":
        d.update(limit=limit, weight=weight)
    return json.dumps(d).encode()


def rel(owner, ref):
    return json.dumps({"v": 1, "op": "release", "owner": owner, "ref": ref}).encode()


class H:
    """Builds one run folder."""

    def __init__(self, **params):
        self.dir = tempfile.mkdtemp(prefix="kl-chaos-selftest-")
        self.workers = {}
        self.store = []
        self.log = []
        self.faults = []
        self.meta = {"scenario": "selftest", "params": {"ttl": 1.0, **params}, "t_end": 10_000 * MS, "exit_codes": {},
                     "stragglers": []}
        self.omit = set()       # files not to write (as if lost)
        self.garble = {}        # file -> text appended to it (a corrupt line)
        self.forged = None      # forged.jsonl lines (the forge scenario's writer), if any
        self.log_extra = {}     # more fields of log.json (gaps, ...)

    def w(self, pid, ev):
        ev["pid"] = pid
        self.workers.setdefault(pid, []).append(ev)

    def hold(self, pid, lock, token, t0, t1, held=True, write=True, value=None, rel_ok=True):
        self.w(pid, {"ev": "acq", "lock": lock, "t": t0 - 5 * MS, "wall": WALL0 + (t0 - 5 * MS) / 1e9})
        self.w(pid, {"ev": "cs_start", "lock": lock, "token": token, "t": t0, "wall": WALL0 + t0 / 1e9, "t_acq": t0 - 5 * MS})
        if value is not None:
            self.store_op("read", lock, token, pid, t0 + MS, True, value=value)
            if write:
                self.store_op("write", lock, token, pid, t1 - MS, True, value=value + 1, prev=value)
        self.w(pid, {"ev": "cs_end", "lock": lock, "token": token, "t_chk": t1, "wall_chk": WALL0 + t1 / 1e9,
                     "held": held, "t": t1, "read_ok": True, "write_ok": write if value is not None else None})
        self.w(pid, {"ev": "rel", "lock": lock, "token": token, "ok": rel_ok, "t0": t1 + MS, "t": t1 + 2 * MS})

    def shared_hold(self, pid, lock, token, t0, t1, mode="shared", limit=None, weight=None, held=True, read=True,
                    leave=True, rel_ok=True):
        """A reader's (mode shared) or a share's (mode semaphore) critical section: a read at its
        start and a leave at its end (ok as given; None: no such access)."""
        m = {"mode": mode, **({"limit": limit, "weight": weight} if mode == "semaphore" else {})}
        self.w(pid, {"ev": "acq", "lock": lock, "t": t0 - 5 * MS, "wall": WALL0 + (t0 - 5 * MS) / 1e9, **m})
        self.w(pid, {"ev": "cs_start", "lock": lock, "token": token, "t": t0, "wall": WALL0 + t0 / 1e9,
                     "t_acq": t0 - 5 * MS, **m})
        if read is not None:
            self.store_op("read", lock, token, pid, t0 + MS, read, **m, **({"value": 0} if read else {"max": 99}))
        if leave is not None:
            self.store_op("leave", lock, token, pid, t1 - MS, leave, **m, **({"value": 0} if leave else {"max": 99}))
        self.w(pid, {"ev": "cs_end", "lock": lock, "token": token, "t_chk": t1, "wall_chk": WALL0 + t1 / 1e9,
                     "held": held, "t": t1, "read_ok": read, "leave_ok": leave, **m})
        self.w(pid, {"ev": "rel", "lock": lock, "token": token, "ok": rel_ok, "t0": t1 + MS, "t": t1 + 2 * MS})

    def store_op(self, op, lock, token, pid, t, ok, **kw):
        e = {"seq": len(self.store), "t": t, "op": op, "lock": lock, "token": token, "pid": pid, "ok": ok}
        e.update(kw)
        self.store.append(e)

    def rec(self, t_ns, key, value):
        self.log.append({"offset": len(self.log), "timestamp": int((WALL0 + t_ns / 1e9) * 1000), "log_append": True,
                         "key": base64.b64encode(key).decode(), "value": base64.b64encode(value).decode()})

    def write(self):
        files = {"w-%d.jsonl" % pid: "".join(json.dumps(e) + "\n" for e in evs) for pid, evs in self.workers.items()}
        files["store.jsonl"] = "".join(json.dumps(e) + "\n" for e in self.store)
        files["faults.jsonl"] = "".join(json.dumps(e) + "\n" for e in self.faults)
        files["log.json"] = json.dumps({"topic": "t", "partitions": {"0": self.log}, **self.log_extra})
        if self.forged is not None:
            files["forged.jsonl"] = "".join(json.dumps(e) + "\n" for e in self.forged)
        self.meta.setdefault("workers", {str(pid): "w-%d.jsonl" % pid for pid in self.workers})
        files["meta.json"] = json.dumps(self.meta)
        for name, text in files.items():
            if name not in self.omit:
                with open(os.path.join(self.dir, name), "w") as f:
                    f.write(text + self.garble.get(name, ""))
        return self.dir


LOG_JSON = "log.json missing or unreadable: the log-based checks (grants, FIFO, views) did not run"


def kinds(r):
    return {v["kind"] for v in r["violations"]}, {f["kind"] for f in r["failures"]}


def exactly(violations=(), failures=()):
    """The checker reports these kinds of violations and failed checks, and no others."""
    return lambda r: kinds(r) == (set(violations), set(failures))


def clean_pair(h, overlap=False, held=True, second_token=2):
    """pid 1 holds token 0 (0..100 ms), pid 2 holds token second_token from 150 ms (or 50 ms)."""
    h.rec(0, b"hot", acq("host/1/a/0", 0))
    h.rec(10 * MS, b"hot", acq("host/2/b/0", 0))
    h.rec(110 * MS, b"hot", rel("host/1/a/0", 0))
    h.hold(1, "hot", 0, 1 * MS, 100 * MS, held=held, value=0)
    start = 50 * MS if overlap else 150 * MS
    h.hold(2, "hot", second_token if second_token != 2 else 1, start, start + 40 * MS, value=1)


def case_clean():
    h = H()
    clean_pair(h)
    return h, lambda r: exactly()(r) and r["acquisitions"] == 2 and r["writes_accepted"] == 2


def case_overlap():
    h = H()
    clean_pair(h, overlap=True)
    # pid 2 starts at 50 ms, while pid 1 holds (to 100 ms) and before the log granted it.
    return h, lambda r: r["overlaps"] == 1 and r["overlaps_excused"] == 0 and exactly(violations={
        "overlap", "isAcquired() true after another process was granted",
        "critical section started before the log granted it"})(r)


def case_lost_update():
    h = H()
    h.rec(0, b"hot", acq("host/1/a/0", 0))
    h.rec(200 * MS, b"hot", rel("host/1/a/0", 0))
    h.rec(201 * MS, b"hot", acq("host/2/b/0", 0))
    h.hold(1, "hot", 0, 1 * MS, 100 * MS, value=0)
    h.hold(2, "hot", 2, 250 * MS, 300 * MS, value=0)  # computed from a stale value: 0 again
    for e in h.store:
        if e["pid"] == 2 and e["op"] == "write":
            e["prev"] = 1  # the store logs the counter it overwrote
    return h, lambda r: r["lost_updates"] == 2 and exactly(violations={"lost update", "counter not exact"})(r)


def case_token_order():
    h = H()
    h.rec(0, b"hot", acq("host/1/a/0", 0))
    h.rec(1 * MS, b"hot", acq("host/2/b/0", 0))
    h.rec(200 * MS, b"hot", rel("host/1/a/0", 0))
    h.hold(2, "hot", 1, 1 * MS, 100 * MS)  # pid 2 claims to hold before pid 1, out of log order
    h.hold(1, "hot", 0, 150 * MS, 190 * MS)
    return h, lambda r: r["token_violations"] >= 1 and r["fifo_overtakes"] >= 1 and exactly(violations={
        "grant out of token order", "critical section started before the log granted it"})(r)


def case_never_granted():
    h = H()
    h.rec(0, b"hot", acq("host/1/a/0", 0))
    h.hold(1, "hot", 0, 1 * MS, 100 * MS)
    h.hold(2, "hot", 7, 150 * MS, 160 * MS)  # no such acquire in the log
    return h, lambda r: r["token_violations"] == 1 and exactly(violations={"hold of a token the log never granted"})(r)


def case_view_after_deadline():
    h = H()
    h.rec(0, b"hot", acq("host/1/a/0", 0, ttl=1000))
    h.rec(1500 * MS, b"hot", json.dumps({"v": 1, "op": "tick"}).encode())
    h.hold(1, "hot", 0, 1 * MS, 1200 * MS, held=True)  # saw its lease valid 200 ms past the deadline
    return h, lambda r: r["view_violations"] == 1 and exactly(
        violations={"holder saw its lease valid after the log's deadline"})(r)


def case_excused_pause():
    """A paused holder (own view false) whose late write the store refused: excused."""
    h = H()
    h.rec(0, b"hot", acq("host/1/a/0", 0))
    h.rec(10 * MS, b"hot", acq("host/2/b/0", 0, ttl=5000))
    h.rec(1100 * MS, b"hot", json.dumps({"v": 1, "op": "tick"}).encode())
    h.w(1, {"ev": "cs_start", "lock": "hot", "token": 0, "t": 1 * MS, "wall": WALL0 + 0.001, "t_acq": 0})
    h.store_op("read", "hot", 0, 1, 2 * MS, True, value=0)
    h.w(2, {"ev": "cs_start", "lock": "hot", "token": 1, "t": 1200 * MS, "wall": WALL0 + 1.2, "t_acq": 10 * MS})
    h.store_op("read", "hot", 1, 2, 1201 * MS, True, value=0)
    h.store_op("write", "hot", 1, 2, 1202 * MS, True, value=1, prev=0)
    h.w(2, {"ev": "cs_end", "lock": "hot", "token": 1, "t_chk": 1210 * MS, "wall_chk": WALL0 + 1.21, "held": True,
            "t": 1210 * MS, "read_ok": True, "write_ok": True})
    h.store_op("write", "hot", 0, 1, 3000 * MS, False, max=1)
    h.w(1, {"ev": "cs_end", "lock": "hot", "token": 0, "t_chk": 3001 * MS, "wall_chk": WALL0 + 3.001, "held": False,
            "t": 3001 * MS, "read_ok": True, "write_ok": False})
    h.w(1, {"ev": "rel", "lock": "hot", "token": 0, "ok": False, "t0": 3002 * MS, "t": 3003 * MS})
    return h, lambda r: r["overlaps"] == 1 and r["overlaps_excused"] == 1 and exactly()(r)


def case_stale_write_accepted():
    """Same, but the store accepted the paused holder's write after the newer holder's access.
    The write counts up correctly (1 -> 2, no lost update, the counter exact): only the
    overlap itself, not excused because of that accepted write, can flag it."""
    h, _ = case_excused_pause()
    for e in h.store:
        if e["pid"] == 1 and e["op"] == "write":
            e.update(ok=True, value=2, prev=1)
            e.pop("max", None)

    def ok(r):
        ov = [v for v in r["violations"] if v["kind"] == "overlap"]
        return (exactly(violations={"overlap"})(r) and r["overlaps_excused"] == 0 and len(ov) == 1
                and ov[0]["older_accesses_after_newer"] == [{"op": "write", "ok": True}])
    return h, ok


# ---- scenario checks the cases above did not plant ------------------------------------------

def case_granted_to_other():
    """pid 1 holds token 0, which the log granted to pid 2."""
    h = H()
    h.rec(0, b"hot", acq("host/2/b/0", 0))
    h.hold(1, "hot", 0, 1 * MS, 100 * MS, value=0)
    return h, exactly(violations={"hold of a token the log granted to another process"})


def case_worker_crash():
    """pid 1 dies inside its critical section without being killed by the runner; pid 2
    finishes its work but exits with 255 (a PHP fatal error)."""
    h = H()
    h.rec(0, b"hot", acq("host/1/a/0", 0))
    h.rec(1 * MS, b"m0", acq("host/2/b/0", 0))
    h.w(1, {"ev": "cs_start", "lock": "hot", "token": 0, "t": 2 * MS, "wall": WALL0 + 0.002, "t_acq": 1 * MS})
    h.hold(2, "m0", 1, 3 * MS, 50 * MS, value=0)
    h.meta["exit_codes"] = {"2": 255}
    return h, lambda r: exactly(violations={"worker crash"})(r) and sorted(c["pid"] for c in r["crashes"]) == [1, 2]


def case_counter_not_exact():
    """Every accepted write is its read + 1, but the final counter (6) is not the number of
    accepted writes (2): an increment that the store's log does not show."""
    h = H()
    clean_pair(h)
    for e in h.store:
        if e["pid"] == 2:
            e["value"] += 4
            if "prev" in e:
                e["prev"] += 4
    return h, exactly(violations={"counter not exact"})


def case_token_reuse():
    """The fenced store saw token 0 from pid 1, then from pid 2."""
    h = H()
    h.rec(0, b"hot", acq("host/1/a/0", 0))
    h.hold(1, "hot", 0, 1 * MS, 100 * MS, value=0)
    h.store_op("read", "hot", 0, 2, 150 * MS, True, value=1, token_reuse_of=1)
    return h, exactly(violations={"token reuse (fenced store)"})


# ---- failed checks: a run that checked too little, or whose history is incomplete ----------

def case_too_few_acquisitions():
    h = H(min_acq=3)
    clean_pair(h)
    return h, exactly(failures={"fewer acquisitions than the scenario's minimum"})


def case_kill_after_cs_does_not_count():
    """The only kill landed after its victim's critical section: no fault landed, so a
    scenario that needs one failed its coverage (and the kill checks nothing)."""
    h = H(min_faults=1)
    clean_pair(h)
    h.faults.append({"kind": "kill", "fault": True, "pid": 1, "lock": "hot", "token": 0, "waiters": 1, "t": 105 * MS})
    return h, lambda r: exactly(failures={"fewer faults landed than the scenario's minimum"})(r) and r["faults_landed"] == 0


def kill_inside_cs(h, next_holder=True):
    """pid 1 is killed inside its critical section (its last log line torn by the kill); pid 2
    waits and, if next_holder, holds the lock 0.9 s later."""
    h.rec(0, b"hot", acq("host/1/a/0", 0))
    h.rec(10 * MS, b"hot", acq("host/2/b/0", 0, ttl=5000))
    h.rec(1100 * MS, b"hot", json.dumps({"v": 1, "op": "tick"}).encode())
    h.w(1, {"ev": "acq", "lock": "hot", "t": 0, "wall": WALL0})
    h.w(1, {"ev": "cs_start", "lock": "hot", "token": 0, "t": 1 * MS, "wall": WALL0 + 0.001, "t_acq": 0})
    h.store_op("read", "hot", 0, 1, 2 * MS, True, value=0)
    h.garble["w-1.jsonl"] = '{"ev":"cs_e'
    h.faults.append({"kind": "kill", "fault": True, "pid": 1, "lock": "hot", "token": 0, "waiters": 1, "t": 200 * MS})
    h.meta["exit_codes"] = {"1": -9}
    if next_holder:
        h.w(2, {"ev": "acq", "lock": "hot", "t": 10 * MS, "wall": WALL0 + 0.01})
        h.hold(2, "hot", 1, 1150 * MS, 1200 * MS, value=0)
    else:
        h.w(2, {"ev": "start", "t": 0})
    return h


def case_kill_clean():
    """A kill that landed, a torn last line of the victim's log (allowed: it was killed), the
    next holder within TTL + 1 s: no violation, no failed check."""
    h = kill_inside_cs(H(min_faults=1))
    return h, lambda r: exactly()(r) and r["faults_landed"] == 1 and r["expectations"]["kill_next_holder_s"] == [0.95]


def case_no_next_holder_after_kill():
    h = kill_inside_cs(H(), next_holder=False)
    return h, exactly(failures={"expectation missed: no next holder after kill -9"})


def case_known_liveness_bug():
    """The same, in a scenario that shows an open bug: reported apart, not a failed check."""
    h = kill_inside_cs(H(known_liveness_bug="bug n"), next_holder=False)
    return h, lambda r: exactly()(r) and [x["kind"] for x in r["known_failures"]] == [
        "expectation missed: no next holder after kill -9"]


def case_torn_line_of_a_live_worker():
    """A line that is not JSON in the log of a worker nobody killed."""
    h = H()
    clean_pair(h)
    h.garble["w-2.jsonl"] = "garbage\n" + json.dumps({"ev": "end", "pid": 2, "t": 300 * MS}) + "\n"
    return h, exactly(failures={"worker log line 5 is not a JSON object"})


def case_worker_log_missing():
    h = H()
    clean_pair(h)
    h.omit.add("w-2.jsonl")
    return h, exactly(failures={"worker log missing"})


def case_worker_log_empty():
    h = H()
    clean_pair(h)
    h.workers[3] = []
    return h, exactly(failures={"worker log empty"})


def case_meta_missing():
    h = H()
    clean_pair(h)
    h.omit.add("meta.json")
    return h, exactly(failures={"meta.json missing or unreadable", "meta.json does not list the workers' logs"})


def case_log_json_missing():
    h = H()
    clean_pair(h)
    h.omit.add("log.json")
    return h, lambda r: exactly(failures={LOG_JSON})(r) and "log_grants" not in r


def case_log_json_unreadable():
    h = H()
    clean_pair(h)
    h.garble["log.json"] = "}"
    return h, exactly(failures={LOG_JSON})


def case_store_log_missing():
    h = H()
    clean_pair(h)
    h.omit.add("store.jsonl")
    return h, lambda r: {f["kind"].split(" (")[0] for f in r["failures"]} == {"store.jsonl missing or unreadable"}


def case_meta_lists_no_workers():
    """A meta.json without the runner's list of workers: no way to tell a log is missing."""
    h = H()
    clean_pair(h)
    h.meta["workers"] = None
    return h, exactly(failures={"meta.json does not list the workers' logs"})


def exception_in_acquire(h):
    clean_pair(h)
    h.w(2, {"ev": "acq", "lock": "hot", "t": 300 * MS, "wall": WALL0 + 0.3})
    h.w(2, {"ev": "exc", "where": "acquire", "lock": "hot", "class": "DistributedLockConnectionException",
            "msg": "not seen back", "t": 310 * MS})
    return h


def case_unexpected_exception():
    """An acquire exception in a scenario that does not take the broker away."""
    return exception_in_acquire(H()), exactly(failures={"exception the scenario does not expect"})


def case_allowed_exception():
    """The same exception where the scenario allows it: counted, not a failure."""
    h = exception_in_acquire(H(allowed_exceptions=["DistributedLockConnectionException"]))
    return h, lambda r: exactly()(r) and r["acquire_errors"] == 1


def case_stuck_waiter():
    """pid 3 called acquireLock() and never returned; the runner killed it at the end."""
    h = H()
    clean_pair(h)
    h.w(3, {"ev": "acq", "lock": "hot", "t": 300 * MS, "wall": WALL0 + 0.3})
    h.meta.update(stragglers=[3], grace_s=5)
    return h, lambda r: exactly(failures={"stuck"})(r) and len(r["failures"]) == 1


def case_acquire_timed_out():
    """pid 3's acquireLock() returned false after waiting the run's liveness bound."""
    h = H()
    clean_pair(h)
    h.w(3, {"ev": "acq", "lock": "hot", "t": 300 * MS, "wall": WALL0 + 0.3})
    h.w(3, {"ev": "acq_timeout", "lock": "hot", "t": 8300 * MS, "waited": 8.0})
    h.meta["liveness_bound_s"] = 8
    return h, exactly(failures={"stuck"})


def case_straggler():
    """pid 3 was still running (not in acquireLock()) when the runner gave up on it."""
    h = H()
    clean_pair(h)
    h.w(3, {"ev": "start", "t": 0})
    h.meta["stragglers"] = [3]
    return h, exactly(failures={"stuck"})


# ---- issue 10: forged records, deleted history, refused topics --------------------------------

# Release secrets of planted requests (random, as a session's are), and their commitments.
SECRET1, SECRET2, SECRET_OTHER = os.urandom(32), os.urandom(32), os.urandom(32)


def commit(secret):
    """The commitment to `secret` (lowercase hex of its SHA-256), as acquires and renews carry it."""
    return hashlib.sha256(secret).hexdigest()


def sacq(owner, seq, secret, ttl=1000):
    """A committed acquire (the current format: the commitment to the request's release secret,
    and a nonce)."""
    return json.dumps({"v": 1, "op": "acquire", "owner": owner, "seq": seq, "ttl": ttl,
                       "commit": commit(secret), "nonce": "ab" * 16}).encode()


def srel(owner, ref, secret):
    """A release revealing `secret` (it counts only for the request committed to it)."""
    return json.dumps({"v": 1, "op": "release", "owner": owner, "ref": ref, "secret": secret.hex()}).encode()


def forged_line(kind, offset, key="hot", target=None, owner=None):
    return {"t": 0, "kind": kind, "partition": 0, "offset": offset, "key": key, "target": target, "owner": owner}


def case_committed_clean():
    """Committed requests, each released with its own secret: a clean hand-off (pid 2 acting on
    pid 1's release would be flagged if the replay refused the right secret)."""
    h = H()
    h.rec(0, b"hot", sacq("host/1/a/0", 0, SECRET1))
    h.rec(10 * MS, b"hot", sacq("host/2/b/0", 0, SECRET2))
    h.rec(110 * MS, b"hot", srel("host/1/a/0", 0, SECRET1))
    h.hold(1, "hot", 0, 1 * MS, 100 * MS, value=0)
    h.hold(2, "hot", 1, 150 * MS, 190 * MS, value=1)
    return h, lambda r: exactly()(r) and r["acquisitions"] == 2


def case_release_without_its_secret():
    """pid 1's committed request is 'released' by a record without a secret, then by one with a
    secret copied from another release (of another request), then by one whose secret is the
    commitment itself (copied from the acquire): the log keeps pid 1's request (to its expiry
    at 1000 ms), so pid 2 acting on the release acted before the log granted it."""
    h = H()
    h.rec(0, b"hot", sacq("host/1/a/0", 0, SECRET1))
    h.rec(10 * MS, b"hot", sacq("host/2/b/0", 0, SECRET2, ttl=5000))
    h.rec(105 * MS, b"hot", rel("host/1/a/0", 0))
    h.rec(110 * MS, b"hot", srel("host/1/a/0", 0, SECRET_OTHER))  # another request's secret
    h.rec(115 * MS, b"hot", json.dumps({"v": 1, "op": "release", "owner": "host/1/a/0", "ref": 0,
                                        "secret": commit(SECRET1)}).encode())
    h.rec(1100 * MS, b"hot", json.dumps({"v": 1, "op": "tick"}).encode())  # pid 1's lease ends: pid 2 granted
    h.hold(1, "hot", 0, 1 * MS, 100 * MS, value=0)
    h.hold(2, "hot", 1, 150 * MS, 190 * MS, value=1)
    return h, exactly(violations={"critical section started before the log granted it"})


def case_short_renew_does_not_shorten():
    """A copied renew asking for 1 ms (prev in the future) keeps pid 1's lease at 1000 ms: pid 1
    seeing its lease valid at 800 ms is fine. (If a renew lowered the ttl, the deadline would be
    101 ms and the checker would flag pid 1's view.)"""
    h = H()
    h.rec(0, b"hot", sacq("host/1/a/0", 0, SECRET1))
    h.rec(100 * MS, b"hot", json.dumps({"v": 1, "op": "renew", "owner": "host/1/a/0", "ref": 0,
                                        "prev": int((WALL0 + 5) * 1000), "ttl": 1,
                                        "commit": commit(SECRET1)}).encode())
    h.rec(300 * MS, b"hot", json.dumps({"v": 1, "op": "tick"}).encode())
    h.rec(850 * MS, b"hot", srel("host/1/a/0", 0, SECRET1))
    h.hold(1, "hot", 0, 1 * MS, 800 * MS, value=0)
    h.forged = [forged_line("renew_short", 1, target=0, owner="host/1/a/0")]
    return h, lambda r: exactly()(r) and r["forged"] == {"renew_short": {"renewed": 1}}


def case_renew_wrong_commitment():
    """A renew copying pid 1's owner and ref but naming another commitment changes nothing:
    pid 1's lease ends at 1000 ms, and pid 1 seeing it valid at 1400 ms is a view violation."""
    h = H()
    h.rec(0, b"hot", sacq("host/1/a/0", 0, SECRET1))
    h.rec(900 * MS, b"hot", json.dumps({"v": 1, "op": "renew", "owner": "host/1/a/0", "ref": 0,
                                        "prev": int((WALL0 + 0.9) * 1000), "ttl": 1000,
                                        "commit": commit(SECRET2)}).encode())
    h.rec(1500 * MS, b"hot", json.dumps({"v": 1, "op": "tick"}).encode())
    h.hold(1, "hot", 0, 1 * MS, 1400 * MS, value=0)
    return h, exactly(violations={"holder saw its lease valid after the log's deadline"})


def case_proof_field_not_lowercase_hex():
    """An acquire whose commit is upper-case hex is malformed (every replayer rejects it): the
    log never granted its token."""
    h = H()
    h.rec(0, b"hot", json.dumps({"v": 1, "op": "acquire", "owner": "host/1/a/0", "seq": 0, "ttl": 1000,
                                 "commit": commit(SECRET1).upper()}).encode())
    h.hold(1, "hot", 0, 1 * MS, 100 * MS, value=0)
    return h, exactly(violations={"hold of a token the log never granted"})


def case_ed25519_fields_are_malformed():
    """An acquire of the Ed25519 format (`pub` and a nonce) is malformed now (unknown field):
    the log never granted its token."""
    h = H()
    h.rec(0, b"hot", json.dumps({"v": 1, "op": "acquire", "owner": "host/1/a/0", "seq": 0, "ttl": 1000,
                                 "pub": commit(SECRET1), "nonce": "ab" * 16}).encode())
    h.hold(1, "hot", 0, 1 * MS, 100 * MS, value=0)
    return h, exactly(violations={"hold of a token the log never granted"})


def case_forged_acquire_held():
    """pid 1 holds the token of an acquire the forger wrote in its name (its seq, a 1 ms lease,
    a nonce pid 1 did not make): pid 1 took a stranger's record for its own."""
    h = H()
    h.rec(0, b"hot", json.dumps({"v": 1, "op": "acquire", "owner": "host/1/a/0", "seq": 1, "ttl": 1000,
                                 "commit": commit(SECRET1), "nonce": "cd" * 16}).encode())
    h.rec(200 * MS, b"hot", srel("host/1/a/0", 0, SECRET1))
    h.hold(1, "hot", 0, 1 * MS, 100 * MS, value=0)
    h.forged = [forged_line("acquire_nextseq", 0, target=None, owner="host/1/a/0")]
    return h, lambda r: exactly(violations={"hold of a forged acquire"})(r) and r["token_violations"] == 1


def case_forged_release_ends_request():
    """A forged release that the log accepts (it carries the right secret: the planted forger
    has pid 1's) ends pid 1's request: a writer ended another's request."""
    h = H()
    h.rec(0, b"hot", sacq("host/1/a/0", 0, SECRET1))
    h.rec(45 * MS, b"hot", srel("host/1/a/0", 0, SECRET1))
    h.rec(50 * MS, b"hot", srel("host/1/a/0", 0, SECRET1))
    h.hold(1, "hot", 0, 1 * MS, 40 * MS, value=0)
    h.forged = [forged_line("release_copysecret", 1, target=0, owner="host/1/a/0")]
    return h, exactly(violations={"forged record ended a request"})


def case_log_gap():
    """The runner's tailer missed records that were deleted before it read them."""
    h = H()
    clean_pair(h)
    h.log_extra = {"gaps": [{"partition": 0, "from": 3, "to": 9, "t": 0}]}
    return h, exactly(failures={"log.json incomplete: records were deleted before the runner read them"})


def truncation(h, upto, joiners=(), lagging=None, excuse_s=80):
    """The runner's record of a truncation at 200 ms: every offset below `upto` deleted."""
    h.faults.append({"kind": "truncate", "fault": True, "recover": "none", "t": 200 * MS, "wall": WALL0 + 0.2,
                     "lock": "hot", "offsets": {"0": upto}, "joiners": list(joiners), "lagging": lagging,
                     "excuse_waits_s": excuse_s})


def truncated(h, excuse_s):
    """A truncation of the hot lock's partition at 200 ms (everything below offset 2 deleted:
    pid 2's acquire, alive then), then pid 3 waits from 300 ms and times out 8 s later."""
    clean_pair(h)
    truncation(h, 2, excuse_s=excuse_s)
    h.w(3, {"ev": "acq", "lock": "hot", "t": 300 * MS, "wall": WALL0 + 0.3})
    h.w(3, {"ev": "acq_timeout", "lock": "hot", "t": 8300 * MS, "waited": 8.0})
    h.meta["liveness_bound_s"] = 8
    return h


def case_wait_after_deleted_history():
    """A wait that began within excuse_waits_s after a truncation is expected, not stuck; the
    truncation removed pid 2's live acquire (token 1, waiting then), so it landed."""
    h = truncated(H(min_faults=1), excuse_s=5)
    return h, lambda r: (exactly()(r) and r["expected_waits"] == 1 and r["faults_landed"] == 1
                         and r["expectations"]["live_acquires_deleted"] == 1)


def case_wait_after_the_excuse():
    """The same wait, but it began after the truncation's excuse ended: stuck."""
    h = truncated(H(), excuse_s=0.05)
    return h, exactly(failures={"stuck"})


def case_deletion_of_nothing_live():
    """A deletion that removed no live request's acquire did not land."""
    h = H(min_faults=1)
    clean_pair(h)
    h.rec(250 * MS, b"hot", rel("host/2/b/0", 1))
    h.faults.append({"kind": "retention_delete", "fault": True, "recover": "none", "t": 300 * MS,
                     "wall": WALL0 + 0.3, "partition": 0, "from": 0, "to": 3})
    return h, exactly(failures={"fewer faults landed than the scenario's minimum"})


def case_joiner_trusts_early(lagging=False):
    """pid 3 started after a truncation; its first record is 100 ms after it, and it holds 1 s
    later: within the join window (70 s of log time), where it cannot know whether a live
    request's records were deleted."""
    h = H()
    clean_pair(h)
    truncation(h, 3, joiners=[] if lagging else [3], lagging=3 if lagging else None)
    h.rec(250 * MS, b"hot", rel("host/2/b/0", 1))
    h.rec(300 * MS, b"hot", acq("host/3/c/0", 0, ttl=5000))
    h.hold(3, "hot", 4, 1300 * MS, 1400 * MS, value=2)
    return h, lambda r: exactly(violations={"joiner trusted a grant within the join window after deleted history"})(r) \
        and r["view_violations"] == 1


def case_lagging_holder_trusts_early():
    """The same for pid 3 as the holder stopped across the deletion (its consumer resumed below
    the log start, so it joins again)."""
    return case_joiner_trusts_early(lagging=True)


def case_joiner_waits_the_window():
    """The same joiner holding 71 s after its first record: as the protocol says."""
    h = H()
    clean_pair(h)
    truncation(h, 3, joiners=[3])
    h.rec(250 * MS, b"hot", rel("host/2/b/0", 1))
    h.rec(300 * MS, b"hot", acq("host/3/c/0", 0, ttl=60000))
    h.rec(59000 * MS, b"hot", json.dumps({"v": 1, "op": "renew", "owner": "host/3/c/0", "ref": 4,
                                          "prev": int((WALL0 + 0.3) * 1000), "ttl": 60000}).encode())
    h.hold(3, "hot", 4, 71300 * MS, 71400 * MS, value=2)
    return h, lambda r: exactly()(r) and r["expectations"]["joiner_first_hold_s"] == [71.1]


def case_joiner_never_held():
    """A run that went on well past the truncation's excuse, and the joiner never held."""
    h = H(duration=200)
    clean_pair(h)
    truncation(h, 3, joiners=[3])
    h.w(3, {"ev": "start", "t": 100 * MS})
    return h, exactly(failures={"expectation missed: a joiner never held after deleted history"})


REFUSAL = {"class": "DistributedLockTopicException", "names": "cleanup.policy"}


def refused_workers(h, pids=(1, 2), msg="topic 't' has cleanup.policy=compact: ..."):
    for pid in pids:
        h.w(pid, {"ev": "start", "t": 0})
        h.w(pid, {"ev": "exc", "where": "construct", "class": "DistributedLockTopicException", "msg": msg, "t": MS})
        h.meta["exit_codes"][str(pid)] = 3
    h.faults.append({"kind": "refused_topic", "fault": True, "recover": "none", "t": 0, "workers": len(pids)})
    return h


def case_topic_refused():
    h = refused_workers(H(expect_refusal=REFUSAL, allowed_exceptions=[REFUSAL["class"]], min_acq=0, min_faults=2))
    return h, lambda r: exactly()(r) and r["refused"] == 2 and r["faults_landed"] == 2


def case_locked_on_refused_topic():
    """pid 3 was not refused and locked on the topic."""
    h = refused_workers(H(expect_refusal=REFUSAL, allowed_exceptions=[REFUSAL["class"]], min_acq=0))
    h.rec(0, b"hot", acq("host/3/c/0", 0))
    h.hold(3, "hot", 0, 1 * MS, 100 * MS, value=0)
    return h, exactly(failures={"locked on a topic that must be refused"})


def case_refused_for_another_reason():
    """The constructor threw the right class, but its message does not name cleanup.policy (and
    the worker's exit is then a crash like any other)."""
    h = refused_workers(H(expect_refusal=REFUSAL, allowed_exceptions=[REFUSAL["class"]], min_acq=0),
                        pids=(1,), msg="topic 't' stamps records with the producer's clock (CreateTime)")
    return h, exactly(violations={"worker crash"},
                      failures={"worker not refused as expected (DistributedLockTopicException naming cleanup.policy)"})


CASES_ISSUE_10 = [case_committed_clean, case_release_without_its_secret, case_short_renew_does_not_shorten,
                  case_renew_wrong_commitment, case_proof_field_not_lowercase_hex, case_ed25519_fields_are_malformed,
                  case_forged_acquire_held, case_forged_release_ends_request, case_log_gap,
                  case_wait_after_deleted_history, case_wait_after_the_excuse, case_deletion_of_nothing_live,
                  case_joiner_trusts_early, case_lagging_holder_trusts_early, case_joiner_waits_the_window, case_joiner_never_held, case_topic_refused,
                  case_locked_on_refused_topic, case_refused_for_another_reason]


# ---- shared locks and semaphores (worker.php --mode; docs/reliability.md) --------------------

SHARED = {"mode": "shared"}


def sem(limit, weight):
    return {"mode": "semaphore", "limit": limit, "weight": weight}


def case_readers_overlap():
    """Two readers of one lock, granted together, overlapping (and starting out of token order,
    as readers granted at once may): clean, counted as holds together."""
    h = H()
    h.rec(0, b"rw", acq("host/1/a/0", 0, **SHARED))
    h.rec(10 * MS, b"rw", acq("host/2/b/0", 0, **SHARED))
    h.rec(130 * MS, b"rw", rel("host/1/a/0", 0))
    h.rec(140 * MS, b"rw", rel("host/2/b/0", 1))
    h.shared_hold(1, "rw", 0, 20 * MS, 100 * MS)
    h.shared_hold(2, "rw", 1, 15 * MS, 120 * MS)
    return h, lambda r: (exactly()(r) and r["together"] == 1 and r["overlaps"] == 0
                         and r["max_readers"] == {"rw": 2} and r["store_view_violations"] == 0)


def case_writer_overlaps_reader():
    """pid 2 logs itself a writer (exclusive: it reads and writes the counter) but its acquire
    in the log is shared (it took the read path): the log grants it beside pid 1's read hold,
    and the two overlap while both trust their holds. The store refuses pid 1's leave (a writer
    with a larger token wrote), so only the workers' view shows it."""
    h = H()
    h.rec(0, b"rw", acq("host/1/a/0", 0, **SHARED))
    h.rec(10 * MS, b"rw", acq("host/2/b/0", 0, **SHARED))
    h.rec(110 * MS, b"rw", rel("host/1/a/0", 0))
    h.rec(120 * MS, b"rw", rel("host/2/b/0", 1))
    h.w(1, {"ev": "cs_start", "lock": "rw", "token": 0, "t": 1 * MS, "wall": WALL0 + 0.001, "t_acq": 0, **SHARED})
    h.store_op("read", "rw", 0, 1, 2 * MS, True, value=0, **SHARED)
    h.hold(2, "rw", 1, 20 * MS, 70 * MS, value=0)
    h.store_op("leave", "rw", 0, 1, 99 * MS, False, max=1, **SHARED)
    h.w(1, {"ev": "cs_end", "lock": "rw", "token": 0, "t_chk": 100 * MS, "wall_chk": WALL0 + 0.1, "held": True,
            "t": 100 * MS, "read_ok": True, "leave_ok": False, **SHARED})
    h.w(1, {"ev": "rel", "lock": "rw", "token": 0, "ok": True, "t0": 101 * MS, "t": 102 * MS})

    def ok(r):
        ov = [v for v in r["violations"] if v["kind"] == "overlap"]
        return (exactly(violations={"overlap", "isAcquired() true after another process was granted",
                                    "hold in another mode than its request in the log"})(r)
                and r["overlaps"] == 1 and r["overlaps_excused"] == 0 and len(ov) == 1
                and {ov[0]["older"]["mode"], ov[0]["newer"]["mode"]} == {"shared", "exclusive"})
    return h, ok


def case_paused_reader_fenced():
    """A reader paused past its lease; the writer behind it is granted by the log, reads and
    writes; the store refuses the resumed reader's leave (a writer with a larger token touched
    the lock): an excused overlap, as for exclusive locks."""
    h = H()
    h.rec(0, b"rw", acq("host/1/a/0", 0, **SHARED))
    h.rec(10 * MS, b"rw", acq("host/2/b/0", 0, ttl=5000))
    h.rec(1100 * MS, b"rw", json.dumps({"v": 1, "op": "tick"}).encode())
    h.w(1, {"ev": "cs_start", "lock": "rw", "token": 0, "t": 1 * MS, "wall": WALL0 + 0.001, "t_acq": 0, **SHARED})
    h.store_op("read", "rw", 0, 1, 2 * MS, True, value=0, **SHARED)
    h.hold(2, "rw", 1, 1200 * MS, 1210 * MS, value=0)
    h.store_op("leave", "rw", 0, 1, 3000 * MS, False, max=1, **SHARED)
    h.w(1, {"ev": "cs_end", "lock": "rw", "token": 0, "t_chk": 3001 * MS, "wall_chk": WALL0 + 3.001, "held": False,
            "t": 3001 * MS, "read_ok": True, "leave_ok": False, **SHARED})
    h.w(1, {"ev": "rel", "lock": "rw", "token": 0, "ok": False, "t0": 3002 * MS, "t": 3003 * MS})
    return h, lambda r: exactly()(r) and r["overlaps"] == 1 and r["overlaps_excused"] == 1


def case_shares_within_limit():
    """A weight-1 and a weight-2 share of limit 3, granted together, overlapping: clean."""
    h = H()
    h.rec(0, b"sem", acq("host/1/a/0", 0, **sem(3, 1)))
    h.rec(10 * MS, b"sem", acq("host/2/b/0", 0, **sem(3, 2)))
    h.rec(130 * MS, b"sem", rel("host/1/a/0", 0))
    h.rec(140 * MS, b"sem", rel("host/2/b/0", 1))
    h.shared_hold(1, "sem", 0, 1 * MS, 100 * MS, **sem(3, 1))
    h.shared_hold(2, "sem", 1, 20 * MS, 120 * MS, **sem(3, 2))
    return h, lambda r: (exactly()(r) and r["together"] == 1 and r["max_weight"] == {"sem (limit 3)": 3}
                         and r["weight_over_limit"] == 0)


def case_shares_over_limit():
    """Three weight-2 shares of limit 3 holding at once (the log grants one at a time; the two
    later ones act before their grants): the weight 4, then 6, by the workers' view and by the
    store's."""
    h = H()
    for i, pid in enumerate((1, 2, 3)):
        h.rec(i * 10 * MS, b"sem", acq("host/%d/x/0" % pid, 0, **sem(3, 2)))
    h.rec(130 * MS, b"sem", rel("host/1/x/0", 0))
    h.rec(140 * MS, b"sem", rel("host/2/x/0", 1))
    h.shared_hold(1, "sem", 0, 1 * MS, 100 * MS, **sem(3, 2))
    h.shared_hold(2, "sem", 1, 20 * MS, 110 * MS, **sem(3, 2))
    h.shared_hold(3, "sem", 2, 30 * MS, 120 * MS, **sem(3, 2))
    h.store.sort(key=lambda e: e["t"])
    for i, e in enumerate(h.store):
        e["seq"] = i
    return h, lambda r: (exactly(violations={"semaphore shares over their limit",
                                             "the fenced store let holds act together that may not hold together",
                                             "critical section started before the log granted it"})(r)
                         and r["weight_over_limit"] == 2 and r["store_view_violations"] == 2
                         and r["max_weight"] == {"sem (limit 3)": 6})


def case_limits_mixed():
    """Shares of one name with limits 3 and 2 holding at once (weights 1 + 1 would fit either
    limit): they may never hold together."""
    h = H()
    h.rec(0, b"sem", acq("host/1/a/0", 0, **sem(3, 1)))
    h.rec(10 * MS, b"sem", acq("host/2/b/0", 0, **sem(2, 1)))
    h.rec(130 * MS, b"sem", rel("host/1/a/0", 0))
    h.shared_hold(1, "sem", 0, 1 * MS, 100 * MS, **sem(3, 1))
    h.shared_hold(2, "sem", 1, 20 * MS, 120 * MS, **sem(2, 1))
    h.store.sort(key=lambda e: e["t"])
    for i, e in enumerate(h.store):
        e["seq"] = i
    return h, lambda r: (exactly(violations={"overlap", "the fenced store let holds act together that may not hold together",
                                             "critical section started before the log granted it",
                                             "isAcquired() true after another process was granted"})(r)
                         and r["overlaps"] == 1 and r["overlaps_excused"] == 0)


def case_paused_share_not_fenced():
    """A weight-2 share paused past its lease; the next weight-2 share is granted by the log and
    works; the resumed share's leave is accepted (no token fences a share of one limit): the
    weight is 4 by the store's view, and the stale share is not excused."""
    h = H()
    h.rec(0, b"sem", acq("host/1/a/0", 0, **sem(3, 2)))
    h.rec(10 * MS, b"sem", acq("host/2/b/0", 0, ttl=5000, **sem(3, 2)))
    h.rec(1100 * MS, b"sem", json.dumps({"v": 1, "op": "tick"}).encode())
    h.w(1, {"ev": "cs_start", "lock": "sem", "token": 0, "t": 1 * MS, "wall": WALL0 + 0.001, "t_acq": 0, **sem(3, 2)})
    h.store_op("read", "sem", 0, 1, 2 * MS, True, value=0, **sem(3, 2))
    h.shared_hold(2, "sem", 1, 1200 * MS, 1210 * MS, **sem(3, 2))
    h.store_op("leave", "sem", 0, 1, 3000 * MS, True, value=0, **sem(3, 2))
    h.w(1, {"ev": "cs_end", "lock": "sem", "token": 0, "t_chk": 3001 * MS, "wall_chk": WALL0 + 3.001, "held": False,
            "t": 3001 * MS, "read_ok": True, "leave_ok": True, **sem(3, 2)})
    h.w(1, {"ev": "rel", "lock": "sem", "token": 0, "ok": False, "t0": 3002 * MS, "t": 3003 * MS})
    return h, lambda r: (exactly(violations={"semaphore shares over their limit",
                                             "the fenced store let holds act together that may not hold together"})(r)
                         and r["weight_over_limit"] == 1 and r["weight_over_limit_excused"] == 0)


def case_paused_share_fenced():
    """The same, had something refused the stale share's leave: excused (the weight of the
    shares left is 2)."""
    h, _ = case_paused_share_not_fenced()
    for e in h.store:
        if e["pid"] == 1 and e["op"] == "leave":
            e.update(ok=False, max=1)
            e.pop("value", None)
    for e in h.workers[1]:
        if e["ev"] == "cs_end":
            e["leave_ok"] = False
    return h, lambda r: exactly()(r) and r["weight_over_limit"] == 1 and r["weight_over_limit_excused"] == 1


def case_weight_misreported():
    """A share that logs weight 1 while its acquire in the log asked weight 2."""
    h = H()
    h.rec(0, b"sem", acq("host/1/a/0", 0, **sem(3, 2)))
    h.rec(130 * MS, b"sem", rel("host/1/a/0", 0))
    h.shared_hold(1, "sem", 0, 1 * MS, 100 * MS, **sem(3, 1))
    return h, exactly(violations={"hold in another mode than its request in the log"})


def case_too_few_together():
    """A run whose readers never overlapped checked nothing shared (params min_together)."""
    h = H(min_together=1)
    clean_pair(h)
    return h, exactly(failures={"fewer overlapping holds that may hold together than the scenario's minimum"})


CASES_MODES = [case_readers_overlap, case_writer_overlaps_reader, case_paused_reader_fenced, case_shares_within_limit,
               case_shares_over_limit, case_limits_mixed, case_paused_share_not_fenced, case_paused_share_fenced,
               case_weight_misreported, case_too_few_together]


CASES = [case_clean, case_overlap, case_lost_update, case_token_order, case_never_granted,
         case_view_after_deadline, case_excused_pause, case_stale_write_accepted,
         case_granted_to_other, case_worker_crash, case_counter_not_exact, case_token_reuse,
         case_too_few_acquisitions, case_kill_after_cs_does_not_count, case_kill_clean,
         case_no_next_holder_after_kill, case_known_liveness_bug, case_torn_line_of_a_live_worker,
         case_worker_log_missing, case_worker_log_empty, case_meta_missing, case_log_json_missing, case_log_json_unreadable, case_store_log_missing,
         case_meta_lists_no_workers, case_unexpected_exception, case_allowed_exception, case_stuck_waiter,
         case_acquire_timed_out, case_straggler] + CASES_ISSUE_10 + CASES_MODES


# ---- the suite's verdict, and the cluster-id generator ---------------------------------------

def verdict_checks():
    """-> [what failed]: checker.suite_verdict on results made by the checker itself."""
    clean = run_case(case_clean)[1]
    stuck = run_case(case_stuck_waiter)[1]
    bad = []

    def expect(what, got_reasons, **kw):
        reasons, warnings = checker.suite_verdict(**kw)
        if bool(reasons) != got_reasons:
            bad.append("%s: reasons %s, warnings %s" % (what, reasons, warnings))

    expect("a clean run passes", False, results=[clean], planned=1)
    expect("an interrupted run fails", True, results=[clean], planned=1, interrupted="SIGTERM")
    expect("a run where nothing ran fails", True, results=[], planned=0)
    expect("a run that finished fewer runs than planned fails", True, results=[clean], planned=2)
    expect("a stuck waiter fails the run", True, results=[clean, stuck], planned=2)
    expect("--lenient-liveness only reports it", False, results=[clean, stuck], planned=2, lenient_liveness=True)
    return bad


def cluster_id_checks():
    """-> [what failed]: brokers.new_cluster_id never returns an id starting with '-' (Kafka's
    StorageTool takes `-t -xyz` for an option), also when the random source's first draw
    would make one; and the command scripts/kafka.sh calls prints a valid id."""
    bad = []
    draws = [b"\xf8" + bytes(15), b"\x12" * 16]
    first = base64.urlsafe_b64encode(draws[0]).decode()
    if not first.startswith("-"):
        bad.append("the planted draw does not start with '-': %s" % first)
    got = brokers.new_cluster_id(lambda n: draws.pop(0))
    if got.startswith("-") or draws:
        bad.append("new_cluster_id returned %r with %d draws left" % (got, len(draws)))
    out = subprocess.run([sys.executable, os.path.join(HERE, "brokers.py"), "cluster-id"], capture_output=True,
                         text=True)
    ids = out.stdout.split()
    if out.returncode != 0 or len(ids) != 1 or ids[0].startswith("-") or len(base64.urlsafe_b64decode(ids[0] + "==")) != 16:
        bad.append("brokers.py cluster-id (what scripts/kafka.sh runs): rc %d, %r %r" % (out.returncode, out.stdout,
                                                                                          out.stderr[-300:]))
    return bad


def proof_checks():
    """-> [what failed]: the replay's commitment is SHA-256 (a known answer, as in
    src/protocol/record.rs), its release check takes exactly the secret of the request's
    commitment, and its decoder takes proof fields only as exact lowercase hex of their length,
    on their op, and refuses the Ed25519 format's fields (`pub`, `sig`)."""
    bad = []
    # SHA-256 of 32 zero bytes (FIPS 180-4; `head -c 32 /dev/zero | sha256sum`).
    zero = "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925"
    if replay.commitment_of(bytes(32)).hex() != zero:
        bad.append("commitment_of(32 zero bytes) = %s, not %s" % (replay.commitment_of(bytes(32)).hex(), zero))

    def released(secret_field):
        r = replay.Replay(effects=True)
        r.handle(0, 1000, b"k", sacq("o", 0, SECRET1))
        rel_value = {"v": 1, "op": "release", "owner": "o", "ref": 0}
        if secret_field is not None:
            rel_value["secret"] = secret_field
        r.handle(1, 1001, b"k", json.dumps(rel_value).encode())
        return r.effects.get(1)

    for what, field, want in [("its own secret", SECRET1.hex(), "released"),
                              ("another request's secret", SECRET2.hex(), "release bad secret"),
                              ("the commitment itself", commit(SECRET1), "release bad secret"),
                              ("no secret", None, "release bad secret")]:
        got = released(field)
        if got != want:
            bad.append("a release of a committed request with %s: %r, not %r" % (what, got, want))

    def decodes(value):
        try:
            replay.decode(b"k", json.dumps(value).encode())
            return True
        except replay.Reject:
            return False

    acquire = {"v": 1, "op": "acquire", "owner": "o", "seq": 0, "ttl": 5}
    renew = {"v": 1, "op": "renew", "owner": "o", "ref": 0, "prev": 0, "ttl": 5}
    release = {"v": 1, "op": "release", "owner": "o", "ref": 0}
    c = commit(SECRET1)
    for what, value, want in [
        ("an acquire with commit and nonce", {**acquire, "commit": c, "nonce": "0f" * 16}, True),
        ("a renew with commit", {**renew, "commit": c}, True),
        ("a release with secret", {**release, "secret": SECRET1.hex()}, True),
        ("a record of the first format (no proofs)", release, True),
        ("an upper-case commit", {**renew, "commit": c.upper()}, False),
        ("a short commit", {**renew, "commit": c[:-2]}, False),
        ("a long secret", {**release, "secret": SECRET1.hex() + "00"}, False),
        ("a non-hex secret", {**release, "secret": "g" + SECRET1.hex()[1:]}, False),
        ("a numeric commit", {**renew, "commit": 123}, False),
        ("a secret on an acquire", {**acquire, "secret": SECRET1.hex()}, False),
        ("a commit on a release", {**release, "commit": c}, False),
        ("a nonce on a renew", {**renew, "nonce": "0f" * 16}, False),
        ("an Ed25519 pub on an acquire", {**acquire, "pub": c, "nonce": "0f" * 16}, False),
        ("an Ed25519 pub on a renew", {**renew, "pub": c}, False),
        ("an Ed25519 sig on a release", {**release, "sig": "00" * 64}, False),
    ]:
        if decodes(value) != want:
            bad.append("%s: %s" % (what, "refused" if want else "accepted"))
    return bad


def mode_checks():
    """-> [what failed]: the replay's modes (docs/protocol.md, "Modes" and step 4 of "The state
    machine"): strict decoding of mode, limit and weight; the grant rule (the longest FIFO prefix
    whose modes may hold together); and the fenced store's rule for shared holds
    (chaos/store.py)."""
    bad = []

    def decodes(value):
        try:
            replay.decode(b"k", json.dumps(value).encode())
            return True
        except replay.Reject:
            return False

    a = {"v": 1, "op": "acquire", "owner": "o", "seq": 0, "ttl": 5}
    for what, value, want in [
        ("an acquire without mode (exclusive)", a, True),
        ("a shared acquire", {**a, "mode": "shared"}, True),
        ("a semaphore acquire", {**a, "mode": "semaphore", "limit": 3, "weight": 3}, True),
        ("mode exclusive spelt out", {**a, "mode": "exclusive"}, False),
        ("an unknown mode", {**a, "mode": "read"}, False),
        ("a numeric mode", {**a, "mode": 1}, False),
        ("limit on a shared acquire", {**a, "mode": "shared", "limit": 3}, False),
        ("weight without mode", {**a, "weight": 1}, False),
        ("a semaphore without weight", {**a, "mode": "semaphore", "limit": 3}, False),
        ("a semaphore without limit", {**a, "mode": "semaphore", "weight": 1}, False),
        ("weight above the limit", {**a, "mode": "semaphore", "limit": 3, "weight": 4}, False),
        ("weight 0", {**a, "mode": "semaphore", "limit": 3, "weight": 0}, False),
        ("limit above 1 000 000", {**a, "mode": "semaphore", "limit": 1000001, "weight": 1}, False),
        ("a limit of 3.0", {**a, "mode": "semaphore", "limit": 3.0, "weight": 1}, False),
        ("mode on a renew", {"v": 1, "op": "renew", "owner": "o", "ref": 0, "prev": 0, "ttl": 5, "mode": "shared"}, False),
        ("weight on a release", {"v": 1, "op": "release", "owner": "o", "ref": 0, "weight": 1}, False),
    ]:
        if decodes(value) != want:
            bad.append("modes: %s: %s" % (what, "refused" if want else "accepted"))

    def grants(records):
        """records: [(owner, acquire kwargs) or ("release", ref)] -> {token: offset granted}."""
        r = replay.Replay()
        for off, x in enumerate(records):
            if x[0] == "release":
                value = rel("o%d" % x[1], x[1])
            else:
                value = acq("o%d" % off, 0, ttl=60000, **x[1])
            r.handle(off, 1000 + off, b"k", value)
        return {q.token: q.granted_at for q in r.grants}

    S, X = ("a", SHARED), ("a", {})
    for what, records, want in [
        ("readers hold together", [S, S, S], {0: 0, 1: 1, 2: 2}),
        ("a writer behind readers waits, and holds back the readers behind it",
         [S, S, X, S, ("release", 0), ("release", 1)], {0: 0, 1: 1, 2: 5}),
        ("readers behind a writer hold together once it leaves", [X, S, S, ("release", 0)], {0: 0, 1: 3, 2: 3}),
        ("weights 1 + 2 fit limit 3, a third waits", [("a", sem(3, 1)), ("a", sem(3, 2)), ("a", sem(3, 1))],
         {0: 0, 1: 1}),
        ("a heavy share at the head of the waiters is not overtaken",
         [("a", sem(3, 2)), ("a", sem(3, 2)), ("a", sem(3, 1)), ("release", 0)], {0: 0, 1: 3, 2: 3}),
        ("shares of another limit never hold together", [("a", sem(3, 1)), ("a", sem(2, 1))], {0: 0}),
        ("a reader and a share never hold together", [S, ("a", sem(3, 1))], {0: 0}),
        ("exclusive only: the head", [X, X, ("release", 0)], {0: 0, 1: 2}),
    ]:
        got = grants(records)
        if got != want:
            bad.append("grants: %s: %s, not %s" % (what, got, want))

    import store  # the store's rule, in this process (its own lock names)

    def access(op, name, token, pid=1, **mode):
        return store.handle({"op": op, "lock": "selftest-" + name, "token": token, "pid": pid, "value": 1, **mode})["ok"]

    steps = [
        ("exclusive: a newer token fences an older", [("read", "x", 5, {}, True), ("read", "x", 3, {}, False),
                                                      ("write", "x", 5, {}, True), ("write", "x", 6, {}, True),
                                                      ("write", "x", 5, {}, False)]),
        ("readers do not fence each other", [("read", "r", 7, SHARED, True), ("read", "r", 3, SHARED, True)]),
        ("a writer fences older readers, not newer ones", [("read", "rw", 7, SHARED, True), ("read", "rw", 9, {}, True),
                                                           ("leave", "rw", 7, SHARED, False),
                                                           ("read", "rw", 11, SHARED, True)]),
        ("a reader fences older writers", [("read", "wr", 4, {}, True), ("read", "wr", 6, SHARED, True),
                                           ("write", "wr", 4, {}, False)]),
        ("shares of one limit do not fence each other", [("read", "s", 8, sem(3, 2), True),
                                                          ("leave", "s", 2, sem(3, 1), True)]),
        ("a share of another limit fences", [("read", "s2", 8, sem(3, 1), True), ("read", "s2", 2, sem(2, 1), False)]),
    ]
    for what, seq in steps:
        for op, name, token, mode, want in seq:
            if access(op, name, token, pid=token, **mode) != want:
                bad.append("store: %s: %s of token %d %s" % (what, op, token, "refused" if want else "accepted"))
                break
    return bad


def run_case(case):
    """-> (passed, the checker's result) for one planted history."""
    h, ok = case()
    d = h.write()
    try:
        r = checker.check_run(d)
        return ok(r), r
    except Exception as e:  # noqa: BLE001
        return False, {"error": repr(e)}
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    bad = 0
    for case in CASES:
        good, r = run_case(case)
        if not good:
            bad += 1
            print("checker self-test FAILED: %s -> %s" % (case.__name__, json.dumps(r, default=str)[:2000]))
    other = [("suite verdict", x) for x in verdict_checks()] + [("cluster id", x) for x in cluster_id_checks()]
    other += [("owner proofs (the replay's decoding and commitment check)", x) for x in proof_checks()]
    other += [("modes (the replay's decoding and grant rule, the store's fencing rule)", x) for x in mode_checks()]
    for what, x in other:
        print("checker self-test FAILED: %s: %s" % (what, x))
    print("checker self-test: %d planted histories passed, %d failed; suite verdict, cluster-id, owner-proof and mode checks: %d failed"
          % (len(CASES) - bad, bad, len(other)))
    return 1 if bad or other else 0


if __name__ == "__main__":
    sys.exit(main())
