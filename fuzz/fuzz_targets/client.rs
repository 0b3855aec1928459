//! The client core under arbitrary inputs: see `kafka_lock_protocol_fuzz::client`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kafka_lock_protocol_fuzz::client::run(data);
});
