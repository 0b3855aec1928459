//! Property tests of the protocol, on logs written by simulated processes that run the real
//! client core ([`kafka_lock::protocol::Client`]), and on arbitrary logs for the invariants
//! that must hold whatever is written.
//!
//! The simulation is a simulated-clock harness: a broker that stamps records with its own
//! clock (which can step back, and in some runs jump forward), a network with per-producer
//! FIFO delivery and delay spikes, and processes that each own one `Client`: they join the
//! partition by its delivery report and an `offsetsForTimes` lookup answered from the log,
//! consume the log with their own lag, call its timers when it asks, produce exactly what it
//! hands out, and use the lock as an application would (hold for a while, give up a wait,
//! stop trusting a lease). Processes crash, pause past their lease (and resume as zombies
//! whose timers fire with a stale `prev`), run local clocks 2 % fast or slow, some consume far
//! behind the log, and junk records are mixed in. The harness has no client rules of its own.
//!
//! Invariants checked:
//! - full replay, against an independent oracle kept by the checker: at most one holder per
//!   lock at every offset; the granted token is the lowest live token of its lock (FIFO, no
//!   live waiter skipped); a request expires only once log time passes its last accepted
//!   alive time + ttl, and is gone as soon as it does; only an owner's records renew or
//!   release its request; replaying the same log gives the identical event stream;
//! - real time: no two processes trust a hold of the same lock at the same instant (each
//!   process's own `is_held`/`remaining`, on its own clock), in every run whose broker clock
//!   never steps forward by more than the processes' `max_clock_step` within a lease;
//! - every process's replayed view (it joined mid-log by the real join rule) agrees with the
//!   full replay from its first own record on, for processes that serialise renew and
//!   release; a machine-level check does the same for joiners at random points.

use std::collections::{BTreeMap, BTreeSet};

use kafka_lock::protocol::{
    commitment_of, decode_record, encode_value, encode_value_with, AcquireLookup, Client, Event, Ignored,
    Lease, LocalTime, LogTime, Machine, Mode as LockMode, Offset, Op, PartitionId, Placement, Proof, Purpose,
    Request, RequestId, Status, Transmit, TransmitId, JOIN_MARGIN_MS, JOIN_WINDOW_MS, MAX_TTL_MS,
};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use std::time::Duration;

const LOCKS: [&str; 3] = ["alpha", "beta", "gamma"];

/// The mode a request for `LOCKS[lock]` asks for, from the scenario's own dice (so adding modes
/// left every scenario's shape as it was): "alpha" is an exclusive lock, "beta" a read-write
/// lock (readers and writers mixed), "gamma" a semaphore of weights 1 and 2, mostly of limit 3
/// and sometimes of limit 2 (a process that disagrees with the holders on the limit: it waits in
/// the log, and its client tells it, which withdraws).
fn lock_mode(lock: usize, ttl: usize, hold: usize) -> LockMode {
    match lock {
        0 => LockMode::Exclusive,
        1 if (ttl + hold).is_multiple_of(3) => LockMode::Exclusive,
        1 => LockMode::Shared,
        _ => LockMode::Weighted {
            limit: if hold == 2 && ttl < 2 { 2 } else { 3 },
            weight: 1 + (ttl % 2) as u32,
        },
    }
}

/// The oracle's own grant rule, written apart from the machine's: whether requests of these
/// modes may hold together. One request alone always may; several only if all are shared, or
/// all weighted with one limit and weights summing to at most it.
fn may_hold_together(modes: &[LockMode]) -> bool {
    if modes.len() <= 1 {
        return true;
    }
    if modes.iter().all(|m| *m == LockMode::Shared) {
        return true;
    }
    let LockMode::Weighted { limit, .. } = modes[0] else { return false };
    let mut sum = 0u64;
    for mode in modes {
        match *mode {
            LockMode::Weighted { limit: l, weight } if l == limit => sum += u64::from(weight),
            _ => return false,
        }
    }
    sum <= u64::from(limit)
}

/// The mode an acquire record asks for, read from its JSON apart from the decoder.
fn mode_of_record(value: &[u8]) -> LockMode {
    let json: serde_json::Value = serde_json::from_slice(value).expect("an accepted acquire is JSON");
    match json.get("mode").and_then(|m| m.as_str()) {
        None => LockMode::Exclusive,
        Some("shared") => LockMode::Shared,
        Some(_) => LockMode::Weighted {
            limit: json["limit"].as_u64().expect("limit") as u32,
            weight: json["weight"].as_u64().expect("weight") as u32,
        },
    }
}
/// The release secret a forger uses for commitments of its own.
const FORGER_SECRET: [u8; 32] = [0x66; 32];
/// The processes' `max_clock_step` in stepped-clock runs, and the most the broker clock steps
/// forward there within any [`STEPPED_TTL_MAX_MS`] of real time (the longest lease there).
const CLOCK_STEP_BUDGET_MS: i64 = 800;
/// Stepped-clock runs use the two shortest leases only, so the budget renews often.
const STEPPED_TTL_MAX_MS: u64 = TTLS[1];
const TTLS: [u64; 4] = [2_000, 6_000, 20_000, MAX_TTL_MS];
const TOPIC: &str = "locks";
/// The harness advances real time in steps of this many ms.
const QUANTUM_MS: i64 = 50;
/// Kinds of junk record (see `Sim::junk`).
const JUNK_KINDS: u8 = 21;
/// How long a process's acquire may take to be read back before it gives up.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a simulated process keeps following the partition with nothing of its own on it.
const UNFOLLOW_AFTER_IN_RUNS: Duration = Duration::from_millis(500);

fn partition() -> PartitionId {
    PartitionId::new(TOPIC, 0)
}

// ---------------------------------------------------------------------------------------
// Scenario: what proptest generates and shrinks.

#[derive(Debug, Clone)]
enum Action {
    /// Queue for a lock (ignored while the process already has a request). A crashed
    /// process comes back as a new one with a new owner id.
    Acquire { lock: usize, ttl: usize, hold: usize },
    /// A waiter gives up.
    Cancel,
    /// Stop for ttl/2 (or 2 x ttl): no timers, no consuming.
    Pause { long: bool },
    /// Stop forever.
    Crash,
    /// Someone produces a tick.
    Tick,
    /// Produce a junk record.
    Junk(u8),
    /// The broker clock jumps (backward by a bounded skew; forward only in runs that allow it).
    ClockJump(i64),
    /// Delete the log's prefix up to a point (retention, DeleteRecords): in truncating runs.
    Truncate(u8),
    /// Let time pass.
    Idle,
}

#[derive(Debug, Clone)]
struct Step {
    wait_ms: u32,
    process: usize,
    action: Action,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Processes as they are: the real client core, honest junk only.
    Honest,
    /// A process's renew can land after its own release (a client that does not serialise
    /// them, or a replayed record): the network re-sends a renew after the release.
    Racing,
    /// Junk includes well-formed records by dishonest writers (strangers' renews and
    /// releases, releases copied in an owner's name).
    Hostile,
    /// Like honest, but the broker clock also jumps forward, without bound (a documented limit:
    /// the real-time trust property is not checked).
    ForwardJumps,
    /// Like honest, but the broker clock steps forward (a leader change to a broker whose
    /// clock is ahead, an NTP step) by at most [`CLOCK_STEP_BUDGET_MS`] within any
    /// `MAX_TTL_MS`, and the processes' leases allow for that much.
    SteppedClock,
    /// The steps of [`Mode::SteppedClock`] with processes that allow for none: the harness must
    /// see a lease end before its holder stops trusting it (only for the check of its teeth).
    UnbudgetedSteps,
    /// Like honest, and the log's prefix is deleted at random moments, up to the end at times.
    Truncating,
}

#[derive(Debug, Clone)]
struct Scenario {
    processes: usize,
    /// Seeds the network's delays, the broker's jitter and the processes' clocks.
    seed: u64,
    mode: Mode,
    steps: Vec<Step>,
}

fn action(mode: Mode) -> impl Strategy<Value = Action> {
    // Stepped-clock runs step often: the budget, not the dice, is what limits them.
    let jumps = if matches!(mode, Mode::SteppedClock | Mode::UnbudgetedSteps) { 25 } else { 3 };
    prop_oneof![
        60 => (0..LOCKS.len(), 0..TTLS.len(), 0..3usize)
            .prop_map(|(lock, ttl, hold)| Action::Acquire { lock, ttl, hold }),
        5 => Just(Action::Cancel),
        8 => any::<bool>().prop_map(|long| Action::Pause { long }),
        2 => Just(Action::Crash),
        5 => Just(Action::Tick),
        15 => (0..JUNK_KINDS).prop_map(Action::Junk),
        jumps => (-8_000i64..150_000).prop_map(Action::ClockJump),
        3 => any::<u8>().prop_map(Action::Truncate),
        40 => Just(Action::Idle),
    ]
}

fn scenario(mode: Mode, max_steps: usize) -> impl Strategy<Value = Scenario> {
    (2usize..7, any::<u64>()).prop_flat_map(move |(processes, seed)| {
        let step = (0u32..2_500, 0..processes, action(mode)).prop_map(|(wait_ms, process, action)| Step {
            wait_ms,
            process,
            action,
        });
        prop::collection::vec(step, 20..max_steps).prop_map(move |steps| Scenario {
            processes,
            seed,
            mode,
            steps,
        })
    })
}

// ---------------------------------------------------------------------------------------
// The simulated world.

/// SplitMix64: the harness's only randomness, seeded by the scenario.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// One record as the broker stored it.
#[derive(Debug, Clone)]
struct LogRecord {
    offset: Offset,
    timestamp: LogTime,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    /// Which process produced it (None: junk or an anonymous tick).
    sender: Option<usize>,
    /// Real time at which it was appended.
    appended_at: i64,
}

