//! rdcheck BROKERS TOPIC SECONDS [debug-contexts|-] [key=value ...]   (extra consumer properties)
//! Produces one record every 50 ms to partition 0 and consumes partition 0 with the extension's
//! consumer settings (src/session/kafka.rs), printing once a second how many records came back,
//! and every consumer error and (with debug contexts) librdkafka log line, with timestamps.
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Message, Offset, TopicPartitionList};

struct Ctx(Instant);
impl ClientContext for Ctx {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        println!("{:8.3} LOG {:?} {} {}", self.0.elapsed().as_secs_f64(), level, fac, log_message);
    }
    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        println!("{:8.3} ERROR {} {}", self.0.elapsed().as_secs_f64(), error, reason);
    }
}
impl ConsumerContext for Ctx {}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let (brokers, topic, secs) = (&a[1], &a[2], a[3].parse::<f64>().unwrap());
    let debug = a.get(4).cloned();
    let t0 = Instant::now();
    let mut cc = ClientConfig::new();
    cc.set("bootstrap.servers", brokers)
        .set("reconnect.backoff.ms", "20")
        .set("group.id", "kafka_lock-unused")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "false")
        .set("auto.offset.reset", "earliest")
        .set("fetch.wait.max.ms", "20")
        .set("fetch.error.backoff.ms", "50")
        .set("allow.auto.create.topics", "false");
    for kv in a.iter().skip(5) {
        let (k, v) = kv.split_once('=').expect("key=value");
        cc.set(k, v);
    }
    if let Some(d) = debug.as_ref().filter(|d| d.as_str() != "-") {
        cc.set("debug", d);
        cc.set_log_level(RDKafkaLogLevel::Debug);
    }
    let consumer: BaseConsumer<Ctx> = cc.create_with_context(Ctx(t0)).expect("consumer");
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("reconnect.backoff.ms", "20")
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "0")
        .set("message.timeout.ms", "10000")
        .create()
        .expect("producer");
    let md = consumer.fetch_metadata(Some(topic), Duration::from_secs(5)).expect("metadata");
    let hw = consumer.fetch_watermarks(topic, 0, Duration::from_secs(5)).expect("watermarks").1;
    drop(md);
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Offset(hw)).unwrap();
    consumer.incremental_assign(&tpl).expect("assign");
    let (mut got, mut errs, mut last_off, mut sent) = (0u64, 0u64, -1i64, 0u64);
    let mut next_send = Instant::now();
    let mut next_report = Instant::now() + Duration::from_secs(1);
    // WATCHDOG=1: when nothing was consumed for 2 s, assign the partition again at the next
    // offset (resets librdkafka's fetch state for it), the fix proposed for the stall.
    let watchdog = std::env::var("WATCHDOG").is_ok_and(|v| v == "1");
    let mut last_msg = Instant::now();
    let mut reassigns = 0u64;
    while t0.elapsed().as_secs_f64() < secs {
        if Instant::now() >= next_send {
            let payload = r#"{"v":1,"op":"tick"}"#.to_string();
            if producer.send(BaseRecord::<str, str>::to(topic).partition(0).payload(&payload)).is_ok() {
                sent += 1;
            }
            next_send += Duration::from_millis(50);
        }
        producer.poll(Duration::ZERO);
        match consumer.poll(Duration::from_millis(20)) {
            Some(Ok(m)) => {
                got += 1;
                last_off = m.offset();
                last_msg = Instant::now();
            }
            Some(Err(e)) => {
                errs += 1;
                println!("{:8.3} CONSUMER-ERROR {}", t0.elapsed().as_secs_f64(), e);
            }
            None => {}
        }
        if watchdog && last_msg.elapsed() > Duration::from_secs(2) && last_off >= 0 {
            let mut tpl = TopicPartitionList::new();
            tpl.add_partition(topic, 0);
            let _ = consumer.incremental_unassign(&tpl);
            let mut tpl = TopicPartitionList::new();
            tpl.add_partition_offset(topic, 0, Offset::Offset(last_off + 1)).unwrap();
            let _ = consumer.incremental_assign(&tpl);
            reassigns += 1;
            last_msg = Instant::now();
            println!("{:8.3} REASSIGN at {}", t0.elapsed().as_secs_f64(), last_off + 1);
        }
        if Instant::now() >= next_report {
            println!(
                "{:8.3} STAT sent {} consumed {} last offset {} errors {} reassigns {}",
                t0.elapsed().as_secs_f64(),
                sent,
                got,
                last_off,
                errs,
                reassigns
            );
            next_report += Duration::from_secs(1);
        }
    }
    producer.flush(Duration::from_secs(2)).ok();
}
