//! Drives the state machine with arbitrary record sequences (well-formed ops with arbitrary
//! fields, junk bytes, timestamps jumping both ways, repeated and skipped offsets) and asserts
//! the replay invariants: one holder per lock, a full replay grants each lock's tokens in
//! strictly increasing order and only after the previous holder left, no live request past
//! its lease, and replaying the same records gives the same events.
#![no_main]

use std::collections::BTreeMap;

use kafka_lock::protocol::{encode_value, Event, Machine, Mode, Offset, Op};
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
            0 | 1 => (key, Some(encode_value(&Op::Acquire { owner, seq: 1, ttl, mode: Mode::Exclusive }))),
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
    let mut holders: BTreeMap<String, Offset> = BTreeMap::new();
    let mut last_grant: BTreeMap<String, Offset> = BTreeMap::new();
    for (offset, time, key, value) in input {
        machine.handle_record(*offset, *time, key.as_deref(), value.as_deref());
        while let Some(event) = machine.poll_event() {
            match &event {
                Event::Granted { key, token, .. } => {
                    if let Some(holder) = holders.get(key) {
                        // Only a mid-log replayer can see a holder displaced, and only by an
                        // earlier request it learns of late.
                        assert!(first > 0 && token < holder, "two holders of {key}");
                    }
                    if first == 0 {
                        if let Some(last) = last_grant.get(key) {
                            assert!(token > last, "grants of {key} out of order");
                        }
                    }
                    holders.insert(key.clone(), *token);
                    last_grant.insert(key.clone(), *token);
                }
                Event::Released { key, token, .. } | Event::Expired { key, token, .. }
                    if holders.get(key) == Some(token) =>
                {
                    holders.remove(key);
                }
                _ => {}
            }
            events.push(event);
        }
        let clock = machine.clock().unwrap_or(i64::MIN);
        for key in KEYS {
            let key = std::str::from_utf8(key).unwrap_or_default();
            assert_eq!(machine.holder(key).map(|r| r.token), holders.get(key).copied());
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
