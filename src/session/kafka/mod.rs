//! Every librdkafka call of the extension: the clients of one session (an idempotent
//! producer, an assign-only consumer), producing what the client core hands out, the join's
//! lookups, single-record reads, and the topic check (exists, or is created with LogAppendTime).
//! In the extension, every address lookup librdkafka makes waits for no fork and holds forks
//! back (`fork_guard`).

mod clients;
mod context;
#[cfg(fork_guarded_lookups)]
mod fork_guard;
mod refusals;
mod topic;
mod wake;

pub use clients::{
    librdkafka_version, Clients, Consumed, ConsumerError, Report, ReportTag, StoredRecord, TopicState,
};
pub use context::LockProducer;
pub use topic::create_time_error;
pub use wake::Wakeup;

#[cfg(test)]
mod tests {
    use std::ffi::CString;

    use rdkafka::bindings as rdsys;

    /// Every property the options pass through is one this librdkafka knows: a name it did
    /// not know would reach the user as librdkafka's "No such configuration property".
    #[test]
    fn pass_through_properties_are_known_to_librdkafka() {
        for name in crate::session::options::pass_through_properties() {
            let mut err = [0 as std::ffi::c_char; 256];
            let key = CString::new(name).expect("no NUL");
            let value = CString::new("1").expect("no NUL");
            // SAFETY: a fresh conf, NUL-terminated strings and a buffer of the size passed.
            let res = unsafe {
                let conf = rdsys::rd_kafka_conf_new();
                let res =
                    rdsys::rd_kafka_conf_set(conf, key.as_ptr(), value.as_ptr(), err.as_mut_ptr(), err.len());
                rdsys::rd_kafka_conf_destroy(conf);
                res
            };
            assert_ne!(
                res,
                rdsys::rd_kafka_conf_res_t::RD_KAFKA_CONF_UNKNOWN,
                "{name} is unknown to librdkafka"
            );
        }
    }
}
