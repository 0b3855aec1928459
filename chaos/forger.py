#!/usr/bin/env python3
"""A hostile writer for the `forge` scenario (chaos/run.py): it reads the lock topic all the
time, as any client with READ can, and keeps producing records meant to end or shorten the
requests of the live holders it sees (docs/protocol.md, "Owner proofs"):

  release_nosecret    {"op":"release"} copying the holder's owner and ref, no secret
  release_copysecret  the same with a secret copied from another release record of the log
  renew_short         {"op":"renew"} copying owner, ref and commit, "ttl":1 and a prev in the
                      future (so the renew is valid when it lands)
  replay              an earlier record of the log, byte for byte, to its partition
  acquire_nextseq     {"op":"acquire"} in the holder's owner name with its next seq, ttl 1 ms
                      (with the holder's commit and a random nonce, its last nonce, or no proofs)

Every record it wrote is a line of --out (JSON: kind, partition, offset, key, target token,
owner), so the checker can tell forged offsets from honest ones; the last line is a summary.
Stops on SIGTERM or after --duration seconds.

usage: forger.py --bootstrap H:P --topic T --out FILE [--rate 50] [--seed 1] [--duration 60]
"""
import argparse
import json
import os
import random
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kafkaproto  # noqa: E402
import replay as replay_mod  # noqa: E402

KINDS = {"release_nosecret": 3, "release_copysecret": 3, "renew_short": 3, "replay": 2, "acquire_nextseq": 2}
FUTURE_MS = 3000  # a forged renew's prev lies this far ahead of the forger's clock


class View:
    """What the forger knows of one partition: an approximate replay (it trusts release secrets
    and leaves its own records out), owners' commitments and seqs, release secrets, earlier
    records."""

    def __init__(self):
        self.replay = replay_mod.Replay(verify=False)
        self.next = 0
        self.history = []  # (key, value) of honest records, for byte-for-byte replays


