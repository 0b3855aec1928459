//! The client rules: what one process does with its own requests, as a sans-IO state machine.
//!
//! A [`Client`] owns this process's requests and a replayed [`Machine`] per partition in
//! use. It never reads a clock, starts a thread or talks to Kafka: the caller passes local
//! monotonic time in ([`LocalTime`]), feeds it what Kafka delivered, and carries out what it
//! asks for, in the style of quinn-proto's `Connection`:
//!
//! - commands: [`Client::acquire`], [`Client::withdraw`], [`Client::release_all`],
//!   [`Client::fail_topic`], [`Client::inspect`], [`Client::revoke`];
//! - inputs: [`Client::handle_record`] (a consumed record), [`Client::handle_report`] (a
//!   delivery report), [`Client::handle_send_error`] (a record the producer refused),
//!   [`Client::handle_join_start`] / [`Client::handle_join_error`] (the joining lookups),
//!   [`Client::handle_timeout`] (time passed);
//! - outputs, drained after every input: [`Client::poll_transmit`] (records to produce, in
//!   order), [`Client::take_join_lookup`] (a join's `offsetsForTimes` to run), and
//!   [`Client::poll_timeout`] (when to call `handle_timeout` next);
//! - getters: [`Client::status`], [`Client::is_held`], [`Client::remaining`],
//!   [`Client::inspection`], [`Client::revoke_outcome`].
//!
//! Each client rule of `docs/protocol.md` lives here once: the renew period
//! ([`RENEW_DIVISOR`]), the holder's trust margin ([`TRUST_MARGIN_DIVISOR`]), trust only from
//! accepted records (a renewal only once its delivery report names the offset accepted),
//! renew and release serialised per request, ticks when a holder's lease
//! should have run out, a grant trusted only from the join point on, and when a request
//! counts as lost.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::ops::Add;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::machine::{AcquireLookup, Event, Machine};
use super::record::{commitment_of, encode_with_proof, Mode, Op, Proof};
use super::stats::{ClientStats, GaveUp};
use super::{LogTime, Offset, JOIN_WINDOW_MS};

/// A holder renews its request every `ttl / RENEW_DIVISOR`, while queued or holding: two
/// renewals can be lost before the lease runs out.
pub const RENEW_DIVISOR: u32 = 3;

/// A holder stops trusting its lease `ttl / TRUST_MARGIN_DIVISOR` before it would end by its
/// own clock: the margin covers rate drift between the holder's clock and the broker's.
pub const TRUST_MARGIN_DIVISOR: u32 = 10;

/// The shortest time between two ticks to one partition: a tick moves log time for every
/// client, so one per round trip is enough.
pub const MIN_TICK_INTERVAL: Duration = Duration::from_millis(50);

/// How long a release whose produce failed waits before it is sent again.
pub const RELEASE_RETRY_BACKOFF: Duration = Duration::from_millis(100);

/// A lease must leave its holder at least `ttl / MIN_TRUST_DIVISOR` of trust: the holder
/// renews every `ttl / RENEW_DIVISOR` and its trust must outlast the renewal's round trip, or
/// a steady holder would keep losing its hold.
pub const MIN_TRUST_DIVISOR: u32 = 2;

/// How long after producing an acquire the waiting caller polls the producer for its delivery
/// report itself (the report may decide the acquire before it is read back); later it waits
/// for the driver, so a broker that does not answer costs no busy polling.
pub const AWAIT_REPORT_FOR: Duration = Duration::from_millis(10);

/// A joined partition on which this client has had nothing (no request, release or inspection)
/// for this long is no longer followed: its view is dropped and the consumer stops fetching it,
/// so an idle process costs the brokers no fetches and keeps no view. The next request joins it
/// again, which replays up to `JOIN_WINDOW_MS` of its records (docs/performance.md, "Joining").
pub const UNFOLLOW_AFTER: Duration = Duration::from_secs(30);

/// Acceptances of a request's renewals kept, while a renewal of its own is on its way, until a
/// delivery report names their offset: a writer copying the request's renewals adds some that
/// no report will name. Past this many the oldest go, and with them maybe the holder's own
/// (its renewal then earns no trust: a writer that floods copies can only make a holder give
/// its hold up early).
const MAX_UNPAIRED_ACCEPTANCES: usize = 1024;

/// The terms of one request's lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    /// How long, by log time, the request stays alive after its last accepted record.
    pub ttl: Duration,
    /// The largest forward step of the log clock the holder's trust survives. Expiry is
    /// decided by the timestamps of the partition leader's clock: a leader change to a
    /// broker whose clock is ahead, or a forward NTP step on the leader, ends every lease
    /// that much early in everyone else's view, so the holder stops trusting that much sooner.
    pub max_clock_step: Duration,
}

impl Lease {
    /// How long after sending an accepted alive record the holder trusts its lease: the ttl
    /// less the drift margin (`ttl / TRUST_MARGIN_DIVISOR`) and the clock-step budget.
    pub fn trusted_for(&self) -> Duration {
        self.ttl.saturating_sub(self.ttl / TRUST_MARGIN_DIVISOR).saturating_sub(self.max_clock_step)
    }

    /// Checks that the holder is left enough trust ([`MIN_TRUST_DIVISOR`]); on failure gives
    /// the shortest ttl that would do with this clock-step budget.
    pub fn check(&self) -> Result<(), Duration> {
        if self.trusted_for() >= self.ttl / MIN_TRUST_DIVISOR {
            return Ok(());
        }
        let share = 1.0 - 1.0 / f64::from(TRUST_MARGIN_DIVISOR) - 1.0 / f64::from(MIN_TRUST_DIVISOR);
        // Rounded up to the millisecond, so the ttl named passes the check.
        let shortest = (self.max_clock_step.as_secs_f64() / share * 1000.0).ceil() / 1000.0;
        Err(Duration::from_secs_f64(shortest))
    }
}

/// Local monotonic time: the time since an origin the caller picks once (a session's start).
/// The core never reads a clock; every input that depends on time takes one of these.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalTime(Duration);

impl LocalTime {
    /// The origin.
    pub const ZERO: LocalTime = LocalTime(Duration::ZERO);

    /// The time `since_origin` after the origin.
    pub fn from_duration(since_origin: Duration) -> LocalTime {
        LocalTime(since_origin)
    }

    /// How long after `earlier` this is; zero if it is not after it.
    pub fn saturating_since(self, earlier: LocalTime) -> Duration {
        self.0.saturating_sub(earlier.0)
    }

    /// This time minus `d`, or the origin.
    pub fn saturating_sub(self, d: Duration) -> LocalTime {
        LocalTime(self.0.saturating_sub(d))
    }
}

impl Add<Duration> for LocalTime {
    type Output = LocalTime;

    fn add(self, d: Duration) -> LocalTime {
        LocalTime(self.0.saturating_add(d))
    }
}

/// One partition of a lock topic.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PartitionId {
    /// The topic.
    pub topic: Arc<str>,
    /// The partition number.
    pub partition: i32,
}

impl PartitionId {
    /// Partition `partition` of `topic`.
    pub fn new(topic: &str, partition: i32) -> PartitionId {
        PartitionId { topic: topic.into(), partition }
    }
}

/// Identifies one of this client's requests (also its `seq` in the acquire record).
pub type RequestId = u64;

/// Identifies one record handed out by [`Client::poll_transmit`].
pub type TransmitId = u64;

/// Why a record is produced; given back with [`Client::handle_send_error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The acquire of a request.
    Acquire(RequestId),
    /// A renewal of a request.
    Renew(RequestId),
    /// The release of a request (by then forgotten as a request; the release is kept).
    Release(RequestId),
    /// A tick: moves log time so that a dead holder expires now.
    Tick,
    /// A revoke of another request (an operator's).
    Revoke,
}

/// A record to produce to `partition`, exactly as given, in the order handed out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Identifies it in delivery reports and send errors.
    pub id: TransmitId,
    /// Where to produce it (explicit partition: a tick has no key to hash).
    pub partition: PartitionId,
    /// The record key: the lock identifier, none for a tick.
    pub key: Option<String>,
    /// The encoded value, built by the same encoder the decoder is tested against.
    pub value: Vec<u8>,
    /// Why it is produced.
    pub purpose: Purpose,
    /// Whether [`Client::handle_report`] must get this record's delivery report.
    pub report: bool,
}

/// Where the broker put a record, as its delivery report says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// The record's offset.
    pub offset: Offset,
    /// The broker's timestamp (LogAppendTime); `None` if the topic stamps with the producer's
    /// clock (CreateTime), which no lock can use.
    pub log_time: Option<LogTime>,
}

/// Identifies an inspection: the id of the tick it placed ([`Client::inspect`]).
pub type InspectionId = TransmitId;

/// One live request of a lock in an inspection's snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedRequest {
    /// Who sent it (the owner field of its records).
    pub owner: String,
    /// How it holds or will hold.
    pub mode: Mode,
    /// Whether it holds the lock (the granted prefix of the queue).
    pub granted: bool,
    /// Whether a revoke named it: its renewals are refused, it ends at its current lease.
    pub revoked: bool,
    /// Its fencing token (its acquire's offset).
    pub token: Offset,
    /// Log time left of its lease after the last record the view read.
    pub expires_in: Duration,
}

