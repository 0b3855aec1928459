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
//! calls are not affected. A fork waits for the lookups in flight at most [`FORK_WAIT_MAX`],
//! then forks anyway: a lookup that slow is waiting for a name server, past the moment it
//! holds glibc's lock, and glibc older than 2.36 holds its own fork lock while handlers run, so
//! a lookup that registered a fork handler (an NSS module loaded on first use) would otherwise
//! never end.

use std::cell::RefCell;
use std::ffi::{c_char, c_int};
use std::sync::{Condvar, Mutex, MutexGuard, Once, PoisonError};
use std::time::{Duration, Instant};

/// The longest a fork waits for the lookups in flight.
const FORK_WAIT_MAX: Duration = Duration::from_secs(1);

// The wrapper must be the extension's own: exported, it would be one more symbol of the .so
// (the dist check allows only PHP's entry point) and another library's could take its calls.
std::arch::global_asm!(".hidden __wrap_getaddrinfo");

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
        unsafe {
            libc::pthread_atfork(Some(before_fork), Some(after_fork_in_parent), Some(after_fork_in_child))
        };
    });
}

extern "C" fn before_fork() {
    let mut lookups = lock();
    while lookups.forking {
        lookups = wait(lookups); // another thread is forking
    }
    lookups.forking = true;
    let give_up_at = Instant::now() + FORK_WAIT_MAX;
    while lookups.in_flight > 0 {
        let left = give_up_at.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        lookups = CHANGED.wait_timeout(lookups, left).unwrap_or_else(PoisonError::into_inner).0;
    }
    HELD_ACROSS_FORK.with(|held| *held.borrow_mut() = Some(lookups));
}

/// Lookups may start again.
extern "C" fn after_fork_in_parent() {
    after_fork(false);
}

/// The same, and the lookups still in flight (a fork that stopped waiting) are the parent's.
extern "C" fn after_fork_in_child() {
    after_fork(true);
}

fn after_fork(child: bool) {
    if let Some(mut lookups) = HELD_ACROSS_FORK.with(|held| held.borrow_mut().take()) {
        lookups.forking = false;
        if child {
            lookups.in_flight = 0;
        }
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
