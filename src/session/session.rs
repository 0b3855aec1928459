//! One client session: the Kafka clients, the replicated state machines of the partitions in
//! use, the requests this process made, and the background thread that drives them.
//!
//! The PHP thread calls [`Session::acquire`] / [`Session::release`] and waits on a condition
//! variable; the driver thread consumes records, feeds them to the [`Machine`]s, turns their
//! events into request state, and produces renewals and ticks. Both sides meet in one
//! `Mutex<State>`. Every record of a request is produced while that mutex is held, so a
//! release and the renewals of the same request can never be reordered: once a request is
//! released it is gone from `State`, and the driver has nothing left to renew.

use std::collections::{HashMap, VecDeque};
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Message, Timestamp};
use rdkafka::producer::BaseRecord;
use rdkafka::{Offset as KafkaOffset, TopicPartitionList};

use crate::protocol::{encode_value, Event, LogTime, Machine, Offset, Op, JOIN_MARGIN_MS, MAX_TTL_MS};
use crate::session::error::{LockError, LockResult};
use crate::session::kafka::{self, DeliverySlot, LockProducer, Placement, SlotRef};
use crate::session::options::{ClientSettings, LockOptions};

/// How long an acquire may wait for the lock itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Do not wait for another holder: answer as soon as the request is in the log.
    No,
    /// Wait at most this long.
    For(Duration),
    /// Wait until granted (the article's behaviour).
    Forever,
}

/// Asked while a caller waits: whether the caller must stop waiting now (the PHP binding
/// answers from the engine's interrupt flag: a pending signal handler or time limit).
pub type InterruptCheck = fn() -> bool;

/// Never interrupts (Rust callers, tests).
pub fn never_interrupted() -> bool {
    false
}

/// A request this process holds, as handed to the caller of [`Session::acquire`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    /// Identifies the request inside this session.
    pub seq: u64,
    /// The fencing token: offset of the request's acquire record.
    pub token: Offset,
}

/// Counters for phpinfo() and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionStats {
    /// Records handled by the state machines.
    pub records: u64,
    /// Records the state machines ignored (malformed, invalid renew, ...).
    pub ignored: u64,
    /// Renew records produced.
    pub renews_sent: u64,
    /// Tick records produced.
    pub ticks_sent: u64,
    /// Consumer errors seen (broker down, ...).
    pub consumer_errors: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    /// In the queue, not at its head.
    Waiting,
    /// At the head of its queue: the state machine granted it.
    Granted,
    /// The state machine removed it (expired): a holder lost its lease, a waiter its place.
    Lost,
    /// The caller gave up before the acquire record was seen; release it once its offset is known.
    Cancelled,
    /// The request cannot go on (delivery failed, topic misconfigured).
    Failed(LockError),
}

struct OwnRequest {
    topic: Arc<str>,
    partition: i32,
    key: String,
    ttl: Duration,
    token: Option<Offset>,
    /// Broker time of the last alive record the state machine accepted: the renew's `prev`.
    prev: Option<LogTime>,
    /// Send instants of alive records not yet seen accepted, oldest first. One producer keeps
    /// them in order, so the oldest is the send time of the next one accepted; if one is lost,
    /// pairing with an older instant only makes the holder's own view more conservative.
    unseen_alive: VecDeque<Instant>,
    /// Send instant of the last accepted alive record: the holder trusts its lease until
    /// this + ttl - margin (every other client expires it later, by broker time).
    trusted_since: Option<Instant>,
    last_alive_sent: Instant,
    produced_at: Instant,
    phase: Phase,
}

impl OwnRequest {
    fn trusted_until(&self) -> Option<Instant> {
        let margin = self.ttl / 10;
        self.trusted_since.map(|s| s + self.ttl - margin)
    }

    fn held(&self, now: Instant) -> bool {
        self.phase == Phase::Granted && self.trusted_until().is_some_and(|u| now < u)
    }
}

struct PartitionView {
    topic: Arc<str>,
    machine: Machine,
    /// Offset of this session's first record on the partition; grants are trusted from here.
    trusted_from: Offset,
    /// Largest broker time seen and when: estimates broker time now, to decide when to tick.
    clock_seen: Option<(LogTime, Instant)>,
    last_tick: Option<Instant>,
    failure: Option<LockError>,
}