/// A lock as this client's view of its partition shows it at an inspection's point of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The live requests, the holder first.
    pub queue: Vec<QueuedRequest>,
    /// Whether the view was complete: no deleted history within the join window and no claim
    /// learnt from a renew still unchecked could hide a request from it.
    pub complete: bool,
}

/// Where an inspection stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inspected {
    /// Its tick has not been read back yet.
    Pending,
    /// Its tick was not read back within the operation time-out; `joining` as in
    /// [`Status::NotSeen`].
    NotSeen {
        /// Whether the partition was still waiting for its join lookups.
        joining: bool,
    },
    /// It cannot be answered.
    Failed(Failure),
    /// The partition's view was reset under it: inspect again.
    Lost,
    /// The view has read past its tick.
    Ready(Snapshot),
}

/// An inspection on its way: a tick produced with a delivery report. Once the view has read
/// past the tick, it shows every record written before the inspection began.
#[derive(Debug, Clone)]
struct Inspection {
    partition: PartitionId,
    since: LocalTime,
    /// Where the tick landed.
    placed: Option<Offset>,
    /// Set when the tick's delivery failed or its partition was given up.
    ended: Option<Phase>,
}

/// Why a request or a partition cannot go on. The session turns it into an error message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The topic stamps records with the producer's clock (CreateTime), not broker time.
    CreateTime,
    /// The topic's partition count changed under live locks.
    PartitionCountChanged {
        /// The count this client used.
        from: i32,
        /// The count the brokers now report.
        to: i32,
    },
    /// The first record of a join was refused or its delivery failed.
    JoinNotWritten(String),
    /// The first record of a join was not acknowledged within the operation time-out.
    JoinNotAcknowledged,
    /// The join's offset lookup failed.
    JoinLookup(String),
    /// The consumer could not be assigned the partition.
    JoinAssign(String),
    /// The acquire record could not be queued for producing.
    NotSent(String),
    /// The thread that feeds this client stopped (a bug): nothing renews or reads any more.
    Stopped(String),
    /// The brokers no longer know the topic: it was deleted under live locks.
    TopicDeleted,
    /// The producer failed for good (librdkafka's fatal error, e.g. an idempotent producer's
    /// sequence refused): nothing this client writes is sent any more, renewals included.
    ProducerFailed(String),
    /// This client's view of the partition refused an acquire because it held
    /// `MAX_LIVE_REQUESTS` live requests: it may lack a request that other views hold.
    PartitionFull,
}

/// A request as its waiter sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// The acquire has not been read back yet.
    Pending,
    /// The acquire was not read back within the operation time-out: the request is withdrawn
    /// (released as soon as it shows up). `joining`: the partition's join lookups had not been
    /// answered yet (its records are not read until they are).
    NotSeen {
        /// Whether the partition was still waiting for its join lookups.
        joining: bool,
    },
    /// In the queue, behind another request.
    Waiting {
        /// The request's token.
        token: Offset,
    },
    /// The machine granted it. `trusted` is the holder's own conservative lease view: only a
    /// trusted grant may be reported to the caller.
    Granted {
        /// The fencing token.
        token: Offset,
        /// Whether the lease is still trusted at the time asked.
        trusted: bool,
    },
    /// The log removed it (its lease ran out, or it is no longer granted): a holder lost its
    /// hold, a waiter its place.
    Lost,
    /// Queued behind a request it can never hold with: the lock is in use as another kind of
    /// lock, or as a semaphore of another limit (`held_as`). Withdraw it and tell the caller.
    Conflict {
        /// The mode of the first such request ahead.
        held_as: Mode,
    },
    /// It cannot go on.
    Failed(Failure),
    /// No such request (withdrawn or forgotten).
    Unknown,
}

/// What [`Client::withdraw`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Withdrawn {
    /// Whether the request was held with a trusted lease until now.
    pub held: bool,
    /// Whether a release record was queued: [`Client::release_pending`] tells when the
    /// broker has it.
    pub release_queued: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    /// Waiting for its partition's join to finish before its acquire is produced.
    Unsent,
    /// Produced; in the queue (or not yet read back).
    Waiting,
    /// At the head of its queue: the machine granted it.
    Granted,
    /// The log removed it.
    Lost,
    /// Its waiter gave up before its acquire was read back: release it once it shows up.
    Cancelled,
    /// It cannot go on.
    Failed(Failure),
}

#[derive(Debug, Clone)]
struct OwnRequest {
    partition: PartitionId,
    key: String,
    mode: Mode,
    /// The nonce its acquire carries.
    nonce: [u8; 16],
    lease: Lease,
    token: Option<Offset>,
    /// Log time of the last alive record the machine *accepted*: the next renew's `prev`.
    prev: Option<LogTime>,
    /// Renewals sent whose delivery report has not come: their send times. A renewal counts
    /// for the holder's trust only once its report says where it landed and the view accepted
    /// the record at that offset: anyone can write a copy of it (owner and commitment are in
    /// the log), and pairing an accepted copy with the send time of a renewal still on its way
    /// made the holder trust its lease one renewal longer per copy (two holders, found by the
    /// forging writers' property test).
    renews_in_flight: BTreeMap<TransmitId, LocalTime>,
    /// Renewals whose report came, by offset, not yet seen accepted: their send times.
    renews_placed: BTreeMap<Offset, LocalTime>,
    /// Offsets of renewals of this request the view accepted before a report named them (the
    /// record was read before its report was served, or it is someone else's copy).
    accepted_unpaired: BTreeSet<Offset>,
    /// Send time of the last accepted alive record of this client's own (its acquire, or a
    /// renewal paired by offset): the lease is trusted until this + ttl - margin (every other
    /// client expires it later, by broker time, which stamped it later).
    trusted_since: Option<LocalTime>,
    last_alive_sent: LocalTime,
    produced_at: Option<LocalTime>,
    phase: Phase,
    /// A revoke named it: no renewal of it counts any more, so none is sent.
    revoked: bool,
    /// When a record after its acquire (the release or expiry of the one in front) made it the
    /// head: the start of its hand-off (stats).
    head_since: Option<LocalTime>,
    /// When its caller was handed the hold (stats: hold time).
    held_since: Option<LocalTime>,
    /// The view was complete while this request was its lock's head. Until then its grant
    /// decides nothing: a request learnt of late (an acquire read after the grant) may stand
    /// in front, and this one waits again; from then on, not being the head is a lost hold.
    grant_decided: bool,
}

impl OwnRequest {
    fn trusted_until(&self) -> Option<LocalTime> {
        self.trusted_since.map(|since| since + self.lease.trusted_for())
    }

    /// A renewal of ours sent at `sent` was accepted: the lease runs at least until its broker
    /// time + ttl, and the broker stamped it after `sent`.
    fn trust_from(&mut self, sent: LocalTime) {
        self.trusted_since = Some(self.trusted_since.map_or(sent, |since| since.max(sent)));
    }

    /// The view accepted a renewal of this request at `offset`: ours if a report names it
    /// (now or later), someone else's copy otherwise.
    fn renew_accepted(&mut self, offset: Offset) {
        // Records are applied in order: a renewal placed below this one was refused.
        self.renews_placed = self.renews_placed.split_off(&offset);
        match self.renews_placed.remove(&offset) {
            Some(sent) => self.trust_from(sent),
            // With no renewal of ours on its way, the accepted record is someone else's.
            None if self.renews_in_flight.is_empty() => {}
            None => {
                self.accepted_unpaired.insert(offset);
                while self.accepted_unpaired.len() > MAX_UNPAIRED_ACCEPTANCES {
                    self.accepted_unpaired.pop_first();
                }
            }
        }
    }

    /// The delivery report of renewal `record`: where it landed, or that it failed.
    fn renew_reported(&mut self, record: TransmitId, placed: Option<Offset>) {
        let Some(sent) = self.renews_in_flight.remove(&record) else { return };
        let Some(offset) = placed else { return };
        // One producer writes this client's renewals in order: an acceptance below this offset
        // still unpaired was someone else's copy.
        self.accepted_unpaired = self.accepted_unpaired.split_off(&offset);
        if self.accepted_unpaired.remove(&offset) {
            self.trust_from(sent);
        } else {
            self.renews_placed.insert(offset, sent);
        }
    }

    fn renew_due(&self) -> LocalTime {
        self.last_alive_sent + self.lease.ttl / RENEW_DIVISOR
    }

    fn live(&self) -> bool {
        matches!(self.phase, Phase::Waiting | Phase::Granted)
    }

    /// Whether its renewals are due on a timer: live, in the view, and not revoked.
    fn renewing(&self) -> bool {
        self.live() && !self.revoked && self.token.is_some() && self.prev.is_some()
    }
}

