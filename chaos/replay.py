"""An independent replay of the lock topic, written from docs/protocol.md (not from src/), used
by the checker as an oracle: which request the log granted, when (broker time), and until when
its lease ran by the log (its deadline, last accepted alive time + ttl).

Full replay from offset 0 (the topics of the suite are new for every run, and the runner keeps
every record it read before deleting any), so a renew of an unknown ref never inserts anything
and tombstones play no part. The owner proofs ("Owner proofs" in docs/protocol.md): a request
whose acquire named a commitment (`commit`, the SHA-256 of the request's release secret) ends
early only by a release carrying that secret (`secret`, whose SHA-256 must equal the
commitment); a renew naming another commitment or owner changes nothing; a valid renew never
lowers the ttl.

Modes (docs/protocol.md, "Modes" and step 4 of "The state machine", since 2dedba6): an acquire
may carry `"mode":"shared"` or `"mode":"semaphore"` with `limit` and `weight`; without `mode` it
is exclusive. The granted requests of a lock are the longest prefix of its queue (token order)
whose modes may hold together (`may_hold_together`): one exclusive request alone, shared
requests together, semaphore requests of one limit while their weights sum to at most it.
"""
import hashlib
import json

MAX_VALUE_BYTES = 2048
MAX_KEY_BYTES = 1024
MAX_OWNER_BYTES = 128
MAX_TTL_MS = 60000
U64 = (1 << 64) - 1
I63 = (1 << 63) - 1
I64_MIN, I64_MAX = -(1 << 63), (1 << 63) - 1

FIELDS = {
    "acquire": {"v", "op", "owner", "seq", "ttl"},
    "renew": {"v", "op", "owner", "ref", "prev", "ttl"},
    "release": {"v", "op", "owner", "ref"},
    "tick": {"v", "op"},
}
# Owner proofs each op may carry (optional), and their length in bytes (lowercase hex on the wire).
# Fields of the Ed25519 format (`pub`, `sig`) are unknown fields now: such records are malformed.
PROOFS = {"acquire": {"commit", "nonce"}, "renew": {"commit"}, "release": {"secret"}, "tick": set()}
PROOF_BYTES = {"commit": 32, "nonce": 16, "secret": 32}
HEX = set("0123456789abcdef")
# Modes: optional acquire fields (docs/protocol.md, "Modes").
MODE_FIELDS = {"mode", "limit", "weight"}
MAX_SEMAPHORE_LIMIT = 1_000_000
EXCLUSIVE, SHARED, SEMAPHORE = "exclusive", "shared", "semaphore"


def commitment_of(secret):
    """The commitment a release's secret opens: its SHA-256 (32 bytes)."""
    return hashlib.sha256(secret).digest()


class Reject(Exception):
    pass


