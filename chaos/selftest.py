#!/usr/bin/env python3
"""Self-test of the checker: hand-made histories with one known fault each must be flagged
(and a clean one must pass), so a green chaos run means something. run.py runs this first.

usage: selftest.py  (exit 1 if the checker misses a planted violation)
"""
import base64
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checker  # noqa: E402

MS = 1_000_000  # ns
WALL0 = 1_800_000_000.0  # seconds; wall = WALL0 + t/1e9 in these histories


def acq(owner, seq, ttl=1000):
    return json.dumps({"v": 1, "op": "acquire", "owner": owner, "seq": seq, "ttl": ttl}).encode()


def rel(owner, ref):
    return json.dumps({"v": 1, "op": "release", "owner": owner, "ref": ref}).encode()


class H:
    """Builds one run folder."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="kl-chaos-selftest-")
        self.workers = {}
        self.store = []
        self.log = []
        self.faults = []

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

    def store_op(self, op, lock, token, pid, t, ok, **kw):
        e = {"seq": len(self.store), "t": t, "op": op, "lock": lock, "token": token, "pid": pid, "ok": ok}
        e.update(kw)
        self.store.append(e)

    def rec(self, t_ns, key, value):
        self.log.append({"offset": len(self.log), "timestamp": int((WALL0 + t_ns / 1e9) * 1000), "log_append": True,
                         "key": base64.b64encode(key).decode(), "value": base64.b64encode(value).decode()})

    def write(self):
        for pid, evs in self.workers.items():
            with open(os.path.join(self.dir, "w-%d.jsonl" % pid), "w") as f:
                for e in evs:
                    f.write(json.dumps(e) + "\n")
        with open(os.path.join(self.dir, "store.jsonl"), "w") as f:
            for e in self.store:
                f.write(json.dumps(e) + "\n")
        with open(os.path.join(self.dir, "faults.jsonl"), "w") as f:
            for e in self.faults:
                f.write(json.dumps(e) + "\n")
        with open(os.path.join(self.dir, "log.json"), "w") as f:
            json.dump({"topic": "t", "partitions": {"0": self.log}}, f)
        with open(os.path.join(self.dir, "meta.json"), "w") as f:
            json.dump({"scenario": "selftest", "params": {"ttl": 1.0}, "t_end": 10_000 * MS, "exit_codes": {}}, f)
        return self.dir


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
    return h, lambda r: r["safety_violations"] == 0 and r["acquisitions"] == 2 and r["writes_accepted"] == 2


def case_overlap():
    h = H()
    clean_pair(h, overlap=True)
    return h, lambda r: r["overlaps"] == 1 and r["overlaps_excused"] == 0 and r["safety_violations"] > 0


def case_lost_update():
    h = H()
    h.rec(0, b"hot", acq("host/1/a/0", 0))
    h.rec(200 * MS, b"hot", rel("host/1/a/0", 0))
    h.rec(201 * MS, b"hot", acq("host/2/b/0", 0))
    h.hold(1, "hot", 0, 1 * MS, 100 * MS, value=0)
    h.hold(2, "hot", 2, 250 * MS, 300 * MS, value=0)  # read a stale value: 0 again
    return h, lambda r: r["lost_updates"] >= 1 and r["safety_violations"] > 0


def case_token_order():
    h = H()
    h.rec(0, b"hot", acq("host/1/a/0", 0))
    h.rec(1 * MS, b"hot", acq("host/2/b/0", 0))
    h.rec(200 * MS, b"hot", rel("host/1/a/0", 0))
    h.hold(2, "hot", 1, 1 * MS, 100 * MS)  # pid 2 claims to hold before pid 1, out of log order
    h.hold(1, "hot", 0, 150 * MS, 190 * MS)
    return h, lambda r: r["token_violations"] >= 1 and r["fifo_overtakes"] >= 1


def case_never_granted():
    h = H()
    h.rec(0, b"hot", acq("host/1/a/0", 0))
    h.hold(1, "hot", 0, 1 * MS, 100 * MS)
    h.hold(2, "hot", 7, 150 * MS, 160 * MS)  # no such acquire in the log
    return h, lambda r: r["token_violations"] >= 1


def case_view_after_deadline():
    h = H()
    h.rec(0, b"hot", acq("host/1/a/0", 0, ttl=1000))
    h.rec(1500 * MS, b"hot", json.dumps({"v": 1, "op": "tick"}).encode())
    h.hold(1, "hot", 0, 1 * MS, 1200 * MS, held=True)  # saw its lease valid 200 ms past the deadline
    return h, lambda r: r["view_violations"] >= 1


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
    return h, lambda r: r["overlaps"] == 1 and r["overlaps_excused"] == 1 and r["safety_violations"] == 0


def case_stale_write_accepted():
    """Same, but the store accepted the paused holder's write after the newer holder's access."""
    h, _ = case_excused_pause()
    for e in h.store:
        if e["pid"] == 1 and e["op"] == "write":
            e.update(ok=True, value=1, prev=1)
            e.pop("max", None)
    return h, lambda r: r["safety_violations"] > 0


CASES = [case_clean, case_overlap, case_lost_update, case_token_order, case_never_granted,
         case_view_after_deadline, case_excused_pause, case_stale_write_accepted]


def main():
    bad = 0
    for case in CASES:
        h, ok = case()
        d = h.write()
        try:
            r = checker.check_run(d)
            good = ok(r)
        except Exception as e:  # noqa: BLE001
            good, r = False, {"error": repr(e)}
        finally:
            shutil.rmtree(d, ignore_errors=True)
        if not good:
            bad += 1
            print("checker self-test FAILED: %s -> %s" % (case.__name__, json.dumps(r, default=str)[:2000]))
    print("checker self-test: %d passed, %d failed" % (len(CASES) - bad, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
