//! The one error type of the session layer. The PHP binding maps each variant onto its own
//! exception class, so users can tell causes apart without parsing messages.

use std::fmt;

use crate::protocol::{Failure, PartitionId, MAX_LIVE_REQUESTS};
use crate::session::kafka::create_time_error;

/// Why a lock operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockError {
    /// An option, an INI setting or the topic name is invalid; the message names it.
    Config(String),
    /// An argument of a call is invalid (empty identifier, negative time-out, ...).
    Argument(String),
    /// The brokers could not be reached, or did not answer within the configured time-out.
    Connection(String),
    /// The topic exists but cannot carry locks (CreateTime timestamps, partition count changed).
    Topic(String),
    /// This instance believed it held the lock but its lease is gone.
    Lost(String),
    /// The lock is in use in a way this request can never hold with (another kind of lock, a
    /// semaphore of another limit, or this instance's own hold in the other mode).
    Conflict(String),
}

impl fmt::Display for LockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockError::Config(m)
            | LockError::Argument(m)
            | LockError::Connection(m)
            | LockError::Topic(m)
            | LockError::Lost(m)
            | LockError::Conflict(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for LockError {}

/// Result alias of the session layer.
pub type LockResult<T> = Result<T, LockError>;

impl LockError {
    /// The error a caller sees for a failure of the client core on `partition`.
    pub fn from_failure(
        failure: Failure,
        partition: &PartitionId,
        brokers: &str,
        operation_timeout: std::time::Duration,
    ) -> LockError {
        let topic = &partition.topic;
        let p = partition.partition;
        match failure {
            Failure::CreateTime => create_time_error(topic),
            Failure::PartitionCountChanged { from, to } => LockError::Topic(format!(
                "the partition count of topic '{topic}' changed from {from} to {to} while locks \
                 were in use; identifiers now map to other partitions, so every hold on this \
                 topic is treated as lost. Never change the partition count of a lock topic \
                 with live locks."
            )),
            Failure::TopicDeleted => LockError::Topic(format!(
                "topic '{topic}' was deleted while locks were in use; every hold on it is lost. \
                 The next lock operation checks the topic again (and creates it if \
                 lock.create_topic allows)"
            )),
            Failure::JoinNotWritten(e) => LockError::Connection(format!(
                "cannot write to topic '{topic}' partition {p} at {brokers}: {e}"
            )),
            Failure::JoinNotAcknowledged => LockError::Connection(format!(
                "no acknowledgement from the brokers at {brokers} within {:.1} s \
                 (lock.operation_timeout)",
                operation_timeout.as_secs_f64()
            )),
            Failure::JoinLookup(e) => {
                LockError::Connection(format!("cannot look up offsets of topic '{topic}': {e}"))
            }
            Failure::JoinAssign(e) => {
                LockError::Connection(format!("cannot assign topic '{topic}' partition {p}: {e}"))
            }
            Failure::NotSent(e) => {
                LockError::Connection(format!("cannot queue a record for topic '{topic}': {e}"))
            }
            Failure::ProducerFailed(e) => LockError::Connection(format!(
                "{e}; no renewal or release of this process's session reaches topic '{topic}' \
                 any more, so its holds are lost. Release them (releaseLock() returns false); \
                 the next lock operation starts a new session"
            )),
            Failure::PartitionFull => LockError::Topic(format!(
                "partition {p} of topic '{topic}' holds {MAX_LIVE_REQUESTS} live lock requests in \
                 this process's view, and an acquire beyond that was refused, so this process \
                 can no longer tell who holds its locks; its holds and requests there are lost. \
                 A writer flooding the topic, or far more waiters than one partition is made \
                 for: spread the locks over more partitions (lock.partitions)"
            )),
            Failure::Stopped(e) => LockError::Connection(format!(
                "the lock's background thread stopped ({e}); the holds of its session are lost. \
                 Release them (releaseLock() returns false); the next lock operation starts a \
                 new session"
            )),
        }
    }
}
