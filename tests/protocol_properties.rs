//! Property tests of the design's invariants, on logs written by simulated honest clients
//! (and on arbitrary logs for the invariants that must hold whatever is written).
//!
//! The simulation is a simulated-clock harness: a broker that stamps records with its own
//! clock (which can jump forward and step back), a network with per-producer FIFO delivery
//! and delay spikes, and clients that follow the client rules: learn `prev` only from
//! accepted records, renew every `ttl/3`, serialise renew and release, tick when a holder's
//! deadline passes, give up when their conservative lease view runs out. Clients crash,
//! pause past their lease, come back as zombies with a stale renew, cancel while waiting, and
//! junk records are mixed in.
//!
//! Invariants checked (each against the full replay's event stream and state):
//! - at most one holder per lock at every offset, and a grant only once the previous holder
//!   is gone;
//! - grants of a lock in strictly increasing token order;
//! - replaying the same log gives the identical event stream;
//! - a joiner starting at `offsetsForTimes(t0 - window)` agrees with the full replay on every
//!   queue from its first own record on;
//! - a request is gone as soon as log time passes its last accepted alive time + ttl.

use std::collections::BTreeMap;

use kafka_lock::protocol::{
    encode_value, Event, LogTime, Machine, Offset, Op, Request, JOIN_MARGIN_MS, JOIN_WINDOW_MS,
    MAX_TTL_MS,
};
use proptest::prelude::*;
use proptest::strategy::ValueTree;

const LOCKS: [&str; 3] = ["alpha", "beta", "gamma"];
const TTLS: [u64; 4] = [2_000, 6_000, 20_000, MAX_TTL_MS];
/// The harness advances real time in steps of this many ms.
const QUANTUM_MS: i64 = 100;
/// Kinds of junk record (see `Sim::junk`).
const JUNK_KINDS: u8 = 10;

// ---------------------------------------------------------------------------------------
// Scenario: what proptest generates and shrinks.

#[derive(Debug, Clone)]
enum Action {
    /// Queue for a lock (ignored while the client already has a request). A crashed client
    /// comes back as a new process with a new owner id.
    Acquire {
        lock: usize,
        ttl: usize,
        hold: usize,
    },
    /// A waiter gives up: release its request.
    Cancel,
    /// Stop for ttl/2 (or 2 x ttl); optionally send a renew decided before the pause.
    Pause { long: bool, zombie: bool },
    /// Stop forever.
    Crash,
    /// Produce a tick.
    Tick,
    /// Produce a junk record.
    Junk(u8),
    /// The broker clock jumps (forward any amount, backward by a bounded skew).
    ClockJump(i64),
    /// Let time pass.
    Idle,
}

#[derive(Debug, Clone)]
struct Step {
    wait_ms: u32,
    client: usize,
    action: Action,
}

#[derive(Debug, Clone)]
struct Scenario {
    clients: usize,
    /// Seeds the network's delays and the broker's jitter.
    seed: u64,
    /// Clients may send a renew after their own release (not serialised).
    race: bool,
    /// Junk includes well-formed records by dishonest writers (wrong owners, foreign
    /// releases, stale resurrections). Joiner agreement is not claimed for those.
    hostile: bool,
    steps: Vec<Step>,
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        60 => (0..LOCKS.len(), 0..TTLS.len(), 0..3usize)
            .prop_map(|(lock, ttl, hold)| Action::Acquire { lock, ttl, hold }),
        5 => Just(Action::Cancel),
        8 => (any::<bool>(), any::<bool>()).prop_map(|(long, zombie)| Action::Pause { long, zombie }),
        2 => Just(Action::Crash),
        5 => Just(Action::Tick),
        15 => (0..JUNK_KINDS).prop_map(Action::Junk),
        3 => (-8_000i64..150_000).prop_map(Action::ClockJump),
        40 => Just(Action::Idle),
    ]
}

