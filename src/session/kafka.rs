//! Every librdkafka call of the extension: the clients of one session (an idempotent
//! producer, an assign-only consumer), producing what the client core hands out, the join's
//! lookups, and the topic check (exists, or is created with LogAppendTime).

use std::collections::HashMap;
use std::ffi::{c_char, c_void, CStr};
use std::marker::PhantomData;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::bindings as rd;
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{DeliveryResult, Message, Timestamp};
use rdkafka::metadata::Metadata;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer, ProducerContext};
use rdkafka::{Offset, TopicPartitionList};

use crate::protocol::{PartitionId, Placement, Transmit, TransmitId};

use crate::session::error::{LockError, LockResult};
use crate::session::options::{ClientSettings, LockOptions};

/// Signalled by librdkafka (from its own thread) when a client's event queue goes from
/// empty to non-empty, and by a session that stops: lets threads sleep on a condition variable
/// instead of inside `poll(timeout)`, which cannot be interrupted and, in rust-rdkafka's
/// `BaseProducer::poll(t)`, always blocks for all of `t`.
#[derive(Default)]
pub struct Wakeup {
    generation: Mutex<u64>,
    changed: Condvar,
}

impl Wakeup {
    /// The current generation: read it before polling, then [`Wakeup::wait_change`] from it.
    pub fn generation(&self) -> u64 {
        *self.generation.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes every waiter.
    pub fn notify(&self) {
        *self.generation.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.changed.notify_all();
    }

    /// Sleeps until the generation differs from `seen`, at most `timeout`.
    pub fn wait_change(&self, seen: u64, timeout: Duration) {
        let guard = self.generation.lock().unwrap_or_else(|e| e.into_inner());
        let _ = self.changed.wait_timeout_while(guard, timeout, |g| *g == seen);
    }
}

/// Makes librdkafka notify `wake` whenever the queue of `client` (its main queue, or its
/// consumer queue) goes from empty to non-empty.
///
/// # Safety
/// `rk` must be a live handle, and `wake` must outlive it.
unsafe fn notify_on_queue(rk: *mut rdkafka::bindings::rd_kafka_t, consumer_queue: bool, wake: *const Wakeup) {
    // SAFETY: the handle is live (borrowed); the queue handle is released at once (librdkafka
    // keeps the callback on the queue itself); the caller keeps `wake` alive.
    unsafe {
        let queue = if consumer_queue {
            rdkafka::bindings::rd_kafka_queue_get_consumer(rk)
        } else {
            rdkafka::bindings::rd_kafka_queue_get_main(rk)
        };
        if queue.is_null() {
            return;
        }
        rdkafka::bindings::rd_kafka_queue_cb_event_enable(queue, Some(queue_nonempty), wake as *mut c_void);
        rdkafka::bindings::rd_kafka_queue_destroy(queue);
    }
}

unsafe extern "C" fn queue_nonempty(_: *mut rdkafka::bindings::rd_kafka_t, opaque: *mut c_void) {
    // SAFETY: `opaque` is the `Wakeup` given to `notify_on_queue`, alive as long as the handle.
    let wake = unsafe { &*(opaque as *const Wakeup) };
    wake.notify();
}

/// The delivery opaque of a record: the transmit id whose report the client core wants, or
/// none (no report needed). Carried as an integer, so no allocation per record.
pub struct ReportTag(Option<TransmitId>);

impl rdkafka::util::IntoOpaque for ReportTag {
    fn into_ptr(self) -> *mut c_void {
        // 0 means none; ids are shifted by one.
        self.0.map_or(0, |id| id as usize + 1) as *mut c_void
    }

    unsafe fn from_ptr(ptr: *mut c_void) -> Self {
        ReportTag((ptr as usize).checked_sub(1).map(|id| id as TransmitId))
    }
}

/// A delivery report the client core asked for.
pub type Report = (TransmitId, Result<Placement, String>);

/// Why the brokers refused this client's connections, as librdkafka reports it on its error
/// callback or in its log: wrong credentials or settings, which no retry cures.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Refusal {
    /// SASL: wrong password, unknown user, a mechanism the broker does not enable
    /// (`RD_KAFKA_RESP_ERR__AUTHENTICATION`).
    Authentication(String),
    /// The TLS handshake failed on this side: the brokers' certificate is not trusted
    /// (`RD_KAFKA_RESP_ERR__SSL`).
    Tls(String),
    /// The brokers ended the TLS handshake with an alert about this client's certificate (one
    /// from a CA they do not trust, or none where they require one).
    Certificate(String),
    /// The brokers closed connections while they were being set up, the way a listener with
    /// another `security.protocol` does (seen in librdkafka's log: [`closed_early`]).
    Protocol(String),
}

