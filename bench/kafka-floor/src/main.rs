//! kafka-floor: the lowest latency Kafka allows for one kafka_lock acquire, measured with the
//! extension's own client settings, plus two helpers for bench/run.py.
//!
//! ```text
//! kafka-floor floor  --topic T [--brokers B] [--n 2000] [--warmup 200] [--out FILE]
//!     Produces one record and waits until the consumer has read it back, N times: the cost
//!     of an acquire with no protocol work (produce, see it consumed); then produces a second
//!     record and waits for its acknowledgement, as releaseLock() does. Prints p50/p99/max and
//!     writes every sample (µs) as JSON to FILE: {"rtt_us":[...],"ack_us":[...],"pair_us":[...]}
//!     (rtt: produced -> consumed; ack: produced -> acknowledged; pair: rtt + the second ack).
//! kafka-floor startup --topic T [--brokers B] [--n 20] [--out FILE]
//!     The floor of a cold start: N times, create a fresh producer and consumer (the
//!     extension's settings), read the topic's metadata, produce one record, assign the
//!     consumer at its offset and consume it back, then destroy both clients. Samples (µs): {"metadata_us","ack_us","rtt_us","total_us"}.
//! kafka-floor scale  --topic T --partitions P [--brokers B] --out FILE
//!     One worker of scenario 4's Kafka floor: the produce-and-follow pattern of a kafka_lock
//!     process, with no protocol. It follows all P partitions of T (as a process that has used
//!     them all does), says "ready", reads the runner's "START END" line (CLOCK_MONOTONIC ns)
//!     and, from START to END: picks a partition at random, produces an acquire-sized record
//!     there and waits until its own consumer has read it back, then produces a release-sized
//!     record and waits for its acknowledgement. Writes what bench/php/contend.php writes:
//!     {"pid","count","events":[[requested,acquired,releasing,released],...],"rss_kib"} (ns).
//! kafka-floor handoff --topic T --workers N --index I [--hold_us H] [--brokers B] --out FILE
//!     One of N workers of scenario 2's Kafka hand-off floor: a token passed round the workers
//!     through one partition, as a hot lock is handed from holder to waiter, without the
//!     protocol. Every worker follows the partition; worker 0 holds first. A worker that reads
//!     the token addressed to it holds it H µs, produces it for the next worker (the release)
//!     and waits for its acknowledgement, then produces a request record of its own (the next
//!     acquire) and waits for that acknowledgement too: two records per hold, as the lock
//!     writes. Writes contend.php's events, [requested, acquired, releasing, released] (ns).
//! kafka-floor fill   --topic T --n N [--keys K] [--partitions P] [--brokers B]
//!     Creates T (LogAppendTime) and writes N well-formed lock records to partition 0
//!     (acquire/release pairs of one dead owner over K identifiers), as fast as it can.
//! kafka-floor delete --prefix P [--brokers B]
//!     Deletes every topic whose name starts with P (a bench run's own topics).
//! ```
//!
//! `FLOOR_IDEMPOTENCE=false` in the environment turns the producer's idempotence off (an
//! experiment: it does not change the start-up floor).
//!
//! Settings shared with the extension (src/session/kafka.rs): an idempotent producer with
//! acks=all, linger.ms=0, reconnect.backoff.ms=20; a consumer with fetch.wait.max.ms=20,
//! assigned (not subscribed) to the partition. Like the extension, the consumer is polled by
//! one thread and the producer's delivery reports by another, so neither waits for the other.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{DeliveryResult, Message, Timestamp};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer, ProducerContext};
use rdkafka::{Offset, TopicPartitionList};