#[derive(Debug, Clone)]
enum Join {
    /// The first record is on its way; its delivery report says where it landed.
    Placing { record: TransmitId, since: LocalTime },
    /// The placement is known; the offset lookup is to be run (`claimed` once handed out).
    LookingUp { placement: Offset, placed_at: LogTime, window_start: LogTime, claimed: bool },
    /// Replaying.
    Joined,
}

#[derive(Debug, Clone)]
struct PartitionState {
    join: Join,
    machine: Option<Machine>,
    /// Offset of this client's first record on the partition: grants are trusted from here.
    trusted_from: Offset,
    /// When the join window may lack history (the log start is above the window's start, or
    /// the first record delivered is above it): no grant is trusted until the log clock has
    /// passed this. Every request alive at the join renews within one `MAX_TTL_MS` and so
    /// shows up again before then; every other one has expired.
    complete_after: Option<LogTime>,
    /// The join record's broker time.
    joined_at: LogTime,
    /// Largest log time seen and the local time it was seen: estimates broker time now.
    clock_seen: Option<(LogTime, LocalTime)>,
    last_tick: Option<LocalTime>,
    /// When this client last asked for something on it (see [`UNFOLLOW_AFTER`]).
    last_used: LocalTime,
    /// Own acquires applied from their delivery report ([`Client::handle_report`]), by
    /// offset, with the broker time the report gave, until read back: the record read there
    /// is not applied twice, and must be the one applied (it is, unless the log lost a record
    /// it acknowledged).
    applied_on_ack: BTreeMap<Offset, (OwnRecord, LogTime)>,
}

impl PartitionState {
    /// Whether its join waits for the answers of its offset lookups.
    fn looking_up(&self) -> bool {
        matches!(self.join, Join::LookingUp { .. })
    }

    /// A partition whose join record (`record`, sent at `now`) is on its way.
    fn placing(record: TransmitId, now: LocalTime) -> PartitionState {
        PartitionState {
            join: Join::Placing { record, since: now },
            machine: None,
            trusted_from: 0,
            complete_after: None,
            joined_at: 0,
            clock_seen: None,
            last_tick: None,
            last_used: now,
            applied_on_ack: BTreeMap::new(),
        }
    }
}

/// An own record as produced: what a view applies when its delivery report places it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct OwnRecord {
    partition: PartitionId,
    key: Option<String>,
    value: Vec<u8>,
}

/// A release on its way: a release lost to a broker outage would leave the lock taken for a
/// whole lease (found by the chaos suite's restart scenario), so it is sent again until it is
/// acknowledged or the lease is over anyway.
#[derive(Debug, Clone)]
struct PendingRelease {
    partition: PartitionId,
    key: String,
    token: Offset,
    record: TransmitId,
    /// When to look for its delivery report again (the driver polls the producer when it wakes).
    check_at: LocalTime,
    retry_at: Option<LocalTime>,
    give_up: LocalTime,
}

/// This process's side of the lock protocol (see the module docs).
#[derive(Debug, Clone)]
pub struct Client {
    owner: String,
    /// Derives each request's nonce and release secret (never leaves the process).
    secret: [u8; 32],
    /// How long an acquire may take to be read back, and a join's first record to be
    /// acknowledged.
    operation_timeout: Duration,
    /// See [`UNFOLLOW_AFTER`].
    unfollow_after: Duration,
    partitions: BTreeMap<PartitionId, PartitionState>,
    requests: BTreeMap<RequestId, OwnRequest>,
    by_token: HashMap<(PartitionId, Offset), RequestId>,
    topic_failures: HashMap<Arc<str>, Failure>,
    /// Set by [`Client::fail_all`]: every request, present and future, fails with it.
    failure_all: Option<Failure>,
    releases: BTreeMap<RequestId, PendingRelease>,
    inspections: BTreeMap<InspectionId, Inspection>,
    /// Revoke records on their way, by transmit: `None` until the delivery report comes.
    revokes: BTreeMap<TransmitId, Option<Result<(), String>>>,
    transmits: VecDeque<Transmit>,
    /// Own acquires on joined partitions whose delivery report has not come yet, by transmit.
    /// With the request and when it was produced.
    acquires_unreported: HashMap<TransmitId, (RequestId, LocalTime, OwnRecord)>,
    /// Partitions given up since the last [`Client::take_dropped_partitions`]: the session
    /// stops consuming them, and the next request on one joins it anew.
    dropped: Vec<PartitionId>,
    next_request: RequestId,
    next_transmit: TransmitId,
    stats: ClientStats,
}

impl Client {
    /// A client whose records carry `owner` (unique per process and session). `secret` must be
    /// 32 bytes nobody else can know (the session reads them from the OS): it is the seed of
    /// its requests' nonces and release secrets.
    pub fn new(owner: String, secret: [u8; 32], operation_timeout: Duration) -> Client {
        Client {
            owner,
            secret,
            operation_timeout,
            unfollow_after: UNFOLLOW_AFTER,
            partitions: BTreeMap::new(),
            requests: BTreeMap::new(),
            by_token: HashMap::new(),
            topic_failures: HashMap::new(),
            failure_all: None,
            releases: BTreeMap::new(),
            inspections: BTreeMap::new(),
            revokes: BTreeMap::new(),
            transmits: VecDeque::new(),
            acquires_unreported: HashMap::new(),
            dropped: Vec::new(),
            next_request: 0,
            next_transmit: 0,
            stats: ClientStats::default(),
        }
    }

    /// Unfollows idle partitions after `after` instead of [`UNFOLLOW_AFTER`]: simulations
    /// whose runs last seconds use it to leave and join partitions again and again.
    pub fn set_unfollow_after(&mut self, after: Duration) {
        self.unfollow_after = after;
    }

    /// The owner written into this client's records.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The nonce of request `id`: SHA-256 of the secret and the id, so no other writer can
    /// predict it, and this client can recompute it.
    fn nonce(&self, id: RequestId) -> [u8; 16] {
        let digest = Sha256::new()
            .chain_update(b"kafka_lock nonce v1\0")
            .chain_update(self.secret)
            .chain_update(id.to_be_bytes())
            .finalize();
        let mut nonce = [0u8; 16];
        nonce.copy_from_slice(&digest[..16]);
        nonce
    }

    /// The release secret of request `id`: SHA-256 of the secret and the id, like the nonce
    /// but under another label. Its commitment goes into the request's acquire and renews; the
    /// secret itself only into its release, so no other writer can end the request early.
    fn release_secret(&self, id: RequestId) -> [u8; 32] {
        Sha256::new()
            .chain_update(b"kafka_lock release secret v1\0")
            .chain_update(self.secret)
            .chain_update(id.to_be_bytes())
            .finalize()
            .into()
    }

    /// Counters since the client started.
    pub fn stats(&self) -> ClientStats {
        let machines = self.partitions.values().filter_map(|p| p.machine.as_ref());
        let bounded = machines.map(|m| m.stats().refused_full + m.stats().tombstones_evicted).sum();
        let partitions_followed = self.partitions.len() as u64;
        ClientStats { bounded, partitions_followed, ..self.stats.clone() }
    }

    /// The replayed machine of a joined partition (for tests and inspection).
    pub fn machine(&self, partition: &PartitionId) -> Option<&Machine> {
        self.partitions.get(partition)?.machine.as_ref()
    }

    /// The offset from which this client trusts grants on `partition`, once joined.
    pub fn trusted_from(&self, partition: &PartitionId) -> Option<Offset> {
        let state = self.partitions.get(partition)?;
        state.machine.as_ref().map(|_| state.trusted_from)
    }

    // ---- commands ---------------------------------------------------------------------

    /// Queues a request for `key` in `mode` on `partition` with `lease` (a ttl of at most `MAX_TTL_MS`
    /// that passes [`Lease::check`]; the caller validated it). The first request on a partition joins it:
    /// its acquire is produced with a delivery report, and requests made meanwhile are
    /// produced once the join is done, so none lands before the point grants are trusted from.
    pub fn acquire(
        &mut self,
        now: LocalTime,
        partition: &PartitionId,
        key: &str,
        mode: Mode,
        lease: Lease,
    ) -> Result<RequestId, Failure> {
        if let Some(failure) = self.failure_of(partition) {
            return Err(failure);
        }
        let id = self.next_request;
        self.next_request += 1;
        let request = OwnRequest {
            partition: partition.clone(),
            key: key.to_owned(),
            mode,
            nonce: self.nonce(id),
            lease,
            token: None,
            prev: None,
            renews_in_flight: BTreeMap::new(),
            renews_placed: BTreeMap::new(),
            accepted_unpaired: BTreeSet::new(),
            trusted_since: None,
            last_alive_sent: now,
            produced_at: None,
            phase: Phase::Unsent,
            revoked: false,
            grant_decided: false,
            head_since: None,
            held_since: None,
        };
        self.requests.insert(id, request);
        self.mark_used(partition, now);
        match self.partitions.get(partition).map(|p| &p.join) {
            Some(Join::Joined) => {
                self.send_acquire(now, id, false);
            }
            Some(_) => {} // sent when the join is done
            None => {
                let record = self.send_acquire(now, id, true);
                self.partitions.insert(partition.clone(), PartitionState::placing(record, now));
                self.stats.joins += 1;
            }
        }
        Ok(id)
    }