impl Refusal {
    /// The error a caller sees.
    fn error(&self, brokers: &str) -> LockError {
        LockError::Connection(match self {
            Refusal::Authentication(reason) => format!("authentication failed at {brokers}: {reason}"),
            Refusal::Tls(reason) => format!("TLS handshake with {brokers} failed: {reason}"),
            Refusal::Certificate(reason) => format!(
                "the brokers at {brokers} refused this client's certificate (ssl.certificate.location: \
                 none, or not signed by a CA they trust): {reason}"
            ),
            Refusal::Protocol(reason) => format!(
                "the brokers at {brokers} closed the connection while it was set up: {reason}; is \
                 security.protocol right for this listener?"
            ),
        })
    }
}

/// What librdkafka said about the connections of one session's clients: fed by their error
/// callbacks and log lines, read by the topic check.
#[derive(Default)]
pub struct ConnectionWatch {
    state: Mutex<WatchState>,
}

#[derive(Default)]
struct WatchState {
    /// The latest refusal since the brokers last answered.
    refusal: Option<Refusal>,
    /// The latest connection failure librdkafka logged (facility FAIL) since then.
    last_failure: Option<String>,
    /// How many connections the brokers closed while they were being set up, since then.
    closed_early: u32,
}

/// Whether a FAIL line of librdkafka's log reports a connection lost while it was being set up
/// ("... (after 0ms in state APIVERSION_QUERY)") or right after ("... after 3ms in state UP"):
/// what a listener with another `security.protocol` does (a TLS listener to a plaintext
/// client; a SASL listener to a client that sends a request without authenticating).
fn closed_early(line: &str) -> bool {
    let Some(at) = line.rfind("ms in state ") else { return false };
    let state = line[at + "ms in state ".len()..].split([',', ')']).next().unwrap_or("");
    let ms = line[..at].rsplit("(after ").next().and_then(|n| n.parse::<u64>().ok());
    match state {
        "APIVERSION_QUERY" | "AUTH_HANDSHAKE" => true,
        // librdkafka's own rule for its hint that a listener wants SASL.
        "UP" => ms.is_some_and(|ms| ms < 2000),
        _ => false,
    }
}

impl ConnectionWatch {
    fn state(&self) -> std::sync::MutexGuard<'_, WatchState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// An error librdkafka reported on a client (not tied to a partition).
    fn error(&self, code: RDKafkaErrorCode, reason: &str) {
        let reason = reason.to_owned();
        let lower = reason.to_ascii_lowercase();
        let refusal = match code {
            RDKafkaErrorCode::Authentication => Refusal::Authentication(reason),
            RDKafkaErrorCode::SSL => Refusal::Tls(reason),
            // This side did not trust the brokers' certificate, reported as a transport error.
            RDKafkaErrorCode::BrokerTransportFailure if lower.contains("certificate verify failed") => {
                Refusal::Tls(reason)
            }
            // The brokers' alert: "ssl/tls alert bad certificate", "... certificate required",
            // "... unknown ca".
            RDKafkaErrorCode::BrokerTransportFailure
                if lower.contains("alert")
                    && (lower.contains("certificate") || lower.contains("unknown ca")) =>
            {
                Refusal::Certificate(reason)
            }
            _ => return,
        };
        self.state().refusal = Some(refusal);
    }

    /// A line of librdkafka's log. A connection closed while it was set up is logged, not
    /// reported as an error; twice is taken as a refusal (once may be a broker going down).
    fn log(&self, facility: &str, line: &str) {
        if facility != "FAIL" {
            return;
        }
        // "[thrd:host:port/bootstrap]: host:port/bootstrap: ..." names the broker twice.
        let line = match line.strip_prefix("[thrd:").and_then(|l| l.split_once("]: ")) {
            Some((_, rest)) => rest,
            None => line,
        };
        let mut state = self.state();
        if closed_early(line) {
            state.closed_early += 1;
            if state.closed_early >= 2 && state.refusal.is_none() {
                state.refusal = Some(Refusal::Protocol(line.to_owned()));
            }
        }
        state.last_failure = Some(line.to_owned());
    }

    /// The brokers answered: what came before is history.
    fn answered(&self) {
        *self.state() = WatchState::default();
    }

    fn refusal(&self) -> Option<Refusal> {
        self.state().refusal.clone()
    }

    fn last_failure(&self) -> Option<String> {
        self.state().last_failure.clone()
    }
}

/// A delivery report as librdkafka gave it, before [`Clients::take_reports`] names the cause
/// of a purge.
type RawReport = (TransmitId, Result<Placement, (Option<RDKafkaErrorCode>, String)>);

/// The context of a session's clients: reports their errors and log lines to the session's
/// watch, and collects the producer's delivery reports the client core asked for, to be
/// handed to it by whichever thread next holds the core (the reports are served by any
/// thread that polls the producer).
pub struct SessionContext {
    reports: Mutex<Vec<RawReport>>,
    watch: Arc<ConnectionWatch>,
}

impl SessionContext {
    fn new(watch: &Arc<ConnectionWatch>) -> SessionContext {
        SessionContext { reports: Mutex::new(Vec::new()), watch: watch.clone() }
    }
}

impl ClientContext for SessionContext {
    fn log(&self, _level: RDKafkaLogLevel, facility: &str, line: &str) {
        self.watch.log(facility, line);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        if let Some(code) = error.rdkafka_error_code() {
            self.watch.error(code, reason);
        }
    }
}

