//! One client session: the Kafka clients, the client core ([`Client`]) that decides everything
//! about this process's requests, and the driver thread that feeds it.
//!
//! This layer only does I/O: the PHP thread calls [`Session::acquire`] / [`Session::release`]
//! and waits; the driver thread ([`super::driver`]) consumes records and serves timers. Both
//! meet in one `Mutex<Client>`, and every record the core asks for is produced while that mutex
//! is held, in the order the core gives: that is what keeps a request's renewals and its
//! release in order up to the partition.

use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::protocol::{
    Client, ClientStats, Failure, GaveUp, Inspected, InspectionId, Lease, LocalTime, Mode, Offset,
    PartitionId, RequestId, Snapshot, Status,
};
use crate::session::clock;
use crate::session::error::{LockError, LockResult};
use crate::session::kafka::Clients;
use crate::session::options::{ClientSettings, LockOptions};
use crate::session::signals::with_signals_blocked;

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

/// How long past its time-out `acquire(.., Wait::For(t))` waits to learn the fate of a request
/// that is sent but not read back yet (the partition is being joined, or the record is on its
/// way): a round trip to a healthy cluster is far shorter; a cluster slower than this is
/// answered like a lock that is not free in time. Capped by the operation time-out.
pub const PENDING_GRACE: Duration = Duration::from_secs(1);

/// How long the end of a process waits for the brokers: to read back requests withdrawn before
/// they were (see [`Session::settle_withdrawals`]), to acknowledge the last records, to close.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// A request this process holds, as handed to the caller of [`Session::acquire`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    /// Identifies the request inside this session.
    pub seq: RequestId,
    /// The fencing token: offset of the request's acquire record.
    pub token: Offset,
}

/// Counters and histograms of one session (see `registry::totals`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionStats {
    /// The client core's counters and histograms.
    pub core: ClientStats,
    /// Consumer errors seen (broker down, ...).
    pub consumer_errors: u64,
}

/// What the PHP thread and the driver share.
pub(super) struct Shared {
    pub(super) core: Mutex<Client>,
    /// Signalled when the driver changed the core (records, reports).
    pub(super) changed: Condvar,
    pub(super) stop: AtomicBool,
    /// Wakes the watcher thread when the session stops (it sleeps between checks).
    pub(super) stopping: (Mutex<()>, Condvar),
    pub(super) consumer_errors: AtomicU64,
    /// Set when the driver thread stopped by a panic: the session is replaced.
    pub(super) driver_stopped: AtomicBool,
    /// Acquires for the lookup thread to read (requests a view learnt of from renews), and
    /// its wake-up (also signalled when the session stops).
    pub(super) lookups: (Mutex<Vec<(PartitionId, i64)>>, Condvar),
}

impl Shared {
    pub(super) fn lock(&self) -> MutexGuard<'_, Client> {
        self.core.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hands acquires to read to the lookup thread.
    pub(super) fn queue_lookups(&self, wanted: Vec<(PartitionId, i64)>) {
        let (queue, wake) = &self.lookups;
        queue.lock().unwrap_or_else(|e| e.into_inner()).extend(wanted);
        wake.notify_one();
    }
}

/// Stops reading the partitions the core dropped, hands it the delivery reports collected so
/// far, then produces every record it asks for, in order. Called with the core locked, after
/// every input. Returns whether any report was handed over.
pub(super) fn sync(core: &mut Client, clients: &Clients, now: LocalTime) -> bool {
    // Partitions the core gave up (history lost, a record without broker time, a failed
    // assignment, a deleted topic) or unfollowed (nothing of ours on them for UNFOLLOW_AFTER):
    // stop reading them now, under the same hold of the core's lock, so that a later request's
    // join, which assigns the partition again, is never undone by a late unassign.
    for partition in core.take_dropped_partitions() {
        clients.unassign(&partition);
    }
    let reports = clients.take_reports();
    let any = !reports.is_empty();
    for (id, result) in reports {
        core.handle_report(now, id, result);
    }
    while let Some(transmit) = core.poll_transmit() {
        if let Err(e) = clients.produce(&transmit) {
            core.handle_send_error(now, &transmit, e);
        }
    }
    any
}

