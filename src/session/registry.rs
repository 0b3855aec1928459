//! The process-wide sessions, one per distinct client settings, created lazily on first use.
//!
//! PHP-FPM forks workers after module start-up, and a PHP script may `pcntl_fork()`: librdkafka's
//! threads do not survive a fork. Every lookup compares the pid a session was made in with the
//! current one; a child abandons (leaks, never destroys) what it inherited and makes its own.

use std::sync::{Arc, Mutex, Weak};

use once_cell::sync::Lazy;

use crate::protocol::Histogram;

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
    if !broken.is_empty() {
        // Counted while the objects that hold something on them keep them (see totals()).
        history().retired.extend(broken.iter().map(Arc::downgrade));
    }
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
            history().started += 1;
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

/// What [`totals`] reports: this process's counters since it started (a forked child starts
/// from zero).
#[derive(Debug, Clone, Default)]
pub struct Totals {
    /// Sessions alive now.
    pub sessions: usize,
    /// Sessions made by this process (one per distinct client settings, and one more for each
    /// that broke and was replaced).
    pub sessions_started: u64,
    /// The sessions' counters and histograms summed, those of replaced sessions included.
    pub stats: SessionStats,
}

impl Totals {
    /// The counters by name, as `DistributedLock::stats()`, phpinfo() and the Prometheus example
    /// name them (what each counts: docs/observability.md).
    pub fn counters(&self) -> Vec<(&'static str, u64)> {
        let c = &self.stats.core;
        vec![
            ("acquires", c.acquired),
            ("busy", c.busy),
            ("timeouts", c.timed_out),
            ("interrupts", c.interrupted),
            ("releases", c.released),
            ("leases_lost", c.leases_lost),
            ("renewals_sent", c.renews_sent),
            ("renew_failures", c.renew_failures),
            ("revokes_sent", c.revokes_sent),
            ("releases_resent", c.releases_resent),
            ("ticks_sent", c.ticks_sent),
            ("records_replayed", c.records),
            ("records_applied_on_ack", c.applied_on_ack),
            ("records_ignored", c.ignored),
            ("records_bounded", c.bounded),
            ("joins", c.joins),
            ("consumer_errors", self.stats.consumer_errors),
            ("sessions_started", self.sessions_started),
        ]
    }

    /// The gauges: values now.
    pub fn gauges(&self) -> Vec<(&'static str, u64)> {
        vec![("sessions", self.sessions as u64), ("partitions_followed", self.stats.core.partitions_followed)]
    }

    /// The histograms, in seconds.
    pub fn histograms(&self) -> Vec<(&'static str, &Histogram)> {
        let c = &self.stats.core;
        vec![
            ("acquire_wait_seconds", &c.acquire_wait),
            ("hand_off_seconds", &c.hand_off),
            ("hold_seconds", &c.hold),
        ]
    }
}

/// Live sessions, and this process's counters summed over every session it had (for
/// `DistributedLock::stats()` and phpinfo()).
pub fn totals() -> Totals {
    let mut list = sessions();
    abandon_inherited(&mut list);
    let broken = take_broken(&mut list);
    let (mut totals, retired) = {
        let mut history = history();
        history.retired.retain(|s| s.strong_count() > 0);
        let retired: Vec<Arc<Session>> = history.retired.iter().filter_map(Weak::upgrade).collect();
        let totals = Totals {
            sessions: list.len(),
            sessions_started: history.started,
            stats: history.dropped.clone(),
        };
        (totals, retired)
    };
    for s in list.iter().chain(&retired) {
        add(&mut totals.stats, &s.stats());
    }
    drop(list);
    // Dropping the last reference to a session folds its counts into the history
    // (note_dropped), which must not be locked here.
    drop(retired);
    drop(broken);
    totals
}

/// The final counts of a session of this process that is being dropped (from its `Drop`).
pub(crate) fn note_dropped(mut stats: SessionStats) {
    // A gauge: the partitions it followed are no longer followed.
    stats.core.partitions_followed = 0;
    add(&mut history().dropped, &stats);
}

/// What this process's sessions that left the list counted, and how many it made.
#[derive(Default)]
struct History {
    pid: u32,
    started: u64,
    /// Broken sessions taken out of the list that objects may still use (and count on).
    retired: Vec<Weak<Session>>,
    /// The final counts of the sessions dropped.
    dropped: SessionStats,
}

static HISTORY: Lazy<Mutex<History>> = Lazy::new(|| Mutex::new(History::default()));

/// This process's history; a forked child's starts empty (the parent's counts are the parent's).
fn history() -> std::sync::MutexGuard<'static, History> {
    let mut history = HISTORY.lock().unwrap_or_else(|e| e.into_inner());
    let pid = std::process::id();
    if history.pid != pid {
        *history = History { pid, ..History::default() };
    }
    history
}

fn add(sum: &mut SessionStats, stats: &SessionStats) {
    sum.core.merge(&stats.core);
    sum.consumer_errors += stats.consumer_errors;
}
