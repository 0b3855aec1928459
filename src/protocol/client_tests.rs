//! Unit tests of the client rules that the property tests do not reach.

use std::time::Duration;

use super::{Client, Failure, Lease, LocalTime, Mode, PartitionId, Placement, Purpose, Status};

const LOG_START: i64 = 1_000_000;
const LEASE: Lease = Lease { ttl: Duration::from_secs(10), max_clock_step: Duration::ZERO };

fn new_client() -> Client {
    Client::new("owner".into(), [5; 32], Duration::from_secs(5))
}

/// Asks for `key` on `partition`, the partition's first request: its acquire is placed at
/// `offset`, and the join's replay starts there. Returns the request and its acquire's value.
fn joined(
    client: &mut Client,
    partition: &PartitionId,
    key: &str,
    offset: i64,
    now: LocalTime,
) -> (u64, Vec<u8>) {
    let id = client.acquire(now, partition, key, Mode::Exclusive, LEASE).expect("acquire");
    let acquire = client.poll_transmit().expect("the acquire");
    client.handle_report(now, acquire.id, Ok(Placement { offset, log_time: Some(LOG_START) }));
    client.take_join_lookup(partition).expect("a join lookup");
    assert_eq!(client.handle_join_start(now, partition, Some(offset), 0), Some(offset));
    (id, acquire.value)
}

/// A client holding `key` on `partition`: its acquire produced at offset 0 of an empty
/// partition (the window is complete), read back, granted.
fn holding(partition: &PartitionId, key: &str, now: LocalTime) -> (Client, u64) {
    let mut client = new_client();
    let (id, value) = joined(&mut client, partition, key, 0, now);
    client.handle_record(now, partition, 0, Some(LOG_START), Some(key.as_bytes()), Some(&value));
    assert!(client.is_held(id, now), "granted: {:?}", client.status(id, now));
    (client, id)
}

/// A new request on a partition the client gave up starts a new join: its acquire is the
/// join's first record, and once placed (at `offset`) a fresh lookup is asked for.
fn assert_joins_again(client: &mut Client, partition: &PartitionId, key: &str, offset: i64, now: LocalTime) {
    let again =
        client.acquire(now, partition, key, Mode::Exclusive, LEASE).expect("a later request joins again");
    let acquire = client.poll_transmit().expect("its acquire, the first record of a new join");
    assert!(matches!(acquire.purpose, Purpose::Acquire(r) if r == again), "{acquire:?}");
    client.handle_report(now, acquire.id, Ok(Placement { offset, log_time: Some(LOG_START + 5) }));
    assert!(client.take_join_lookup(partition).is_some(), "a fresh lookup");
}

/// A record without broker time (the topic was switched to CreateTime) ends every request
/// on its partition with that cause, releases the holds, and gives the partition up: the
/// session stops reading it, and the next request joins it again instead of failing for the
/// rest of the session.
#[test]
fn a_record_without_broker_time_fails_the_partition_and_a_later_request_joins_again() {
    let partition = PartitionId::new("locks", 0);
    let now = LocalTime::ZERO;
    let (mut client, id) = holding(&partition, "a", now);
    client.handle_record(now, &partition, 1, None, Some(b"b"), Some(b"{}"));
    assert_eq!(client.status(id, now), Status::Failed(Failure::CreateTime));
    assert!(!client.is_held(id, now));
    assert_eq!(client.take_dropped_partitions(), vec![partition.clone()]);
    let release = client.poll_transmit().expect("the hold is released");
    assert!(matches!(release.purpose, Purpose::Release(r) if r == id), "{release:?}");
    // Records still in flight for the partition are ignored.
    client.handle_record(now, &partition, 2, Some(LOG_START), Some(b"c"), Some(b"{}"));
    assert_joins_again(&mut client, &partition, "c", 3, now);
}

