//! Threads the extension starts never take the process's signals.
//!
//! A thread inherits the signal mask of the thread that creates it. librdkafka creates its
//! threads from the PHP thread (when a client or an admin client is made), and the session
//! its driver: left alone, they would inherit PHP's mask, and the kernel could deliver a
//! process signal (SIGTERM, SIGUSR1, SIGALRM of max_execution_time) to one of them while PHP's
//! `pcntl_signal_dispatch` or the engine's own handler works on the PHP thread's state.

/// Runs `f` with every blockable signal blocked on this thread, so that every thread `f`
/// creates starts with all of them blocked; restores this thread's mask afterwards.
pub fn with_signals_blocked<T>(f: impl FnOnce() -> T) -> T {
    // SAFETY: plain libc calls on locals; pthread_sigmask only changes this thread's mask.
    let previous = unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut previous: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_BLOCK, &all, &mut previous);
        previous
    };
    let result = f();
    // SAFETY: restores the mask saved above.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &previous, std::ptr::null_mut()) };
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A thread created inside has every signal blocked; the caller's mask is back after.
    #[test]
    fn threads_created_inside_block_every_signal() {
        let blocked = |set: &libc::sigset_t, signal| unsafe { libc::sigismember(set, signal) == 1 };
        let mask = || unsafe {
            let mut current: libc::sigset_t = std::mem::zeroed();
            libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut current);
            current
        };
        assert!(!blocked(&mask(), libc::SIGUSR1));
        let child = with_signals_blocked(|| std::thread::spawn(mask));
        let child_mask = child.join().expect("thread");
        for signal in [libc::SIGTERM, libc::SIGUSR1, libc::SIGALRM, libc::SIGPROF, libc::SIGINT] {
            assert!(blocked(&child_mask, signal), "signal {signal} reaches the child thread");
        }
        assert!(!blocked(&mask(), libc::SIGUSR1), "the caller's mask is restored");
    }
}