impl ConsumerContext for SessionContext {}

impl ProducerContext for SessionContext {
    type DeliveryOpaque = ReportTag;

    fn delivery(&self, result: &DeliveryResult<'_>, tag: Self::DeliveryOpaque) {
        let Some(id) = tag.0 else { return };
        let outcome = match result {
            Ok(m) => Ok(Placement {
                offset: m.offset(),
                log_time: match m.timestamp() {
                    Timestamp::LogAppendTime(t) => Some(t),
                    _ => None,
                },
            }),
            Err((e, _)) => Err((e.rdkafka_error_code(), e.to_string())),
        };
        self.reports.lock().unwrap_or_else(|e| e.into_inner()).push((id, outcome));
    }
}

/// The producer type of a session. No polling thread of its own: the driver thread serves its
/// delivery reports, and a caller waiting for one polls it (rust-rdkafka's ThreadedProducer
/// polls every 100 ms, which made every flush at process exit take 100 ms).
pub type LockProducer = BaseProducer<SessionContext>;

/// The Kafka clients of one session and the wake-ups their queues signal.
/// Fields drop in order: the consumer's queue handle before the consumer (librdkafka's
/// destroy waits for every queue handle), the consumer first (destroying the producer first
/// made every process exit 100 ms slower), the wake-ups last (librdkafka's callbacks point at
/// them).
pub struct Clients {
    queue: ConsumerQueue,
    consumer: BaseConsumer<SessionContext>,
    producer: LockProducer,
    /// The driver sleeps on it: records and consumer errors.
    consumer_wake: Arc<Wakeup>,
    /// Threads waiting for a delivery report sleep on it. Kept apart from the driver's: a
    /// shared one woke the driver for every acknowledgement, and it then took reports the PHP
    /// thread was waiting for (measured: release p50 0.19 -> 0.30 ms).
    producer_wake: Arc<Wakeup>,
    /// What librdkafka said about the clients' connections.
    watch: Arc<ConnectionWatch>,
    /// Partitions whose Fetch the brokers refused (no Read on the topic), with librdkafka's
    /// reason; a partition leaves when one of its records is consumed.
    read_refused: Mutex<HashMap<PartitionId, String>>,
    /// Whether the topic check ended in a refusal ([`Refusal`]): the session is not reused.
    refused: std::sync::atomic::AtomicBool,
}

/// This client's handle on the consumer's queue, which [`Clients::poll_record`] polls itself:
/// rust-rdkafka's poll drops the partition of a consumer error.
struct ConsumerQueue(*mut rd::rd_kafka_queue_t);

// SAFETY: librdkafka's queues are thread-safe.
unsafe impl Send for ConsumerQueue {}
// SAFETY: as above.
unsafe impl Sync for ConsumerQueue {}

impl Drop for ConsumerQueue {
    fn drop(&mut self) {
        // SAFETY: a handle from rd_kafka_queue_get_consumer, released once, before the consumer.
        unsafe { rd::rd_kafka_queue_destroy(self.0) }
    }
}

/// An event taken from a queue, destroyed when dropped.
struct Event(*mut rd::rd_kafka_event_t);

impl Drop for Event {
    fn drop(&mut self) {
        // SAFETY: an event from rd_kafka_queue_poll, destroyed once.
        unsafe { rd::rd_kafka_event_destroy(self.0) }
    }
}

/// A C string of librdkafka (may be null) as text.
///
/// # Safety
/// `s` must be null or point to a NUL-terminated string alive for the call.
unsafe fn text(s: *const c_char) -> String {
    if s.is_null() {
        return String::new();
    }
    // SAFETY: the caller's contract.
    unsafe { CStr::from_ptr(s) }.to_string_lossy().trim().to_owned()
}