type Result<T> = std::result::Result<T, String>;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("floor") => floor(&Args::parse(&args[1..])),
        Some("fill") => fill(&Args::parse(&args[1..])),
        Some("startup") => startup(&Args::parse(&args[1..])),
        Some("delete") => delete(&Args::parse(&args[1..])),
        Some("scale") => scale(&Args::parse(&args[1..])),
        Some("handoff") => handoff(&Args::parse(&args[1..])),
        _ => Err("usage: kafka-floor floor|startup|scale|handoff|fill|delete [--option value ...] (see src/main.rs)"
            .into()),
    };
    if let Err(e) = outcome {
        eprintln!("kafka-floor: {e}");
        std::process::exit(1);
    }
}

struct Args(HashMap<String, String>);

impl Args {
    fn parse(raw: &[String]) -> Args {
        let mut map = HashMap::new();
        let mut it = raw.iter();
        while let Some(k) = it.next() {
            let k = k.trim_start_matches("--");
            // "--key value", or "--key=value" (bench/run.py's workers get "--out=FILE").
            let (key, value) = match k.split_once('=') {
                Some((key, value)) => (key.to_owned(), value.to_owned()),
                None => (k.to_owned(), it.next().cloned().unwrap_or_default()),
            };
            map.insert(key, value);
        }
        Args(map)
    }

    fn str(&self, key: &str, default: &str) -> String {
        self.0.get(key).cloned().unwrap_or_else(|| default.to_owned())
    }

    fn num(&self, key: &str, default: u64) -> Result<u64> {
        match self.0.get(key) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| format!("--{key} wants a number, got '{v}'")),
        }
    }

    fn required(&self, key: &str) -> Result<String> {
        self.0.get(key).cloned().ok_or_else(|| format!("--{key} is required"))
    }
}

fn base_config(brokers: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", brokers).set("reconnect.backoff.ms", "20");
    config
}

/// The delivery report of the record in flight: when it came, and where the record went.
#[derive(Default)]
struct Ack {
    slot: Mutex<Option<(Instant, std::result::Result<i64, String>)>>,
    changed: Condvar,
}

impl Ack {
    /// Waits (at most 10 s) for the delivery report of the record in flight; when it came.
    fn wait(&self) -> Result<Instant> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut slot = self.slot.lock().unwrap();
        while slot.is_none() {
            let now = Instant::now();
            if now >= deadline {
                return Err("no delivery report within 10 s".into());
            }
            slot = self.changed.wait_timeout(slot, deadline - now).unwrap().0;
        }
        let (acked, outcome) = slot.take().expect("checked");
        outcome.map_err(|e| format!("delivery failed: {e}"))?;
        Ok(acked)
    }
}

struct AckContext(Arc<Ack>);

impl ClientContext for AckContext {}

impl ProducerContext for AckContext {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        let at = Instant::now();
        let outcome = match result {
            Ok(m) => Ok(m.offset()),
            Err((e, _)) => Err(e.to_string()),
        };
        *self.0.slot.lock().unwrap() = Some((at, outcome));
        self.0.changed.notify_all();
    }
}

fn producer<C: ProducerContext>(brokers: &str, linger_ms: &str, context: C) -> Result<BaseProducer<C>> {
    base_config(brokers)
        .set("enable.idempotence", std::env::var("FLOOR_IDEMPOTENCE").unwrap_or_else(|_| "true".into()))
        .set("acks", "all")
        .set("linger.ms", linger_ms)
        .set("allow.auto.create.topics", "false")
        .set("message.timeout.ms", "10000")
        .create_with_context(context)
        .map_err(|e| format!("cannot create the producer: {e}"))
}

fn consumer(brokers: &str) -> Result<BaseConsumer> {
    base_config(brokers)
        .set("group.id", "kafka_lock-bench-floor")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "false")
        .set("auto.offset.reset", "latest")
        .set("fetch.wait.max.ms", "20")
        .set("fetch.error.backoff.ms", "50")
        .set("allow.auto.create.topics", "false")
        .create()
        .map_err(|e| format!("cannot create the consumer: {e}"))
}