struct Inner {
    clients: Arc<Clients>,
    shared: Arc<Shared>,
    driver: Option<JoinHandle<()>>,
    watcher: Option<JoinHandle<()>>,
    /// Reads the acquires of requests a view learnt of from renews.
    lookups: Option<JoinHandle<()>>,
    /// Threads running a partition's join lookups (one per join; joined on drop, so no
    /// librdkafka call outlives the session).
    joins: Mutex<Vec<JoinHandle<()>>>,
}

/// One set of Kafka clients and their driver thread; shared by every lock of the process that
/// uses the same client settings.
pub struct Session {
    pid: u32,
    settings: ClientSettings,
    operation_timeout: Duration,
    /// Partition counts of the topics opened, checked by the watcher thread.
    topics: Arc<Mutex<Vec<(String, i32)>>>,
    /// Forgotten, not dropped, in a forked child: the threads it refers to do not exist there.
    inner: ManuallyDrop<Inner>,
}

/// A process-unique owner name: host, pid, the clock's nanoseconds and a per-process counter,
/// enough to tell sessions apart (a collision would need the same pid at the same ns).
fn new_owner(pid: u32) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let host: String =
        host.trim().chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(40).collect();
    format!("{host}/{pid}/{nanos:x}/{}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// 32 bytes from the OS's random source: the seed of the session's nonces and release secrets.
fn session_secret() -> LockResult<[u8; 32]> {
    use std::io::Read;
    let mut secret = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut secret))
        .map_err(|e| LockError::Connection(format!("cannot read /dev/urandom for the session's key: {e}")))?;
    Ok(secret)
}

enum Outcome {
    Granted(Grant),
    TimedOut,
    Lost,
}

impl Session {
    /// Creates the clients and starts the driver thread. No network round trip yet.
    pub fn connect(settings: ClientSettings, options: &LockOptions) -> LockResult<Session> {
        // librdkafka's threads and the driver start with every signal blocked (signals.rs).
        let clients =
            Arc::new(with_signals_blocked(|| Clients::connect(&settings, options.operation_timeout))?);
        let pid = std::process::id();
        let shared = Arc::new(Shared {
            core: Mutex::new(Client::new(new_owner(pid), session_secret()?, options.operation_timeout)),
            changed: Condvar::new(),
            stop: AtomicBool::new(false),
            stopping: (Mutex::new(()), Condvar::new()),
            consumer_errors: AtomicU64::new(0),
            driver_stopped: AtomicBool::new(false),
            lookups: (Mutex::new(Vec::new()), Condvar::new()),
        });
        let topics = Arc::new(Mutex::new(Vec::new()));
        let (driver, watcher, lookups) = with_signals_blocked(|| {
            let driver = super::driver::start(clients.clone(), shared.clone())?;
            let watcher = super::driver::start_watcher(clients.clone(), shared.clone(), topics.clone())?;
            let lookups =
                super::driver::start_lookups(clients.clone(), shared.clone(), options.operation_timeout)?;
            Ok::<_, std::io::Error>((driver, watcher, lookups))
        })
        .map_err(|e| LockError::Connection(format!("cannot start the lock's threads: {e}")))?;
        Ok(Session {
            pid,
            settings,
            operation_timeout: options.operation_timeout,
            topics,
            inner: ManuallyDrop::new(Inner {
                clients,
                shared,
                driver: Some(driver),
                watcher: Some(watcher),
                lookups: Some(lookups),
                joins: Mutex::new(Vec::new()),
            }),
        })
    }

    /// Whether this session cannot be used any more ([`Clients::broken`]): the registry then
    /// makes a new one for the same settings.
    pub fn broken(&self) -> bool {
        self.inner.clients.broken() || self.inner.shared.driver_stopped.load(Ordering::SeqCst)
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
        SessionStats {
            core: self.inner.shared.lock().stats(),
            consumer_errors: self.inner.shared.consumer_errors.load(Ordering::Relaxed),
        }
    }