struct InFlight {
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    sender: Option<usize>,
    /// The sender's transmit id, when it asked for a delivery report.
    report: Option<TransmitId>,
}

/// What the application in a process is doing with its one request.
#[derive(Debug, Clone)]
struct Want {
    lock: usize,
    mode: LockMode,
    id: RequestId,
    ttl: u64,
    hold_ms: i64,
    held_since: Option<i64>,
}

/// One process: a real client core and the application around it.
struct Process {
    client: Client,
    incarnation: u32,
    crashed: bool,
    paused_until: i64,
    /// Local clock: `base + rate x real time`, in ms.
    base_ms: f64,
    rate: f64,
    /// How long after its append a record reaches this process's consumer.
    lag_ms: i64,
    /// Next log index to consume; `None` until the client joined.
    read_pos: Option<usize>,
    /// Delivery reports on their way: (arrival, transmit, placement).
    reports: Vec<(i64, TransmitId, Placement)>,
    want: Option<Want>,
    /// Real time until which this process trusts its hold, per lock, as last observed.
    trust_end: BTreeMap<usize, i64>,
    /// The mode of the hold each `trust_end` belongs to.
    trust_mode: BTreeMap<usize, LockMode>,
    /// The last renew it produced per request (racing runs re-send one after the release).
    last_renew: BTreeMap<RequestId, (Transmit, u64)>,
    /// Renews re-sent late by the network (racing runs): (send time, record).
    late: Vec<(i64, Transmit)>,
    /// Per-producer FIFO: nothing it sends arrives before its previous record.
    last_arrival: i64,
    /// Acquires its session is reading (requests learnt of from renews): (answer time, token).
    /// A read takes the process's consumer lag, so views wait for them as a real one does.
    lookups: Vec<(i64, Offset)>,
    /// What happened to its lookups, for failure messages.
    trace: Vec<String>,
}

impl Process {
    fn new(owner: String, rng: &mut Rng, incarnation: u32) -> Process {
        let mut secret = [0u8; 32];
        for chunk in secret.chunks_mut(8) {
            chunk.copy_from_slice(&rng.next().to_le_bytes());
        }
        Process {
            client: {
                // Idle gaps of a second are common here: processes p0, p2, ... leave the
                // partition in them and join it again; the others keep one long view.
                let unfollows = owner[1..]
                    .split('r')
                    .next()
                    .and_then(|n| n.parse::<u32>().ok())
                    .is_some_and(|n| n % 2 == 0);
                let mut client = Client::new(owner, secret, OPERATION_TIMEOUT);
                if unfollows {
                    client.set_unfollow_after(UNFOLLOW_AFTER_IN_RUNS);
                }
                client
            },
            incarnation,
            crashed: false,
            paused_until: 0,
            base_ms: 1_000.0 + rng.below(1_000_000) as f64,
            rate: [0.98, 1.0, 1.02][rng.below(3) as usize],
            // Most consumers keep up; one in five lags far behind (a slow fetch path).
            lag_ms: if rng.chance(20) { 100 + rng.below(1_400) as i64 } else { 1 + rng.below(30) as i64 },
            read_pos: None,
            reports: Vec::new(),
            want: None,
            trust_end: BTreeMap::new(),
            trust_mode: BTreeMap::new(),
            last_renew: BTreeMap::new(),
            late: Vec::new(),
            last_arrival: 0,
            lookups: Vec::new(),
            trace: Vec::new(),
        }
    }

    fn local(&self, now: i64) -> LocalTime {
        let ms = self.base_ms + self.rate * now as f64;
        LocalTime::from_duration(Duration::from_micros((ms * 1_000.0) as u64))
    }

    /// Real time at which a local duration from `now` ends.
    fn real_after(&self, now: i64, local: Duration) -> i64 {
        now + (local.as_secs_f64() * 1_000.0 / self.rate).ceil() as i64
    }
}

/// Coverage counters: what the run really exercised.
#[derive(Debug, Default, Clone, Copy)]
struct Coverage {
    /// A holder expired and the next waiter was granted at the same record.
    expiry_handoffs: u64,
    /// A holder released and the next waiter was granted at the same record.
    release_handoffs: u64,
    /// Processes that joined with a window start above 0.
    mid_log_joins: u64,
    /// Quanta at which some process trusted a hold (real-time checks that had something to check).
    trusted_quanta: u64,
    /// Holds handed from one process to another (real-time checks of a hand-off).
    trusted_handoffs: u64,
    /// Records a process's replayed view was compared with the full replay at.
    view_checks: u64,
    /// Holders whose trust ran out while they still wanted the lock (paused, slow network).
    trust_lapses: u64,
    /// Deletions of the log's prefix.
    truncations: u64,
    /// Forged releases and renews the full replay refused (no secret or the wrong one, another
    /// commitment).
    forgeries_refused: u64,
    /// Views reset because a consumer's position fell below the log start.
    resets: u64,
    /// Forward steps of the broker clock (stepped-clock runs).
    clock_steps: u64,
    /// Acquires a process read for requests it learnt of from renews.
    acquire_lookups: u64,
    /// Records after which a lock had several holders (readers, semaphore shares).
    shared_holds: u64,
    /// Partitions a process stopped following (nothing of its own on them for
    /// `UNFOLLOW_AFTER`), to join them again on its next request.
    unfollows: u64,
    /// Quanta in which several processes trusted holds of one lock together.
    shared_trust: u64,
    /// Requests withdrawn because one ahead of them had another semaphore limit.
    conflicts: u64,
    /// View checks of a queue where a process kept a request longer than the full replay, its
    /// acquire deleted (truncating runs).
    deleted_acquires_kept: u64,
    /// View checks where the view was ahead of the records read: an own acquire applied from
    /// its delivery report before it was read back.
    views_ahead_on_ack: u64,
    /// Own acquires applied from their delivery report, before they were read back.
    applied_on_ack: u64,
}

struct Sim {
    mode: Mode,
    /// Whether the network has delay spikes (off only for the steady-holder test).
    spikes: bool,
    rng: Rng,
    now: i64,
    skew: i64,
    /// Stepped-clock runs: (real time, skew from then on), oldest first.
    skew_steps: Vec<(i64, i64)>,
    max_timestamp: LogTime,
    processes: Vec<Process>,
    in_flight: BTreeMap<(i64, u64), InFlight>,
    send_seq: u64,
    log: Vec<LogRecord>,
    /// Records below this index were deleted (only lookups and consumers see it; the oracle
    /// keeps the whole log).
    log_start: usize,
    machine: Machine,
    /// Every queue of the full replay after each offset (for the processes' views).
    snapshots: Vec<BTreeMap<String, Vec<Request>>>,
    /// Every event of the full replay, with the offset of the record that caused it.
    events: Vec<(Offset, Event)>,
    /// Oracle: the holders each lock has according to the event stream.
    holders: BTreeMap<String, BTreeSet<Offset>>,
    /// Oracle: the mode of every accepted acquire, read from its record.
    modes: BTreeMap<Offset, LockMode>,
    /// Oracle: the last granted token per lock.
    last_granted: BTreeMap<String, Offset>,
    /// Requests a revoke named (the oracle: none of them is renewed afterwards).
    revoked: BTreeSet<Offset>,
    /// Oracle: live requests by token with their key, last accepted alive time and ttl.
    alive: BTreeMap<Offset, (String, LogTime, u64)>,
    /// Oracle: tokens whose owner sent their release.
    released: std::collections::BTreeSet<Offset>,
    coverage: Coverage,
}

impl Sim {
    fn new(scenario: &Scenario) -> Self {
        let mut rng = Rng(scenario.seed);
        let processes = (0..scenario.processes).map(|i| Process::new(format!("p{i}"), &mut rng, 0)).collect();
        Sim {
            mode: scenario.mode,
            spikes: true,
            rng,
            now: 0,
            // Broker time starts somewhere realistic, far from 0.
            skew: 1_700_000_000_000,
            skew_steps: vec![(0, 1_700_000_000_000)],
            max_timestamp: LogTime::MIN,
            processes,
            in_flight: BTreeMap::new(),
            send_seq: 0,
            log: Vec::new(),
            log_start: 0,
            machine: Machine::new(0),
            snapshots: Vec::new(),
            events: Vec::new(),
            holders: BTreeMap::new(),
            modes: BTreeMap::new(),
            last_granted: BTreeMap::new(),
            revoked: BTreeSet::new(),
            alive: BTreeMap::new(),
            released: std::collections::BTreeSet::new(),
            coverage: Coverage::default(),
        }
    }

    fn broker_now(&self) -> LogTime {
        self.now + self.skew
    }

    fn run(scenario: &Scenario) -> Sim {
        let mut sim = Sim::new(scenario);
        for step in &scenario.steps {
            sim.advance(i64::from(step.wait_ms));
            sim.act(step.process, &step.action);
        }
        // Let everything in flight land and every silent lease run out.
        sim.advance(3 * MAX_TTL_MS as i64);
        sim
    }

    /// Moves real time forward by `ms`, quantum by quantum: deliver, let processes run, check
    /// the real-time trust property.
    fn advance(&mut self, ms: i64) {
        let end = self.now + ms;
        while self.now < end {
            self.now = (self.now + QUANTUM_MS).min(end);
            self.deliver();
            for i in 0..self.processes.len() {
                self.run_process(i);
            }
            self.check_trust();
        }
        self.deliver();
    }

