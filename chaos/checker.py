#!/usr/bin/env python3
"""Checks the history of one chaos run (a folder written by chaos/run.py):

  meta.json        scenario, parameters, topic
  w-*.jsonl        the workers' logs (chaos/worker.php)
  store.jsonl      every access to the fenced store, in the store's order
  faults.jsonl     what the runner injected, when (CLOCK_MONOTONIC ns, as hrtime())
  log.json         the lock topic's records, read back after the run (per partition)

and prints / returns the figures. Definitions (docs/reliability.md repeats them):

hold            one critical section: from acquireLock() (acquireReadLock(), a semaphore's
                acquire()) returning true (t_start) to the worker's last own check of
                isAcquired() (t_chk), or to its death (kill -9). Its mode (worker log:
                exclusive when absent, shared, or semaphore with limit and weight) says what it
                may hold together with: an exclusive hold nothing; a shared hold shared ones;
                a semaphore share shares of the same limit while their weights sum to at most it.
overlap         two holds of one lock by different processes whose intervals intersect and
                whose modes may not hold together (with exclusive locks only: any two); and an
                instant (a share's start) at which the shares of one limit in effect weigh more
                than the limit. Excused only if the older holder's own view had already turned
                false at its t_chk (it was paused, starved or cut off past its lease) AND the
                fenced store refused every access of the older holder made after the newer
                holder's first access (for the weight: such stale shares are left out, and the
                rest must fit). Anything else is a safety violation. Holds that may hold
                together and overlap are counted (res["together"]), not judged.
store view      the same judgement on the fenced store's own order (chaos/store.py): a hold is in
                effect from its first to its last accepted access; no accepted access may come
                while holds in effect that cannot hold together (a reader or share with a writer,
                a reader with a share, shares of two limits, shares of one limit weighing more
                than it). Pairs of exclusive holds are left to the overlap and lost-update checks
                (the store's fencing already keeps their accesses apart).
view violation  a holder saw isAcquired() true at a wall-clock instant after the log's
                deadline for its request (last accepted alive record's broker time + ttl, by
                the independent replay in chaos/replay.py), or after the log removed it; or a
                true isAcquired() after another process's grant (t_chk > the other's t_start).
token violation two holds of a lock with the same token, a token that is not larger than the
                token of the previous hold (by start) of that lock that it may not hold
                together with, a token the fenced store saw from two processes, a hold whose
                token the log never granted to that process, or a hold in another mode (limit,
                weight) than its request's acquire record says.
FIFO overtake   a hold that started before the log granted its request (the log's grant order
                is the queue order: the longest prefix of the queue by acquire offset whose
                modes may hold together), i.e. a client that acted out of turn; plus grants out
                of token order in the workers' history.
lost update     an accepted write of the fenced store whose value is not the previous value + 1,
                or a final counter different from the number of accepted writes.
stuck           an acquireLock() that did not return within the run's liveness bound, or never.
hand-off        time from a holder's releaseLock() call to the next holder's acquireLock()
                returning, when that next holder was already waiting.
recovery        time from a fault to the next critical section that starts after it.

Besides the safety violations, a run FAILS its checks (res["failures"], each with a class) when:
  input      a file of the history is missing or unreadable (meta.json, a worker's log listed in
             meta.json, store.jsonl, faults.jsonl, log.json): the checks that need it did not run;
  coverage   fewer acquisitions than the scenario's min_acq, or fewer faults landed than its
             min_faults (a kill or pause that hit a critical section, a watched cut-off, a
             broker restart, a node kill, a junk record): the run checked too little to count;
  exception  an exception (or PHP warning, or fatal error) whose class the scenario does not
             list in allowed_exceptions (none, unless it takes the broker away);
  liveness   a stuck waiter, a worker still running at the end, or a missed expectation of
             its scenario (no next holder after kill -9, ...). A scenario written to show an
             open bug (params known_liveness_bug) reports these under "known_failures". After
             deleted history (truncate), waits that began within the fault's excuse_waits_s
             are expected (res["expected_waits"]), not stuck;
  refusal    a topic the lock must refuse (params expect_refusal): a worker that locked on it,
             or whose constructor did not throw the expected class naming the setting.

Clock steps (skew: one node's wall clock ahead, partition leadership moved to and from it):
log.json's "skew" gives, for every record, how far the clock of the leader that stamped it
was ahead of this host's; the checks that compare this host's wall clock with broker time
(a critical section before its grant, a lease trusted past its deadline) then use the host
time at which each record was appended, and the log clock a record appended at that instant
would have had. Without it (or with records of unknown skew, or probes that did not see the
skew the node was started with) the run fails its input or coverage check. A control
(params control: true, the same fault beyond the lock's budget) must show violations:
suite_verdict fails it when it shows none, and does not fail it for those it shows.

Issue 10 adds (forge, truncate, retention): a hold of an acquire the forger wrote and a forged
record that ended a live request (safety violations; forged.jsonl lists the forger's offsets);
a joiner after a truncation that held before its join record's broker time + the join window
(a view violation); a gap in a log.json the runner's tailer kept (input).

usage: checker.py RUN_DIR [RUN_DIR...]   (prints one JSON object per run)
"""
import base64
import glob
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import replay as replay_mod  # noqa: E402

WALL_TOLERANCE_MS = 2.0  # ms truncation of broker timestamps + float rounding
JOIN_WINDOW_S = 70.0  # MAX_TTL_MS + JOIN_MARGIN_MS (docs/protocol.md, "Joining mid-log")


def read_jsonl(path, torn_tail_ok=False):
    """-> (events, problem): the lines that are JSON objects, and None or why the file cannot be
    trusted. A line that is not a JSON object is a problem, except an unterminated last line
    when torn_tail_ok (a process killed with SIGKILL in the middle of a write)."""
    try:
        with open(path) as f:
            lines = f.read().split("\n")
    except (OSError, UnicodeDecodeError) as e:
        return [], "missing or unreadable (%s)" % e
    out, problem = [], None
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            e = json.loads(line)
        except ValueError:
            e = None
        if isinstance(e, dict):
            out.append(e)
        elif not (torn_tail_ok and i == len(lines) - 1) and problem is None:
            problem = "line %d is not a JSON object" % (i + 1)
    return out, problem


def load_jsonl(path):
    return read_jsonl(path)[0]


def pct(values, p):
    if not values:
        return None
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(p / 100.0 * (len(s) - 1)))))
    return s[k]


EXCLUSIVE, SHARED, SEMAPHORE = "exclusive", "shared", "semaphore"


