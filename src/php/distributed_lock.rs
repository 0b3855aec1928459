//! The PHP class `DistributedLock`: a thin wrapper over [`LockHandle`].

use ext_php_rs::boxed::ZBox;
use ext_php_rs::flags::ClassFlags;
use ext_php_rs::prelude::*;
use ext_php_rs::types::ZendHashTable;

use crate::php::args::{take, OptionalSeconds, StringArg};
use crate::php::config::{defaults, ConfigArray};
use crate::php::exceptions::to_php;
use crate::php::stats;
use crate::protocol::{Mode, Snapshot};
use crate::session::{registry, LockError, LockHandle};

/// A fair, fenced, lease-based lock whose state lives in a Kafka topic.
#[php_class]
#[php(name = "DistributedLock")]
#[php(flags = ClassFlags::Final)]
pub struct DistributedLock {
    handle: LockHandle,
}

/// Whether the engine wants control back: a signal handler (pcntl_async_signals) or the time
/// limit is pending. A queue worker blocked in acquireLock(null) must still honour SIGTERM.
pub(crate) fn engine_interrupted() -> bool {
    let globals = ext_php_rs::zend::ExecutorGlobals::get();
    // SAFETY: read on the PHP thread; the flag is a plain bool the engine sets from handlers.
    unsafe { std::ptr::read_volatile(&globals.vm_interrupt.value) }
}

pub(crate) fn php<T>(result: Result<T, LockError>) -> PhpResult<T> {
    result.map_err(to_php)
}

/// `inspect()`'s array: the mode of the holders (or of the head while nobody holds it, which
/// only a joiner's unchecked view shows), the granted prefix as holders, the rest as waiting.
pub(crate) fn snapshot_array(snapshot: &Snapshot) -> ext_php_rs::error::Result<ZBox<ZendHashTable>> {
    let mut holders = ZendHashTable::new();
    for request in snapshot.queue.iter().filter(|r| r.granted) {
        let mut holder = ZendHashTable::new();
        holder.insert("owner", request.owner.as_str())?;
        holder.insert("token", request.token)?;
        holder.insert("expires_in", request.expires_in.as_secs_f64())?;
        if let Mode::Weighted { weight, .. } = request.mode {
            holder.insert("weight", i64::from(weight))?;
        }
        holders.push(holder)?;
    }
    let head = snapshot.queue.first().map(|r| r.mode);
    let mut array = ZendHashTable::new();
    array.insert(
        "mode",
        head.map(|mode| match mode {
            Mode::Exclusive => "exclusive",
            Mode::Shared => "shared",
            Mode::Weighted { .. } => "semaphore",
        }),
    )?;
    array.insert("holders", holders)?;
    array.insert("waiting", snapshot.queue.iter().filter(|r| !r.granted).count() as i64)?;
    let limit = match head {
        Some(Mode::Weighted { limit, .. }) => Some(i64::from(limit)),
        _ => None,
    };
    array.insert("limit", limit)?;
    array.insert("complete", snapshot.complete)?;
    Ok(array)
}

#[php_impl]
impl DistributedLock {
    /// Connects (once per process and client settings) and checks the topic, creating it with
    /// LogAppendTime timestamps when it is missing and `lock.create_topic` allows.
    #[php(defaults(config = ConfigArray::default()))]
    pub fn __construct(topic: StringArg, config: ConfigArray) -> PhpResult<Self> {
        let topic = take(topic.0, "DistributedLock::__construct", 1, "topic", "string")?;
        take(config.0.clone().map(|_| ()), "DistributedLock::__construct", 2, "config", "array")?;
        let defaults = php(defaults())?;
        let entries = php(config.entries())?;
        let handle =
            php(LockHandle::open(&topic, &entries, &defaults))?.with_interrupt_check(engine_interrupted);
        Ok(DistributedLock { handle })
    }

    /// Blocks until this instance holds the lock; `null` waits forever, otherwise at most
    /// `$timeout` seconds, returning false on time-out. Reentrant.
    pub fn acquire_lock(&mut self, identifier: StringArg, timeout: OptionalSeconds) -> PhpResult<bool> {
        let identifier = take(identifier.0, "DistributedLock::acquireLock", 1, "identifier", "string")?;
        let timeout = take(timeout.0, "DistributedLock::acquireLock", 2, "timeout", "?float")?;
        php(self.handle.acquire(&identifier, timeout))
    }