    /// Partition count of `topic`, checked (and the topic created) once per session.
    pub fn open_topic(&self, topic: &str, options: &LockOptions) -> LockResult<i32> {
        if let Some(failure) = self.inner.shared.lock().topic_failure(topic) {
            return Err(self.error(&PartitionId::new(topic, 0), failure));
        }
        if let Some((_, n)) = self.topics().iter().find(|(t, _)| t == topic) {
            return Ok(*n);
        }
        // The topic check makes admin clients, whose threads must not take signals either.
        let n = with_signals_blocked(|| self.inner.clients.ensure_topic(&self.settings, topic, options))?;
        self.topics().push((topic.to_owned(), n));
        Ok(n)
    }

    fn topics(&self) -> MutexGuard<'_, Vec<(String, i32)>> {
        self.topics.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the core, then produces what it asked for, and wakes the driver if its next
    /// timer moved earlier.
    fn with_core<R>(&self, f: impl FnOnce(&mut Client, LocalTime) -> R) -> R {
        let mut core = self.inner.shared.lock();
        let before = core.poll_timeout();
        let now = clock::now();
        let result = f(&mut core, now);
        sync(&mut core, &self.inner.clients, now);
        let after = core.poll_timeout();
        drop(core);
        if after.is_some_and(|a| before.is_none_or(|b| a < b)) {
            self.inner.clients.consumer_wake().notify();
        }
        result
    }