    fn send(
        &mut self,
        sender: Option<usize>,
        key: Option<Vec<u8>>,
        value: Option<Vec<u8>>,
        report: Option<TransmitId>,
        ttl_hint: u64,
    ) {
        let delay = if self.spikes && self.rng.chance(2) {
            // A delay spike: up to 1.5 x ttl in the network.
            self.rng.below(ttl_hint * 3 / 2) as i64
        } else {
            1 + self.rng.below(30) as i64
        };
        let mut arrival = self.now + delay;
        if let Some(i) = sender {
            arrival = arrival.max(self.processes[i].last_arrival);
            self.processes[i].last_arrival = arrival;
        }
        self.send_seq += 1;
        self.in_flight.insert((arrival, self.send_seq), InFlight { key, value, sender, report });
    }

    fn send_with_proof(&mut self, lock: Option<&str>, op: &Op, proof: Proof) {
        let value = encode_value_with(op, &proof);
        self.send(None, lock.map(|l| l.as_bytes().to_vec()), Some(value), None, 2_000);
    }

    fn send_op(&mut self, lock: Option<&str>, op: &Op) {
        self.send(None, lock.map(|l| l.as_bytes().to_vec()), Some(encode_value(op)), None, 2_000);
    }

    fn send_transmit(&mut self, i: usize, transmit: &Transmit) {
        let ttl_hint = self.processes[i].want.as_ref().map_or(2_000, |w| w.ttl);
        let report = transmit.report.then_some(transmit.id);
        let key = transmit.key.as_ref().map(|k| k.as_bytes().to_vec());
        self.send(Some(i), key, Some(transmit.value.clone()), report, ttl_hint);
    }

    fn deliver(&mut self) {
        while let Some(entry) = self.in_flight.first_entry() {
            let arrival = entry.key().0;
            if arrival > self.now {
                break;
            }
            let record = entry.remove();
            // The broker stamps on append; its clock may be a little behind (jitter).
            let timestamp = arrival + self.skew - self.rng.below(20) as i64;
            self.append(timestamp, record);
        }
    }

    fn append(&mut self, timestamp: LogTime, record: InFlight) {
        let offset = self.log.len() as Offset;
        self.max_timestamp = self.max_timestamp.max(timestamp);
        self.machine.handle_record(offset, timestamp, record.key.as_deref(), record.value.as_deref());
        if record.sender.is_some() && self.mode != Mode::Racing {
            self.check_no_renew_after_release(offset, &record);
        }
        let mut events = Vec::new();
        while let Some(event) = self.machine.poll_event() {
            self.check_event(offset, &record, &event);
            events.push(event);
        }
        self.count_handoffs(&events);
        self.events.extend(events.into_iter().map(|e| (offset, e)));
        if let (Some(i), Some(id)) = (record.sender, record.report) {
            let arrival = self.now + 1 + self.rng.below(10) as i64;
            let placement = Placement { offset, log_time: Some(timestamp) };
            self.processes[i].reports.push((arrival, id, placement));
        }
        self.log.push(LogRecord {
            offset,
            timestamp,
            key: record.key,
            value: record.value,
            sender: record.sender,
            appended_at: self.now,
        });
        self.snapshots.push(queues(&self.machine));
        self.check_state();
    }

    /// A process never renews a request after its own release (renew and release are
    /// serialised), checked on the log itself: the oracle remembers every released token.
    fn check_no_renew_after_release(&mut self, offset: Offset, record: &InFlight) {
        let decoded =
            record.value.as_deref().and_then(|v| serde_json::from_slice::<serde_json::Value>(v).ok());
        let Some(json) = decoded else { return };
        let (Some(op), Some(token)) =
            (json.get("op").and_then(|o| o.as_str()), json.get("ref").and_then(|r| r.as_i64()))
        else {
            return;
        };
        match op {
            "release" => {
                self.released.insert(token);
            }
            "renew" => assert!(
                !self.released.contains(&token),
                "offset {offset}: request {token} renewed by its owner after its release"
            ),
            _ => {}
        }
    }

    fn count_handoffs(&mut self, events: &[Event]) {
        for event in events {
            if let Event::Ignored {
                reason: Ignored::ReleaseBadSecret | Ignored::RenewWrongCommitment, ..
            } = event
            {
                self.coverage.forgeries_refused += 1;
            }
        }
        for event in events {
            let Event::Granted { key, .. } = event else { continue };
            for other in events {
                match other {
                    Event::Expired { key: k, .. } if k == key => self.coverage.expiry_handoffs += 1,
                    Event::Released { key: k, .. } if k == key => self.coverage.release_handoffs += 1,
                    _ => {}
                }
            }
        }
    }

    /// The oracle: kept from the event stream and the records alone, then compared with what
    /// the machine decided.
    fn check_event(&mut self, offset: Offset, record: &InFlight, event: &Event) {
        let record_owner = || {
            let value = record.value.as_deref()?;
            let json: serde_json::Value = serde_json::from_slice(value).ok()?;
            json.get("owner")?.as_str().map(str::to_owned)
        };
        let clock = self.max_timestamp;
        match event {
            Event::Granted { key, token, .. } => {
                let holders = self.holders.entry(key.clone()).or_default();
                assert!(holders.insert(*token), "offset {offset}: {key} granted to {token} twice");
                if let Some(last) = self.last_granted.get(key) {
                    assert!(token > last, "offset {offset}: {key} granted to {token} after {last}");
                }
                let prefix = self.granted_prefix(key);
                assert!(
                    prefix.contains(token),
                    "offset {offset}: {key} granted to {token}, but the live requests that may hold \
                     together from the head are {prefix:?}"
                );
                self.last_granted.insert(key.clone(), *token);
            }
            Event::Expired { key, token, .. } => {
                let (_, alive_at, ttl) = self.alive.remove(token).expect("expired a live request");
                assert!(
                    clock > alive_at + ttl as i64,
                    "offset {offset}: {key}/{token} expired at log time {clock}, its lease ends at {}",
                    alive_at + ttl as i64
                );
                self.holders.entry(key.clone()).or_default().remove(token);
            }
            Event::Released { key, token, owner } => {
                assert_eq!(record_owner().as_ref(), Some(owner), "offset {offset}: released by a stranger");
                let (k, _, _) = self.alive.remove(token).expect("released a live request");
                assert_eq!(&k, key);
                self.holders.entry(key.clone()).or_default().remove(token);
            }
            Event::Enqueued { key, token, alive_at, .. } => {
                let ttl = self.machine.request(key, *token).map_or(0, |r| r.ttl);
                assert_eq!(*alive_at, clock, "offset {offset}: accepted at the log clock");
                self.alive.insert(*token, (key.clone(), *alive_at, ttl));
                self.modes
                    .insert(*token, mode_of_record(record.value.as_deref().expect("an acquire has a value")));
            }
            Event::Revoked { key, token, .. } => {
                let (k, _, _) = self.alive.get(token).expect("revoked a live request");
                assert_eq!(k, key, "offset {offset}: revoked under another lock");
                self.revoked.insert(*token);
            }
            Event::Renewed { key, token, owner, alive_at } => {
                assert!(
                    !self.revoked.contains(token),
                    "offset {offset}: {key}/{token} renewed after its revoke"
                );
                assert_eq!(record_owner().as_ref(), Some(owner));
                let request = self.machine.request(key, *token).expect("renewed request is live");
                assert_eq!(&request.owner, owner, "offset {offset}: renewed by a stranger");
                self.alive.insert(*token, (key.clone(), *alive_at, request.ttl));
            }
            Event::Ignored { .. } => {}
        }
    }

    /// The oracle's grants of `key`: the live requests from the head on, as long as their
    /// modes may hold together.
    fn granted_prefix(&self, key: &str) -> BTreeSet<Offset> {
        let mut modes = Vec::new();
        let mut prefix = BTreeSet::new();
        for (token, _) in self.alive.iter().filter(|(_, (k, _, _))| k == key) {
            modes.push(self.modes[token]);
            if !may_hold_together(&modes) {
                break;
            }
            prefix.insert(*token);
        }
        prefix
    }

    /// After each record: the machine's holders equal the oracle's, and no request outlives
    /// its last accepted alive time + ttl.
    fn check_state(&mut self) {
        // Log time computed here, not taken from the machine: the largest timestamp so far.
        let clock = self.max_timestamp;
        assert_eq!(self.machine.clock(), Some(clock), "the log clock is the max timestamp");
        for key in LOCKS {
            let machine_holders: BTreeSet<Offset> = self.machine.holders(key).map(|r| r.token).collect();
            let oracle = self.holders.get(key).cloned().unwrap_or_default();
            assert_eq!(machine_holders, oracle, "holders of {key} differ from the oracle's grants");
            assert_eq!(oracle, self.granted_prefix(key), "{key}: a request may hold but is not granted");
            let modes: Vec<LockMode> = oracle.iter().map(|t| self.modes[t]).collect();
            assert!(may_hold_together(&modes), "{key} held by {oracle:?} in modes {modes:?}");
            if oracle.len() > 1 {
                self.coverage.shared_holds += 1;
            }
        }
        for (token, (key, alive_at, ttl)) in &self.alive {
            let deadline = alive_at + *ttl as i64;
            assert!(
                clock <= deadline,
                "request {token} of {key} outlived its lease: clock {clock} > {deadline}"
            );
            assert!(self.machine.request(key, *token).is_some());
        }
        let live: usize = LOCKS.iter().map(|k| self.machine.queue_len(k)).sum();
        assert_eq!(self.alive.len(), live, "a live request the oracle does not know of");
    }

