//! The Kafka session layer: the only place with threads and librdkafka.
//!
//! A PHP `DistributedLock` owns a [`LockHandle`]. Handles with equal client settings share one
//! process-wide [`Session`] (see [`registry`]): an idempotent producer, an assign-only consumer,
//! and a driver thread that replays each partition in use through the pure
//! [`crate::protocol::Machine`], renews leases and sends ticks. Data flows one way: records
//! come in from Kafka, the protocol core turns them into events, the session turns events into
//! request state that the PHP thread waits on.

mod clock;
mod driver;
pub mod error;
pub mod handle;
pub mod kafka;
pub mod options;
pub mod registry;
#[allow(clippy::module_inception)]
pub mod session;
mod signals;

pub use error::{LockError, LockResult};
pub use handle::{weighted_mode, LockHandle, Vocabulary, LOCK_WORDS, SEMAPHORE_WORDS};
pub use options::{ConfigValue, Defaults, LockOptions, DEFAULT_SETTINGS, SETTING_BROKERS};
pub use session::{Session, Wait};
