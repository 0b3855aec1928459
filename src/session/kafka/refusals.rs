//! What the brokers refused, as librdkafka reports it on the side.

use std::sync::Mutex;

use rdkafka::error::RDKafkaErrorCode;

use crate::session::error::LockError;

/// Why the brokers refused this client's connections, as librdkafka reports it on its error
/// callback or in its log: wrong credentials or settings, which no retry cures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Refusal {
    /// SASL: wrong password, unknown user, a mechanism the broker does not enable
    /// (`RD_KAFKA_RESP_ERR__AUTHENTICATION`).
    Authentication(String),
    /// The TLS handshake failed on this side: the brokers' certificate is not trusted
    /// (`RD_KAFKA_RESP_ERR__SSL`).
    Tls(String),
    /// The brokers ended the TLS handshake with an alert about this client's certificate (one
    /// from a CA they do not trust, or none where they require one).
    Certificate(String),
    /// The brokers closed connections while they were being set up, the way a listener with
    /// another `security.protocol` does (seen in librdkafka's log: [`closed_early`]).
    Protocol(String),
}

impl Refusal {
    /// The error a caller sees.
    pub(super) fn error(&self, brokers: &str) -> LockError {
        LockError::Connection(match self {
            Refusal::Authentication(reason) => format!("authentication failed at {brokers}: {reason}"),
            Refusal::Tls(reason) => format!("TLS handshake with {brokers} failed: {reason}"),
            Refusal::Certificate(reason) => format!(
                "the brokers at {brokers} refused this client's certificate (ssl.certificate.location: \
                 none, or not signed by a CA they trust): {reason}"
            ),
            Refusal::Protocol(reason) => format!(
                "the brokers at {brokers} closed the connection while it was set up: {reason}; is \
                 security.protocol right for this listener?"
            ),
        })
    }
}

/// What librdkafka said about the connections of one session's clients: fed by their error
/// callbacks and log lines, read by the topic check.
#[derive(Default)]
pub struct ConnectionWatch {
    state: Mutex<WatchState>,
}

#[derive(Default)]
pub(super) struct WatchState {
    /// The latest refusal since the brokers last answered.
    refusal: Option<Refusal>,
    /// The latest connection failure librdkafka logged (facility FAIL) since then.
    last_failure: Option<String>,
    /// How many connections the brokers closed while they were being set up, since then.
    closed_early: u32,
}

/// Whether a FAIL line of librdkafka's log reports a connection lost while it was being set up
/// ("... (after 0ms in state APIVERSION_QUERY)") or right after ("... after 3ms in state UP"):
/// what a listener with another `security.protocol` does (a TLS listener to a plaintext
/// client; a SASL listener to a client that sends a request without authenticating).
pub(super) fn closed_early(line: &str) -> bool {
    let Some(at) = line.rfind("ms in state ") else { return false };
    let state = line[at + "ms in state ".len()..].split([',', ')']).next().unwrap_or("");
    let ms = line[..at].rsplit("(after ").next().and_then(|n| n.parse::<u64>().ok());
    match state {
        "APIVERSION_QUERY" | "AUTH_HANDSHAKE" => true,
        // librdkafka's own rule for its hint that a listener wants SASL.
        "UP" => ms.is_some_and(|ms| ms < 2000),
        _ => false,
    }
}

impl ConnectionWatch {
    pub(super) fn state(&self) -> std::sync::MutexGuard<'_, WatchState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// An error librdkafka reported on a client (not tied to a partition).
    pub(super) fn error(&self, code: RDKafkaErrorCode, reason: &str) {
        let reason = reason.to_owned();
        let lower = reason.to_ascii_lowercase();
        let refusal = match code {
            RDKafkaErrorCode::Authentication => Refusal::Authentication(reason),
            RDKafkaErrorCode::SSL => Refusal::Tls(reason),
            // This side did not trust the brokers' certificate, reported as a transport error.
            RDKafkaErrorCode::BrokerTransportFailure if lower.contains("certificate verify failed") => {
                Refusal::Tls(reason)
            }
            // The brokers' alert: "ssl/tls alert bad certificate", "... certificate required",
            // "... unknown ca".
            RDKafkaErrorCode::BrokerTransportFailure
                if lower.contains("alert")
                    && (lower.contains("certificate") || lower.contains("unknown ca")) =>
            {
                Refusal::Certificate(reason)
            }
            _ => return,
        };
        self.state().refusal = Some(refusal);
    }

    /// A line of librdkafka's log. A connection closed while it was set up is logged, not
    /// reported as an error; twice is taken as a refusal (once may be a broker going down).
    pub(super) fn log(&self, facility: &str, line: &str) {
        if facility != "FAIL" {
            return;
        }
        // "[thrd:host:port/bootstrap]: host:port/bootstrap: ..." names the broker twice.
        let line = match line.strip_prefix("[thrd:").and_then(|l| l.split_once("]: ")) {
            Some((_, rest)) => rest,
            None => line,
        };
        let mut state = self.state();
        if closed_early(line) {
            state.closed_early += 1;
            if state.closed_early >= 2 && state.refusal.is_none() {
                state.refusal = Some(Refusal::Protocol(line.to_owned()));
            }
        }
        state.last_failure = Some(line.to_owned());
    }

    /// The brokers answered: what came before is history.
    pub(super) fn answered(&self) {
        *self.state() = WatchState::default();
    }

    pub(super) fn refusal(&self) -> Option<Refusal> {
        self.state().refusal.clone()
    }

    pub(super) fn last_failure(&self) -> Option<String> {
        self.state().last_failure.clone()
    }
}
