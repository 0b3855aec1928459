//! Integration tests of the session layer against the live local broker (localhost:9092, or
//! KAFKA_LOCK_TEST_BROKERS). `make test` starts the broker first; without one these tests fail.

use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use kafka_lock::session::{ConfigValue, Defaults, LockHandle};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Message, Timestamp};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

fn brokers() -> String {
    std::env::var("KAFKA_LOCK_TEST_BROKERS").unwrap_or_else(|_| "localhost:9092".into())
}

fn fresh_topic(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("rust_{prefix}_{}_{nanos:x}", std::process::id())
}

fn open(topic: &str, extra: &[(&str, ConfigValue)]) -> LockHandle {
    let mut entries = vec![("bootstrap.servers".to_owned(), ConfigValue::Str(brokers()))];
    entries.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
    LockHandle::open(topic, &entries, &Defaults::default())
        .expect("the local broker must be running (make kafka-start)")
}

/// The first record of `topic`'s partition 0 from `from` on, read by a plain consumer as any
/// reader of the topic can: its payload and timestamp.
fn first_record(topic: &str, from: Offset) -> (Vec<u8>, Timestamp) {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .set("group.id", "unused")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, from).unwrap();
    consumer.assign(&tpl).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < deadline, "record not consumed back within 10 s");
        if let Some(m) = consumer.poll(Duration::from_millis(100)) {
            let m = m.unwrap();
            return (m.payload().unwrap_or_default().to_vec(), m.timestamp());
        }
    }
}

#[test]
fn a_record_produced_through_rdkafka_is_consumed_back_with_broker_time() {
    let topic = fresh_topic("roundtrip");
    // Opening a handle creates the topic with LogAppendTime.
    let _handle = open(&topic, &[]);
    let producer: BaseProducer = ClientConfig::new().set("bootstrap.servers", brokers()).create().unwrap();
    let before =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    producer.send(BaseRecord::to(&topic).key("k").payload("hello").partition(0)).unwrap();
    producer.flush(Duration::from_secs(10)).unwrap();
    let (payload, timestamp) = first_record(&topic, Offset::Beginning);
    assert_eq!(payload, b"hello");
    match timestamp {
        Timestamp::LogAppendTime(t) => assert!(t >= before - 1000, "broker time {t} before {before}"),
        other => panic!("topic created by the lock must use LogAppendTime, got {other:?}"),
    }
}

#[test]
fn acquire_release_reentrancy_and_tokens() {
    let topic = fresh_topic("basic");
    let mut a = open(&topic, &[("lock.ttl", ConfigValue::Float(3.0))]);
    assert!(a.acquire("res", Some(5.0)).unwrap());
    let first = a.fencing_token("res").unwrap().expect("held");
    assert!(a.is_acquired("res").unwrap());
    let left = a.remaining_lifetime("res").unwrap().expect("held");
    assert!(left > Duration::from_secs(1) && left <= Duration::from_secs(3), "{left:?}");
    // Reentrant: a second acquire succeeds at once and needs a second release.
    assert!(a.acquire("res", Some(0.0)).unwrap());
    assert!(a.release("res").unwrap());
    assert!(a.is_acquired("res").unwrap());
    assert!(a.release("res").unwrap());
    assert!(!a.is_acquired("res").unwrap());
    assert!(!a.release("res").unwrap(), "releasing an unheld lock is false");
    assert!(a.try_acquire("res").unwrap());
    let second = a.fencing_token("res").unwrap().unwrap();
    assert!(second > first, "tokens must increase: {first} then {second}");
}

#[test]
fn a_second_instance_waits_and_try_lock_does_not() {
    let topic = fresh_topic("exclusion");
    let mut a = open(&topic, &[]);
    let mut b = open(&topic, &[]);
    assert!(a.acquire("x", None).unwrap());
    assert!(!b.try_acquire("x").unwrap(), "tryLock must not take a held lock");
    let started = Instant::now();
    assert!(!b.acquire("x", Some(0.3)).unwrap(), "acquire must time out while held");
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(a.release("x").unwrap());
    assert!(b.try_acquire("x").unwrap(), "free after release");
}

#[test]
fn the_lease_is_renewed_past_its_ttl_while_the_process_lives() {
    let topic = fresh_topic("renew");
    let mut a = open(
        &topic,
        &[("lock.ttl", ConfigValue::Float(0.6)), ("lock.max_clock_step", ConfigValue::Float(0.2))],
    );
    let mut b = open(
        &topic,
        &[("lock.ttl", ConfigValue::Float(0.6)), ("lock.max_clock_step", ConfigValue::Float(0.2))],
    );
    assert!(a.acquire("r", None).unwrap());
    // Waiting three TTLs in b's own acquire: it must not be granted while a lives and renews.
    assert!(!b.acquire("r", Some(1.8)).unwrap());
    assert!(a.is_acquired("r").unwrap());
}

