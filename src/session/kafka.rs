//! librdkafka clients of one session: an idempotent producer, an assign-only consumer, and
//! the topic check (exists, or is created with LogAppendTime).

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{DeliveryResult, Message, Timestamp};
use rdkafka::producer::{BaseProducer, Producer, ProducerContext};

use crate::session::error::{LockError, LockResult};
use crate::session::options::{ClientSettings, LockOptions};

/// Where the broker put one record, as its delivery report says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// Partition of the record.
    pub partition: i32,
    /// Offset of the record.
    pub offset: i64,
    /// The record's timestamp and whether the broker stamped it.
    pub timestamp: Timestamp,
}

/// A slot the producer's delivery callback fills in, for the one record whose placement a
/// caller waits for (the first record of a partition: joining starts from its timestamp).
#[derive(Default)]
pub struct DeliverySlot {
    result: Mutex<Option<Result<Placement, String>>>,
}

impl DeliverySlot {
    /// The delivery report, if it has come.
    pub fn outcome(&self) -> Option<Result<Placement, String>> {
        self.result.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Waits for the delivery report, at most `timeout`, serving the producer's events meanwhile
    /// (the report may be handed to this thread or to the driver's poll: both fill the slot).
    ///
    /// rust-rdkafka's `BaseProducer::poll(t)` always blocks for all of `t`, even after it served
    /// a report (and spins through its last millisecond), so this never polls with a time-out:
    /// it serves what is queued with `poll(0)` and sleeps until librdkafka says the producer's
    /// queue has something new ([`Wakeup`]), at most 1 ms at a time.
    pub fn wait(&self, producer: &LockProducer, timeout: Duration) -> Option<Result<Placement, String>> {
        let deadline = Instant::now() + timeout;
        let wake = &producer.context().wake;
        loop {
            let seen = wake.generation();
            producer.poll(Duration::ZERO);
            if let Some(result) = self.result.lock().unwrap_or_else(|e| e.into_inner()).clone() {
                return Some(result);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            wake.wait_change(seen, (deadline - now).min(Duration::from_millis(1)));
        }
    }
}

/// Signalled by librdkafka (from its own thread) when a client's event queue goes from
/// empty to non-empty: lets a thread wait for a delivery report without polling with a time-out.
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

    /// Wakes every waiter (librdkafka's queue callback, or a thread that stops the driver).
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

/// Makes librdkafka notify `wake` whenever the consumer's queue gets a record or an event, so the
/// driver can sleep on a condition variable (which a stopping session can also signal) instead
/// of in `BaseConsumer::poll`, which cannot be interrupted. `wake` must outlive the consumer.
pub fn wake_on_consumer_events(consumer: &BaseConsumer, wake: &Arc<Wakeup>) {
    // SAFETY: the queue handle is released at once; `wake` outlives the consumer (the caller
    // keeps the Arc in the same struct, dropped after it).
    unsafe {
        let queue = rdkafka::bindings::rd_kafka_queue_get_consumer(consumer.client().native_ptr());
        if queue.is_null() {
            return;
        }
        rdkafka::bindings::rd_kafka_queue_cb_event_enable(
            queue,
            Some(queue_nonempty),
            Arc::as_ptr(wake) as *mut std::ffi::c_void,
        );
        rdkafka::bindings::rd_kafka_queue_destroy(queue);
    }
}

unsafe extern "C" fn queue_nonempty(_: *mut rdkafka::bindings::rd_kafka_t, opaque: *mut std::ffi::c_void) {
    // SAFETY: `opaque` is the `Wakeup` inside the producer's context, which lives as long as
    // the librdkafka handle that calls this.
    let wake = unsafe { &*(opaque as *const Wakeup) };
    wake.notify();
}

/// The delivery opaque of a record: a slot to fill, or none (no allocation for renewals).
pub struct SlotRef(pub Option<Arc<DeliverySlot>>);

impl rdkafka::util::IntoOpaque for SlotRef {
    fn into_ptr(self) -> *mut std::ffi::c_void {
        self.0.map_or(std::ptr::null_mut(), |slot| Arc::into_raw(slot) as *mut std::ffi::c_void)
    }

    unsafe fn from_ptr(ptr: *mut std::ffi::c_void) -> Self {
        // SAFETY: `ptr` came from `into_ptr` and librdkafka hands it back exactly once.
        SlotRef((!ptr.is_null()).then(|| unsafe { Arc::from_raw(ptr as *const DeliverySlot) }))
    }
}

/// Delivery callback: fills waiting slots; other records need no report (the protocol learns
/// everything it trusts by consuming).
#[derive(Default)]
pub struct DeliveryContext {
    wake: Wakeup,
}

impl ClientContext for DeliveryContext {}

impl ProducerContext for DeliveryContext {
    type DeliveryOpaque = SlotRef;

    fn delivery(&self, result: &DeliveryResult<'_>, slot: Self::DeliveryOpaque) {
        let Some(slot) = slot.0 else { return };
        let outcome = match result {
            Ok(m) => Ok(Placement { partition: m.partition(), offset: m.offset(), timestamp: m.timestamp() }),
            Err((e, _)) => Err(e.to_string()),
        };
        *slot.result.lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome);
    }
}

/// The producer type of a session. No polling thread of its own: the driver thread serves its
/// delivery reports, and a caller waiting for one polls it (rust-rdkafka's ThreadedProducer
/// polls every 100 ms, which made every flush at process exit take 100 ms).
pub type LockProducer = BaseProducer<DeliveryContext>;

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
        KafkaError::ClientConfig(_, description, _, _) => LockError::Config(format!("invalid librdkafka option: {}", description.trim())),
        KafkaError::ClientCreation(msg) => LockError::Config(format!("invalid librdkafka option: {msg}")),
        other => LockError::Config(format!("invalid librdkafka option: {other}")),
    }
}

