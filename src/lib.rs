//! kafka_lock: a fair, fenced, lease-based distributed lock coordinated through Apache Kafka,
//! built as a PHP extension.
//!
//! Three layers, data flowing one way:
//! - [`protocol`]: the pure replicated state machine (no I/O, no clock, no PHP);
//! - [`session`]: Kafka clients and the driver thread (the only place with threads and librdkafka);
//! - `php` (feature `php`): the thin ext-php-rs binding (the only place that touches Zend).
pub mod protocol;
pub mod session;

#[cfg(feature = "php")]
mod php;