    /// One quantum of one process: delivery reports, the join lookup, consuming, timers, the
    /// application, producing.
    fn run_process(&mut self, i: usize) {
        let now = self.now;
        let p = &self.processes[i];
        if p.crashed || now < p.paused_until {
            return;
        }
        let local = p.local(now);
        let part = partition();
        // Delivery reports that arrived.
        let (due, later): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.processes[i].reports).into_iter().partition(|(at, _, _)| *at <= now);
        self.processes[i].reports = later;
        for (_, id, placement) in due {
            let applied_before = self.processes[i].client.stats().applied_on_ack;
            self.processes[i].client.handle_report(local, id, Ok(placement));
            if self.processes[i].client.stats().applied_on_ack > applied_before {
                // An own acquire applied from its report: the view moved without a read.
                self.coverage.applied_on_ack += 1;
                let at = self.processes[i].client.machine(&part).expect("joined").next_offset() - 1;
                let wanted = self.wanted_tokens();
                self.check_view(i, at as usize, &wanted);
            }
        }
        // The join's lookup, answered from the log (Kafka's offsetsForTimes).
        if let Some(time) = self.processes[i].client.take_join_lookup(&part) {
            // Records below the log start are gone (retention, DeleteRecords).
            let found = self.log_start + offset_for_time(&self.log[self.log_start..], time);
            let found = (found < self.log.len()).then_some(found as Offset);
            let log_start = self.log_start as Offset;
            let start =
                self.processes[i].client.handle_join_start(local, &part, found, log_start).expect("joining");
            if start > 0 {
                self.coverage.mid_log_joins += 1;
            }
            self.processes[i].read_pos = Some(start as usize);
        }
        self.consume(i, local);
        let process = &mut self.processes[i];
        if process.client.poll_timeout().is_some_and(|t| t <= local) {
            process.client.handle_timeout(local);
            // A partition unfollowed: the session stops reading it (unassigns it).
            if process.client.take_dropped_partitions().contains(&part) {
                process.read_pos = None;
                self.coverage.unfollows += 1;
            }
        }
        self.application(i, local);
        self.produce(i);
    }

    /// Tokens of requests some running process still wants and keeps renewing (not paused
    /// within the longest lease: a request whose owner stopped renewing may be kept alive by
    /// forged renews alone, and a view may drop it; its owner trusts it no longer).
    fn wanted_tokens(&self) -> Vec<Offset> {
        self.processes
            .iter()
            .filter(|p| {
                !p.crashed && (p.paused_until == 0 || p.paused_until + (MAX_TTL_MS as i64) < self.now)
            })
            .filter_map(|p| {
                let want = p.want.as_ref()?;
                match p.client.status(want.id, p.local(self.now)) {
                    Status::Waiting { token } | Status::Granted { token, .. } => Some(token),
                    _ => None,
                }
            })
            .collect()
    }

    /// Compares process `i`'s view, once trusted and complete, with the full replay at the
    /// view's own position; `pos`: the record it has just read (or its position).
    fn check_view(&mut self, i: usize, pos: usize, wanted: &[Offset]) {
        let part = partition();
        let process = &self.processes[i];
        let trusted_from = process.client.trusted_from(&part).expect("joined");
        if pos as Offset >= trusted_from && process.client.view_complete(&part) {
            let machine = process.client.machine(&part).expect("joined");
            let view = queues(machine);
            // The view may be ahead of the records read: own acquires are applied from
            // their delivery report when everything before them was read. Compared with
            // the full replay at the view's own position.
            let at = (machine.next_offset() - 1) as usize;
            assert!(at >= pos, "process {i}'s view is behind the records it read: at {at}, read up to {pos}");
            if at != pos {
                self.coverage.views_ahead_on_ack += 1;
            }
            let full = &self.snapshots[at];
            match self.mode {
                // Renews after a release, and forged records, may make a joiner keep a
                // request alive that the full replay removed: it waits longer, it never
                // holds early. It never drops one whose owner still wants it (a request
                // kept alive only by forged renews may go).
                Mode::Racing => {}
                Mode::Hostile => {
                    for (key, requests) in full {
                        for request in requests.iter().filter(|r| wanted.contains(&r.token)) {
                            let kept =
                                view.get(key).is_some_and(|v| v.iter().any(|r| r.token == request.token));
                            if !kept {
                                let m = process.client.machine(&part).expect("joined");
                                panic!(
                                    "process {i} (replaying from {}) lost request {} of {key} at offset {pos}:\n{:#?}\nlookups: {:#?}",
                                    m.first_offset(),
                                    request.token,
                                    history_of(&self.log[..=pos], request.token),
                                    process.trace
                                );
                            }
                        }
                    }
                }
                // Exact in every queue. A request learnt of from renews whose acquire was
                // deleted keeps the longest lease (its own is unknowable): there the view may
                // keep it longer, never drop it earlier.
                _ => {
                    let deleted = self.log_start as Offset;
                    let known = |r: &&Request| r.token >= deleted;
                    let keys: std::collections::BTreeSet<&String> = view.keys().chain(full.keys()).collect();
                    for key in keys {
                        let (v, f) = (view.get(key), full.get(key));
                        if v == f {
                            continue;
                        }
                        let (v, f) = (v.map_or(&[][..], Vec::as_slice), f.map_or(&[][..], Vec::as_slice));
                        let kept_all = f
                            .iter()
                            .all(|r| v.contains(r) || (!known(&r) && v.iter().any(|k| k.token == r.token)));
                        let exact = v.iter().filter(known).eq(f.iter().filter(known));
                        if kept_all && exact {
                            // They differ, so on a request whose acquire was deleted.
                            self.coverage.deleted_acquires_kept += 1;
                        } else {
                            let differing: Vec<Offset> = v
                                .iter()
                                .filter(|r| !f.contains(r))
                                .chain(f.iter().filter(|r| !v.contains(r)))
                                .map(|r| r.token)
                                .collect();
                            let histories: Vec<_> =
                                differing.iter().map(|&t| (t, history_of(&self.log[..=at], t))).collect();
                            panic!(
                                "process {i} (joined at {}, trusting from {trusted_from}, log start {deleted}) \
                                 disagrees with the full replay at offset {at} on {key}: view {v:?}, full {f:?}; \
                                 histories of the differing requests: {histories:#?}",
                                process.client.machine(&part).expect("joined").first_offset()
                            );
                        }
                    }
                }
            }
            self.coverage.view_checks += 1;
        }
    }

    /// Feeds the process every record that reached its consumer, and compares its view with
    /// the full replay's from its first own record on.
    fn consume(&mut self, i: usize, local: LocalTime) {
        let part = partition();
        let Some(mut pos) = self.processes[i].read_pos else { return };
        // Acquires read by now (from the log as it is now: one deleted meanwhile is gone).
        let (read, pending): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.processes[i].lookups).into_iter().partition(|(at, _)| *at <= self.now);
        self.processes[i].lookups = pending;
        for (_, token) in read {
            let found = acquire_at(&self.log, self.log_start, token);
            let gone = matches!(found, AcquireLookup::Gone);
            self.processes[i].client.handle_acquire_lookup(local, &part, token, found);
            let t = format!("t={} lookup of {token} answered before offset {pos} (gone: {gone})", self.now);
            self.processes[i].trace.push(t);
        }
        if pos < self.log_start {
            // The position fell below the log start: librdkafka reports it (auto.offset.reset
            // is "error") and the session resets the view; the process stops trusting at once,
            // before its request is released.
            self.processes[i].client.handle_partition_reset(local, &part);
            self.processes[i].client.take_dropped_partitions();
            self.processes[i].read_pos = None;
            self.end_trust(i);
            self.coverage.resets += 1;
            return;
        }
        let wanted = self.wanted_tokens();
        while pos < self.log.len() && self.log[pos].appended_at + self.processes[i].lag_ms <= self.now {
            let r = &self.log[pos];
            let process = &mut self.processes[i];
            process.client.handle_record(
                local,
                &part,
                r.offset,
                Some(r.timestamp),
                r.key.as_deref(),
                r.value.as_deref(),
            );
            // The session starts reading the acquires of requests learnt of from renews.
            for (_, token) in process.client.take_acquire_lookups() {
                process.lookups.push((self.now + process.lag_ms, token));
                process.trace.push(format!("t={} lookup of {token} asked at offset {}", self.now, r.offset));
                self.coverage.acquire_lookups += 1;
            }
            self.check_view(i, pos, &wanted);
            pos += 1;
        }
        self.processes[i].read_pos = Some(pos);
    }

    /// The application: hold for a while once trusted, give up a hold whose trust ran out,
    /// forget a request the log removed, give up when the acquire is not seen in time.
    fn application(&mut self, i: usize, local: LocalTime) {
        let now = self.now;
        let process = &mut self.processes[i];
        let Some(want) = process.want.as_mut() else { return };
        match process.client.status(want.id, local) {
            Status::Granted { trusted: true, .. } => {
                let since = *want.held_since.get_or_insert(now);
                if now >= since.saturating_add(want.hold_ms) {
                    process.client.withdraw(local, want.id);
                    // Released: from here on it trusts nothing (and says so to its caller).
                    let lock = want.lock;
                    process.want = None;
                    if let Some(end) = process.trust_end.get_mut(&lock) {
                        *end = (*end).min(now);
                    }
                }
            }
            Status::Granted { trusted: false, .. } if want.held_since.is_some() => {
                // isAcquired() says false: the application gives the lock up.
                self.coverage.trust_lapses += 1;
                process.client.withdraw(local, want.id);
                process.want = None;
            }
            Status::Conflict { held_as } => {
                // Only the semaphore's limits disagree in the simulation.
                assert!(
                    matches!(held_as, LockMode::Weighted { .. }),
                    "process {i}: a conflict with {held_as}"
                );
                self.coverage.conflicts += 1;
                process.client.withdraw(local, want.id);
                process.want = None;
            }
            Status::Lost | Status::Failed(_) | Status::Unknown => {
                process.client.forget(want.id);
                process.want = None;
            }
            Status::NotSeen { .. } => {
                process.client.withdraw(local, want.id);
                process.want = None;
            }
            Status::Pending | Status::Waiting { .. } | Status::Granted { .. } => {}
        }
    }

    /// Produces what the client hands out, in order; racing runs also re-send a renew after
    /// its request's release.
    fn produce(&mut self, i: usize) {
        let now = self.now;
        let (due, later): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.processes[i].late).into_iter().partition(|(at, _)| *at <= now);
        self.processes[i].late = later;
        for (_, renew) in due {
            self.send_transmit(i, &renew);
        }
        while let Some(transmit) = self.processes[i].client.poll_transmit() {
            self.send_transmit(i, &transmit);
            match transmit.purpose {
                Purpose::Renew(id) => {
                    let ttl = self.processes[i].want.as_ref().map_or(TTLS[0], |w| w.ttl);
                    self.processes[i].last_renew.insert(id, (transmit, ttl));
                }
                Purpose::Release(id) => {
                    let renew = self.processes[i].last_renew.remove(&id);
                    if let Some((renew, ttl)) =
                        renew.filter(|_| self.mode == Mode::Racing && self.rng.chance(30))
                    {
                        // Decided before the release, sent after it, at once or after a while
                        // (a stalled thread): still valid for up to ttl after its `prev`.
                        let delay = if self.rng.chance(50) { 0 } else { self.rng.below(ttl * 2 / 3) as i64 };
                        self.processes[i].late.push((now + delay, renew));
                    }
                }
                Purpose::Acquire(_) | Purpose::Tick | Purpose::Revoke => {}
            }
        }
    }

    /// No two processes trust a hold of the same lock at the same instant. Every process is
    /// asked (paused ones too: their clocks run on), and a hold that starts must start after
    /// every other process's last observed trust of that lock has ended.
    fn check_trust(&mut self) {
        if self.mode == Mode::ForwardJumps {
            return;
        }
        let now = self.now;
        let mut trusting: BTreeMap<usize, Vec<(usize, LockMode)>> = BTreeMap::new();
        let mut observed = Vec::new();
        for (i, process) in self.processes.iter().enumerate() {
            let Some(want) = process.want.as_ref().filter(|_| !process.crashed) else { continue };
            if let Some(left) = process.client.remaining(want.id, process.local(now)) {
                trusting.entry(want.lock).or_default().push((i, want.mode));
                observed.push((i, want.lock, want.mode, process.real_after(now, left)));
            }
        }
        for &(i, lock, mode, end) in &observed {
            let newly = self.processes[i].trust_end.get(&lock).is_none_or(|e| *e <= now);
            if newly {
                // Everyone else still trusting a hold of this lock (by the end of trust each
                // took when it began) must be able to hold it together with this new hold.
                let mut together = vec![(i, mode)];
                for (j, other) in self.processes.iter().enumerate().filter(|(j, _)| *j != i) {
                    if let Some(other_end) = other.trust_end.get(&lock).filter(|e| **e > now) {
                        let other_mode = other.trust_mode[&lock];
                        together.push((j, other_mode));
                        let modes: Vec<LockMode> = together.iter().map(|(_, m)| *m).collect();
                        assert!(
                            may_hold_together(&modes),
                            "t={now}: process {i} trusts {} ({mode:?}) while process {j} trusts it \
                             until {other_end}; trusting together: {together:?}",
                            LOCKS[lock]
                        );
                    }
                }
                self.coverage.trusted_handoffs += 1;
            }
            self.processes[i].trust_end.insert(lock, end);
            self.processes[i].trust_mode.insert(lock, mode);
        }
        for (lock, holders) in &trusting {
            let modes: Vec<LockMode> = holders.iter().map(|(_, m)| *m).collect();
            assert!(may_hold_together(&modes), "t={now}: processes {holders:?} all trust {}", LOCKS[*lock]);
            if holders.len() > 1 {
                self.coverage.shared_trust += 1;
            }
        }
        if !trusting.is_empty() {
            self.coverage.trusted_quanta += 1;
        }
    }

    fn end_trust(&mut self, i: usize) {
        let now = self.now;
        for end in self.processes[i].trust_end.values_mut() {
            *end = (*end).min(now);
        }
    }

    fn act(&mut self, i: usize, action: &Action) {
        let now = self.now;
        if now < self.processes[i].paused_until && !matches!(action, Action::ClockJump(_) | Action::Junk(_)) {
            return;
        }
        match *action {
            Action::Acquire { lock, ttl, hold } => {
                let mode = lock_mode(lock, ttl, hold);
                if self.processes[i].crashed {
                    // A new process on the same machine: new owner id, nothing inherited.
                    let incarnation = self.processes[i].incarnation + 1;
                    let mut fresh = Process::new(format!("p{i}r{incarnation}"), &mut self.rng, incarnation);
                    fresh.trust_end = std::mem::take(&mut self.processes[i].trust_end);
                    fresh.trust_mode = std::mem::take(&mut self.processes[i].trust_mode);
                    fresh.last_arrival = self.processes[i].last_arrival;
                    self.processes[i] = fresh;
                }
                if self.processes[i].want.is_some() {
                    return;
                }
                let stepped = matches!(self.mode, Mode::SteppedClock | Mode::UnbudgetedSteps);
                let ttl = if stepped { TTLS[ttl % 2] } else { TTLS[ttl] };
                debug_assert!(!stepped || ttl <= STEPPED_TTL_MAX_MS);
                let hold_ms = [200, 3_000, 2 * ttl as i64][hold];
                let local = self.processes[i].local(now);
                let step = if self.mode == Mode::SteppedClock { CLOCK_STEP_BUDGET_MS as u64 } else { 0 };
                let lease =
                    Lease { ttl: Duration::from_millis(ttl), max_clock_step: Duration::from_millis(step) };
                lease.check().expect("the simulation's leases are valid");
                let id = self.processes[i]
                    .client
                    .acquire(local, &partition(), LOCKS[lock], mode, lease)
                    .expect("the partition is usable");
                self.processes[i].want = Some(Want { lock, mode, id, ttl, hold_ms, held_since: None });
                self.produce(i);
            }
            Action::Cancel => {
                let local = self.processes[i].local(now);
                let process = &mut self.processes[i];
                let waiting = process.want.as_ref().is_some_and(|w| {
                    matches!(process.client.status(w.id, local), Status::Pending | Status::Waiting { .. })
                });
                if waiting && !process.crashed {
                    let id = process.want.take().expect("waiting").id;
                    process.client.withdraw(local, id);
                    self.produce(i);
                }
            }
            Action::Pause { long } => {
                let process = &mut self.processes[i];
                if process.crashed {
                    return;
                }
                let ttl = process.want.as_ref().map_or(2_000, |w| w.ttl) as i64;
                process.paused_until = now + if long { 2 * ttl } else { ttl / 2 };
            }
            Action::Crash => {
                self.processes[i].crashed = true;
                // A crashed process trusts nothing any more.
                self.end_trust(i);
            }
            Action::Tick => self.send_op(None, &Op::Tick),
            Action::Junk(kind) => self.junk(kind),
            Action::ClockJump(delta) if matches!(self.mode, Mode::SteppedClock | Mode::UnbudgetedSteps) => {
                // Forward only, and within the budget over the longest lease: the skew in force
                // that long ago is the lowest since (it only rises).
                let since = now - STEPPED_TTL_MAX_MS as i64;
                let base = self
                    .skew_steps
                    .iter()
                    .rev()
                    .find(|(t, _)| *t <= since)
                    .map_or(self.skew_steps[0].1, |s| s.1);
                let room = base + CLOCK_STEP_BUDGET_MS - self.skew;
                let step = (delta.rem_euclid(CLOCK_STEP_BUDGET_MS) + 1).min(room);
                if step > 0 {
                    self.skew += step;
                    self.skew_steps.push((now, self.skew));
                    self.coverage.clock_steps += 1;
                }
            }
            Action::ClockJump(delta) => {
                if delta > 0 && self.mode != Mode::ForwardJumps {
                    return;
                }
                // Backward steps stay within the joiners' margin of the newest timestamp.
                let floor = self.max_timestamp.saturating_sub(JOIN_MARGIN_MS / 2);
                self.skew += delta;
                if self.broker_now() < floor {
                    self.skew += floor - self.broker_now();
                }
            }
            Action::Truncate(share) => {
                if self.mode == Mode::Truncating {
                    // Up to the end one time in four; elsewhere anywhere past the current start.
                    let end = self.log.len();
                    let to = if share % 4 == 0 {
                        end
                    } else {
                        self.log_start + (end - self.log_start) * usize::from(share) / 256
                    };
                    self.log_start = self.log_start.max(to);
                    self.coverage.truncations += 1;
                }
            }
            Action::Idle => {}
        }
    }

    /// Junk: records every replayer ignores alike, and (hostile) records by dishonest writers.
    fn junk(&mut self, kind: u8) {
        let lock = LOCKS[self.rng.below(LOCKS.len() as u64) as usize];
        let next_offset = self.log.len() as Offset;
        let ancient = self.broker_now() - 10 * MAX_TTL_MS as i64;
        let live: Vec<Request> =
            LOCKS.iter().flat_map(|k| self.machine.queue(k).cloned().collect::<Vec<_>>()).collect();
        let victim = (!live.is_empty()).then(|| live[self.rng.below(live.len() as u64) as usize].clone());
        let victim_key = victim.as_ref().and_then(|v| self.machine.key_of(v.token).map(str::to_owned));
        let raw = |s: &str| Some(s.as_bytes().to_vec());
        let hostile = self.mode == Mode::Hostile;
        match kind {
            0 => self.send(None, raw(lock), raw("not json"), None, 2_000),
            1 => self.send(None, raw(lock), None, None, 2_000),
            2 => self.send(None, None, raw(r#"{"v":1,"op":"release","owner":"x","ref":1}"#), None, 2_000),
            3 => self.send(None, raw(lock), raw(r#"{"v":2,"op":"tick"}"#), None, 2_000),
            4 => self.send(
                None,
                raw(lock),
                raw(r#"{"v":1,"op":"acquire","owner":"x","seq":1,"ttl":60001}"#),
                None,
                2_000,
            ),
            5 => {
                // A renew with an ancient prev: invalid for everyone.
                let token = victim.as_ref().map_or(0, |v| v.token);
                let owner = victim.as_ref().map_or("x".into(), |v| v.owner.clone());
                let key = victim_key.clone().unwrap_or(lock.to_owned());
                self.send_op(Some(&key), &Op::Renew { owner, r#ref: token, prev: ancient, ttl: 1_000 });
            }
            6 => {
                // A release of a ref that was never an acquire (a future offset).
                let op = Op::Release { owner: "x".into(), r#ref: next_offset + 1_000_000 };
                self.send_op(Some(lock), &op);
            }
            7 if hostile => {
                // A release of someone else's request by a stranger.
                if let (Some(v), Some(key)) = (&victim, &victim_key) {
                    self.send_op(Some(key), &Op::Release { owner: "mallory".into(), r#ref: v.token });
                }
            }
            8 if hostile => {
                // A fresh-looking renew of someone else's request by a stranger, or of a
                // tick's offset (never a request).
                let (token, key) = match (&victim, &victim_key) {
                    (Some(v), Some(key)) => (v.token, key.clone()),
                    _ => (next_offset.saturating_sub(1), lock.to_owned()),
                };
                let op = Op::Renew {
                    owner: "mallory".into(),
                    r#ref: token,
                    prev: self.max_timestamp,
                    ttl: MAX_TTL_MS,
                };
                self.send_op(Some(&key), &op);
            }
            9 if hostile => {
                // Someone else releases a victim in its owner's name (a copied record).
                if let (Some(v), Some(key)) = (&victim, &victim_key) {
                    self.send_op(Some(key), &Op::Release { owner: v.owner.clone(), r#ref: v.token });
                }
            }
            10 if hostile => {
                // A replay: an earlier record of the log, copied byte for byte.
                if !self.log.is_empty() {
                    let old = self.log[self.rng.below(self.log.len() as u64) as usize].clone();
                    self.send(None, old.key, old.value, None, 2_000);
                }
            }
            11 | 16 if hostile => {
                // A renew copying a live request's owner and key, asking for a 1 ms lease, with a
                // `prev` in the future so that it is valid when it lands; (16) under another
                // lock's identifier (same partition): a joiner that meets it before the owner's
                // renews must not file the request under the wrong lock.
                if let (Some(v), Some(key)) = (&victim, &victim_key) {
                    let other = LOCKS.iter().find(|k| **k != key.as_str()).expect("three locks");
                    let op = Op::Renew {
                        owner: v.owner.clone(),
                        r#ref: v.token,
                        prev: self.broker_now() + 1_000,
                        ttl: 1,
                    };
                    let proof = Proof { commitment: v.commitment, ..Proof::default() };
                    self.send_with_proof(Some(if kind == 11 { key } else { other }), &op, proof);
                }
            }
            12 if hostile => {
                // A release copying a live request's owner, with a secret copied from another
                // release in the log (it opens that one's commitment, not this one's).
                if let (Some(v), Some(key)) = (&victim, &victim_key) {
                    let secret = self.log.iter().rev().find_map(|r| {
                        let record = decode_record(r.key.as_deref(), r.value.as_deref()).ok()?;
                        record.proof.secret
                    });
                    let op = Op::Release { owner: v.owner.clone(), r#ref: v.token };
                    self.send_with_proof(Some(key), &op, Proof { secret, ..Proof::default() });
                }
            }
            13 if hostile => {
                // A well-timed acquire in the name of a process whose own acquire is on its way:
                // same owner, seq and key, the forger's own commitment, a 1 ms lease and a guessed
                // nonce. Taken for its own, the process would trust a hold the log ends at once.
                let pending = self.processes.iter().find_map(|p| {
                    let want = p.want.as_ref()?;
                    let local = p.local(self.now);
                    matches!(p.client.status(want.id, local), Status::Pending)
                        .then(|| (p.client.owner().to_owned(), want.id, LOCKS[want.lock]))
                });
                if let Some((owner, seq, key)) = pending {
                    let op = Op::Acquire { owner, seq, ttl: 1, mode: LockMode::Exclusive };
                    let forged = Some(commitment_of(&FORGER_SECRET));
                    let nonce = Some(self.rng.next().to_le_bytes().repeat(2).try_into().expect("16 bytes"));
                    self.send(
                        None,
                        Some(key.as_bytes().to_vec()),
                        Some(encode_value_with(&op, &Proof { commitment: forged, nonce, secret: None })),
                        None,
                        5,
                    );
                }
            }
            14 | 15 if hostile => {
                // The forger's own commitment: a renew claiming a live request for it, and (15)
                // right behind it a release with its secret, which opens that claim's
                // commitment: a joiner that meets the claim first gets the release before its
                // read of the acquire is back.
                if let (Some(v), Some(key)) = (&victim, &victim_key) {
                    let renew = Op::Renew {
                        owner: v.owner.clone(),
                        r#ref: v.token,
                        prev: self.max_timestamp,
                        ttl: MAX_TTL_MS,
                    };
                    let commitment =
                        Proof { commitment: Some(commitment_of(&FORGER_SECRET)), ..Proof::default() };
                    self.send_with_proof(Some(key), &renew, commitment);
                    if kind == 15 {
                        let release = Op::Release { owner: v.owner.clone(), r#ref: v.token };
                        let secret = Proof { secret: Some(FORGER_SECRET), ..Proof::default() };
                        self.send_with_proof(Some(key), &release, secret);
                    }
                }
            }
            17 => {
                // An operator revokes a live request (honest in every mode): it must end at its
                // current lease in every view, joiners' included, with its holder trusting it
                // no longer than that.
                if let (Some(v), Some(key)) = (&victim, &victim_key) {
                    self.send_op(Some(key), &Op::Revoke { owner: "ops".into(), r#ref: v.token });
                }
            }
            18 | 20 if hostile => {
                // A revoke of a live request under another lock's key (same partition), and (20)
                // first a renew copying it under that lock: a joiner that meets the copy first
                // files the request under the wrong lock and sees the revoke name it there; once
                // its acquire is read, the revoke must not count (a full replay ignored it).
                if let (Some(v), Some(key)) = (&victim, &victim_key) {
                    let other = LOCKS.iter().find(|k| **k != key.as_str()).expect("three locks");
                    if kind == 20 {
                        let op = Op::Renew {
                            owner: v.owner.clone(),
                            r#ref: v.token,
                            prev: self.broker_now() + 1_000,
                            ttl: MAX_TTL_MS,
                        };
                        let proof = Proof { commitment: v.commitment, ..Proof::default() };
                        self.send_with_proof(Some(other), &op, proof);
                    }
                    self.send_op(Some(other), &Op::Revoke { owner: "mallory".into(), r#ref: v.token });
                }
            }
            19 if hostile => {
                // A revoke of any earlier offset under any lock (ended requests, ticks, junk).
                let token = self.rng.below(next_offset.max(1) as u64) as Offset;
                self.send_op(Some(lock), &Op::Revoke { owner: "mallory".into(), r#ref: token });
            }
            _ => self.send(None, raw(lock), raw("[]"), None, 2_000),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Checks on a finished log.

fn replay(log: &[LogRecord], first: Offset) -> Vec<(Offset, Event)> {
    let mut machine = Machine::new(first);
    let mut events = Vec::new();
    for r in log.iter().filter(|r| r.offset >= first) {
        machine.handle_record(r.offset, r.timestamp, r.key.as_deref(), r.value.as_deref());
        while let Some(event) = machine.poll_event() {
            events.push((r.offset, event));
        }
    }
    events
}

/// Every queue, request by request.
fn queues(machine: &Machine) -> BTreeMap<String, Vec<Request>> {
    machine.keys().map(|key| (key.to_owned(), machine.queue(key).cloned().collect())).collect()
}

/// The records of `log` that name `token` (its acquire and every renew or release of it), for
/// failure messages.
fn history_of(log: &[LogRecord], token: Offset) -> Vec<String> {
    let names = |r: &&LogRecord| {
        r.offset == token
            || decode_record(r.key.as_deref(), r.value.as_deref()).is_ok_and(|rec| match rec.op {
                Op::Renew { r#ref, .. } | Op::Release { r#ref, .. } => r#ref == token,
                _ => false,
            })
    };
    log.iter()
        .filter(names)
        .map(|r| {
            format!(
                "{} @{} {}",
                r.offset,
                r.timestamp,
                String::from_utf8_lossy(r.value.as_deref().unwrap_or_default())
            )
        })
        .collect()
}

/// The session's read of the record at a request's token (offsets are indices of the log);
/// records below `log_start` are deleted.
fn acquire_at(log: &[LogRecord], log_start: usize, token: Offset) -> AcquireLookup<'_> {
    let i = usize::try_from(token).expect("an offset of the log");
    if i < log_start {
        return AcquireLookup::Gone;
    }
    let r = &log[i];
    AcquireLookup::Found { offset: r.offset, key: r.key.as_deref(), value: r.value.as_deref() }
}

/// The first offset whose timestamp is at or after `target` (Kafka's offsetsForTimes).
fn offset_for_time(log: &[LogRecord], target: LogTime) -> usize {
    log.iter().position(|r| r.timestamp >= target).unwrap_or(log.len())
}

/// Joiners whose first own record is `j` (a client's record) agree with the full replay on
/// every queue from `j` on. Returns how many joiners were checked with a non-zero start, or
/// the first disagreement.
fn check_joiners(log: &[LogRecord], window: LogTime, rng: &mut Rng) -> Result<usize, String> {
    let own: Vec<usize> = (0..log.len()).filter(|&i| log[i].sender.is_some()).collect();
    if own.is_empty() {
        return Ok(0);
    }
    let mut mid_log = 0;
    for _ in 0..4 {
        let j = own[rng.below(own.len() as u64) as usize];
        let start = offset_for_time(log, log[j].timestamp - window);
        assert!(start <= j);
        if start > 0 {
            mid_log += 1;
        }
        let mut full = Machine::new(0);
        let mut joiner = Machine::new(log[start].offset);
        for (i, r) in log.iter().enumerate() {
            full.handle_record(r.offset, r.timestamp, r.key.as_deref(), r.value.as_deref());
            while full.poll_event().is_some() {}
            if i < start {
                continue;
            }
            joiner.handle_record(r.offset, r.timestamp, r.key.as_deref(), r.value.as_deref());
            for token in joiner.take_acquire_lookups() {
                joiner.handle_acquire_lookup(token, acquire_at(log, 0, token));
            }
            while joiner.poll_event().is_some() {}
            if i >= j && queues(&joiner) != queues(&full) {
                return Err(format!(
                    "joiner started at {start} (first own record {j}) differs at offset {i}:\n\
                     joiner {:?}\nfull   {:?}",
                    queues(&joiner),
                    queues(&full)
                ));
            }
        }
    }
    Ok(mid_log)
}

fn check_scenario(scenario: &Scenario) -> Sim {
    let sim = Sim::run(scenario);
    // Replay determinism: the same log gives the identical event stream.
    assert_eq!(replay(&sim.log, 0), sim.events, "replay is not deterministic");
    sim
}

fn window(mode: Mode) -> LogTime {
    if mode == Mode::Racing {
        // Clients that do not serialise renew and release need twice the look-back.
        2 * MAX_TTL_MS as i64 + JOIN_MARGIN_MS
    } else {
        JOIN_WINDOW_MS
    }
}

/// Invariants of a simulated scenario, then machine-level joiners at random points with the
/// window its processes need (racing: renews may land after their own release).
fn check_scenario_and_joiners(scenario: &Scenario) -> Result<Sim, String> {
    let sim = check_scenario(scenario);
    let mut rng = Rng(scenario.seed ^ 0x5eed);
    check_joiners(&sim.log, window(scenario.mode), &mut rng).map(|_| sim)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Processes running the real client core; the broker clock only steps back.
    #[test]
    fn honest_clients_keep_every_invariant(scenario in scenario(Mode::Honest, 400)) {
        if let Err(disagreement) = check_scenario_and_joiners(&scenario) {
            prop_assert!(false, "{}", disagreement);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    /// Renews that land after their own release; joiners read 2 x MAX_TTL + margin back, as
    /// the design prescribes for them. The real-time trust property still holds.
    #[test]
    fn racing_clients_keep_every_invariant_with_a_double_window(scenario in scenario(Mode::Racing, 400)) {
        if let Err(disagreement) = check_scenario_and_joiners(&scenario) {
            prop_assert!(false, "{}", disagreement);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 800, failure_persistence: None, ..ProptestConfig::default() })]

    /// Writers that copy, replay and forge records (releases and 1 ms renews in a live
    /// holder's name, copied release secrets, acquires with a guessed nonce, claims under their own
    /// key): the full replay keeps its invariants, no process is granted a lock another still
    /// trusts, and a joiner's view keeps every request the full replay has (it may keep more).
    #[test]
    fn forging_writers_never_give_two_holders(scenario in scenario(Mode::Hostile, 300)) {
        check_scenario(&scenario);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    /// The log's prefix is deleted at random moments (up to the end at times) while processes
    /// hold, wait and join: joiners that cannot know their window is complete trust no grant
    /// for a window's worth of log time, consumers that fall below the log start reset their
    /// view. No two processes trust one lock at once.
    #[test]
    fn truncated_history_never_gives_two_holders(scenario in scenario(Mode::Truncating, 400)) {
        if let Err(disagreement) = check_scenario_and_joiners(&scenario) {
            prop_assert!(false, "{}", disagreement);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    /// Forward jumps of the broker clock keep the log's invariants and joiner agreement; they
    /// can end a lease before its holder stops trusting it (a documented limit).
    #[test]
    fn forward_clock_jumps_keep_the_log_invariants(scenario in scenario(Mode::ForwardJumps, 300)) {
        if let Err(disagreement) = check_scenario_and_joiners(&scenario) {
            prop_assert!(false, "{}", disagreement);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    /// The broker clock steps forward within the processes' `max_clock_step` (a leader
    /// change to a broker whose clock is ahead, an NTP step): no two processes trust one lock
    /// at once, and every other invariant holds.
    #[test]
    fn clock_steps_within_the_budget_never_give_two_holders(scenario in scenario(Mode::SteppedClock, 400)) {
        if let Err(disagreement) = check_scenario_and_joiners(&scenario) {
            prop_assert!(false, "{}", disagreement);
        }
    }
}

/// The harness sees what `max_clock_step` is for: the same steps with leases that allow for
/// none make some holder trust a lease the others have already ended.
#[test]
fn clock_steps_break_leases_that_allow_for_none() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = scenario(Mode::UnbudgetedSteps, 400);
    let found = (0..2_000).position(|_| {
        let scenario = strategy.new_tree(&mut runner).expect("strategy").current();
        std::panic::catch_unwind(|| Sim::run(&scenario)).is_err()
    });
    eprintln!("first broken run: {found:?}");
    assert!(found.is_some(), "no unbudgeted clock step broke a holder's trust");
}

#[test]
fn stepped_clock_runs_exercise_their_paths() {
    let (c, _) = coverage_of(Mode::SteppedClock, 30);
    assert!(c.clock_steps > 50 && c.trusted_handoffs > 100 && c.expiry_handoffs > 10, "{c:?}");
}

// ---------------------------------------------------------------------------------------
// Arbitrary logs: invariants that hold whatever is written.

#[derive(Debug, Clone)]
enum RawOp {
    Acquire { owner: u8, ttl: u64 },
    Renew { owner: u8, back: u8, prev_back: i64, ttl: u64 },
    Release { owner: u8, back: u8 },
    Tick,
    Junk(Vec<u8>),
}

fn raw_op() -> impl Strategy<Value = RawOp> {
    let ttl = prop_oneof![1u64..100, 100u64..=MAX_TTL_MS];
    prop_oneof![
        3 => (0u8..4, ttl.clone()).prop_map(|(owner, ttl)| RawOp::Acquire { owner, ttl }),
        4 => (0u8..4, any::<u8>(), -100i64..2_000, ttl)
            .prop_map(|(owner, back, prev_back, ttl)| RawOp::Renew { owner, back, prev_back, ttl }),
        2 => (0u8..4, any::<u8>()).prop_map(|(owner, back)| RawOp::Release { owner, back }),
        1 => Just(RawOp::Tick),
        1 => prop::collection::vec(any::<u8>(), 0..40).prop_map(RawOp::Junk),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3_000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any sequence of records, from a full replay or any start offset: one holder per lock,
    /// grants only after the holder left, tokens increasing (full replay), determinism, and
    /// no request outliving its lease.
    #[test]
    fn arbitrary_logs_keep_the_replay_invariants(
        ops in prop::collection::vec((0usize..2, -50i64..300, raw_op()), 1..120),
        start in 0i64..40,
    ) {
        let mut log = Vec::new();
        let mut t: LogTime = 1_000;
        for (offset, (lock, dt, op)) in ops.into_iter().enumerate() {
            let offset = offset as Offset;
            t += dt;
            let key = Some(LOCKS[lock].as_bytes().to_vec());
            let back = |b: u8| (offset - 1 - Offset::from(b % 16)).max(0);
            let value = match op {
                RawOp::Acquire { owner, ttl } => encode_value(&Op::Acquire { owner: format!("o{owner}"), seq: 1, ttl, mode: LockMode::Exclusive }),
                RawOp::Renew { owner, back: b, prev_back, ttl } => encode_value(&Op::Renew {
                    owner: format!("o{owner}"), r#ref: back(b), prev: t - prev_back, ttl,
                }),
                RawOp::Release { owner, back: b } => encode_value(&Op::Release { owner: format!("o{owner}"), r#ref: back(b) }),
                RawOp::Tick => encode_value(&Op::Tick),
                RawOp::Junk(bytes) => bytes,
            };
            log.push(LogRecord { offset, timestamp: t, key, value: Some(value), sender: None, appended_at: 0 });
        }
        for first in [0, start] {
            let events = replay(&log, first);
            prop_assert_eq!(&events, &replay(&log, first));
            let mut holders: BTreeMap<String, Offset> = BTreeMap::new();
            let mut last_granted: BTreeMap<String, Offset> = BTreeMap::new();
            for (offset, event) in &events {
                match event {
                    Event::Granted { key, token, .. } => {
                        if let Some(holder) = holders.get(key) {
                            // Only a joiner, before its own first record, can see a holder
                            // displaced: by an earlier request it learns of late.
                            prop_assert!(
                                first > 0 && token < holder,
                                "{} granted to {} while {} holds it, at {}", key, token, holder, offset
                            );
                        }
                        if first == 0 {
                            // A full replay never grants a token twice or out of order.
                            let last = last_granted.get(key).copied();
                            prop_assert!(last.is_none_or(|l| *token > l));
                        }
                        last_granted.insert(key.clone(), *token);
                        holders.insert(key.clone(), *token);
                    }
                    Event::Released { key, token, .. } | Event::Expired { key, token, .. }
                        if holders.get(key) == Some(token) =>
                    {
                        holders.remove(key);
                    }
                    _ => {}
                }
            }
        }
        // No live request outlives its lease, whatever the records said.
        let mut machine = Machine::new(0);
        let mut clock = LogTime::MIN;
        for r in &log {
            machine.handle_record(r.offset, r.timestamp, r.key.as_deref(), r.value.as_deref());
            while machine.poll_event().is_some() {}
            clock = clock.max(r.timestamp);
            for key in LOCKS {
                for request in machine.queue(key) {
                    prop_assert!(clock <= request.deadline());
                    prop_assert!(request.token < r.offset + 1);
                }
            }
        }
    }
}

/// Runs `n` deterministic scenarios of `mode` and sums what they exercised.
fn coverage_of(mode: Mode, n: usize) -> (Coverage, Vec<u64>) {
    let mut total = Coverage::default();
    let mut stats = [0u64; 7];
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for _ in 0..n {
        let scenario = scenario(mode, 400).new_tree(&mut runner).expect("strategy").current();
        let sim = check_scenario(&scenario);
        let c = sim.coverage;
        total.expiry_handoffs += c.expiry_handoffs;
        total.release_handoffs += c.release_handoffs;
        total.mid_log_joins += c.mid_log_joins;
        total.trusted_quanta += c.trusted_quanta;
        total.trusted_handoffs += c.trusted_handoffs;
        total.view_checks += c.view_checks;
        total.trust_lapses += c.trust_lapses;
        total.truncations += c.truncations;
        total.forgeries_refused += c.forgeries_refused;
        total.resets += c.resets;
        total.clock_steps += c.clock_steps;
        total.acquire_lookups += c.acquire_lookups;
        total.deleted_acquires_kept += c.deleted_acquires_kept;
        total.views_ahead_on_ack += c.views_ahead_on_ack;
        total.applied_on_ack += c.applied_on_ack;
        total.shared_holds += c.shared_holds;
        total.shared_trust += c.shared_trust;
        total.conflicts += c.conflicts;
        total.unfollows += c.unfollows;
        let s = sim.machine.stats();
        for (slot, value) in stats.iter_mut().zip([
            s.grants,
            s.expiries,
            s.malformed,
            s.releases,
            s.renews,
            s.records,
            s.revokes,
        ]) {
            *slot += value;
        }
        let mut rng = Rng(scenario.seed);
        if mode != Mode::Hostile {
            check_joiners(&sim.log, window(mode), &mut rng).expect("joiners agree");
        }
    }
    eprintln!(
        "{mode:?}, {n} scenarios: {total:?}; grants, expiries, malformed, releases, renews, records, revokes = \
         {stats:?}"
    );
    (total, stats.to_vec())
}

/// The simulation really exercises what it claims to (guards against a harness that
/// quietly stopped producing grants, hand-offs, joins or trusted holds).
#[test]
fn simulation_exercises_the_interesting_paths() {
    let (c, stats) = coverage_of(Mode::Honest, 30);
    let (grants, expiries, malformed, releases, renews) = (stats[0], stats[1], stats[2], stats[3], stats[4]);
    assert!(grants > 200 && expiries > 20 && malformed > 20 && releases > 100 && renews > 500, "{stats:?}");
    assert!(c.expiry_handoffs > 10, "holder expired, then the next waiter granted: {c:?}");
    assert!(c.release_handoffs > 50, "holder released, then the next waiter granted: {c:?}");
    assert!(c.mid_log_joins > 20 && c.view_checks > 10_000, "{c:?}");
    assert!(c.trusted_quanta > 1_000 && c.trusted_handoffs > 100, "{c:?}");
    assert!(c.acquire_lookups > 10, "joiners read the acquires of requests learnt of from renews: {c:?}");
    assert!(stats[6] > 10, "an operator revoked live requests: {stats:?}");
    assert!(c.shared_holds > 100, "readers and semaphore shares held together: {c:?}");
    assert!(c.shared_trust > 100, "processes trusted holds of one lock together: {c:?}");
    assert!(c.conflicts > 5, "requests behind a semaphore of another limit withdrew: {c:?}");
    assert!(c.unfollows > 0, "processes left idle partitions and joined them again: {c:?}");
    assert!(c.applied_on_ack > 100, "own acquires applied from their delivery reports: {c:?}");
}

#[test]
fn truncating_runs_exercise_their_paths() {
    let (c, _) = coverage_of(Mode::Truncating, 20);
    assert!(c.truncations > 50 && c.resets > 10 && c.trusted_handoffs > 100, "{c:?}");
}

#[test]
fn racing_and_hostile_runs_exercise_their_paths() {
    let (c, stats) = coverage_of(Mode::Racing, 15);
    assert!(c.release_handoffs > 20 && c.trusted_handoffs > 50 && stats[4] > 200, "{c:?} {stats:?}");
    let (c, stats) = coverage_of(Mode::Hostile, 15);
    assert!(stats[0] > 50 && stats[1] > 5 && c.expiry_handoffs > 0, "{c:?} {stats:?}");
    assert!(c.forgeries_refused > 20 && c.trusted_handoffs > 50, "{c:?}");
    assert!(c.acquire_lookups > 10, "{c:?}");
}

/// The harness can see what the double window is for: racing renews with only the single
/// `MAX_TTL + margin` window make some joiner disagree. If this stopped failing, the racing
/// simulation would have lost its teeth.
#[test]
fn racing_clients_break_a_single_window_joiner() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = scenario(Mode::Racing, 400);
    let found = (0..1_000).any(|_| {
        let scenario = strategy.new_tree(&mut runner).expect("strategy").current();
        let sim = check_scenario(&scenario);
        let mut rng = Rng(scenario.seed ^ 0x5eed);
        check_joiners(&sim.log, window(Mode::Honest), &mut rng).is_err()
    });
    assert!(found, "no racing scenario broke a single-window joiner");
}

/// A holder on a steady network keeps its hold for many leases: renewals every ttl/3 keep
/// its trust alive without a gap (breaking the renew period makes it lapse).
#[test]
fn a_steady_holder_keeps_its_hold() {
    for (index, ttl) in TTLS.iter().enumerate() {
        let ttl = *ttl as i64;
        let acquire = Action::Acquire { lock: 0, ttl: index, hold: 0 };
        let scenario = Scenario { processes: 2, seed: 7, mode: Mode::Honest, steps: Vec::new() };
        let mut sim = Sim::new(&scenario);
        sim.spikes = false;
        sim.act(0, &acquire);
        sim.processes[0].want.as_mut().expect("wanted").hold_ms = i64::MAX;
        let mut held_quanta = 0;
        let quanta = 5 * ttl / QUANTUM_MS;
        for _ in 0..quanta {
            sim.advance(QUANTUM_MS);
            let p = &sim.processes[0];
            let want = p.want.as_ref().expect("still wanted");
            if p.client.is_held(want.id, p.local(sim.now)) {
                held_quanta += 1;
            }
        }
        assert_eq!(sim.coverage.trust_lapses, 0, "ttl {ttl}: the holder's trust lapsed");
        // Granted within the first few quanta, then held without a gap.
        assert!(held_quanta >= quanta - 4, "ttl {ttl}: held {held_quanta} of {quanta} quanta");
    }
}

/// A waiter ends a dead holder's lease with a tick as soon as the lease should be over by its
/// estimate of broker time, instead of at its own next renewal (up to ttl/3 later).
#[test]
fn a_dead_holders_lease_is_ended_by_a_tick() {
    let ttl_index = 1; // 6 s: renewals every 2 s
    let ttl = TTLS[ttl_index] as i64;
    let scenario = Scenario { processes: 2, seed: 11, mode: Mode::Honest, steps: Vec::new() };
    let mut sim = Sim::new(&scenario);
    sim.spikes = false;
    for p in &mut sim.processes {
        p.lag_ms = 5;
    }
    sim.act(0, &Action::Acquire { lock: 0, ttl: ttl_index, hold: 2 });
    sim.advance(500);
    sim.act(1, &Action::Acquire { lock: 0, ttl: ttl_index, hold: 0 });
    sim.advance(2_500);
    let crashed_at = sim.now;
    let holder = sim.machine.holder(LOCKS[0]).expect("p0 holds").clone();
    // The lease's end in real time (the broker clock runs at real time plus `skew` here).
    let lease_end = holder.deadline() - sim.skew;
    sim.act(0, &Action::Crash);
    let trusted = |sim: &Sim| {
        let p = &sim.processes[1];
        p.want.as_ref().is_some_and(|w| p.client.is_held(w.id, p.local(sim.now)))
    };
    while !trusted(&sim) {
        assert!(sim.now < crashed_at + 2 * ttl, "the waiter was never granted");
        sim.advance(QUANTUM_MS);
    }
    // Without the tick the waiter's own next renewal would end the lease, up to ttl/3 later
    // (here 494 ms after it); the tick lands within a round trip and a quantum or two.
    assert!(
        sim.now <= lease_end + 400,
        "granted at {} ms, {} ms after the dead holder's lease ended",
        sim.now,
        sim.now - lease_end
    );
}