/// Creates the idempotent, acks=all producer. `operation_timeout` bounds how long a record may
/// be retried before its delivery fails.
pub fn create_producer(settings: &ClientSettings, operation_timeout: Duration) -> LockResult<LockProducer> {
    let mut config = base_config(settings);
    config
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "0")
        .set("allow.auto.create.topics", "false")
        .set("message.timeout.ms", operation_timeout.as_millis().max(1).to_string());
    let producer: LockProducer = config.create_with_context(DeliveryContext::default()).map_err(config_error)?;
    // SAFETY: the main queue handle is only used here and released at once; the callback's
    // opaque points into the producer's context, which outlives the librdkafka handle.
    unsafe {
        let queue = rdkafka::bindings::rd_kafka_queue_get_main(producer.client().native_ptr());
        rdkafka::bindings::rd_kafka_queue_cb_event_enable(
            queue,
            Some(queue_nonempty),
            &producer.context().wake as *const Wakeup as *mut std::ffi::c_void,
        );
        rdkafka::bindings::rd_kafka_queue_destroy(queue);
    }
    Ok(producer)
}

/// Creates the consumer: no group (the session assigns partitions itself), no commits, and
/// a short fetch wait so a newly assigned partition is fetched promptly.
pub fn create_consumer(settings: &ClientSettings) -> LockResult<BaseConsumer> {
    let mut config = base_config(settings);
    config
        .set("group.id", "kafka_lock-unused")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "false")
        .set("auto.offset.reset", "earliest")
        .set("fetch.wait.max.ms", "20")
        .set("fetch.error.backoff.ms", "50")
        .set("allow.auto.create.topics", "false");
    config.create().map_err(config_error)
}

/// Waits until every produced record is acknowledged (or failed), at most `timeout`.
/// librdkafka's own flush polls in 100 ms steps and loses the race with the driver thread's
/// poll, which made every process exit 100 ms slower; this loop checks every millisecond.
pub fn flush(producer: &LockProducer, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    let wake = &producer.context().wake;
    loop {
        let seen = wake.generation();
        producer.poll(Duration::ZERO);
        let now = Instant::now();
        if producer.in_flight_count() == 0 || now >= deadline {
            return;
        }
        wake.wait_change(seen, (deadline - now).min(Duration::from_millis(1)));
    }
}

/// Closes the consumer ahead of its destructor: rust-rdkafka's drop waits for the close in
/// 100 ms poll steps, which made half of the process exits here 100 ms slower.
pub fn close_consumer(consumer: &BaseConsumer, timeout: Duration) {
    if consumer.close_queue().is_err() {
        return;
    }
    let deadline = Instant::now() + timeout;
    while !consumer.closed() && Instant::now() < deadline {
        let _ = consumer.poll(Duration::from_millis(1));
    }
}

/// Returns the partition count of `topic`, creating it with LogAppendTime first when it is
/// missing and `options.create_topic` allows.
pub fn ensure_topic(
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

fn create_topic(settings: &ClientSettings, topic: &str, options: &LockOptions) -> LockResult<()> {
    let admin: AdminClient<DefaultClientContext> = base_config(settings).create().map_err(config_error)?;
    let new_topic = NewTopic::new(topic, options.partitions, TopicReplication::Fixed(options.replication_factor))
        .set("message.timestamp.type", "LogAppendTime")
        .set("cleanup.policy", "delete");
    let admin_options = AdminOptions::new().operation_timeout(Some(options.operation_timeout));
    let results = futures_executor::block_on(admin.create_topics([&new_topic], &admin_options)).map_err(|e| {
        LockError::Connection(format!("cannot create topic '{topic}': {e}"))
    })?;
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
