"""The `skew` scenario: one node of the suite's three-node cluster runs with its wall clock
ahead by SKEW seconds (libfaketime, chaos/brokers.py), and the lock topic's partitions are
moved to and from it (their leader is who stamps LogAppendTime, hence the log clock) while
workers hold and wait on locks (docs/reliability.md, "Clock steps").

Each round: a victim worker (through three proxies, one per node) holds the hot lock while
an unskewed node leads every partition; it is cut off from the cluster (it can no longer
renew nor read the log, and watches its own isAcquired()), then the partitions' leadership
moves to the skewed node: the log clock steps forward by SKEW, so the victim's lease ends
that much early by the log and the next waiter is granted. The victim must have stopped
trusting its lease by then: it trusts ttl - ttl/10 - lock.max_clock_step after its last
accepted record, which covers a step up to max_clock_step. The cut lasts until the log has
ended the victim's request (ttl + 1 s); then it heals and the leadership moves back (a
backward step of the log clock, which only makes leases last longer in real time), and after
SKEW + 0.5 s (when the log clock is this host's again) the next round begins. Variants (chaos/run.py, plans()):

  within   SKEW inside the budget (max_clock_step >= SKEW): no safety violation allowed;
  beyond   the control: the same SKEW with max_clock_step 0. The victims keep trusting
           their leases after the next grant: violations are expected, and the suite fails
           if the control sees none (the scenario would prove nothing).

Every batch's leader epoch is read back and mapped to the node that led it, and probes (one
tick produced to every partition after every move, its LogAppendTime compared with this
host's clock) measure each node's skew: the run fails its check if the skewed node's records
are not ahead by SKEW (faketime not in effect) or the others' are. log.json gets the skew of
every record ("skew"), so the checker compares this host's wall clock with the host time at
which each record was appended, not with the skewed timestamp.

Also the few admin requests the runner needs beyond chaos/kafkaproto.py: CreateTopics with a
replica assignment, AlterPartitionReassignments (reorders replicas: the first is the preferred
leader), ElectLeaders (preferred), Metadata with leader epochs, and a Fetch that keeps each
batch's leader epoch.
"""
import random
import struct
import time

import kafkaproto
from kafkaproto import Reader, compact_string, string, uvarint

API_ELECT_LEADERS = 43
API_ALTER_PARTITION_REASSIGNMENTS = 45
ERR_ELECTION_NOT_NEEDED = 84
SKEWED_NODE = 3
# How far a probe's measured skew may be from the node's FAKETIME offset (a round trip on
# this host is a few ms; a loaded machine can take longer between send and answer).
PROBE_TOLERANCE_MS = 150.0


def mono():
    return time.monotonic_ns()


# ---- admin requests ------------------------------------------------------------------------
def _conn(bootstrap, timeout=5.0):
    last = None
    for addr in bootstrap.split(","):
        try:
            return kafkaproto.Connection(*kafkaproto.split(addr), timeout=timeout)
        except (OSError, kafkaproto.KafkaError) as e:
            last = e
    raise kafkaproto.KafkaError("no broker of %s answered: %s" % (bootstrap, last))


def create_topic_assigned(bootstrap, topic, assignment, configs, timeout=10.0):
    """CreateTopics (v4) with a manual replica assignment {partition: [node, ...]} (the first
    node of each list is the partition's preferred leader); waits until every partition has a
    leader."""
    with _conn(bootstrap, timeout) as c:
        v = c.pick(kafkaproto.API_CREATE_TOPICS, [4])
        body = struct.pack(">i", 1) + string(topic) + struct.pack(">ih", -1, -1)
        body += struct.pack(">i", len(assignment))
        for part, nodes in sorted(assignment.items()):
            body += struct.pack(">ii", part, len(nodes)) + b"".join(struct.pack(">i", n) for n in nodes)
        body += struct.pack(">i", len(configs))
        for k, val in configs.items():
            body += string(k) + string(str(val))
        body += struct.pack(">ib", int(timeout * 1000), 0)
        r = c.call(kafkaproto.API_CREATE_TOPICS, v, body)
        r.int32()
        for _ in range(r.int32()):
            name, err, msg = r.string(), r.int16(), r.string()
            if name == topic and err:
                raise kafkaproto.KafkaError("CreateTopics %s: error %d %s" % (topic, err, msg))
    deadline = time.monotonic() + timeout
    while True:
        md = metadata(bootstrap, topic)
        if len(md) == len(assignment) and all(p["leader"] >= 0 for p in md.values()):
            return md
        if time.monotonic() > deadline:
            raise kafkaproto.KafkaError("topic %s has no leaders after %.0f s" % (topic, timeout))
        time.sleep(0.05)


