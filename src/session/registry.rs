//! The process-wide sessions, one per distinct client settings, created lazily on first use.
//!
//! PHP-FPM forks workers after module start-up, and a PHP script may `pcntl_fork()`: librdkafka's
//! threads do not survive a fork. Every lookup compares the pid a session was made in with the
//! current one; a child abandons (leaks, never destroys) what it inherited and makes its own.

use std::sync::{Arc, Mutex};

use once_cell::sync::Lazy;

use crate::session::error::LockResult;
use crate::session::options::{ClientSettings, LockOptions};
use crate::session::session::{Session, SessionStats, SHUTDOWN_GRACE};

static SESSIONS: Lazy<Mutex<Vec<Arc<Session>>>> = Lazy::new(|| Mutex::new(Vec::new()));

fn sessions() -> std::sync::MutexGuard<'static, Vec<Arc<Session>>> {
    SESSIONS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Drops (by leaking) sessions inherited from a parent process.
fn abandon_inherited(list: &mut Vec<Arc<Session>>) {
    let pid = std::process::id();
    let (ours, inherited): (Vec<_>, Vec<_>) = list.drain(..).partition(|s| s.pid() == pid);
    for s in inherited {
        std::mem::forget(s);
    }
    *list = ours;
}

/// Takes the broken sessions ([`Session::broken`]) out of the list, for the caller to drop
/// once the list is unlocked (a session's drop waits for its threads). The objects that use
/// them keep them until they make a new one.
fn take_broken(list: &mut Vec<Arc<Session>>) -> Vec<Arc<Session>> {
    let (broken, working): (Vec<_>, Vec<_>) = list.drain(..).partition(|s| s.broken());
    *list = working;
    broken
}

/// The session of this process for `settings`, made now if there is none or it is broken. The
/// operation time-out is part of a session's identity: it is the producer's delivery time-out
/// too.
pub fn session_for(settings: &ClientSettings, options: &LockOptions) -> LockResult<Arc<Session>> {
    let mut list = sessions();
    abandon_inherited(&mut list);
    let broken = take_broken(&mut list);
    let found =
        list.iter().find(|s| s.settings() == settings && s.operation_timeout() == options.operation_timeout);
    let session = match found {
        Some(s) => Ok(s.clone()),
        None => Session::connect(settings.clone(), options).map(|s| {
            let s = Arc::new(s);
            list.push(s.clone());
            s
        }),
    };
    drop(list);
    drop(broken);
    session
}

/// Releases every request of this process's sessions (end of a PHP request).
pub fn release_all() {
    let mut list = sessions();
    abandon_inherited(&mut list);
    for s in list.iter() {
        s.release_all();
    }
}

/// Releases everything, lets the releases reach the brokers, and stops every session's threads
/// (module shutdown: PHP may unload the library afterwards).
pub fn shutdown() {
    let list = {
        let mut list = sessions();
        abandon_inherited(&mut list);
        std::mem::take(&mut *list)
    };
    for s in &list {
        s.release_all();
        s.settle_withdrawals(SHUTDOWN_GRACE);
        s.flush(SHUTDOWN_GRACE);
    }
    drop(list);
}

/// Number of live sessions of this process and their counters summed (for phpinfo()).
pub fn totals() -> (usize, SessionStats) {
    let mut list = sessions();
    abandon_inherited(&mut list);
    let broken = take_broken(&mut list);
    let mut sum = SessionStats::default();
    for s in list.iter() {
        let st = s.stats();
        sum.records += st.records;
        sum.ignored += st.ignored;
        sum.renews_sent += st.renews_sent;
        sum.ticks_sent += st.ticks_sent;
        sum.consumer_errors += st.consumer_errors;
        sum.bounded += st.bounded;
    }
    let count = list.len();
    drop(list);
    drop(broken);
    (count, sum)
}
