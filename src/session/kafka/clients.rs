//! The clients of one session and every call the session makes on them.

use std::collections::HashMap;
use std::ffi::c_void;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::bindings as rd;
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};

use crate::protocol::{PartitionId, Placement, Transmit, TransmitId};

use super::{context::*, refusals::*, topic::*, wake::*};
use crate::session::error::{LockError, LockResult};
use crate::session::options::{ClientSettings, LockOptions};

/// The delivery opaque of a record: the transmit id whose report the client core wants, or
/// none (no report needed). Carried as an integer, so no allocation per record.
pub struct ReportTag(pub(super) Option<TransmitId>);

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

/// The Kafka clients of one session and the wake-ups their queues signal.
/// Fields drop in order: the consumer's queue handle before the consumer (librdkafka's
/// destroy waits for every queue handle), the consumer first (destroying the producer first
/// made every process exit 100 ms slower), the wake-ups last (librdkafka's callbacks point at
/// them).
pub struct Clients {
    queue: ConsumerQueue,
    consumer: BaseConsumer<SessionContext>,
    /// Reads single records ([`Clients::read_at`]); made at its first use, since most
    /// sessions never need one (each consumer is connections and threads).
    lookup: Mutex<Option<BaseConsumer<SessionContext>>>,
    /// For making `lookup`.
    settings: ClientSettings,
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

impl Clients {
    /// Creates the idempotent, acks=all producer and the assign-only consumer. No network
    /// round trip yet. `operation_timeout` bounds how long a record may be retried.
    pub fn connect(settings: &ClientSettings, operation_timeout: Duration) -> LockResult<Clients> {
        #[cfg(fork_guarded_lookups)]
        super::fork_guard::install();
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
        let producer_wake = Arc::new(Wakeup::chained_to(consumer_wake.clone()));
        // SAFETY: the wake-ups are kept in the same struct and dropped after both clients.
        unsafe {
            notify_on_queue(producer.client().native_ptr(), false, Arc::as_ptr(&producer_wake));
            notify_on_queue(consumer.client().native_ptr(), true, Arc::as_ptr(&consumer_wake));
        }
        Ok(Clients {
            queue,
            consumer,
            lookup: Mutex::new(None),
            settings: settings.clone(),
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
        self.refused.load(std::sync::atomic::Ordering::Relaxed) || self.producer_failed()
    }

    /// Whether the producer failed for good, without the cause's text: cheap enough for every
    /// turn of the driver's loop.
    pub(crate) fn producer_failed(&self) -> bool {
        // SAFETY: the producer is live; a null buffer of length 0 asks for the code only.
        let code =
            unsafe { rd::rd_kafka_fatal_error(self.producer.client().native_ptr(), std::ptr::null_mut(), 0) };
        code != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR
    }

    /// Makes librdkafka fail the producer for good, as a broker refusing an idempotent
    /// producer's sequence would: for tests of what the session does then.
    #[doc(hidden)]
    pub fn fail_producer_for_test(&self) {
        let reason = std::ffi::CString::new("injected by a test").expect("no NUL");
        // SAFETY: the producer is live; librdkafka copies the reason.
        unsafe {
            rd::rd_kafka_test_fatal_error(
                self.producer.client().native_ptr(),
                rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                reason.as_ptr(),
            );
        }
    }

    /// The producer's fatal error, with what to grant when it is an authorization.
    pub(crate) fn producer_fatal(&self) -> Option<String> {
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
    pub(super) fn produce_error(&self, code: Option<RDKafkaErrorCode>, message: String) -> String {
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
    pub(super) fn consumer_error(
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
    pub(super) fn readable(&self, record: &Consumed<'_>) {
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
        let found = retry_transient(timeout, |left| self.consumer.offsets_for_times(query.clone(), left))
            .map_err(|e| e.to_string())?;
        Ok(found.find_partition(&partition.topic, partition.partition).and_then(|e| match e.offset() {
            Offset::Offset(o) => Some(o),
            _ => None,
        }))
    }

    /// The first offset of `partition` still stored (records below it were deleted).
    pub fn log_start(&self, partition: &PartitionId, timeout: Duration) -> Result<i64, String> {
        let (low, _high) = retry_transient(timeout, |left| {
            self.consumer.fetch_watermarks(&partition.topic, partition.partition, left)
        })
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

    /// What the brokers say of `topic` within `timeout`; `None` if they do not answer.
    pub fn topic_state(&self, topic: &str, timeout: Duration) -> Option<TopicState> {
        let metadata = self.consumer.fetch_metadata(Some(topic), timeout).ok()?;
        let found = metadata.topics().iter().find(|t| t.name() == topic)?;
        match found.error().map(RDKafkaErrorCode::from) {
            None => Some(found.partitions().len() as i32).filter(|&n| n > 0).map(TopicState::Partitions),
            Some(RDKafkaErrorCode::UnknownTopicOrPartition) => Some(TopicState::Unknown),
            Some(_) => None,
        }
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
        check_topic_config(&self.consumer, topic, options)?;
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

    /// Closes the consumers ahead of their destructors: rust-rdkafka's drop waits for the
    /// close in 100 ms poll steps, which made half of the process exits here 100 ms slower.
    pub fn close_consumer(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let lookup = self.lookup.lock().unwrap_or_else(|e| e.into_inner());
        for consumer in std::iter::once(&self.consumer).chain(lookup.as_ref()) {
            if consumer.close_queue().is_err() {
                continue;
            }
            while !consumer.closed() && Instant::now() < deadline {
                let _ = consumer.poll(Duration::from_millis(1));
            }
        }
    }

    /// The first record of `partition` at or after `offset` (above it only when the record at
    /// `offset` is not there), read by a consumer of its own so the session's position is not
    /// disturbed. `Ok(None)`: `offset` lies below the log start (deleted). Gives up with the
    /// last error after `timeout`, or at once when `stop` is set.
    pub fn read_at(
        &self,
        partition: &PartitionId,
        offset: i64,
        timeout: Duration,
        stop: &std::sync::atomic::AtomicBool,
    ) -> Result<Option<StoredRecord>, String> {
        let deadline = Instant::now() + timeout;
        if offset < self.log_start(partition, timeout)? {
            return Ok(None);
        }
        let mut lookup = self.lookup.lock().unwrap_or_else(|e| e.into_inner());
        if lookup.is_none() {
            *lookup = Some(create_consumer(&self.settings, &self.watch).map_err(|e| e.to_string())?);
        }
        let consumer = lookup.as_ref().expect("made above");
        let mut assignment = TopicPartitionList::new();
        assignment
            .add_partition_offset(&partition.topic, partition.partition, Offset::Offset(offset))
            .map_err(|e| e.to_string())?;
        consumer.assign(&assignment).map_err(|e| e.to_string())?;
        let mut last_error = String::from("no answer from the brokers");
        let found = loop {
            let now = Instant::now();
            if now >= deadline || stop.load(std::sync::atomic::Ordering::SeqCst) {
                break Err(last_error);
            }
            match consumer.poll((deadline - now).min(Duration::from_millis(100))) {
                None => {}
                Some(Ok(message)) => {
                    use rdkafka::Message;
                    if message.topic() == &*partition.topic && message.partition() == partition.partition {
                        break Ok(Some(StoredRecord {
                            offset: message.offset(),
                            key: message.key().map(<[u8]>::to_vec),
                            value: message.payload().map(<[u8]>::to_vec),
                        }));
                    }
                }
                // Deleted after the log start was asked for.
                Some(Err(KafkaError::MessageConsumption(
                    RDKafkaErrorCode::AutoOffsetReset | RDKafkaErrorCode::OffsetOutOfRange,
                ))) => break Ok(None),
                Some(Err(e)) => last_error = e.to_string(),
            }
        };
        let _ = consumer.unassign();
        found
    }
}

/// A record read by [`Clients::read_at`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    /// Its offset.
    pub offset: i64,
    /// Its key.
    pub key: Option<Vec<u8>>,
    /// Its value.
    pub value: Option<Vec<u8>>,
}

/// A topic in the brokers' metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicState {
    /// It exists with this many partitions.
    Partitions(i32),
    /// The brokers do not know it (deleted).
    Unknown,
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
    pub(super) fn message(&self) -> &rd::rd_kafka_message_t {
        // SAFETY: the message belongs to `self.event`, which lives as long as `self`.
        unsafe { &*self.message }
    }

    /// A byte range of the message.
    pub(super) fn bytes(&self, ptr: *mut c_void, len: usize) -> Option<&[u8]> {
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

pub(super) fn base_config(settings: &ClientSettings) -> ClientConfig {
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

pub(super) fn config_error(e: KafkaError) -> LockError {
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
pub(super) fn create_producer(
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
pub(super) fn create_consumer(
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

/// The librdkafka version string, for phpinfo().
pub fn librdkafka_version() -> String {
    rdkafka::util::get_rdkafka_version().1
}

/// Pause between two tries of a lookup that failed for a passing reason.
const LOOKUP_RETRY_BACKOFF: Duration = Duration::from_millis(50);

/// Runs a lookup again while it fails for a passing reason (a leader moving or coming back,
/// a request timing out), until `timeout` is spent: after a broker restart the first answers
/// are often "not leader", and a join must not fail on them.
fn retry_transient<T>(
    timeout: Duration,
    lookup: impl FnMut(Duration) -> Result<T, KafkaError>,
) -> Result<T, KafkaError> {
    retry_while(timeout, transient, lookup)
}

/// Runs `lookup` (given the time left) again while it fails with an error `passing` says will
/// pass, until `timeout` is spent.
pub(super) fn retry_while<T, E>(
    timeout: Duration,
    passing: impl Fn(&E) -> bool,
    mut lookup: impl FnMut(Duration) -> Result<T, E>,
) -> Result<T, E> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lookup(left) {
            Err(e) if passing(&e) && left > LOOKUP_RETRY_BACKOFF => std::thread::sleep(LOOKUP_RETRY_BACKOFF),
            result => return result,
        }
    }
}

fn transient(e: &KafkaError) -> bool {
    use RDKafkaErrorCode::*;
    matches!(
        e.rdkafka_error_code(),
        Some(
            NotLeaderForPartition
                | LeaderNotAvailable
                | FencedLeaderEpoch
                | UnknownLeaderEpoch
                | OffsetNotAvailable
                | ReplicaNotAvailable
                | RequestTimedOut
                | NetworkException
                | KafkaStorageError
                | BrokerTransportFailure
                | AllBrokersDown
                | OperationTimedOut
                // A lookup in flight on a broker handle librdkafka retires (the bootstrap
                // handle once the broker's own is known, seen after a broker resumed).
                | DestroyBroker
                // A topic created again after a deletion: the cached metadata still says
                // it is gone for a moment (the session checked that it exists before joining).
                | UnknownPartition
                | UnknownTopicOrPartition
                | UnknownTopic
        )
    )
}