    /// Blocks until this instance holds the lock shared with other readers; `null` waits
    /// forever, otherwise at most `$timeout` seconds, returning false on time-out. Readers
    /// consecutive at the head of the queue hold together; a writer waiting ahead holds back
    /// the readers behind it. Reentrant.
    pub fn acquire_read_lock(&mut self, identifier: StringArg, timeout: OptionalSeconds) -> PhpResult<bool> {
        let identifier = take(identifier.0, "DistributedLock::acquireReadLock", 1, "identifier", "string")?;
        let timeout = take(timeout.0, "DistributedLock::acquireReadLock", 2, "timeout", "?float")?;
        php(self.handle.acquire_as(&identifier, Mode::Shared, timeout))
    }

    /// Takes the lock shared only if that is granted at once: no writer holds it or waits.
    pub fn try_read_lock(&mut self, identifier: StringArg) -> PhpResult<bool> {
        let identifier = take(identifier.0, "DistributedLock::tryReadLock", 1, "identifier", "string")?;
        php(self.handle.try_acquire_as(&identifier, Mode::Shared))
    }

    /// Takes the lock only if it is free and nobody is queued for it; never waits for a holder.
    pub fn try_lock(&mut self, identifier: StringArg) -> PhpResult<bool> {
        let identifier = take(identifier.0, "DistributedLock::tryLock", 1, "identifier", "string")?;
        php(self.handle.try_acquire(&identifier))
    }

    /// Releases one level of the hold; false if this instance did not hold the lock or its
    /// lease had already been lost.
    pub fn release_lock(&mut self, identifier: StringArg) -> PhpResult<bool> {
        let identifier = take(identifier.0, "DistributedLock::releaseLock", 1, "identifier", "string")?;
        php(self.handle.release(&identifier))
    }

    /// Whether this instance holds the lock, by its own conservative view of the lease.
    pub fn is_acquired(&self, identifier: StringArg) -> PhpResult<bool> {
        let identifier = take(identifier.0, "DistributedLock::isAcquired", 1, "identifier", "string")?;
        php(self.handle.is_acquired(&identifier))
    }

    /// The fencing token of the current hold (strictly increasing per lock), null if not held.
    pub fn get_fencing_token(&self, identifier: StringArg) -> PhpResult<Option<i64>> {
        let identifier = take(identifier.0, "DistributedLock::getFencingToken", 1, "identifier", "string")?;
        php(self.handle.fencing_token(&identifier))
    }

    /// The lock as the log has it now, whoever holds it: mode, holders (owner, fencing token,
    /// seconds of lease left), how many wait, and whether the view was complete.
    pub fn inspect(&mut self, identifier: StringArg) -> PhpResult<ZBox<ZendHashTable>> {
        let identifier = take(identifier.0, "DistributedLock::inspect", 1, "identifier", "string")?;
        let snapshot = php(self.handle.inspect(&identifier))?;
        Ok(snapshot_array(&snapshot)?)
    }

    /// Ends whoever holds the lock (its holder, or every reader) at its current lease (an
    /// operator's tool for a stuck holder): renewals are refused from now on. False if nobody
    /// held it.
    pub fn revoke(&mut self, identifier: StringArg) -> PhpResult<bool> {
        let identifier = take(identifier.0, "DistributedLock::revoke", 1, "identifier", "string")?;
        Ok(!php(self.handle.revoke(&identifier))?.is_empty())
    }

    /// This process's lock statistics, over every lock and semaphore and every session since
    /// it started (a forked child starts from zero): counters, gauges, records ignored by
    /// reason, and histograms in seconds with cumulative buckets. Asks nothing of the brokers.
    pub fn stats() -> PhpResult<ZBox<ZendHashTable>> {
        Ok(stats::stats_array(&registry::totals())?)
    }

    /// Seconds left of the lease by this holder's view (renewed automatically), null if not held.
    pub fn get_remaining_lifetime(&self, identifier: StringArg) -> PhpResult<Option<f64>> {
        let identifier =
            take(identifier.0, "DistributedLock::getRemainingLifetime", 1, "identifier", "string")?;
        php(self.handle.remaining_lifetime(&identifier)).map(|d| d.map(|d| d.as_secs_f64()))
    }
}
