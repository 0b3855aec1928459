//! Every librdkafka call of the extension: the clients of one session (an idempotent
//! producer, an assign-only consumer), producing what the client core hands out, the join's
//! lookups, and the topic check (exists, or is created with LogAppendTime).

use std::ffi::c_void;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, DeliveryResult, Message, Timestamp};
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

/// The producer's context: collects the delivery reports the client core asked for, to be
/// handed to it by whichever thread next holds the core (the reports are served by any
/// thread that polls the producer).
pub struct DeliveryContext {
    reports: Mutex<Vec<Report>>,
}

impl ClientContext for DeliveryContext {}

impl ProducerContext for DeliveryContext {
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
            Err((e, _)) => Err(e.to_string()),
        };
        self.reports.lock().unwrap_or_else(|e| e.into_inner()).push((id, outcome));
    }
}

/// The producer type of a session. No polling thread of its own: the driver thread serves its
/// delivery reports, and a caller waiting for one polls it (rust-rdkafka's ThreadedProducer
/// polls every 100 ms, which made every flush at process exit take 100 ms).
pub type LockProducer = BaseProducer<DeliveryContext>;

/// The Kafka clients of one session and the wake-ups their queues signal.
/// Fields drop in order: the consumer first (destroying the producer first made every process
/// exit 100 ms slower), the wake-ups last (librdkafka's callbacks point at them).
pub struct Clients {
    consumer: BaseConsumer,
    producer: LockProducer,
    /// The driver sleeps on it: records and consumer errors.
    consumer_wake: Arc<Wakeup>,
    /// Threads waiting for a delivery report sleep on it. Kept apart from the driver's: a
    /// shared one woke the driver for every acknowledgement, and it then took reports the PHP
    /// thread was waiting for (measured: release p50 0.19 -> 0.30 ms).
    producer_wake: Arc<Wakeup>,
}

impl Clients {
    /// Creates the idempotent, acks=all producer and the assign-only consumer. No network
    /// round trip yet. `operation_timeout` bounds how long a record may be retried.
    pub fn connect(settings: &ClientSettings, operation_timeout: Duration) -> LockResult<Clients> {
        let producer = create_producer(settings, operation_timeout)?;
        let consumer = create_consumer(settings)?;
        let consumer_wake = Arc::new(Wakeup::default());
        let producer_wake = Arc::new(Wakeup::default());
        // SAFETY: the wake-ups are kept in the same struct and dropped after both clients.
        unsafe {
            notify_on_queue(producer.client().native_ptr(), false, Arc::as_ptr(&producer_wake));
            notify_on_queue(consumer.client().native_ptr(), true, Arc::as_ptr(&consumer_wake));
        }
        Ok(Clients { consumer, producer, consumer_wake, producer_wake })
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
        self.producer.send(record).map_err(|(e, _)| e.to_string())
    }

    /// Serves the producer's delivery callbacks and returns the reports collected so far.
    pub fn take_reports(&self) -> Vec<Report> {
        self.producer.poll(Duration::ZERO);
        std::mem::take(&mut *self.producer.context().reports.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The next consumed record or consumer error, without blocking.
    pub fn poll_record(&self) -> Option<Result<Consumed<'_>, ConsumerError>> {
        self.consumer.poll(Duration::ZERO).map(|r| {
            r.map(Consumed).map_err(|e| match e.rdkafka_error_code() {
                Some(RDKafkaErrorCode::AutoOffsetReset) => ConsumerError::PositionLost,
                _ => ConsumerError::Other,
            })
        })
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
        let partitions = ensure_topic(&self.consumer, settings, topic, options)?;
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsumerError {
    /// A partition's position fell below its log start (`auto.offset.reset=error`): records
    /// were deleted before this consumer read them. librdkafka does not say which partition.
    PositionLost,
    /// Anything else (broker down, ...): librdkafka retries by itself.
    Other,
}

/// One consumed record.
pub struct Consumed<'a>(BorrowedMessage<'a>);

impl Consumed<'_> {
    /// The record's partition.
    pub fn partition(&self) -> PartitionId {
        PartitionId::new(self.0.topic(), self.0.partition())
    }

    /// Its offset.
    pub fn offset(&self) -> i64 {
        self.0.offset()
    }

    /// The broker's timestamp, `None` unless the broker stamped it (LogAppendTime).
    pub fn log_time(&self) -> Option<i64> {
        match self.0.timestamp() {
            Timestamp::LogAppendTime(t) => Some(t),
            _ => None,
        }
    }

    /// Its key.
    pub fn key(&self) -> Option<&[u8]> {
        self.0.key()
    }

    /// Its value.
    pub fn value(&self) -> Option<&[u8]> {
        self.0.payload()
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
fn create_producer(settings: &ClientSettings, operation_timeout: Duration) -> LockResult<LockProducer> {
    let mut config = base_config(settings);
    config
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "0")
        .set("allow.auto.create.topics", "false")
        .set("message.timeout.ms", operation_timeout.as_millis().max(1).to_string());
    let context = DeliveryContext { reports: Mutex::new(Vec::new()) };
    let producer: LockProducer = config.create_with_context(context).map_err(config_error)?;
    Ok(producer)
}

/// Creates the consumer: no group (the session assigns partitions itself), no commits, and
/// a short fetch wait so a newly assigned partition is fetched promptly.
fn create_consumer(settings: &ClientSettings) -> LockResult<BaseConsumer> {
    let mut config = base_config(settings);
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
    config.create().map_err(config_error)
}

/// Returns the partition count of `topic`, creating it with LogAppendTime first when it is
/// missing and `options.create_topic` allows.
fn ensure_topic(
    consumer: &BaseConsumer,
    settings: &ClientSettings,
    topic: &str,
    options: &LockOptions,
) -> LockResult<i32> {
    let unreachable = |e: KafkaError| {
        LockError::Connection(format!(
            "cannot reach the Kafka brokers at {} within {:.1} s: {e}",
            settings.brokers(),
            options.connect_timeout.as_secs_f64()
        ))
    };
    let metadata = consumer.fetch_metadata(Some(topic), options.connect_timeout).map_err(unreachable)?;
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
        let md = consumer.fetch_metadata(Some(topic), options.operation_timeout).map_err(unreachable)?;
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