/// A release record on its way: a release lost to a broker outage would leave the lock taken
/// for a whole lease (found by the chaos suite's restart scenario), so it is sent again.
struct PendingRelease {
    topic: Arc<str>,
    partition: i32,
    key: String,
    op: Op,
    slot: Arc<DeliverySlot>,
    /// After this the log has expired the request by itself; no point in sending more.
    give_up: Instant,
}

impl PendingRelease {
    /// The release of `req` (whose acquire is at `token`), to be sent now.
    fn of(req: &OwnRequest, owner: &str, token: Offset, slot: Arc<DeliverySlot>) -> PendingRelease {
        PendingRelease {
            topic: req.topic.clone(),
            partition: req.partition,
            key: req.key.clone(),
            op: Op::Release { owner: owner.to_owned(), r#ref: token },
            slot,
            give_up: Instant::now() + req.ttl,
        }
    }

    fn send(&self, clients: &Clients) -> bool {
        produce(clients, &self.topic, self.partition, Some(&self.key), &self.op, Some(self.slot.clone())).is_ok()
    }
}

#[derive(Default)]
struct State {
    /// topic -> partition -> view; nested so a consumed record finds its view without allocating.
    partitions: HashMap<String, HashMap<i32, PartitionView>>,
    requests: HashMap<u64, OwnRequest>,
    by_token: HashMap<(Arc<str>, i32, Offset), u64>,
    topics: HashMap<String, i32>,
    /// Topics this session stopped trusting (partition count changed).
    topic_failures: HashMap<String, LockError>,
    /// Releases not yet acknowledged: sent again until delivered or the lease is over anyway.
    releases: Vec<PendingRelease>,
    /// Partitions a thread is joining right now; others wait before producing to them.
    joining: std::collections::HashSet<(String, i32)>,
    next_seq: u64,
    stats: SessionStats,
}

/// Fields drop in order: the consumer first. Destroying the producer first made every process
/// exit here 100 ms slower.
struct Clients {
    consumer: BaseConsumer,
    producer: LockProducer,
    /// Signalled when the consumer's queue gets something, and when the session stops; dropped
    /// after both clients (librdkafka's callback points at it).
    consumer_wake: Arc<kafka::Wakeup>,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    stop: AtomicBool,
}

struct Inner {
    clients: Arc<Clients>,
    shared: Arc<Shared>,
    driver: Option<JoinHandle<()>>,
}

/// One set of Kafka clients and their driver thread; shared by every lock of the process that
/// uses the same client settings.
pub struct Session {
    owner: Arc<str>,
    pid: u32,
    settings: ClientSettings,
    operation_timeout: Duration,
    /// Forgotten, not dropped, in a forked child: the threads it refers to do not exist there.
    inner: ManuallyDrop<Inner>,
}

fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    shared.state.lock().unwrap_or_else(|e| e.into_inner())
}

