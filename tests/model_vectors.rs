//! Replays the test vectors of the design's independent Python model
//! (`shared/design/model/lockmodel.py --dump DIR N`) through the Rust core: two independent
//! implementations of the design must grant the same requests at the same offsets (the
//! machine), and mid-log joiners must see the same holders (a client core joined by the real
//! join path: delivery report, lookup, replay).
//!
//! The model is vendored unchanged in `tests/model/` (see its README), so the generated
//! comparison always runs and fails when the model is missing or fails. Vectors are generated
//! at test time (the dump is deterministic per seed); three are also checked in under
//! `tests/vectors/`.
//! The model uses a `max_ttl` of 1000 ms; our `MAX_TTL_MS` is larger, which only means our
//! tombstones live longer (safe: a tombstone only ever blocks a resurrection, which a full
//! replay never does).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use std::time::Duration;

use kafka_lock::protocol::{
    AcquireLookup, Client, Event, Ignored, Lease, LocalTime, Machine, Mode, Offset, PartitionId, Placement,
};
use serde_json::Value;

/// How many seeds to dump from the model at test time.
const GENERATED_SEEDS: usize = 20;

struct LogRecord {
    offset: Offset,
    timestamp: i64,
    key: Option<String>,
    value: String,
}

fn field<'a>(value: &'a Value, name: &str, context: &str) -> &'a Value {
    value.get(name).unwrap_or_else(|| panic!("{context}: vector has no field {name:?}"))
}

fn int(value: &Value, name: &str, context: &str) -> i64 {
    field(value, name, context).as_i64().unwrap_or_else(|| panic!("{context}: {name:?} is not an integer"))
}

fn parse_records(vector: &Value, context: &str) -> Vec<LogRecord> {
    field(vector, "records", context)
        .as_array()
        .expect("records is an array")
        .iter()
        .map(|r| LogRecord {
            offset: int(r, "offset", context),
            timestamp: int(r, "timestamp", context),
            key: field(r, "key", context).as_str().map(str::to_owned),
            value: field(r, "value", context).as_str().expect("value is a string").to_owned(),
        })
        .collect()
}

fn feed(machine: &mut Machine, record: &LogRecord) -> Vec<Event> {
    machine.handle_record(
        record.offset,
        record.timestamp,
        record.key.as_deref().map(str::as_bytes),
        Some(record.value.as_bytes()),
    );
    std::iter::from_fn(|| machine.poll_event()).collect()
}

/// Holder token of every lock that has one.
fn holders(machine: &Machine) -> BTreeMap<String, Offset> {
    machine.keys().filter_map(|key| machine.holder(key).map(|r| (key.to_owned(), r.token))).collect()
}

/// Checks one vector; returns (records, grants, joiner checkpoints) compared.
fn check_vector(path: &Path) -> (usize, usize, usize) {
    let context = path.display().to_string();
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{context}: {e}"));
    let vector: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{context}: {e}"));
    let records = parse_records(&vector, &context);

    // Full replay: grants must match exactly (same offsets, keys, tokens).
    let mut full = Machine::new(0);
    let mut grants: Vec<(Offset, String, Offset)> = Vec::new();
    for record in &records {
        for event in feed(&mut full, record) {
            match event {
                Event::Granted { key, token, at, .. } => grants.push((at, key, token)),
                Event::Ignored { offset, reason: reason @ Ignored::Malformed(_) } => {
                    panic!("{context}: model record {offset} rejected by the core: {reason}")
                }
                _ => {}
            }
        }
    }
    let mut expected: Vec<(Offset, String, Offset)> = field(&vector, "grants", &context)
        .as_array()
        .expect("grants is an array")
        .iter()
        .map(|g| {
            let key = field(g, "key", &context).as_str().expect("key").to_owned();
            (int(g, "offset", &context), key, int(g, "token", &context))
        })
        .collect();
    // Several locks can be granted at one record; the model lists them in its own dict order.
    grants.sort();
    expected.sort();
    assert_eq!(grants, expected, "{context}: full-replay grants differ");

    // Joiners: a machine started at start_offset must show the model's holders at every
    // listed offset (all at or after the joiner's first own record).
    let mut checkpoints = 0;
    for join in field(&vector, "joins", &context).as_array().expect("joins") {
        let start = int(join, "start_offset", &context);
        let first_own = int(join, "first_own_offset", &context);
        let expected: BTreeMap<Offset, BTreeMap<String, Offset>> = field(join, "holders_by_offset", &context)
            .as_object()
            .expect("holders_by_offset")
            .iter()
            .map(|(offset, holders)| {
                let offset: Offset = offset.parse().expect("offset key");
                let holders = holders
                    .as_object()
                    .expect("holders")
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_i64().expect("holder token")))
                    .collect();
                (offset, holders)
            })
            .collect();
        let (mut client, partition) = joined_client(&records, start, first_own);
        for record in records.iter().filter(|r| r.offset >= start) {
            let now = LocalTime::ZERO;
            let (key, value) = (record.key.as_deref().map(str::as_bytes), Some(record.value.as_bytes()));
            client.handle_record(now, &partition, record.offset, Some(record.timestamp), key, value);
            // The session reads the acquire of a request learnt of from a renew (none of the
            // model's records is deleted).
            for (p, token) in client.take_acquire_lookups() {
                let acquire = records.iter().find(|r| r.offset >= token).expect("the log holds the token");
                let found = AcquireLookup::Found {
                    offset: acquire.offset,
                    key: acquire.key.as_deref().map(str::as_bytes),
                    value: Some(acquire.value.as_bytes()),
                };
                client.handle_acquire_lookup(now, &p, token, found);
            }
            if let Some(want) = expected.get(&record.offset) {
                assert!(record.offset >= first_own);
                assert_eq!(
                    &holders(client.machine(&partition).expect("joined")),
                    want,
                    "{context}: joiner from {start} (first own record {first_own}) at {}",
                    record.offset
                );
                checkpoints += 1;
            }
        }
    }
    (records.len(), grants.len(), checkpoints)
}

