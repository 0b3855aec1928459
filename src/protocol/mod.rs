//! The lock protocol core: a pure, deterministic state machine per partition of the lock
//! topic, the record format, and the partitioner. No Kafka, no PHP, no clock, no I/O.
//!
//! Every lock event is a record of the lock topic, keyed by the lock identifier. Every client
//! replays the partitions it uses through a [`Machine`], so all clients agree, offset by
//! offset, on who holds which lock. Time inside a machine is the log clock (the largest
//! broker timestamp seen), so lease expiry is a function of the log too. The fencing token of
//! a hold is the offset of its acquire record. `docs/protocol.md` states the rules and
//! the invariants with the reasons they hold.
//!
//! # The caller's loop
//!
//! The session layer owns the I/O; this module only computes. For each partition in use:
//!
//! 1. Pick the lock's partition with [`partition_for`] (the Java client's rule).
//! 2. Make a [`Machine`] starting where consuming starts: the log-start offset for a full
//!    replay, or, for a client joining mid-log, the offset `offsetsForTimes(t0 - MAX_TTL_MS -
//!    JOIN_MARGIN_MS)` where `t0` is the broker timestamp of the client's first own record.
//!    A joiner trusts what the machine says only from that first own record on.
//! 3. Produce records built with [`encode_record`] (or [`encode_value`]): `acquire` to
//!    queue, `renew` every `ttl/3` while queued or holding, `release` to leave, `tick` to
//!    move log time when a holder's lease should have run out ([`Machine::next_expiry`]).
//! 4. Feed every consumed record, in offset order, to [`Machine::handle_record`], then drain
//!    [`Machine::poll_event`]: find your own request by `owner`+`seq` in
//!    [`Event::Enqueued`], take `prev` for the next renew only from the `alive_at` of your
//!    accepted [`Event::Enqueued`]/[`Event::Renewed`] (never from a produce acknowledgement),
//!    and treat [`Event::Granted`] as "you hold it, fenced by `token`".
//!    [`Event::Expired`] or [`Event::Released`] of your request means it is gone.
//!
//! ```
//! use kafka_lock::protocol::{encode_value, Event, Machine, Mode, Op};
//!
//! let mut machine = Machine::new(0);
//! let acquire = Op::Acquire { owner: "php-1".into(), seq: 1, ttl: 30_000, mode: Mode::Exclusive };
//! // The broker stamped the record at offset 0 with t = 1_000 ms.
//! machine.handle_record(0, 1_000, Some(b"orders"), Some(&encode_value(&acquire)));
//!
//! assert!(matches!(machine.poll_event(), Some(Event::Enqueued { token: 0, alive_at: 1_000, .. })));
//! assert!(matches!(machine.poll_event(), Some(Event::Granted { token: 0, at: 0, .. })));
//! assert_eq!(machine.holder("orders").map(|r| r.token), Some(0));
//! // Nobody renews: the lease ends once log time passes 1_000 + 30_000.
//! assert_eq!(machine.next_expiry(), Some(31_001));
//! machine.handle_record(1, 31_001, None, Some(&encode_value(&Op::Tick)));
//! assert!(matches!(machine.poll_event(), Some(Event::Expired { token: 0, .. })));
//! assert_eq!(machine.holder("orders"), None);
//! ```
#![deny(missing_docs)]

mod client;
mod machine;
mod partition;
mod record;
mod stats;

#[cfg(test)]
mod client_tests;
#[cfg(test)]
mod machine_tests;

/// A Kafka offset. The offset of an acquire record is the request's fencing token.
pub type Offset = i64;

/// Broker time: milliseconds since the epoch, from the records' LogAppendTime timestamps.
pub type LogTime = i64;

/// The longest lease a record may ask for, in ms. A record with `ttl` 0 or above this is
/// malformed, so every replayer decides alike; it also bounds how far back a joiner reads.
pub const MAX_TTL_MS: u64 = 60_000;

/// Extra look-back for joiners, in ms: covers clock differences between brokers (a leader
/// change can move log time by the skew between two brokers' clocks).
pub const JOIN_MARGIN_MS: i64 = 10_000;

/// The most live requests a replayer keeps per partition; acquires beyond it are refused. A
/// bound on what a writer that floods the topic with acquires can make every replayer hold
/// (about 300 bytes each); far above any real use (every PHP worker of a fleet waiting on
/// locks of one partition).
pub const MAX_LIVE_REQUESTS: usize = 100_000;

/// The most tombstones a replayer keeps per partition (about 150 bytes each); the oldest go
/// first. Normally they are dropped `MAX_TTL_MS` after the removal.
pub const MAX_TOMBSTONES: usize = 200_000;

/// The longest lock identifier (record key), in bytes.
pub const MAX_IDENTIFIER_BYTES: usize = 1024;

/// The longest `owner`, in bytes.
pub const MAX_OWNER_BYTES: usize = 128;

/// The longest encoded record value, in bytes; checked on encode and decode.
pub const MAX_VALUE_BYTES: usize = 2048;

/// How far before its first own record's timestamp a joiner starts replaying:
/// `MAX_TTL_MS + JOIN_MARGIN_MS`. Seek to `offsetsForTimes(t0 - JOIN_WINDOW_MS)`.
pub const JOIN_WINDOW_MS: i64 = MAX_TTL_MS as i64 + JOIN_MARGIN_MS;

pub use client::{
    Client, Failure, Inspected, InspectionId, Lease, LocalTime, OwnRequestInfo, PartitionId, Placement,
    Purpose, QueuedRequest, RequestId, Snapshot, Status, Transmit, TransmitId, Withdrawn, AWAIT_REPORT_FOR,
    MIN_TICK_INTERVAL, MIN_TRUST_DIVISOR, RELEASE_RETRY_BACKOFF, RENEW_DIVISOR, TRUST_MARGIN_DIVISOR,
    UNFOLLOW_AFTER,
};
pub use machine::{AcquireLookup, Event, Ignored, Machine, Request, Stats};
pub use partition::{murmur2, partition_for};
pub use record::{
    commitment_of, decode_record, encode_record, encode_value, encode_value_with, encode_with_proof,
    validate_identifier, validate_op, validate_record, Held, Mode, Op, Proof, Record, Reject,
    MAX_SEMAPHORE_LIMIT,
};
pub use stats::{ClientStats, GaveUp, Histogram, BUCKET_BOUNDS};