#[test]
fn waiters_in_threads_are_served_in_token_order_and_never_overlap() {
    let topic = fresh_topic("fifo");
    let threads = 4;
    let rounds = 10;
    let log = Arc::new(Mutex::new(Vec::<(i64, Instant, Instant)>::new()));
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (topic, log, barrier) = (topic.clone(), log.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut lock = open(&topic, &[]);
                barrier.wait();
                for _ in 0..rounds {
                    assert!(lock.acquire("hot", Some(30.0)).unwrap());
                    let start = Instant::now();
                    let token = lock.fencing_token("hot").unwrap().unwrap();
                    std::thread::sleep(Duration::from_millis(2));
                    let end = Instant::now();
                    log.lock().unwrap().push((token, start, end));
                    assert!(lock.release("hot").unwrap());
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let mut log = log.lock().unwrap().clone();
    assert_eq!(log.len(), threads * rounds);
    log.sort_by_key(|(_, start, _)| *start);
    for pair in log.windows(2) {
        let ((t1, _, end1), (t2, start2, _)) = (pair[0], pair[1]);
        assert!(end1 <= start2, "critical sections overlap");
        assert!(t2 > t1, "tokens must grow in grant order: {t1} then {t2}");
    }
}

#[test]
fn a_late_joiner_replays_the_window_and_agrees_on_the_holder() {
    let topic = fresh_topic("join");
    let mut a = open(&topic, &[]);
    for i in 0..20 {
        assert!(a.acquire(&format!("k{i}"), Some(5.0)).unwrap());
        if i % 2 == 0 {
            assert!(a.release(&format!("k{i}")).unwrap());
        }
    }
    // A different client id makes a separate session in this process: a second client joining
    // a partition with history.
    let mut late = open(&topic, &[("client.id", ConfigValue::Str("late-joiner".into()))]);
    for i in 0..20 {
        let free = late.try_acquire(&format!("k{i}")).unwrap();
        assert_eq!(free, i % 2 == 0, "k{i}: the joiner must see exactly the odd locks held");
    }
}

#[test]
fn a_changed_partition_count_fails_closed() {
    use rdkafka::admin::{AdminClient, AdminOptions, NewPartitions};
    use rdkafka::client::DefaultClientContext;
    let topic = fresh_topic("repartition");
    // A client id of its own: a session of its own, so failing it closed touches no other test.
    let mut lock = open(
        &topic,
        &[("client.id", ConfigValue::Str("repartition".into())), ("lock.ttl", ConfigValue::Float(30.0))],
    );
    assert!(lock.acquire("held", Some(5.0)).unwrap());
    let admin: AdminClient<DefaultClientContext> =
        ClientConfig::new().set("bootstrap.servers", brokers()).create().unwrap();
    let results = futures_executor::block_on(
        admin.create_partitions(&[NewPartitions::new(&topic, 3)], &AdminOptions::new()),
    )
    .unwrap();
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    // The driver compares partition counts every 10 s; await the hold turning false.
    let deadline = Instant::now() + Duration::from_secs(25);
    while lock.is_acquired("held").unwrap() {
        assert!(Instant::now() < deadline, "the hold survived a partition count change");
        std::thread::sleep(Duration::from_millis(100));
    }
    let err = lock.acquire("other", Some(1.0)).unwrap_err();
    assert!(err.to_string().contains("partition count of topic"), "{err}");
}

#[test]
fn a_producer_failed_for_good_ends_every_request_with_its_cause_and_the_next_call_starts_a_new_session() {
    let topic = fresh_topic("fatal");
    // A session of its own (the registry shares one per settings; other tests run beside).
    let config =
        [("client.id", ConfigValue::Str("fatal-producer".into())), ("lock.ttl", ConfigValue::Float(30.0))];
    let mut a = open(&topic, &config);
    assert!(a.acquire("held", Some(5.0)).unwrap());
    a.fail_producer_for_test();
    // Before, nothing looked at the fatal error: the hold stayed reported for its whole lease
    // (renewals were refused unseen) and the session was kept while it held anything.
    let deadline = Instant::now() + Duration::from_secs(5);
    while a.is_acquired("held").unwrap() {
        assert!(Instant::now() < deadline, "the hold is still reported 5 s after the producer failed");
        std::thread::sleep(Duration::from_millis(20));
    }
    let refused = a.try_acquire("other").expect_err("a request on the failed session");
    let message = refused.to_string();
    assert!(
        message.contains("failed for good") && message.contains("injected by a test"),
        "the cause is named: {message}"
    );
    assert!(!a.release("held").unwrap(), "the lost hold releases nothing");
    // This handle holds nothing on the failed session any more: the next call makes a new one.
    assert!(a.try_acquire("other").unwrap(), "a fresh session locks");
    assert!(a.release("other").unwrap());
}

/// The lookup thread's read of one record (the acquire of a request a joiner learnt of from a
/// renew): the record at its offset, by a consumer of its own; "deleted" once the offset lies
/// below the log start (DeleteRecords here, as retention would).
#[test]
fn a_record_is_read_at_its_offset_and_reported_gone_once_deleted() {
    use kafka_lock::protocol::PartitionId;
    use kafka_lock::session::kafka::Clients;
    use kafka_lock::session::options::parse_options;
    use rdkafka::admin::{AdminClient, AdminOptions};
    use rdkafka::client::DefaultClientContext;
    use std::sync::atomic::AtomicBool;
    let topic = fresh_topic("read_at");
    let _handle = open(&topic, &[]);
    let producer: BaseProducer = ClientConfig::new().set("bootstrap.servers", brokers()).create().unwrap();
    for i in 0..3 {
        let (key, value) = (format!("k{i}"), format!("v{i}"));
        producer.send(BaseRecord::to(&topic).key(&key).payload(&value).partition(0)).unwrap();
    }
    producer.flush(Duration::from_secs(10)).unwrap();
    let entries = [("bootstrap.servers".to_owned(), ConfigValue::Str(brokers()))];
    let (settings, _) = parse_options(&entries, &Defaults::default()).unwrap();
    let clients = Clients::connect(&settings, Duration::from_secs(10)).unwrap();
    let (partition, stop, timeout) =
        (PartitionId::new(&topic, 0), AtomicBool::new(false), Duration::from_secs(10));
    let read = |offset: i64| clients.read_at(&partition, offset, timeout, &stop).expect("an answer");
    let found = read(1).expect("record 1 is there");
    assert_eq!(
        (found.offset, found.key.as_deref(), found.value.as_deref()),
        (1, Some(&b"k1"[..]), Some(&b"v1"[..]))
    );
    let admin: AdminClient<DefaultClientContext> =
        ClientConfig::new().set("bootstrap.servers", brokers()).create().unwrap();
    let mut below = TopicPartitionList::new();
    below.add_partition_offset(&topic, 0, Offset::Offset(2)).unwrap();
    futures_executor::block_on(admin.delete_records(&below, &AdminOptions::new())).unwrap();
    assert_eq!(read(1), None, "deleted");
    assert_eq!(read(2).map(|r| r.offset), Some(2), "kept");
    clients.close_consumer(Duration::from_secs(2));
}

/// A forger copies a live hold's renew under another lock's identifier (same partition) just
/// after the hold began; a process joining once the hold's acquire has left its join window
/// meets the forged renew before any of the owner's. It reads the acquire behind the claim and
/// files the request under its real lock: it neither takes the held lock nor waits on the
/// other. Before e6933a7 the joiner filed the request under the forged identifier, refused
/// the owner's renews as naming another lock, and took the held lock: two holders. Takes a
/// join window (70 s) of real time: the broker stamps records (LogAppendTime).
#[test]
fn a_joiner_reads_the_acquire_behind_a_renew_forged_under_another_lock() {
    use kafka_lock::protocol::JOIN_WINDOW_MS;
    let topic = fresh_topic("forged_claim");
    let mut holder = open(&topic, &[("lock.ttl", ConfigValue::Float(30.0))]);
    assert!(holder.acquire("held", Some(5.0)).unwrap());
    let token = holder.fencing_token("held").unwrap().expect("a token");
    // The forger reads the acquire from the log, as any reader of the topic can.
    let (payload, timestamp) = first_record(&topic, Offset::Offset(token));
    let Timestamp::LogAppendTime(acquired_at) = timestamp else { panic!("LogAppendTime expected") };
    let acquire: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(acquire["op"], "acquire");
    let now_ms =
        || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    // 3 s after the acquire: inside the window of a joiner that joins 70 to 73 s after it, and
    // before the owner's first renew (10 s).
    std::thread::sleep(Duration::from_millis(u64::try_from(acquired_at + 3_000 - now_ms()).unwrap_or(0)));
    let forged = serde_json::json!({
        "v": 1, "op": "renew", "owner": acquire["owner"], "ref": token,
        "prev": now_ms() + 5_000, "ttl": 60_000, "pub": acquire["pub"],
    });
    let producer: BaseProducer = ClientConfig::new().set("bootstrap.servers", brokers()).create().unwrap();
    let value = forged.to_string();
    producer.send(BaseRecord::to(&topic).key("other").payload(&value).partition(0)).unwrap();
    producer.flush(Duration::from_secs(10)).unwrap();
    // Join once the acquire lies before the window (window start = join time - 70 s).
    let join_at = acquired_at + JOIN_WINDOW_MS + 1_500;
    std::thread::sleep(Duration::from_millis(u64::try_from(join_at - now_ms()).unwrap_or(0)));
    let mut joiner = open(&topic, &[("client.id", ConfigValue::Str("forged-claim-joiner".into()))]);
    assert!(!joiner.try_acquire("held").unwrap(), "the joiner took a held lock");
    assert!(!joiner.acquire("held", Some(3.0)).unwrap(), "the joiner took a held lock");
    assert!(holder.is_acquired("held").unwrap());
    assert!(joiner.acquire("other", Some(5.0)).unwrap(), "the forged claim blocks the other lock");
    assert!(holder.release("held").unwrap());
    assert!(joiner.acquire("held", Some(10.0)).unwrap(), "once released, the joiner is granted");
}