/// A view that refuses an acquire because it already holds `MAX_LIVE_REQUESTS` live requests
/// lacks a request that a view knowing fewer of them (a full replay, where a writer's claims
/// from old tokens are tombstoned or unknown) may grant: the partition fails with that cause
/// and is given up, so the next request joins it again. Before, the view went on trusting
/// grants without the refused request: two holders.
#[test]
fn a_view_that_refuses_an_acquire_for_fullness_fails_the_partition() {
    use crate::protocol::{encode_value, Op, MAX_LIVE_REQUESTS};
    let partition = PartitionId::new("locks", 1);
    let now = LocalTime::ZERO;
    let (mut client, id) = holding(&partition, "a", now);
    // Other owners' requests fill the view (the client's own is one of them).
    for i in 1..MAX_LIVE_REQUESTS as i64 {
        let op = Op::Acquire { owner: format!("w{i}"), seq: 0, ttl: 60_000, mode: Mode::Exclusive };
        let key = format!("k{i}");
        client.handle_record(
            now,
            &partition,
            i,
            Some(LOG_START),
            Some(key.as_bytes()),
            Some(&encode_value(&op)),
        );
    }
    assert!(client.is_held(id, now), "full, nothing refused yet");
    let op = Op::Acquire { owner: "late".into(), seq: 0, ttl: 60_000, mode: Mode::Exclusive };
    let offset = MAX_LIVE_REQUESTS as i64;
    client.handle_record(now, &partition, offset, Some(LOG_START), Some(b"a"), Some(&encode_value(&op)));
    assert_eq!(client.status(id, now), Status::Failed(Failure::PartitionFull));
    assert!(!client.is_held(id, now));
    assert_eq!(client.take_dropped_partitions(), vec![partition.clone()]);
    let release = client.poll_transmit().expect("the hold is released");
    assert!(matches!(release.purpose, Purpose::Release(r) if r == id), "{release:?}");
    assert_joins_again(&mut client, &partition, "b", offset + 1, now);
}

/// A position that fell below the log start (history deleted under it) loses every request
/// of the partition and gives it up the same way.
#[test]
fn a_reset_partition_is_given_up_and_its_requests_lost() {
    let partition = PartitionId::new("locks", 2);
    let now = LocalTime::ZERO;
    let (mut client, id) = holding(&partition, "a", now);
    client.handle_partition_reset(now, &partition);
    assert_eq!(client.status(id, now), Status::Lost);
    assert_eq!(client.take_dropped_partitions(), vec![partition]);
    assert!(client.take_dropped_partitions().is_empty(), "handed out once");
}

/// A consumer that cannot be assigned a joined partition would never read it: the partition
/// is given up, its requests fail with the cause, and the next request joins it again
/// (before, it stayed joined and unread, and a forever wait hung). The acquire already
/// placed was never read back, so it has no token to release: it runs out with its lease.
#[test]
fn a_failed_assignment_gives_the_partition_up_and_a_later_request_joins_again() {
    let partition = PartitionId::new("locks", 1);
    let now = LocalTime::ZERO;
    let mut client = new_client();
    let (id, _) = joined(&mut client, &partition, "a", 7, now);
    client.handle_assign_error(now, &partition, Failure::JoinAssign("refused".into()));
    assert_eq!(client.status(id, now), Status::Failed(Failure::JoinAssign("refused".into())));
    assert_eq!(client.take_dropped_partitions(), vec![partition.clone()]);
    assert_joins_again(&mut client, &partition, "b", 9, now);
}

#[test]
fn a_deleted_topic_fails_its_requests_only_and_a_later_request_joins_again() {
    let (deleted, other) = (PartitionId::new("locks", 1), PartitionId::new("other", 1));
    let now = LocalTime::ZERO;
    let mut client = new_client();
    let (on_deleted, _) = joined(&mut client, &deleted, "a", 7, now);
    let (on_other, _) = joined(&mut client, &other, "a", 3, now);
    client.handle_topic_deleted(now, "locks");
    assert_eq!(client.status(on_deleted, now), Status::Failed(Failure::TopicDeleted));
    assert!(
        !matches!(client.status(on_other, now), Status::Failed(_)),
        "another topic's request is untouched"
    );
    assert_eq!(client.take_dropped_partitions(), vec![deleted.clone()]);
    // Not a failure of the topic for the session: once it exists again, a request joins anew.
    assert_joins_again(&mut client, &deleted, "b", 0, now);
}

