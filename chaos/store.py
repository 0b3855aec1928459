#!/usr/bin/env python3
"""The fenced store: the resource the workers' critical sections protect.

One process serving JSON lines over a unix socket. Per lock it keeps a counter and the highest
fencing token it has seen. Every access carries the caller's token; an access whose token is
below the highest seen for that lock is refused and counted, so a stale holder (one paused past
its lease) can neither read nor write once the next holder has touched the store:

  {"op":"read","lock":L,"token":T,"pid":P}           -> {"ok":true,"value":V} | {"ok":false,"max":M}
  {"op":"write","lock":L,"token":T,"pid":P,"value":V} -> {"ok":true} | {"ok":false,"max":M}
  {"op":"inside"}   -> pids that read a lock and have not written it since (who is in a CS)
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
max_token = {}     # lock -> highest token seen
token_pid = {}     # (lock, token) -> first pid seen with it
log = []           # every access
inside = {}        # pid -> (lock, token, t) of a read not yet followed by a write
stats = {"reads": 0, "writes": 0, "rejected_reads": 0, "rejected_writes": 0, "token_reuse": 0}


def handle(req):
    op = req.get("op")
    t = time.monotonic_ns()
    if op in ("read", "write"):
        name, token, pid = req["lock"], int(req["token"]), int(req.get("pid", 0))
        with lock:
            cur_max = max_token.get(name, -1)
            entry = {"seq": len(log), "t": t, "op": op, "lock": name, "token": token, "pid": pid}
            owner = token_pid.setdefault((name, token), pid)
            if owner != pid:
                stats["token_reuse"] += 1
                entry["token_reuse_of"] = owner
            if token < cur_max:
                stats["rejected_" + op + "s"] += 1
                entry.update(ok=False, max=cur_max)
                log.append(entry)
                if op == "write":
                    inside.pop(pid, None)
                return {"ok": False, "max": cur_max}
            max_token[name] = token
            prev = counters.get(name, 0)
            if op == "read":
                stats["reads"] += 1
                inside[pid] = (name, token, t)
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
            return {"ok": True, "inside": [{"pid": p, "lock": v[0], "token": v[1], "t": v[2]} for p, v in inside.items()]}
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
