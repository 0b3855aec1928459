#!/usr/bin/env python3
"""Per-scenario details of a chaos run, as Markdown (for docs/reliability.md).

usage: summary.py RESULTS_DIR   (the folder run.py printed: .run/chaos/results/STAMP-MODE)
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checker  # noqa: E402


def load(folder):
    out = {}
    with open(os.path.join(folder, "results.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            meta = json.load(open(os.path.join(folder, r["run"], "meta.json")))
            label = r["scenario"] + ("/" + meta["params"]["variant"] if meta["params"].get("variant") else "")
            faults = checker.load_jsonl(os.path.join(folder, r["run"], "faults.jsonl"))
            out.setdefault(label, []).append((r, meta, faults))
    return out


def rng(values, fmt="%.2f"):
    if not values:
        return "-"
    return (fmt + " to " + fmt) % (min(values), max(values))


def main():
    folder = sys.argv[1]
    runs = load(folder)
    lines = []
    for label, rs in runs.items():
        lines.append("- **%s**: " % label)
        exp = [r.get("expectations", {}) for r, _, _ in rs]
        exc = {}
        for r, _, _ in rs:
            for k, v in r["exceptions"].items():
                exc[k] = exc.get(k, 0) + v
        bits = []
        if label == "kill":
            nxt = [x for e in exp for x in e.get("kill_next_holder_s", [])]
            after = sum(e.get("kills_after_cs", 0) for e in exp)
            bits.append("%d kills landed inside a critical section (%d more just after it ended); the next holder "
                        "of the killed holder's lock held it %s s after the kill (p50 %.2f s; lease 1 s)" % (
                            len(nxt) + sum(1 for e in exp for x in e.get("failed", []) if "kill" in x["kind"]),
                            after, rng(nxt), checker.pct(nxt, 50) or 0))
        if label == "pause":
            inside = sum(e.get("pauses_in_cs", 0) for e in exp)
            fenced = sum(e.get("stale_writes_fenced", 0) for e in exp)
            lost = sum(r["leases_lost"] for r, _, _ in rs)
            missed = sum(1 for e in exp for x in e.get("failed", []) if "nobody was granted" in x["kind"])
            bits.append("%d pauses of 2.5 s hit a holder inside its critical section; in %d of them another process "
                        "was granted meanwhile with a higher token; the resumed holder's `isAcquired()` was false "
                        "(%d leases lost) and its `releaseLock()` false, and %d of its writes were refused by the "
                        "store" % (inside, inside - missed, lost, fenced))
        if label.startswith("mixed"):
            modes = {}
            for r, _, _ in rs:
                for k, v in r.get("holds_by_mode", {}).items():
                    modes[k] = modes.get(k, 0) + v
            kinds = {}
            for _, _, fs in rs:
                for f in fs:
                    if f.get("fault"):
                        k = "%s (%s)" % ("kill -9" if f["kind"] == "kill" else "SIGSTOP", f.get("mode"))
                        kinds[k] = kinds.get(k, 0) + 1
            mw = {}
            for r, _, _ in rs:
                for k, v in r.get("max_weight", {}).items():
                    mw[k] = max(mw.get(k, 0), v)
            bits.append("holds by mode %s; %d pairs of overlapping holds that may hold together; the most weight "
                        "held at once %s; faults: %s; %d pauses in a critical section, %d of them fenced by the "
                        "store; %d semaphore instants over the limit (%d excused), %d store-view conflicts" % (
                            ", ".join("%s %d" % kv for kv in sorted(modes.items())),
                            sum(r.get("together", 0) for r, _, _ in rs), mw,
                            ", ".join("%s %d" % kv for kv in sorted(kinds.items())),
                            sum(e.get("pauses_in_cs", 0) for e in exp), sum(e.get("stale_writes_fenced", 0) for e in exp),
                            sum(r.get("weight_over_limit", 0) for r, _, _ in rs),
                            sum(r.get("weight_over_limit_excused", 0) for r, _, _ in rs),
                            sum(r.get("store_view_violations", 0) for r, _, _ in rs)))
        if label == "junk":
            mal, ign = {}, {}
            for r, _, _ in rs:
                for k, v in r.get("log_malformed", {}).items():
                    mal[k] = mal.get(k, 0) + v
                for k, v in r.get("log_ignored", {}).items():
                    ign[k] = ign.get(k, 0) + v
            sent = {}
            for _, _, fs in rs:
                for f in fs:
                    for k, v in f.get("sent", {}).items():
                        sent[k] = sent.get(k, 0) + v
            bits.append("%d junk records (%s); the replay counts %d malformed (%s) and %d well-formed records "
                        "without effect (%s); %d leases lost, %d acquire errors, %d stuck" % (
                            sum(sent.values()), ", ".join("%s %d" % kv for kv in sorted(sent.items())),
                            sum(mal.values()), ", ".join("%s %d" % kv for kv in sorted(mal.items(), key=lambda x: -x[1])),
                            sum(ign.values()), ", ".join("%s %d" % kv for kv in sorted(ign.items(), key=lambda x: -x[1])),
                            sum(r["leases_lost"] for r, _, _ in rs), sum(r["acquire_errors"] for r, _, _ in rs),
                            sum(r["stuck"] for r, _, _ in rs)))
        if label == "cutoff":
            items = [x for e in exp for x in e.get("cutoff", [])]
            margins = [m for r, _, _ in rs for m in r.get("watch_margin_ms", [])]
            nxt = [x["next_grant_after_last_true_ms"] for x in items if "next_grant_after_last_true_ms" in x]
            fal = [x["false_after_cut_s"] for x in items]
            bits.append("%d holders cut off (proxy black hole, or broker SIGSTOP); each saw `isAcquired()` turn "
                        "false %s s after the cut; its last `true` was %s ms before the log's deadline for its "
                        "lease, and %s ms before the next process's grant" % (len(items), rng(fal), rng(margins, "%.0f"),
                                                                               rng(nxt, "%.0f")))
        if label.startswith("restart") or label.startswith("cluster"):
            outs = [f.get("outage_s") for _, _, fs in rs for f in fs if f.get("outage_s") is not None]
            if outs:
                bits.append("%d restarts, broker unavailable %s s (lease %.0f s)" % (
                    len(outs), rng(outs, "%.1f"), rs[0][1]["params"]["ttl"]))
            kills = [f for _, _, fs in rs for f in fs if f.get("kind") == "node_kill"]
            if kills:
                fr = [x for r0, _, _ in rs for x in r0.get("fault_recovery", []) if x["kind"] == "node_kill"]
                lead = [x["recovery_s"] for x in fr if x["role"] == "leader" and x["recovery_s"] is not None]
                foll = [x["recovery_s"] for x in fr if x["role"] == "follower" and x["recovery_s"] is not None]
                bits.append("%d leader kills, the hot lock's next fresh acquisition %s s later; %d follower kills, "
                            "%s s later (acks=all waits until the dead follower leaves the ISR)" % (
                                len([k for k in kills if k["role"] == "leader"]), rng(lead),
                                len([k for k in kills if k["role"] == "follower"]), rng(foll)))
        if label == "forge":
            eff = {}
            for r, _, _ in rs:
                for kind, effects in (r.get("forged") or {}).items():
                    for e, n in effects.items():
                        eff.setdefault(kind, {})[e] = eff.setdefault(kind, {}).get(e, 0) + n
            bits.append("%d forged records (%d met a live target or copied an earlier record); what the log did "
                        "with them, by kind: %s" % (
                            sum(r.get("forged_total", 0) for r, _, _ in rs), sum(r.get("forged_landed", 0) for r, _, _ in rs),
                            "; ".join("%s: %s" % (k, ", ".join("%s %d" % kv for kv in sorted(v.items(), key=lambda x: -x[1])))
                                      for k, v in sorted(eff.items()))))
        if label == "truncate":
            firsts = [x for e in exp for x in e.get("joiner_first_hold_s", [])]
            waits = sum(r.get("expected_waits", 0) for r, _, _ in rs)
            bits.append("%d DeleteRecords to the high watermark while the hot lock was held (%d removed the acquire "
                        "of a live request; %d live acquires deleted in all); joiners' first critical section "
                        "%s s after their truncation (%d joiners held before the run ended); %d acquires that "
                        "began within the excused time after a truncation timed out (expected); %d leases lost" % (
                            sum(1 for _, _, fs in rs for f in fs if f.get("kind") == "truncate"),
                            sum(e.get("deletions_of_live_acquires", 0) for e in exp),
                            sum(e.get("live_acquires_deleted", 0) for e in exp), rng(firsts), len(firsts), waits,
                            sum(r["leases_lost"] for r, _, _ in rs)))
        if label.startswith("compacted") or label == "retention/ms":
            cfg = rs[0][1].get("topic_configs", {})
            bits.append("topic with %s: %d of %d workers refused by the constructor (%s), none locked" % (
                ", ".join("%s=%s" % kv for kv in sorted(cfg.items()) if kv[0] != "message.timestamp.type"),
                sum(r.get("refused", 0) for r, _, _ in rs),
                sum(len(m.get("workers", {})) for _, m, _ in rs), rs[0][1]["params"]["expect_refusal"]["class"]))
        if label == "retention/bytes":
            moves = [f for _, _, fs in rs for f in fs if f.get("kind") == "retention_delete"]
            bits.append("%d deletions by size observed (%d records deleted; %d removed the acquire of a live "
                        "request, %d live acquires deleted in all); %d leases lost, %d acquire errors" % (
                            len(moves), sum(f["to"] - f["from"] for f in moves),
                            sum(e.get("deletions_of_live_acquires", 0) for e in exp),
                            sum(e.get("live_acquires_deleted", 0) for e in exp),
                            sum(r["leases_lost"] for r, _, _ in rs), sum(r["acquire_errors"] for r, _, _ in rs)))
        if label.startswith("skew"):
            m = rs[0][1]
            moves = [f for _, _, fs in rs for f in fs if f.get("kind") == "leader_move"]
            rounds = [x for r, _, _ in rs for x in r.get("skew_rounds", [])]
            ended = {}
            for x in rounds:
                ended[x.get("ended")] = ended.get(x.get("ended"), 0) + 1
            seen = {}
            for r, _, _ in rs:
                for n, b in (r.get("skew_seen_ms") or {}).items():
                    s0 = seen.setdefault(n, [b["at_least"], b["at_most"], 0])
                    s0[0], s0[1], s0[2] = max(s0[0], b["at_least"]), min(s0[1], b["at_most"]), s0[2] + b["probes"]
            after = [x["ended_after_last_true_ms"] for x in rounds if "ended_after_last_true_ms" in x]
            ahead = [x["log_ahead_ms"] for x in rounds if "log_ahead_ms" in x]
            took = [f["took_ms"] for f in moves]
            bits.append("node %s's clock %+g s (lease %g s, lock.max_clock_step %s s); %d leader moves of all 3 "
                        "partitions (%d to the skewed node, %s ms each); probes: %s; %d victims cut off while "
                        "holding the hot lock, their requests ended by the log: %s (%d of them at a record the "
                        "skewed node stamped), %s ms after the victim's last `true` isAcquired() (negative: "
                        "before)" % (
                            m.get("skew", {}).get("node", "?"), m["params"]["skew"], m["params"]["ttl"],
                            m["params"]["worker"].get("clock-step"), len(moves),
                            sum(1 for f in moves if f.get("to") == m.get("skew", {}).get("node")), rng(took, "%.0f"),
                            ", ".join("node %s %.0f to %.0f ms ahead (%d)" % (n, b[0], b[1], b[2])
                                      for n, b in sorted(seen.items())),
                            len(rounds), ", ".join("%s %d" % (k, v) for k, v in sorted(ended.items(), key=str)),
                            sum(1 for a in ahead if a >= 1000.0 * m["params"]["skew"] - 1), rng(after, "%.0f")))
            if m["params"].get("control"):
                kinds = {}
                for r, _, _ in rs:
                    for v in r["violations"]:
                        kinds[v["kind"]] = kinds.get(v["kind"], 0) + 1
                bits.append("control: %d violations seen (%s)" % (
                    sum(kinds.values()), ", ".join("%s %d" % kv for kv in sorted(kinds.items(), key=lambda x: -x[1]))))
        stuck = [s for r, _, _ in rs for s in r.get("stuck_detail", [])]
        if stuck:
            bits.append("stuck: " + "; ".join("pid %s on %s: %s after %.1f s" % (s["pid"], s["lock"], s["why"], s["waited"])
                                              for s in stuck[:6]) + (" ..." if len(stuck) > 6 else ""))
        if exc:
            bits.append("exceptions: " + ", ".join("%s x%d" % kv for kv in exc.items()))
        viol = [v for r, _, _ in rs for v in r["violations"]]
        if not rs[0][1]["params"].get("control"):
            bits.append("%d safety violations" % len(viol))
        lines[-1] += "; ".join(bits) + "."
    print("\n".join(lines))


if __name__ == "__main__":
    main()