impl Clients {
    /// Creates the idempotent, acks=all producer and the assign-only consumer. No network
    /// round trip yet. `operation_timeout` bounds how long a record may be retried.
    pub fn connect(settings: &ClientSettings, operation_timeout: Duration) -> LockResult<Clients> {
        let watch = Arc::new(ConnectionWatch::default());
        let producer = create_producer(settings, operation_timeout, &watch)?;
        let consumer = create_consumer(settings, &watch)?;
        // SAFETY: the consumer is live; the handle is released before it (field order).
        let queue = unsafe { rd::rd_kafka_queue_get_consumer(consumer.client().native_ptr()) };
        if queue.is_null() {
            return Err(LockError::Config("librdkafka gave the consumer no queue".into()));
        }
        let queue = ConsumerQueue(queue);
        let consumer_wake = Arc::new(Wakeup::default());
        let producer_wake = Arc::new(Wakeup::default());
        // SAFETY: the wake-ups are kept in the same struct and dropped after both clients.
        unsafe {
            notify_on_queue(producer.client().native_ptr(), false, Arc::as_ptr(&producer_wake));
            notify_on_queue(consumer.client().native_ptr(), true, Arc::as_ptr(&consumer_wake));
        }
        Ok(Clients {
            queue,
            consumer,
            producer,
            consumer_wake,
            producer_wake,
            watch,
            read_refused: Mutex::new(HashMap::new()),
            refused: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Signalled when the consumer's queue gets something, and by whoever needs the driver to
    /// look at the core again (a new timer, stopping).
    pub fn consumer_wake(&self) -> &Wakeup {
        &self.consumer_wake
    }

    /// Signalled when the producer's queue gets something (delivery reports), and by the driver
    /// when it handed reports to the core itself.
    pub fn producer_wake(&self) -> &Wakeup {
        &self.producer_wake
    }

    /// Whether these clients cannot be used any more: the producer failed for good
    /// (librdkafka's fatal error: an idempotent producer the brokers refused a producer id),
    /// or the topic check ended in a refusal. A session with such clients is replaced.
    pub fn broken(&self) -> bool {
        self.refused.load(std::sync::atomic::Ordering::Relaxed)
            || self.producer.client().fatal_error().is_some()
    }

    /// The producer's fatal error, with what to grant when it is an authorization.
    fn producer_fatal(&self) -> Option<String> {
        let (code, reason) = self.producer.client().fatal_error()?;
        let grant = match code {
            // KIP-679 (Kafka 3.0): Write on any topic lets a principal init an idempotent
            // producer; before, it took IdempotentWrite on the cluster.
            RDKafkaErrorCode::ClusterAuthorizationFailed => {
                "; grant this principal Write on the topic (or IdempotentWrite on the cluster)"
            }
            _ => "",
        };
        Some(format!("the producer failed for good: {reason}{grant}"))
    }

    /// The cause of a produce error: librdkafka purges the queue and refuses new records once
    /// its producer failed for good, and then the fatal error is the cause.
    fn produce_error(&self, code: Option<RDKafkaErrorCode>, message: String) -> String {
        match code {
            Some(
                RDKafkaErrorCode::PurgeQueue | RDKafkaErrorCode::PurgeInflight | RDKafkaErrorCode::Fatal,
            ) => self.producer_fatal().unwrap_or(message),
            _ => message,
        }
    }

    /// Queues one record for producing.
    pub fn produce(&self, transmit: &Transmit) -> Result<(), String> {
        let tag = ReportTag(transmit.report.then_some(transmit.id));
        let mut record: BaseRecord<'_, str, [u8], ReportTag> =
            BaseRecord::with_opaque_to(&transmit.partition.topic, tag)
                .partition(transmit.partition.partition)
                .payload(&transmit.value[..]);
        if let Some(key) = &transmit.key {
            record = record.key(key.as_str());
        }
        self.producer.send(record).map_err(|(e, _)| self.produce_error(e.rdkafka_error_code(), e.to_string()))
    }

    /// Serves the producer's delivery callbacks and returns the reports collected so far.
    pub fn take_reports(&self) -> Vec<Report> {
        self.producer.poll(Duration::ZERO);
        let raw =
            std::mem::take(&mut *self.producer.context().reports.lock().unwrap_or_else(|e| e.into_inner()));
        raw.into_iter()
            .map(|(id, result)| (id, result.map_err(|(code, message)| self.produce_error(code, message))))
            .collect()
    }

    /// The next consumed record or consumer error, without blocking. Log lines and errors
    /// that are not the consumer's own go to the watch on the way.
    pub fn poll_record(&self) -> Option<Result<Consumed<'_>, ConsumerError>> {
        loop {
            // SAFETY: the queue handle is live as long as `self`.
            let event = unsafe { rd::rd_kafka_queue_poll(self.queue.0, 0) };
            if event.is_null() {
                return None;
            }
            let event = Event(event);
            // SAFETY: `event` is a live event of this consumer; what it hands out lives as long
            // as the event, which `Consumed` keeps.
            unsafe {
                match rd::rd_kafka_event_type(event.0) {
                    rd::RD_KAFKA_EVENT_FETCH => {
                        let message = rd::rd_kafka_event_message_next(event.0);
                        if message.is_null() {
                            continue;
                        }
                        if (*message).err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
                            let rkt = (*message).rkt;
                            let partition = (!rkt.is_null()).then(|| {
                                PartitionId::new(&text(rd::rd_kafka_topic_name(rkt)), (*message).partition)
                            });
                            let reason = RDKafkaErrorCode::from((*message).err).to_string();
                            return Some(Err(self.consumer_error((*message).err.into(), partition, reason)));
                        }
                        let consumed = Consumed { _event: event, message, _clients: PhantomData };
                        self.readable(&consumed);
                        return Some(Ok(consumed));
                    }
                    rd::RD_KAFKA_EVENT_ERROR => {
                        let code = rd::rd_kafka_event_error(event.0);
                        if code == rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
                            continue;
                        }
                        let reason = text(rd::rd_kafka_event_error_string(event.0));
                        let tp = rd::rd_kafka_event_topic_partition(event.0);
                        let partition = (!tp.is_null()).then(|| {
                            let partition = PartitionId::new(&text((*tp).topic), (*tp).partition);
                            rd::rd_kafka_topic_partition_destroy(tp);
                            partition
                        });
                        return Some(Err(self.consumer_error(code.into(), partition, reason)));
                    }
                    rd::RD_KAFKA_EVENT_LOG => {
                        let (mut facility, mut line, mut level) = (std::ptr::null(), std::ptr::null(), 0);
                        if rd::rd_kafka_event_log(event.0, &mut facility, &mut line, &mut level) == 0 {
                            self.watch.log(&text(facility), &text(line));
                        }
                    }
                    // Nothing else is enabled for an assign-only consumer without commits.
                    _ => {}
                }
            }
        }
    }

