//! Unit tests of the state machine's rules, one corner case each.

use super::*;
use crate::protocol::commitment_of;

const K: &str = "lock";

fn acquire(owner: &str, seq: u64, ttl: u64) -> Op {
    Op::Acquire { owner: owner.into(), seq, ttl, mode: Mode::Exclusive }
}

fn acquire_as(owner: &str, mode: Mode) -> Op {
    Op::Acquire { owner: owner.into(), seq: 1, ttl: 30_000, mode }
}

/// The tokens holding `key`, oldest first.
fn holding(m: &Machine, key: &str) -> Vec<Offset> {
    m.holders(key).map(|r| r.token).collect()
}

fn renew(owner: &str, token: Offset, prev: LogTime, ttl: u64) -> Op {
    Op::Renew { owner: owner.into(), r#ref: token, prev, ttl }
}

fn release(owner: &str, token: Offset) -> Op {
    Op::Release { owner: owner.into(), r#ref: token }
}

/// Feeds one record through the wire encoding and returns the events it caused.
fn feed(m: &mut Machine, offset: Offset, ts: LogTime, key: Option<&str>, op: &Op) -> Vec<Event> {
    m.handle_record(offset, ts, key.map(str::as_bytes), Some(&encode_value(op)));
    drain(m)
}

fn drain(m: &mut Machine) -> Vec<Event> {
    std::iter::from_fn(|| m.poll_event()).collect()
}

fn holder(m: &Machine, key: &str) -> Option<Offset> {
    m.holder(key).map(|r| r.token)
}

fn granted(key: &str, token: Offset, owner: &str, at: Offset) -> Event {
    Event::Granted { key: key.into(), token, owner: owner.into(), at }
}

fn ignored(offset: Offset, reason: Ignored) -> Event {
    Event::Ignored { offset, reason }
}

/// Answers the lookup of `token` (which must be asked for) with the record `op` under `key`
/// at that offset, and returns the events it caused.
fn look_up(m: &mut Machine, token: Offset, key: &str, op: &Op, proof: &Proof) -> Vec<Event> {
    assert_eq!(m.take_acquire_lookups(), vec![token], "the lookup asked for");
    let value = encode_value_with(op, proof);
    m.handle_acquire_lookup(
        token,
        AcquireLookup::Found { offset: token, key: Some(key.as_bytes()), value: Some(&value) },
    );
    drain(m)
}

#[test]
fn acquire_on_free_lock_is_granted_at_once() {
    let mut m = Machine::new(0);
    let events = feed(&mut m, 0, 100, Some(K), &acquire("a", 1, 50));
    assert_eq!(
        events,
        vec![
            Event::Enqueued {
                key: K.into(),
                token: 0,
                owner: "a".into(),
                seq: 1,
                alive_at: 100,
                nonce: None
            },
            granted(K, 0, "a", 0),
        ]
    );
    assert_eq!(m.deadline_of(K, 0), Some(150));
    assert_eq!(m.next_expiry(), Some(151));
    assert_eq!(m.clock(), Some(100));
    assert_eq!(m.next_offset(), 1);
    assert_eq!(m.lock_count(), 1);
}

#[test]
fn queue_is_fifo_and_release_grants_next_at_that_record() {
    let mut m = Machine::new(0);
    feed(&mut m, 0, 100, Some(K), &acquire("a", 1, 50));
    feed(&mut m, 1, 101, Some(K), &acquire("b", 1, 50));
    feed(&mut m, 2, 102, Some(K), &acquire("c", 1, 50));
    assert_eq!(holder(&m, K), Some(0));
    assert_eq!(m.queue_len(K), 3);
    let events = feed(&mut m, 3, 103, Some(K), &release("a", 0));
    assert_eq!(
        events,
        vec![Event::Released { key: K.into(), token: 0, owner: "a".into() }, granted(K, 1, "b", 3),]
    );
    // A waiter leaving does not change the holder: no grant.
    let events = feed(&mut m, 4, 104, Some(K), &release("c", 2));
    assert_eq!(events.len(), 1);
    assert_eq!(holder(&m, K), Some(1));
    feed(&mut m, 5, 105, Some(K), &release("b", 1));
    assert_eq!(m.lock_count(), 0, "empty queues are forgotten");
    assert_eq!(m.stats().grants, 2);
    assert_eq!(m.stats().releases, 3);
}

#[test]
fn locks_are_independent() {
    let mut m = Machine::new(0);
    feed(&mut m, 0, 100, Some("x"), &acquire("a", 1, 50));
    feed(&mut m, 1, 100, Some("y"), &acquire("b", 1, 50));
    assert_eq!(holder(&m, "x"), Some(0));
    assert_eq!(holder(&m, "y"), Some(1));
    assert_eq!(m.keys().collect::<Vec<_>>(), vec!["x", "y"]);
}

#[test]
fn equal_timestamps_keep_offset_order() {
    let mut m = Machine::new(0);
    feed(&mut m, 0, 100, Some(K), &acquire("a", 1, 50));
    feed(&mut m, 1, 100, Some(K), &acquire("b", 1, 50));
    assert_eq!(holder(&m, K), Some(0));
    // Expiry is strict: at exactly last_alive + ttl the request is still alive.
    feed(&mut m, 2, 150, None, &Op::Tick);
    assert_eq!(holder(&m, K), Some(0));
    let events = feed(&mut m, 3, 151, None, &Op::Tick);
    // Both expire at the same record, in token order; nobody is left to grant.
    assert!(matches!(events[0], Event::Expired { token: 0, .. }));
    assert!(matches!(events[1], Event::Expired { token: 1, .. }));
    assert_eq!(events.len(), 2);
}

#[test]
fn timestamps_going_backwards_do_not_move_the_clock_back() {
    let mut m = Machine::new(0);
    feed(&mut m, 0, 1_000, Some(K), &acquire("a", 1, 50));
    let events = feed(&mut m, 1, 900, Some(K), &acquire("b", 1, 50));
    assert_eq!(m.clock(), Some(1_000));
    // The request is stamped with the log clock, not the record's own older timestamp.
    assert!(matches!(events[0], Event::Enqueued { alive_at: 1_000, .. }));
    assert_eq!(m.deadline_of(K, 1), Some(1_050));
    // A renew with prev = its record's timestamp (900) is valid only while clock <= 950.
    let events = feed(&mut m, 2, 960, Some(K), &renew("b", 1, 900, 50));
    assert_eq!(events, vec![ignored(2, Ignored::RenewInvalid)]);
}

#[test]
fn release_by_non_owner_changes_nothing() {
    let mut m = Machine::new(0);
    feed(&mut m, 0, 100, Some(K), &acquire("a", 1, 50));
    let events = feed(&mut m, 1, 101, Some(K), &release("mallory", 0));
    assert_eq!(events, vec![ignored(1, Ignored::ReleaseWrongOwner)]);
    assert_eq!(holder(&m, K), Some(0));
    assert!(!m.is_tombstoned(0));
    // The real owner can still renew.
    let events = feed(&mut m, 2, 102, Some(K), &renew("a", 0, 100, 50));
    assert!(matches!(events[0], Event::Renewed { token: 0, .. }));
}

#[test]
fn release_of_unknown_ref_tombstones_it_for_a_joiner() {
    // A joiner starting at offset 10 has not seen acquire 3.
    let mut m = Machine::new(10);
    let events = feed(&mut m, 10, 1_000, Some(K), &release("a", 3));
    assert_eq!(events, vec![ignored(10, Ignored::ReleaseUnknown)]);
    assert!(m.is_tombstoned(3));
    // A renew of it that lands after its own release (still valid by time) stays ignored.
    let events = feed(&mut m, 11, 1_001, Some(K), &renew("a", 3, 990, 50));
    assert_eq!(events, vec![ignored(11, Ignored::RenewTombstoned)]);
    assert_eq!(m.lock_count(), 0);
}

#[test]
fn renew_after_expiry_is_ignored() {
    let mut m = Machine::new(0);
    feed(&mut m, 0, 100, Some(K), &acquire("a", 1, 50));
    feed(&mut m, 1, 140, Some(K), &renew("a", 0, 100, 50));
    assert_eq!(m.deadline_of(K, 0), Some(190));
    // The zombie sends a renew with the last prev it learned (140): invalid at 191.
    let events = feed(&mut m, 2, 191, Some(K), &renew("a", 0, 140, 50));
    assert!(matches!(events[0], Event::Expired { token: 0, .. }));
    assert_eq!(events[1], ignored(2, Ignored::RenewInvalid));
    // Even a renew that claims a fresh prev cannot bring it back: this replayer read its
    // acquire, so a token it does not hold live is gone (no tombstone needed).
    let events = feed(&mut m, 3, 192, Some(K), &renew("a", 0, 180, 50));
    assert_eq!(events, vec![ignored(3, Ignored::RenewUnknown)]);
    assert_eq!(m.tombstone_count(), 0);
}

#[test]
fn renew_with_prev_too_old_is_invalid_even_for_a_live_request() {
    let mut m = Machine::new(0);
    feed(&mut m, 0, 100, Some(K), &acquire("a", 1, 50));
    feed(&mut m, 1, 140, Some(K), &renew("a", 0, 100, 50));
    // Still alive (deadline 190), but the sender's prev (80) + ttl < clock: stale writer.
    let events = feed(&mut m, 2, 150, Some(K), &renew("a", 0, 80, 50));
    assert_eq!(events, vec![ignored(2, Ignored::RenewInvalid)]);
    assert_eq!(m.deadline_of(K, 0), Some(190), "an invalid renew changes nothing");
    // prev + ttl == clock is still valid.
    let events = feed(&mut m, 3, 190, Some(K), &renew("a", 0, 140, 50));
    assert!(matches!(events[0], Event::Renewed { alive_at: 190, .. }));
}

#[test]
fn renew_by_wrong_owner_or_under_wrong_key_is_ignored() {
    let mut m = Machine::new(0);
    feed(&mut m, 0, 100, Some(K), &acquire("a", 1, 50));
    let events = feed(&mut m, 1, 110, Some(K), &renew("b", 0, 100, 50));
    assert_eq!(events, vec![ignored(1, Ignored::RenewWrongOwner)]);
    let events = feed(&mut m, 2, 120, Some("other"), &renew("a", 0, 100, 50));
    assert_eq!(events, vec![ignored(2, Ignored::RenewWrongKey)]);
    let events = feed(&mut m, 3, 121, Some("other"), &release("a", 0));
    assert_eq!(events, vec![ignored(3, Ignored::ReleaseWrongKey)]);
    assert_eq!(m.deadline_of(K, 0), Some(150));
    assert_eq!(m.lock_count(), 1);
}

#[test]
fn a_renew_never_shortens_a_lease() {
    let mut m = Machine::new(0);
    feed(&mut m, 0, 100, Some(K), &acquire("a", 1, 50));
    // A renew with ttl 1 (as a copied record could carry) extends by the request's own ttl.
    feed(&mut m, 1, 120, Some(K), &renew("a", 0, 119, 1));
    let request = m.request(K, 0).unwrap();
    assert_eq!((request.ttl, request.last_alive), (50, 120));
    assert_eq!(m.deadline_of(K, 0), Some(170));
    // A longer one lengthens it.
    feed(&mut m, 2, 130, Some(K), &renew("a", 0, 120, 80));
    assert_eq!(m.deadline_of(K, 0), Some(210));
}

#[test]
fn full_replay_never_resurrects_unknown_refs() {
    let mut m = Machine::new(0);
    feed(&mut m, 0, 100, None, &Op::Tick);
    // Ref 0 is a tick, ref 5 is in the future: neither is a request.
    let events = feed(&mut m, 1, 101, Some(K), &renew("a", 0, 100, 50));
    assert_eq!(events, vec![ignored(1, Ignored::RenewUnknown)]);
    let events = feed(&mut m, 2, 102, Some(K), &renew("a", 5, 100, 50));
    assert_eq!(events, vec![ignored(2, Ignored::RenewUnknown)]);
    assert_eq!(m.lock_count(), 0);
}

#[test]
fn mid_log_joiner_inserts_requests_acquired_before_its_window() {
    let mut m = Machine::new(100);
    assert_eq!(m.first_offset(), 100);
    assert_eq!(m.next_offset(), 100);
    // Requests 40 and 70 were acquired before offset 100; the joiner learns of 70 first.
    feed(&mut m, 100, 5_000, Some(K), &acquire("c", 1, 50));
    let events = feed(&mut m, 101, 5_010, Some(K), &renew("b", 70, 4_990, 50));
    assert_eq!(
        events,
        vec![
            Event::Renewed { key: K.into(), token: 70, owner: "b".into(), alive_at: 5_010 },
            granted(K, 70, "b", 101),
        ]
    );
    // An earlier request slots in ahead of it, at its own position.
    let events = feed(&mut m, 102, 5_020, Some(K), &renew("a", 40, 5_000, 50));
    assert_eq!(events[1], granted(K, 40, "a", 102));
    assert_eq!(m.queue(K).map(|r| r.token).collect::<Vec<_>>(), vec![40, 70, 100]);
    assert_eq!(m.stats().resurrections, 2);
    // Refs at or after the first offset are never inserted by a renew.
    let events = feed(&mut m, 103, 5_021, Some(K), &renew("a", 101, 5_000, 50));
    assert_eq!(events, vec![ignored(103, Ignored::RenewUnknown)]);
    // An invalid renew of an unknown ref does nothing either.
    let events = feed(&mut m, 104, 5_022, Some(K), &renew("z", 10, 4_000, 50));
    assert_eq!(events, vec![ignored(104, Ignored::RenewInvalid)]);
}

#[test]
fn waiter_expiring_does_not_change_the_holder() {
    // Holder 0, waiters 1 and 2; waiter 1 (short ttl) expires first.
    let mut m = Machine::new(0);
    feed(&mut m, 0, 100, Some(K), &acquire("a", 1, 500));
    feed(&mut m, 1, 100, Some(K), &acquire("b", 1, 10));
    feed(&mut m, 2, 100, Some(K), &acquire("c", 1, 500));
    let events = feed(&mut m, 3, 200, None, &Op::Tick);
    assert_eq!(events, vec![Event::Expired { key: K.into(), token: 1, owner: "b".into() }]);
    assert_eq!(holder(&m, K), Some(0));
    // When the holder goes, the grant skips the expired waiter.
    let events = feed(&mut m, 4, 201, Some(K), &release("a", 0));
    assert_eq!(events[1], granted(K, 2, "c", 4));
}

#[test]
fn request_ahead_of_the_holder_expiring_regrants_the_holder() {
    // Only a joiner can see a request ahead of its current head: one it learns of late.
    let mut m = Machine::new(100);
    feed(&mut m, 100, 1_000, Some(K), &acquire("c", 1, 500));
    let events = feed(&mut m, 101, 1_001, Some(K), &renew("a", 40, 1_000, 20));
    assert_eq!(events[1], granted(K, 40, "a", 101));
    look_up(&mut m, 40, K, &acquire("a", 1, 20), &Proof::default());
    // Request 40 expires (1_001 + 20 < 1_030): 100 is head again, granted at that record.
    let events = feed(&mut m, 102, 1_030, None, &Op::Tick);
    assert!(matches!(events[0], Event::Expired { token: 40, .. }));
    assert_eq!(events[1], granted(K, 100, "c", 102));
}

#[test]
fn holder_expiring_with_waiters_grants_the_next_at_that_record() {
    let mut m = Machine::new(0);
    feed(&mut m, 0, 100, Some(K), &acquire("a", 1, 50));
    feed(&mut m, 1, 110, Some(K), &acquire("b", 1, 500));
    feed(&mut m, 2, 120, Some(K), &acquire("c", 1, 500));
    // The record that moves log time past 150 expires a and grants b, whatever its op.
    let events = feed(&mut m, 3, 151, Some(K), &renew("c", 2, 120, 500));
    assert_eq!(
        events,
        vec![
            Event::Expired { key: K.into(), token: 0, owner: "a".into() },
            Event::Renewed { key: K.into(), token: 2, owner: "c".into(), alive_at: 151 },
            granted(K, 1, "b", 3),
        ]
    );
    assert_eq!(m.stats().expiries, 1);
}

#[test]
fn holder_expiring_and_waiter_expiring_together_grant_the_survivor() {
    let mut m = Machine::new(0);
    feed(&mut m, 0, 100, Some(K), &acquire("a", 1, 50));
    feed(&mut m, 1, 100, Some(K), &acquire("b", 1, 50));
    feed(&mut m, 2, 100, Some(K), &acquire("c", 1, 500));
    let events = feed(&mut m, 3, 151, None, &Op::Tick);
    assert_eq!(events.len(), 3);
    assert_eq!(events[2], granted(K, 2, "c", 3));
}

#[test]
fn tombstones_are_dropped_after_max_ttl() {
    // A joiner from offset 10: request 3 was acquired before its window.
    let mut m = Machine::new(10);
    let max_ttl = MAX_TTL_MS as i64;
    feed(&mut m, 10, 110, Some(K), &release("a", 3));
    assert!(m.is_tombstoned(3));
    feed(&mut m, 11, 110 + max_ttl, None, &Op::Tick);
    assert!(m.is_tombstoned(3), "kept while clock <= removal + MAX_TTL_MS");
    feed(&mut m, 12, 111 + max_ttl, None, &Op::Tick);
    assert!(!m.is_tombstoned(3));
    assert_eq!(m.tombstone_count(), 0);
    // A second removal of the same ref renews the tombstone's age.
    let mut m = Machine::new(10);
    feed(&mut m, 10, 0, Some(K), &release("a", 3));
    feed(&mut m, 11, 1_000, Some(K), &release("a", 3));
    feed(&mut m, 12, 500 + max_ttl, None, &Op::Tick);
    assert!(m.is_tombstoned(3));
    assert_eq!(m.tombstone_count(), 1);
}

#[test]
fn empty_and_oversized_identifiers_are_malformed() {
    let mut m = Machine::new(0);
    let long = "k".repeat(MAX_IDENTIFIER_BYTES + 1);
    let events = feed(&mut m, 0, 100, Some(""), &acquire("a", 1, 50));
    assert_eq!(events, vec![ignored(0, Ignored::Malformed(Reject::EmptyKey))]);
    let events = feed(&mut m, 1, 100, Some(&long), &acquire("a", 1, 50));
    assert_eq!(events, vec![ignored(1, Ignored::Malformed(Reject::KeyTooLong))]);
    let events = feed(&mut m, 2, 100, None, &acquire("a", 1, 50));
    assert_eq!(events, vec![ignored(2, Ignored::Malformed(Reject::NullKey))]);
    assert_eq!(m.lock_count(), 0);
    assert_eq!(m.stats().malformed, 3);
}

#[test]
fn malformed_records_move_the_clock_and_expire() {
    let mut m = Machine::new(0);
    feed(&mut m, 0, 100, Some(K), &acquire("a", 1, 50));
    feed(&mut m, 1, 100, Some(K), &acquire("b", 1, 500));
    m.handle_record(2, 151, Some(b"junk"), Some(b"not json"));
    assert_eq!(
        drain(&mut m),
        vec![
            Event::Expired { key: K.into(), token: 0, owner: "a".into() },
            ignored(2, Ignored::Malformed(Reject::NotJson)),
            granted(K, 1, "b", 2),
        ]
    );
    assert_eq!(m.clock(), Some(151));
    m.handle_record(3, 152, None, None);
    assert_eq!(drain(&mut m), vec![ignored(3, Ignored::Malformed(Reject::NullValue))]);
    let stats = m.stats();
    assert_eq!((stats.records, stats.malformed, stats.ignored), (4, 2, 0));
}

#[test]
fn every_reject_reason_reaches_the_event_stream() {
    // One record per decode failure the wire can carry (the decoder's own tests cover each
    // reason's detection; this checks they surface as Ignored events, never a panic).
    type Junk<'a> = (Option<&'a [u8]>, Option<&'a [u8]>, Reject);
    let junk: Vec<Junk> = vec![
        (Some(b"k"), None, Reject::NullValue),
        (Some(b"k"), Some(b"{"), Reject::NotJson),
        (Some(b"k"), Some(b"[]"), Reject::NotObject),
        (Some(b"k"), Some(br#"{"v":1,"v":1}"#), Reject::DuplicateField("v")),
        (Some(b"k"), Some(br#"{"v":1,"op":"tick","x":0}"#), Reject::UnknownField),
        (Some(b"k"), Some(br#"{"op":"tick"}"#), Reject::MissingField("v")),
        (Some(b"k"), Some(br#"{"v":1,"op":[]}"#), Reject::WrongType("op")),
        (Some(b"k"), Some(br#"{"v":9,"op":"tick"}"#), Reject::BadVersion),
        (Some(b"k"), Some(br#"{"v":1,"op":"grab"}"#), Reject::UnknownOp),
        (None, Some(br#"{"v":1,"op":"release","owner":"a","ref":1}"#), Reject::NullKey),
        (Some(&[0xff]), Some(br#"{"v":1,"op":"release","owner":"a","ref":1}"#), Reject::KeyNotUtf8),
        (Some(b""), Some(br#"{"v":1,"op":"release","owner":"a","ref":1}"#), Reject::EmptyKey),
        (Some(b"k"), Some(br#"{"v":1,"op":"release","owner":"","ref":1}"#), Reject::OwnerInvalid),
        (Some(b"k"), Some(br#"{"v":1,"op":"release","owner":"a","ref":-1}"#), Reject::NegativeRef),
        (
            Some(b"k"),
            Some(br#"{"v":1,"op":"acquire","owner":"a","seq":1,"ttl":60001}"#),
            Reject::TtlOutOfRange,
        ),
    ];
    let mut m = Machine::new(0);
    for (offset, (key, value, reason)) in junk.into_iter().enumerate() {
        m.handle_record(offset as Offset, 100, key, value);
        assert_eq!(drain(&mut m), vec![ignored(offset as Offset, Ignored::Malformed(reason))]);
    }
    let long_key = vec![b'k'; MAX_IDENTIFIER_BYTES + 1];
    m.handle_record(100, 100, Some(&long_key), Some(&encode_value(&release("a", 1))));
    m.handle_record(101, 100, Some(b"k"), Some(&vec![b' '; MAX_VALUE_BYTES + 1]));
    let reasons: Vec<Event> = drain(&mut m);
    assert_eq!(
        reasons,
        vec![
            ignored(100, Ignored::Malformed(Reject::KeyTooLong)),
            ignored(101, Ignored::Malformed(Reject::ValueTooLarge)),
        ]
    );
}

#[test]
fn hand_built_records_are_held_to_the_decoder_limits() {
    let mut m = Machine::new(0);
    let record =
        Record { key: Some(K.into()), op: acquire("a", 1, MAX_TTL_MS + 1), proof: Default::default() };
    m.handle_decoded(0, 100, Ok(record));
    assert_eq!(drain(&mut m), vec![ignored(0, Ignored::Malformed(Reject::TtlOutOfRange))]);
    m.handle_decoded(1, 100, Err(Reject::UnknownOp));
    assert_eq!(drain(&mut m), vec![ignored(1, Ignored::Malformed(Reject::UnknownOp))]);
}

#[test]
fn offsets_must_increase() {
    let mut m = Machine::new(5);
    // Before the first offset.
    let events = feed(&mut m, 4, 100, Some(K), &acquire("a", 1, 50));
    assert_eq!(events, vec![ignored(4, Ignored::OffsetNotIncreasing)]);
    assert_eq!(m.clock(), None, "an out-of-order record does not move the clock");
    feed(&mut m, 5, 100, Some(K), &acquire("a", 1, 50));
    // A duplicate delivery, even with a later timestamp, changes nothing.
    let events = feed(&mut m, 5, 1_000, Some(K), &release("a", 5));
    assert_eq!(events, vec![ignored(5, Ignored::OffsetNotIncreasing)]);
    assert_eq!(m.clock(), Some(100));
    assert_eq!(holder(&m, K), Some(5));
    // Gaps (compacted or transactional offsets) are fine.
    feed(&mut m, 9, 101, Some(K), &acquire("b", 1, 50));
    assert_eq!(m.next_offset(), 10);
    assert_eq!(m.stats().ignored, 2);
}

#[test]
fn next_expiry_tracks_the_earliest_live_deadline() {
    let mut m = Machine::new(0);
    assert_eq!(m.next_expiry(), None);
    feed(&mut m, 0, 100, Some("x"), &acquire("a", 1, 500));
    feed(&mut m, 1, 100, Some("y"), &acquire("b", 1, 50));
    assert_eq!(m.next_expiry(), Some(151));
    feed(&mut m, 2, 140, Some("y"), &renew("b", 1, 100, 50));
    assert_eq!(m.next_expiry(), Some(191));
    feed(&mut m, 3, 141, Some("y"), &release("b", 1));
    assert_eq!(m.next_expiry(), Some(601));
    feed(&mut m, 4, 601, None, &Op::Tick);
    assert_eq!(m.next_expiry(), None);
    assert_eq!(m.lock_count(), 0);
}

#[test]
fn extreme_timestamps_do_not_overflow() {
    let mut m = Machine::new(0);
    feed(&mut m, 0, i64::MAX - 10, Some(K), &acquire("a", 1, MAX_TTL_MS));
    assert_eq!(m.deadline_of(K, 0), Some(i64::MAX));
    assert_eq!(m.next_expiry(), Some(i64::MAX));
    feed(&mut m, 1, i64::MAX, Some(K), &renew("a", 0, i64::MAX, MAX_TTL_MS));
    feed(&mut m, 2, i64::MIN, None, &Op::Tick);
    assert_eq!(holder(&m, K), Some(0));
    let mut m = Machine::new(i64::MAX);
    feed(&mut m, i64::MAX, i64::MIN, Some(K), &acquire("a", 1, 1));
    assert_eq!(m.next_offset(), i64::MAX);
    let events = feed(&mut m, i64::MAX, 0, Some(K), &acquire("a", 1, 1));
    assert_eq!(events, vec![ignored(i64::MAX, Ignored::OffsetNotIncreasing)]);
}

#[test]
fn ten_thousand_locks_expire_in_one_tick() {
    let mut m = Machine::new(0);
    for i in 0..10_000 {
        feed(&mut m, i, 100, Some(&format!("lock-{i}")), &acquire("a", 1, 50));
    }
    assert_eq!(m.lock_count(), 10_000);
    let events = feed(&mut m, 10_000, 151, None, &Op::Tick);
    assert_eq!(events.len(), 10_000);
    assert_eq!(m.lock_count(), 0);
    // Acquired at or after the first offset: their removal needs no tombstone.
    assert_eq!(m.tombstone_count(), 0);
}

#[test]
fn a_flood_of_acquires_and_releases_stays_bounded() {
    let mut m = Machine::new(0);
    let value = encode_value(&acquire("flood", 1, MAX_TTL_MS));
    let mut offset = 0;
    for _ in 0..MAX_LIVE_REQUESTS {
        m.handle_record(offset, 100, Some(b"k"), Some(&value));
        drain(&mut m);
        offset += 1;
    }
    assert_eq!(m.stats().refused_full, 0);
    let events = feed(&mut m, offset, 100, Some(K), &acquire("late", 1, 5));
    assert_eq!(events, vec![ignored(offset, Ignored::PartitionFull)]);
    assert_eq!(m.stats().refused_full, 1);
    // Releases of requests nobody knows, acquired before a joiner's window: tombstones, at
    // most MAX_TOMBSTONES of them.
    let first = 1_000_000_000;
    let mut m = Machine::new(first);
    for i in 0..MAX_TOMBSTONES as i64 + 10 {
        m.handle_record(first + i, 100, Some(b"k"), Some(&encode_value(&release("x", i))));
        drain(&mut m);
    }
    assert_eq!(m.tombstone_count(), MAX_TOMBSTONES);
    assert_eq!(m.stats().tombstones_evicted, 10);
}

/// Feeds a record carrying `proof`.
fn feed_with_proof(m: &mut Machine, offset: Offset, ts: LogTime, op: &Op, proof: &Proof) -> Vec<Event> {
    m.handle_record(offset, ts, Some(K.as_bytes()), Some(&encode_value_with(op, proof)));
    drain(m)
}

/// A committed request ends early only by a release carrying the secret that opens its
/// commitment: none, or another one (a forger's, or a copy of another request's), changes
/// nothing. A release of a request this replayer never saw keeps its secret in the tombstone:
/// a later renew naming the commitment it opens cannot bring the request back, a renew naming
/// another can (it may be the real owner's after a forged release).
#[test]
fn a_committed_request_ends_early_only_by_the_secret_of_its_commitment() {
    let (secret, other) = ([1; 32], [2; 32]);
    let committed = |secret: &[u8; 32]| Proof { commitment: Some(commitment_of(secret)), ..Proof::default() };
    let revealing = |secret: [u8; 32]| Proof { secret: Some(secret), ..Proof::default() };
    let mut m = Machine::new(0);
    feed_with_proof(&mut m, 0, 100, &acquire("a", 1, 10_000), &committed(&secret));
    feed_with_proof(&mut m, 1, 101, &acquire("b", 1, 10_000), &committed(&other));
    let events = feed_with_proof(&mut m, 2, 102, &release("a", 0), &Proof::default());
    assert_eq!(events, vec![ignored(2, Ignored::ReleaseBadSecret)]);
    let events = feed_with_proof(&mut m, 3, 103, &release("a", 0), &revealing(other));
    assert_eq!(events, vec![ignored(3, Ignored::ReleaseBadSecret)]);
    assert_eq!(holder(&m, K), Some(0));
    let events = feed_with_proof(&mut m, 4, 104, &release("a", 0), &revealing(secret));
    assert_eq!(
        events,
        vec![Event::Released { key: K.into(), token: 0, owner: "a".into() }, granted(K, 1, "b", 4)]
    );

    let mut joiner = Machine::new(100);
    feed_with_proof(&mut joiner, 100, 1_000, &release("a", 40), &revealing(secret));
    let events = feed_with_proof(&mut joiner, 101, 1_001, &renew("a", 40, 1_001, 5_000), &committed(&secret));
    assert_eq!(events, vec![ignored(101, Ignored::RenewTombstoned)]);
    let events = feed_with_proof(&mut joiner, 102, 1_002, &renew("a", 40, 1_002, 5_000), &committed(&other));
    assert!(matches!(events[..], [Event::Renewed { token: 40, .. }, ..]), "{events:?}");
}

/// A forger's claim carrying its own commitment, then a release opening it, before the joiner
/// has read the acquire: the release waits for the acquire and, opening another commitment,
/// ends nothing (before, it ended the request while its owner held it, and the view no longer
/// waited for the acquire: two holders). The owner's own release in that time ends the request
/// once the acquire is read.
#[test]
fn a_release_of_a_claim_waits_for_its_acquire() {
    let (owner_secret, forger_secret) = ([1; 32], [6; 32]);
    let committed = |s: &[u8; 32]| Proof { commitment: Some(commitment_of(s)), ..Proof::default() };
    let revealing = |s: [u8; 32]| Proof { secret: Some(s), ..Proof::default() };
    for owners_release in [false, true] {
        let mut m = Machine::new(100);
        feed_with_proof(&mut m, 100, 1_000, &renew("a", 40, 1_000, 30_000), &committed(&forger_secret));
        let secret = if owners_release { owner_secret } else { forger_secret };
        let events = feed_with_proof(&mut m, 101, 1_001, &release("a", 40), &revealing(secret));
        assert_eq!(events, vec![], "kept until the acquire is read");
        assert_eq!(holder(&m, K), Some(40));
        assert!(m.awaits_acquires());
        assert_eq!(m.stats().releases_deferred, 1);
        let events = look_up(&mut m, 40, K, &acquire("a", 7, 30_000), &committed(&owner_secret));
        if owners_release {
            assert_eq!(events, vec![Event::Released { key: K.into(), token: 40, owner: "a".into() }]);
            assert_eq!(holder(&m, K), None);
        } else {
            assert_eq!(events, vec![]);
            assert_eq!(holder(&m, K), Some(40));
        }
    }
}

/// A joiner's request brought back by a renew after a claim expired keeps its marks when that
/// expiry's tombstone ages out: the owner's renews, naming another key than the claim that
/// brought it back, still keep it alive (found by `forging_writers_never_give_two_holders`
/// with `PROPTEST_RNG_SEED=6`, when a forged 1 ms claim could expire; now a claim whose
/// acquire was deleted, and so keeps the longest lease, shows it).
#[test]
fn a_request_brought_back_keeps_its_marks_when_the_old_tombstone_ages_out() {
    let with_key = |seed: u8| Proof { commitment: Some([seed; 32]), ..Proof::default() };
    let (owner, forger) = (with_key(1), with_key(2));
    let max = MAX_TTL_MS as i64;
    let mut m = Machine::new(100);
    feed_with_proof(&mut m, 100, 1_000, &Op::Tick, &Proof::default());
    // A claim copying the owner's key; its acquire is gone, so it keeps the longest lease.
    feed_with_proof(&mut m, 101, 1_001, &renew("a", 40, 1_500, 1), &owner);
    assert_eq!(m.take_acquire_lookups(), vec![40]);
    m.handle_acquire_lookup(40, AcquireLookup::Gone);
    let events = feed_with_proof(&mut m, 102, 1_002 + max, &Op::Tick, &Proof::default());
    assert!(matches!(events[..], [Event::Expired { token: 40, .. }, ..]), "{events:?}");
    // Another claim under the forger's own key brings it back; the owner's renew follows.
    feed_with_proof(&mut m, 103, 2_000 + max, &renew("a", 40, 2_000 + max, MAX_TTL_MS), &forger);
    m.handle_acquire_lookup(40, AcquireLookup::Gone);
    let events = feed_with_proof(&mut m, 104, 30_000 + max, &renew("a", 40, 2_000 + max, MAX_TTL_MS), &owner);
    assert!(matches!(events[..], [Event::Renewed { token: 40, .. }]), "{events:?}");
    // The expiry's tombstone ages out; the owner's next renew must still count.
    feed_with_proof(&mut m, 105, 1_003 + 2 * max, &Op::Tick, &Proof::default());
    assert!(!m.is_tombstoned(40));
    let events = feed_with_proof(&mut m, 106, 140_000, &renew("a", 40, 30_000 + max, MAX_TTL_MS), &owner);
    assert!(matches!(events[..], [Event::Renewed { token: 40, .. }]), "{events:?}");
    assert_eq!(holder(&m, K), Some(40));
}

/// A joiner meets a request first through a forged renew copying its owner and key and asking
/// for 1 ms (its acquire lies before the window). Until the acquire is read, the request keeps
/// the longest lease and no grant of the view counts; once read, it has the acquire's lease.
/// Before, the claim expired at once and the lock looked free until the owner's next renew
/// (`forging_writers_never_give_two_holders` with `PROPTEST_RNG_SEED=2`: two holders).
#[test]
fn a_forged_short_renew_seen_first_does_not_end_a_request_early() {
    let owner = Proof { commitment: Some([1; 32]), ..Proof::default() };
    let mut m = Machine::new(100);
    feed(&mut m, 100, 1_000, Some(K), &acquire("me", 1, 60_000));
    feed_with_proof(&mut m, 101, 1_001, &renew("a", 40, 1_500, 1), &owner);
    assert_eq!(holder(&m, K), Some(40));
    assert!(m.awaits_acquires());
    // Broker time passes the forged lease: the request stays.
    feed(&mut m, 102, 1_500, None, &Op::Tick);
    assert_eq!(holder(&m, K), Some(40));
    // Its acquire asked for 30 s: that is its lease now, counted from the last renew.
    let events = look_up(&mut m, 40, K, &acquire("a", 7, 30_000), &owner);
    assert!(events.is_empty(), "{events:?}");
    assert!(!m.awaits_acquires());
    assert_eq!(m.deadline_of(K, 40), Some(1_001 + 30_000));
    // From here on a renew naming another key is a forgery, as in a full replay.
    let forger = Proof { commitment: Some([2; 32]), ..Proof::default() };
    let events = feed_with_proof(&mut m, 103, 1_600, &renew("a", 40, 1_600, 60_000), &forger);
    assert_eq!(events, vec![ignored(103, Ignored::RenewWrongCommitment)]);
    let events = feed(&mut m, 104, 31_002, None, &Op::Tick);
    assert!(
        matches!(events[..], [Event::Expired { token: 40, .. }, Event::Granted { token: 100, .. }]),
        "{events:?}"
    );
}

/// A forged renew files a live request under another lock's identifier; the owner's renews
/// under the right one are then refused (another key). Reading the acquire moves the request
/// to its lock, alive from then; without it the right lock looked free.
#[test]
fn a_request_claimed_under_another_lock_moves_to_its_acquires_lock() {
    let mut m = Machine::new(100);
    feed(&mut m, 100, 1_000, Some(K), &acquire("me", 1, 5_000));
    feed(&mut m, 101, 1_001, Some("other"), &renew("a", 40, 1_500, 1));
    let events = feed(&mut m, 102, 1_002, Some(K), &renew("a", 40, 1_002, 30_000));
    assert_eq!(events, vec![ignored(102, Ignored::RenewWrongKey)]);
    assert_eq!(holder(&m, K), Some(100));
    let events = look_up(&mut m, 40, K, &acquire("a", 7, 30_000), &Proof::default());
    assert_eq!(events, vec![granted(K, 40, "a", 102)]);
    assert_eq!(holder(&m, "other"), None);
    assert_eq!(m.deadline_of(K, 40), Some(1_002 + 30_000));
    let events = feed(&mut m, 103, 1_003, Some(K), &renew("a", 40, 1_002, 30_000));
    assert!(matches!(events[..], [Event::Renewed { token: 40, .. }]), "{events:?}");
}

/// Claims naming two locks before the acquire is read: the owner's renews keep the request
/// alive where the first (forged) claim put it, so a slow lookup still finds it and moves it.
/// Refused as naming the wrong lock, they let it expire first: the view lost a live request.
#[test]
fn a_claim_under_a_forged_lock_lives_on_its_owners_renews_until_its_acquire_is_read() {
    let mut m = Machine::new(100);
    feed(&mut m, 100, 1_000, Some("other"), &renew("a", 40, 1_500, 1));
    let events = feed(&mut m, 101, 30_000, Some(K), &renew("a", 40, 29_000, 30_000));
    assert_eq!(events, vec![ignored(101, Ignored::RenewWrongKey)]);
    assert_eq!(m.deadline_of("other", 40), Some(30_000 + MAX_TTL_MS as i64));
    // Past the first claim's longest lease: the request is still there when its acquire is read.
    feed(&mut m, 102, 61_500, Some(K), &renew("a", 40, 50_000, 30_000));
    let events = look_up(&mut m, 40, K, &acquire("a", 7, 30_000), &Proof::default());
    assert_eq!(events, vec![granted(K, 40, "a", 102)]);
    assert_eq!(holder(&m, "other"), None);
    assert_eq!(m.deadline_of(K, 40), Some(61_500 + 30_000));
}

/// Renews naming an offset that holds no acquire (here a tick) were forged: the request goes,
/// and its token refuses every later renew, whatever key it names.
#[test]
fn a_claim_whose_token_is_no_acquire_is_dropped_for_good() {
    let mut m = Machine::new(100);
    feed(&mut m, 100, 1_000, Some(K), &acquire("me", 1, 5_000));
    feed(&mut m, 101, 1_001, Some(K), &renew("a", 40, 1_500, 60_000));
    assert_eq!(holder(&m, K), Some(40));
    let events = look_up(&mut m, 40, K, &Op::Tick, &Proof::default());
    assert_eq!(events, vec![ignored(40, Ignored::ClaimWithoutAcquire), granted(K, 100, "me", 101)]);
    let with_key = Proof { commitment: Some([5; 32]), ..Proof::default() };
    let events = feed_with_proof(&mut m, 102, 1_002, &renew("a", 40, 1_002, 60_000), &with_key);
    assert_eq!(events, vec![ignored(102, Ignored::RenewTombstoned)]);
    assert!(m.take_acquire_lookups().is_empty());
    // A lookup that lands on a later offset (the token's record is gone from a compacted or
    // transactional log) counts the same: no acquire there.
    let mut m = Machine::new(100);
    feed(&mut m, 100, 1_000, Some(K), &renew("a", 40, 1_000, 60_000));
    let value = encode_value(&acquire("a", 1, 60_000));
    m.take_acquire_lookups();
    m.handle_acquire_lookup(
        40,
        AcquireLookup::Found { offset: 41, key: Some(K.as_bytes()), value: Some(&value) },
    );
    assert_eq!(holder(&m, K), None);
}

/// A claim whose acquire was deleted can never be checked: it keeps the longest lease, stays
/// alive on renews naming any lock, no release ends it, and no grant on the partition is
/// trusted while it lives. Before, it counted as checked: a forged renew under another lock,
/// seen first, hid the owner's request from its lock's queue for good (two holders), and a
/// release opening a forged commitment ended it.
#[test]
fn a_claim_whose_acquire_was_deleted_is_never_trusted_and_ends_only_by_expiry() {
    let (owner_secret, forger_secret) = ([1; 32], [6; 32]);
    let committed = |s: &[u8; 32]| Proof { commitment: Some(commitment_of(s)), ..Proof::default() };
    let revealing = |s: [u8; 32]| Proof { secret: Some(s), ..Proof::default() };
    let under = |m: &mut Machine, offset: Offset, ts: LogTime, key: &str, op: &Op, proof: &Proof| {
        m.handle_record(offset, ts, Some(key.as_bytes()), Some(&encode_value_with(op, proof)));
        drain(m)
    };
    let mut m = Machine::new(100);
    under(&mut m, 100, 1_000, "other", &renew("a", 40, 1_500, 1), &committed(&forger_secret));
    assert_eq!(m.take_acquire_lookups(), vec![40]);
    m.handle_acquire_lookup(40, AcquireLookup::Gone);
    assert!(m.awaits_acquires(), "no grant is trusted while the claim lives");
    assert_eq!(m.deadline_of("other", 40), Some(1_000 + MAX_TTL_MS as i64));
    // The owner's renews under its real lock are refused there, and keep the claim alive.
    let events = under(&mut m, 101, 30_000, K, &renew("a", 40, 29_000, 30_000), &committed(&owner_secret));
    assert_eq!(events, vec![ignored(101, Ignored::RenewWrongKey)]);
    assert_eq!(m.deadline_of("other", 40), Some(30_000 + MAX_TTL_MS as i64));
    // A release opening the forged commitment ends nothing.
    under(&mut m, 102, 30_001, "other", &release("a", 40), &revealing(forger_secret));
    assert_eq!(holder(&m, "other"), Some(40));
    // It ends by expiry, and then the view is trusted again.
    let events = feed(&mut m, 103, 30_001 + MAX_TTL_MS as i64, Some(K), &Op::Tick);
    assert!(matches!(events[..], [Event::Expired { token: 40, .. }, ..]), "{events:?}");
    assert!(!m.awaits_acquires());
    assert_eq!(m.stats().acquires_gone, 1);
}

fn revoke(token: Offset) -> Op {
    Op::Revoke { owner: "ops".into(), r#ref: token }
}

/// A revoke ends a request at its current lease: its renews are refused from then on, it
/// expires at `last_alive + ttl`, and the next request is granted. A revoke under another
/// lock's key, of an unknown request, of its own offset or later changes nothing.
#[test]
fn a_revoked_request_ends_at_its_current_lease() {
    let mut m = Machine::new(0);
    feed(&mut m, 0, 100, Some(K), &acquire("a", 1, 50));
    feed(&mut m, 1, 110, Some(K), &acquire("b", 1, 500));
    assert_eq!(feed(&mut m, 2, 120, Some("other"), &revoke(0)), vec![ignored(2, Ignored::RevokeWrongKey)]);
    assert_eq!(feed(&mut m, 3, 121, Some(K), &revoke(9)), vec![ignored(3, Ignored::RevokeUnknown)]);
    assert_eq!(feed(&mut m, 4, 122, Some(K), &revoke(4)), vec![ignored(4, Ignored::RevokeUnknown)]);
    assert!(!m.request(K, 0).unwrap().revoked);
    assert_eq!(
        feed(&mut m, 5, 130, Some(K), &revoke(0)),
        vec![Event::Revoked { key: K.into(), token: 0, owner: "a".into() }]
    );
    assert_eq!(feed(&mut m, 6, 131, Some(K), &revoke(0)), vec![], "once");
    assert_eq!(
        feed(&mut m, 7, 140, Some(K), &renew("a", 0, 100, 50)),
        vec![ignored(7, Ignored::RenewRevoked)]
    );
    assert_eq!(m.deadline_of(K, 0), Some(150), "not extended");
    assert_eq!(holder(&m, K), Some(0), "held until its lease ends");
    let events = feed(&mut m, 8, 151, None, &Op::Tick);
    assert_eq!(
        events,
        vec![Event::Expired { key: K.into(), token: 0, owner: "a".into() }, granted(K, 1, "b", 8)]
    );
    assert_eq!(m.stats().revokes, 1);
}

/// A joiner that meets the revoke of a request acquired before its window before any renew of
/// it refuses the renews naming it under that lock afterwards, as the full replay does (it
/// has the request revoked); under another lock they still bring it in (the full replay
/// ignored a revoke under the wrong key).
#[test]
fn a_joiner_refuses_renews_of_a_request_revoked_before_it_knew_it() {
    let mut full = Machine::new(0);
    feed(&mut full, 0, 100, Some(K), &acquire("a", 1, 500));
    feed(&mut full, 10, 200, Some(K), &revoke(0));
    let mut joiner = Machine::new(10);
    assert_eq!(feed(&mut joiner, 10, 200, Some(K), &revoke(0)), vec![ignored(10, Ignored::RevokeUnknown)]);
    let refused = feed(&mut joiner, 11, 210, Some(K), &renew("a", 0, 100, 500));
    assert_eq!(refused, vec![ignored(11, Ignored::RenewRevoked)]);
    assert_eq!(
        feed(&mut full, 11, 210, Some(K), &renew("a", 0, 100, 500)),
        vec![ignored(11, Ignored::RenewRevoked)]
    );
    assert_eq!(holder(&joiner, K), None);
    // Under another lock: a claim, as before.
    feed(&mut joiner, 12, 220, Some("other"), &renew("a", 0, 100, 500));
    assert_eq!(holder(&joiner, "other"), Some(0));
    // Forgotten once no honest renew can name it: MAX_TTL_MS after the revoke.
    let later = 220 + MAX_TTL_MS as i64 + 1; // the claim under "other" has expired too
    feed(&mut joiner, 13, later, None, &Op::Tick);
    feed(&mut joiner, 14, later, Some(K), &renew("a", 0, later, 500));
    assert_eq!(holder(&joiner, K), Some(0));
}

/// A revoke of a claim (acquire unread) under the claim's lock holds if the acquire names that
/// lock, and is dropped if the acquire names another (the claim's lock was forged, and a full
/// replay ignored the revoke as naming the wrong lock).
#[test]
fn a_revoked_claim_stays_revoked_only_under_its_acquires_lock() {
    for (acquire_key, revoked) in [(K, true), ("other", false)] {
        let mut joiner = Machine::new(5);
        feed(&mut joiner, 5, 200, Some(K), &renew("a", 0, 190, 500));
        feed(&mut joiner, 6, 210, Some(K), &revoke(0));
        assert!(joiner.request(K, 0).unwrap().revoked);
        look_up(&mut joiner, 0, acquire_key, &acquire("a", 1, 500), &Proof::default());
        let request = joiner.request(acquire_key, 0).expect("confirmed under its acquire's lock");
        assert_eq!(request.revoked, revoked, "acquire under {acquire_key}");
    }
}

/// Readers consecutive at the head hold together; a writer waits for all of them, and readers
/// arriving behind a waiting writer wait behind it (FIFO: no writer starves).
#[test]
fn readers_hold_together_and_a_waiting_writer_holds_back_later_readers() {
    let mut m = Machine::new(0);
    assert_eq!(feed(&mut m, 0, 100, Some(K), &acquire_as("r1", Mode::Shared))[1], granted(K, 0, "r1", 0));
    assert_eq!(feed(&mut m, 1, 101, Some(K), &acquire_as("r2", Mode::Shared))[1], granted(K, 1, "r2", 1));
    let events = feed(&mut m, 2, 102, Some(K), &acquire_as("w", Mode::Exclusive));
    assert_eq!(events.len(), 1, "the writer waits: {events:?}");
    let events = feed(&mut m, 3, 103, Some(K), &acquire_as("r3", Mode::Shared));
    assert_eq!(events.len(), 1, "a reader behind a waiting writer waits: {events:?}");
    assert_eq!(holding(&m, K), vec![0, 1]);
    assert!(m.is_granted(K, 1) && !m.is_granted(K, 2) && !m.is_granted(K, 3));
    let events = feed(&mut m, 4, 104, Some(K), &release("r1", 0));
    assert_eq!(events.len(), 1, "one reader left, the other still holds: {events:?}");
    let events = feed(&mut m, 5, 105, Some(K), &release("r2", 1));
    assert_eq!(events[1], granted(K, 2, "w", 5));
    assert_eq!(holding(&m, K), vec![2]);
    let events = feed(&mut m, 6, 106, Some(K), &release("w", 2));
    assert_eq!(events[1], granted(K, 3, "r3", 6));
    assert_eq!(m.stats().grants, 4);
}

/// A semaphore grants in FIFO order while the weights fit: a heavy request at the head of the
/// waiters is not overtaken by a light one behind it, and one release can grant several.
#[test]
fn a_semaphore_grants_in_order_while_the_weights_fit() {
    let w = |weight| Mode::Weighted { limit: 3, weight };
    let mut m = Machine::new(0);
    feed(&mut m, 0, 100, Some(K), &acquire_as("a", w(2)));
    feed(&mut m, 1, 101, Some(K), &acquire_as("b", w(2)));
    let events = feed(&mut m, 2, 102, Some(K), &acquire_as("c", w(1)));
    assert_eq!(events.len(), 1, "c fits beside a but waits behind b: {events:?}");
    assert_eq!(holding(&m, K), vec![0]);
    let events = feed(&mut m, 3, 103, Some(K), &release("a", 0));
    assert_eq!(events[1..], [granted(K, 1, "b", 3), granted(K, 2, "c", 3)]);
    assert_eq!(holding(&m, K), vec![1, 2]);
    feed(&mut m, 4, 104, Some(K), &acquire_as("d", w(1)));
    assert_eq!(holding(&m, K), vec![1, 2], "2 + 1 held: d waits");
    let events = feed(&mut m, 5, 105, Some(K), &release("c", 2));
    assert_eq!(events[1], granted(K, 4, "d", 5));
}

/// Requests that can never hold together (another limit, another kind of lock) wait for each
/// other whatever their weights: a limit is never mixed.
#[test]
fn requests_of_another_limit_or_kind_never_hold_together() {
    let mut m = Machine::new(0);
    feed(&mut m, 0, 100, Some(K), &acquire_as("a", Mode::Weighted { limit: 5, weight: 1 }));
    feed(&mut m, 1, 101, Some(K), &acquire_as("b", Mode::Weighted { limit: 9, weight: 1 }));
    feed(&mut m, 2, 102, Some(K), &acquire_as("c", Mode::Shared));
    feed(&mut m, 3, 103, Some(K), &acquire_as("d", Mode::Weighted { limit: 9, weight: 1 }));
    assert_eq!(holding(&m, K), vec![0]);
    feed(&mut m, 4, 104, Some(K), &release("a", 0));
    assert_eq!(holding(&m, K), vec![1]);
    feed(&mut m, 5, 105, Some(K), &release("b", 1));
    assert_eq!(holding(&m, K), vec![2]);
    feed(&mut m, 6, 106, Some(K), &release("c", 2));
    assert_eq!(holding(&m, K), vec![3]);
}

/// A joiner's claim (a request learnt of from a renew) stands in front of readers it granted:
/// taken as exclusive until its acquire is read, it takes their grants (no grant of a view with
/// claims is trusted anyway); once its acquire shows a reader, all hold together again, and
/// the readers are granted anew.
#[test]
fn a_claim_ahead_of_readers_takes_their_grants_until_its_acquire_is_read() {
    let mut m = Machine::new(100);
    feed(&mut m, 100, 1_000, Some(K), &acquire_as("r1", Mode::Shared));
    feed(&mut m, 101, 1_001, Some(K), &acquire_as("r2", Mode::Shared));
    assert_eq!(holding(&m, K), vec![100, 101]);
    let events = feed(&mut m, 102, 1_002, Some(K), &renew("old", 40, 1_002, 30_000));
    assert_eq!(events[1], granted(K, 40, "old", 102));
    assert_eq!(holding(&m, K), vec![40], "a claim is taken as exclusive");
    assert!(!m.is_granted(K, 100) && m.awaits_acquires());
    let events = look_up(&mut m, 40, K, &acquire_as("old", Mode::Shared), &Proof::default());
    assert_eq!(events, vec![granted(K, 100, "r1", 102), granted(K, 101, "r2", 102)]);
    assert_eq!(holding(&m, K), vec![40, 100, 101]);
    assert_eq!(m.request(K, 40).map(|r| r.mode), Some(Mode::Shared));
}

/// A follower's memory does not grow with the partition's release rate: 10,000 requests acquired
/// and released within its replay leave no tombstone, and a late renew of any of them is still
/// refused (its acquire was read, so a token not live is gone).
#[test]
fn released_requests_leave_no_tombstones_and_stay_gone() {
    let mut m = Machine::new(0);
    for i in 0..10_000 {
        feed(&mut m, 2 * i, 100 + i, Some(K), &acquire("a", 1, 50_000));
        feed(&mut m, 2 * i + 1, 100 + i, Some(K), &release("a", 2 * i));
    }
    assert_eq!((m.lock_count(), m.tombstone_count()), (0, 0));
    let events = feed(&mut m, 20_000, 10_200, Some(K), &renew("a", 19_998, 10_150, 50_000));
    assert_eq!(events, vec![ignored(20_000, Ignored::RenewUnknown)]);
    assert_eq!(m.lock_count(), 0);
}