/// Creates `topic` with LogAppendTime timestamps unless it exists.
fn ensure_topic(brokers: &str, topic: &str, partitions: i32) -> Result<()> {
    let admin: AdminClient<DefaultClientContext> =
        base_config(brokers).create().map_err(|e| format!("cannot create the admin client: {e}"))?;
    let new_topic = NewTopic::new(topic, partitions, TopicReplication::Fixed(-1))
        .set("message.timestamp.type", "LogAppendTime");
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    let results = futures_executor::block_on(admin.create_topics([&new_topic], &options))
        .map_err(|e| format!("cannot create topic '{topic}': {e}"))?;
    for result in results {
        match result {
            Ok(_) | Err((_, rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((_, code)) => return Err(format!("cannot create topic '{topic}': {code}")),
        }
    }
    Ok(())
}

/// Waits until the broker we talk to knows a leader for every partition of `topic`.
fn wait_for_leaders(consumer: &BaseConsumer, topic: &str) -> Result<i32> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(md) = consumer.fetch_metadata(Some(topic), Duration::from_secs(5)) {
            if let Some(t) = md.topics().iter().find(|t| t.name() == topic && t.error().is_none()) {
                if !t.partitions().is_empty() && t.partitions().iter().all(|p| p.leader() >= 0) {
                    return Ok(t.partitions().len() as i32);
                }
            }
        }
        if Instant::now() >= deadline {
            return Err(format!("topic '{topic}' has no leader after 10 s"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn summary(name: &str, samples: &[u64]) -> String {
    let mut s = samples.to_vec();
    s.sort_unstable();
    format!(
        "{name}: n={} p50={:.3} ms p99={:.3} ms max={:.3} ms",
        s.len(),
        percentile(&s, 50.0) as f64 / 1000.0,
        percentile(&s, 99.0) as f64 / 1000.0,
        s.last().copied().unwrap_or(0) as f64 / 1000.0
    )
}

fn json_list(samples: &[u64]) -> String {
    let items: Vec<String> = samples.iter().map(u64::to_string).collect();
    format!("[{}]", items.join(","))
}

fn floor(args: &Args) -> Result<()> {
    let brokers = args.str("brokers", "localhost:9092");
    let topic = args.required("topic")?;
    let n = args.num("n", 2000)? as usize;
    let warmup = args.num("warmup", 200)? as usize;
    ensure_topic(&brokers, &topic, 1)?;

    let ack = Arc::new(Ack::default());
    let producer = Arc::new(producer(&brokers, "0", AckContext(ack.clone()))?);
    let consumer = consumer(&brokers)?;
    wait_for_leaders(&consumer, &topic)?;
    let mut assignment = TopicPartitionList::new();
    assignment.add_partition_offset(&topic, 0, Offset::End).map_err(|e| e.to_string())?;
    consumer.assign(&assignment).map_err(|e| format!("cannot assign: {e}"))?;

    // The producer's delivery reports are served by their own thread, as the extension's
    // driver thread does; the measuring thread blocks in the consumer's poll.
    let stop = Arc::new(AtomicBool::new(false));
    let poller = serve_reports(&producer, &stop);

    // Two loops. The first: record A (the acquire) is produced and awaited until consumed
    // back; rtt = A produced -> A consumed, the floor of one acquire. The second also
    // produces record B (the release) after A is consumed and waits until B is acknowledged,
    // as the extension's releaseLock() does; pair = A produced -> B acknowledged, the floor
    // of acquire + release. (In the second loop B's fetch can delay the next A, so the
    // acquire floor is taken from the first loop alone.)
    let mut rtt = Vec::with_capacity(n);
    let mut acks = Vec::with_capacity(n);
    let mut pairs = Vec::with_capacity(n);
    for i in 0..2 * (warmup + n) {
        let with_release = i >= warmup + n;
        let measured = i % (warmup + n) >= warmup;
        let payload = format!("{{\"v\":1,\"op\":\"tick\",\"bench\":{i}}}");
        *ack.slot.lock().unwrap() = None;
        let t0 = Instant::now();
        producer
            .send(BaseRecord::<str, str>::to(&topic).partition(0).payload(&payload))
            .map_err(|(e, _)| format!("cannot produce: {e}"))?;
        let seen = loop {
            match consumer.poll(Duration::from_secs(10)) {
                Some(Ok(m)) if m.payload() == Some(payload.as_bytes()) => {
                    if !matches!(m.timestamp(), Timestamp::LogAppendTime(_)) {
                        return Err(format!("topic '{topic}' does not use LogAppendTime"));
                    }
                    break Instant::now();
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(format!("consumer error: {e}")),
                None => return Err("no record consumed back within 10 s".into()),
            }
        };
        // The delivery report usually came before the record was read back.
        let acked = ack.wait()?;
        if !with_release {
            if measured {
                rtt.push(seen.duration_since(t0).as_micros() as u64);
                acks.push(acked.duration_since(t0).as_micros() as u64);
            }
            continue;
        }
        let release = format!("{{\"v\":1,\"op\":\"tick\",\"bench\":{i},\"release\":1}}");
        producer
            .send(BaseRecord::<str, str>::to(&topic).partition(0).payload(&release))
            .map_err(|(e, _)| format!("cannot produce: {e}"))?;
        let released = ack.wait()?;
        if measured {
            pairs.push(released.duration_since(t0).as_micros() as u64);
        }
    }
    stop.store(true, Ordering::Relaxed);
    let _ = poller.join();
    println!("{}", summary("floor produce+consume", &rtt));
    println!("{}", summary("produce ack (acks=all)", &acks));
    println!("{}", summary("floor + release ack", &pairs));
    if let Some(out) = args.0.get("out") {
        let json = format!(
            "{{\"rtt_us\":{},\"ack_us\":{},\"pair_us\":{}}}\n",
            json_list(&rtt),
            json_list(&acks),
            json_list(&pairs)
        );
        std::fs::write(out, json).map_err(|e| format!("cannot write {out}: {e}"))?;
    }
    Ok(())
}

/// CLOCK_MONOTONIC in ns: the clock of the runner's instants and of PHP's hrtime(true).
fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: a valid timespec to write into.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Sleeps until CLOCK_MONOTONIC reaches `instant` (ns).
fn sleep_until(instant: u64) {
    while monotonic_ns() < instant {
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// Says "ready" and reads the runner's start and end instants (see bench/run.py `workers`).
fn await_start() -> Result<(u64, u64)> {
    use std::io::{BufRead, Write};
    println!("ready");
    std::io::stdout().flush().map_err(|e| e.to_string())?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| e.to_string())?;
    let mut parts = line.split_whitespace().map(str::parse::<u64>);
    match (parts.next(), parts.next()) {
        (Some(Ok(start)), Some(Ok(end))) => Ok((start, end)),
        _ => Err(format!("no start line from the runner: {line:?}")),
    }
}

/// Records read back by the consumer thread, by payload, for the thread waiting for them.
#[derive(Default)]
struct ReadBack {
    awaited: Mutex<Option<(String, bool)>>,
    changed: Condvar,
}

/// Serves the producer's delivery reports on a thread of their own (as the extension's driver
/// thread does) until `stop`.
fn serve_reports(
    producer: &Arc<BaseProducer<AckContext>>,
    stop: &Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    let (producer, stop) = (producer.clone(), stop.clone());
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            producer.poll(Duration::from_millis(20));
        }
    })
}

/// Assigns partitions 0..`partitions` of `topic` at their ends as they are now (a logical
/// "end" is resolved later, and a record produced before that would never be read back).
fn assign_at_end(consumer: &BaseConsumer, topic: &str, partitions: i32) -> Result<()> {
    let mut assignment = TopicPartitionList::new();
    for p in 0..partitions {
        let (_, high) = consumer
            .fetch_watermarks(topic, p, Duration::from_secs(10))
            .map_err(|e| format!("cannot read the end of partition {p}: {e}"))?;
        assignment.add_partition_offset(topic, p, Offset::Offset(high)).map_err(|e| e.to_string())?;
    }
    consumer.assign(&assignment).map_err(|e| format!("cannot assign: {e}"))
}

/// Produces `payload` to `partition` of `topic` and waits for its acknowledgement.
fn produce_acked(
    producer: &BaseProducer<AckContext>,
    ack: &Ack,
    topic: &str,
    partition: i32,
    payload: &str,
) -> Result<()> {
    *ack.slot.lock().unwrap() = None;
    producer
        .send(BaseRecord::<str, str>::to(topic).partition(partition).key("k").payload(payload))
        .map_err(|(e, _)| format!("cannot produce: {e}"))?;
    ack.wait().map(|_| ())
}

/// The resident set of this process now, in KiB (as contend.php reports it).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .unwrap_or(0)
}

fn write_events(out: &str, events: &[[u64; 4]], end: u64) -> Result<()> {
    let count = events.iter().filter(|e| e[1] < end).count();
    let list: Vec<String> = events.iter().map(|e| format!("[{},{},{},{}]", e[0], e[1], e[2], e[3])).collect();
    let json = format!(
        "{{\"pid\":{},\"count\":{count},\"events\":[{}],\"rss_kib\":{}}}\n",
        std::process::id(),
        list.join(","),
        rss_kib()
    );
    std::fs::write(out, json).map_err(|e| format!("cannot write {out}: {e}"))
}

fn handoff(args: &Args) -> Result<()> {
    let brokers = args.str("brokers", "localhost:9092");
    let topic = args.required("topic")?;
    let workers = args.num("workers", 2)?.max(2);
    let index = args.num("index", 0)?;
    let hold = Duration::from_micros(args.num("hold_us", 1000)?);
    let out = args.required("out")?;
    ensure_topic(&brokers, &topic, 1)?;
    let ack = Arc::new(Ack::default());
    let producer = Arc::new(producer(&brokers, "0", AckContext(ack.clone()))?);
    let consumer = consumer(&brokers)?;
    wait_for_leaders(&consumer, &topic)?;
    assign_at_end(&consumer, &topic, 1)?;
    let stop = Arc::new(AtomicBool::new(false));
    let poller = serve_reports(&producer, &stop);
    // Connections up before the start.
    produce_acked(&producer, &ack, &topic, 0, &format!("{{\"warm\":{index}}}"))?;
    let (start, end) = await_start()?;
    let mine = format!("\"to\":{index},");
    let mut events = Vec::new();
    let mut requested = monotonic_ns();
    let mut seq = 0u64;
    let mut token_here = index == 0;
    while monotonic_ns() < end {
        if !token_here {
            match consumer.poll(Duration::from_millis(5)) {
                Some(Ok(m)) => {
                    let payload = m.payload().unwrap_or_default();
                    let text = std::str::from_utf8(payload).unwrap_or("");
                    if text.starts_with("{\"token\":") && text.contains(&mine) {
                        seq = text[9..].split(',').next().and_then(|n| n.parse().ok()).unwrap_or(0);
                        token_here = true;
                    }
                }
                Some(Err(e)) => return Err(format!("consumer error: {e}")),
                None => {}
            }
            continue;
        }
        token_here = false;
        if seq == 0 {
            sleep_until(start); // worker 0 holds first, at the start
        }
        let acquired = monotonic_ns();
        std::thread::sleep(hold);
        let releasing = monotonic_ns();
        let next = (index + 1) % workers;
        produce_acked(&producer, &ack, &topic, 0, &format!("{{\"token\":{},\"to\":{next},}}", seq + 1))?;
        let released = monotonic_ns();
        events.push([requested, acquired, releasing, released]);
        produce_acked(&producer, &ack, &topic, 0, &format!("{{\"request\":{index},\"seq\":{seq}}}"))?;
        requested = monotonic_ns();
    }
    stop.store(true, Ordering::Relaxed);
    let _ = poller.join();
    write_events(&out, &events, end)
}

fn scale(args: &Args) -> Result<()> {
    let brokers = args.str("brokers", "localhost:9092");
    let topic = args.required("topic")?;
    let partitions = args.num("partitions", 1)? as i32;
    let out = args.required("out")?;
    ensure_topic(&brokers, &topic, partitions)?;
    let ack = Arc::new(Ack::default());
    let producer = Arc::new(producer(&brokers, "0", AckContext(ack.clone()))?);
    let consumer = consumer(&brokers)?;
    let found = wait_for_leaders(&consumer, &topic)?;
    if found != partitions {
        return Err(format!("topic '{topic}' has {found} partitions, not {partitions}"));
    }
    assign_at_end(&consumer, &topic, partitions)?;

    // As in the extension: one thread reads every followed partition, another serves the
    // producer's delivery reports, and the working thread waits on both.
    let stop = Arc::new(AtomicBool::new(false));
    let read_back = Arc::new(ReadBack::default());
    let reader = {
        let (stop, read_back) = (stop.clone(), read_back.clone());
        std::thread::spawn(move || -> Result<()> {
            while !stop.load(Ordering::Relaxed) {
                match consumer.poll(Duration::from_millis(20)) {
                    Some(Ok(m)) => {
                        let mut awaited = read_back.awaited.lock().unwrap();
                        if let Some((payload, seen)) = awaited.as_mut() {
                            if m.payload() == Some(payload.as_bytes()) {
                                *seen = true;
                                read_back.changed.notify_all();
                            }
                        }
                    }
                    Some(Err(e)) => return Err(format!("consumer error: {e}")),
                    None => {}
                }
            }
            Ok(())
        })
    };
    let poller = serve_reports(&producer, &stop);
    let send_and_ack =
        |partition: i32, payload: &str| produce_acked(&producer, &ack, &topic, partition, payload);
    let await_read_back = || -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut awaited = read_back.awaited.lock().unwrap();
        while !awaited.as_ref().is_some_and(|(_, seen)| *seen) {
            let now = Instant::now();
            if now >= deadline {
                return Err("no record consumed back within 10 s".into());
            }
            awaited = read_back.changed.wait_timeout(awaited, deadline - now).unwrap().0;
        }
        Ok(())
    };

    let pid = std::process::id();
    let mut rng = u64::from(pid) << 32 | monotonic_ns() & 0xffff_ffff | 1;
    let mut next_partition = move || {
        // xorshift64: any uniform choice will do.
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % partitions as u64) as i32
    };
    // The size of an acquire and a release record of the extension (key, owner, proofs).
    let filler = "x".repeat(160);
    let mut op = |i: u64| -> Result<[u64; 4]> {
        let partition = next_partition();
        let acquire = format!("{{\"v\":1,\"op\":\"tick\",\"w\":{pid},\"i\":{i},\"a\":\"{filler}\"}}");
        *read_back.awaited.lock().unwrap() = Some((acquire.clone(), false));
        let requested = monotonic_ns();
        send_and_ack(partition, &acquire)?;
        await_read_back()?;
        let acquired = monotonic_ns();
        let release = format!("{{\"v\":1,\"op\":\"tick\",\"w\":{pid},\"i\":{i},\"r\":\"{filler}\"}}");
        send_and_ack(partition, &release)?;
        Ok([requested, acquired, acquired, monotonic_ns()])
    };
    // Warm-up: every partition's leader connection and fetch position.
    for i in 0..(4 * partitions as u64) {
        op(i)?;
    }
    let (start, end) = await_start()?;
    sleep_until(start);
    let mut events = Vec::new();
    let mut i = 1_000_000;
    while monotonic_ns() < end {
        events.push(op(i)?);
        i += 1;
    }
    stop.store(true, Ordering::Relaxed);
    reader.join().map_err(|_| "the consumer thread panicked".to_string())??;
    let _ = poller.join();
    write_events(&out, &events, end)
}

fn startup(args: &Args) -> Result<()> {
    let brokers = args.str("brokers", "localhost:9092");
    let topic = args.required("topic")?;
    let n = args.num("n", 20)? as usize;
    ensure_topic(&brokers, &topic, 1)?;
    let (mut metadata, mut acks, mut rtts, mut totals) = (vec![], vec![], vec![], vec![]);
    for i in 0..n {
        let t0 = Instant::now();
        let ack = Arc::new(Ack::default());
        let producer = producer(&brokers, "0", AckContext(ack.clone()))?;
        let consumer = consumer(&brokers)?;
        // As the extension's constructor: the topic's metadata through the consumer.
        consumer
            .fetch_metadata(Some(&topic), Duration::from_secs(5))
            .map_err(|e| format!("metadata: {e}"))?;
        let t_md = Instant::now();
        let payload = format!("{{\"v\":1,\"op\":\"tick\",\"startup\":{i}}}");
        producer
            .send(BaseRecord::<str, str>::to(&topic).partition(0).payload(&payload))
            .map_err(|(e, _)| format!("cannot produce: {e}"))?;
        // Serve the producer's events on this thread until the report came (a 1 ms poll; a
        // cold start is tens of ms, so this granularity does not matter here).
        let deadline = Instant::now() + Duration::from_secs(10);
        let (acked, offset) = loop {
            producer.poll(Duration::from_millis(1));
            if let Some((at, outcome)) = ack.slot.lock().unwrap().take() {
                break (at, outcome.map_err(|e| format!("delivery failed: {e}"))?);
            }
            if Instant::now() >= deadline {
                return Err("no delivery report within 10 s".into());
            }
        };
        // As the extension's join: read from the record's own offset (it reads from the join
        // window's start, found with offsetsForTimes, one more round trip).
        let mut assignment = TopicPartitionList::new();
        assignment.add_partition_offset(&topic, 0, Offset::Offset(offset)).map_err(|e| e.to_string())?;
        consumer.assign(&assignment).map_err(|e| format!("cannot assign: {e}"))?;
        let seen = loop {
            match consumer.poll(Duration::from_secs(10)) {
                Some(Ok(m)) if m.payload() == Some(payload.as_bytes()) => break Instant::now(),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(format!("consumer error: {e}")),
                None => return Err("no record consumed back within 10 s".into()),
            }
        };
        drop(consumer);
        drop(producer);
        let t_end = Instant::now();
        metadata.push(t_md.duration_since(t0).as_micros() as u64);
        acks.push(acked.duration_since(t0).as_micros() as u64);
        rtts.push(seen.duration_since(t0).as_micros() as u64);
        totals.push(t_end.duration_since(t0).as_micros() as u64);
    }
    println!("{}", summary("new clients -> metadata", &metadata));
    println!("{}", summary("new clients -> first ack", &acks));
    println!("{}", summary("new clients -> first record consumed", &rtts));
    println!("{}", summary("... -> both clients destroyed", &totals));
    if let Some(out) = args.0.get("out") {
        let json = format!(
            "{{\"metadata_us\":{},\"ack_us\":{},\"rtt_us\":{},\"total_us\":{}}}\n",
            json_list(&metadata),
            json_list(&acks),
            json_list(&rtts),
            json_list(&totals)
        );
        std::fs::write(out, json).map_err(|e| format!("cannot write {out}: {e}"))?;
    }
    Ok(())
}

struct QuietContext;
impl ClientContext for QuietContext {}
impl ProducerContext for QuietContext {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, _)) = result {
            eprintln!("kafka-floor: delivery failed: {e}");
        }
    }
}