    /// Starts an inspection of `partition`: a tick is produced with a delivery report (it
    /// joins the partition if this client does not follow it yet). Once the view has read
    /// past it, [`Client::inspection`] gives the state of a lock at that point.
    pub fn inspect(&mut self, now: LocalTime, partition: &PartitionId) -> Result<InspectionId, Failure> {
        if let Some(failure) = self.failure_of(partition) {
            return Err(failure);
        }
        let id = self.push_transmit(partition.clone(), None, Op::Tick, Purpose::Tick, true);
        if !self.partitions.contains_key(partition) {
            self.partitions.insert(partition.clone(), PartitionState::placing(id, now));
            self.stats.joins += 1;
        }
        self.mark_used(partition, now);
        let inspection = Inspection { partition: partition.clone(), since: now, placed: None, ended: None };
        self.inspections.insert(id, inspection);
        Ok(id)
    }

    /// Where inspection `id` stands at `now`, and the snapshot of lock `key` once ready. An
    /// unchecked claim (a request learnt from a renew) is waited for up to the operation
    /// time-out; after that the snapshot says the view is incomplete.
    pub fn inspection(&self, id: InspectionId, key: &str, now: LocalTime) -> Inspected {
        match self.inspected_view(id, now) {
            Ok((machine, complete)) => Inspected::Ready(snapshot(machine, key, complete)),
            Err(state) => state,
        }
    }

    /// [`Client::inspection`] of every lock with live requests on the inspected partition, in
    /// byte order of their identifiers, once ready; until then, where it stands.
    pub fn inspection_of_all(
        &self,
        id: InspectionId,
        now: LocalTime,
    ) -> Result<Vec<(String, Snapshot)>, Inspected> {
        let (machine, complete) = self.inspected_view(id, now)?;
        Ok(machine.keys().map(|key| (key.to_owned(), snapshot(machine, key, complete))).collect())
    }

    /// The view an inspection reads once ready (and whether it was complete), or where the
    /// inspection stands.
    fn inspected_view(&self, id: InspectionId, now: LocalTime) -> Result<(&Machine, bool), Inspected> {
        let Some(inspection) = self.inspections.get(&id) else { return Err(Inspected::Lost) };
        if let Some(failure) = self.failure_of(&inspection.partition) {
            return Err(Inspected::Failed(failure));
        }
        match &inspection.ended {
            Some(Phase::Failed(failure)) => return Err(Inspected::Failed(failure.clone())),
            Some(_) => return Err(Inspected::Lost),
            None => {}
        }
        let state = self.partitions.get(&inspection.partition);
        let timed_out = now >= inspection.since + self.operation_timeout;
        let machine = state.and_then(|s| s.machine.as_ref());
        let Some(machine) = machine.filter(|m| inspection.placed.is_some_and(|at| m.next_offset() > at))
        else {
            if timed_out {
                return Err(Inspected::NotSeen { joining: state.is_some_and(PartitionState::looking_up) });
            }
            return Err(Inspected::Pending);
        };
        if machine.awaits_acquires() && !timed_out {
            return Err(Inspected::Pending);
        }
        Ok((machine, self.view_complete(&inspection.partition)))
    }

