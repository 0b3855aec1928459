//! The context of a session's clients and the raw librdkafka event handles.

use std::ffi::{c_char, CStr};
use std::sync::{Arc, Mutex};

use rdkafka::bindings as rd;
use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::ConsumerContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{DeliveryResult, Message, Timestamp};
use rdkafka::producer::{BaseProducer, ProducerContext};

use crate::protocol::{Placement, TransmitId};

use super::{clients::*, refusals::*};

/// A delivery report as librdkafka gave it, before [`Clients::take_reports`] names the cause
/// of a purge.
pub(super) type RawReport = (TransmitId, Result<Placement, (Option<RDKafkaErrorCode>, String)>);

/// The context of a session's clients: reports their errors and log lines to the session's
/// watch, and collects the producer's delivery reports the client core asked for, to be
/// handed to it by whichever thread next holds the core (the reports are served by any
/// thread that polls the producer).
pub struct SessionContext {
    pub(super) reports: Mutex<Vec<RawReport>>,
    pub(super) watch: Arc<ConnectionWatch>,
}

impl SessionContext {
    pub(super) fn new(watch: &Arc<ConnectionWatch>) -> SessionContext {
        SessionContext { reports: Mutex::new(Vec::new()), watch: watch.clone() }
    }
}

impl ClientContext for SessionContext {
    fn log(&self, _level: RDKafkaLogLevel, facility: &str, line: &str) {
        self.watch.log(facility, line);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        if let Some(code) = error.rdkafka_error_code() {
            self.watch.error(code, reason);
        }
    }
}

impl ConsumerContext for SessionContext {}

impl ProducerContext for SessionContext {
    type DeliveryOpaque = ReportTag;

    fn delivery(&self, result: &DeliveryResult<'_>, tag: Self::DeliveryOpaque) {
        let Some(id) = tag.0 else { return };
        let outcome = match result {
            Ok(m) => Ok(Placement {
                offset: m.offset(),
                log_time: match m.timestamp() {
                    Timestamp::LogAppendTime(t) => Some(t),
                    _ => None,
                },
            }),
            Err((e, _)) => Err((e.rdkafka_error_code(), e.to_string())),
        };
        self.reports.lock().unwrap_or_else(|e| e.into_inner()).push((id, outcome));
    }
}

/// The producer type of a session. No polling thread of its own: the driver thread serves its
/// delivery reports, and a caller waiting for one polls it (rust-rdkafka's ThreadedProducer
/// polls every 100 ms, which made every flush at process exit take 100 ms).
pub type LockProducer = BaseProducer<SessionContext>;

/// This client's handle on the consumer's queue, which [`Clients::poll_record`] polls itself:
/// rust-rdkafka's poll drops the partition of a consumer error.
pub(super) struct ConsumerQueue(pub(super) *mut rd::rd_kafka_queue_t);

// SAFETY: librdkafka's queues are thread-safe.
unsafe impl Send for ConsumerQueue {}
// SAFETY: as above.
unsafe impl Sync for ConsumerQueue {}

impl Drop for ConsumerQueue {
    fn drop(&mut self) {
        // SAFETY: a handle from rd_kafka_queue_get_consumer, released once, before the consumer.
        unsafe { rd::rd_kafka_queue_destroy(self.0) }
    }
}

/// An event taken from a queue, destroyed when dropped.
pub(super) struct Event(pub(super) *mut rd::rd_kafka_event_t);

impl Drop for Event {
    fn drop(&mut self) {
        // SAFETY: an event from rd_kafka_queue_poll, destroyed once.
        unsafe { rd::rd_kafka_event_destroy(self.0) }
    }
}

/// A C string of librdkafka (may be null) as text.
///
/// # Safety
/// `s` must be null or point to a NUL-terminated string alive for the call.
pub(super) unsafe fn text(s: *const c_char) -> String {
    if s.is_null() {
        return String::new();
    }
    // SAFETY: the caller's contract.
    unsafe { CStr::from_ptr(s) }.to_string_lossy().trim().to_owned()
}