class Forger:
    def __init__(self, args):
        self.a = args
        self.rnd = random.Random(args.seed)
        self.prod = kafkaproto.Producer(args.bootstrap, args.topic)
        md = kafkaproto.cluster_metadata(args.bootstrap, args.topic)
        self.parts = sorted(md["partitions"])
        self.views = {p: View() for p in self.parts}
        self.conns = {}
        self.own = set()  # (partition, offset) of forged records
        self.owners = {}   # owner -> {"commit": hex, "seq": int, "nonce": hex}
        self.secrets = []  # secrets (hex) seen on release records
        self.sent = {k: 0 for k in KINDS}
        self.refused = 0
        self.skipped = 0
        self.out = open(args.out, "w")
        self.stop = False

    def conn(self, part):
        c = self.conns.get(part)
        if c is None:
            leader, _p, brokers = kafkaproto.leader_of(self.a.bootstrap, self.a.topic, part)
            c = kafkaproto.Connection(*brokers[leader])
            self.conns[part] = c
        return c

    def read(self):
        """Reads every partition up to its end (what is there now)."""
        for part in self.parts:
            v = self.views[part]
            try:
                err, _hw, recs = self.conn(part).fetch(self.a.topic, part, v.next, max_wait_ms=0)
            except (OSError, kafkaproto.KafkaError):
                c = self.conns.pop(part, None)
                if c:
                    c.close()
                continue
            if err:
                continue
            for r in recs:
                v.next = r["offset"] + 1
                if (part, r["offset"]) in self.own:
                    continue
                v.replay.handle(r["offset"], r["timestamp"], r["key"], r["value"])
                v.history.append((r["key"], r["value"]))
                if len(v.history) > 5000:
                    del v.history[:1000]
                try:
                    d = replay_mod.decode(r["key"], r["value"])
                except replay_mod.Reject:
                    continue
                if d["op"] == "acquire":
                    o = self.owners.setdefault(d["owner"], {"seq": -1})
                    o["seq"] = max(o["seq"], d["seq"])
                    o["commit"] = d["commit"].hex() if d["commit"] else None
                    o["nonce"] = d["nonce"].hex() if d["nonce"] else None
                elif d["op"] == "release" and d["secret"] is not None:
                    self.secrets.append(d["secret"].hex())
                    if len(self.secrets) > 500:
                        del self.secrets[:100]

    def holders(self):
        """-> [(partition, key, Request)]: the head of every queue the forger sees."""
        out = []
        for part, v in self.views.items():
            for key, q in v.replay.queues.items():
                if q:
                    out.append((part, key, next(iter(q.values()))))
        return out

    def forge(self, kind):
        """-> (partition, key bytes, value bytes, target token, owner) or None."""
        if kind == "replay":
            part = self.rnd.choice(self.parts)
            hist = self.views[part].history
            if not hist:
                return None
            key, value = self.rnd.choice(hist[-2000:])
            return part, key, value, None, None
        live = self.holders()
        if not live:
            return None
        part, key, req = self.rnd.choice(live)
        kb = key.encode()
        owner = self.owners.get(req.owner, {})
        commit = req.commit.hex() if req.commit else owner.get("commit")
        if kind == "release_nosecret":
            d = {"v": 1, "op": "release", "owner": req.owner, "ref": req.token}
        elif kind == "release_copysecret":
            if not self.secrets:
                return None
            d = {"v": 1, "op": "release", "owner": req.owner, "ref": req.token,
                 "secret": self.rnd.choice(self.secrets)}
        elif kind == "renew_short":
            d = {"v": 1, "op": "renew", "owner": req.owner, "ref": req.token,
                 "prev": int(time.time() * 1000) + FUTURE_MS, "ttl": 1}
            if commit:
                d["commit"] = commit
        elif kind == "acquire_nextseq":
            d = {"v": 1, "op": "acquire", "owner": req.owner, "seq": owner.get("seq", 0) + 1, "ttl": 1}
            how = self.rnd.randrange(3)
            if how < 2 and commit:
                d["commit"] = commit
                d["nonce"] = owner.get("nonce") if how == 1 and owner.get("nonce") else os.urandom(16).hex()
        else:
            raise ValueError(kind)
        return part, kb, json.dumps(d, separators=(",", ":")).encode(), req.token, req.owner

    def run(self):
        t0 = time.monotonic()
        interval = 1.0 / self.a.rate
        nxt = time.monotonic()
        kinds = [k for k, w in KINDS.items() for _ in range(w)]
        while not self.stop and time.monotonic() - t0 < self.a.duration:
            self.read()
            if time.monotonic() < nxt:
                time.sleep(min(0.005, max(0.0, nxt - time.monotonic())))
                continue
            nxt += interval
            kind = self.rnd.choice(kinds)
            f = self.forge(kind)
            if f is None:
                self.skipped += 1
                continue
            part, key, value, target, owner = f
            t = time.monotonic_ns()
            res = self.prod.send(part, [(key, value)])
            if res is None or res[0] != 0:
                self.refused += 1
                continue
            self.own.add((part, res[1]))
            self.sent[kind] += 1
            self.out.write(json.dumps({"t": t, "kind": kind, "partition": part, "offset": res[1],
                                       "key": key.decode(errors="replace") if key else None, "target": target,
                                       "owner": owner}) + "\n")
        self.prod.close()
        self.out.write(json.dumps({"summary": True, "sent": self.sent, "refused": self.refused,
                                   "skipped_nothing_to_forge": self.skipped,
                                   "secrets_seen": len(self.secrets), "owners_seen": len(self.owners)}) + "\n")
        self.out.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--rate", type=float, default=50.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--duration", type=float, default=3600.0)
    f = Forger(ap.parse_args())

    def on_term(signum, frame):
        f.stop = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    print("ready", flush=True)
    f.run()


if __name__ == "__main__":
    main()
