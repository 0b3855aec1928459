//! The decoder never panics, and whatever it accepts re-encodes to a value it decodes to the
//! same record (so `encode_value` and `decode_record` agree on the format).
#![no_main]

use kafka_lock::protocol::{decode_record, encode_value, Op};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // First byte: how the rest splits into key and value (0xff: no key, 0xfe: no value).
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let (key, value) = match split {
        0xff => (None, Some(rest)),
        0xfe => (Some(rest), None),
        n => {
            let at = usize::from(n).min(rest.len());
            (Some(&rest[..at]), Some(&rest[at..]))
        }
    };
    if let Ok(record) = decode_record(key, value) {
        let encoded = encode_value(&record.op);
        let key = if record.op == Op::Tick { None } else { key };
        assert_eq!(decode_record(key, Some(&encoded)), Ok(record));
    }
});