def _no_dups(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise Reject("duplicate field %s" % k)
        d[k] = v
    return d


def _int(d, k, lo, hi):
    v = d[k]
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise Reject("bad %s" % k)
    return v


def _utf8(b, what):
    try:
        return b.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        raise Reject("%s not UTF-8" % what) from None


def decode(key, value):
    """-> dict(op=..., ...) or raises Reject."""
    if value is None:
        raise Reject("null value")
    if len(value) > MAX_VALUE_BYTES:
        raise Reject("value too long")
    text = _utf8(value, "value")
    try:
        d = json.loads(text, object_pairs_hook=_no_dups, parse_constant=lambda c: (_ for _ in ()).throw(Reject(c)))
    except Reject:
        raise
    except ValueError as e:
        raise Reject("bad JSON: %s" % e) from None
    if not isinstance(d, dict):
        raise Reject("not an object")
    op = d.get("op")
    if not isinstance(op, str) or op not in FIELDS:
        raise Reject("unknown op")
    if not FIELDS[op] <= set(d) <= FIELDS[op] | PROOFS[op] | (MODE_FIELDS if op == "acquire" else set()):
        raise Reject("fields")
    _int(d, "v", 1, 1)
    out = {"op": op}
    for name in PROOFS[op]:
        out[name] = None
        if name in d:
            text = d[name]
            if not isinstance(text, str) or len(text) != 2 * PROOF_BYTES[name] or not set(text) <= HEX:
                raise Reject("bad %s" % name)
            out[name] = bytes.fromhex(text)
    if op != "tick":
        owner = d["owner"]
        if not isinstance(owner, str):
            raise Reject("owner type")
        try:
            ob = owner.encode("utf-8", errors="strict")
        except UnicodeEncodeError:
            raise Reject("owner not UTF-8") from None
        if not 1 <= len(ob) <= MAX_OWNER_BYTES:
            raise Reject("owner length")
        out["owner"] = owner
        if key is None:
            raise Reject("null key")
        if not 1 <= len(key) <= MAX_KEY_BYTES:
            raise Reject("key length")
        out["key"] = _utf8(key, "key")
    if op == "acquire":
        out["seq"] = _int(d, "seq", 0, U64)
        out["ttl"] = _int(d, "ttl", 1, MAX_TTL_MS)
        out["mode"], out["limit"], out["weight"] = EXCLUSIVE, None, None
        if "mode" in d:
            mode = d["mode"]
            if not isinstance(mode, str):
                raise Reject("mode type")
            if mode not in (SHARED, SEMAPHORE):  # "exclusive" too: one spelling per mode
                raise Reject("unknown mode")
            out["mode"] = mode
        if out["mode"] == SEMAPHORE:
            if "limit" not in d or "weight" not in d:
                raise Reject("fields")
            out["limit"] = _int(d, "limit", 1, MAX_SEMAPHORE_LIMIT)
            out["weight"] = _int(d, "weight", 1, out["limit"])
        elif "limit" in d or "weight" in d:
            raise Reject("fields")
    elif op == "renew":
        out["ref"] = _int(d, "ref", 0, I63)
        out["prev"] = _int(d, "prev", I64_MIN, I64_MAX)
        out["ttl"] = _int(d, "ttl", 1, MAX_TTL_MS)
    elif op == "release":
        out["ref"] = _int(d, "ref", 0, I63)
    return out


def may_hold_together(modes):
    """modes: [(mode, limit, weight)] of requests, in token order. -> whether they may all hold at
    once: one exclusive request alone; shared requests only; semaphore requests of one limit whose
    weights sum to at most it (docs/protocol.md, step 4 of "The state machine")."""
    if not modes:
        return True
    kinds = {(m, lim) for m, lim, _w in modes}
    if len(kinds) != 1:
        return False
    mode, limit = next(iter(kinds))
    if mode == EXCLUSIVE:
        return len(modes) == 1
    if mode == SHARED:
        return True
    return sum(w for _m, _l, w in modes) <= limit


class Request:
    __slots__ = ("token", "key", "owner", "ttl", "last_alive", "enq_ts", "granted_at", "granted_ts",
                 "removed_at", "removed_ts", "removed_why", "deadline_at_removal", "renews", "commit",
                 "mode", "limit", "weight")

    def __init__(self, token, key, owner, ttl, ts, commit=None, mode=EXCLUSIVE, limit=None, weight=None):
        self.token, self.key, self.owner, self.ttl, self.commit = token, key, owner, ttl, commit
        self.mode, self.limit, self.weight = mode, limit, weight
        self.last_alive = ts
        self.enq_ts = ts
        self.granted_at = self.granted_ts = None
        self.removed_at = self.removed_ts = self.removed_why = None
        self.deadline_at_removal = None
        self.renews = 0

    @property
    def deadline(self):
        return self.last_alive + self.ttl

    def pid(self):
        # Owner names are "host/pid/nanos/counter" (src/session/session.rs, new_owner).
        try:
            return int(self.owner.split("/")[1])
        except (IndexError, ValueError):
            return None


class Replay:
    """verify=False trusts every release's secret (the forger's rough view of who holds
    what); the checker's oracle verifies. effects=True keeps, per offset, what the record did
    (self.effects[offset] = "enqueued", "renewed", "released" or the reason it was ignored)."""

    def __init__(self, verify=True, effects=False):
        self.verify = verify
        self.effects = {} if effects else None
        self.clock = None
        self.queues = {}      # key -> {token: Request} (insertion = token order)
        self.requests = {}    # token -> Request (per partition: tokens are offsets)
        self.granted = {}     # key -> set of the tokens its queue grants (a prefix of the queue)
        self.malformed = {}   # reason -> count
        self.ignored = {}     # reason -> count (well-formed but no effect)
        self.records = 0
        self.grants = []      # Request in grant order

    def _remove(self, req, offset, why):
        q = self.queues[req.key]
        del q[req.token]
        req.removed_at, req.removed_ts, req.removed_why = offset, self.clock, why
        req.deadline_at_removal = req.deadline
        if not q:
            del self.queues[req.key]

    def _ignore(self, why):
        self.ignored[why] = self.ignored.get(why, 0) + 1
        self._effect(why)

    def _effect(self, what):
        if self.effects is not None:
            self.effects[self._offset] = what

    def handle(self, offset, ts, key, value):
        self._offset = offset
        self.records += 1
        self.clock = ts if self.clock is None else max(self.clock, ts)
        touched = set()
        # 2. expiry
        for q in list(self.queues.values()):
            for req in list(q.values()):
                if self.clock > req.deadline:
                    touched.add(req.key)
                    self._remove(req, offset, "expired")
        # 3. the op
        try:
            rec = decode(key, value)
        except Reject as e:
            why = str(e).split(":")[0]
            self.malformed[why] = self.malformed.get(why, 0) + 1
            self._effect("malformed: " + why)
            rec = None
        if rec is not None:
            op = rec["op"]
            if op == "acquire":
                req = Request(offset, rec["key"], rec["owner"], rec["ttl"], self.clock, rec["commit"],
                              rec["mode"], rec["limit"], rec["weight"])
                self.queues.setdefault(req.key, {})[offset] = req
                self.requests[offset] = req
                touched.add(req.key)
                self._effect("enqueued")
            elif op == "renew":
                req = self.requests.get(rec["ref"])
                if self.clock > rec["prev"] + rec["ttl"]:
                    self._ignore("renew invalid (prev + ttl passed)")
                elif req is None or req.removed_at is not None:
                    self._ignore("renew of unknown or removed ref")
                elif req.key != rec["key"]:
                    self._ignore("renew wrong key")
                elif req.owner != rec["owner"]:
                    self._ignore("renew wrong owner")
                elif req.commit != rec["commit"]:
                    self._ignore("renew wrong commitment")
                else:
                    req.last_alive = self.clock
                    req.ttl = max(req.ttl, rec["ttl"])  # a renew never shortens a lease
                    req.renews += 1
                    self._effect("renewed")
            elif op == "release":
                req = self.requests.get(rec["ref"])
                if req is None or req.removed_at is not None:
                    self._ignore("release of unknown or removed ref")
                elif req.key != rec["key"]:
                    self._ignore("release wrong key")
                elif req.owner != rec["owner"]:
                    self._ignore("release wrong owner")
                elif (req.commit is not None and self.verify
                      and not (rec["secret"] is not None and commitment_of(rec["secret"]) == req.commit)):
                    self._ignore("release bad secret")
                else:
                    touched.add(req.key)
                    self._remove(req, offset, "released")
                    self._effect("released")
            else:
                self._effect("tick")
        # 4. grants: the longest prefix of each touched queue whose modes may hold together
        # (with exclusive requests only, the head). Each request that joins it is granted here.
        for k in sorted(touched):
            q = self.queues.get(k)
            if not q:
                self.granted.pop(k, None)
                continue
            prefix, modes = [], []
            for req in q.values():
                modes.append((req.mode, req.limit, req.weight))
                if not may_hold_together(modes):
                    break
                prefix.append(req)
            before = self.granted.get(k, set())
            for req in prefix:
                if req.token not in before:
                    req.granted_at, req.granted_ts = offset, self.clock
                    self.grants.append(req)
            self.granted[k] = {req.token for req in prefix}


def replay_partition(records, effects=False):
    r = Replay(effects=effects)
    for rec in sorted(records, key=lambda x: x["offset"]):
        r.handle(rec["offset"], rec["timestamp"], rec["key"], rec["value"])
    return r