class Hold:
    __slots__ = ("pid", "lock", "token", "t_start", "wall_start", "t_acq", "t_chk", "wall_chk", "held",
                 "end", "rel_t0", "rel_ok", "read_ok", "write_ok", "leave_ok", "watch", "killed", "worker", "cs_end",
                 "mode", "limit", "weight")

    def __init__(self, e, worker):
        self.pid, self.lock, self.token = e["pid"], e["lock"], e["token"]
        self.t_start, self.wall_start, self.t_acq = e["t"], e["wall"], e.get("t_acq")
        self.mode = e.get("mode") or EXCLUSIVE
        self.limit = e.get("limit") if self.mode == SEMAPHORE else None
        self.weight = e.get("weight") if self.mode == SEMAPHORE else None
        self.t_chk = self.wall_chk = self.held = self.end = None
        self.rel_t0 = self.rel_ok = self.read_ok = self.write_ok = self.leave_ok = None
        self.watch = None
        self.killed = False
        self.worker = worker
        self.cs_end = None

    def kind(self):
        """exclusive, shared, or (semaphore, limit): holds of one kind other than exclusive may
        hold together (shares while their weights fit)."""
        return (SEMAPHORE, self.limit) if self.mode == SEMAPHORE else self.mode

    def final_ok(self):
        """Whether the store accepted the last access of the critical section (a writer's
        write, a reader's or a share's leave)."""
        return self.write_ok if self.mode == EXCLUSIVE else self.leave_ok

    def desc(self):
        d = {"pid": self.pid, "token": self.token, "mode": self.mode}
        if self.mode == SEMAPHORE:
            d.update(limit=self.limit, weight=self.weight)
        return d


def may_hold_with(a, b):
    """Two holds of one lock may hold at once (weights aside: see the weight check)."""
    return a.kind() == b.kind() and a.mode != EXCLUSIVE


def kinds_may_hold_together(ka, kb):
    return ka == kb and ka != EXCLUSIVE