    /// Classifies a consumer error; a refusal to read a partition is kept until one of its
    /// records is consumed.
    fn consumer_error(
        &self,
        code: RDKafkaErrorCode,
        partition: Option<PartitionId>,
        reason: String,
    ) -> ConsumerError {
        match (code, partition) {
            (RDKafkaErrorCode::AutoOffsetReset, _) => ConsumerError::PositionLost,
            (RDKafkaErrorCode::TopicAuthorizationFailed, Some(partition)) => {
                self.read_refused.lock().unwrap_or_else(|e| e.into_inner()).insert(partition.clone(), reason);
                ConsumerError::ReadRefused(partition)
            }
            (code, _) => {
                self.watch.error(code, &reason);
                ConsumerError::Other
            }
        }
    }

    /// A record was consumed: the brokers let this client read its partition.
    fn readable(&self, record: &Consumed<'_>) {
        let mut refused = self.read_refused.lock().unwrap_or_else(|e| e.into_inner());
        if !refused.is_empty() {
            refused.remove(&record.partition());
        }
    }

    /// Why the brokers refuse to let this client read `partition`, if they do (librdkafka
    /// reports it once, and fetches again about every second).
    pub fn read_refusal(&self, partition: &PartitionId) -> Option<String> {
        self.read_refused.lock().unwrap_or_else(|e| e.into_inner()).get(partition).cloned()
    }

    /// `offsetsForTimes`: the first offset of `partition` whose timestamp is at or after `time`;
    /// `None` if there is none.
    pub fn offset_for_time(
        &self,
        partition: &PartitionId,
        time: i64,
        timeout: Duration,
    ) -> Result<Option<i64>, String> {
        let mut query = TopicPartitionList::new();
        query
            .add_partition_offset(&partition.topic, partition.partition, Offset::Offset(time))
            .map_err(|e| e.to_string())?;
        let found = self.consumer.offsets_for_times(query, timeout).map_err(|e| e.to_string())?;
        Ok(found.find_partition(&partition.topic, partition.partition).and_then(|e| match e.offset() {
            Offset::Offset(o) => Some(o),
            _ => None,
        }))
    }

    /// The first offset of `partition` still stored (records below it were deleted).
    pub fn log_start(&self, partition: &PartitionId, timeout: Duration) -> Result<i64, String> {
        let (low, _high) = self
            .consumer
            .fetch_watermarks(&partition.topic, partition.partition, timeout)
            .map_err(|e| e.to_string())?;
        Ok(low)
    }

    /// Stops consuming `partition` (its view was reset; a later join assigns it again).
    pub fn unassign(&self, partition: &PartitionId) {
        let mut list = TopicPartitionList::new();
        list.add_partition(&partition.topic, partition.partition);
        let _ = self.consumer.incremental_unassign(&list);
    }

    /// Starts consuming `partition` at `offset`, next to the partitions already assigned.
    pub fn assign(&self, partition: &PartitionId, offset: i64) -> Result<(), String> {
        let mut assignment = TopicPartitionList::new();
        assignment
            .add_partition_offset(&partition.topic, partition.partition, Offset::Offset(offset))
            .map_err(|e| e.to_string())?;
        self.consumer.incremental_assign(&assignment).map_err(|e| e.to_string())
    }

    /// The brokers' partition count of `topic`, if they answer within `timeout`.
    pub fn partition_count(&self, topic: &str, timeout: Duration) -> Option<i32> {
        let metadata = self.consumer.fetch_metadata(Some(topic), timeout).ok()?;
        let found = metadata.topics().iter().find(|t| t.name() == topic && t.error().is_none());
        found.map(|t| t.partitions().len() as i32).filter(|&n| n > 0)
    }

    /// Returns the partition count of `topic`, creating it with LogAppendTime first when it is
    /// missing and `options.create_topic` allows; then checks its configuration
    /// ([`check_topic_config`]).
    pub fn ensure_topic(
        &self,
        settings: &ClientSettings,
        topic: &str,
        options: &LockOptions,
    ) -> LockResult<i32> {
        let partitions = ensure_topic(&self.consumer, &self.watch, settings, topic, options);
        if partitions.is_err() && self.watch.refusal().is_some() {
            self.refused.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        let partitions = partitions?;
        check_topic_config(settings, topic, options)?;
        Ok(partitions)
    }

    /// Waits until every produced record is acknowledged (or failed), at most `timeout`.
    /// librdkafka's own flush polls in 100 ms steps and loses the race with the driver thread's
    /// poll, which made every process exit 100 ms slower; this loop checks every millisecond.
    pub fn flush(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let seen = self.producer_wake.generation();
            self.producer.poll(Duration::ZERO);
            let now = Instant::now();
            if self.producer.in_flight_count() == 0 || now >= deadline {
                return;
            }
            self.producer_wake.wait_change(seen, (deadline - now).min(Duration::from_millis(1)));
        }
    }