    /// Enqueues a request for `key` and waits as `wait` says. `Ok(None)`: not granted in time
    /// (the request has been withdrawn).
    ///
    /// `interrupted` is asked about every 100 ms while waiting; when it says yes the request is
    /// withdrawn and the call returns `Ok(None)` as on a time-out.
    #[allow(clippy::too_many_arguments)]
    pub fn acquire(
        &self,
        topic: &str,
        partition: i32,
        key: &str,
        mode: Mode,
        lease: Lease,
        wait: Wait,
        interrupted: InterruptCheck,
    ) -> LockResult<Option<Grant>> {
        let start = clock::now();
        let partition = PartitionId::new(topic, partition);
        loop {
            let id = self
                .with_core(|core, now| core.acquire(now, &partition, key, mode, lease))
                .map_err(|failure| self.error(&partition, failure))?;
            match self.await_grant(&partition, key, mode, id, wait, start, interrupted)? {
                Outcome::Granted(grant) => return Ok(Some(grant)),
                Outcome::TimedOut => return Ok(None),
                // Our request expired while queued (renewals did not get through): queue again.
                Outcome::Lost => continue,
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn await_grant(
        &self,
        partition: &PartitionId,
        key: &str,
        mode: Mode,
        id: RequestId,
        wait: Wait,
        start: LocalTime,
        interrupted: InterruptCheck,
    ) -> LockResult<Outcome> {
        let shared = &self.inner.shared;
        let clients = &self.inner.clients;
        let mut core = shared.lock();
        loop {
            let now = clock::now();
            sync(&mut core, clients, now);
            // When to give up while the request's place is unknown, and once it is known.
            let (pending, grace) = match core.status(id, now) {
                Status::Granted { token, trusted: true } => {
                    core.note_handed_over(now, id, start);
                    return Ok(Outcome::Granted(Grant { seq: id, token }));
                }
                Status::Failed(failure) => {
                    core.forget(id);
                    return Err(self.error(partition, failure));
                }
                Status::Lost | Status::Unknown => {
                    core.forget(id);
                    return Ok(Outcome::Lost);
                }
                Status::Conflict { held_as } => {
                    core.withdraw(now, id);
                    sync(&mut core, clients, now);
                    return Err(LockError::Conflict(format!(
                        "'{key}' on topic '{}' is in use as {held_as}, which {mode} can never be held \
                         with; the request was withdrawn rather than wait behind it. Use one kind \
                         of lock per identifier, and one limit per semaphore name",
                        partition.topic
                    )));
                }
                Status::NotSeen { joining: true } => {
                    // Withdrawn: if the record does land later, the core releases it.
                    core.withdraw(now, id);
                    return Err(LockError::Connection(format!(
                        "the brokers at {} did not answer the offset lookups that join topic '{}' \
                         partition {} within {:.1} s (lock.operation_timeout); a partition whose \
                         leader is changing answers them once it has settled",
                        self.settings.brokers(),
                        partition.topic,
                        partition.partition,
                        self.operation_timeout.as_secs_f64()
                    )));
                }
                Status::NotSeen { joining: false } => {
                    // Withdrawn: if the record does land later, the core releases it.
                    core.withdraw(now, id);
                    return Err(LockError::Connection(format!(
                        "the acquire record was not seen back from the brokers at {} within \
                         {:.1} s (lock.operation_timeout)",
                        self.settings.brokers(),
                        self.operation_timeout.as_secs_f64()
                    )));
                }
                Status::Pending => {
                    if let Some(reason) = clients.read_refusal(partition) {
                        // Withdrawn: if the record does land later, the core releases it.
                        core.withdraw(now, id);
                        sync(&mut core, clients, now);
                        return Err(LockError::Connection(format!(
                            "cannot read topic '{}' partition {} at {}: {reason}; grant this \
                             principal Read on the topic",
                            partition.topic,
                            partition.partition,
                            self.settings.brokers()
                        )));
                    }
                    if let Some(window_start) = core.take_join_lookup(partition) {
                        self.start_join(partition, window_start);
                    }
                    (true, PENDING_GRACE.min(self.operation_timeout))
                }
                Status::Waiting { .. } => (false, Duration::ZERO),
                // Granted by the log but not yet trusted (the round trip took longer than the
                // trust margin): the core renews at once; wait for that renewal, within the
                // operation time-out, rather than give up a lock that is ours.
                Status::Granted { trusted: false, .. } => (false, self.operation_timeout),
            };
            let give_up_at = match wait {
                Wait::Forever => None,
                // tryLock() needs the answer: a request whose place is unknown ends in a grant,
                // a refusal or NotSeen (the operation time-out), never in a silent false.
                Wait::No if pending => None,
                Wait::No => Some(start + grace),
                Wait::For(t) => Some(start + t + grace),
            };
            let timed_out = give_up_at.is_some_and(|at| now >= at);
            if timed_out || interrupted() {
                // An interrupt is answered like a time-out, not an error: an exception pending
                // in PHP would make the engine drop the very signal handler that asked for
                // control.
                let why = match wait {
                    _ if !timed_out => GaveUp::Interrupted,
                    Wait::No => GaveUp::Busy,
                    Wait::For(_) | Wait::Forever => GaveUp::TimedOut,
                };
                core.give_up(now, id, why);
                sync(&mut core, clients, now);
                return Ok(Outcome::TimedOut);
            }
            let mut wake = Duration::from_millis(100);
            if let Some(at) = give_up_at {
                wake = wake.min(at.saturating_since(now));
            }
            if core.awaits_placement(partition) || core.awaits_report(id, now) {
                // The join record's delivery report, or the acquire's (which can decide it
                // before it is read back), comes through the producer, which this thread polls
                // itself rather than wait for the driver's next turn.
                let seen = clients.producer_wake().generation();
                drop(core);
                clients.producer_wake().wait_change(seen, wake.min(Duration::from_millis(1)));
                core = shared.lock();
                continue;
            }
            core = shared
                .changed
                .wait_timeout(core, wake.max(Duration::from_micros(100)))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// The state of lock `key` as the log has it now: a tick is written to its partition (the
    /// first one joins the partition), and once this process has read past it, the view's
    /// queue for `key` is the answer. Returns within about the operation time-out.
    pub fn inspect(&self, topic: &str, partition: i32, key: &str) -> LockResult<Snapshot> {
        let mut locks = self.inspect_locks(topic, partition, Some(key))?;
        Ok(locks
            .pop()
            .map(|(_, snapshot)| snapshot)
            .unwrap_or(Snapshot { queue: Vec::new(), complete: true }))
    }

    /// Every lock with live requests on `partition` of `topic` as the log has it now (see
    /// [`Session::inspect`]), in byte order of their identifiers.
    pub fn inspect_partition(&self, topic: &str, partition: i32) -> LockResult<Vec<(String, Snapshot)>> {
        self.inspect_locks(topic, partition, None)
    }

    /// Lock `key`, or every lock of the partition.
    fn inspect_locks(
        &self,
        topic: &str,
        partition: i32,
        key: Option<&str>,
    ) -> LockResult<Vec<(String, Snapshot)>> {
        let partition = PartitionId::new(topic, partition);
        // A view reset under the inspection (history deleted under the consumer) is inspected
        // again; twice in a row is answered as the failure it is.
        for _ in 0..2 {
            let id = self
                .with_core(|core, now| core.inspect(now, &partition))
                .map_err(|failure| self.error(&partition, failure))?;
            let answer = self.await_inspection(&partition, id, key);
            self.inner.shared.lock().forget_inspection(id);
            if let Some(answer) = answer {
                return answer;
            }
        }
        Err(LockError::Connection(format!(
            "this process's view of topic '{}' partition {} was reset twice while inspecting it \
             (its history was deleted under the reader)",
            partition.topic, partition.partition
        )))
    }

    /// Revokes the holders of lock `key` (one, or every reader or semaphore share), if any:
    /// inspects the lock, writes a revoke of each holder's request not revoked yet and waits
    /// for the brokers' acknowledgements. Returns every holder's fencing token, and whether a
    /// revoke had already named it: each ends at its current lease (its renewals are refused).
    /// None: nobody held the lock.
    pub fn revoke(&self, topic: &str, partition: i32, key: &str) -> LockResult<Vec<(Offset, bool)>> {
        let snapshot = self.inspect(topic, partition, key)?;
        let mut holders = Vec::new();
        for holder in snapshot.queue.iter().filter(|r| r.granted) {
            if !holder.revoked {
                self.revoke_request(topic, partition, key, holder.token)?;
            }
            holders.push((holder.token, holder.revoked));
        }
        Ok(holders)
    }

    /// Writes a revoke of request `token` of lock `key` and waits for its acknowledgement.
    fn revoke_request(&self, topic: &str, partition: i32, key: &str, token: Offset) -> LockResult<()> {
        let partition = PartitionId::new(topic, partition);
        let id = self.with_core(|core, _| core.revoke(&partition, key, token));
        match self.await_report(|core| core.revoke_outcome(id)) {
            Some(Ok(())) => Ok(()),
            Some(Err(e)) => Err(LockError::Connection(format!(
                "the revoke of lock '{key}' (fencing token {}) was not written to topic '{}' at {}: {e}",
                token,
                partition.topic,
                self.settings.brokers()
            ))),
            None => {
                self.inner.shared.lock().forget_revoke(id);
                Err(LockError::Connection(format!(
                    "the revoke of lock '{key}' (fencing token {}) was not acknowledged by the brokers at \
                     {} within {:.1} s (lock.operation_timeout); it may still land",
                    token,
                    self.settings.brokers(),
                    self.operation_timeout.as_secs_f64()
                )))
            }
        }
    }

    /// Waits for inspection `id` and answers for lock `key` (or every lock of the partition);
    /// `None` if its view was reset under it.
    fn await_inspection(
        &self,
        partition: &PartitionId,
        id: InspectionId,
        key: Option<&str>,
    ) -> Option<LockResult<Vec<(String, Snapshot)>>> {
        let (shared, clients) = (&self.inner.shared, &self.inner.clients);
        let mut core = shared.lock();
        loop {
            let now = clock::now();
            sync(&mut core, clients, now);
            let answer = match key {
                Some(key) => match core.inspection(id, key, now) {
                    Inspected::Ready(snapshot) => Ok(vec![(key.to_owned(), snapshot)]),
                    state => Err(state),
                },
                None => core.inspection_of_all(id, now),
            };
            match answer {
                Ok(locks) => return Some(Ok(locks)),
                Err(Inspected::Failed(failure)) => return Some(Err(self.error(partition, failure))),
                Err(Inspected::Lost) => return None,
                Err(Inspected::NotSeen { joining }) => {
                    let what = if joining { "its join lookups were" } else { "the tick record was" };
                    return Some(Err(LockError::Connection(format!(
                        "cannot inspect topic '{}' partition {}: {what} not answered by the brokers at \
                         {} within {:.1} s (lock.operation_timeout)",
                        partition.topic,
                        partition.partition,
                        self.settings.brokers(),
                        self.operation_timeout.as_secs_f64()
                    ))));
                }
                // (A ready one is never an error: answered above.)
                Err(Inspected::Pending | Inspected::Ready(_)) => {}
            }
            if let Some(window_start) = core.take_join_lookup(partition) {
                self.start_join(partition, window_start);
            }
            if core.inspection_awaits_placement(id) {
                // The tick's delivery report comes through the producer, which this thread
                // polls itself rather than wait for the driver's next turn.
                let seen = clients.producer_wake().generation();
                drop(core);
                clients.producer_wake().wait_change(seen, Duration::from_millis(1));
                core = shared.lock();
                continue;
            }
            core = shared
                .changed
                .wait_timeout(core, Duration::from_millis(100))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Runs a join's lookups on a thread of their own (each is a broker round trip, up to the
    /// operation time-out): the waiting caller keeps its time-out and answers interrupts, and
    /// the driver keeps renewing. Runs them here if no thread can be started.
    fn start_join(&self, partition: &PartitionId, window_start: i64) {
        let (clients, shared) = (self.inner.clients.clone(), self.inner.shared.clone());
        let (partition, timeout) = (partition.clone(), self.operation_timeout);
        let mut joins = self.inner.joins.lock().unwrap_or_else(|e| e.into_inner());
        joins.retain(|j| !j.is_finished());
        let task = {
            let partition = partition.clone();
            let (clients, shared) = (clients.clone(), shared.clone());
            move || {
                join(&clients, &shared, &partition, window_start, timeout);
                shared.changed.notify_all();
            }
        };
        let spawned =
            with_signals_blocked(|| std::thread::Builder::new().name("kafka_lock join".into()).spawn(task));
        match spawned {
            Ok(handle) => joins.push(handle),
            Err(_) => {
                drop(joins);
                join(&clients, &shared, &partition, window_start, timeout);
            }
        }
    }

    /// Releases a request and waits (at most the operation time-out) until the broker has the
    /// release: once this returns in time, any acquire by anyone queues after it. Other
    /// processes' producers are not ordered with ours, so without the wait a release could
    /// still land after an acquire that another process made because it was told the lock was
    /// free. If the brokers are unreachable, the core keeps sending the release until it is
    /// delivered or the lease would have run out anyway.
    /// `true` if the request was held and its lease still valid.
    pub fn release(&self, seq: RequestId) -> bool {
        let withdrawn = self.with_core(|core, now| core.withdraw(now, seq));
        if withdrawn.release_queued {
            self.await_release(seq);
        }
        withdrawn.held
    }

    fn await_release(&self, seq: RequestId) {
        self.await_report(|core| (!core.release_pending(seq)).then_some(()));
    }

    /// Polls the producer (this thread serves the delivery reports it waits for) until `done`
    /// says what the core learnt, at most the operation time-out; `None` after that.
    fn await_report<T>(&self, mut done: impl FnMut(&mut Client) -> Option<T>) -> Option<T> {
        let clients = &self.inner.clients;
        let deadline = clock::now() + self.operation_timeout;
        loop {
            let seen = clients.producer_wake().generation();
            let now = clock::now();
            {
                let mut core = self.inner.shared.lock();
                sync(&mut core, clients, now);
                if let Some(answer) = done(&mut core) {
                    return Some(answer);
                }
            }
            if now >= deadline {
                return None;
            }
            clients
                .producer_wake()
                .wait_change(seen, deadline.saturating_since(now).min(Duration::from_millis(1)));
        }
    }

    /// Releases every request of this session (end of request, shutdown).
    pub fn release_all(&self) {
        self.with_core(|core, now| core.release_all(now));
    }

    /// Whether the request is granted and its lease valid by this holder's conservative view.
    pub fn is_held(&self, seq: RequestId) -> bool {
        self.inner.shared.lock().is_held(seq, clock::now())
    }

    /// Time left of the lease by this holder's view; `None` if not held.
    pub fn remaining(&self, seq: RequestId) -> Option<Duration> {
        self.inner.shared.lock().remaining(seq, clock::now())
    }

    /// Fails the producer for good (see [`Clients::fail_producer_for_test`]) and wakes the
    /// driver. For tests only.
    #[doc(hidden)]
    pub fn fail_producer_for_test(&self) {
        self.inner.clients.fail_producer_for_test();
        self.inner.clients.consumer_wake().notify();
    }

    /// Waits, at most `timeout`, until every withdrawn request whose acquire had not been read
    /// back (a wait interrupted or timed out just after it was sent) has shown up and had its
    /// release handed to the producer. Without it a process ending right after such a wait
    /// leaves its request queued for a lease, in front of every later waiter.
    pub fn settle_withdrawals(&self, timeout: Duration) {
        let deadline = clock::now() + timeout;
        let mut core = self.inner.shared.lock();
        loop {
            let now = clock::now();
            sync(&mut core, &self.inner.clients, now);
            let unplaced = core.withdrawals_unplaced(now);
            if unplaced.is_empty() || now >= deadline {
                return;
            }
            // A wait given up while its partition was joining left the join's lookups to
            // whoever waits: without them the acquire is never read back.
            for partition in &unplaced {
                if let Some(window_start) = core.take_join_lookup(partition) {
                    self.start_join(partition, window_start);
                }
            }
            let wake = deadline.saturating_since(now).min(Duration::from_millis(100));
            core = self.inner.shared.changed.wait_timeout(core, wake).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    /// Waits until every produced record is acknowledged, at most `timeout`.
    pub fn flush(&self, timeout: Duration) {
        self.inner.clients.flush(timeout);
    }

    /// The error a caller sees for a failure of the core.
    fn error(&self, partition: &PartitionId, failure: Failure) -> LockError {
        LockError::from_failure(failure, partition, self.settings.brokers(), self.operation_timeout)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if std::process::id() != self.pid {
            // A forked child: the driver thread and librdkafka's threads stayed in the parent.
            return;
        }
        crate::session::registry::note_dropped(self.stats());
        // SAFETY: `inner` is taken only here, once; nothing reads it afterwards.
        let mut inner = unsafe { ManuallyDrop::take(&mut self.inner) };
        inner.shared.stop.store(true, Ordering::SeqCst);
        inner.clients.consumer_wake().notify();
        {
            let _guard = inner.shared.stopping.0.lock().unwrap_or_else(|e| e.into_inner());
            inner.shared.stopping.1.notify_all();
        }
        let joins = std::mem::take(&mut *inner.joins.lock().unwrap_or_else(|e| e.into_inner()));
        {
            let _guard = inner.shared.lookups.0.lock().unwrap_or_else(|e| e.into_inner());
            inner.shared.lookups.1.notify_all();
        }
        let threads = [inner.driver.take(), inner.watcher.take(), inner.lookups.take()];
        for thread in threads.into_iter().flatten().chain(joins) {
            let _ = thread.join();
        }
        inner.clients.flush(SHUTDOWN_GRACE);
        inner.clients.close_consumer(SHUTDOWN_GRACE);
    }
}

/// A join's lookups (broker round trips), then the answer to the core and the consumer's
/// assignment where the core says.
fn join(clients: &Clients, shared: &Shared, partition: &PartitionId, window_start: i64, timeout: Duration) {
    let found = clients.offset_for_time(partition, window_start, timeout);
    // Asked after the window's offset: a deletion in between makes the window look
    // incomplete, never complete.
    let log_start = clients.log_start(partition, timeout);
    let mut core = shared.lock();
    let now = clock::now();
    let (found, log_start) = match (found, log_start) {
        (Ok(found), Ok(log_start)) => (found, log_start),
        (Err(e), _) | (_, Err(e)) => return core.handle_join_error(partition, Failure::JoinLookup(e)),
    };
    let Some(start) = core.handle_join_start(now, partition, found, log_start) else { return };
    if let Err(e) = clients.assign(partition, start) {
        core.handle_assign_error(now, partition, Failure::JoinAssign(e));
    }
    sync(&mut core, clients, now);
}