def metadata(bootstrap, topic, timeout=5.0):
    """Metadata (v12) -> {partition: {"leader", "epoch", "replicas", "isr"}} (with the leader
    epoch, which kafkaproto's metadata leaves out)."""
    with _conn(bootstrap, timeout) as c:
        v = c.pick(kafkaproto.API_METADATA, [12, 11, 10, 9])
        body = uvarint(2)
        if v >= 10:
            body += b"\x00" * 16
        body += compact_string(topic) + b"\x00" + b"\x00"
        if v <= 10:
            body += b"\x00"
        body += b"\x00\x00"
        r = c.call(kafkaproto.API_METADATA, v, body, flexible=True)
        r.int32()
        for _ in range(r.uvarint() - 1):
            r.int32(), r.compact_string(), r.int32()
            r.compact_string()
            r.tagged_fields()
        r.compact_string()
        r.int32()
        out = {}
        for _ in range(r.uvarint() - 1):
            r.int16()
            name = r.compact_string()
            if v >= 10:
                r.take(16)
            r.int8()
            parts = {}
            for _ in range(r.uvarint() - 1):
                _perr, idx, leader, epoch = r.int16(), r.int32(), r.int32(), r.int32()
                replicas = [r.int32() for _ in range(r.uvarint() - 1)]
                isr = [r.int32() for _ in range(r.uvarint() - 1)]
                [r.int32() for _ in range(r.uvarint() - 1)]
                r.tagged_fields()
                parts[idx] = {"leader": leader, "epoch": epoch, "replicas": replicas, "isr": isr}
            r.int32()
            r.tagged_fields()
            if name == topic:
                out = parts
        return out


def reorder_replicas(bootstrap, topic, assignment, timeout=10.0):
    """AlterPartitionReassignments (v0, flexible) to the same replicas in a new order (no data
    moves; the first becomes the preferred leader). -> {partition: error code}"""
    with _conn(bootstrap, timeout) as c:
        v = c.pick(API_ALTER_PARTITION_REASSIGNMENTS, [0])
        body = struct.pack(">i", int(timeout * 1000))
        body += uvarint(2) + compact_string(topic) + uvarint(len(assignment) + 1)
        for part, nodes in sorted(assignment.items()):
            body += struct.pack(">i", part) + uvarint(len(nodes) + 1)
            body += b"".join(struct.pack(">i", n) for n in nodes) + b"\x00"
        body += b"\x00" + b"\x00"
        r = c.call(API_ALTER_PARTITION_REASSIGNMENTS, v, body, flexible=True)
        r.int32()
        err, msg = r.int16(), r.compact_string()
        if err:
            raise kafkaproto.KafkaError("AlterPartitionReassignments: error %d %s" % (err, msg))
        out = {}
        for _ in range(r.uvarint() - 1):
            r.compact_string()
            for _ in range(r.uvarint() - 1):
                part, perr = r.int32(), r.int16()
                r.compact_string()
                r.tagged_fields()
                out[part] = perr
            r.tagged_fields()
        return out


