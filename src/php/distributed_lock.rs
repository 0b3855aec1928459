//! The PHP class `DistributedLock`: a thin wrapper over [`LockHandle`].

use ext_php_rs::boxed::ZBox;
use ext_php_rs::flags::ClassFlags;
use ext_php_rs::prelude::*;
use ext_php_rs::types::ZendHashTable;

use crate::php::args::{take, OptionalSeconds, StringArg};
use crate::php::config::{defaults, ConfigArray};
use crate::php::exceptions::to_php;
use crate::protocol::Snapshot;
use crate::session::{LockError, LockHandle};

/// A fair, fenced, lease-based lock whose state lives in a Kafka topic.
#[php_class]
#[php(name = "DistributedLock")]
#[php(flags = ClassFlags::Final)]
pub struct DistributedLock {
    handle: LockHandle,
}

/// Whether the engine wants control back: a signal handler (pcntl_async_signals) or the time
/// limit is pending. A queue worker blocked in acquireLock(null) must still honour SIGTERM.
fn engine_interrupted() -> bool {
    let globals = ext_php_rs::zend::ExecutorGlobals::get();
    // SAFETY: read on the PHP thread; the flag is a plain bool the engine sets from handlers.
    unsafe { std::ptr::read_volatile(&globals.vm_interrupt.value) }
}

fn php<T>(result: Result<T, LockError>) -> PhpResult<T> {
    result.map_err(to_php)
}

/// `inspect()`'s array. An exclusive lock has at most one holder: the head of its queue.
fn snapshot_array(snapshot: &Snapshot) -> ext_php_rs::error::Result<ZBox<ZendHashTable>> {
    let mut holders = ZendHashTable::new();
    if let Some(head) = snapshot.queue.first() {
        let mut holder = ZendHashTable::new();
        holder.insert("owner", head.owner.as_str())?;
        holder.insert("token", head.token)?;
        holder.insert("expires_in", head.expires_in.as_secs_f64())?;
        holders.push(holder)?;
    }
    let mut array = ZendHashTable::new();
    array.insert("mode", snapshot.queue.first().map(|_| "exclusive"))?;
    array.insert("holders", holders)?;
    array.insert("waiting", snapshot.queue.len().saturating_sub(1) as i64)?;
    array.insert("limit", Option::<i64>::None)?;
    array.insert("complete", snapshot.complete)?;
    Ok(array)
}

#[php_impl]
impl DistributedLock {
    /// Connects (once per process and client settings) and checks the topic, creating it with
    /// LogAppendTime timestamps when it is missing and `lock.create_topic` allows.
    #[php(defaults(config = ConfigArray::default()))]
    pub fn __construct(topic: StringArg, config: ConfigArray) -> PhpResult<Self> {
        let topic = take(topic.0, "__construct", 1, "topic", "string")?;
        take(config.0.clone().map(|_| ()), "__construct", 2, "config", "array")?;
        let defaults = php(defaults())?;
        let entries = php(config.entries())?;
        let handle =
            php(LockHandle::open(&topic, &entries, &defaults))?.with_interrupt_check(engine_interrupted);
        Ok(DistributedLock { handle })
    }

    /// Blocks until this instance holds the lock; `null` waits forever, otherwise at most
    /// `$timeout` seconds, returning false on time-out. Reentrant.
    pub fn acquire_lock(&mut self, identifier: StringArg, timeout: OptionalSeconds) -> PhpResult<bool> {
        let identifier = take(identifier.0, "acquireLock", 1, "identifier", "string")?;
        let timeout = take(timeout.0, "acquireLock", 2, "timeout", "?float")?;
        php(self.handle.acquire(&identifier, timeout))
    }

    /// Takes the lock only if it is free and nobody is queued for it; never waits for a holder.
    pub fn try_lock(&mut self, identifier: StringArg) -> PhpResult<bool> {
        let identifier = take(identifier.0, "tryLock", 1, "identifier", "string")?;
        php(self.handle.try_acquire(&identifier))
    }

    /// Releases one level of the hold; false if this instance did not hold the lock or its
    /// lease had already been lost.
    pub fn release_lock(&mut self, identifier: StringArg) -> PhpResult<bool> {
        let identifier = take(identifier.0, "releaseLock", 1, "identifier", "string")?;
        php(self.handle.release(&identifier))
    }

    /// Whether this instance holds the lock, by its own conservative view of the lease.
    pub fn is_acquired(&self, identifier: StringArg) -> PhpResult<bool> {
        let identifier = take(identifier.0, "isAcquired", 1, "identifier", "string")?;
        php(self.handle.is_acquired(&identifier))
    }

    /// The fencing token of the current hold (strictly increasing per lock), null if not held.
    pub fn get_fencing_token(&self, identifier: StringArg) -> PhpResult<Option<i64>> {
        let identifier = take(identifier.0, "getFencingToken", 1, "identifier", "string")?;
        php(self.handle.fencing_token(&identifier))
    }

    /// The lock as the log has it now, whoever holds it: mode, holders (owner, fencing token,
    /// seconds of lease left), how many wait, and whether the view was complete.
    pub fn inspect(&mut self, identifier: StringArg) -> PhpResult<ZBox<ZendHashTable>> {
        let identifier = take(identifier.0, "inspect", 1, "identifier", "string")?;
        let snapshot = php(self.handle.inspect(&identifier))?;
        Ok(snapshot_array(&snapshot)?)
    }

    /// Ends whoever holds the lock at its current lease (an operator's tool for a stuck
    /// holder): its renewals are refused from now on. False if nobody held it.
    pub fn revoke(&mut self, identifier: StringArg) -> PhpResult<bool> {
        let identifier = take(identifier.0, "revoke", 1, "identifier", "string")?;
        Ok(php(self.handle.revoke(&identifier))?.is_some())
    }

    /// Seconds left of the lease by this holder's view (renewed automatically), null if not held.
    pub fn get_remaining_lifetime(&self, identifier: StringArg) -> PhpResult<Option<f64>> {
        let identifier = take(identifier.0, "getRemainingLifetime", 1, "identifier", "string")?;
        php(self.handle.remaining_lifetime(&identifier)).map(|d| d.map(|d| d.as_secs_f64()))
    }
}
