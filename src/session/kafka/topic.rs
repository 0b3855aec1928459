//! The topic check: it exists (or is created), and its configuration suits a lock.

use std::collections::HashMap;
use std::ffi::{c_char, CString};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::bindings as rd;
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::metadata::Metadata;

use super::{clients::*, context::*, refusals::*};
use crate::session::error::{LockError, LockResult};
use crate::session::options::{ClientSettings, LockOptions};

/// Asks the brokers for the metadata of `topic`, at most `timeout`. Refused connections end it
/// at once: librdkafka reports them on the side (to the watch) while its metadata call waits
/// for a broker that is up until the time-out, so the call is made in steps, each as long as
/// the time spent so far (at least 100 ms: a reply slower than a step is not cut off for long),
/// and the watch is read between them.
pub(super) fn fetch_metadata(
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
pub(super) fn ensure_topic(
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
///
/// Asked through the session's consumer: an admin client of its own cost every new process a
/// connection and about 100 ms (rust-rdkafka's `AdminClient` stops its polling thread in 100 ms
/// steps when dropped), most of a cold start (scenario 3: 131 ms, 121 ms over a bare `php`).
pub(super) fn check_topic_config(
    consumer: &BaseConsumer<SessionContext>,
    topic: &str,
    options: &LockOptions,
) -> LockResult<()> {
    let fix = |setting: &str| {
        format!(
            "Fix: kafka-configs.sh --bootstrap-server <brokers> --alter --entity-type topics \
             --entity-name {topic} --add-config {setting}"
        )
    };
    // A broker that has not yet learnt of a topic created a moment ago (by this process or
    // another) answers "unknown topic" for a while: asked again until the operation time-out
    // (found by the chaos suite's cluster scenario: two workers of 16 failed to construct).
    let unknown = |e: &Described| matches!(e, Described::Refused(RDKafkaErrorCode::UnknownTopicOrPartition));
    let described =
        retry_while(options.operation_timeout, unknown, |left| describe_topic_config(consumer, topic, left));
    let config = match described {
        Ok(config) => config,
        Err(Described::Refused(RDKafkaErrorCode::UnknownTopicOrPartition)) => {
            return Err(LockError::Topic(format!(
                "the brokers did not know topic '{topic}' when asked for its configuration, for {:.1} s                  (lock.operation_timeout): it was deleted, or a broker has not learnt of it yet",
                options.operation_timeout.as_secs_f64()
            )))
        }
        Err(Described::Refused(code)) => {
            return Err(LockError::Topic(format!(
                "cannot read the configuration of topic '{topic}' ({code}); the lock must check its \
                 cleanup.policy and retention.ms. Grant DescribeConfigs on the topic to this client"
            )))
        }
        Err(Described::Failed(e)) => {
            return Err(LockError::Connection(format!(
                "cannot read the configuration of topic '{topic}': {e}"
            )))
        }
    };
    let value = |name: &str| config.get(name).cloned().unwrap_or_default();
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

/// Why [`describe_topic_config`] has no configuration.
enum Described {
    /// The brokers answered for the topic with an error (e.g. no DescribeConfigs right).
    Refused(RDKafkaErrorCode),
    /// No answer, or the request failed as a whole.
    Failed(String),
}

/// The configuration of `topic` (name -> value), by a DescribeConfigs request on `consumer`'s
/// own handle and connections, answered on a queue of its own within `timeout`.
fn describe_topic_config(
    consumer: &BaseConsumer<SessionContext>,
    topic: &str,
    timeout: Duration,
) -> Result<HashMap<String, String>, Described> {
    let name = CString::new(topic).map_err(|_| Described::Failed("topic name with a NUL byte".into()))?;
    let rk = consumer.client().native_ptr();
    let timeout_ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
    // SAFETY: `rk` is the consumer's live handle; every object made here is destroyed here,
    // and the strings read from the result are copied before its event is destroyed.
    unsafe {
        let queue = rd::rd_kafka_queue_new(rk);
        let mut resource = rd::rd_kafka_ConfigResource_new(
            rd::rd_kafka_ResourceType_t::RD_KAFKA_RESOURCE_TOPIC,
            name.as_ptr(),
        );
        let admin_options =
            rd::rd_kafka_AdminOptions_new(rk, rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
        let mut errstr = [0 as c_char; 256];
        rd::rd_kafka_AdminOptions_set_request_timeout(
            admin_options,
            timeout_ms,
            errstr.as_mut_ptr(),
            errstr.len(),
        );
        rd::rd_kafka_DescribeConfigs(rk, &mut resource, 1, admin_options, queue);
        let event = rd::rd_kafka_queue_poll(queue, timeout_ms.saturating_add(1000));
        let result = if event.is_null() {
            Err(Described::Failed(format!("no answer within {:.1} s", timeout.as_secs_f64())))
        } else if rd::rd_kafka_event_error(event) != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
            Err(Described::Failed(text(rd::rd_kafka_event_error_string(event))))
        } else {
            let described = rd::rd_kafka_event_DescribeConfigs_result(event);
            let mut count = 0;
            let resources = rd::rd_kafka_DescribeConfigs_result_resources(described, &mut count);
            if resources.is_null() || count == 0 {
                Err(Described::Failed("no configuration returned".into()))
            } else {
                let found = *resources;
                let code = rd::rd_kafka_ConfigResource_error(found);
                if code != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
                    Err(Described::Refused(RDKafkaErrorCode::from(code)))
                } else {
                    let mut entries = 0;
                    let configs = rd::rd_kafka_ConfigResource_configs(found, &mut entries);
                    let mut config = HashMap::new();
                    for i in 0..entries {
                        let entry = *configs.add(i);
                        let value = rd::rd_kafka_ConfigEntry_value(entry);
                        if !value.is_null() {
                            config.insert(text(rd::rd_kafka_ConfigEntry_name(entry)), text(value));
                        }
                    }
                    Ok(config)
                }
            }
        };
        if !event.is_null() {
            rd::rd_kafka_event_destroy(event);
        }
        rd::rd_kafka_AdminOptions_destroy(admin_options);
        rd::rd_kafka_ConfigResource_destroy(resource);
        rd::rd_kafka_queue_destroy(queue);
        result
    }
}

/// The error for a topic whose records carry the producer's clock.
pub fn create_time_error(topic: &str) -> LockError {
    LockError::Topic(format!(
        "topic '{topic}' stamps records with the producer's clock (CreateTime); the lock needs \
         broker time. Fix: kafka-configs.sh --bootstrap-server <brokers> --alter --entity-type \
         topics --entity-name {topic} --add-config message.timestamp.type=LogAppendTime"
    ))
}

pub(super) fn admin_client(settings: &ClientSettings) -> LockResult<AdminClient<DefaultClientContext>> {
    base_config(settings).create().map_err(config_error)
}

pub(super) fn create_topic(settings: &ClientSettings, topic: &str, options: &LockOptions) -> LockResult<()> {
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