fn scenario(race: bool, hostile: bool, max_steps: usize) -> impl Strategy<Value = Scenario> {
    (2usize..7, any::<u64>()).prop_flat_map(move |(clients, seed)| {
        let step = (0u32..2_500, 0..clients, action()).prop_map(|(wait_ms, client, action)| Step {
            wait_ms,
            client,
            action,
        });
        prop::collection::vec(step, 20..max_steps).prop_map(move |steps| Scenario {
            clients,
            seed,
            race,
            hostile,
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
    /// Which client produced it (None: junk or an anonymous tick).
    sender: Option<usize>,
    /// Real time at which it was sent.
    sent_at: i64,
}

struct InFlight {
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    sender: Option<usize>,
    sent_at: i64,
}

/// A client's current request, as the client knows it.
#[derive(Debug, Clone)]
struct Want {
    lock: usize,
    seq: u64,
    ttl: u64,
    hold_ms: i64,
    token: Option<Offset>,
    /// `alive_at` of the last accepted alive record (learned only from the log).
    prev: Option<LogTime>,
    /// Real time when that accepted record was sent: the base of the conservative lease view.
    prev_sent_at: i64,
    last_renew_sent: i64,
    held_since: Option<i64>,
}

#[derive(Debug, Clone)]
struct Client {
    owner: String,
    incarnation: u32,
    seq: u64,
    crashed: bool,
    paused_until: i64,
    want: Option<Want>,
    zombie_renew: Option<(String, Op)>,
    /// Renews decided before a release and sent after it (racing clients only).
    late_renews: Vec<(i64, String, Op)>,
    /// Per-producer FIFO: nothing this client sends arrives before its previous record.
    last_arrival: i64,
    last_tick_sent: i64,
}

struct Sim {
    race: bool,
    hostile: bool,
    rng: Rng,
    now: i64,
    skew: i64,
    max_timestamp: LogTime,
    clients: Vec<Client>,
    in_flight: BTreeMap<(i64, u64), InFlight>,
    send_seq: u64,
    log: Vec<LogRecord>,
    machine: Machine,
    /// Every event of the full replay, with the offset of the record that caused it.
    events: Vec<(Offset, Event)>,
    /// Checker state: the holder each lock has according to the event stream.
    holders: BTreeMap<String, Offset>,
    /// Checker state: the last granted token per lock.
    last_granted: BTreeMap<String, Offset>,
    /// Checker state: live requests by token with the last accepted alive time and ttl.
    alive: BTreeMap<Offset, (String, LogTime, u64)>,
    /// Events of the record being applied, checked and not yet learned from.
    pending_events: Vec<Event>,
}

/// A client's local safety margin in its conservative lease view.
fn local_margin(ttl: u64) -> i64 {
    (ttl / 10) as i64
}

impl Sim {
    fn new(scenario: &Scenario) -> Self {
        let clients = (0..scenario.clients)
            .map(|i| Client {
                owner: format!("c{i}"),
                incarnation: 0,
                seq: 0,
                crashed: false,
                paused_until: 0,
                want: None,
                zombie_renew: None,
                late_renews: Vec::new(),
                last_arrival: 0,
                last_tick_sent: i64::MIN / 2,
            })
            .collect();
        Sim {
            race: scenario.race,
            hostile: scenario.hostile,
            rng: Rng(scenario.seed),
            now: 0,
            // Broker time starts somewhere realistic, far from 0.
            skew: 1_700_000_000_000,
            max_timestamp: LogTime::MIN,
            clients,
            in_flight: BTreeMap::new(),
            send_seq: 0,
            log: Vec::new(),
            machine: Machine::new(0),
            events: Vec::new(),
            holders: BTreeMap::new(),
            last_granted: BTreeMap::new(),
            alive: BTreeMap::new(),
            pending_events: Vec::new(),
        }
    }

    fn broker_now(&self) -> LogTime {
        self.now + self.skew
    }

    fn run(scenario: &Scenario) -> Sim {
        let mut sim = Sim::new(scenario);
        for step in &scenario.steps {
            sim.advance(i64::from(step.wait_ms));
            sim.act(step.client, &step.action);
        }
        // Let everything in flight land and every silent lease run out.
        sim.advance(3 * MAX_TTL_MS as i64);
        sim
    }

    /// Moves real time forward by `ms`, quantum by quantum: deliver, then let clients act.
    fn advance(&mut self, ms: i64) {
        let end = self.now + ms;
        while self.now < end {
            self.now = (self.now + QUANTUM_MS).min(end);
            self.deliver();
            for i in 0..self.clients.len() {
                self.client_loop(i);
            }
        }
        self.deliver();
    }

    fn send(&mut self, sender: Option<usize>, key: Option<Vec<u8>>, value: Option<Vec<u8>>) {
        let ttl_hint = sender
            .and_then(|i| self.clients[i].want.as_ref().map(|w| w.ttl))
            .unwrap_or(2_000);
        let delay = if self.rng.chance(2) {
            // A delay spike: up to 1.5 x ttl in the network.
            self.rng.below(ttl_hint * 3 / 2) as i64
        } else {
            1 + self.rng.below(30) as i64
        };
        let mut arrival = self.now + delay;
        if let Some(i) = sender {
            arrival = arrival.max(self.clients[i].last_arrival);
            self.clients[i].last_arrival = arrival;
        }
        self.send_seq += 1;
        self.in_flight.insert(
            (arrival, self.send_seq),
            InFlight {
                key,
                value,
                sender,
                sent_at: self.now,
            },
        );
    }

    fn send_op(&mut self, sender: Option<usize>, lock: Option<&str>, op: &Op) {
        self.send(
            sender,
            lock.map(|l| l.as_bytes().to_vec()),
            Some(encode_value(op)),
        );
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
        self.machine.handle_record(
            offset,
            timestamp,
            record.key.as_deref(),
            record.value.as_deref(),
        );
        while let Some(event) = self.machine.poll_event() {
            self.check_event(offset, &record, &event);
            self.pending_events.push(event);
        }
        let log_record = LogRecord {
            offset,
            timestamp,
            key: record.key,
            value: record.value,
            sender: record.sender,
            sent_at: record.sent_at,
        };
        for event in std::mem::take(&mut self.pending_events) {
            self.learn(&log_record, &event);
            self.events.push((offset, event));
        }
        self.log.push(log_record);
        self.check_state();
    }

    /// One holder per lock, grants only after the previous holder left, tokens increasing;
    /// only an owner's own records renew or release its request.
    fn check_event(&mut self, offset: Offset, record: &InFlight, event: &Event) {
        let record_owner = || {
            let value = record.value.as_deref()?;
            let json: serde_json::Value = serde_json::from_slice(value).ok()?;
            json.get("owner")?.as_str().map(str::to_owned)
        };
        match event {
            Event::Released { owner, .. } => {
                assert_eq!(
                    record_owner().as_ref(),
                    Some(owner),
                    "offset {offset}: released by a stranger"
                );
            }
            Event::Renewed {
                key, token, owner, ..
            } => {
                assert_eq!(record_owner().as_ref(), Some(owner));
                let request = self
                    .machine
                    .request(key, *token)
                    .expect("renewed request is live");
                assert_eq!(
                    &request.owner, owner,
                    "offset {offset}: renewed by a stranger"
                );
            }
            _ => {}
        }
        match event {
            Event::Granted { key, token, .. } => {
                if let Some(previous) = self.holders.get(key) {
                    panic!("offset {offset}: {key} granted to {token} while {previous} holds it");
                }
                if let Some(last) = self.last_granted.get(key) {
                    assert!(
                        token > last,
                        "offset {offset}: {key} granted to {token} after {last} (not FIFO)"
                    );
                }
                self.holders.insert(key.clone(), *token);
                self.last_granted.insert(key.clone(), *token);
            }
            Event::Released { key, token, .. } | Event::Expired { key, token, .. } => {
                if self.holders.get(key) == Some(token) {
                    self.holders.remove(key);
                }
                self.alive.remove(token);
            }
            Event::Enqueued {
                key,
                token,
                alive_at,
                ..
            } => {
                let ttl = self.machine.request(key, *token).map_or(0, |r| r.ttl);
                self.alive.insert(*token, (key.clone(), *alive_at, ttl));
            }
            Event::Renewed {
                key,
                token,
                alive_at,
                ..
            } => {
                let ttl = self.machine.request(key, *token).map_or(0, |r| r.ttl);
                self.alive.insert(*token, (key.clone(), *alive_at, ttl));
            }
            Event::Ignored { .. } => {}
        }
    }

    /// After each record: the machine's holders equal the event stream's, and no request
    /// outlives its last accepted alive time + ttl (the silent-owner invariant).
    fn check_state(&self) {
        // Log time computed here, not taken from the machine: the largest timestamp so far.
        let clock = self.max_timestamp;
        assert_eq!(
            self.machine.clock(),
            Some(clock),
            "the log clock is the max timestamp"
        );
        for key in LOCKS {
            let machine_holder = self.machine.holder(key).map(|r| r.token);
            assert_eq!(
                machine_holder,
                self.holders.get(key).copied(),
                "holder of {key} differs from the event stream"
            );
        }
        for (token, (key, alive_at, ttl)) in &self.alive {
            let deadline = alive_at + *ttl as i64;
            assert!(
                clock <= deadline,
                "request {token} of {key} outlived its lease: clock {clock} > {deadline}"
            );
            assert!(self.machine.request(key, *token).is_some());
        }
        assert_eq!(
            self.alive.len(),
            LOCKS
                .iter()
                .map(|k| self.machine.queue_len(k))
                .sum::<usize>(),
            "a live request the event stream does not know of"
        );
    }

    /// What clients learn by consuming: their token, `prev`, grants, and losses.
    fn learn(&mut self, record: &LogRecord, event: &Event) {
        let find = |clients: &[Client], token: Offset| {
            clients
                .iter()
                .position(|c| c.want.as_ref().is_some_and(|w| w.token == Some(token)))
        };
        match event {
            Event::Enqueued {
                owner,
                seq,
                token,
                alive_at,
                ..
            } => {
                if let Some(client) = self.clients.iter_mut().find(|c| &c.owner == owner) {
                    if let Some(want) = client.want.as_mut().filter(|w| w.seq == *seq) {
                        want.token = Some(*token);
                        want.prev = Some(*alive_at);
                        want.prev_sent_at = record.sent_at;
                    }
                }
            }
            Event::Renewed {
                token, alive_at, ..
            } => {
                if let Some(i) = find(&self.clients, *token) {
                    let want = self.clients[i].want.as_mut().expect("found by want");
                    if record.sender == Some(i) && record.sent_at >= want.prev_sent_at {
                        want.prev = Some(*alive_at);
                        want.prev_sent_at = record.sent_at;
                    }
                }
            }
            Event::Granted { token, .. } => {
                if let Some(i) = find(&self.clients, *token) {
                    let now = self.now;
                    let want = self.clients[i].want.as_mut().expect("found by want");
                    want.held_since = Some(now);
                }
            }
            Event::Released { token, .. } | Event::Expired { token, .. } => {
                if let Some(i) = find(&self.clients, *token) {
                    // The request is gone: the hold is lost or the wait is over.
                    self.clients[i].want = None;
                }
            }
            Event::Ignored { .. } => {}
        }
    }

    fn release(&mut self, i: usize) {
        let Some(want) = self.clients[i].want.take() else {
            return;
        };
        let Some(token) = want.token else {
            return;
        };
        let owner = self.clients[i].owner.clone();
        let lock = LOCKS[want.lock];
        self.send_op(
            Some(i),
            Some(lock),
            &Op::Release {
                owner: owner.clone(),
                r#ref: token,
            },
        );
        if self.race && self.rng.chance(30) {
            // The renewal thread decided before the release and sends after it, at once or
            // after a while (a stalled thread): still valid for up to ttl after `prev`.
            if let Some(prev) = want.prev {
                let renew = Op::Renew {
                    owner,
                    r#ref: token,
                    prev,
                    ttl: want.ttl,
                };
                let delay = if self.rng.chance(50) {
                    0
                } else {
                    self.rng.below(want.ttl * 2 / 3) as i64
                };
                let send_at = self.now + delay;
                self.clients[i]
                    .late_renews
                    .push((send_at, lock.to_owned(), renew));
            }
        }
    }

    /// The client's background work: zombie renew, lease view, release, renew, tick.
    fn client_loop(&mut self, i: usize) {
        let now = self.now;
        let client = &self.clients[i];
        if client.crashed || now < client.paused_until {
            return;
        }
        if let Some((lock, renew)) = self.clients[i].zombie_renew.take() {
            self.send_op(Some(i), Some(&lock), &renew);
        }
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.clients[i].late_renews)
            .into_iter()
            .partition(|(send_at, _, _)| *send_at <= now);
        self.clients[i].late_renews = later;
        for (_, lock, renew) in due {
            self.send_op(Some(i), Some(&lock), &renew);
        }
        let Some(want) = self.clients[i].want.clone() else {
            return;
        };
        // Conservative lease view: trust until (send time of last accepted alive record) +
        // ttl - margin. Past it, give up (and clean up if the token is known).
        if now > want.prev_sent_at + want.ttl as i64 - local_margin(want.ttl) {
            self.release(i);
            return;
        }
        if let Some(since) = want.held_since {
            if now >= since + want.hold_ms {
                self.release(i);
                return;
            }
        }
        let lock = LOCKS[want.lock];
        if let (Some(token), Some(prev)) = (want.token, want.prev) {
            if now - want.last_renew_sent >= (want.ttl / 3) as i64 {
                let renew = Op::Renew {
                    owner: self.clients[i].owner.clone(),
                    r#ref: token,
                    prev,
                    ttl: want.ttl,
                };
                self.send_op(Some(i), Some(lock), &renew);
                if let Some(w) = self.clients[i].want.as_mut() {
                    w.last_renew_sent = now;
                }
            }
        }
        // A waiter ticks when the holder's deadline has passed by its estimate of broker time.
        if want.held_since.is_none() && now - self.clients[i].last_tick_sent >= 500 {
            let expired = self
                .machine
                .holder(lock)
                .is_some_and(|h| h.deadline() < self.broker_now());
            if expired {
                self.clients[i].last_tick_sent = now;
                self.send_op(Some(i), None, &Op::Tick);
            }
        }
    }

    fn act(&mut self, i: usize, action: &Action) {
        let now = self.now;
        if now < self.clients[i].paused_until
            && !matches!(action, Action::ClockJump(_) | Action::Junk(_))
        {
            return;
        }
        match *action {
            Action::Acquire { lock, ttl, hold } => {
                let client = &mut self.clients[i];
                if client.crashed {
                    // A new process on the same machine: new owner id, nothing inherited.
                    client.incarnation += 1;
                    client.owner = format!("c{i}r{}", client.incarnation);
                    client.crashed = false;
                    client.want = None;
                    client.zombie_renew = None;
                    client.late_renews.clear();
                }
                if client.want.is_some() {
                    return;
                }
                client.seq += 1;
                let ttl = TTLS[ttl];
                let hold_ms = [200, 3_000, 2 * ttl as i64][hold];
                client.want = Some(Want {
                    lock,
                    seq: client.seq,
                    ttl,
                    hold_ms,
                    token: None,
                    prev: None,
                    prev_sent_at: now,
                    last_renew_sent: now,
                    held_since: None,
                });
                let acquire = Op::Acquire {
                    owner: client.owner.clone(),
                    seq: client.seq,
                    ttl,
                };
                self.send_op(Some(i), Some(LOCKS[lock]), &acquire);
            }
            Action::Cancel => {
                let waiting = self.clients[i]
                    .want
                    .as_ref()
                    .is_some_and(|w| w.held_since.is_none());
                if waiting && !self.clients[i].crashed {
                    self.release(i);
                }
            }
            Action::Pause { long, zombie } => {
                let client = &mut self.clients[i];
                if client.crashed {
                    return;
                }
                let ttl = client.want.as_ref().map_or(2_000, |w| w.ttl) as i64;
                client.paused_until = now + if long { 2 * ttl } else { ttl / 2 };
                if let Some(want) = client.want.as_ref().filter(|_| zombie) {
                    if let (Some(token), Some(prev)) = (want.token, want.prev) {
                        let renew = Op::Renew {
                            owner: client.owner.clone(),
                            r#ref: token,
                            prev,
                            ttl: want.ttl,
                        };
                        client.zombie_renew = Some((LOCKS[want.lock].to_owned(), renew));
                    }
                }
            }
            Action::Crash => self.clients[i].crashed = true,
            Action::Tick => {
                if !self.clients[i].crashed {
                    self.send_op(Some(i), None, &Op::Tick);
                }
            }
            Action::Junk(kind) => self.junk(kind),
            Action::ClockJump(delta) => {
                // Backward steps stay within the joiners' margin of the newest timestamp.
                let floor = self.max_timestamp.saturating_sub(JOIN_MARGIN_MS / 2);
                self.skew += delta;
                if self.broker_now() < floor {
                    self.skew += floor - self.broker_now();
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
        let live: Vec<Request> = LOCKS
            .iter()
            .flat_map(|k| self.machine.queue(k).cloned().collect::<Vec<_>>())
            .collect();
        let victim =
            (!live.is_empty()).then(|| live[self.rng.below(live.len() as u64) as usize].clone());
        let victim_key = victim
            .as_ref()
            .and_then(|v| self.machine.key_of(v.token).map(str::to_owned));
        let raw = |s: &str| Some(s.as_bytes().to_vec());
        match kind {
            0 => self.send(None, raw(lock), raw("not json")),
            1 => self.send(None, raw(lock), None),
            2 => self.send(
                None,
                None,
                raw(r#"{"v":1,"op":"release","owner":"x","ref":1}"#),
            ),
            3 => self.send(None, raw(lock), raw(r#"{"v":2,"op":"tick"}"#)),
            4 => self.send(
                None,
                raw(lock),
                raw(r#"{"v":1,"op":"acquire","owner":"x","seq":1,"ttl":60001}"#),
            ),
            5 => {
                // A renew with an ancient prev: invalid for everyone.
                let token = victim.as_ref().map_or(0, |v| v.token);
                let owner = victim.as_ref().map_or("x".into(), |v| v.owner.clone());
                let key = victim_key.clone().unwrap_or(lock.to_owned());
                let op = Op::Renew {
                    owner,
                    r#ref: token,
                    prev: ancient,
                    ttl: 1_000,
                };
                self.send_op(None, Some(&key), &op);
            }
            6 => {
                // A release of a ref that was never an acquire (a future offset).
                let op = Op::Release {
                    owner: "x".into(),
                    r#ref: next_offset + 1_000_000,
                };
                self.send_op(None, Some(lock), &op);
            }
            7 if self.hostile => {
                // A release of someone else's request by a stranger.
                if let (Some(v), Some(key)) = (&victim, &victim_key) {
                    let op = Op::Release {
                        owner: "mallory".into(),
                        r#ref: v.token,
                    };
                    self.send_op(None, Some(key), &op);
                }
            }
            8 if self.hostile => {
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
                self.send_op(None, Some(&key), &op);
            }
            9 if self.hostile => {
                // Someone else releases a victim in its owner's name (a confused client).
                if let (Some(v), Some(key)) = (&victim, &victim_key) {
                    let op = Op::Release {
                        owner: v.owner.clone(),
                        r#ref: v.token,
                    };
                    self.send_op(None, Some(key), &op);
                }
            }
            _ => self.send(None, raw(lock), raw("[]")),
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
    machine
        .keys()
        .map(|key| (key.to_owned(), machine.queue(key).cloned().collect()))
        .collect()
}

/// The first offset whose timestamp is at or after `target` (Kafka's offsetsForTimes).
fn offset_for_time(log: &[LogRecord], target: LogTime) -> usize {
    log.iter()
        .position(|r| r.timestamp >= target)
        .unwrap_or(log.len())
}

/// Joiners whose first own record is `j` (a client's record) agree with the full replay on
/// every queue from `j` on. Returns how many joiners were checked with a non-zero start, or
/// the first disagreement.
fn check_joiners(log: &[LogRecord], window: LogTime, rng: &mut Rng) -> Result<usize, String> {
    let own: Vec<usize> = (0..log.len())
        .filter(|&i| log[i].sender.is_some())
        .collect();
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
    assert_eq!(
        replay(&sim.log, 0),
        sim.events,
        "replay is not deterministic"
    );
    sim
}

fn window(race: bool) -> LogTime {
    if race {
        // Clients that do not serialise renew and release need twice the look-back.
        2 * MAX_TTL_MS as i64 + JOIN_MARGIN_MS
    } else {
        JOIN_WINDOW_MS
    }
}

/// Full-replay invariants of a simulated scenario, then joiners with the window its clients
/// need (`racing`: renews may land after their own release, so twice the window).
fn check_scenario_and_joiners(scenario: &Scenario, racing: bool) -> Result<(), String> {
    let sim = check_scenario(scenario);
    let mut rng = Rng(scenario.seed ^ 0x5eed);
    check_joiners(&sim.log, window(racing), &mut rng).map(|_| ())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_500, failure_persistence: None, ..ProptestConfig::default() })]

    /// Honest clients that serialise renew and release; joiners read MAX_TTL + margin back.
    #[test]
    fn honest_clients_keep_every_invariant(scenario in scenario(false, false, 400)) {
        if let Err(disagreement) = check_scenario_and_joiners(&scenario, false) {
            prop_assert!(false, "{}", disagreement);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, failure_persistence: None, ..ProptestConfig::default() })]

    /// Clients whose renew can land after their own release; joiners read 2 x MAX_TTL +
    /// margin back, as the design prescribes for them.
    #[test]
    fn racing_clients_keep_every_invariant_with_a_double_window(
        scenario in scenario(true, false, 400)
    ) {
        if let Err(disagreement) = check_scenario_and_joiners(&scenario, true) {
            prop_assert!(false, "{}", disagreement);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, failure_persistence: None, ..ProptestConfig::default() })]

    /// Dishonest writers cannot break the full replay's invariants (one holder, FIFO,
    /// determinism, leases); joiner agreement is only claimed for honest clients.
    #[test]
    fn hostile_writers_cannot_break_the_full_replay(scenario in scenario(false, true, 300)) {
        check_scenario(&scenario);
    }
}

// ---------------------------------------------------------------------------------------
// Arbitrary logs: invariants that hold whatever is written.

#[derive(Debug, Clone)]
enum RawOp {
    Acquire {
        owner: u8,
        ttl: u64,
    },
    Renew {
        owner: u8,
        back: u8,
        prev_back: i64,
        ttl: u64,
    },
    Release {
        owner: u8,
        back: u8,
    },
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
                RawOp::Acquire { owner, ttl } => encode_value(&Op::Acquire { owner: format!("o{owner}"), seq: 1, ttl }),
                RawOp::Renew { owner, back: b, prev_back, ttl } => encode_value(&Op::Renew {
                    owner: format!("o{owner}"), r#ref: back(b), prev: t - prev_back, ttl,
                }),
                RawOp::Release { owner, back: b } => encode_value(&Op::Release { owner: format!("o{owner}"), r#ref: back(b) }),
                RawOp::Tick => encode_value(&Op::Tick),
                RawOp::Junk(bytes) => bytes,
            };
            log.push(LogRecord { offset, timestamp: t, key, value: Some(value), sender: None, sent_at: 0 });
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

/// The simulation really exercises what it claims to (guards against a harness that
/// quietly stopped producing grants, expiries, resurrections or tombstone hits).
#[test]
fn simulation_exercises_the_interesting_paths() {
    let mut totals = [0u64; 6];
    let (mut records, mut span) = (0usize, 0i64);
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for _ in 0..40 {
        let scenario = scenario(false, false, 400)
            .new_tree(&mut runner)
            .expect("strategy")
            .current();
        let sim = check_scenario(&scenario);
        records += sim.log.len();
        span +=
            sim.log.last().map_or(0, |r| r.timestamp) - sim.log.first().map_or(0, |r| r.timestamp);
        let stats = sim.machine.stats();
        totals[0] += stats.grants;
        totals[1] += stats.expiries;
        totals[2] += stats.malformed;
        totals[3] += stats.releases;
        let mut rng = Rng(scenario.seed);
        totals[4] +=
            check_joiners(&sim.log, window(false), &mut rng).expect("joiners agree") as u64;
        // Resurrections happen in joiners: count over joiners at a few starts.
        for start in [sim.log.len() / 3, sim.log.len() / 2] {
            let mut joiner = Machine::new(start as Offset);
            for r in &sim.log[start..] {
                joiner.handle_record(r.offset, r.timestamp, r.key.as_deref(), r.value.as_deref());
                while joiner.poll_event().is_some() {}
            }
            totals[5] += joiner.stats().resurrections;
        }
    }
    let [grants, expiries, malformed, releases, mid_log_joins, resurrections] = totals;
    eprintln!(
        "40 scenarios: {records} records over {}s of log time, {grants} grants, {expiries} expiries, {malformed} malformed, \
         {releases} releases, {mid_log_joins} mid-log joiners, {resurrections} resurrections",
        span / 1000
    );
    assert!(grants > 200 && expiries > 20 && malformed > 20 && releases > 100);
    assert!(mid_log_joins > 20 && resurrections > 20);
}

/// The harness can see what the double window is for: racing clients (renew after own
/// release) with only the single `MAX_TTL + margin` window make some joiner disagree. This is
/// the design's own finding; if it stopped failing, the racing simulation would have lost
/// its teeth.
#[test]
fn racing_clients_break_a_single_window_joiner() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = scenario(true, false, 400);
    let found = (0..2_000).any(|_| {
        let scenario = strategy.new_tree(&mut runner).expect("strategy").current();
        let sim = check_scenario(&scenario);
        let mut rng = Rng(scenario.seed ^ 0x5eed);
        check_joiners(&sim.log, window(false), &mut rng).is_err()
    });
    assert!(found, "no racing scenario broke a single-window joiner");
}
