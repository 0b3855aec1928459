//! The session's clock: local time for the client core, read from `CLOCK_BOOTTIME`.
//!
//! `CLOCK_MONOTONIC` (Rust's `Instant`) stops while the machine is suspended: a VM resumed
//! after its lease ended would still trust it. `CLOCK_BOOTTIME` counts the suspension too.

use std::time::Duration;

use crate::protocol::LocalTime;

/// Local time now: time since boot, suspensions included.
pub fn now() -> LocalTime {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec. CLOCK_BOOTTIME exists on every Linux since
    // 2.6.39; were it refused, CLOCK_MONOTONIC is the next best (both start at boot).
    if unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut ts) } != 0 {
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    }
    LocalTime::from_duration(Duration::new(ts.tv_sec.max(0) as u64, ts.tv_nsec.clamp(0, 999_999_999) as u32))
}
