//! The PHP class `DistributedSemaphore`: a thin wrapper over [`LockHandle`] holding weighted
//! shares of a named semaphore.

use ext_php_rs::boxed::ZBox;
use ext_php_rs::flags::ClassFlags;
use ext_php_rs::prelude::*;
use ext_php_rs::types::ZendHashTable;

use crate::php::args::{take, IntArg, OptionalSeconds, StringArg};
use crate::php::config::{defaults, ConfigArray};
use crate::php::distributed_lock::{engine_interrupted, php, snapshot_array};
use crate::session::{weighted_mode, LockHandle, SEMAPHORE_WORDS};

/// At most `limit` weight held at once per name, granted in FIFO order, fenced and leased as
/// `DistributedLock` is, on the same topics.
#[php_class]
#[php(name = "DistributedSemaphore")]
#[php(flags = ClassFlags::Final)]
pub struct DistributedSemaphore {
    handle: LockHandle,
}

#[php_impl]
impl DistributedSemaphore {
    /// Connects and checks the topic as `DistributedLock` does, with the same options.
    #[php(defaults(config = ConfigArray::default()))]
    pub fn __construct(topic: StringArg, config: ConfigArray) -> PhpResult<Self> {
        let topic = take(topic.0, "DistributedSemaphore::__construct", 1, "topic", "string")?;
        take(config.0.clone().map(|_| ()), "DistributedSemaphore::__construct", 2, "config", "array")?;
        let defaults = php(defaults())?;
        let entries = php(config.entries())?;
        let handle = php(LockHandle::open(&topic, &entries, &defaults))?
            .with_interrupt_check(engine_interrupted)
            .with_words(SEMAPHORE_WORDS);
        Ok(DistributedSemaphore { handle })
    }

    /// Blocks until this instance holds `$weight` of semaphore `$name`, of which at most
    /// `$limit` is held at once; `null` waits forever, otherwise at most `$timeout` seconds,
    /// returning false on time-out. Every process must use the same limit for a name.
    #[php(defaults(weight = 1))]
    pub fn acquire(
        &mut self,
        name: StringArg,
        limit: IntArg,
        timeout: OptionalSeconds,
        weight: IntArg,
    ) -> PhpResult<bool> {
        let name = take(name.0, "DistributedSemaphore::acquire", 1, "name", "string")?;
        let limit = take(limit.0, "DistributedSemaphore::acquire", 2, "limit", "int")?;
        let timeout = take(timeout.0, "DistributedSemaphore::acquire", 3, "timeout", "?float")?;
        let weight = take(weight.0, "DistributedSemaphore::acquire", 4, "weight", "int")?;
        let mode = php(weighted_mode(limit, weight))?;
        php(self.handle.acquire_as(&name, mode, timeout))
    }

    /// Takes `$weight` of semaphore `$name` only if that is granted at once.
    #[php(defaults(weight = 1))]
    pub fn try_acquire(&mut self, name: StringArg, limit: IntArg, weight: IntArg) -> PhpResult<bool> {
        let name = take(name.0, "DistributedSemaphore::tryAcquire", 1, "name", "string")?;
        let limit = take(limit.0, "DistributedSemaphore::tryAcquire", 2, "limit", "int")?;
        let weight = take(weight.0, "DistributedSemaphore::tryAcquire", 3, "weight", "int")?;
        let mode = php(weighted_mode(limit, weight))?;
        php(self.handle.try_acquire_as(&name, mode))
    }

    /// Releases one level of this instance's share; false if it held none or its lease was lost.
    pub fn release(&mut self, name: StringArg) -> PhpResult<bool> {
        let name = take(name.0, "DistributedSemaphore::release", 1, "name", "string")?;
        php(self.handle.release(&name))
    }

    /// Whether this instance holds a share, by its own conservative view of the lease.
    pub fn is_acquired(&self, name: StringArg) -> PhpResult<bool> {
        let name = take(name.0, "DistributedSemaphore::isAcquired", 1, "name", "string")?;
        php(self.handle.is_acquired(&name))
    }

    /// The fencing token of this instance's share, null if it holds none.
    pub fn get_fencing_token(&self, name: StringArg) -> PhpResult<Option<i64>> {
        let name = take(name.0, "DistributedSemaphore::getFencingToken", 1, "name", "string")?;
        php(self.handle.fencing_token(&name))
    }

    /// Seconds left of the share's lease by this holder's view, null if it holds none.
    pub fn get_remaining_lifetime(&self, name: StringArg) -> PhpResult<Option<f64>> {
        let name = take(name.0, "DistributedSemaphore::getRemainingLifetime", 1, "name", "string")?;
        php(self.handle.remaining_lifetime(&name)).map(|d| d.map(|d| d.as_secs_f64()))
    }

    /// The semaphore as the log has it now: holders with their weights, how many wait, the
    /// limit, and whether the view was complete.
    pub fn inspect(&mut self, name: StringArg) -> PhpResult<ZBox<ZendHashTable>> {
        let name = take(name.0, "DistributedSemaphore::inspect", 1, "name", "string")?;
        let snapshot = php(self.handle.inspect(&name))?;
        Ok(snapshot_array(&snapshot)?)
    }
}
