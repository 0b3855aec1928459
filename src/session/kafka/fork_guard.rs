//! A fork must not land while one of librdkafka's threads is inside glibc's `getaddrinfo()`.
//!
//! The child gets a copy of the memory with glibc's internal locks as they were, but not the
//! thread that held them: with `AI_ADDRCONFIG` (librdkafka asks for it on every connect),
//! glibc takes a lock in `__check_pf`, and a child forked in that window can never take it
//! again. Its own session then never connects, and its exit hangs in librdkafka's destroy
//! (found in one of about 40 runs of the Symfony suite; reproduced by
//! `php-tests/fork_during_address_lookup.phpt`).
//!
//! So every lookup the extension makes holds a shared claim, and a `pthread_atfork` handler
//! makes `fork()` wait for the lookups in flight and hold new ones back until it returns:
//! the same pattern glibc uses for malloc's locks. The extension's link sends every
//! `getaddrinfo()` call of its objects here (`--wrap=getaddrinfo`, see `build.rs`); PHP's own
//! calls are not affected. A fork waits at most for one lookup (the resolver's own time-out
//! bounds it).

use std::cell::RefCell;
use std::ffi::{c_char, c_int};
use std::sync::{Condvar, Mutex, MutexGuard, Once, PoisonError};

#[derive(Default)]
struct Lookups {
    in_flight: usize,
    /// Set by a fork waiting for the lookups in flight: new ones wait, so a steady stream of
    /// lookups cannot keep the fork waiting.
    forking: bool,
}

static LOOKUPS: Mutex<Lookups> = Mutex::new(Lookups { in_flight: 0, forking: false });
static CHANGED: Condvar = Condvar::new();

thread_local! {
    /// The forking thread holds the lookups' lock across `fork()` (from the prepare handler to
    /// the parent's or child's), so the child never inherits it held by a thread it lacks.
    static HELD_ACROSS_FORK: RefCell<Option<MutexGuard<'static, Lookups>>> =
        const { RefCell::new(None) };
}

fn lock() -> MutexGuard<'static, Lookups> {
    LOOKUPS.lock().unwrap_or_else(PoisonError::into_inner)
}

fn wait(guard: MutexGuard<'static, Lookups>) -> MutexGuard<'static, Lookups> {
    CHANGED.wait(guard).unwrap_or_else(PoisonError::into_inner)
}

/// Registers the fork handlers, once per process (a child inherits them).
pub fn install() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        // SAFETY: the handlers are plain functions that live as long as the extension.
        unsafe { libc::pthread_atfork(Some(before_fork), Some(after_fork), Some(after_fork)) };
    });
}

extern "C" fn before_fork() {
    let mut lookups = lock();
    while lookups.forking {
        lookups = wait(lookups); // another thread is forking
    }
    lookups.forking = true;
    while lookups.in_flight > 0 {
        lookups = wait(lookups);
    }
    HELD_ACROSS_FORK.with(|held| *held.borrow_mut() = Some(lookups));
}

/// In the parent and in the child alike: lookups may start again.
extern "C" fn after_fork() {
    if let Some(mut lookups) = HELD_ACROSS_FORK.with(|held| held.borrow_mut().take()) {
        lookups.forking = false;
        drop(lookups);
        CHANGED.notify_all();
    }
}

/// One lookup's claim: no fork happens while it lives.
struct Lookup;

impl Lookup {
    fn start() -> Lookup {
        let mut lookups = lock();
        while lookups.forking {
            lookups = wait(lookups);
        }
        lookups.in_flight += 1;
        Lookup
    }
}

impl Drop for Lookup {
    fn drop(&mut self) {
        let mut lookups = lock();
        lookups.in_flight -= 1;
        let last = lookups.in_flight == 0;
        drop(lookups);
        if last {
            CHANGED.notify_all();
        }
    }
}

extern "C" {
    /// glibc's `getaddrinfo()`, under the name `--wrap` gives it.
    fn __real_getaddrinfo(
        node: *const c_char,
        service: *const c_char,
        hints: *const libc::addrinfo,
        res: *mut *mut libc::addrinfo,
    ) -> c_int;
}

/// Every `getaddrinfo()` call of the extension's objects (librdkafka's) arrives here.
///
/// # Safety
/// The same contract as `getaddrinfo()`.
#[no_mangle]
pub unsafe extern "C" fn __wrap_getaddrinfo(
    node: *const c_char,
    service: *const c_char,
    hints: *const libc::addrinfo,
    res: *mut *mut libc::addrinfo,
) -> c_int {
    let _claim = Lookup::start();
    // SAFETY: the caller's arguments, passed on unchanged.
    unsafe { __real_getaddrinfo(node, service, hints, res) }
}