    /// Writes a revoke of request `token` of lock `key` (found by an inspection): from that
    /// record on, every view refuses the request's renewals, so it ends at its current lease.
    /// [`Client::revoke_outcome`] says when the brokers acknowledged it.
    pub fn revoke(&mut self, partition: &PartitionId, key: &str, token: Offset) -> TransmitId {
        let op = Op::Revoke { owner: self.owner.clone(), r#ref: token };
        let id = self.push_transmit(partition.clone(), Some(key.to_owned()), op, Purpose::Revoke, true);
        self.revokes.insert(id, None);
        self.stats.revokes_sent += 1;
        id
    }

    /// The delivery report of revoke `id`, once it came (the revoke is then forgotten).
    pub fn revoke_outcome(&mut self, id: TransmitId) -> Option<Result<(), String>> {
        let outcome = self.revokes.get(&id)?.clone()?;
        self.revokes.remove(&id);
        Some(outcome)
    }

    /// Forgets revoke `id` (its caller gave up waiting).
    pub fn forget_revoke(&mut self, id: TransmitId) {
        self.revokes.remove(&id);
    }

    /// Forgets inspection `id` (answered or given up).
    pub fn forget_inspection(&mut self, id: InspectionId) {
        self.inspections.remove(&id);
    }

    /// Whether inspection `id` still waits for its tick's delivery report (which comes through
    /// the producer: the waiting thread polls it).
    pub fn inspection_awaits_placement(&self, id: InspectionId) -> bool {
        self.inspections.get(&id).is_some_and(|i| i.placed.is_none() && i.ended.is_none())
    }

    /// The caller stops waiting for, or releases, a request. A request whose token is known
    /// is forgotten and its release queued (renewals of it can no longer be produced: renew
    /// and release are serialised). One whose acquire was not read back yet is released as
    /// soon as it shows up.
    pub fn withdraw(&mut self, now: LocalTime, id: RequestId) -> Withdrawn {
        let held = self.is_held(id, now);
        if let Some(since) = self.requests.get_mut(&id).and_then(|r| r.held_since.take()) {
            self.stats.hold.observe(now.saturating_since(since));
            if held {
                self.stats.released += 1;
            } else {
                self.stats.leases_lost += 1;
            }
        }
        if let Some(partition) = self.requests.get(&id).map(|r| r.partition.clone()) {
            self.mark_used(&partition, now);
        }
        let Some(request) = self.requests.get_mut(&id) else {
            return Withdrawn { held: false, release_queued: false };
        };
        match (request.token, &request.phase) {
            (Some(token), _) => {
                let request = self.forget(id).expect("present");
                self.queue_release(now, id, request.partition, request.key, token, request.ttl);
                Withdrawn { held, release_queued: true }
            }
            (None, Phase::Unsent | Phase::Failed(_) | Phase::Lost) => {
                self.forget(id);
                Withdrawn { held, release_queued: false }
            }
            (None, _) => {
                request.phase = Phase::Cancelled;
                Withdrawn { held, release_queued: false }
            }
        }
    }

    /// Withdraws request `id`, whose waiter gave up for `why` (counted).
    pub fn give_up(&mut self, now: LocalTime, id: RequestId, why: GaveUp) -> Withdrawn {
        self.stats.note_gave_up(why);
        self.withdraw(now, id)
    }

    /// The waiter of request `id`, which asked at `asked_at`, now has the hold it was granted
    /// (stats: acquires, acquire wait, hand-off; the hold time starts).
    pub fn note_handed_over(&mut self, now: LocalTime, id: RequestId, asked_at: LocalTime) {
        let Some(request) = self.requests.get_mut(&id) else { return };
        if request.held_since.is_some() {
            return;
        }
        request.held_since = Some(now);
        self.stats.acquired += 1;
        self.stats.acquire_wait.observe(now.saturating_since(asked_at));
        if let Some(head_since) = request.head_since {
            self.stats.hand_off.observe(now.saturating_since(head_since));
        }
    }

    /// Withdraws every request (end of a PHP request, shutdown).
    pub fn release_all(&mut self, now: LocalTime) {
        let ids: Vec<RequestId> =
            self.requests.iter().filter(|(_, r)| r.phase != Phase::Cancelled).map(|(id, _)| *id).collect();
        for id in ids {
            self.withdraw(now, id);
        }
    }

    /// Forgets a request that is lost, failed or not seen, after its waiter learned so.
    pub fn forget(&mut self, id: RequestId) -> Option<OwnRequestInfo> {
        let request = self.requests.remove(&id)?;
        if let Some(token) = request.token {
            self.by_token.remove(&(request.partition.clone(), token));
        }
        Some(OwnRequestInfo { partition: request.partition, key: request.key, ttl: request.lease.ttl })
    }

    /// Stops trusting a topic (its partition count changed): every request on it fails and
    /// new acquires are refused.
    pub fn fail_topic(&mut self, topic: &str, failure: Failure) {
        self.topic_failures.insert(topic.into(), failure.clone());
        for request in self.requests.values_mut().filter(|r| &*r.partition.topic == topic) {
            request.phase = Phase::Failed(failure.clone());
        }
    }

    /// Ends everything: every request fails with `failure`, and so does every later one. For
    /// a caller that can no longer feed this client (its driver stopped).
    pub fn fail_all(&mut self, failure: Failure) {
        let topics: Vec<Arc<str>> = self
            .partitions
            .keys()
            .map(|p| p.topic.clone())
            .chain(self.requests.values().map(|r| r.partition.topic.clone()))
            .collect();
        for topic in topics {
            self.fail_topic(&topic, failure.clone());
        }
        self.failure_all = Some(failure);
    }

    /// Why `topic` is no longer used, if it is not.
    pub fn topic_failure(&self, topic: &str) -> Option<Failure> {
        self.topic_failures.get(topic).cloned()
    }

    /// Why new requests on `partition` are refused, if they are.
    pub fn failure_of(&self, partition: &PartitionId) -> Option<Failure> {
        if let Some(failure) = &self.failure_all {
            return Some(failure.clone());
        }
        self.topic_failures.get(&partition.topic).cloned()
    }

    // ---- inputs -----------------------------------------------------------------------

    /// A consumed record of `partition`, in offset order. `log_time` is `None` when the record
    /// does not carry a broker timestamp (CreateTime topic): the partition fails closed.
    pub fn handle_record(
        &mut self,
        now: LocalTime,
        partition: &PartitionId,
        offset: Offset,
        log_time: Option<LogTime>,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
    ) {
        let Some(state) = self.partitions.get_mut(partition) else { return };
        // (A record without broker time is not compared: it fails the partition below.)
        let applied = if log_time.is_some() { state.applied_on_ack.remove(&offset) } else { None };
        if let Some((applied, at)) = applied {
            let same = applied.key.as_deref().map(str::as_bytes) == key
                && Some(applied.value.as_slice()) == value
                && Some(at) == log_time;
            if !same {
                // The log lost a record it acknowledged (an unclean leader election) and holds
                // another one there: this view applied what others never read. It is given
                // up, so a later request joins again from what the log holds now.
                self.drop_partition(now, partition, Phase::Lost);
            }
            return;
        }
        let Some(machine) = state.machine.as_mut() else { return };
        let Some(time) = log_time else {
            // Without broker time no two clients agree on expiry: every request on the
            // partition fails with the cause, and the partition is given up, so that a later
            // request joins it again (and fails again while such records are in its window).
            self.drop_partition(now, partition, Phase::Failed(Failure::CreateTime));
            return;
        };
        if machine.next_offset() == machine.first_offset() && offset > machine.first_offset() {
            // The first record delivered lies above the one asked for: the ones between were
            // deleted after the lookup. Start at what was delivered, and trust no grant until
            // a full window has passed.
            *machine = Machine::new(offset);
            state.complete_after = Some(state.joined_at.max(time) + JOIN_WINDOW_MS);
        }
        let refused_before = machine.stats().refused_full;
        machine.handle_record(offset, time, key, value);
        let refused = machine.stats().refused_full > refused_before;
        self.stats.records += 1;
        if let Some(clock) = machine.clock() {
            if state.clock_seen.is_none_or(|(seen, _)| clock > seen) {
                state.clock_seen = Some((clock, now));
            }
        }
        if refused {
            // A view that refused an acquire lacks a request another view (one that knows
            // fewer claims) may have granted: no grant of it can be trusted. The partition is
            // given up, so a later request joins it again from a fresh window.
            self.drop_partition(now, partition, Phase::Failed(Failure::PartitionFull));
            return;
        }
        self.apply_machine_events(now, partition, Some(offset));
    }

    /// The record at the offset of `token`, a request of `partition` that the view learnt of
    /// from renews ([`Client::take_acquire_lookups`]): see [`Machine::handle_acquire_lookup`].
    pub fn handle_acquire_lookup(
        &mut self,
        now: LocalTime,
        partition: &PartitionId,
        token: Offset,
        found: AcquireLookup<'_>,
    ) {
        let Some(machine) = self.partitions.get_mut(partition).and_then(|s| s.machine.as_mut()) else {
            return;
        };
        machine.handle_acquire_lookup(token, found);
        self.apply_machine_events(now, partition, None);
    }

    /// The acquires to read, by partition and token: requests the views learnt of from renews
    /// (their acquire lies before the join's window). Each must be answered with
    /// [`Client::handle_acquire_lookup`]; until then no grant on its partition is trusted.
    pub fn take_acquire_lookups(&mut self) -> Vec<(PartitionId, Offset)> {
        let mut lookups = Vec::new();
        for (partition, state) in &mut self.partitions {
            if let Some(machine) = state.machine.as_mut() {
                lookups.extend(machine.take_acquire_lookups().into_iter().map(|t| (partition.clone(), t)));
            }
        }
        lookups
    }

    /// Hands the events of `partition`'s machine to the requests they concern, and releases
    /// cancelled requests that showed up.
    /// `offset`: the record whose events these are (none after a lookup).
    fn apply_machine_events(&mut self, now: LocalTime, partition: &PartitionId, offset: Option<Offset>) {
        let Some(machine) = self.partitions.get_mut(partition).and_then(|s| s.machine.as_mut()) else {
            return;
        };
        while let Some(event) = machine.poll_event() {
            apply_event(
                &self.owner,
                &mut self.requests,
                &mut self.by_token,
                &mut self.stats,
                partition,
                now,
                offset,
                event,
            );
        }
        // Cancelled requests that showed up: release them now.
        let cancelled: Vec<RequestId> = self
            .requests
            .iter()
            .filter(|(_, r)| r.phase == Phase::Cancelled && r.token.is_some())
            .map(|(id, _)| *id)
            .collect();
        for id in cancelled {
            self.withdraw(now, id);
        }
        self.settle_grants(partition);
    }

    /// Decides the grants of `partition` that a complete view shows at the head, and sends
    /// back to waiting the undecided ones that are no longer the head.
    fn settle_grants(&mut self, partition: &PartitionId) {
        let complete = self.view_complete(partition);
        let Some(machine) = self.partitions.get(partition).and_then(|s| s.machine.as_ref()) else { return };
        let granted =
            self.requests.values_mut().filter(|r| r.partition == *partition && r.phase == Phase::Granted);
        for request in granted {
            let Some(token) = request.token else { continue };
            let head = machine.is_granted(&request.key, token)
                && machine.request(&request.key, token).is_some_and(|r| r.owner == self.owner);
            if head && complete {
                request.grant_decided = true;
            } else if !head && !request.grant_decided {
                request.phase = Phase::Waiting;
            }
        }
    }

    /// The delivery report of a record handed out with `report: true`.
    pub fn handle_report(&mut self, now: LocalTime, record: TransmitId, result: Result<Placement, String>) {
        if let Some((_, _, acquire)) = self.acquires_unreported.remove(&record) {
            // A failed delivery is not answered here: the record may still be read back
            // (a report can fail after the broker wrote it), and if not, the request is not
            // seen within the operation time-out, as before.
            if let Ok(Placement { offset, log_time: Some(time) }) = result {
                self.apply_on_ack(now, acquire, offset, time);
            }
            return;
        }
        if let Some((id, _)) = self.releases.iter().find(|(_, r)| r.record == record) {
            let id = *id;
            match result {
                Ok(_) => {
                    self.releases.remove(&id);
                }
                Err(_) => self.release_failed(now, id),
            }
            return;
        }
        if let Some(request) = self.requests.values_mut().find(|r| r.renews_in_flight.contains_key(&record)) {
            request.renew_reported(record, result.as_ref().ok().map(|p| p.offset));
            self.stats.renew_failures += u64::from(result.is_err());
            return;
        }
        if let Some(revoke) = self.revokes.get_mut(&record) {
            *revoke = Some(result.map(|_| ()));
            return;
        }
        if let Some(inspection) = self.inspections.get_mut(&record) {
            match &result {
                Ok(Placement { offset, log_time: Some(_) }) => inspection.placed = Some(*offset),
                Ok(Placement { log_time: None, .. }) => {
                    inspection.ended = Some(Phase::Failed(Failure::CreateTime))
                }
                Err(e) => inspection.ended = Some(Phase::Failed(Failure::NotSent(e.clone()))),
            }
        }
        let joining = self.partitions.iter().find_map(|(p, s)| match s.join {
            Join::Placing { record: r, .. } if r == record => Some(p.clone()),
            _ => None,
        });
        let Some(partition) = joining else { return };
        match result {
            Ok(Placement { log_time: None, .. }) => self.fail_join(&partition, Failure::CreateTime),
            Ok(Placement { offset, log_time: Some(t0) }) => {
                let state = self.partitions.get_mut(&partition).expect("found above");
                let window_start = t0 - JOIN_WINDOW_MS;
                state.join =
                    Join::LookingUp { placement: offset, placed_at: t0, window_start, claimed: false };
            }
            Err(e) => self.fail_join(&partition, Failure::JoinNotWritten(e)),
        }
    }

    /// Applies an own acquire at `offset` (broker time `time`) as soon as its delivery report
    /// places it, instead of when it is read back, if the view has read every record before
    /// it: the record at `offset` is then exactly the next one the consumer delivers, so the
    /// view goes through the same states in the same order, only sooner (by the fetch that
    /// brings the record back: 0.01-0.04 ms of a local acquire, measured). Otherwise (records between
    /// still unread, a join in progress) the read-back applies it, as for anyone else's.
    fn apply_on_ack(&mut self, now: LocalTime, acquire: OwnRecord, offset: Offset, time: LogTime) {
        let Some(state) = self.partitions.get(&acquire.partition) else { return };
        let next = state.machine.as_ref().map(Machine::next_offset);
        // Above the join record too: an acquire of this join always is (one producer keeps
        // the order), so this only guards the premise against reports out of order.
        if !matches!(state.join, Join::Joined) || next != Some(offset) || offset <= state.trusted_from {
            return;
        }
        let partition = acquire.partition.clone();
        self.handle_record(
            now,
            &partition,
            offset,
            Some(time),
            acquire.key.as_deref().map(str::as_bytes),
            Some(&acquire.value),
        );
        // Unless the record made the partition fail (a view full of requests).
        if let Some(state) = self.partitions.get_mut(&partition) {
            state.applied_on_ack.insert(offset, (acquire, time));
            self.stats.applied_on_ack += 1;
        }
    }

    /// The producer refused a record handed out by [`Client::poll_transmit`] (queue full,
    /// unknown partition, fatal producer error).
    pub fn handle_send_error(&mut self, now: LocalTime, transmit: &Transmit, error: String) {
        self.acquires_unreported.remove(&transmit.id);
        match transmit.purpose {
            Purpose::Acquire(id) => {
                if self.is_join_record(transmit) {
                    self.fail_join(&transmit.partition, Failure::JoinNotWritten(error));
                } else if let Some(request) = self.requests.get_mut(&id) {
                    request.phase = Phase::Failed(Failure::NotSent(error));
                }
            }
            Purpose::Renew(id) => {
                self.stats.renew_failures += 1;
                // Due again at once.
                if let Some(request) = self.requests.get_mut(&id) {
                    request.last_alive_sent = now.saturating_sub(request.lease.ttl);
                    request.renew_reported(transmit.id, None);
                }
            }
            Purpose::Release(id) => self.release_failed(now, id),
            Purpose::Revoke => {
                if let Some(revoke) = self.revokes.get_mut(&transmit.id) {
                    *revoke = Some(Err(error));
                }
            }
            Purpose::Tick => {
                if self.is_join_record(transmit) {
                    self.fail_join(&transmit.partition, Failure::JoinNotWritten(error.clone()));
                }
                if let Some(inspection) = self.inspections.get_mut(&transmit.id) {
                    inspection.ended.get_or_insert(Phase::Failed(Failure::NotSent(error)));
                }
            }
        }
    }

    /// The join lookup to run, once per join: `offsetsForTimes(partition, time)`. The caller
    /// that takes it must answer with [`Client::handle_join_start`] or
    /// [`Client::handle_join_error`].
    pub fn take_join_lookup(&mut self, partition: &PartitionId) -> Option<LogTime> {
        match &mut self.partitions.get_mut(partition)?.join {
            Join::LookingUp { window_start, claimed, .. } if !*claimed => {
                *claimed = true;
                Some(*window_start)
            }
            _ => None,
        }
    }

    /// The lookups' answers: `found`, the first offset at or after the window's start (`None`:
    /// no such record), and `log_start`, the partition's first offset still stored (records
    /// below it were deleted by retention or DeleteRecords). Returns the offset to start
    /// consuming from; the requests that waited for the join are queued for producing.
    ///
    /// The window is complete when nothing in it can have been deleted: the log starts at 0,
    /// or below the window's first offset (deletion only removes a prefix, and the topic
    /// check refuses compaction). Otherwise no grant is trusted until a full window of log
    /// time has passed after the join record.
    pub fn handle_join_start(
        &mut self,
        now: LocalTime,
        partition: &PartitionId,
        found: Option<Offset>,
        log_start: Offset,
    ) -> Option<Offset> {
        let state = self.partitions.get_mut(partition)?;
        let Join::LookingUp { placement, placed_at, .. } = state.join else { return None };
        let start = found.map_or(placement, |o| o.min(placement));
        let complete = log_start == 0 || log_start < start;
        state.machine = Some(Machine::new(start));
        state.trusted_from = placement;
        state.joined_at = placed_at;
        state.complete_after = (!complete).then_some(placed_at + JOIN_WINDOW_MS);
        state.join = Join::Joined;
        let unsent: Vec<RequestId> = self
            .requests
            .iter()
            .filter(|(_, r)| r.phase == Phase::Unsent && r.partition == *partition)
            .map(|(id, _)| *id)
            .collect();
        for id in unsent {
            self.send_acquire(now, id, false);
        }
        Some(start)
    }

    /// The consumer's position on `partition` fell below the log start (history deleted under
    /// it) or was reset: the view is incomplete for good. Every request on the partition is
    /// lost (holders lose their holds; waiters start again) and released, and the partition
    /// is forgotten, so the next request joins it anew.
    pub fn handle_partition_reset(&mut self, now: LocalTime, partition: &PartitionId) {
        self.drop_partition(now, partition, Phase::Lost);
    }

    /// The brokers no longer know `topic` (deleted under live locks): every partition of it
    /// is given up, its requests fail with that cause (holds end), and the next request on
    /// the topic joins anew, after the session checks the topic again.
    pub fn handle_topic_deleted(&mut self, now: LocalTime, topic: &str) {
        let gone: Vec<PartitionId> = self.partitions.keys().filter(|p| &*p.topic == topic).cloned().collect();
        for partition in gone {
            self.drop_partition(now, &partition, Phase::Failed(Failure::TopicDeleted));
        }
    }

    /// The partitions given up since the last call ([`Client::handle_partition_reset`],
    /// [`Client::handle_assign_error`], [`Client::handle_topic_deleted`], a record without
    /// broker time): the session stops consuming them.
    pub fn take_dropped_partitions(&mut self) -> Vec<PartitionId> {
        std::mem::take(&mut self.dropped)
    }

    /// Gives up a joined partition: its view is forgotten (the next request joins anew), every
    /// request on it ends in `phase`, and the requests that had a token are released.
    fn drop_partition(&mut self, now: LocalTime, partition: &PartitionId, phase: Phase) {
        if self.partitions.remove(partition).is_none() {
            return;
        }
        self.end_inspections(partition, phase.clone());
        self.dropped.push(partition.clone());
        let ids: Vec<RequestId> =
            self.requests.iter().filter(|(_, r)| r.partition == *partition).map(|(id, _)| *id).collect();
        for id in ids {
            let request = self.requests.get_mut(&id).expect("listed");
            request.phase = phase.clone();
            if let Some(token) = request.token.take() {
                let (key, ttl) = (request.key.clone(), request.lease.ttl);
                self.by_token.remove(&(partition.clone(), token));
                self.queue_release(now, id, partition.clone(), key, token, ttl);
            }
        }
    }

    /// The partitions this client replays (for a session that must reset them all).
    pub fn joined_partitions(&self) -> Vec<PartitionId> {
        self.partitions.iter().filter(|(_, s)| s.machine.is_some()).map(|(p, _)| p.clone()).collect()
    }

    /// The join's lookups failed: no request of the partition was placed in a view yet.
    pub fn handle_join_error(&mut self, partition: &PartitionId, failure: Failure) {
        self.fail_join(partition, failure);
    }

    /// The consumer could not be assigned the partition that [`Client::handle_join_start`]
    /// joined: nothing of it will ever be read, so it is given up like a reset partition
    /// (requests failed with the cause; an acquire placed but not read back has no token to
    /// release and runs out with its lease), and the next request joins it anew instead of
    /// waiting on it for the life of the session.
    pub fn handle_assign_error(&mut self, now: LocalTime, partition: &PartitionId, failure: Failure) {
        self.drop_partition(now, partition, Phase::Failed(failure));
    }

    /// Time passed: queue the renewals that are due, ticks where a holder's lease should have
    /// run out by the estimate of broker time, releases to send again, and fail joins whose
    /// first record was not acknowledged in time.
    pub fn handle_timeout(&mut self, now: LocalTime) {
        let overdue: Vec<PartitionId> = self
            .partitions
            .iter()
            .filter(|(_, s)| {
                matches!(s.join, Join::Placing { since, .. } if now >= since + self.operation_timeout)
            })
            .map(|(p, _)| p.clone())
            .collect();
        for partition in overdue {
            self.fail_join(&partition, Failure::JoinNotAcknowledged);
        }
        for release in self.releases.values_mut() {
            if now >= release.check_at {
                release.check_at = now + RELEASE_RETRY_BACKOFF;
            }
        }
        let retries: Vec<RequestId> = self
            .releases
            .iter()
            .filter(|(_, r)| r.retry_at.is_some_and(|t| now >= t))
            .map(|(id, _)| *id)
            .collect();
        for id in retries {
            let release = self.releases.get_mut(&id).expect("listed above");
            release.retry_at = None;
            let (partition, key, token) = (release.partition.clone(), release.key.clone(), release.token);
            let record = self.push_transmit(
                partition,
                Some(key),
                release_op(&self.owner, token),
                Purpose::Release(id),
                true,
            );
            self.releases.get_mut(&id).expect("listed above").record = record;
            self.stats.releases_resent += 1;
        }
        let due: Vec<RequestId> = self
            .requests
            .iter()
            .filter(|(_, r)| r.renewing() && now >= r.renew_due())
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            self.send_renew(now, id);
        }
        for partition in self.partitions_to_tick(now) {
            self.partitions.get_mut(&partition).expect("listed").last_tick = Some(now);
            self.stats.ticks_sent += 1;
            self.push_transmit(partition, None, Op::Tick, Purpose::Tick, false);
        }
        let unused: Vec<PartitionId> = self
            .partitions
            .keys()
            .filter(|p| self.unfollow_due(p).is_some_and(|t| now >= t))
            .cloned()
            .collect();
        for partition in unused {
            // Nothing of ours is on it: dropping ends nothing.
            self.drop_partition(now, &partition, Phase::Lost);
        }
    }

