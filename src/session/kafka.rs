//! librdkafka clients of one session: an idempotent producer, an assign-only consumer, and
//! the topic check (exists, or is created with LogAppendTime).

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::BaseConsumer;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{DeliveryResult, Message, Timestamp};
use rdkafka::producer::{ProducerContext, ThreadedProducer};

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
    filled: Condvar,
}

impl DeliverySlot {
    /// Waits for the delivery report, at most `timeout`.
    pub fn wait(&self, timeout: Duration) -> Option<Result<Placement, String>> {
        let guard = self.result.lock().unwrap_or_else(|e| e.into_inner());
        let (guard, _) = self
            .filled
            .wait_timeout_while(guard, timeout, |r| r.is_none())
            .unwrap_or_else(|e| e.into_inner());
        guard.clone()
    }
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
pub struct DeliveryContext;

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
        slot.filled.notify_all();
    }
}

/// The producer type of a session.
pub type LockProducer = ThreadedProducer<DeliveryContext>;

fn base_config(settings: &ClientSettings) -> ClientConfig {
    let mut config = ClientConfig::new();
    for (k, v) in &settings.properties {
        config.set(k, v);
    }
    config
}

fn config_error(e: KafkaError) -> LockError {
    match e {
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
    config.create_with_context(DeliveryContext).map_err(config_error)
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

/// Returns the partition count of `topic`, creating it with LogAppendTime first when it is
/// missing and `options.create_topic` allows.
pub fn ensure_topic(
    producer: &LockProducer,
    settings: &ClientSettings,
    topic: &str,
    options: &LockOptions,
) -> LockResult<i32> {
    use rdkafka::producer::Producer;
    let unreachable = |e: KafkaError| {
        LockError::Connection(format!(
            "cannot reach the Kafka brokers at {} within {:.1} s: {e}",
            settings.brokers(),
            options.connect_timeout.as_secs_f64()
        ))
    };
    let metadata = producer.client().fetch_metadata(Some(topic), options.connect_timeout).map_err(unreachable)?;
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
    let deadline = std::time::Instant::now() + options.operation_timeout;
    loop {
        let md = producer.client().fetch_metadata(Some(topic), options.operation_timeout).map_err(unreachable)?;
        if let Some(t) = md.topics().iter().find(|t| t.name() == topic && t.error().is_none()) {
            if !t.partitions().is_empty() && t.partitions().iter().all(|p| p.leader() >= 0) {
                return Ok(t.partitions().len() as i32);
            }
        }
        if std::time::Instant::now() >= deadline {
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
