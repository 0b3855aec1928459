//! Drives the real client core ([`kafka_lock::protocol::Client`]) with arbitrary inputs in
//! any order: acquires and withdrawals, records it produced (some lost, some duplicated by a
//! stranger) and foreign records in between, delivery reports (good, failed, CreateTime),
//! send errors, join lookups answered anywhere before the join record, and time moving in
//! steps, inspections started and looked at. Invariants: it never panics; every record it hands out decodes; a hold it trusts is
//! the head of its machine's queue under its own owner; a trusted lease never exceeds its ttl;
//! nothing of a request is produced after its release (renew and release serialised); and a
//! ready inspection shows its machine's queue, leases within the longest ttl.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::Bytes;
use kafka_lock::protocol::{
    decode_record, encode_value, Client, ClientStats, GaveUp, Held, Inspected, InspectionId, Lease,
    LocalTime, Mode, Op, PartitionId, Placement, Purpose, RequestId, Status, Transmit, MAX_TTL_MS,
};

const KEYS: [&str; 3] = ["a", "b", "c"];

struct World {
    client: Client,
    partition: PartitionId,
    now: LocalTime,
    log_time: i64,
    /// The partition's records: (key, value).
    log: Vec<(Option<Vec<u8>>, Vec<u8>)>,
    /// Produced, not yet appended.
    outbox: Vec<Transmit>,
    /// Where the client reads next, once joined.
    read: Option<usize>,
    requests: Vec<RequestId>,
    released: BTreeSet<RequestId>,
    inspections: Vec<InspectionId>,
    /// Requests whose hold was handed to their caller and not released yet.
    handed: BTreeSet<RequestId>,
}

impl World {
    /// The caller of `id` has its hold (as the session does once it sees the trusted grant).
    fn hand_over(&mut self, id: RequestId, asked_at: LocalTime) {
        self.client.note_handed_over(self.now, id, asked_at);
        self.handed.insert(id);
    }

    /// Holds ended since `before`: (released, lost).
    fn ended_since(&self, before: &ClientStats) -> (u64, u64) {
        let after = self.client.stats();
        (after.released - before.released, after.leases_lost - before.leases_lost)
    }
    fn drain(&mut self) {
        while let Some(t) = self.client.poll_transmit() {
            let record = decode_record(t.key.as_deref().map(str::as_bytes), Some(&t.value));
            assert!(record.is_ok(), "the client produced a record replayers reject: {record:?}");
            match t.purpose {
                Purpose::Acquire(id) | Purpose::Renew(id) => {
                    assert!(!self.released.contains(&id), "request {id} produced after its release")
                }
                Purpose::Release(id) => {
                    self.released.insert(id);
                }
                Purpose::Tick | Purpose::Revoke => {}
            }
            self.outbox.push(t);
        }
    }

    fn append(&mut self, key: Option<Vec<u8>>, value: Vec<u8>) -> i64 {
        self.log.push((key, value));
        (self.log.len() - 1) as i64
    }

    fn consume(&mut self) {
        let Some(mut pos) = self.read else { return };
        while pos < self.log.len() {
            let (key, value) = &self.log[pos];
            self.client.handle_record(
                self.now,
                &self.partition,
                pos as i64,
                Some(self.log_time),
                key.as_deref(),
                Some(value),
            );
            pos += 1;
        }
        self.read = Some(pos);
    }

    /// Returns how many trusted holds it checked.
    fn check(&self) -> usize {
        let mut checked = 0;
        for &id in &self.requests {
            let Status::Granted { token, trusted: true } = self.client.status(id, self.now) else { continue };
            checked += 1;
            let machine = self.client.machine(&self.partition).expect("a grant needs a machine");
            let key = KEYS.iter().find(|k| machine.is_granted(k, token));
            let key = key.expect("a trusted hold is granted by the view");
            assert_eq!(machine.request(key, token).map(|r| r.owner.as_str()), Some(self.client.owner()));
            let together = machine.holders(key).try_fold(Held::Nothing, |held, r| r.mode.admits(held));
            assert!(together.is_some(), "a trusted hold among holders that may not hold together");
            let left = self.client.remaining(id, self.now).expect("held");
            assert!(left <= Duration::from_millis(60_000));
        }
        checked
    }
}