    // ---- outputs ----------------------------------------------------------------------

    /// The next record to produce. Produce them in the order given, from one producer: the
    /// order of a request's renewals and its release depends on it.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// When [`Client::handle_timeout`] must be called next, if ever.
    pub fn poll_timeout(&self) -> Option<LocalTime> {
        let mut next: Option<LocalTime> = None;
        let mut consider = |t: LocalTime| next = Some(next.map_or(t, |n: LocalTime| n.min(t)));
        for request in self.requests.values() {
            if request.renewing() {
                consider(request.renew_due());
            }
        }
        for release in self.releases.values() {
            // An unacknowledged release is looked at again after the back-off even if no
            // thread is woken by its report.
            consider(release.retry_at.unwrap_or(release.check_at));
        }
        for (partition, state) in &self.partitions {
            if let Join::Placing { since, .. } = state.join {
                consider(since + self.operation_timeout);
            }
            if let Some(t) = self.tick_due(partition, state) {
                consider(t);
            }
            if let Some(t) = self.unfollow_due(partition) {
                consider(t);
            }
        }
        next
    }

    // ---- getters ----------------------------------------------------------------------

    /// Where a request stands at `now`.
    pub fn status(&self, id: RequestId, now: LocalTime) -> Status {
        let Some(request) = self.requests.get(&id) else { return Status::Unknown };
        if let Some(failure) = self.failure_of(&request.partition) {
            return Status::Failed(failure);
        }
        match (&request.phase, request.token) {
            (Phase::Failed(f), _) => Status::Failed(f.clone()),
            (Phase::Lost, _) => Status::Lost,
            (Phase::Cancelled, _) => Status::Unknown,
            (Phase::Granted, Some(token)) => {
                if !self.is_granted(request, token) {
                    return Status::Lost;
                }
                if !self.view_complete(&request.partition) {
                    // The log may lack a request ahead of ours: wait until every live one has
                    // renewed into our view.
                    return Status::Waiting { token };
                }
                Status::Granted { token, trusted: request.trusted_until().is_some_and(|u| now < u) }
            }
            (_, Some(token)) => match self.conflict_ahead(request, token) {
                Some(held_as) => Status::Conflict { held_as },
                None => Status::Waiting { token },
            },
            (Phase::Waiting, None)
                if request.produced_at.is_some_and(|t| now >= t + self.operation_timeout) =>
            {
                Status::NotSeen {
                    joining: self.partitions.get(&request.partition).is_some_and(PartitionState::looking_up),
                }
            }
            (_, None) => Status::Pending,
        }
    }

