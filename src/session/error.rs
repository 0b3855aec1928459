//! The one error type of the session layer. The PHP binding maps each variant onto its own
//! exception class, so users can tell causes apart without parsing messages.

use std::fmt;

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
}

impl fmt::Display for LockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockError::Config(m)
            | LockError::Argument(m)
            | LockError::Connection(m)
            | LockError::Topic(m)
            | LockError::Lost(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for LockError {}

/// Result alias of the session layer.
pub type LockResult<T> = Result<T, LockError>;