def elect_preferred(bootstrap, topic, partitions, timeout=10.0):
    """ElectLeaders (PREFERRED): each partition's first replica becomes its leader if it is in
    the ISR. -> {partition: error code} (84 ELECTION_NOT_NEEDED: it already leads)."""
    with _conn(bootstrap, timeout) as c:
        v = c.pick(API_ELECT_LEADERS, [2, 1])
        flex = v >= 2
        body = struct.pack(">b", 0)  # election type: preferred
        if flex:
            body += uvarint(2) + compact_string(topic) + uvarint(len(partitions) + 1)
            body += b"".join(struct.pack(">i", p) for p in partitions) + b"\x00"
        else:
            body += struct.pack(">i", 1) + string(topic) + struct.pack(">i", len(partitions))
            body += b"".join(struct.pack(">i", p) for p in partitions)
        body += struct.pack(">i", int(timeout * 1000))
        if flex:
            body += b"\x00"
        r = c.call(API_ELECT_LEADERS, v, body, flexible=flex)
        r.int32()
        err = r.int16()
        if err:
            raise kafkaproto.KafkaError("ElectLeaders: error %d" % err)
        out = {}
        for _ in range((r.uvarint() - 1) if flex else r.int32()):
            r.compact_string() if flex else r.string()
            for _ in range((r.uvarint() - 1) if flex else r.int32()):
                part, perr = r.int32(), r.int16()
                r.compact_string() if flex else r.string()
                if flex:
                    r.tagged_fields()
                out[part] = perr
            if flex:
                r.tagged_fields()
        return out


def batch_epochs(bootstrap, topic, partition, timeout=10.0):
    """Every record batch of a partition from offset 0, read from its leader: -> [(first
    offset, last offset, leader epoch, max timestamp)]. The leader epoch says which leader
    appended (and stamped) the batch."""
    md = metadata(bootstrap, topic, timeout)
    leader = md[partition]["leader"]
    brokers = kafkaproto.cluster_metadata(bootstrap, topic, timeout)["brokers"]
    out = []
    with kafkaproto.Connection(*brokers[leader], timeout=timeout) as c:
        v = c.pick(kafkaproto.API_FETCH, [11])
        offset = 0
        while True:
            body = struct.pack(">iiii", -1, 0, 1, 4 << 20) + struct.pack(">b", 0) + struct.pack(">ii", 0, -1)
            body += struct.pack(">i", 1) + string(topic) + struct.pack(">i", 1)
            body += struct.pack(">iiqqi", partition, -1, offset, -1, 4 << 20)
            body += struct.pack(">i", 0) + string("")
            r = c.call(kafkaproto.API_FETCH, v, body)
            r.int32()
            err = r.int16()
            r.int32()
            if err:
                raise kafkaproto.KafkaError("fetch %s-%d: error %d" % (topic, partition, err))
            hw, data = -1, b""
            for _ in range(r.int32()):
                r.string()
                for _ in range(r.int32()):
                    _idx, perr, hw = r.int32(), r.int16(), r.int64()
                    r.int64()
                    r.int64()
                    for _ in range(max(r.int32(), 0)):
                        r.int64()
                        r.int64()
                    r.int32()
                    size = r.int32()
                    data = r.take(size) if size > 0 else b""
                    if perr:
                        raise kafkaproto.KafkaError("fetch %s-%d: error %d" % (topic, partition, perr))
            b = Reader(data)
            got = False
            while b.remaining() >= 61:
                base, blen = b.int64(), b.int32()
                if blen > b.remaining():
                    break
                head = Reader(b.take(blen))
                epoch = head.int32()
                head.int8()
                head.uint32()
                head.int16()
                last = base + head.int32()
                head.int64()
                max_ts = head.int64()
                if last >= offset:
                    out.append((base, last, epoch, max_ts))
                    offset = last + 1
                    got = True
            if offset >= hw or not got:
                return out