fn fill(args: &Args) -> Result<()> {
    let brokers = args.str("brokers", "localhost:9092");
    let topic = args.required("topic")?;
    let n = args.num("n", 10_000)?;
    let keys = args.num("keys", 1000)?.max(1);
    let partitions = args.num("partitions", 1)? as i32;
    ensure_topic(&brokers, &topic, partitions)?;
    let producer = producer(&brokers, "5", QuietContext)?;
    let consumer = consumer(&brokers)?;
    wait_for_leaders(&consumer, &topic)?;
    let (low, high) = consumer
        .fetch_watermarks(&topic, 0, Duration::from_secs(10))
        .map_err(|e| format!("cannot read the offsets of '{topic}': {e}"))?;
    if low != high || high != 0 {
        return Err(format!(
            "topic '{topic}' is not empty (offsets {low}..{high}): fill wants a fresh topic"
        ));
    }
    // One dead owner's acquire/release pairs: acquire at offset 2k, its release at 2k+1 (one
    // idempotent producer keeps the order, and the topic is fresh, so offsets are known).
    let owner = "bench-fill/0/0/0";
    let t0 = Instant::now();
    for i in 0..n {
        let key = format!("fill-{}", (i / 2) % keys);
        let value = if i % 2 == 0 {
            format!("{{\"v\":1,\"op\":\"acquire\",\"owner\":\"{owner}\",\"seq\":{},\"ttl\":10000}}", i / 2)
        } else {
            format!("{{\"v\":1,\"op\":\"release\",\"owner\":\"{owner}\",\"ref\":{}}}", i - 1)
        };
        loop {
            match producer.send(BaseRecord::to(&topic).partition(0).key(&key).payload(&value)) {
                Ok(()) => break,
                Err((e, _))
                    if e.rdkafka_error_code() == Some(rdkafka::types::RDKafkaErrorCode::QueueFull) =>
                {
                    producer.poll(Duration::from_millis(10));
                }
                Err((e, _)) => return Err(format!("cannot produce: {e}")),
            }
        }
        producer.poll(Duration::ZERO);
    }
    producer.flush(Duration::from_secs(60)).map_err(|e| format!("flush: {e}"))?;
    let (_, high) = consumer
        .fetch_watermarks(&topic, 0, Duration::from_secs(10))
        .map_err(|e| format!("cannot read the offsets of '{topic}': {e}"))?;
    if high != n as i64 {
        return Err(format!("topic '{topic}' ends at offset {high}, expected {n}"));
    }
    println!("filled {topic} with {n} records in {:.2} s", t0.elapsed().as_secs_f64());
    Ok(())
}

