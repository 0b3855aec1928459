//! `LockHandle`: what one PHP `DistributedLock` object owns. It validates arguments, keeps the
//! reentrancy counts, and releases its holds when dropped.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::protocol::{
    partition_for, validate_identifier, Mode, Offset, Snapshot, MAX_IDENTIFIER_BYTES, MAX_SEMAPHORE_LIMIT,
};
use crate::session::error::{LockError, LockResult};
use crate::session::options::{
    display_float, parse_options, validate_topic, ClientSettings, ConfigValue, Defaults, LockOptions,
};
use crate::session::registry::session_for;
use crate::session::session::{never_interrupted, Grant, InterruptCheck, Session, Wait};

#[derive(Debug, Clone, Copy)]
struct Hold {
    grant: Grant,
    mode: Mode,
    /// How many times this handle acquired the lock without releasing it.
    depth: u32,
}

/// What a handle's names are called in its messages: the PHP class's words.
#[derive(Debug, Clone, Copy)]
pub struct Vocabulary {
    /// What is held: "lock", "semaphore".
    pub kind: &'static str,
    /// What a name is: "lock identifier", "semaphore name".
    pub name: &'static str,
    /// The method that ends a hold: "releaseLock()", "release()".
    pub release: &'static str,
}

/// `DistributedLock`'s words.
pub const LOCK_WORDS: Vocabulary =
    Vocabulary { kind: "lock", name: "lock identifier", release: "releaseLock()" };

/// `DistributedSemaphore`'s words.
pub const SEMAPHORE_WORDS: Vocabulary =
    Vocabulary { kind: "semaphore", name: "semaphore name", release: "release()" };

/// The locks of one `DistributedLock` (or `DistributedSemaphore`) object on one topic.
pub struct LockHandle {
    words: Vocabulary,
    topic: String,
    settings: ClientSettings,
    options: LockOptions,
    partitions: i32,
    session: Arc<Session>,
    holds: HashMap<String, Hold>,
    interrupted: InterruptCheck,
}

/// Longest finite time-out taken literally; longer ones mean "forever" (no overflow).
const FOREVER_SECONDS: f64 = 1e9;

impl LockHandle {
    /// Validates the topic and options, connects (lazily shared per process), and checks the
    /// topic, creating it if allowed.
    pub fn open(
        topic: &str,
        entries: &[(String, ConfigValue)],
        defaults: &Defaults,
    ) -> LockResult<LockHandle> {
        validate_topic(topic)?;
        let (settings, options) = parse_options(entries, defaults)?;
        let session = session_for(&settings, &options)?;
        let partitions = session.open_topic(topic, &options)?;
        Ok(LockHandle {
            words: LOCK_WORDS,
            topic: topic.to_owned(),
            settings,
            options,
            partitions,
            session,
            holds: HashMap::new(),
            interrupted: never_interrupted,
        })
    }

    /// Names things in messages with `words` (a semaphore's, rather than a lock's).
    pub fn with_words(mut self, words: Vocabulary) -> LockHandle {
        self.words = words;
        self
    }

    /// Lets waits be cut short (see [`Session::acquire`]).
    pub fn with_interrupt_check(mut self, interrupted: InterruptCheck) -> LockHandle {
        self.interrupted = interrupted;
        self
    }

    /// After a fork, forget the parent's holds (never release or renew them) and use this
    /// process's own session. A session that broke for good ([`Session::broken`]: a producer
    /// the brokers refused) is replaced too once this handle holds nothing on it, so a grant
    /// made later (an ACL) takes effect without a new object.
    fn own_session(&mut self) -> LockResult<()> {
        let forked = self.session.pid() != std::process::id();
        if forked || (self.holds.is_empty() && self.session.broken()) {
            self.holds.clear();
            self.session = session_for(&self.settings, &self.options)?;
            self.partitions = self.session.open_topic(&self.topic, &self.options)?;
        }
        Ok(())
    }

    fn inherited(&self) -> bool {
        self.session.pid() != std::process::id()
    }