/// A process-unique owner name: pid plus the clock's nanoseconds and a per-process counter,
/// enough to tell sessions apart (a collision would only need the same pid at the same ns).
fn new_owner(pid: u32) -> String {
    use std::sync::atomic::AtomicU64;
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let host: String = host.trim().chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(40).collect();
    format!("{host}/{pid}/{nanos:x}/{}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

impl Session {
    /// Creates the clients and starts the driver thread. No network round trip yet.
    pub fn connect(settings: ClientSettings, options: &LockOptions) -> LockResult<Session> {
        let producer = kafka::create_producer(&settings, options.operation_timeout)?;
        let consumer = kafka::create_consumer(&settings)?;
        let consumer_wake = Arc::new(kafka::Wakeup::default());
        kafka::wake_on_consumer_events(&consumer, &consumer_wake);
        let clients = Arc::new(Clients { consumer, producer, consumer_wake });
        let shared = Arc::new(Shared { state: Mutex::new(State::default()), changed: Condvar::new(), stop: AtomicBool::new(false) });
        let pid = std::process::id();
        let owner: Arc<str> = new_owner(pid).into();
        let driver = {
            let (clients, shared, owner) = (clients.clone(), shared.clone(), owner.clone());
            std::thread::Builder::new()
                .name("kafka_lock driver".into())
                .spawn(move || drive(&clients, &shared, &owner))
                .map_err(|e| LockError::Connection(format!("cannot start the lock's driver thread: {e}")))?
        };
        Ok(Session {
            owner,
            pid,
            settings,
            operation_timeout: options.operation_timeout,
            inner: ManuallyDrop::new(Inner { clients, shared, driver: Some(driver) }),
        })
    }

    /// The settings this session was made with.
    pub fn settings(&self) -> &ClientSettings {
        &self.settings
    }

    /// The process that made this session.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// How long one record may take to be acknowledged and read back.
    pub fn operation_timeout(&self) -> Duration {
        self.operation_timeout
    }

    /// Counters since the session started.
    pub fn stats(&self) -> SessionStats {
        lock(&self.inner.shared).stats.clone()
    }

    /// Partition count of `topic`, checked (and the topic created) once per session.
    pub fn open_topic(&self, topic: &str, options: &LockOptions) -> LockResult<i32> {
        {
            let state = lock(&self.inner.shared);
            if let Some(err) = state.topic_failures.get(topic) {
                return Err(err.clone());
            }
            if let Some(&n) = state.topics.get(topic) {
                return Ok(n);
            }
        }
        let n = kafka::ensure_topic(&self.inner.clients.consumer, &self.settings, topic, options)?;
        lock(&self.inner.shared).topics.insert(topic.to_owned(), n);
        Ok(n)
    }

    /// Enqueues a request for `key` and waits as `wait` says. `Ok(None)`: not granted in time
    /// (the request has been withdrawn).
    ///
    /// `interrupted` is asked about every 100 ms while waiting; when it says yes the request is
    /// withdrawn and the call returns `Ok(None)` as on a time-out.
    pub fn acquire(
        &self,
        topic: &str,
        partition: i32,
        key: &str,
        ttl: Duration,
        wait: Wait,
        interrupted: InterruptCheck,
    ) -> LockResult<Option<Grant>> {
        let deadline = match wait {
            Wait::For(d) => Some(Instant::now() + d),
            Wait::No => Some(Instant::now()),
            Wait::Forever => None,
        };
        loop {
            let seq = self.enqueue(topic, partition, key, ttl)?;
            match self.await_grant(seq, deadline, interrupted)? {
                Outcome::Granted(g) => return Ok(Some(g)),
                Outcome::TimedOut => return Ok(None),
                // Our request expired while queued (renewals did not get through): queue again.
                Outcome::Lost => continue,
            }
        }
    }

    fn enqueue(&self, topic: &str, partition: i32, key: &str, ttl: Duration) -> LockResult<u64> {
        let shared = &self.inner.shared;
        let mut state = lock(shared);
        // One join per partition at a time: a request produced while another thread joins
        // could land before the joiner's first record, where grants are not yet trusted.
        let give_up = Instant::now() + self.operation_timeout;
        while state.joining.contains(&(topic.to_owned(), partition)) {
            let now = Instant::now();
            if now >= give_up {
                return Err(LockError::Connection(format!(
                    "joining topic '{topic}' partition {partition} did not finish within {:.1} s",
                    self.operation_timeout.as_secs_f64()
                )));
            }
            state = shared.changed.wait_timeout(state, give_up - now).unwrap_or_else(|e| e.into_inner()).0;
        }
        if let Some(err) = state.topic_failures.get(topic).cloned() {
            return Err(err);
        }
        if let Some(err) = state.partitions.get(topic).and_then(|p| p.get(&partition)).and_then(|v| v.failure.clone()) {
            return Err(err);
        }
        let joined = state.partitions.get(topic).is_some_and(|p| p.contains_key(&partition));
        let seq = state.next_seq;
        state.next_seq += 1;
        let now = Instant::now();
        state.requests.insert(
            seq,
            OwnRequest {
                topic: topic.into(),
                partition,
                key: key.to_owned(),
                ttl,
                token: None,
                prev: None,
                unseen_alive: VecDeque::from([now]),
                trusted_since: None,
                last_alive_sent: now,
                produced_at: now,
                phase: Phase::Waiting,
            },
        );
        let op = Op::Acquire { owner: self.owner.to_string(), seq, ttl: ttl.as_millis() as u64 };
        let slot = (!joined).then(|| Arc::new(DeliverySlot::default()));
        if let Err(e) = produce(&self.inner.clients, topic, partition, Some(key), &op, slot.clone()) {
            state.requests.remove(&seq);
            return Err(e);
        }
        let Some(slot) = slot else { return Ok(seq) };
        state.joining.insert((topic.to_owned(), partition));
        drop(state);
        let joined = self.join(topic, partition, &slot);
        let mut state = lock(shared);
        state.joining.remove(&(topic.to_owned(), partition));
        if joined.is_err() {
            state.requests.remove(&seq);
        }
        drop(state);
        shared.changed.notify_all();
        joined.map(|()| seq)
    }

    /// Starts replaying a partition: from the broker time of our first record on it, minus the
    /// longest lease and a margin, so every request alive at that time is seen (design: joining
    /// mid-log). Grants are trusted from our first record on.
    fn join(&self, topic: &str, partition: i32, slot: &DeliverySlot) -> LockResult<()> {
        let timeout = self.operation_timeout;
        let placement: Placement = match slot.wait(&self.inner.clients.producer, timeout) {
            Some(Ok(p)) => p,
            Some(Err(e)) => {
                return Err(LockError::Connection(format!(
                    "cannot write to topic '{topic}' partition {partition} at {}: {e}",
                    self.settings.brokers()
                )))
            }
            None => {
                return Err(LockError::Connection(format!(
                    "no acknowledgement from the brokers at {} within {:.1} s (lock.operation_timeout)",
                    self.settings.brokers(),
                    timeout.as_secs_f64()
                )))
            }
        };
        let t0 = match placement.timestamp {
            Timestamp::LogAppendTime(t) => t,
            _ => return Err(create_time_error(topic)),
        };
        let window_start = t0 - MAX_TTL_MS as i64 - JOIN_MARGIN_MS;
        let mut query = TopicPartitionList::new();
        query
            .add_partition_offset(topic, partition, KafkaOffset::Offset(window_start))
            .map_err(|e| LockError::Connection(e.to_string()))?;
        let found = self
            .inner
            .clients
            .consumer
            .offsets_for_times(query, timeout)
            .map_err(|e| LockError::Connection(format!("cannot look up offsets of topic '{topic}': {e}")))?;
        let start = found
            .find_partition(topic, partition)
            .and_then(|e| match e.offset() {
                KafkaOffset::Offset(o) => Some(o.min(placement.offset)),
                _ => None,
            })
            .unwrap_or(placement.offset);
        let mut state = lock(&self.inner.shared);
        let views = state.partitions.entry(topic.to_owned()).or_default();
        if views.contains_key(&partition) {
            return Ok(());
        }
        views.insert(
            partition,
            PartitionView { topic: topic.into(), machine: Machine::new(start), trusted_from: placement.offset, clock_seen: None, last_tick: None, failure: None },
        );
        let mut assignment = TopicPartitionList::new();
        assignment
            .add_partition_offset(topic, partition, KafkaOffset::Offset(start))
            .map_err(|e| LockError::Connection(e.to_string()))?;
        self.inner
            .clients
            .consumer
            .incremental_assign(&assignment)
            .map_err(|e| LockError::Connection(format!("cannot assign topic '{topic}' partition {partition}: {e}")))?;
        Ok(())
    }

    fn await_grant(&self, seq: u64, deadline: Option<Instant>, interrupted: InterruptCheck) -> LockResult<Outcome> {
        let shared = &self.inner.shared;
        let mut state = lock(shared);
        loop {
            let now = Instant::now();
            let req = state.requests.get(&seq).expect("a request stays until its caller removes it");
            if let Some(err) = state
                .partitions
                .get(&*req.topic)
                .and_then(|p| p.get(&req.partition))
                .and_then(|v| v.failure.clone())
            {
                state.requests.remove(&seq);
                return Err(err);
            }
            match &req.phase {
                Phase::Granted if req.held(now) => {
                    let token = req.token.expect("a granted request knows its offset");
                    return Ok(Outcome::Granted(Grant { seq, token }));
                }
                Phase::Failed(e) => {
                    let e = e.clone();
                    state.requests.remove(&seq);
                    return Err(e);
                }
                Phase::Lost => {
                    forget(&mut state, seq);
                    return Ok(Outcome::Lost);
                }
                _ => {}
            }
            if req.token.is_none() && now >= req.produced_at + self.operation_timeout {
                // Withdraw it: if the record does land later, the driver releases it.
                state.requests.get_mut(&seq).expect("checked above").phase = Phase::Cancelled;
                return Err(LockError::Connection(format!(
                    "the acquire record was not seen back from the brokers at {} within {:.1} s \
                     (lock.operation_timeout)",
                    self.settings.brokers(),
                    self.operation_timeout.as_secs_f64()
                )));
            }
            // Granted by the log but not yet trusted (the round trip took longer than the trust
            // margin): the driver renews at once; wait for that renewal, within the operation
            // time-out, rather than give up a lock that is ours.
            let grace = if req.phase == Phase::Granted { self.operation_timeout } else { Duration::ZERO };
            if req.token.is_some() && deadline.is_some_and(|d| now >= d + grace) {
                self.withdraw(&mut state, seq, None);
                return Ok(Outcome::TimedOut);
            }
            if interrupted() {
                // Like a time-out, not an error: an exception pending in PHP would make the
                // engine drop the very signal handler that asked for control.
                self.withdraw(&mut state, seq, None);
                return Ok(Outcome::TimedOut);
            }
            let mut wake = Duration::from_millis(100);
            if let Some(d) = deadline {
                wake = wake.min(d.saturating_duration_since(now));
            }
            state = shared.changed.wait_timeout(state, wake.max(Duration::from_micros(100))).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    /// Removes a request and produces its release (or leaves that to the driver while its
    /// offset is unknown). Returns whether it was held with a valid lease until now.
    /// `slot` receives the release record's delivery report, for a caller that waits for it.
    /// Returns whether the request was held, and whether a release record was produced.
    fn withdraw(&self, state: &mut State, seq: u64, slot: Option<Arc<DeliverySlot>>) -> (bool, bool) {
        let Some(req) = state.requests.get_mut(&seq) else { return (false, false) };
        let held = req.held(Instant::now());
        match req.token {
            Some(token) => {
                let release = PendingRelease::of(req, &self.owner, token, slot.unwrap_or_default());
                forget(state, seq);
                let produced = release.send(&self.inner.clients);
                state.releases.push(release);
                (held, produced)
            }
            None => {
                req.phase = Phase::Cancelled;
                (held, false)
            }
        }
    }

    /// Releases a request and waits (at most the operation time-out) until the broker has the
    /// release: once this returns in time, any acquire by anyone queues after it. Other
    /// processes' producers are not ordered with ours, so without the wait a release could
    /// still land after an acquire that another process made because it was told the lock was
    /// free. If the brokers are unreachable, the driver keeps sending the release until it is
    /// delivered or the lease would have run out anyway.
    /// `true` if the request was held and its lease still valid.
    pub fn release(&self, seq: u64) -> bool {
        let slot = Arc::new(DeliverySlot::default());
        let (held, produced) = self.withdraw(&mut lock(&self.inner.shared), seq, Some(slot.clone()));
        if produced {
            slot.wait(&self.inner.clients.producer, self.operation_timeout);
        }
        held
    }

    /// Releases every request of this session (end of request, shutdown).
    pub fn release_all(&self) {
        let mut state = lock(&self.inner.shared);
        let seqs: Vec<u64> = state.requests.keys().copied().collect();
        for seq in seqs {
            if state.requests.get(&seq).is_some_and(|r| r.phase != Phase::Cancelled) {
                self.withdraw(&mut state, seq, None);
            }
        }
    }

    /// Whether the request is granted and its lease valid by this holder's conservative view.
    pub fn is_held(&self, seq: u64) -> bool {
        lock(&self.inner.shared).requests.get(&seq).is_some_and(|r| r.held(Instant::now()))
    }

    /// Time left of the lease by this holder's view; `None` if not held.
    pub fn remaining(&self, seq: u64) -> Option<Duration> {
        let now = Instant::now();
        let state = lock(&self.inner.shared);
        let req = state.requests.get(&seq).filter(|r| r.held(now))?;
        req.trusted_until().map(|u| u.saturating_duration_since(now))
    }

    /// Waits until every produced record is acknowledged, at most `timeout`.
    pub fn flush(&self, timeout: Duration) {
        kafka::flush(&self.inner.clients.producer, timeout);
    }
}

enum Outcome {
    Granted(Grant),
    TimedOut,
    Lost,
}

fn forget(state: &mut State, seq: u64) {
    if let Some(req) = state.requests.remove(&seq) {
        if let Some(token) = req.token {
            state.by_token.remove(&(req.topic.clone(), req.partition, token));
        }
    }
}

fn create_time_error(topic: &str) -> LockError {
    LockError::Topic(format!(
        "topic '{topic}' stamps records with the producer's clock (CreateTime); the lock needs \
         broker time. Fix: kafka-configs.sh --bootstrap-server <brokers> --alter --entity-type \
         topics --entity-name {topic} --add-config message.timestamp.type=LogAppendTime"
    ))
}

fn produce(
    clients: &Clients,
    topic: &str,
    partition: i32,
    key: Option<&str>,
    op: &Op,
    slot: Option<Arc<DeliverySlot>>,
) -> LockResult<()> {
    let payload = encode_value(op);
    let mut record: BaseRecord<'_, str, [u8], SlotRef> =
        BaseRecord::with_opaque_to(topic, SlotRef(slot)).partition(partition).payload(&payload[..]);
    if let Some(k) = key {
        record = record.key(k);
    }
    clients
        .producer
        .send(record)
        .map_err(|(e, _)| LockError::Connection(format!("cannot queue a record for topic '{topic}': {e}")))
}

impl Drop for Session {
    fn drop(&mut self) {
        if std::process::id() != self.pid {
            // A forked child: the driver thread and librdkafka's threads stayed in the parent.
            return;
        }
        // SAFETY-free: ManuallyDrop::take is only reached once, here.
        let mut inner = unsafe { ManuallyDrop::take(&mut self.inner) };
        inner.shared.stop.store(true, Ordering::SeqCst);
        inner.clients.consumer_wake.notify();
        if let Some(driver) = inner.driver.take() {
            let _ = driver.join();
        }
        kafka::flush(&inner.clients.producer, Duration::from_secs(2));
        kafka::close_consumer(&inner.clients.consumer, Duration::from_secs(2));
    }
}

/// The driver thread: consume, apply, notify, renew, tick; until the stop flag is set.
fn drive(clients: &Clients, shared: &Shared, owner: &str) {
    let mut last_partition_check = Instant::now();
    while !shared.stop.load(Ordering::SeqCst) {
        if last_partition_check.elapsed() >= PARTITION_CHECK_INTERVAL {
            check_partition_counts(clients, shared);
            last_partition_check = Instant::now();
        }
        let timeout = next_wake(&lock(shared), Instant::now());
        // Sleep on the wake-up, not in BaseConsumer::poll(timeout): that cannot be interrupted,
        // so stopping the session (every process exit) waited for it, up to 20 ms.
        let seen = clients.consumer_wake.generation();
        let mut first = clients.consumer.poll(Duration::ZERO);
        if first.is_none() && !shared.stop.load(Ordering::SeqCst) {
            clients.consumer_wake.wait_change(seen, timeout);
            first = clients.consumer.poll(Duration::ZERO);
        }
        let mut state = lock(shared);
        let mut changed = false;
        let mut next = first;
        let mut batch = 0;
        while let Some(result) = next {
            match result {
                Ok(m) => {
                    changed = true;
                    handle_message(&mut state, clients, owner, m.topic(), m.partition(), m.offset(), m.timestamp(), m.key(), m.payload());
                }
                Err(_) => state.stats.consumer_errors += 1,
            }
            batch += 1;
            next = if batch < 1000 { clients.consumer.poll(Duration::ZERO) } else { None };
        }
        run_timers(&mut state, clients, owner, Instant::now());
        drop(state);
        // Serve delivery reports (only joins wait for theirs; the rest just need freeing).
        clients.producer.poll(Duration::ZERO);
        if changed {
            shared.changed.notify_all();
        }
    }
}

/// How often the driver compares the partition counts of the topics in use with the brokers'.
const PARTITION_CHECK_INTERVAL: Duration = Duration::from_secs(10);

/// Fails closed when a topic's partition count changed: identifiers now map to other
/// partitions, so this process's view of who holds what is no longer the others' view. Every
/// request on the topic is failed (holders lose their holds) and new acquires throw.
fn check_partition_counts(clients: &Clients, shared: &Shared) {
    let topics: Vec<(String, i32)> = lock(shared).topics.iter().map(|(t, n)| (t.clone(), *n)).collect();
    for (topic, known) in topics {
        // Outside the state lock: a metadata round trip must not stall the PHP thread.
        let Ok(metadata) = clients.consumer.fetch_metadata(Some(&topic), Duration::from_secs(2)) else { continue };
        let Some(now) = metadata.topics().iter().find(|t| t.name() == topic && t.error().is_none()).map(|t| t.partitions().len() as i32) else {
            continue;
        };
        if now == 0 || now == known {
            continue;
        }
        let err = LockError::Topic(format!(
            "the partition count of topic '{topic}' changed from {known} to {now} while locks were in \
             use; identifiers now map to other partitions, so every hold on this topic is treated as \
             lost. Never change the partition count of a lock topic with live locks."
        ));
        let mut state = lock(shared);
        state.topic_failures.insert(topic.clone(), err.clone());
        for view in state.partitions.get_mut(&topic).into_iter().flat_map(|p| p.values_mut()) {
            view.failure = Some(err.clone());
        }
        for req in state.requests.values_mut() {
            if *req.topic == topic {
                req.phase = Phase::Failed(err.clone());
            }
        }
        drop(state);
        shared.changed.notify_all();
    }
}

/// How long the driver may sleep: until the next renewal is due, and at most 20 ms so that
/// ticks (which depend on the estimate of broker time) are considered often enough. Records and
/// a stopping session wake it earlier.
fn next_wake(state: &State, now: Instant) -> Duration {
    let mut wake = Duration::from_millis(20);
    for req in state.requests.values() {
        if req.token.is_some() && matches!(req.phase, Phase::Waiting | Phase::Granted) {
            wake = wake.min((req.last_alive_sent + req.ttl / 3).saturating_duration_since(now));
        }
    }
    wake.max(Duration::from_millis(1))
}

#[allow(clippy::too_many_arguments)]
fn handle_message(
    state: &mut State,
    clients: &Clients,
    owner: &str,
    topic: &str,
    partition: i32,
    offset: i64,
    timestamp: Timestamp,
    key: Option<&[u8]>,
    payload: Option<&[u8]>,
) {
    let State { partitions, requests, by_token, stats, releases, .. } = state;
    let Some(view) = partitions.get_mut(topic).and_then(|p| p.get_mut(&partition)) else { return };
    let time = match timestamp {
        Timestamp::LogAppendTime(t) => t,
        _ => {
            // Fail closed: without broker time, no client can agree on expiry.
            let err = create_time_error(topic);
            view.failure = Some(err.clone());
            for req in requests.values_mut() {
                if &*req.topic == topic && req.partition == partition {
                    req.phase = Phase::Failed(err.clone());
                }
            }
            return;
        }
    };
    view.machine.handle_record(offset, time, key, payload);
    stats.records += 1;
    if let Some(clock) = view.machine.clock() {
        if view.clock_seen.is_none_or(|(c, _)| clock > c) {
            view.clock_seen = Some((clock, Instant::now()));
        }
    }
    while let Some(event) = view.machine.poll_event() {
        let (token, event_owner) = match &event {
            Event::Ignored { .. } => {
                stats.ignored += 1;
                continue;
            }
            Event::Enqueued { token, owner, .. }
            | Event::Renewed { token, owner, .. }
            | Event::Granted { token, owner, .. }
            | Event::Released { token, owner, .. }
            | Event::Expired { token, owner, .. } => (*token, owner.as_str()),
        };
        if event_owner != owner {
            continue;
        }
        let topic_arc = view.topic.clone();
        let seq = match &event {
            Event::Enqueued { seq, .. } => *seq,
            _ => match by_token.get(&(topic_arc.clone(), partition, token)) {
                Some(&s) => s,
                None => continue,
            },
        };
        let Some(req) = requests.get_mut(&seq) else { continue };
        if req.partition != partition || &*req.topic != topic {
            continue;
        }
        match event {
            Event::Enqueued { alive_at, .. } => {
                req.token = Some(token);
                req.prev = Some(alive_at);
                req.trusted_since = req.unseen_alive.pop_front();
                by_token.insert((topic_arc, partition, token), seq);
                if req.phase == Phase::Cancelled {
                    let release = PendingRelease::of(req, owner, token, Arc::default());
                    requests.remove(&seq);
                    by_token.remove(&(view.topic.clone(), partition, token));
                    release.send(clients);
                    releases.push(release);
                }
            }
            Event::Renewed { alive_at, .. } => {
                req.prev = Some(alive_at);
                if let Some(sent) = req.unseen_alive.pop_front() {
                    req.trusted_since = Some(sent);
                }
            }
            Event::Granted { at, .. } => {
                if at >= view.trusted_from && req.phase == Phase::Waiting {
                    req.phase = Phase::Granted;
                    let now = Instant::now();
                    if !req.held(now) {
                        // Make the next renewal due now: its acceptance restores the trust.
                        req.last_alive_sent = now.checked_sub(req.ttl).unwrap_or(req.last_alive_sent);
                    }
                }
            }
            Event::Released { .. } | Event::Expired { .. } => {
                if matches!(req.phase, Phase::Waiting | Phase::Granted) {
                    req.phase = Phase::Lost;
                }
            }
            Event::Ignored { .. } => {}
        }
    }
}

/// Renewals every ttl/3 for live requests, and a tick where a waiter's predecessor should have
/// expired by broker time, so the dead holder is removed at once instead of at the next record.
fn run_timers(state: &mut State, clients: &Clients, owner: &str, now: Instant) {
    state.releases.retain_mut(|release| match release.slot.outcome() {
        None => true,
        Some(Ok(_)) => false,
        Some(Err(_)) if now >= release.give_up => false,
        Some(Err(_)) => {
            // The previous attempt's slot is spent: a fresh one for the retry.
            release.slot = Arc::default();
            release.send(clients);
            true
        }
    });
    let State { partitions, requests, stats, .. } = state;
    let mut tick_wanted: Vec<(Arc<str>, i32)> = Vec::new();
    for req in requests.values_mut() {
        if !matches!(req.phase, Phase::Waiting | Phase::Granted) {
            continue;
        }
        let (Some(token), Some(prev)) = (req.token, req.prev) else { continue };
        if now >= req.last_alive_sent + req.ttl / 3 {
            let op = Op::Renew { owner: owner.to_owned(), r#ref: token, prev, ttl: req.ttl.as_millis() as u64 };
            if produce(clients, &req.topic, req.partition, Some(&req.key), &op, None).is_ok() {
                req.unseen_alive.push_back(now);
                req.last_alive_sent = now;
                stats.renews_sent += 1;
            }
        }
        if req.phase == Phase::Waiting && !tick_wanted.iter().any(|(t, p)| *t == req.topic && *p == req.partition) {
            tick_wanted.push((req.topic.clone(), req.partition));
        }
    }
    for (topic, partition) in tick_wanted {
        let Some(view) = partitions.get_mut(&*topic).and_then(|p| p.get_mut(&partition)) else { continue };
        let (Some(expiry), Some((clock, seen_at))) = (view.machine.next_expiry(), view.clock_seen) else { continue };
        let broker_now = clock + now.saturating_duration_since(seen_at).as_millis() as i64;
        let recently = view.last_tick.is_some_and(|t| now < t + Duration::from_millis(50));
        if broker_now >= expiry && !recently && produce(clients, &topic, partition, None, &Op::Tick, None).is_ok() {
            view.last_tick = Some(now);
            stats.ticks_sent += 1;
        }
    }
}