# ---- the scenario ---------------------------------------------------------------------------
class Leadership:
    """Moves every partition of the run's topic to a given node (replicas reordered so that it
    comes first, then a preferred election), and keeps what it saw: the leader of every leader
    epoch, and probes of each leader's clock."""

    def __init__(self, run, cluster, parts):
        self.run, self.cluster, self.parts = run, cluster, parts
        self.bootstrap = cluster.bootstrap
        self.epochs = {p: {} for p in parts}  # partition -> {epoch: leader}
        self.probes = []
        self.moves = []
        self.producer = kafkaproto.Producer(self.bootstrap, run.topic)
        self.noted = 0.0

    def watch(self):
        """Notes the leaders every half second (called from the runner's waits), so that a
        leader change nobody asked for (a node fenced under load) still maps its epoch."""
        if time.monotonic() - self.noted >= 0.5:
            try:
                self.note()
            except Exception:  # noqa: BLE001 (a record of unknown epoch fails the input check)
                pass

    def note(self):
        self.noted = time.monotonic()
        md = metadata(self.bootstrap, self.run.topic)
        for p, info in md.items():
            if info["leader"] >= 0:
                self.epochs.setdefault(p, {})[info["epoch"]] = info["leader"]
        return md

    def probe(self, part, leader):
        """One tick into `part` (a well-formed record that only moves the log clock, as every
        waiting client sends): its LogAppendTime against this host's clock."""
        t0 = time.time()
        res = self.producer.send(part, [(None, b'{"v":1,"op":"tick"}')])
        t1 = time.time()
        if res is None or res[0] != 0 or len(res) < 3 or not isinstance(res[2], int) or res[2] < 0:
            return None
        x = {"partition": part, "leader": leader, "offset": res[1], "log_ms": res[2],
             "host_ms": round((t0 + t1) * 500.0, 3), "rtt_ms": round((t1 - t0) * 1000.0, 3)}
        x["skew_ms"] = round(x["log_ms"] - x["host_ms"], 3)
        self.probes.append(x)
        return x

    def move_to(self, node, why):
        """Every partition's leadership to `node`. -> the fault record (a leader move), or a
        record of the failed attempt (not a fault: it does not count as landed)."""
        try:
            return self._move_to(node, why)
        except Exception as e:  # noqa: BLE001 (an admin request failed: note it, go on)
            return self.run.fault(kind="leader_move_failed", to=node, why=why, error=repr(e)[:300])

    def _move_to(self, node, why):
        order = [node] + [n for n in (1, 2, 3) if n != node]
        t = mono()
        wall = time.time()
        before = self.note()
        errs = reorder_replicas(self.bootstrap, self.run.topic, {p: order for p in self.parts})
        # The new order is in place once metadata shows it; then elect the first replica.
        end = time.monotonic() + 10
        md = before
        while time.monotonic() < end:
            md = metadata(self.bootstrap, self.run.topic)
            if all(md[p]["replicas"] == order for p in self.parts):
                break
            time.sleep(0.02)
        el = elect_preferred(self.bootstrap, self.run.topic, self.parts)
        while time.monotonic() < end:
            md = self.note()
            if all(md[p]["leader"] == node for p in self.parts):
                break
            time.sleep(0.02)
        t_done = mono()
        for p in self.parts:
            self.producer.drop(p)  # the old leader's connection
        probes = [self.probe(p, md[p]["leader"]) for p in self.parts]
        f = self.run.fault(kind="leader_move", fault=True, recover="none", t=t, wall=wall, t_done=t_done,
                           to=node, why=why, lock="hot",
                           from_leaders={str(p): before[p]["leader"] for p in self.parts},
                           leaders={str(p): md[p]["leader"] for p in self.parts},
                           epochs={str(p): md[p]["epoch"] for p in self.parts},
                           reassign_errors={str(k): v for k, v in errs.items() if v},
                           elect_errors={str(k): v for k, v in el.items() if v not in (0, ERR_ELECTION_NOT_NEEDED)},
                           took_ms=round((t_done - t) / 1e6, 1), probes=[x for x in probes if x])
        return f

    def annotate(self, log):
        """log.json's "skew": for every partition, ranges of offsets [first, last, skew in ms
        of the node that led the batch]; per node its measured skew (the median probe); the
        epochs and probes. A batch whose epoch's leader is unknown gets null (the checker fails
        the run's input check then)."""
        try:
            self.note()
        except Exception:  # noqa: BLE001
            pass
        nodes = {}
        for x in self.probes:
            nodes.setdefault(x["leader"], []).append(x["skew_ms"])
        measured = {n: sorted(v)[len(v) // 2] for n, v in nodes.items()}
        want = {n: 1000.0 * self.run.p["skew"] if n == SKEWED_NODE else 0.0 for n in (1, 2, 3)}
        ranges = {}
        unknown = []
        for p in self.parts:
            out = []
            for first, last, epoch, _ts in batch_epochs(self.bootstrap, self.run.topic, p):
                leader = self.epochs.get(p, {}).get(epoch)
                s = None if leader is None else want[leader]
                if leader is None:
                    unknown.append({"partition": p, "epoch": epoch, "first": first, "last": last})
                if out and out[-1][2] == s and out[-1][1] + 1 >= first:
                    out[-1][1] = last
                else:
                    out.append([first, last, s])
            ranges[str(p)] = out
        log["skew"] = {"node": SKEWED_NODE, "skew_ms": want[SKEWED_NODE], "partitions": ranges,
                       "measured_ms": {str(n): v for n, v in measured.items()},
                       "epochs": {str(p): {str(e): n for e, n in es.items()} for p, es in self.epochs.items()},
                       "probes": self.probes, "unknown_epochs": unknown[:20],
                       "probe_tolerance_ms": PROBE_TOLERANCE_MS}
        return log

    def close(self):
        self.producer.close()


def sc_skew(run, cluster, proxies, start_workers):
    """Rounds of: a victim holds the hot lock (an unskewed node leads), it is cut off, the
    leadership moves to the skewed node, the victim watches its own lease until it ends, the
    cut heals, the leadership moves back (to node 1 and node 2 in turn)."""
    p = run.p
    parts = list(range(p.get("partitions", 3)))
    # Node 1 leads at first; node 3 (skewed) is second in every replica list.
    order = {q: [1, SKEWED_NODE, 2] for q in parts}
    create_topic_assigned(run.bootstrap, run.topic, order,
                          {"message.timestamp.type": "LogAppendTime", "cleanup.policy": "delete",
                           "retention.ms": "604800000"})
    run.extra_meta["topic_configs"] = {"assignment": {str(q): v for q, v in order.items()}}
    lead = Leadership(run, cluster, parts)
    run.log_annotate = lead.annotate
    md = lead.note()
    for q in parts:  # the clocks before anything moves
        lead.probe(q, md[q]["leader"])
    start_workers(run)
    time.sleep(p.get("warmup", 3.0))
    rnd = random.Random(p.get("seed", 3) * 100 + run.rep)
    back = [2, 1]
    i = 0
    ttl = p["ttl"]
    try:
        while run.remaining() > ttl + 6:
            victim = run.spawn(**{"watch-max": ttl + 2, "iterations": 1, "via": cluster.proxied_bootstrap,
                                  "acq-timeout": 30})
            e = run.wait_inside(lambda e: e["pid"] == victim, timeout=min(20.0, max(1.0, run.remaining() - ttl - 4)))
            if e is None:
                run.fault(kind="victim_not_granted", pid=victim)
                continue
            # A random moment of its renewal period: how much of its lease is left at the cut
            # varies from round to round.
            time.sleep(rnd.uniform(0.0, ttl / 3.0))
            t = mono()
            for px in proxies:
                px.cut.set()
            run.fault(kind="cut", fault=True, victim=victim, pid=victim, lock=e["lock"], token=e["token"], t=t,
                      cause="then the leadership moves to the skewed node")
            lead.move_to(SKEWED_NODE, "victim %d cut off" % victim)
            # The victim watches until its own view turns false (at most watch-max); the cut
            # lasts a lease and a second more, so that the log ends the victim's request by
            # expiry (at the skewed clock) while the victim is still cut off: healing earlier
            # would let its release, held back in the proxy, hand the lock over instead.
            w = run.workers[victim][0]
            end = time.monotonic() + ttl + 4
            while w.poll() is None and time.monotonic() < end and not victim_done(run, victim):
                lead.watch()
                time.sleep(0.05)
            while mono() < t + int((ttl + 1.0) * 1e9):
                lead.watch()
                time.sleep(0.05)
            t_h = mono()
            for px in proxies:
                px.cut.clear()
            run.fault(kind="heal", mode="cut", t=t_h)
            end = time.monotonic() + ttl + 10
            while w.poll() is None and time.monotonic() < end:
                lead.watch()
                time.sleep(0.05)
            # Back to an unskewed node while the others hold and wait (a backward step).
            lead.move_to(back[i % 2], "back")
            i += 1
            end = time.monotonic() + max(p.get("every", 1.0), p["skew"] + 0.5)
            while time.monotonic() < end:
                lead.watch()
                time.sleep(0.05)
    finally:
        for px in proxies:
            px.cut.clear()
        lead.close()
        run.extra_meta["skew"] = {"node": SKEWED_NODE, "seconds": p["skew"], "rounds": i,
                                  "faketime": cluster.skewed()}


def victim_done(run, pid):
    """Whether the victim logged the end of its critical section (its watch is over)."""
    path = run.workers[pid][1]
    try:
        with open(path) as f:
            return '"ev":"cs_end"' in f.read()
    except OSError:
        return False


# ---- self-test of the checker's clock conversion (run by chaos/run.py before the suite) ----
def selftest():
    """Planted cases for what this scenario adds to the checker: the host time of records
    stamped by a skewed leader, the log clock at a host instant, the probes' verdict, and the
    control's verdict. -> [what failed] (empty when all hold)."""
    import checker
    bad = []

    def expect(what, got, want):
        if got != want:
            bad.append("%s: got %r, want %r" % (what, got, want))

    # Offsets 0-1 stamped by an unskewed leader, 2-3 by one 1500 ms ahead, 4 unskewed again
    # (the log clock stays at the max: a backward step).
    recs = [{"offset": 0, "timestamp": 10000}, {"offset": 1, "timestamp": 10100},
            {"offset": 2, "timestamp": 11700}, {"offset": 3, "timestamp": 11800}, {"offset": 4, "timestamp": 10400}]
    sk = checker.PartitionSkew([[0, 1, 0.0], [2, 3, 1500.0], [4, 4, 0.0]], recs)
    expect("host time of a record the skewed leader stamped", sk.host_ms(2), 10200.0)
    expect("host time of a record an unskewed leader stamped", sk.host_ms(4), 10400.0)
    expect("log clock before any record", sk.log_clock_at(9000.0), 9000.0)
    expect("log clock while an unskewed leader leads", sk.log_clock_at(10050.0), 10050.0)
    expect("log clock around a move to the skewed leader (the larger step)", sk.log_clock_at(10150.0), 11650.0)
    expect("log clock while the skewed leader leads", sk.log_clock_at(10250.0), 11750.0)
    expect("log clock after the move back (the max of the timestamps so far)", sk.log_clock_at(10500.0), 11800.0)
    expect("skew of an offset the ranges do not cover", sk.skew(9), None)

    def probes_verdict(probes, ranges=None):
        fails = []
        log = {"partitions": {"0": recs}, "skew": {"node": 3, "partitions": {"0": ranges or [[0, 4, 0.0]]},
                                                   "probes": probes, "probe_tolerance_ms": 150.0}}
        checker.skew_checks({"skew": 1.5}, log, lambda cls, kind, **kw: fails.append(cls + ": " + kind), {})
        return fails

    def probe(leader, ahead_ms, rtt=10.0):
        return {"leader": leader, "log_ms": 1000000.0 + ahead_ms, "host_ms": 1000000.0, "rtt_ms": rtt}

    expect("probes that saw the skew", probes_verdict([probe(3, 1502), probe(1, -3), probe(2, 4)]), [])
    expect("probes of a node whose faketime did not work", len(probes_verdict([probe(3, 2), probe(1, 0)])), 1)
    expect("no probe of the skewed node", len(probes_verdict([probe(1, 0)])), 1)
    expect("an unskewed node ahead", len(probes_verdict([probe(3, 1500), probe(2, 900)])), 1)
    expect("a record of unknown skew", len(probes_verdict([probe(3, 1500)], [[0, 3, 0.0], [4, 4, None]])), 1)
    fails = []
    checker.skew_checks({"skew": 1.5}, {"partitions": {}}, lambda cls, kind, **kw: fails.append(cls), {})
    expect("log.json without skew", fails, ["input"])

    def verdict(**r):
        base = {"run": "x", "safety_violations": 0, "failures": []}
        base.update(r)
        return checker.suite_verdict([base], 1)[0]

    expect("a control that saw violations", verdict(control=True, safety_violations=3), [])
    expect("a control that saw none", len(verdict(control=True)), 1)
    expect("a run that is no control, with violations", len(verdict(safety_violations=1)), 1)
    expect("a control with a failed check", len(verdict(control=True, safety_violations=2,
                                                        failures=[{"class": "coverage", "kind": "x"}])), 1)
    return bad


if __name__ == "__main__":
    import sys
    problems = selftest()
    for x in problems:
        print("skew self-test FAILED:", x)
    print("skew self-test: %d failed" % len(problems))
    sys.exit(1 if problems else 0)