    /// Blocks until held alone; `None` waits forever. `Ok(false)`: not granted within `timeout`.
    pub fn acquire(&mut self, identifier: &str, timeout: Option<f64>) -> LockResult<bool> {
        self.acquire_as(identifier, Mode::Exclusive, timeout)
    }

    /// Takes the lock alone, only if nobody holds or waits for it.
    pub fn try_acquire(&mut self, identifier: &str) -> LockResult<bool> {
        self.try_acquire_as(identifier, Mode::Exclusive)
    }

    /// Blocks until held in `mode`; `None` waits forever. `Ok(false)`: not granted within
    /// `timeout`.
    pub fn acquire_as(&mut self, identifier: &str, mode: Mode, timeout: Option<f64>) -> LockResult<bool> {
        let wait = match timeout {
            None => Wait::Forever,
            Some(t) if t.is_nan() => {
                return Err(LockError::Argument(
                    "timeout must be a number of seconds or null, NAN given".into(),
                ))
            }
            Some(t) if t < 0.0 => {
                return Err(LockError::Argument(format!(
                    "timeout must not be negative, {} given; use null to wait forever",
                    display_float(t)
                )))
            }
            Some(t) if t >= FOREVER_SECONDS => Wait::Forever,
            Some(t) => Wait::For(Duration::from_secs_f64(t)),
        };
        self.lock(identifier, mode, wait)
    }

    /// Takes the lock in `mode` only if that is granted at once: nobody it cannot hold with
    /// holds it or waits ahead.
    pub fn try_acquire_as(&mut self, identifier: &str, mode: Mode) -> LockResult<bool> {
        self.lock(identifier, mode, Wait::No)
    }