    /// Whether the request is granted and its lease trusted at `now` (the holder's view).
    pub fn is_held(&self, id: RequestId, now: LocalTime) -> bool {
        matches!(self.status(id, now), Status::Granted { trusted: true, .. })
    }

    /// How long the lease is still trusted; `None` if not held.
    pub fn remaining(&self, id: RequestId, now: LocalTime) -> Option<Duration> {
        if !self.is_held(id, now) {
            return None;
        }
        self.requests[&id].trusted_until().map(|u| u.saturating_since(now))
    }

    /// Whether `partition`'s join waits for its first record's delivery report.
    pub fn awaits_placement(&self, partition: &PartitionId) -> bool {
        self.partitions.get(partition).is_some_and(|s| matches!(s.join, Join::Placing { .. }))
    }

    /// Whether request `id`'s acquire, produced less than [`AWAIT_REPORT_FOR`] ago, waits for
    /// its delivery report, which may decide it before the record is read back
    /// ([`Client::apply_on_ack`]).
    pub fn awaits_report(&self, id: RequestId, now: LocalTime) -> bool {
        self.acquires_unreported
            .values()
            .any(|(request, sent, _)| *request == id && now.saturating_since(*sent) < AWAIT_REPORT_FOR)
    }

    /// The partitions of withdrawn requests whose acquire has not been read back but still may
    /// be (produced less than the operation time-out ago, the producer's delivery time-out):
    /// each one's release is written when it shows up, so a process that ends before then
    /// leaves it queued for a lease. A partition still joining needs its join lookups started
    /// ([`Client::take_join_lookup`]) for that.
    pub fn withdrawals_unplaced(&self, now: LocalTime) -> BTreeSet<PartitionId> {
        self.requests
            .values()
            .filter(|r| r.phase == Phase::Cancelled)
            .filter(|r| r.produced_at.is_some_and(|at| now < at + self.operation_timeout))
            .map(|r| r.partition.clone())
            .collect()
    }

    /// Whether a release queued by [`Client::withdraw`] of `id` still waits for the broker's
    /// acknowledgement (it is sent again after a failure until the lease is over anyway).
    pub fn release_pending(&self, id: RequestId) -> bool {
        self.releases.contains_key(&id)
    }

    // ---- internals --------------------------------------------------------------------

    /// Whether this client's view of `partition` can no longer lack history: the window was
    /// complete at the join, or a full window of log time has passed since; and no request
    /// learnt of from renews waits for its acquire to be read.
    pub fn view_complete(&self, partition: &PartitionId) -> bool {
        let Some(state) = self.partitions.get(partition) else { return false };
        let clock = state.machine.as_ref().and_then(Machine::clock);
        let awaits = state.machine.as_ref().is_some_and(Machine::awaits_acquires);
        !awaits && state.complete_after.is_none_or(|after| clock.is_some_and(|c| c > after))
    }

    /// Whether the view grants our request `token`: in its queue's granted prefix, ours.
    fn is_granted(&self, request: &OwnRequest, token: Offset) -> bool {
        let machine = self.partitions.get(&request.partition).and_then(|p| p.machine.as_ref());
        machine.is_some_and(|m| {
            m.is_granted(&request.key, token)
                && m.request(&request.key, token).is_some_and(|r| r.owner == self.owner)
        })
    }

    /// A request ahead of waiting request `token` that it can never hold with (another kind of
    /// lock, or a semaphore of another limit): it would wait until that one leaves, and behind
    /// every later one like it. Judged only on a complete view (a claim's mode is unknown).
    fn conflict_ahead(&self, request: &OwnRequest, token: Offset) -> Option<Mode> {
        if !self.view_complete(&request.partition) {
            return None;
        }
        let machine = self.partitions.get(&request.partition)?.machine.as_ref()?;
        machine
            .queue(&request.key)
            .take_while(|r| r.token < token)
            .find(|r| !r.mode.compatible_kind(request.mode))
            .map(|r| r.mode)
    }

    /// Produces request `id`'s acquire with a delivery report: a join record's places the
    /// join (`joins`); any other's may apply it at once ([`Client::apply_on_ack`]).
    fn send_acquire(&mut self, now: LocalTime, id: RequestId, joins: bool) -> TransmitId {
        let request = self.requests.get_mut(&id).expect("a request to send");
        request.phase = Phase::Waiting;
        request.produced_at = Some(now);
        request.last_alive_sent = now;
        let op = Op::Acquire {
            owner: self.owner.clone(),
            seq: id,
            ttl: millis(request.lease.ttl),
            mode: request.mode,
        };
        let (partition, key) = (request.partition.clone(), request.key.clone());
        let record = self.push_transmit(partition.clone(), Some(key.clone()), op, Purpose::Acquire(id), true);
        if !joins {
            let value = self.transmits.back().expect("just pushed").value.clone();
            self.acquires_unreported
                .insert(record, (id, now, OwnRecord { partition, key: Some(key), value }));
        }
        record
    }

