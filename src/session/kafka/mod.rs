//! Every librdkafka call of the extension: the clients of one session (an idempotent
//! producer, an assign-only consumer), producing what the client core hands out, the join's
//! lookups, and the topic check (exists, or is created with LogAppendTime).

mod clients;
mod context;
mod refusals;
mod topic;
mod wake;

pub use clients::{librdkafka_version, Clients, Consumed, ConsumerError, Report, ReportTag};
pub use context::LockProducer;
pub use topic::create_time_error;
pub use wake::Wakeup;