    fn lock(&mut self, identifier: &str, mode: Mode, wait: Wait) -> LockResult<bool> {
        check_identifier(self.words, identifier)?;
        self.own_session()?;
        if let Some(hold) = self.holds.get_mut(identifier) {
            if hold.mode != mode {
                // Upgrading waits for every other holder to leave, and two instances upgrading
                // at once would wait for each other forever.
                return Err(LockError::Conflict(format!(
                    "this instance holds '{identifier}' as {} and asked for {mode}; \
                     release it first (a hold is never upgraded or downgraded: two holders \
                     upgrading at once would wait for each other forever)",
                    hold.mode
                )));
            }
            if self.session.is_held(hold.grant.seq) {
                hold.depth += 1;
                return Ok(true);
            }
            return Err(LockError::Lost(format!(
                "the lease of {} '{identifier}' (fencing token {}) was lost while this instance \
                 held it; call {} (once) before acquiring it again",
                self.words.kind, hold.grant.token, self.words.release
            )));
        }
        let partition = partition_for(identifier.as_bytes(), self.partitions as u32);
        let granted = self.session.acquire(
            &self.topic,
            partition,
            identifier,
            mode,
            self.options.lease,
            wait,
            self.interrupted,
        )?;
        match granted {
            Some(grant) => {
                self.holds.insert(identifier.to_owned(), Hold { grant, mode, depth: 1 });
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Releases one level of a hold. `false` if this handle does not hold the lock, or held it
    /// but its lease had already been lost.
    pub fn release(&mut self, identifier: &str) -> LockResult<bool> {
        check_identifier(self.words, identifier)?;
        if self.inherited() {
            self.holds.clear();
            return Ok(false);
        }
        let Some(hold) = self.holds.get_mut(identifier) else { return Ok(false) };
        if !self.session.is_held(hold.grant.seq) {
            // The lease is gone: the hold is over at every reentrancy level.
            let seq = hold.grant.seq;
            self.holds.remove(identifier);
            self.session.release(seq);
            return Ok(false);
        }
        if hold.depth > 1 {
            hold.depth -= 1;
            return Ok(true);
        }
        let seq = hold.grant.seq;
        self.holds.remove(identifier);
        Ok(self.session.release(seq))
    }

    /// Whether the lease is valid by this holder's conservative view.
    pub fn is_acquired(&self, identifier: &str) -> LockResult<bool> {
        check_identifier(self.words, identifier)?;
        Ok(!self.inherited() && self.holds.get(identifier).is_some_and(|h| self.session.is_held(h.grant.seq)))
    }

    /// The fencing token of the current hold; `None` if not held (or the lease is lost).
    pub fn fencing_token(&self, identifier: &str) -> LockResult<Option<Offset>> {
        Ok(self.is_acquired(identifier)?.then(|| self.holds[identifier].grant.token))
    }

    /// Seconds left of the lease by the holder's view; `None` if not held.
    pub fn remaining_lifetime(&self, identifier: &str) -> LockResult<Option<Duration>> {
        check_identifier(self.words, identifier)?;
        if self.inherited() {
            return Ok(None);
        }
        Ok(self.holds.get(identifier).and_then(|h| self.session.remaining(h.grant.seq)))
    }

    /// Lock `identifier` as the log has it now (see [`Session::inspect`]): its live requests,
    /// holders first, whoever made them.
    pub fn inspect(&mut self, identifier: &str) -> LockResult<Snapshot> {
        check_identifier(self.words, identifier)?;
        self.own_session()?;
        let partition = partition_for(identifier.as_bytes(), self.partitions as u32);
        self.session.inspect(&self.topic, partition, identifier)
    }

    /// Revokes whoever holds lock `identifier` (see [`Session::revoke`]): the fencing tokens of
    /// the holds that now end at their current leases, and whether each was revoked already;
    /// none if the lock was free.
    pub fn revoke(&mut self, identifier: &str) -> LockResult<Vec<(Offset, bool)>> {
        check_identifier(self.words, identifier)?;
        self.own_session()?;
        let partition = partition_for(identifier.as_bytes(), self.partitions as u32);
        self.session.revoke(&self.topic, partition, identifier)
    }

    /// Every lock with live requests on this handle's topic (see
    /// [`Session::inspect_partition`]), partition by partition.
    pub fn inspect_all(&mut self) -> LockResult<Vec<(String, Snapshot)>> {
        self.own_session()?;
        let mut locks = Vec::new();
        for partition in 0..self.partitions {
            locks.extend(self.session.inspect_partition(&self.topic, partition)?);
        }
        Ok(locks)
    }

    /// Fails this handle's session's producer for good (librdkafka's test hook). For tests only.
    #[doc(hidden)]
    pub fn fail_producer_for_test(&self) {
        self.session.fail_producer_for_test();
    }

    /// Releases everything this handle holds (object destruction).
    pub fn release_all(&mut self) {
        if self.inherited() {
            self.holds.clear();
            return;
        }
        for (_, hold) in self.holds.drain() {
            self.session.release(hold.grant.seq);
        }
    }

    /// The topic of this handle.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The lock options in force.
    pub fn options(&self) -> &LockOptions {
        &self.options
    }
}

impl Drop for LockHandle {
    fn drop(&mut self) {
        self.release_all();
    }
}

/// The mode of a semaphore share of `weight` out of `limit`, or the argument error naming what is
/// wrong.
pub fn weighted_mode(limit: i64, weight: i64) -> LockResult<Mode> {
    let max = i64::from(MAX_SEMAPHORE_LIMIT);
    if !(1..=max).contains(&limit) {
        return Err(LockError::Argument(format!("limit must be 1 to {max}, {limit} given")));
    }
    if !(1..=limit).contains(&weight) {
        return Err(LockError::Argument(format!("weight must be 1 to the limit ({limit}), {weight} given")));
    }
    // Both fit in u32: checked against MAX_SEMAPHORE_LIMIT above.
    Ok(Mode::Weighted { limit: limit as u32, weight: weight as u32 })
}

fn check_identifier(words: Vocabulary, identifier: &str) -> LockResult<()> {
    let what = words.name;
    if identifier.is_empty() {
        return Err(LockError::Argument(format!("invalid {what}: it must not be empty")));
    }
    if identifier.len() > MAX_IDENTIFIER_BYTES {
        return Err(LockError::Argument(format!(
            "invalid {what}: it is {} bytes long, at most {MAX_IDENTIFIER_BYTES} are allowed",
            identifier.len()
        )));
    }
    // The protocol's own check stays the authority (the same rule decodes records).
    validate_identifier(identifier).map_err(|reason| LockError::Argument(format!("invalid {what}: {reason}")))
}
