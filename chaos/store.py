#!/usr/bin/env python3
"""The fenced store: the resource the workers' critical sections protect.

One process serving JSON lines over a unix socket. Per lock it keeps a counter and the highest
fencing token it has seen, per mode. Every access carries the caller's token (and the mode of
its hold: exclusive when absent); an access is refused and counted when a hold that may not
hold together with the caller's, with a larger token, has already touched the lock, so a stale
holder (one paused past its lease) can neither read nor write once the next holder that
excludes it has touched the store:

  {"op":"read","lock":L,"token":T,"pid":P[,"mode":M,"limit":N,"weight":W]}
                                                      -> {"ok":true,"value":V} | {"ok":false,"max":M}
  {"op":"write","lock":L,"token":T,"pid":P,"value":V} -> {"ok":true} | {"ok":false,"max":M}
  {"op":"leave","lock":L,"token":T,"pid":P,...}       -> as read: the last access of a reader's or a
                                                         share's critical section (they never write)
  {"op":"inside"}   -> pids that read a lock and have not written or left it since (who is in a CS)

The fencing rule, for every mode (docs/reliability.md, "Shared locks and semaphores"): an access
with token T in mode M is refused if the store has accepted an access with a token above T in a
mode that may not hold together with M. Tokens are granted in increasing order and a lock's
holders are a FIFO prefix of its queue, so such a grant means T's request had already left the
queue. Hence: an exclusive (writer) access is refused below the highest token of any mode (for
exclusive locks alone, the rule before modes: refused below the highest token seen); a reader's
access only below the highest writer's token (readers do not fence each other); a semaphore
share's below the highest token of a writer, a reader or a share of another limit. Shares of
one limit never fence each other: a token cannot tell a share whose lease ran out from an older
share still holding beside a newer one, so nothing here refuses a share paused past its lease
(the mixed/sharepause control shows what that costs).
  {"op":"dump","path":F} -> writes every access (in the store's order) as JSON lines to F
  {"op":"stats"}    -> counters

The store does not check that a write is read value + 1: the workers compute the new value
(read-modify-write), and the checker verifies that the accepted writes of a lock count up by
exactly one each (a lost update shows as two accepted writes of the same value).
Every access is logged with the store's CLOCK_MONOTONIC time (the clock of PHP's hrtime()).

usage: store.py SOCKET_PATH
"""
import json
import os
import socket
import sys
import threading
import time

lock = threading.Lock()
counters = {}      # lock -> value
max_token = {}     # lock -> highest token seen (any mode)
max_by_kind = {}   # lock -> {kind: highest token of an accepted access of that kind}
token_pid = {}     # (lock, token) -> first pid seen with it
log = []           # every access
inside = {}        # pid -> (lock, token, t, mode) of a read not yet followed by a write or a leave
stats = {"reads": 0, "writes": 0, "leaves": 0, "rejected_reads": 0, "rejected_writes": 0, "rejected_leaves": 0,
         "token_reuse": 0}


def kind_of(req):
    """-> the kind of a hold: "exclusive", "shared" or ("semaphore", limit). Two holds of one
    kind may hold together unless the kind is exclusive (weights are not the store's business:
    the checker sums them)."""
    mode = req.get("mode") or "exclusive"
    if mode == "semaphore":
        return ("semaphore", int(req["limit"]))
    if mode not in ("exclusive", "shared"):
        raise ValueError("unknown mode %r" % mode)
    return mode


def fenced_below(name, kind):
    """The highest token of an accepted access to `name` that excludes a hold of `kind`."""
    seen = max_by_kind.get(name, {})
    if kind == "exclusive":
        return max(seen.values(), default=-1)
    return max((tok for k, tok in seen.items() if k != kind), default=-1)


def handle(req):
    op = req.get("op")
    t = time.monotonic_ns()
    if op in ("read", "write", "leave"):
        name, token, pid = req["lock"], int(req["token"]), int(req.get("pid", 0))
        kind = kind_of(req)
        with lock:
            cur_max = fenced_below(name, kind)
            entry = {"seq": len(log), "t": t, "op": op, "lock": name, "token": token, "pid": pid}
            if kind != "exclusive":
                entry["mode"] = kind if kind == "shared" else "semaphore"
                if kind != "shared":
                    entry["limit"], entry["weight"] = kind[1], req.get("weight")
            owner = token_pid.setdefault((name, token), pid)
            if owner != pid:
                stats["token_reuse"] += 1
                entry["token_reuse_of"] = owner
            if token < cur_max:
                stats["rejected_" + op + "s"] += 1
                entry.update(ok=False, max=cur_max)
                log.append(entry)
                if op in ("write", "leave"):
                    inside.pop(pid, None)
                return {"ok": False, "max": cur_max}
            max_token[name] = max(token, max_token.get(name, -1))
            seen = max_by_kind.setdefault(name, {})
            seen[kind] = max(token, seen.get(kind, -1))
            prev = counters.get(name, 0)
            if op in ("read", "leave"):
                stats[op + "s"] += 1
                if op == "read":
                    inside[pid] = (name, token, t, entry.get("mode", "exclusive"))
                else:
                    inside.pop(pid, None)
                entry.update(ok=True, value=prev)
                log.append(entry)
                return {"ok": True, "value": prev}
            value = int(req["value"])
            counters[name] = value
            stats["writes"] += 1
            inside.pop(pid, None)
            entry.update(ok=True, value=value, prev=prev)
            log.append(entry)
            return {"ok": True}
    if op == "inside":
        with lock:
            return {"ok": True, "inside": [{"pid": p, "lock": v[0], "token": v[1], "t": v[2], "mode": v[3]}
                                           for p, v in inside.items()]}
    if op == "forget":  # the runner killed this pid: it is no longer inside anything
        with lock:
            inside.pop(int(req["pid"]), None)
        return {"ok": True}
    if op == "stats":
        with lock:
            return {"ok": True, "stats": dict(stats), "counters": dict(counters), "max_token": dict(max_token)}
    if op == "dump":
        with lock:
            with open(req["path"], "w") as f:
                for e in log:
                    f.write(json.dumps(e) + "\n")
            return {"ok": True, "entries": len(log), "counters": dict(counters)}
    return {"ok": False, "error": "unknown op %r" % op}


def serve(conn):
    f = conn.makefile("rwb")
    try:
        for line in f:
            try:
                resp = handle(json.loads(line))
            except Exception as e:  # noqa: BLE001 (a bad request must not kill the store)
                resp = {"ok": False, "error": repr(e)}
            f.write((json.dumps(resp) + "\n").encode())
            f.flush()
    except OSError:
        pass
    finally:
        try:
            conn.close()
        except OSError:
            pass


def main():
    path = sys.argv[1]
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(128)
    print("ready", flush=True)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