    /// Closes the consumer ahead of its destructor: rust-rdkafka's drop waits for the close in
    /// 100 ms poll steps, which made half of the process exits here 100 ms slower.
    pub fn close_consumer(&self, timeout: Duration) {
        if self.consumer.close_queue().is_err() {
            return;
        }
        let deadline = Instant::now() + timeout;
        while !self.consumer.closed() && Instant::now() < deadline {
            let _ = self.consumer.poll(Duration::from_millis(1));
        }
    }
}

/// A consumer error, as far as the session tells them apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsumerError {
    /// A partition's position fell below its log start (`auto.offset.reset=error`): records
    /// were deleted before this consumer read them.
    PositionLost,
    /// The brokers refused to let this client read the partition (no Read ACL on the topic):
    /// librdkafka keeps fetching, but nothing is read until the ACL is granted.
    /// [`Clients::read_refusal`] has the reason.
    ReadRefused(PartitionId),
    /// Anything else (broker down, ...): librdkafka retries by itself.
    Other,
}

/// One consumed record; it keeps librdkafka's event that holds it.
pub struct Consumed<'a> {
    _event: Event,
    message: *const rd::rd_kafka_message_t,
    _clients: PhantomData<&'a Clients>,
}

impl Consumed<'_> {
    fn message(&self) -> &rd::rd_kafka_message_t {
        // SAFETY: the message belongs to `self.event`, which lives as long as `self`.
        unsafe { &*self.message }
    }

    /// A byte range of the message.
    fn bytes(&self, ptr: *mut c_void, len: usize) -> Option<&[u8]> {
        // SAFETY: librdkafka's pointer and length of the key or payload, alive with the event.
        (!ptr.is_null()).then(|| unsafe { std::slice::from_raw_parts(ptr as *const u8, len) })
    }

    /// The record's partition.
    pub fn partition(&self) -> PartitionId {
        // SAFETY: a consumed message has its topic handle.
        let topic = unsafe { text(rd::rd_kafka_topic_name(self.message().rkt)) };
        PartitionId::new(&topic, self.message().partition)
    }

    /// Its offset.
    pub fn offset(&self) -> i64 {
        self.message().offset
    }

    /// The broker's timestamp, `None` unless the broker stamped it (LogAppendTime).
    pub fn log_time(&self) -> Option<i64> {
        let mut kind = rd::rd_kafka_timestamp_type_t::RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
        // SAFETY: the message is live.
        let time = unsafe { rd::rd_kafka_message_timestamp(self.message, &mut kind) };
        (kind == rd::rd_kafka_timestamp_type_t::RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME).then_some(time)
    }

    /// Its key.
    pub fn key(&self) -> Option<&[u8]> {
        self.bytes(self.message().key, self.message().key_len)
    }

    /// Its value.
    pub fn value(&self) -> Option<&[u8]> {
        self.bytes(self.message().payload, self.message().len)
    }
}

fn base_config(settings: &ClientSettings) -> ClientConfig {
    let mut config = ClientConfig::new();
    // librdkafka waits reconnect.backoff.ms / 2 (50 ms by default) before it connects to the
    // brokers it learned from the bootstrap metadata: that was 50 ms of every cold start here.
    // A user's own value (a pass-through option) still wins.
    config.set("reconnect.backoff.ms", "20");
    // librdkafka's default cap of 10 s between reconnects left partitions unread for 10-50 s
    // after a broker restart (found by the chaos suite's restart scenario); 1 s keeps recovery
    // within about a second of the broker's return.
    config.set("reconnect.backoff.max.ms", "1000");
    for (k, v) in &settings.properties {
        config.set(k, v);
    }
    config
}

fn config_error(e: KafkaError) -> LockError {
    match e {
        // librdkafka's description already names the property and the value.
        KafkaError::ClientConfig(_, description, _, _) => {
            LockError::Config(format!("invalid librdkafka option: {}", description.trim()))
        }
        KafkaError::ClientCreation(msg) => LockError::Config(format!("invalid librdkafka option: {msg}")),
        other => LockError::Config(format!("invalid librdkafka option: {other}")),
    }
}

/// Creates the idempotent, acks=all producer. `operation_timeout` bounds how long a record may
/// be retried before its delivery fails.
fn create_producer(
    settings: &ClientSettings,
    operation_timeout: Duration,
    watch: &Arc<ConnectionWatch>,
) -> LockResult<LockProducer> {
    let mut config = base_config(settings);
    config
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "0")
        .set("allow.auto.create.topics", "false")
        .set("message.timeout.ms", operation_timeout.as_millis().max(1).to_string());
    let producer: LockProducer =
        config.create_with_context(SessionContext::new(watch)).map_err(config_error)?;
    Ok(producer)
}