/// A request a joiner learnt of from a renew waits for its acquire to be read: until then no
/// grant on the partition is trusted, since a forged renew may have filed the request under
/// another lock (here "b"), where it does not stand in front of this client's request. The
/// acquire decides: the request moves in front (the grant is gone) or stays where it was
/// (the grant is trusted).
#[test]
fn no_grant_is_trusted_while_a_claims_acquire_is_unread() {
    use crate::protocol::{encode_value, AcquireLookup, Op};
    let partition = PartitionId::new("locks", 0);
    let now = LocalTime::ZERO;
    for acquire_key in ["a", "b"] {
        let mut client = new_client();
        let id = client.acquire(now, &partition, "a", Mode::Exclusive, LEASE).expect("acquire");
        let acquire = client.poll_transmit().expect("the acquire");
        client.handle_report(now, acquire.id, Ok(Placement { offset: 8, log_time: Some(LOG_START) }));
        client.take_join_lookup(&partition).expect("a join lookup");
        assert_eq!(client.handle_join_start(now, &partition, Some(7), 0), Some(7));
        let claim = Op::Renew { owner: "x".into(), r#ref: 3, prev: LOG_START, ttl: 30_000 };
        client.handle_record(now, &partition, 7, Some(LOG_START), Some(b"b"), Some(&encode_value(&claim)));
        client.handle_record(now, &partition, 8, Some(LOG_START), Some(b"a"), Some(&acquire.value));
        assert_eq!(client.status(id, now), Status::Waiting { token: 8 }, "the head, not trusted");
        assert!(!client.is_held(id, now));
        assert!(!client.view_complete(&partition));
        assert_eq!(client.take_acquire_lookups(), vec![(partition.clone(), 3)]);
        let value =
            encode_value(&Op::Acquire { owner: "x".into(), seq: 1, ttl: 30_000, mode: Mode::Exclusive });
        let found =
            AcquireLookup::Found { offset: 3, key: Some(acquire_key.as_bytes()), value: Some(&value) };
        client.handle_acquire_lookup(now, &partition, 3, found);
        let expected = if acquire_key == "a" {
            Status::Waiting { token: 8 }
        } else {
            Status::Granted { token: 8, trusted: true }
        };
        assert_eq!(client.status(id, now), expected, "acquire of {acquire_key}");
    }
}

/// A request whose acquire is not read back within the operation time-out says whether the
/// partition was still waiting for its join lookups (a broker whose partitions are moving
/// answers them late; the caller's error names that, not a lost record) or was being read.
#[test]
fn a_request_not_seen_in_time_says_whether_its_join_was_answered() {
    let partition = PartitionId::new("locks", 0);
    let now = LocalTime::ZERO;
    let late = now + Duration::from_secs(5);
    let mut client = new_client();
    let id = client.acquire(now, &partition, "a", Mode::Exclusive, LEASE).expect("acquire");
    let acquire = client.poll_transmit().expect("the acquire");
    client.handle_report(now, acquire.id, Ok(Placement { offset: 7, log_time: Some(LOG_START) }));
    client.take_join_lookup(&partition).expect("a join lookup");
    assert_eq!(client.status(id, late.saturating_sub(Duration::from_millis(1))), Status::Pending);
    assert_eq!(client.status(id, late), Status::NotSeen { joining: true });
    // Once the lookups are answered, the same wait is one for reading the record back.
    assert_eq!(client.handle_join_start(late, &partition, Some(7), 0), Some(7));
    assert_eq!(client.status(id, late), Status::NotSeen { joining: false });
}

/// An inspection of a partition this client does not follow joins it with a tick; the
/// snapshot is ready only once the view has read past the tick, and lists the lock's live
/// requests, holder first, with the log time left of each lease.
#[test]
fn an_inspection_joins_with_a_tick_and_shows_the_queue_once_read_past_it() {
    use crate::protocol::{encode_value, Inspected, Op, QueuedRequest, Snapshot};
    let partition = PartitionId::new("locks", 0);
    let now = LocalTime::ZERO;
    let mut client = new_client();
    let id = client.inspect(now, &partition).expect("inspect");
    let tick = client.poll_transmit().expect("the tick");
    assert!(matches!(tick.purpose, Purpose::Tick) && tick.report && tick.key.is_none(), "{tick:?}");
    assert!(client.inspection_awaits_placement(id));
    client.handle_report(now, tick.id, Ok(Placement { offset: 12, log_time: Some(LOG_START + 5_000) }));
    assert!(!client.inspection_awaits_placement(id));
    client.take_join_lookup(&partition).expect("the tick joins the partition");
    assert_eq!(client.handle_join_start(now, &partition, Some(10), 0), Some(10));
    assert_eq!(client.inspection(id, "a", now), Inspected::Pending);
    let acquire = |owner: &str| {
        encode_value(&Op::Acquire { owner: owner.into(), seq: 0, ttl: 30_000, mode: Mode::Exclusive })
    };
    client.handle_record(now, &partition, 10, Some(LOG_START), Some(b"a"), Some(&acquire("p")));
    client.handle_record(now, &partition, 11, Some(LOG_START + 1_000), Some(b"a"), Some(&acquire("q")));
    assert_eq!(client.inspection(id, "a", now), Inspected::Pending, "the tick is not read yet");
    client.handle_record(now, &partition, 12, Some(LOG_START + 5_000), None, Some(&tick.value));
    let queued = |owner: &str, token, left_ms| QueuedRequest {
        owner: owner.into(),
        mode: Mode::Exclusive,
        granted: token == 10,
        revoked: false,
        token,
        expires_in: Duration::from_millis(left_ms),
    };
    let expected = Snapshot { queue: vec![queued("p", 10, 25_000), queued("q", 11, 26_000)], complete: true };
    assert_eq!(client.inspection(id, "a", now), Inspected::Ready(expected));
    assert_eq!(
        client.inspection(id, "b", now),
        Inspected::Ready(Snapshot { queue: vec![], complete: true }),
        "a free lock"
    );
    client.forget_inspection(id);
    assert_eq!(client.inspection(id, "a", now), Inspected::Lost);
}

/// An inspection whose tick is not read back in time says so, one whose tick cannot be
/// sent fails with the cause (and so does the join it started), and one whose partition is
/// reset under it is lost (the caller inspects again).
#[test]
fn an_inspection_ends_on_time_out_send_error_and_reset() {
    use crate::protocol::Inspected;
    let partition = PartitionId::new("locks", 0);
    let now = LocalTime::ZERO;
    let mut client = new_client();
    let (_, _) = joined(&mut client, &partition, "a", 3, now);
    let slow = client.inspect(now, &partition).expect("inspect");
    let tick = client.poll_transmit().expect("the tick");
    client.handle_report(now, tick.id, Ok(Placement { offset: 4, log_time: Some(LOG_START) }));
    let late = now + Duration::from_secs(5);
    assert_eq!(client.inspection(slow, "a", late), Inspected::NotSeen { joining: false });
    let reset = client.inspect(now, &partition).expect("inspect");
    client.handle_partition_reset(now, &partition);
    assert_eq!(client.inspection(reset, "a", now), Inspected::Lost);

    let other = PartitionId::new("locks", 1);
    let refused = client.inspect(now, &other).expect("inspect");
    let tick = std::iter::from_fn(|| client.poll_transmit()).find(|t| t.id == refused).expect("its tick");
    client.handle_send_error(now, &tick, "queue full".into());
    assert_eq!(
        client.inspection(refused, "a", now),
        Inspected::Failed(Failure::JoinNotWritten("queue full".into()))
    );
    assert!(client.machine(&other).is_none() && !client.awaits_placement(&other), "the join is given up");
}

/// A copy of a holder's renewal (owner and commitment read from the log) that the view accepts
/// while the holder's own renewals are on their way does not count for the holder's trust:
/// only a renewal whose delivery report names the offset the view accepted does. Before, the
/// copy took the send time of the renewal in flight, every later acceptance the next one's, and
/// the holder trusted its lease one renewal interval too long (two holders, seed 8 of the
/// forging writers' property test).
#[test]
fn a_copied_renewal_does_not_extend_the_holders_trust() {
    use crate::protocol::{decode_record, encode_value_with, Op, Proof};
    let partition = PartitionId::new("locks", 0);
    let start = LocalTime::ZERO;
    let (mut client, id) = holding(&partition, "a", start);
    let at = |s: u64| start + Duration::from_secs(s);
    // Two renewals in flight, sent at 4 s and 8 s (due every ttl/3).
    client.handle_timeout(at(4));
    let first = client.poll_transmit().expect("a renewal at 4 s");
    client.handle_timeout(at(8));
    let second = client.poll_transmit().expect("a renewal at 8 s");
    assert!(matches!(first.purpose, Purpose::Renew(r) if r == id) && first.report);
    assert!(matches!(second.purpose, Purpose::Renew(r) if r == id));
    // A copy of the first lands before it (offset 1), then the first (offset 2).
    let record = decode_record(Some(b"a"), Some(&first.value)).expect("our renewal decodes");
    let Op::Renew { owner, r#ref, ttl, .. } = record.op else { panic!("a renew") };
    let copy = Op::Renew { owner, r#ref, prev: LOG_START, ttl };
    let copy = encode_value_with(&copy, &Proof { commitment: record.proof.commitment, ..Proof::default() });
    client.handle_report(at(8), first.id, Ok(Placement { offset: 2, log_time: Some(LOG_START + 4_000) }));
    client.handle_record(at(8), &partition, 1, Some(LOG_START + 3_000), Some(b"a"), Some(&copy));
    client.handle_record(at(8), &partition, 2, Some(LOG_START + 4_000), Some(b"a"), Some(&first.value));
    // Trusted from the first renewal's send time (4 s) + 9 s, not from the second's.
    assert_eq!(client.remaining(id, at(12)), Some(Duration::from_secs(1)));
    // The second, read before its report is served, counts once the report names its offset.
    client.handle_record(at(9), &partition, 3, Some(LOG_START + 8_000), Some(b"a"), Some(&second.value));
    assert_eq!(client.remaining(id, at(12)), Some(Duration::from_secs(1)));
    client.handle_report(at(9), second.id, Ok(Placement { offset: 3, log_time: Some(LOG_START + 8_000) }));
    assert_eq!(client.remaining(id, at(12)), Some(Duration::from_secs(5)));
}

/// A request queued behind one it can never hold with (a semaphore of another limit, or another
/// kind of lock) says so instead of waiting for it to leave; its caller withdraws it, which
/// releases it. Readers behind readers, and a writer behind a reader, just wait.
#[test]
fn a_request_behind_one_it_can_never_hold_with_is_a_conflict() {
    use crate::protocol::{encode_value, Op};
    let partition = PartitionId::new("locks", 0);
    let now = LocalTime::ZERO;
    let other = |mode| encode_value(&Op::Acquire { owner: "other".into(), seq: 1, ttl: 30_000, mode });
    for (theirs, ours, conflict) in [
        (Mode::Weighted { limit: 3, weight: 3 }, Mode::Weighted { limit: 4, weight: 1 }, true),
        (Mode::Weighted { limit: 3, weight: 3 }, Mode::Exclusive, true),
        (Mode::Shared, Mode::Weighted { limit: 1, weight: 1 }, true),
        (Mode::Weighted { limit: 3, weight: 3 }, Mode::Weighted { limit: 3, weight: 1 }, false),
        (Mode::Exclusive, Mode::Shared, false),
        (Mode::Shared, Mode::Exclusive, false),
    ] {
        let mut client = new_client();
        // Another process's request at offset 0, then ours at 1 (the join's own record).
        let id = client.acquire(now, &partition, "a", ours, LEASE).expect("acquire");
        let acquire = client.poll_transmit().expect("the acquire");
        client.handle_report(now, acquire.id, Ok(Placement { offset: 1, log_time: Some(LOG_START) }));
        client.take_join_lookup(&partition).expect("a join lookup");
        assert_eq!(client.handle_join_start(now, &partition, Some(0), 0), Some(0));
        client.handle_record(now, &partition, 0, Some(LOG_START), Some(b"a"), Some(&other(theirs)));
        client.handle_record(now, &partition, 1, Some(LOG_START), Some(b"a"), Some(&acquire.value));
        let status = client.status(id, now);
        if conflict {
            assert_eq!(status, Status::Conflict { held_as: theirs }, "{ours} behind {theirs}");
            assert!(client.withdraw(now, id).release_queued, "withdrawn: its release is queued");
            let release = client.poll_transmit().expect("the release");
            assert!(matches!(release.purpose, Purpose::Release(r) if r == id), "{release:?}");
        } else {
            assert_eq!(status, Status::Waiting { token: 1 }, "{ours} behind {theirs}");
        }
    }
}

/// A request withdrawn before its acquire is read back (a wait interrupted or timed out just
/// after sending it) is counted as unplaced until it shows up; then its release is queued and
/// the count drops, which is what the end of a process waits for (Session::settle_withdrawals).
#[test]
fn a_request_withdrawn_before_it_is_read_back_is_released_when_it_shows_up() {
    let partition = PartitionId::new("locks", 0);
    let now = LocalTime::ZERO;
    let (mut client, _holder) = holding(&partition, "a", now);
    let id = client.acquire(now, &partition, "a", Mode::Exclusive, LEASE).expect("acquire");
    let acquire = client.poll_transmit().expect("the acquire");
    assert!(client.withdrawals_unplaced(now).is_empty());
    let withdrawn = client.withdraw(now, id);
    assert!(!withdrawn.release_queued, "no token yet: nothing to release");
    assert_eq!(client.withdrawals_unplaced(now), [partition.clone()].into());
    // Past the producer's delivery time-out it can no longer land: not waited for.
    assert!(client.withdrawals_unplaced(now + Duration::from_secs(5)).is_empty());
    assert!(client.poll_transmit().is_none());
    client.handle_record(now, &partition, 1, Some(LOG_START), Some(b"a"), Some(&acquire.value));
    assert!(client.withdrawals_unplaced(now).is_empty());
    let release = client.poll_transmit().expect("released once it shows up");
    assert!(matches!(release.purpose, Purpose::Release(r) if r == id), "{release:?}");
}

/// The stats: a hold granted by its own acquire has no hand-off; one granted by the release of
/// the hold in front does, from reading that release to the waiter having it; a release with a
/// valid lease counts as released, one after the trust ran out as a lease lost; a forged
/// release is ignored by its reason.
#[test]
fn stats_count_holds_hand_offs_releases_and_lost_leases() {
    use crate::protocol::{encode_value, GaveUp, Op};
    let partition = PartitionId::new("locks", 0);
    let t0 = LocalTime::ZERO;
    let (mut client, first) = holding(&partition, "a", t0);
    client.note_handed_over(t0 + Duration::from_millis(2), first, t0);
    let second = client.acquire(t0, &partition, "a", Mode::Exclusive, LEASE).expect("acquire");
    let acquire = client.poll_transmit().expect("the acquire");
    client.handle_record(t0, &partition, 1, Some(LOG_START), Some(b"a"), Some(&acquire.value));
    // A release forged in the first holder's name, without its secret: ignored.
    let forged = Op::Release { owner: client.owner().into(), r#ref: 0 };
    client.handle_record(t0, &partition, 2, Some(LOG_START), Some(b"a"), Some(&encode_value(&forged)));
    assert_eq!(client.stats().ignored_by_reason.get("release_bad_secret"), Some(&1));
    let released_at = t0 + Duration::from_millis(100);
    assert!(client.withdraw(released_at, first).held);
    let stats = client.stats();
    assert_eq!((stats.released, stats.leases_lost), (1, 0), "released with a valid lease");
    let release = client.poll_transmit().expect("the release");
    let read_at = released_at + Duration::from_millis(3);
    client.handle_record(read_at, &partition, 3, Some(LOG_START + 100), Some(b"a"), Some(&release.value));
    assert!(client.is_held(second, read_at));
    client.note_handed_over(read_at + Duration::from_millis(1), second, t0);
    client.note_handed_over(read_at + Duration::from_millis(9), second, t0); // once per hold
                                                                             // Nothing renews it: past its trust, the holder lets go of a lost hold.
    let late = read_at + LEASE.ttl;
    assert!(!client.withdraw(late, second).held);
    // A third request refused by tryLock.
    let third = client.acquire(late, &partition, "a", Mode::Exclusive, LEASE).expect("acquire");
    client.give_up(late, third, GaveUp::Busy);
    let stats = client.stats();
    assert_eq!((stats.acquired, stats.released, stats.leases_lost, stats.busy), (2, 1, 1, 1));
    assert_eq!(stats.acquire_wait.count(), 2);
    assert_eq!(stats.acquire_wait.sum(), Duration::from_millis(2) + Duration::from_millis(104));
    assert_eq!(stats.hand_off.count(), 1, "only the hold that waited behind another");
    assert_eq!(stats.hand_off.sum(), Duration::from_millis(1));
    assert_eq!(stats.hold.count(), 2);
    assert_eq!(stats.hold.sum(), Duration::from_millis(98) + (LEASE.ttl - Duration::from_millis(1)));
    assert_eq!((stats.joins, stats.partitions_followed), (1, 1));
}

/// A joined partition on which the client has nothing left is unfollowed `UNFOLLOW_AFTER` after
/// its last use (the timer says when), not while a request, an unacknowledged release or an
/// inspection is on it; the next request joins it again.
#[test]
fn a_partition_with_nothing_of_ours_is_unfollowed_after_a_while_and_joined_again() {
    use crate::protocol::UNFOLLOW_AFTER;
    let partition = PartitionId::new("locks", 0);
    let t0 = LocalTime::ZERO;
    let (mut client, id) = holding(&partition, "a", t0);
    // Held far longer than UNFOLLOW_AFTER (lost by now: nothing renewed): still followed.
    let later = t0 + UNFOLLOW_AFTER * 3;
    client.handle_timeout(later);
    assert!(client.take_dropped_partitions().is_empty(), "a request is on it");
    client.withdraw(later, id);
    let release = loop {
        let t = client.poll_transmit().expect("the release");
        if matches!(t.purpose, Purpose::Release(_)) {
            break t;
        }
    };
    client.handle_timeout(later + UNFOLLOW_AFTER);
    assert!(client.take_dropped_partitions().is_empty(), "its release is not acknowledged yet");
    client.handle_report(later, release.id, Ok(Placement { offset: 9, log_time: Some(LOG_START) }));
    assert_eq!(client.poll_timeout(), Some(later + UNFOLLOW_AFTER), "the timer wakes the driver for it");
    client.handle_timeout((later + UNFOLLOW_AFTER).saturating_sub(Duration::from_millis(1)));
    assert!(client.take_dropped_partitions().is_empty(), "not yet");
    assert_eq!(client.stats().partitions_followed, 1);
    client.handle_timeout(later + UNFOLLOW_AFTER);
    assert_eq!(client.take_dropped_partitions(), vec![partition.clone()]);
    assert!(client.machine(&partition).is_none(), "its view is dropped");
    assert_eq!(client.stats().partitions_followed, 0);
    assert_eq!(client.poll_timeout(), None, "an idle client has no timer");
    assert_joins_again(&mut client, &partition, "b", 10, later + UNFOLLOW_AFTER);
    assert_eq!(client.stats().joins, 2);
}

/// An own acquire on a joined partition whose view has read every record before it is
/// applied when its delivery report places it: granted before it is read back, and the
/// read-back is neither applied again nor counted as ignored. A report for a record with
/// unread records before it applies nothing; the read-back does.
#[test]
fn an_acquire_is_applied_from_its_report_when_the_view_has_read_everything_before_it() {
    let partition = PartitionId::new("locks", 3);
    let now = LocalTime::ZERO;
    let (mut client, first) = holding(&partition, "a", now);
    let second = client.acquire(now, &partition, "b", Mode::Exclusive, LEASE).expect("acquire");
    let acquire = client.poll_transmit().expect("its acquire");
    assert!(acquire.report, "asks for its delivery report");
    assert!(client.awaits_report(second, now));
    assert!(!client.awaits_report(second, now + super::AWAIT_REPORT_FOR), "then left to the driver");
    client.handle_report(now, acquire.id, Ok(Placement { offset: 1, log_time: Some(LOG_START + 1) }));
    assert!(!client.awaits_report(second, now));
    assert!(client.is_held(second, now), "granted from the report: {:?}", client.status(second, now));
    assert_eq!(client.stats().applied_on_ack, 1);
    let records = client.stats().records;
    client.handle_record(now, &partition, 1, Some(LOG_START + 1), Some(b"b"), Some(&acquire.value));
    assert!(client.is_held(first, now) && client.is_held(second, now));
    assert_eq!((client.stats().records, client.stats().ignored), (records, 0), "the read-back is skipped");

    // Offset 2 (someone else's) is not read yet: the report of the next acquire, at 3,
    // applies nothing; reading 2 and 3 does.
    let third = client.acquire(now, &partition, "c", Mode::Exclusive, LEASE).expect("acquire");
    let acquire = client.poll_transmit().expect("its acquire");
    client.handle_report(now, acquire.id, Ok(Placement { offset: 3, log_time: Some(LOG_START + 2) }));
    assert!(!client.is_held(third, now), "not applied over an unread record");
    assert_eq!(client.stats().applied_on_ack, 1);
    let other = crate::protocol::encode_value(&crate::protocol::Op::Tick);
    client.handle_record(now, &partition, 2, Some(LOG_START + 2), None, Some(&other));
    client.handle_record(now, &partition, 3, Some(LOG_START + 2), Some(b"c"), Some(&acquire.value));
    assert!(client.is_held(third, now), "granted when read back: {:?}", client.status(third, now));
}

/// The record read back where an acquire was applied from its report must be that acquire,
/// with the report's broker time. Otherwise the log lost an acknowledged record and this view
/// applied what no other view reads: the partition is given up, its requests lost and
/// released, and the next request joins again.
#[test]
fn a_read_back_that_differs_from_the_record_applied_on_ack_gives_the_partition_up() {
    let partition = PartitionId::new("locks", 4);
    let now = LocalTime::ZERO;
    for (key, time) in [(&b"x"[..], LOG_START + 1), (&b"b"[..], LOG_START + 7)] {
        let (mut client, first) = holding(&partition, "a", now);
        let second = client.acquire(now, &partition, "b", Mode::Exclusive, LEASE).expect("acquire");
        let acquire = client.poll_transmit().expect("its acquire");
        client.handle_report(now, acquire.id, Ok(Placement { offset: 1, log_time: Some(LOG_START + 1) }));
        assert!(client.is_held(second, now));
        client.handle_record(now, &partition, 1, Some(time), Some(key), Some(&acquire.value));
        assert_eq!((client.status(first, now), client.status(second, now)), (Status::Lost, Status::Lost));
        assert_eq!(client.take_dropped_partitions(), vec![partition.clone()]);
        let released: Vec<_> = std::iter::from_fn(|| client.poll_transmit()).map(|t| t.purpose).collect();
        assert_eq!(released, vec![Purpose::Release(first), Purpose::Release(second)]);
        assert_joins_again(&mut client, &partition, "c", 2, now);
    }
}