/// A mode from a byte: every kind of hold, semaphores of two limits (which never mix).
fn mode_of(arg: u8) -> Mode {
    match arg / 3 % 5 {
        0 | 1 => Mode::Exclusive,
        2 => Mode::Shared,
        3 => Mode::Weighted { limit: 2, weight: 1 + u32::from(arg % 2) },
        _ => Mode::Weighted { limit: 3, weight: 1 },
    }
}

/// What one run reached, for the smoke test's coverage guards.
#[derive(Debug, Default, Clone, Copy)]
pub struct Coverage {
    /// Trusted holds checked.
    pub trusted_checks: usize,
    /// Inspections looked at once ready.
    pub ready_inspections: usize,
    /// Holds that were handed over and then ended (stats checked with some).
    pub holds_ended: u64,
}

/// One run of the client target.
pub fn run(data: &[u8]) -> Coverage {
    let mut coverage = Coverage::default();
    let mut bytes = Bytes(data);
    let mut w = World {
        client: Client::new("me".into(), [9; 32], Duration::from_secs(10)),
        partition: PartitionId::new("t", 0),
        now: LocalTime::from_duration(Duration::from_secs(1_000)),
        log_time: 1_700_000_000_000,
        log: Vec::new(),
        outbox: Vec::new(),
        read: None,
        requests: Vec::new(),
        released: BTreeSet::new(),
        inspections: Vec::new(),
        handed: BTreeSet::new(),
    };
    while let Some(kind) = bytes.byte() {
        let arg = bytes.byte().unwrap_or(0);
        match kind % 11 {
            0 => {
                let ttl = Duration::from_millis(100 + u64::from(arg) * 200);
                let lease = Lease { ttl, max_clock_step: ttl / 4 * u32::from(arg % 2) };
                if let Ok(id) =
                    w.client.acquire(w.now, &w.partition, KEYS[usize::from(arg % 3)], mode_of(arg), lease)
                {
                    w.requests.push(id);
                }
            }
            1 => {
                if let Some(&id) = w.requests.get(usize::from(arg) % w.requests.len().max(1)) {
                    // A holder had its hold handed over before it releases it.
                    if matches!(w.client.status(id, w.now), Status::Granted { trusted: true, .. }) {
                        w.hand_over(id, w.now);
                    }
                    let before = w.client.stats();
                    let withdrawn = match arg / 64 {
                        0 => w.client.withdraw(w.now, id),
                        1 => w.client.give_up(w.now, id, GaveUp::Busy),
                        2 => w.client.give_up(w.now, id, GaveUp::TimedOut),
                        _ => w.client.give_up(w.now, id, GaveUp::Interrupted),
                    };
                    // A hold handed over ends once: released if still valid, lost otherwise.
                    let expected = match (w.handed.remove(&id), withdrawn.held) {
                        (false, _) => (0, 0),
                        (true, true) => (1, 0),
                        (true, false) => (0, 1),
                    };
                    assert_eq!(w.ended_since(&before), expected, "withdraw of {id}");
                }
            }
            2 => {
                // Append the oldest produced record (or lose it, or report a failure).
                if w.outbox.is_empty() {
                    continue;
                }
                let t = w.outbox.remove(0);
                match arg % 8 {
                    0 => {
                        if t.report {
                            w.client.handle_report(w.now, t.id, Err("lost".into()));
                        }
                    }
                    1 => w.client.handle_send_error(w.now, &t, "queue full".into()),
                    _ => {
                        let offset = w.append(t.key.map(String::into_bytes), t.value);
                        if t.report {
                            let log_time = (arg % 8 != 2).then_some(w.log_time);
                            w.client.handle_report(w.now, t.id, Ok(Placement { offset, log_time }));
                        }
                    }
                }
            }
            3 => {
                // A stranger's record, possibly copying our owner.
                let owner = if arg & 1 == 0 { "me".to_owned() } else { "x".to_owned() };
                let r#ref = (w.log.len() as i64 - 1 - i64::from(arg / 2 % 8)).max(0);
                let op = match arg / 16 % 4 {
                    0 => Op::Acquire { owner, seq: u64::from(arg % 4), ttl: 1_000, mode: mode_of(arg / 4) },
                    1 => Op::Renew { owner, r#ref, prev: w.log_time, ttl: 1 + u64::from(arg) * 100 },
                    2 => Op::Release { owner, r#ref },
                    _ => Op::Tick,
                };
                let key = (op != Op::Tick).then(|| KEYS[usize::from(arg % 3)].as_bytes().to_vec());
                w.append(key, encode_value(&op));
            }
            4 => {
                if let Some(time) = w.client.take_join_lookup(&w.partition) {
                    let _ = time;
                    let found = (arg % 4 != 0).then(|| i64::from(arg) % (w.log.len() as i64 + 1));
                    if let Some(start) =
                        w.client.handle_join_start(w.now, &w.partition, found, i64::from(arg % 3))
                    {
                        w.read = Some(start as usize);
                    }
                }
            }
            5 => w.consume(),
            6 => {
                w.now = w.now + Duration::from_millis(u64::from(arg) * 20);
                w.log_time += i64::from(arg) * 20 - 100;
            }
            7 => {
                if w.client.poll_timeout().is_some_and(|t| t <= w.now) || arg % 2 == 0 {
                    w.client.handle_timeout(w.now);
                }
            }
            8 => {
                if let Some(&id) = w.requests.get(usize::from(arg) % w.requests.len().max(1)) {
                    match w.client.status(id, w.now) {
                        // A waiter forgets its lost request; a holder withdraws it instead.
                        Status::Lost | Status::Failed(_) if !w.handed.contains(&id) => {
                            w.client.forget(id);
                        }
                        Status::Conflict { .. } => {
                            w.client.withdraw(w.now, id);
                        }
                        // The waiter returns with it (stats: acquires, waits, hand-offs).
                        Status::Granted { trusted: true, .. } => {
                            let asked_at = w.now.saturating_sub(Duration::from_millis(u64::from(arg)));
                            w.hand_over(id, asked_at);
                        }
                        _ => {}
                    }
                }
            }
            9 => {
                // Inspections: started, looked at (a ready snapshot is the machine's queue), forgotten.
                if arg % 4 == 0 {
                    if let Ok(id) = w.client.inspect(w.now, &w.partition) {
                        w.inspections.push(id);
                    }
                } else if let Some(&id) = w.inspections.get(usize::from(arg / 2) % w.inspections.len().max(1))
                {
                    let key = KEYS[usize::from(arg / 4 % 3)];
                    if let Inspected::Ready(snapshot) = w.client.inspection(id, key, w.now) {
                        let machine = w.client.machine(&w.partition).expect("a ready inspection has a view");
                        let tokens: Vec<i64> = machine.queue(key).map(|r| r.token).collect();
                        assert_eq!(snapshot.queue.iter().map(|r| r.token).collect::<Vec<_>>(), tokens);
                        assert!(snapshot
                            .queue
                            .iter()
                            .all(|r| r.expires_in <= Duration::from_millis(MAX_TTL_MS)));
                        coverage.ready_inspections += 1;
                    }
                    if arg % 8 == 1 {
                        w.client.forget_inspection(id);
                    }
                }
            }
            _ => {
                let before = w.client.stats();
                w.client.release_all(w.now);
                let (released, lost) = w.ended_since(&before);
                assert_eq!(released + lost, std::mem::take(&mut w.handed).len() as u64, "release_all");
            }
        }
        w.drain();
        coverage.trusted_checks += w.check();
        check_stats(&w.client.stats());
    }
    let stats = w.client.stats();
    coverage.holds_ended = stats.released + stats.leases_lost;
    coverage
}

/// What the counters must agree on whatever happened: every hold that ended was handed over
/// once, each hold handed over has one wait, a hand-off only for some, and histograms are
/// cumulative with `+Inf` (the count) on top.
fn check_stats(stats: &ClientStats) {
    assert!(stats.released + stats.leases_lost <= stats.acquired, "{stats:?}");
    assert_eq!(stats.hold.count(), stats.released + stats.leases_lost, "{stats:?}");
    assert_eq!(stats.acquire_wait.count(), stats.acquired, "{stats:?}");
    assert!(stats.hand_off.count() <= stats.acquired, "{stats:?}");
    assert_eq!(stats.ignored, stats.ignored_by_reason.values().sum::<u64>(), "{stats:?}");
    for histogram in [&stats.acquire_wait, &stats.hand_off, &stats.hold] {
        let counts: Vec<u64> = histogram.buckets().map(|(_, n)| n).collect();
        assert!(
            counts.windows(2).all(|w| w[0] <= w[1]) && counts.last() <= Some(&histogram.count()),
            "{stats:?}"
        );
    }
}
