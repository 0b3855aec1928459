//! Drives the state machine with arbitrary record sequences (well-formed ops with arbitrary
//! fields, junk bytes, timestamps jumping both ways, repeated and skipped offsets) and asserts
//! the replay invariants: the holders of a lock may always hold together (one exclusive, or
//! readers, or semaphore shares of one limit within it), a full replay grants each lock's
//! tokens in strictly increasing order and its holders are exactly those granted and not
//! gone, no live request past its lease, and replaying the same records gives the same events.
#![no_main]

use std::collections::{BTreeMap, BTreeSet};

use kafka_lock::protocol::{encode_value, Event, Held, Machine, Mode, Offset, Op};
use kafka_lock_protocol_fuzz::Bytes;
use libfuzzer_sys::fuzz_target;

const KEYS: [&[u8]; 3] = [b"a", b"b", b"c"];

type Input = (Offset, i64, Option<Vec<u8>>, Option<Vec<u8>>);

fn records(data: &[u8]) -> (Offset, Vec<Input>) {
    let mut bytes = Bytes(data);
    let first = Offset::from(bytes.byte().unwrap_or(0) % 8);
    let mut out = Vec::new();
    let (mut offset, mut time): (Offset, i64) = (0, 1_000_000);
    while let Some(kind) = bytes.byte() {
        let (Some(a), Some(b), Some(dt)) = (bytes.byte(), bytes.byte(), bytes.u16()) else {
            break;
        };
        // Mostly forward, sometimes backward; ttl up to 65_535 (some out of range).
        time += i64::from(dt as i16);
        let key = Some(KEYS[usize::from(a % 3)].to_vec());
        let owner = format!("o{}", b % 4);
        let back = |n: u8| (offset - 1 - Offset::from(n % 16)).max(0);
        let ttl = u64::from(bytes.u16().unwrap_or(1_000));
        let (key, value) = match kind % 9 {
            0 | 1 => {
                // Every mode on every key: kinds that never hold together wait for each other.
                let limit = u32::from(b % 3) + 1;
                let mode = match (a / 3) % 4 {
                    0 | 1 => Mode::Exclusive,
                    2 => Mode::Shared,
                    _ => Mode::Weighted { limit, weight: u32::from(a / 12) % limit + 1 },
                };
                (key, Some(encode_value(&Op::Acquire { owner, seq: 1, ttl, mode })))
            }
            2 | 3 => {
                let prev = time - i64::from(bytes.u16().unwrap_or(0));
                let op = Op::Renew { owner, r#ref: back(a / 3), prev, ttl };
                (key, Some(encode_value(&op)))
            }
            4 => (key, Some(encode_value(&Op::Release { owner, r#ref: back(a / 3) }))),
            5 => (None, Some(encode_value(&Op::Tick))),
            6 => {
                let len = usize::from(b % 32).min(bytes.0.len());
                let (junk, rest) = bytes.0.split_at(len);
                bytes.0 = rest;
                (key, Some(junk.to_vec()))
            }
            7 => {
                // A repeated or earlier offset.
                offset -= Offset::from(b % 3);
                (key, None)
            }
            _ => {
                // A gap in the offsets.
                offset += Offset::from(b % 5);
                (key, Some(encode_value(&Op::Tick)))
            }
        };
        out.push((offset, time, key, value));
        offset += 1;
    }
    (first, out)
}

fn replay(first: Offset, input: &[Input]) -> Vec<Event> {
    let mut machine = Machine::new(first);
    let mut events = Vec::new();
    let mut holders: BTreeMap<String, BTreeSet<Offset>> = BTreeMap::new();
    let mut last_grant: BTreeMap<String, Offset> = BTreeMap::new();
    for (offset, time, key, value) in input {
        machine.handle_record(*offset, *time, key.as_deref(), value.as_deref());
        while let Some(event) = machine.poll_event() {
            match &event {
                Event::Granted { key, token, .. } => {
                    // Only a mid-log replayer sees a request granted again (a claim it learnt of
                    // late stood in front of it for a while).
                    let fresh = holders.entry(key.clone()).or_default().insert(*token);
                    if first == 0 {
                        assert!(fresh, "{key} granted to {token} twice");
                        if let Some(last) = last_grant.get(key) {
                            assert!(token > last, "grants of {key} out of order");
                        }
                    }
                    last_grant.insert(key.clone(), *token);
                }
                Event::Released { key, token, .. } | Event::Expired { key, token, .. } => {
                    holders.entry(key.clone()).or_default().remove(token);
                }
                _ => {}
            }
            events.push(event);
        }
        let clock = machine.clock().unwrap_or(i64::MIN);
        for key in KEYS {
            let key = std::str::from_utf8(key).unwrap_or_default();
            let granted: BTreeSet<Offset> = machine.holders(key).map(|r| r.token).collect();
            if first == 0 {
                assert_eq!(granted, holders.get(key).cloned().unwrap_or_default());
            }
            let together = machine.holders(key).try_fold(Held::Nothing, |held, r| r.mode.admits(held));
            assert!(together.is_some(), "holders of {key} that may not hold together");
            for request in machine.queue(key) {
                assert!(clock <= request.deadline(), "request outlived its lease");
            }
        }
    }
    events
}

fuzz_target!(|data: &[u8]| {
    let (first, input) = records(data);
    for start in [0, first] {
        assert_eq!(replay(start, &input), replay(start, &input));
    }
});