fn delete(args: &Args) -> Result<()> {
    let brokers = args.str("brokers", "localhost:9092");
    let prefix = args.required("prefix")?;
    if prefix.len() < 8 {
        return Err("--prefix must be at least 8 characters (it deletes topics)".into());
    }
    let consumer = consumer(&brokers)?;
    let md = consumer
        .fetch_metadata(None, Duration::from_secs(10))
        .map_err(|e| format!("cannot list topics: {e}"))?;
    let names: Vec<String> =
        md.topics().iter().map(|t| t.name().to_owned()).filter(|t| t.starts_with(&prefix)).collect();
    if names.is_empty() {
        println!("no topic starts with '{prefix}'");
        return Ok(());
    }
    let admin: AdminClient<DefaultClientContext> =
        base_config(&brokers).create().map_err(|e| format!("cannot create the admin client: {e}"))?;
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let results = futures_executor::block_on(admin.delete_topics(&refs, &options))
        .map_err(|e| format!("cannot delete topics: {e}"))?;
    let failed: Vec<String> =
        results.into_iter().filter_map(|r| r.err()).map(|(t, c)| format!("{t}: {c}")).collect();
    if !failed.is_empty() {
        return Err(format!("some topics were not deleted: {}", failed.join(", ")));
    }
    println!("deleted {} topic(s) starting with '{prefix}'", names.len());
    Ok(())
}