/// A client core that joined the vector's partition by the real join path: its first record
/// is the model joiner's first own record (`first_own`, placement from the delivery report),
/// and the offset lookup answers `start`, the model's window start.
fn joined_client(records: &[LogRecord], start: Offset, first_own: Offset) -> (Client, PartitionId) {
    let partition = PartitionId::new("vectors", 0);
    let mut client = Client::new("vector-joiner".into(), [7; 32], Duration::from_secs(10));
    let now = LocalTime::ZERO;
    client
        .acquire(
            now,
            &partition,
            "joiner",
            Mode::Exclusive,
            Lease { ttl: Duration::from_secs(1), max_clock_step: Duration::ZERO },
        )
        .expect("acquire");
    let join = client.poll_transmit().expect("the join's record");
    assert!(join.report, "the first record of a partition asks for its placement");
    let log_time = records.iter().find(|r| r.offset == first_own).map(|r| r.timestamp);
    client.handle_report(now, join.id, Ok(Placement { offset: first_own, log_time }));
    client.take_join_lookup(&partition).expect("a lookup once placed");
    assert_eq!(client.handle_join_start(now, &partition, Some(start), 0), Some(start));
    (client, partition)
}

/// The vendored model (`tests/model/lockmodel.py`), or `KAFKA_LOCK_MODEL` to try another copy.
fn model_path() -> PathBuf {
    match std::env::var_os("KAFKA_LOCK_MODEL") {
        Some(path) => PathBuf::from(path),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/model/lockmodel.py"),
    }
}

#[test]
fn checked_in_vectors_match_the_model() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/vectors exists")
        .map(|entry| entry.expect("dir entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 3, "expected the checked-in vectors in {dir:?}");
    for path in paths {
        let (records, grants, checkpoints) = check_vector(&path);
        assert!(records > 100 && grants > 10 && checkpoints > 10);
    }
}

/// Generates fresh vectors from the design's model and replays them. A missing model is a
/// failure, not a skip: it is part of this repository.
#[test]
fn generated_vectors_match_the_model() {
    let model = model_path();
    assert!(
        model.is_file(),
        "the design's model is not at {model:?} (vendored in tests/model/; KAFKA_LOCK_MODEL overrides the path)"
    );
    let dir = std::env::temp_dir().join(format!("kafka_lock_vectors_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let status = Command::new("python3")
        .arg(&model)
        .arg("--dump")
        .arg(&dir)
        .arg(GENERATED_SEEDS.to_string())
        .status()
        .expect("python3 must be installed to run the model");
    assert!(status.success(), "the model failed: {status}");
    let (mut records, mut grants, mut checkpoints) = (0, 0, 0);
    for seed in 0..GENERATED_SEEDS {
        let (r, g, c) = check_vector(&dir.join(format!("vector-{seed:03}.json")));
        records += r;
        grants += g;
        checkpoints += c;
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("model vectors: {GENERATED_SEEDS} seeds, {records} records, {grants} grants, {checkpoints} joiner checkpoints");
    assert!(grants > 1_000, "too few grants to mean anything: {grants}");
}