def check_run(run_dir):
    failures = []

    def failure(cls, kind, **kw):
        failures.append({"class": cls, "kind": kind, **kw})

    try:
        with open(os.path.join(run_dir, "meta.json")) as f:
            meta = json.load(f)
        if not isinstance(meta, dict):
            raise ValueError("not an object")
    except (OSError, ValueError) as e:
        failure("input", "meta.json missing or unreadable", error=str(e))
        meta = {"scenario": "unknown", "params": {}}
    params = meta.get("params", {})
    faults, problem = read_jsonl(os.path.join(run_dir, "faults.jsonl"))
    if problem:
        failure("input", "faults.jsonl " + problem)
    store, problem = read_jsonl(os.path.join(run_dir, "store.jsonl"))
    if problem:
        failure("input", "store.jsonl " + problem)
    res = {"run": os.path.basename(run_dir), "scenario": meta["scenario"], "violations": [], "notes": [],
           "faults": sum(f.get("count", 1) for f in faults if f.get("fault")), "failures": failures,
           }
    V = res["violations"]
    killed_at = {f["pid"]: f["t"] for f in faults if f.get("kind") == "kill"}
    end_of_run = meta.get("t_end")
    # Workers still running at the end (stuck) were killed by the runner: not crashes.
    stragglers = set(meta.get("stragglers", []))
    liveness_bound = meta.get("liveness_bound_s", 30.0)
    allowed_exceptions = set(params.get("allowed_exceptions", []))
    # Deleted history (truncate): a process that joins after it trusts no grant for a join
    # window of log time, and everyone queued behind it waits too. Waits whose acquireLock()
    # began within excuse_waits_s after such a fault are expected, not stuck.
    excuse = [(f["t"], f["t"] + int(f["excuse_waits_s"] * 1e9)) for f in faults if f.get("excuse_waits_s")]

    def excused(t_acq):
        return t_acq is not None and any(a <= t_acq <= b for a, b in excuse)

    expected_waits = []
    # A topic the lock must refuse (compacted, short retention.ms): every worker's constructor
    # throws this class with a message naming this setting, and no worker ever locks.
    refusal = params.get("expect_refusal")
    refused, not_refused, locked_anyway = [], [], []

    # ---- workers' histories -------------------------------------------------------------
    holds, acq_waits, timeouts, exceptions, stuck = [], [], 0, {}, []
    unexpected = {}  # (class, where) -> what the failure reports
    worker_exit = meta.get("exit_codes", {})
    crashes = []
    # The runner lists every worker it started (pid -> log file): a log that is missing or
    # unreadable is a failure, not a worker that is quietly left out of every check.
    listed = meta.get("workers")
    if not isinstance(listed, dict):
        failure("input", "meta.json does not list the workers' logs")
        listed = {}
    for wpid, name in sorted(listed.items()):
        if not os.path.exists(os.path.join(run_dir, name)):
            failure("input", "worker log missing", pid=int(wpid), worker=name)
    for path in sorted(glob.glob(os.path.join(run_dir, "w-*.jsonl"))):
        wpid = next((int(p) for p, n in listed.items() if n == os.path.basename(path)), None)
        evs, problem = read_jsonl(path, torn_tail_ok=wpid in killed_at or wpid in stragglers)
        if problem:
            failure("input", "worker log " + problem, worker=os.path.basename(path))
        elif not evs:
            failure("input", "worker log empty", worker=os.path.basename(path))
        cur = None
        pending_acq = None
        pid = None
        for e in evs:
            ev = e.get("ev")
            pid = e.get("pid", pid)
            if ev == "acq":
                pending_acq = e
            elif ev == "cs_start":
                cur = Hold(e, os.path.basename(path))
                holds.append(cur)
                if pending_acq is not None:
                    acq_waits.append((e["t"] - pending_acq["t"]) / 1e9)
                pending_acq = None
            elif ev == "cs_end" and cur is not None:
                cur.t_chk, cur.wall_chk, cur.held = e["t_chk"], e["wall_chk"], e["held"]
                cur.read_ok, cur.write_ok, cur.leave_ok = e.get("read_ok"), e.get("write_ok"), e.get("leave_ok")
                cur.cs_end = e
                if e.get("watch_polls") is not None:
                    cur.watch = e
            elif ev == "rel" and cur is not None:
                cur.rel_t0, cur.rel_ok = e["t0"], e["ok"]
                cur = None
            elif ev == "acq_timeout":
                timeouts += 1
                if e.get("waited", 0) >= liveness_bound:
                    t_acq = pending_acq["t"] if pending_acq else e["t"] - int(e["waited"] * 1e9)
                    (expected_waits if excused(t_acq) else stuck).append(
                        {"pid": pid, "lock": e["lock"], "waited": e["waited"], "why": "acquire timed out"})
                pending_acq = None
            elif ev == "exc":
                k = "%s in %s" % (e.get("class"), e.get("where"))
                exceptions[k] = exceptions.get(k, 0) + 1
                if e.get("class") not in allowed_exceptions:
                    x = unexpected.setdefault((e.get("class"), e.get("where")), {
                        "exception": e.get("class"), "where": e.get("where"), "count": 0, "pids": [],
                        "first_msg": str(e.get("msg"))[:300]})
                    x["count"] += 1
                    if pid not in x["pids"]:
                        x["pids"].append(pid)
                if e.get("where") == "acquire":
                    pending_acq = None
        if pid is None:
            continue
        # The end of this worker's history.
        if cur is not None and cur.t_chk is None:
            if pid in killed_at:
                cur.killed, cur.end = True, killed_at[pid]
            elif pid in stragglers:
                cur.killed, cur.end = True, end_of_run
            else:
                crashes.append({"pid": pid, "worker": os.path.basename(path), "why": "died inside a critical section"})
                cur.end = end_of_run
        if pending_acq is not None and pid not in killed_at:
            waited = ((end_of_run or pending_acq["t"]) - pending_acq["t"]) / 1e9
            if waited >= min(liveness_bound, meta.get("grace_s", 10)):
                (expected_waits if excused(pending_acq["t"]) else stuck).append(
                    {"pid": pid, "lock": pending_acq["lock"], "waited": round(waited, 2),
                     "why": "acquireLock() never returned"})
        was_refused = False
        if refusal:
            ctor = [e for e in evs if e.get("ev") == "exc" and e.get("where") == "construct"]
            was_refused = any(e.get("class") == refusal["class"] and refusal["names"] in str(e.get("msg"))
                              for e in ctor)
            if any(e.get("ev") == "cs_start" for e in evs):
                locked_anyway.append({"pid": pid, "worker": os.path.basename(path)})
            elif was_refused:
                refused.append(pid)
            else:
                not_refused.append({"pid": pid, "worker": os.path.basename(path),
                                    "construct": [{"class": e.get("class"), "msg": str(e.get("msg"))[:300]}
                                                  for e in ctor]})
        code = worker_exit.get(str(pid))
        # worker.php exits 3 when the constructor throws: what a refusal must do.
        if code not in (None, 0) and pid not in killed_at and pid not in stragglers and not (was_refused and code == 3):
            crashes.append({"pid": pid, "worker": os.path.basename(path), "why": "exit code %s" % code})
        if pid in stragglers and not any(s["pid"] == pid for s in stuck + expected_waits):
            stuck.append({"pid": pid, "lock": None, "waited": None, "why": "still running after the run's grace time"})
    for h in holds:
        if h.end is None:
            h.end = h.t_chk
    res["acquisitions"] = len(holds)
    by_mode = {}
    for h in holds:
        k = h.mode if h.mode != SEMAPHORE else "semaphore limit %s weight %s" % (h.limit, h.weight)
        by_mode[k] = by_mode.get(k, 0) + 1
    if set(by_mode) - {EXCLUSIVE}:
        res["holds_by_mode"] = by_mode
    res["acq_timeouts"] = timeouts
    res["acquire_errors"] = sum(v for k, v in exceptions.items() if k.endswith("in acquire"))
    res["leases_lost"] = sum(1 for h in holds if h.held is False)
    res["exceptions"] = exceptions
    for x in unexpected.values():
        failure("exception", "exception the scenario does not expect", **x)
    res["stuck"] = len(stuck)
    res["stuck_detail"] = stuck[:10]
    for x in stuck:
        failure("liveness", "stuck", **x)
    if excuse:
        res["expected_waits"] = len(expected_waits)
        res["expected_waits_detail"] = expected_waits[:10]
    if refusal:
        res["refused"] = len(refused)
        for x in locked_anyway:
            failure("refusal", "locked on a topic that must be refused", **x)
        for x in not_refused:
            failure("refusal", "worker not refused as expected (%s naming %s)" % (refusal["class"], refusal["names"]), **x)
    res["crashes"] = crashes
    for c in crashes:
        V.append({"kind": "worker crash", **c})

    by_lock = {}
    for h in holds:
        by_lock.setdefault(h.lock, []).append(h)
    for hs in by_lock.values():
        hs.sort(key=lambda h: h.t_start)

    # ---- the fenced store ---------------------------------------------------------------
    first_access = {}   # (lock, pid, token) -> seq of first access
    accesses = {}       # (lock, pid, token) -> [entries]
    lost = 0
    accepted_writes = 0
    fenced_writes = sum(1 for s in store if s["op"] == "write" and not s["ok"])
    fenced_reads = sum(1 for s in store if s["op"] == "read" and not s["ok"])
    fenced_leaves = sum(1 for s in store if s["op"] == "leave" and not s["ok"])
    last_value = {}
    n_accepted = {}
    for s in store:
        k = (s["lock"], s["pid"], s["token"])
        first_access.setdefault(k, s["seq"])
        accesses.setdefault(k, []).append(s)
        if s.get("token_reuse_of") is not None:
            V.append({"kind": "token reuse (fenced store)", "lock": s["lock"], "token": s["token"],
                      "pids": [s["token_reuse_of"], s["pid"]]})
        if s["op"] == "write" and s["ok"]:
            accepted_writes += 1
            n_accepted[s["lock"]] = n_accepted.get(s["lock"], 0) + 1
            if s["value"] != s["prev"] + 1:
                lost += 1
                V.append({"kind": "lost update", "entry": s})
            last_value[s["lock"]] = s["value"]
    for name, n in n_accepted.items():
        if last_value.get(name) != n:
            lost += 1
            V.append({"kind": "counter not exact", "lock": name, "value": last_value.get(name), "accepted": n})
    # Workers' own view of their writes against the store's.
    store_ok = {(s["lock"], s["pid"], s["token"]) for s in store if s["op"] == "write" and s["ok"]}
    worker_ok = 0
    for h in holds:
        if h.write_ok:
            worker_ok += 1
            if (h.lock, h.pid, h.token) not in store_ok:
                V.append({"kind": "write reported accepted but not in the store", "pid": h.pid, "lock": h.lock, "token": h.token})
    res["writes_accepted"] = accepted_writes
    res["writes_unknown_outcome"] = accepted_writes - worker_ok  # writer killed before logging it
    res["fenced_writes"] = fenced_writes
    res["fenced_reads"] = fenced_reads
    if fenced_leaves or any(s["op"] == "leave" for s in store):
        res["fenced_leaves"] = fenced_leaves
    res["lost_updates"] = lost

    # ---- overlaps, token order -----------------------------------------------------------
    overlaps = excused = 0
    token_viol = 0
    overtakes = 0
    together = 0  # pairs of overlapping holds whose modes may hold together (readers, shares)
    for name, hs in by_lock.items():
        seen_tokens = {}
        last_of_kind = {}  # kind -> (index, hold): the latest-starting hold of each kind so far
        for i, a in enumerate(hs):
            if a.token in seen_tokens:
                token_viol += 1
                V.append({"kind": "token used by two holds", "lock": name, "token": a.token,
                          "pids": [seen_tokens[a.token], a.pid]})
            seen_tokens[a.token] = a.pid
            # Grants of holds that may not hold together come in token order: the previous
            # such hold (by start) must have a smaller token. Holds that may hold together are
            # granted at once and start in any order. (Exclusive locks only: the previous hold.)
            prev = max((x for k, x in last_of_kind.items() if not kinds_may_hold_together(k, a.kind())),
                       default=None, key=lambda x: x[0])
            last_of_kind[a.kind()] = (i, a)
            if prev is not None and a.token <= prev[1].token:
                overtakes += 1
                token_viol += 1
                V.append({"kind": "grant out of token order", "lock": name,
                          "earlier": {"pid": prev[1].pid, "token": prev[1].token},
                          "later": {"pid": a.pid, "token": a.token}})
            for b in hs[i + 1:]:
                if b.t_start >= a.end:
                    break
                if b.pid == a.pid:
                    continue
                if may_hold_with(a, b):
                    together += 1
                    continue
                overlaps += 1
                older, newer = (a, b) if a.token < b.token else (b, a)
                ok = older.held is False or older.killed
                # Every access of the older holder after the newer one's first must be refused.
                nf = first_access.get((name, newer.pid, newer.token))
                late = [s for s in accesses.get((name, older.pid, older.token), [])
                        if nf is not None and s["seq"] > nf]
                if any(s["ok"] for s in late):
                    ok = False
                detail = {"lock": name, "older": {"pid": older.pid, "token": older.token, "held_at_end": older.held,
                                                   "t_start": older.t_start, "t_chk": older.t_chk},
                          "newer": {"pid": newer.pid, "token": newer.token, "t_start": newer.t_start},
                          "overlap_ms": round((a.end - b.t_start) / 1e6, 3),
                          "older_accesses_after_newer": [{"op": s["op"], "ok": s["ok"]} for s in late]}
                if older.mode != EXCLUSIVE or newer.mode != EXCLUSIVE:
                    for h, d in ((older, detail["older"]), (newer, detail["newer"])):
                        d.update({k: v for k, v in h.desc().items() if k in ("mode", "limit", "weight")})
                if ok:
                    excused += 1
                    res["notes"].append({"kind": "excused overlap", **detail})
                else:
                    V.append({"kind": "overlap", **detail})
    # Semaphore shares of one limit: at every instant (a share's start: the weight only grows
    # then) the shares in effect must weigh at most the limit. A stale share (its own view false
    # at its check, or killed) whose every access after the first access of a newer share in
    # effect was refused by the store is left out, as the overlap check excuses an older holder.
    max_weight = {}
    weight_over = weight_excused = 0

    def stale_and_fenced(name, x, group):
        newer = [y for y in group if y.token > x.token]
        if not newer or not (x.held is False or x.killed):
            return False
        nfs = [n for n in (first_access.get((name, y.pid, y.token)) for y in newer) if n is not None]
        if not nfs:
            return True
        return not any(s["ok"] for s in accesses.get((name, x.pid, x.token), []) if s["seq"] > min(nfs))

    for name, hs in by_lock.items():
        by_limit = {}
        for h in hs:
            if h.mode == SEMAPHORE:
                by_limit.setdefault(h.limit, []).append(h)
        for limit, shares in by_limit.items():
            active = []
            for b in shares:  # by start
                active = [a for a in active if a.end > b.t_start and a.pid != b.pid]
                group = active + [b]
                w = sum(x.weight or 0 for x in group)
                key = "%s (limit %s)" % (name, limit)
                max_weight[key] = max(max_weight.get(key, 0), w)
                active.append(b)
                if limit is None or w <= limit:
                    continue
                overlaps += 1
                weight_over += 1
                stale = [x for x in group if stale_and_fenced(name, x, group)]
                left = sum(x.weight or 0 for x in group if x not in stale)
                detail = {"lock": name, "limit": limit, "weight": w, "at": b.t_start,
                          "shares": [dict(x.desc(), held_at_end=x.held, t_start=x.t_start, t_chk=x.t_chk,
                                          stale_and_fenced=x in stale) for x in group]}
                if left <= limit:
                    excused += 1
                    weight_excused += 1
                    res["notes"].append({"kind": "excused weight over the limit", **detail})
                else:
                    V.append({"kind": "semaphore shares over their limit", **detail})
    res["overlaps"] = overlaps
    res["overlaps_excused"] = excused
    if any(h.mode != EXCLUSIVE for h in holds):
        res["together"] = together
        res["max_weight"] = max_weight
        res["weight_over_limit"] = weight_over
        res["weight_over_limit_excused"] = weight_excused
        # The most readers of one lock holding at one instant (by the workers' intervals).
        most = {}
        for name, hs in by_lock.items():
            active = []
            for b in hs:
                if b.mode != SHARED:
                    continue
                active = [a for a in active if a.end > b.t_start and a.pid != b.pid] + [b]
                most[name] = max(most.get(name, 0), len(active))
        res["max_readers"] = most
    # The fenced store's view: a hold is in effect from its first to its last accepted access
    # (in the store's order); an accepted access must not begin a hold while holds in effect
    # that may not hold together with it are (pairs of exclusive holds aside: the overlap and
    # lost-update checks own them, and the store's rule keeps their accesses apart).
    store_view = 0
    span = {}  # (lock, pid, token) -> [first seq, last seq, entry]
    for s_ in store:
        if s_.get("ok"):
            k = (s_["lock"], s_["pid"], s_["token"])
            if k not in span:
                span[k] = [s_["seq"], s_["seq"], s_]
            span[k][1] = s_["seq"]

    def store_kind(e):
        mode = e.get("mode") or EXCLUSIVE
        return (SEMAPHORE, e.get("limit")) if mode == SEMAPHORE else mode

    ends = {}
    for k, (first, last, e) in span.items():
        ends.setdefault(last, []).append(k)
    active = {}  # lock -> {key: entry}
    for s_ in store:
        k = (s_["lock"], s_["pid"], s_["token"])
        if s_.get("ok") and span[k][0] == s_["seq"]:
            act = active.setdefault(s_["lock"], {})
            kx = store_kind(s_)
            bad = [y for y, ey in act.items() if y[1] != k[1] and not kinds_may_hold_together(kx, store_kind(ey))
                   and not (kx == EXCLUSIVE and store_kind(ey) == EXCLUSIVE)]
            over = None
            if kx != EXCLUSIVE and kx[0] == SEMAPHORE:
                same = [ey for y, ey in act.items() if y[1] != k[1] and store_kind(ey) == kx]
                wsum = (s_.get("weight") or 0) + sum(ey.get("weight") or 0 for ey in same)
                if kx[1] is not None and wsum > kx[1]:
                    over = wsum
            if bad or over is not None:
                store_view += 1
                V.append({"kind": "the fenced store let holds act together that may not hold together",
                          "lock": s_["lock"], "seq": s_["seq"],
                          "hold": {"pid": k[1], "token": k[2], "mode": s_.get("mode") or EXCLUSIVE,
                                   "limit": s_.get("limit"), "weight": s_.get("weight")},
                          "with": [{"pid": y[1], "token": y[2], "mode": ey.get("mode") or EXCLUSIVE,
                                    "limit": ey.get("limit"), "weight": ey.get("weight")} for y, ey in act.items()
                                   if y[1] != k[1]][:10],
                          **({"weight": over} if over is not None else {})})
            act[k] = s_
        if s_.get("ok"):
            for y in ends.get(s_["seq"], []):
                active.get(y[0], {}).pop(y, None)
    if store_view or any(s_.get("mode") for s_ in store):
        res["store_view_violations"] = store_view

    # ---- the log, replayed independently -------------------------------------------------
    view_viol = 0
    log_path = os.path.join(run_dir, "log.json")
    margins = []
    try:
        with open(log_path) as f:
            log = json.load(f)
        for recs in log["partitions"].values():
            for r in recs:
                r["key"] = None if r["key"] is None else base64.b64decode(r["key"])
                r["value"] = None if r["value"] is None else base64.b64decode(r["value"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        failure("input", "log.json missing or unreadable: the log-based checks (grants, FIFO, views) did not run",
                error=repr(e))
        log = None
    forged, forged_summary = load_forged(run_dir)
    skews = skew_checks(params, log, failure, res) if log is not None else {}
    if log is not None and log.get("gaps"):
        failure("input", "log.json incomplete: records were deleted before the runner read them",
                gaps=log["gaps"][:5])
    replays = {}
    if log is not None:
        malformed, ignored, records = {}, {}, 0
        granted = {}  # (lock, token) -> Request
        for part, recs in log["partitions"].items():
            rp = replays[part] = replay_mod.replay_partition(recs, effects=forged is not None)
            records += rp.records
            for k, v in rp.malformed.items():
                malformed[k] = malformed.get(k, 0) + v
            for k, v in rp.ignored.items():
                ignored[k] = ignored.get(k, 0) + v
            for req in rp.grants:
                granted[(req.key, req.token)] = req
        res["log_records"] = records
        res["log_undecodable_batches"] = log.get("undecodable_batches", {})
        res["log_malformed"] = malformed
        res["log_ignored"] = ignored
        res["log_grants"] = len(granted)
        if forged is not None:
            token_viol += check_forged(forged, forged_summary, replays, holds, res)
        for h in holds:
            req = granted.get((h.lock, h.token))
            if req is None:
                token_viol += 1
                V.append({"kind": "hold of a token the log never granted", "pid": h.pid, "lock": h.lock, "token": h.token})
                continue
            if req.pid() != h.pid:
                token_viol += 1
                V.append({"kind": "hold of a token the log granted to another process", "pid": h.pid,
                          "lock": h.lock, "token": h.token, "log_owner": req.owner})
            if (req.mode, req.limit, req.weight) != (h.mode, h.limit, h.weight):
                token_viol += 1
                V.append({"kind": "hold in another mode than its request in the log", "pid": h.pid, "lock": h.lock,
                          "token": h.token, "hold": h.desc(),
                          "log": {"mode": req.mode, "limit": req.limit, "weight": req.weight}})
            sk = skews.get(str(kafka_partition(h.lock, len(log["partitions"])))) if skews else None
            # The instant the granting record was appended, on this host's clock.
            grant_host = req.granted_ts if sk is None else sk.host_ms(req.granted_at)
            if h.wall_start * 1000.0 + WALL_TOLERANCE_MS < grant_host:
                overtakes += 1
                V.append({"kind": "critical section started before the log granted it", "pid": h.pid, "lock": h.lock,
                          "token": h.token, "cs_start_wall_ms": round(h.wall_start * 1000, 3), "granted_ts": req.granted_ts,
                          "granted_host_ms": grant_host})
            # The holder's own view against the log's deadline.
            if req.removed_ts is not None:
                deadline = min(req.deadline_at_removal, req.removed_ts)
                if req.removed_why == "released":
                    deadline = req.removed_ts
            else:
                deadline = req.deadline
            trues = []
            if h.held and h.wall_chk is not None:
                trues.append(("isAcquired() at the end of the critical section", h.wall_chk))
            if h.watch and h.watch.get("watch_last_true_wall"):
                trues.append(("isAcquired() while watching", h.watch["watch_last_true_wall"]))
            for what, wall in trues:
                if sk is None:
                    m = deadline - wall * 1000.0
                else:
                    # Skewed leaders: the log clock a record appended at that instant would have
                    # had, against the deadline; and a release against the host time at which
                    # the release record was appended.
                    m = req.deadline_at_removal if req.removed_why == "released" else deadline
                    m -= sk.log_clock_at(wall * 1000.0)
                    if req.removed_why == "released":
                        m = min(m, sk.host_ms(req.removed_at) - wall * 1000.0)
                if what.endswith("watching"):
                    margins.append(m)
                if m < -WALL_TOLERANCE_MS:
                    view_viol += 1
                    V.append({"kind": "holder saw its lease valid after the log's deadline", "what": what,
                              "pid": h.pid, "lock": h.lock, "token": h.token, "seen_true_wall_ms": round(wall * 1000, 3),
                              "log_deadline_ms": deadline, "removed": req.removed_why, "late_ms": round(-m, 3)})
    # True isAcquired() after another process was granted (monotonic clock, same machine).
    for name, hs in by_lock.items():
        for a in hs:
            seen_true = []
            if a.held and a.t_chk is not None:
                seen_true.append(a.t_chk)
            if a.watch and a.watch.get("watch_last_true"):
                seen_true.append(a.watch["watch_last_true"])
            if not seen_true:
                continue
            last_true = max(seen_true)
            for b in hs:
                if (b.pid != a.pid and b.token > a.token and a.t_start < b.t_start < last_true
                        and not may_hold_with(a, b)):
                    view_viol += 1
                    V.append({"kind": "isAcquired() true after another process was granted", "lock": name,
                              "holder": {"pid": a.pid, "token": a.token, "last_true": last_true},
                              "next": {"pid": b.pid, "token": b.token, "t_start": b.t_start},
                              "by_ms": round((last_true - b.t_start) / 1e6, 3)})
    res["view_violations"] = view_viol
    res["token_violations"] = token_viol
    res["fifo_overtakes"] = overtakes
    res["watch_margin_ms"] = [round(m, 1) for m in margins]

    # ---- hand-off latency, recovery --------------------------------------------------------
    # Hand-offs that straddle a broker-level fault (the broker down or paused, a partition
    # without leader) measure the outage, not the hand-off: they are left out (recovery and
    # longest gap cover them).
    windows = []
    for f in faults:
        if f.get("kind") in ("broker_restart", "broker_pause", "node_kill"):
            end = f.get("t_up") or f.get("t_cont") or f["t"]
            if f.get("kind") == "node_kill":
                end = f["t"] + 15_000_000_000
            windows.append((f["t"], end))
        if f.get("kind") == "heal" and f.get("mode") == "broker_pause" and windows:
            windows[-1] = (windows[-1][0], f["t"])
    handoffs = []
    for name, hs in by_lock.items():
        for a, b in zip(hs, hs[1:]):
            if a.rel_t0 is None or b.pid == a.pid or b.t_acq is None or a.mode == b.mode == SHARED:
                continue  # (a reader never waits for a reader)
            if any(w0 <= b.t_start and a.rel_t0 <= w1 for w0, w1 in windows):
                continue
            if b.t_acq < a.rel_t0 <= b.t_start:
                handoffs.append((b.t_start - a.rel_t0) / 1e6)
    res["handoffs"] = len(handoffs)
    res["_handoffs"] = handoffs
    res["handoff_p50_ms"] = pct(handoffs, 50)
    res["handoff_p99_ms"] = pct(handoffs, 99)
    recov = []
    all_starts = sorted((h.t_start, h.pid, h.lock) for h in holds)
    for f in faults:
        if not f.get("fault") or f.get("recover") == "none" or f.get("kind") == "forged_old_renews":
            continue
        t0 = f.get("t_recover_from", f["t"])
        if f.get("recover") == "fresh":
            # The first critical section of the lock whose acquireLock() began after the fault.
            nxt = sorted((h.t_start, h.pid, h.lock) for h in holds
                         if h.t_acq is not None and h.t_acq > t0 and f.get("lock") in (None, h.lock))
        else:
            nxt = [s for s in all_starts if s[0] > t0 and s[1] != f.get("pid") and (f.get("lock") in (None, s[2]))]
        if nxt:
            r = (nxt[0][0] - t0) / 1e9
            recov.append(r)
            f["recovery_s"] = r
        else:
            f["recovery_s"] = None
            res["notes"].append({"kind": "no critical section after a fault", "fault": f})
    res["recovery_s"] = recov
    res["fault_recovery"] = [{"kind": f.get("kind"), "role": f.get("role"), "recovery_s": f.get("recovery_s")}
                             for f in faults if f.get("fault") and f.get("recover") != "none"
                             and f.get("kind") != "forged_old_renews"]
    # Unavailability: the longest time without a critical section starting on the fault's lock
    # (the hot lock when the fault names none), from the fault to the end of the workload.
    t_stop = meta.get("t_begin", 0) + int(meta["params"].get("duration", 0) * 1e9)
    gaps = []
    for f in faults:
        if not f.get("fault") or f.get("kind") == "refused_topic":
            continue
        name = f.get("lock") or "hot"
        starts = [h.t_start for h in by_lock.get(name, []) if f["t"] < h.t_start < t_stop]
        points = [f["t"]] + starts + [max(t_stop, f["t"])]
        gaps.append(max(b - a for a, b in zip(points, points[1:])) / 1e9)
    res["longest_gap_s"] = max(gaps) if gaps else None
    res["recovery_p50_s"] = pct(recov, 50)
    res["recovery_max_s"] = max(recov) if recov else None

    if skews and log is not None:
        res["skew_rounds"] = skew_rounds(faults, holds, replays, skews, len(log["partitions"]))
    # ---- per-scenario expectations -------------------------------------------------------------
    scenario_checks(meta, faults, by_lock, holds, res)
    deleted_history_checks(meta, faults, by_lock, holds, replays, res)
    for x in res["expectations"].get("failed", []):
        failure("liveness", "expectation missed: " + x["kind"], **{k: v for k, v in x.items() if k != "kind"})
    # ---- coverage: a run that did too little checked nothing ---------------------------------
    min_acq = params.get("min_acq", 1)
    if res["acquisitions"] < min_acq:
        failure("coverage", "fewer acquisitions than the scenario's minimum", acquisitions=res["acquisitions"],
                min_acq=min_acq)
    # Shared holds that never overlapped tested nothing of what they may do together.
    min_together = params.get("min_together", 0)
    if res.get("together", 0) < min_together:
        failure("coverage", "fewer overlapping holds that may hold together than the scenario's minimum",
                together=res.get("together", 0), min_together=min_together)
    min_faults = params.get("min_faults", 0)
    if res["faults_landed"] < min_faults:
        failure("coverage", "fewer faults landed than the scenario's minimum", faults_landed=res["faults_landed"],
                min_faults=min_faults)
    # A scenario written to show an open bug: its liveness failures are that bug, reported apart.
    if params.get("known_liveness_bug"):
        res["known_failures"] = [dict(x, known_bug=params["known_liveness_bug"]) for x in failures
                                 if x["class"] == "liveness"]
        failures[:] = [x for x in failures if x["class"] != "liveness"]
    res["safety_violations"] = len(V)
    if params.get("control"):
        res["control"] = params["control"]
    return res


def kafka_partition(key, partitions):
    """The partition of a lock (murmur2, as the extension and kafkaproto.partition_for)."""
    import kafkaproto
    return kafkaproto.partition_for(key, partitions)


class PartitionSkew:
    """One partition's records on this host's clock. ranges: [[first offset, last offset, how
    far ahead the stamping leader's clock was, ms]] (log.json "skew"); recs: the partition's
    records (offset, timestamp). host_ms(offset): when the record was appended, by this host's
    clock. log_clock_at(wall_ms): the log clock (the max of the timestamps, docs/protocol.md)
    that a record appended at that host instant would have had: the records appended before
    it, or the instant plus the skew of the leader then (the larger of the two records'
    around it, when leadership moved between them)."""

    def __init__(self, ranges, recs):
        import bisect
        self._bisect = bisect
        self.ranges = sorted(ranges)
        self.firsts = [r[0] for r in self.ranges]
        self.ts = {}
        rows = []
        clock = None
        hmax = None
        for r in sorted(recs, key=lambda r: r["offset"]):
            s = self.skew(r["offset"])
            h = r["timestamp"] - (s or 0.0)
            clock = r["timestamp"] if clock is None else max(clock, r["timestamp"])
            hmax = h if hmax is None else max(hmax, h)
            self.ts[r["offset"]] = r["timestamp"]
            rows.append((hmax, clock, s or 0.0))
        self.hmax = [x[0] for x in rows]
        self.rows = rows

    def skew(self, offset):
        i = self._bisect.bisect_right(self.firsts, offset) - 1
        if i < 0 or offset > self.ranges[i][1]:
            return None
        return self.ranges[i][2]

    def host_ms(self, offset):
        return self.ts[offset] - (self.skew(offset) or 0.0)

    def log_clock_at(self, wall_ms):
        i = self._bisect.bisect_right(self.hmax, wall_ms) - 1
        around = [self.rows[j][2] for j in (i, i + 1) if 0 <= j < len(self.rows)]
        step = max(around) if around else 0.0
        clock = self.rows[i][1] if i >= 0 else wall_ms
        return max(clock, wall_ms + step)


def skew_checks(params, log, failure, res):
    """Runs with a skewed node (params "skew", seconds): log.json must say how far ahead the
    leader that stamped each record was ("skew", written by chaos/skew.py), and the probes
    must show it: the skewed node's LogAppendTime ahead of this host's clock by the skew, the
    other nodes' not. -> {partition: PartitionSkew} ({} for other runs)."""
    want = params.get("skew")
    info = log.get("skew")
    if not want:
        return {}
    if not isinstance(info, dict) or "partitions" not in info:
        failure("input", "log.json has no skew of its records: the clock checks cannot use this host's clock",
                error=log.get("skew_error"))
        return {}
    unknown = [r for rs in info["partitions"].values() for r in rs if r[2] is None]
    if unknown or info.get("unknown_epochs"):
        failure("input", "records appended by a leader of unknown clock", ranges=unknown[:5],
                epochs=info.get("unknown_epochs", [])[:5])
    # What the probes saw: for each node, the bounds its skew lies in (a probe's LogAppendTime
    # minus this host's clock after the answer, and before the request).
    tol = info.get("probe_tolerance_ms", 150.0)
    seen = {}
    for x in info.get("probes", []):
        lo, hi = x["log_ms"] - (x["host_ms"] + x["rtt_ms"] / 2.0), x["log_ms"] - (x["host_ms"] - x["rtt_ms"] / 2.0)
        b = seen.setdefault(str(x["leader"]), [lo, hi, 0])
        b[0], b[1], b[2] = max(b[0], lo), min(b[1], hi), b[2] + 1
    node = str(info.get("node"))
    res["skew_seen_ms"] = {n: {"at_least": round(b[0], 1), "at_most": round(b[1], 1), "probes": b[2]}
                           for n, b in sorted(seen.items())}
    for n, b in seen.items():
        expect = want * 1000.0 if n == node else 0.0
        if not b[0] - tol <= expect <= b[1] + tol:
            failure("coverage", "node %s's clock is not where it should be: the scenario tested another skew" % n,
                    expected_ms=expect, seen_ms=[round(b[0], 1), round(b[1], 1)])
    if node not in seen:
        failure("coverage", "no probe of the skewed node's clock: the skew was not observed", node=node)
    out = {}
    for part, ranges in info["partitions"].items():
        out[part] = PartitionSkew(ranges, log["partitions"].get(part, []))
    return out


def skew_rounds(faults, holds, replays, skews, partitions):
    """For each cut-off victim of a skew run: how the log ended its request (expired or
    released), how far the log clock was ahead of this host's clock at the record that ended
    it (the step the victim's lease met), and how long after the victim's last true
    isAcquired() that record was appended (negative: the log had ended the lease while the
    victim still trusted it)."""
    out = []
    for f in faults:
        if f.get("kind") != "cut" or not f.get("victim"):
            continue
        h = next((h for h in holds if h.pid == f["victim"] and h.watch), None)
        if h is None:
            continue
        part = str(kafka_partition(h.lock, partitions))
        rp, sk = replays.get(part), skews.get(part)
        req = rp.requests.get(h.token) if rp is not None else None
        if req is None or sk is None or req.removed_at is None:
            out.append({"pid": h.pid, "token": h.token, "ended": None})
            continue
        host = sk.host_ms(req.removed_at)
        x = {"pid": h.pid, "token": h.token, "ended": req.removed_why,
             "log_ahead_ms": round(req.removed_ts - host, 1),
             "lease_left_at_cut_ms": round(req.deadline_at_removal - (f["t"] - h.t_start) / 1e6 - h.wall_start * 1000, 1)}
        last = h.watch.get("watch_last_true_wall")
        if last:
            x["ended_after_last_true_ms"] = round(host - last * 1000.0, 1)
        out.append(x)
    return out


def load_forged(run_dir):
    """forged.jsonl (the forge scenario's hostile writer, chaos/forger.py): -> ({(partition,
    offset): record}, summary), or (None, None) when the run had no forger."""
    path = os.path.join(run_dir, "forged.jsonl")
    if not os.path.exists(path):
        return None, None
    lines, _problem = read_jsonl(path, torn_tail_ok=True)
    forged = {(str(x["partition"]), x["offset"]): x for x in lines if not x.get("summary")}
    summary = next((x for x in lines if x.get("summary")), None)
    return forged, summary


def check_forged(forged, summary, replays, holds, res):
    """What the forged records did, by the independent replay (res["forged"]: per kind, per
    effect), and two violations: a hold whose token is a forged acquire (a process took a
    stranger's record for its own), and a forged record that ended a live request (the
    protocol let a writer release another's request)."""
    V = res["violations"]
    by_kind = {}
    offsets = {}
    held_forged = 0
    for (part, off), x in forged.items():
        rp = replays.get(part)
        effect = rp.effects.get(off, "not in the log") if rp is not None else "partition not in the log"
        k = by_kind.setdefault(x["kind"], {})
        k[effect] = k.get(effect, 0) + 1
        if x.get("key") is not None:
            offsets[(x["key"], off)] = x
        if effect == "released":
            V.append({"kind": "forged record ended a request", "forged": x})
    for h in holds:
        x = offsets.get((h.lock, h.token))
        if x is not None and x["kind"] in ("acquire_nextseq", "replay"):
            V.append({"kind": "hold of a forged acquire", "pid": h.pid, "lock": h.lock, "token": h.token,
                      "forged": x})
            held_forged += 1
    res["forged"] = by_kind
    res["forged_total"] = len(forged)
    # Forged records that met their target (a live request, or an earlier record copied):
    # the ones that test something. A release or renew naming a request already gone does not.
    res["forged_landed"] = sum(n for effects in by_kind.values() for e, n in effects.items()
                               if "unknown or removed" not in e and e != "not in the log")
    res["forger_summary"] = summary
    return held_forged


def deleted_history_checks(meta, faults, by_lock, holds, replays, res):
    """Runs whose records were deleted under the workers (truncate: DeleteRecords to the high
    watermark; retention: deletion by size).

    - live_acquires_deleted: requests alive at a deletion whose acquire it removed (what a
      later joiner cannot see);
    - a process started after a truncation (a joiner) whose first record came less than a
      join window (JOIN_WINDOW_S of log time) after it cannot know its window is complete: it
      must not start a critical section before its first record's broker time + the window
      (a view violation if it does);
    - a joiner that never held, in a run that went on for excuse_waits_s after its
      truncation, is a missed expectation (liveness)."""
    deletions = [f for f in faults if f.get("kind") in ("truncate", "retention_delete")]
    if not deletions:
        return
    exp = res.setdefault("expectations", {})
    V = res["violations"]
    live_deleted = set()
    gone = {}  # partition -> offset below which earlier deletions already removed everything
    for f in sorted(deletions, key=lambda f: f["t"]):
        wall_ms = f.get("wall", 0) * 1000.0
        cut = f.get("offsets") or {str(f.get("partition")): f.get("to")}
        hit = 0
        for part, upto in cut.items():
            rp = replays.get(str(part))
            if rp is None or upto is None:
                continue
            lo, gone[str(part)] = gone.get(str(part), 0), max(upto, gone.get(str(part), 0))
            for req in rp.requests.values():
                if lo <= req.token < upto and req.enq_ts <= wall_ms and (req.removed_ts is None or req.removed_ts > wall_ms):
                    live_deleted.add((str(part), req.token))
                    hit += 1
        # What lands is the deletion of the acquire of a request alive at that moment: the
        # record a process joining later cannot see. A truncation counts once; retention, which
        # deletes a segment at a time, counts each live acquire it removed.
        if hit:
            res["faults_landed"] = res.get("faults_landed", 0) + (1 if f["kind"] == "truncate" else hit)
            exp["deletions_of_live_acquires"] = exp.get("deletions_of_live_acquires", 0) + 1
        else:
            exp["deletions_of_nothing_live"] = exp.get("deletions_of_nothing_live", 0) + 1
    exp["live_acquires_deleted"] = len(live_deleted)
    window_ms = JOIN_WINDOW_S * 1000.0
    truncs = sorted((f for f in faults if f.get("kind") == "truncate"), key=lambda f: f["t"])
    t_stop = meta.get("t_begin", 0) + int(meta.get("params", {}).get("duration", 0) * 1e9)
    firsts = []
    for f in truncs:
        wall_ms = f["wall"] * 1000.0
        lagging = f.get("lagging")
        if lagging is not None:
            # The holder stopped across the deletion: its consumer resumes below the log start.
            h = hold_containing(by_lock, lagging, f["t"])
            exp["lagging_holders"] = exp.get("lagging_holders", 0) + 1
            if h is not None and (h.held is False or h.rel_ok is False):
                exp["lagging_holders_lost_lease"] = exp.get("lagging_holders_lost_lease", 0) + 1
        for pid in f.get("joiners", []) + ([lagging] if lagging is not None else []):
            mine = sorted((h for h in holds if h.pid == pid and h.t_start > f["t"]), key=lambda h: h.t_start)
            # Its first acquire after the deletion: a joiner's join record; for the lagging
            # holder, its join record or an acquire before it (a weaker bound, never a stricter).
            first = None
            for part, rp in replays.items():
                for req in rp.requests.values():
                    if req.pid() == pid and req.enq_ts >= wall_ms and (first is None or req.enq_ts < first):
                        first = req.enq_ts
            if mine and pid != lagging:
                firsts.append(round((mine[0].t_start - f["t"]) / 1e9, 2))
            if first is not None and first - wall_ms < window_ms - 200:
                for h in mine:
                    if h.wall_start * 1000.0 + WALL_TOLERANCE_MS < first + window_ms:
                        res["view_violations"] = res.get("view_violations", 0) + 1
                        V.append({"kind": "joiner trusted a grant within the join window after deleted history",
                                  "pid": pid, "lock": h.lock, "token": h.token,
                                  "join_ts": first, "cs_start_wall_ms": round(h.wall_start * 1000, 3),
                                  "early_ms": round(first + window_ms - h.wall_start * 1000.0, 1)})
            if not mine and f.get("excuse_waits_s") and t_stop - f["t"] > (f["excuse_waits_s"] + 5) * 1e9:
                exp.setdefault("failed", []).append({"kind": "a joiner never held after deleted history", "pid": pid})
    if truncs:
        exp["joiner_first_hold_s"] = firsts


def suite_verdict(results, planned, interrupted=None, lenient_liveness=False):
    """The verdict on a whole suite run. results: the checked runs; planned: how many runs the
    plan had; interrupted: the signal's name if the run was cut short. -> (reasons it failed,
    warnings). Any reason fails the run: a suite that checked nothing must not pass."""
    reasons, warnings = [], []
    if interrupted:
        reasons.append("interrupted by %s" % interrupted)
    if not results:
        reasons.append("no scenario ran")
    elif len(results) < planned:
        reasons.append("%d of %d planned runs finished" % (len(results), planned))
    for r in results:
        if r.get("control"):
            # A control must show what the scenario guards against, or it proves nothing.
            if not r["safety_violations"]:
                reasons.append("%s: control saw no safety violation (the scenario has no teeth)" % r["run"])
        elif r["safety_violations"]:
            reasons.append("%s: %d safety violation(s)" % (r["run"], r["safety_violations"]))
        for x in r.get("failures", []):
            line = "%s: %s check failed: %s" % (r["run"], x["class"], json.dumps(x, default=str)[:600])
            (warnings if lenient_liveness and x["class"] == "liveness" else reasons).append(line)
        for x in r.get("known_failures", []):
            warnings.append("%s: known bug, not a failure: %s" % (r["run"], json.dumps(x, default=str)))
    return reasons, warnings


def hold_containing(by_lock, pid, t):
    for hs in by_lock.values():
        for h in hs:
            if h.pid == pid and h.t_start <= t and (h.end is None or t <= h.end or h.t_chk is None):
                return h
    return None


def scenario_checks(meta, faults, by_lock, holds, res):
    """Each scenario's own expectations (missed ones go to expectations.failed), and how many of
    its faults landed where they test something (res["faults_landed"])."""
    ttl = meta["params"].get("ttl", 1.0)
    V = res["violations"]
    exp = res.setdefault("expectations", {})
    landed = 0

    def fail(kind, **kw):
        exp.setdefault("failed", []).append({"kind": kind, **kw})

    for f in faults:
        kind = f.get("kind")
        if f.get("fault") and kind not in ("kill", "sigstop", "cut", "broker_pause", "forge", "truncate",
                                           "retention_delete", "refused_topic"):
            landed += f.get("count", 1)  # a broker restart, a node kill, junk records, ...
        if kind == "forge":
            landed += res.get("forged_landed", 0)  # forged records that met a live target (check_forged)
        if kind == "refused_topic":
            landed += res.get("refused", 0)  # workers refused as expected
        # truncate, retention_delete: deleted_history_checks.
        if kind == "kill" and f.get("lock"):
            # The runner picks a victim that has read and not yet written; it may still have
            # finished its critical section before the signal landed: such kills do not count.
            victim = [h for h in by_lock.get(f["lock"], []) if h.pid == f["pid"] and h.t_start <= f["t"]]
            if not victim or not victim[-1].killed:
                exp["kills_after_cs"] = exp.get("kills_after_cs", 0) + 1
                continue
            landed += 1
            # The next waiter must hold the lock within TTL + 1 s.
            hs = by_lock.get(f["lock"], [])
            nxt = [h for h in hs if h.t_start > f["t"] and h.pid != f["pid"]]
            if nxt:
                d = (nxt[0].t_start - f["t"]) / 1e9
                exp.setdefault("kill_next_holder_s", []).append(round(d, 3))
                if d > ttl + 1.0:
                    fail("next holder later than TTL + 1 s after kill -9", lock=f["lock"], after_s=round(d, 3))
            elif f.get("waiters", 0) > 0:
                fail("no next holder after kill -9", lock=f["lock"])
        if kind == "sigstop" and f.get("lock"):
            h = hold_containing(by_lock, f["pid"], f["t"])
            if h is None or h.t_chk is None or h.t_chk < f["t_cont"]:
                exp["pause_missed_cs"] = exp.get("pause_missed_cs", 0) + 1
                continue
            exp["pauses_in_cs"] = exp.get("pauses_in_cs", 0) + 1
            landed += 1
            others = [b for b in by_lock.get(h.lock, []) if b.pid != h.pid and f["t"] < b.t_start < f["t_cont"]]
            if f["t_cont"] - f["t"] > ttl * 1e9 + 0.5e9 and not others:
                fail("nobody was granted while the holder was paused past its lease", pid=h.pid, lock=h.lock)
            # Only a successor that may not hold together with the paused holder had to wait for
            # its request to end (with exclusive locks: every successor).
            others = [b for b in others if not may_hold_with(h, b)]
            if others and min(b.token for b in others) <= h.token:
                V.append({"kind": "paused holder's successor has a lower token", "pid": h.pid, "lock": h.lock})
            if h.held:
                V.append({"kind": "resumed holder's isAcquired() true", "pid": h.pid, "lock": h.lock, "token": h.token})
            if h.rel_ok:
                V.append({"kind": "resumed holder's releaseLock() true", "pid": h.pid, "lock": h.lock, "token": h.token})
            if others:
                exp["stale_writes_fenced"] = exp.get("stale_writes_fenced", 0) + (1 if (h.final_ok() is False or h.read_ok is False) else 0)
                if h.final_ok():
                    V.append({"kind": "resumed holder's write accepted after a newer holder", "pid": h.pid, "lock": h.lock})
        if kind in ("cut", "broker_pause") and f.get("victim"):
            hs = [h for h in holds if h.pid == f["victim"] and h.watch]
            if not hs:
                exp["cut_missed"] = exp.get("cut_missed", 0) + 1
                continue
            h = hs[0]
            w = h.watch
            landed += 1
            if not w.get("watch_first_false"):
                fail("cut-off holder's isAcquired() never turned false", pid=h.pid)
                continue
            lt = w.get("watch_last_true") or h.t_start
            nxt = [b for b in by_lock.get(h.lock, []) if b.pid != h.pid and b.t_start > h.t_start]
            item = {"false_after_cut_s": round((w["watch_first_false"] - f["t"]) / 1e9, 3)}
            if nxt:
                item["next_grant_after_last_true_ms"] = round((nxt[0].t_start - lt) / 1e6, 1)
                if nxt[0].t_start < lt:
                    V.append({"kind": "cut-off holder trusted its lease after the next grant", "pid": h.pid, "lock": h.lock})
            exp.setdefault("cutoff", []).append(item)
    res["faults_landed"] = landed


def main():
    for d in sys.argv[1:]:
        print(json.dumps(check_run(d), indent=1, default=str))


if __name__ == "__main__":
    main()