/// Creates the consumer: no group (the session assigns partitions itself), no commits, and
/// a short fetch wait so a newly assigned partition is fetched promptly. Its log goes to the
/// watch from level Info on: a connection the brokers close while it is set up is logged at
/// that level, not reported as an error.
fn create_consumer(
    settings: &ClientSettings,
    watch: &Arc<ConnectionWatch>,
) -> LockResult<BaseConsumer<SessionContext>> {
    let mut config = base_config(settings);
    config.set_log_level(RDKafkaLogLevel::Info);
    config
        .set("group.id", "kafka_lock-unused")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "false")
        // Never skip silently: a position below the log start (history deleted under a
        // consumer) is an error the session answers by resetting the partition's view.
        .set("auto.offset.reset", "error")
        .set("fetch.wait.max.ms", "20")
        .set("fetch.error.backoff.ms", "50")
        .set("allow.auto.create.topics", "false");
    config.create_with_context(SessionContext::new(watch)).map_err(config_error)
}

/// Asks the brokers for the metadata of `topic`, at most `timeout`. Refused connections end it
/// at once: librdkafka reports them on the side (to the watch) while its metadata call waits
/// for a broker that is up until the time-out, so the call is made in steps, each as long as
/// the time spent so far (at least 100 ms: a reply slower than a step is not cut off for long),
/// and the watch is read between them.
fn fetch_metadata(
    consumer: &BaseConsumer<SessionContext>,
    watch: &ConnectionWatch,
    brokers: &str,
    topic: &str,
    timeout: Duration,
) -> LockResult<Metadata> {
    const FIRST_STEP: Duration = Duration::from_millis(100);
    let start = Instant::now();
    loop {
        let elapsed = start.elapsed();
        let step = elapsed.max(FIRST_STEP).min(timeout.saturating_sub(elapsed));
        // Whole milliseconds (librdkafka's unit), rounded up: the last step ends at the time-out,
        // not before it.
        let step = Duration::from_millis(step.as_micros().div_ceil(1000) as u64);
        let error = match consumer.fetch_metadata(Some(topic), step) {
            Ok(metadata) => {
                watch.answered();
                return Ok(metadata);
            }
            Err(e) => e,
        };
        if let Some(refusal) = watch.refusal() {
            return Err(refusal.error(brokers));
        }
        // No broker up within the step, or the request lost with its connection: again.
        let again = matches!(
            error.rdkafka_error_code(),
            Some(RDKafkaErrorCode::BrokerTransportFailure | RDKafkaErrorCode::OperationTimedOut)
        );
        let took = start.elapsed();
        let timed_out = took >= timeout;
        if again && !timed_out {
            continue;
        }
        let last =
            watch.last_failure().map(|f| format!("; last connection failure: {f}")).unwrap_or_default();
        return Err(LockError::Connection(if timed_out {
            format!(
                "cannot reach the Kafka brokers at {brokers} within {:.1} s: {error}{last}",
                timeout.as_secs_f64()
            )
        } else {
            format!(
                "no metadata from the Kafka brokers at {brokers} (after {:.1} s): {error}{last}",
                took.as_secs_f64()
            )
        }));
    }
}