    fn send_renew(&mut self, now: LocalTime, id: RequestId) {
        let request = self.requests.get_mut(&id).expect("a request to renew");
        let (Some(token), Some(prev)) = (request.token, request.prev) else { return };
        request.last_alive_sent = now;
        let op = Op::Renew { owner: self.owner.clone(), r#ref: token, prev, ttl: millis(request.lease.ttl) };
        let (partition, key) = (request.partition.clone(), request.key.clone());
        self.stats.renews_sent += 1;
        let record = self.push_transmit(partition, Some(key), op, Purpose::Renew(id), true);
        self.requests.get_mut(&id).expect("a request to renew").renews_in_flight.insert(record, now);
    }

    fn queue_release(
        &mut self,
        now: LocalTime,
        id: RequestId,
        partition: PartitionId,
        key: String,
        token: Offset,
        ttl: Duration,
    ) {
        let op = release_op(&self.owner, token);
        let record = self.push_transmit(partition.clone(), Some(key.clone()), op, Purpose::Release(id), true);
        let give_up = now + ttl;
        let check_at = now + RELEASE_RETRY_BACKOFF;
        let release = PendingRelease { partition, key, token, record, check_at, retry_at: None, give_up };
        self.releases.insert(id, release);
    }

    fn release_failed(&mut self, now: LocalTime, id: RequestId) {
        let Some(release) = self.releases.get_mut(&id) else { return };
        if now >= release.give_up {
            // The log has expired the request by itself by now.
            self.releases.remove(&id);
        } else {
            release.retry_at = Some(now + RELEASE_RETRY_BACKOFF);
        }
    }

    fn push_transmit(
        &mut self,
        partition: PartitionId,
        key: Option<String>,
        op: Op,
        purpose: Purpose,
        report: bool,
    ) -> TransmitId {
        let id = self.next_transmit;
        self.next_transmit += 1;
        let proof = match purpose {
            Purpose::Acquire(request) => Proof {
                commitment: Some(commitment_of(&self.release_secret(request))),
                nonce: Some(self.nonce(request)),
                secret: None,
            },
            Purpose::Renew(request) => {
                Proof { commitment: Some(commitment_of(&self.release_secret(request))), ..Proof::default() }
            }
            Purpose::Release(request) => {
                Proof { secret: Some(self.release_secret(request)), ..Proof::default() }
            }
            Purpose::Tick | Purpose::Revoke => Proof::default(),
        };
        // Our own records are valid by construction (the caller validated identifiers and
        // ttls); a failure here is a bug in this module.
        let value =
            encode_with_proof(key.as_deref(), &op, &proof).expect("the client builds only valid records");
        self.transmits.push_back(Transmit { id, partition, key, value, purpose, report });
        id
    }

    /// A join failed: its partition is forgotten (a later acquire joins again) and every
    /// request that waited for it fails.
    fn fail_join(&mut self, partition: &PartitionId, failure: Failure) {
        if self.partitions.get(partition).is_some_and(|s| !matches!(s.join, Join::Joined)) {
            self.partitions.remove(partition);
            self.end_inspections(partition, Phase::Failed(failure.clone()));
            for request in self.requests.values_mut().filter(|r| r.partition == *partition) {
                request.phase = Phase::Failed(failure.clone());
            }
        }
    }

    /// Whether `transmit` is the first record of its partition's join, still on its way.
    fn is_join_record(&self, transmit: &Transmit) -> bool {
        self.partitions
            .get(&transmit.partition)
            .is_some_and(|s| matches!(s.join, Join::Placing { record, .. } if record == transmit.id))
    }

    /// The partition of some inspections was given up: they end with `phase` (`Lost`: the
    /// view was reset, inspect again; `Failed`: the cause).
    fn end_inspections(&mut self, partition: &PartitionId, phase: Phase) {
        for inspection in self.inspections.values_mut().filter(|i| i.partition == *partition) {
            inspection.ended.get_or_insert(phase.clone());
        }
    }

    /// When a tick is due on `partition`: a request of ours waits there, and the holder's
    /// lease should have run out by the estimate of broker time (the largest log time seen
    /// plus the local time since it was seen).
    fn tick_due(&self, partition: &PartitionId, state: &PartitionState) -> Option<LocalTime> {
        let waiting = self
            .requests
            .values()
            .any(|r| r.phase == Phase::Waiting && r.token.is_some() && r.partition == *partition);
        if !waiting {
            return None;
        }
        let expiry = state.machine.as_ref()?.next_expiry()?;
        let (clock, seen_at) = state.clock_seen?;
        let due = seen_at + Duration::from_millis(expiry.saturating_sub(clock).max(0) as u64);
        Some(state.last_tick.map_or(due, |t| due.max(t + MIN_TICK_INTERVAL)))
    }

    fn mark_used(&mut self, partition: &PartitionId, now: LocalTime) {
        if let Some(state) = self.partitions.get_mut(partition) {
            state.last_used = state.last_used.max(now);
        }
    }

    /// When a joined partition on which this client has nothing is to be unfollowed, if it is.
    fn unfollow_due(&self, partition: &PartitionId) -> Option<LocalTime> {
        let state = self.partitions.get(partition)?;
        let in_use = !matches!(state.join, Join::Joined)
            || self.requests.values().any(|r| r.partition == *partition)
            || self.releases.values().any(|r| r.partition == *partition)
            || self.inspections.values().any(|i| i.partition == *partition);
        (!in_use).then(|| state.last_used + self.unfollow_after)
    }

    fn partitions_to_tick(&self, now: LocalTime) -> Vec<PartitionId> {
        self.partitions
            .iter()
            .filter(|(p, s)| self.tick_due(p, s).is_some_and(|t| now >= t))
            .map(|(p, _)| p.clone())
            .collect()
    }
}

/// What is left of a forgotten request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnRequestInfo {
    /// Its partition.
    pub partition: PartitionId,
    /// Its lock identifier.
    pub key: String,
    /// Its lease.
    pub ttl: Duration,
}

/// Lock `key` as `machine` shows it after the last record it read.
fn snapshot(machine: &Machine, key: &str, complete: bool) -> Snapshot {
    let clock = machine.clock().unwrap_or(LogTime::MIN);
    let queue = machine
        .queue(key)
        .map(|r| QueuedRequest {
            owner: r.owner.clone(),
            mode: r.mode,
            granted: machine.is_granted(key, r.token),
            revoked: r.revoked,
            token: r.token,
            expires_in: Duration::from_millis(r.deadline().saturating_sub(clock).max(0) as u64),
        })
        .collect();
    Snapshot { queue, complete }
}

fn release_op(owner: &str, token: Offset) -> Op {
    Op::Release { owner: owner.to_owned(), r#ref: token }
}

fn millis(d: Duration) -> u64 {
    d.as_millis().try_into().unwrap_or(u64::MAX)
}

/// Turns one machine event into the state of our own request it concerns, if any.
#[allow(clippy::too_many_arguments)]
fn apply_event(
    owner: &str,
    requests: &mut BTreeMap<RequestId, OwnRequest>,
    by_token: &mut HashMap<(PartitionId, Offset), RequestId>,
    stats: &mut ClientStats,
    partition: &PartitionId,
    now: LocalTime,
    offset: Option<Offset>,
    event: Event,
) {
    let (token, event_owner) = match &event {
        Event::Ignored { reason, .. } => {
            stats.note_ignored(reason);
            return;
        }
        Event::Enqueued { token, owner, .. }
        | Event::Renewed { token, owner, .. }
        | Event::Granted { token, owner, .. }
        | Event::Released { token, owner, .. }
        | Event::Revoked { token, owner, .. }
        | Event::Expired { token, owner, .. } => (*token, owner.as_str()),
    };
    if event_owner != owner {
        return;
    }
    let id = match &event {
        Event::Enqueued { seq, .. } => *seq,
        _ => match by_token.get(&(partition.clone(), token)) {
            Some(&id) => id,
            None => return,
        },
    };
    let Some(request) = requests.get_mut(&id) else { return };
    if request.partition != *partition {
        return;
    }
    match event {
        Event::Enqueued { key, alive_at, nonce: record_nonce, .. } => {
            // Ours only if it is the record we produced: same partition, key, seq and nonce
            // (which no other writer can predict), and not already known (a later copy of our
            // acquire is not ours).
            if key != request.key || request.token.is_some() || record_nonce != Some(request.nonce) {
                return;
            }
            request.token = Some(token);
            request.prev = Some(alive_at);
            request.trusted_since = request.produced_at;
            by_token.insert((partition.clone(), token), id);
        }
        Event::Renewed { alive_at, .. } => {
            request.prev = Some(alive_at);
            if let Some(offset) = offset {
                request.renew_accepted(offset);
            }
        }
        Event::Granted { .. } => {
            // Our own acquires lie at or after the join point (`trusted_from`: the first one
            // is the join's own record, later ones are produced after the join), so any grant
            // of ours is decided by records the replay has in full.
            if request.phase == Phase::Waiting {
                request.phase = Phase::Granted;
                // A hand-off: a later record (the release or expiry of the hold in front) made
                // it the head; not its own acquire, nor an acquire lookup's answer.
                request.head_since = offset.is_some_and(|o| Some(o) != request.token).then_some(now);
                if request.trusted_until().is_none_or(|u| now >= u) {
                    // Granted after the trust ran out (a long round trip or pause): renew at
                    // once; the renewal's acceptance restores the trust.
                    request.last_alive_sent = now.saturating_sub(request.lease.ttl);
                }
            }
        }
        Event::Released { .. } | Event::Expired { .. } => {
            if request.live() {
                request.phase = Phase::Lost;
            }
        }
        // Every view refuses its renews from here on: sending them would only add records. The
        // hold ends when the trust of its last accepted renewal runs out.
        Event::Revoked { .. } => request.revoked = true,
        Event::Ignored { .. } => {}
    }
}
