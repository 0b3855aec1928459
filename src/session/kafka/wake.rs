//! Wake-ups that librdkafka signals from its own threads.

use std::ffi::c_void;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// Signalled by librdkafka (from its own thread) when a client's event queue goes from
/// empty to non-empty, and by a session that stops: lets threads sleep on a condition variable
/// instead of inside `poll(timeout)`, which cannot be interrupted and, in rust-rdkafka's
/// `BaseProducer::poll(t)`, always blocks for all of `t`.
#[derive(Default)]
pub struct Wakeup {
    generation: Mutex<u64>,
    changed: Condvar,
    /// Woken as well: the driver sleeps on the consumer's wake-up and must also see the
    /// producer's delivery reports (a renewal counts for the holder's trust once its report
    /// names the offset the view accepted).
    also: Option<Arc<Wakeup>>,
}

impl Wakeup {
    /// A wake-up that wakes `also`'s waiters too.
    pub fn chained_to(also: Arc<Wakeup>) -> Wakeup {
        Wakeup { also: Some(also), ..Wakeup::default() }
    }

    /// The current generation: read it before polling, then [`Wakeup::wait_change`] from it.
    pub fn generation(&self) -> u64 {
        *self.generation.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes every waiter.
    pub fn notify(&self) {
        *self.generation.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.changed.notify_all();
        if let Some(also) = &self.also {
            also.notify();
        }
    }

    /// Sleeps until the generation differs from `seen`, at most `timeout`.
    pub fn wait_change(&self, seen: u64, timeout: Duration) {
        let guard = self.generation.lock().unwrap_or_else(|e| e.into_inner());
        let _ = self.changed.wait_timeout_while(guard, timeout, |g| *g == seen);
    }
}

/// Makes librdkafka notify `wake` whenever the queue of `client` (its main queue, or its
/// consumer queue) goes from empty to non-empty.
///
/// # Safety
/// `rk` must be a live handle, and `wake` must outlive it.
pub(super) unsafe fn notify_on_queue(
    rk: *mut rdkafka::bindings::rd_kafka_t,
    consumer_queue: bool,
    wake: *const Wakeup,
) {
    // SAFETY: the handle is live (borrowed); the queue handle is released at once (librdkafka
    // keeps the callback on the queue itself); the caller keeps `wake` alive.
    unsafe {
        let queue = if consumer_queue {
            rdkafka::bindings::rd_kafka_queue_get_consumer(rk)
        } else {
            rdkafka::bindings::rd_kafka_queue_get_main(rk)
        };
        if queue.is_null() {
            return;
        }
        rdkafka::bindings::rd_kafka_queue_cb_event_enable(queue, Some(queue_nonempty), wake as *mut c_void);
        rdkafka::bindings::rd_kafka_queue_destroy(queue);
    }
}

unsafe extern "C" fn queue_nonempty(_: *mut rdkafka::bindings::rd_kafka_t, opaque: *mut c_void) {
    // SAFETY: `opaque` is the `Wakeup` given to `notify_on_queue`, alive as long as the handle.
    let wake = unsafe { &*(opaque as *const Wakeup) };
    wake.notify();
}