/// Returns the partition count of `topic`, creating it with LogAppendTime first when it is
/// missing and `options.create_topic` allows.
fn ensure_topic(
    consumer: &BaseConsumer<SessionContext>,
    watch: &ConnectionWatch,
    settings: &ClientSettings,
    topic: &str,
    options: &LockOptions,
) -> LockResult<i32> {
    let brokers = settings.brokers();
    let metadata = fetch_metadata(consumer, watch, brokers, topic, options.connect_timeout)?;
    let missing = match metadata.topics().iter().find(|t| t.name() == topic) {
        Some(t) => match t.error() {
            None if !t.partitions().is_empty() => return Ok(t.partitions().len() as i32),
            None => true,
            Some(e) if RDKafkaErrorCode::from(e) == RDKafkaErrorCode::UnknownTopicOrPartition => true,
            Some(e) => {
                return Err(LockError::Topic(format!(
                    "topic '{topic}' cannot be used: {}",
                    RDKafkaErrorCode::from(e)
                )))
            }
        },
        None => true,
    };
    debug_assert!(missing);
    if !options.create_topic {
        return Err(LockError::Topic(format!(
            "topic '{topic}' does not exist and lock.create_topic is off; create it with \
             message.timestamp.type=LogAppendTime"
        )));
    }
    create_topic(settings, topic, options)?;
    // The controller has the topic now; wait until the broker we talk to knows it too.
    let deadline = Instant::now() + options.operation_timeout;
    loop {
        let md = fetch_metadata(consumer, watch, brokers, topic, options.operation_timeout)?;
        if let Some(t) = md.topics().iter().find(|t| t.name() == topic && t.error().is_none()) {
            if !t.partitions().is_empty() && t.partitions().iter().all(|p| p.leader() >= 0) {
                return Ok(t.partitions().len() as i32);
            }
        }
        if Instant::now() >= deadline {
            return Err(LockError::Connection(format!(
                "topic '{topic}' was created but its partitions have no leader after {:.1} s",
                options.operation_timeout.as_secs_f64()
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Refuses a topic whose configuration breaks the lock's assumptions, with the fix in the
/// message (DescribeConfigs):
/// - `cleanup.policy` with `compact`: compaction deletes records from the middle of the log,
///   where a joining process cannot notice (deletion of a prefix it can, see the protocol);
/// - `retention.ms` below the join window: every join would find its window cut short and wait
///   a window's worth of log time before trusting a grant;
/// - `message.timestamp.type=CreateTime`: expiry needs the broker's clock.
fn check_topic_config(settings: &ClientSettings, topic: &str, options: &LockOptions) -> LockResult<()> {
    let admin = admin_client(settings)?;
    let admin_options = AdminOptions::new().request_timeout(Some(options.operation_timeout));
    let fix = |setting: &str| {
        format!(
            "Fix: kafka-configs.sh --bootstrap-server <brokers> --alter --entity-type topics \
             --entity-name {topic} --add-config {setting}"
        )
    };
    let described = futures_executor::block_on(
        admin.describe_configs([&ResourceSpecifier::Topic(topic)], &admin_options),
    )
    .map_err(|e| LockError::Connection(format!("cannot read the configuration of topic '{topic}': {e}")))?;
    let config = match described.into_iter().next() {
        Some(Ok(config)) => config,
        Some(Err(code)) => {
            return Err(LockError::Topic(format!(
                "cannot read the configuration of topic '{topic}' ({code}); the lock must check its \
                 cleanup.policy and retention.ms. Grant DescribeConfigs on the topic to this client"
            )))
        }
        None => return Err(LockError::Connection(format!("no configuration returned for topic '{topic}'"))),
    };
    let value = |name: &str| config.get(name).and_then(|e| e.value.clone()).unwrap_or_default();
    let policy = value("cleanup.policy");
    if policy.split(',').any(|p| p.trim() == "compact") {
        return Err(LockError::Topic(format!(
            "topic '{topic}' has cleanup.policy={policy}: compaction removes records from the middle \
             of the log, so a process joining later could miss a live lock. Lock topics need \
             cleanup.policy=delete. {}",
            fix("cleanup.policy=delete")
        )));
    }
    let window = crate::protocol::JOIN_WINDOW_MS;
    if let Ok(retention) = value("retention.ms").parse::<i64>() {
        if (0..window).contains(&retention) {
            return Err(LockError::Topic(format!(
                "topic '{topic}' keeps records for retention.ms={retention}, less than the {window} ms \
                 a joining process reads back (the longest lease plus a margin): every process would \
                 wait {window} ms of log time before trusting a grant. {}",
                fix("retention.ms=604800000")
            )));
        }
    }
    if value("message.timestamp.type") == "CreateTime" {
        return Err(create_time_error(topic));
    }
    Ok(())
}

/// The error for a topic whose records carry the producer's clock.
pub fn create_time_error(topic: &str) -> LockError {
    LockError::Topic(format!(
        "topic '{topic}' stamps records with the producer's clock (CreateTime); the lock needs \
         broker time. Fix: kafka-configs.sh --bootstrap-server <brokers> --alter --entity-type \
         topics --entity-name {topic} --add-config message.timestamp.type=LogAppendTime"
    ))
}

fn admin_client(settings: &ClientSettings) -> LockResult<AdminClient<DefaultClientContext>> {
    base_config(settings).create().map_err(config_error)
}

fn create_topic(settings: &ClientSettings, topic: &str, options: &LockOptions) -> LockResult<()> {
    let admin = admin_client(settings)?;
    let new_topic =
        NewTopic::new(topic, options.partitions, TopicReplication::Fixed(options.replication_factor))
            .set("message.timestamp.type", "LogAppendTime")
            .set("cleanup.policy", "delete")
            // Kafka's own default (7 days), written down: far above the join window.
            .set("retention.ms", "604800000");
    let admin_options = AdminOptions::new().operation_timeout(Some(options.operation_timeout));
    let results = futures_executor::block_on(admin.create_topics([&new_topic], &admin_options))
        .map_err(|e| LockError::Connection(format!("cannot create topic '{topic}': {e}")))?;
    for result in results {
        match result {
            Ok(_) => {}
            // Another process created it at the same time: fine, it will be checked on use.
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((_, code)) => {
                return Err(LockError::Topic(format!(
                    "cannot create topic '{topic}' (partitions {}, replication factor {}): {code}",
                    options.partitions, options.replication_factor
                )))
            }
        }
    }
    Ok(())
}

/// The librdkafka version string, for phpinfo().
pub fn librdkafka_version() -> String {
    rdkafka::util::get_rdkafka_version().1
}
