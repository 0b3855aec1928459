//! The driver thread of a session: consumes records and delivery reports into the client
//! core, calls its timers when it asks, produces what it asks for, and wakes the PHP threads.
//! It sleeps until librdkafka has something for it or the core's next timer, nothing else.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::protocol::{AcquireLookup, Failure, PartitionId};
use crate::session::clock;
use crate::session::kafka::{Clients, ConsumerError, TopicState};
use crate::session::session::{sync, Shared};

/// How often the watcher compares the topics in use with the brokers' metadata.
const PARTITION_CHECK_INTERVAL: Duration = Duration::from_secs(10);

/// A topic the brokers say they do not know is asked about again after this long before it
/// counts as deleted: one broker may answer before a new topic's metadata reached it.
const TOPIC_GONE_CONFIRM: Duration = Duration::from_secs(1);

/// The longest the driver sleeps without a timer or an event.
const IDLE_WAKE: Duration = Duration::from_secs(10);

/// The most records handled under one hold of the core's lock: PHP threads wait for it.
const MAX_BATCH: usize = 1000;

/// How long the lookup thread waits before reading again an acquire it could not read.
const LOOKUP_RETRY: Duration = Duration::from_secs(1);

/// Starts the driver thread; it runs until `shared.stop` is set and the wake-up signalled.
pub(super) fn start(clients: Arc<Clients>, shared: Arc<Shared>) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("kafka_lock driver".into())
        .spawn(move || supervise(&shared, || drive(&clients, &shared)))
}

/// Runs the driver's loop; if it panics (a bug), nobody would renew or read any more, so every
/// request of the session fails at once with the cause (its waiters and holders learn it at
/// their next look) and the session counts as broken (the next lock operation replaces it).
fn supervise(shared: &Shared, run: impl FnOnce()) {
    let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) else { return };
    let cause = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned());
    shared.driver_stopped.store(true, Ordering::SeqCst);
    shared.lock().fail_all(Failure::Stopped(cause));
    shared.changed.notify_all();
}

/// Starts the watcher thread: every `PARTITION_CHECK_INTERVAL` it asks the brokers about the
/// topics in use (partition count, existence: librdkafka reports no consumer error for an
/// assigned partition of a deleted topic, so this is how a deletion is found). A metadata
/// round trip (up to 2 s with a slow broker) on the driver would stall renewals and make short
/// leases flap, so it has its own thread.
pub(super) fn start_watcher(
    clients: Arc<Clients>,
    shared: Arc<Shared>,
    topics: Arc<Mutex<Vec<(String, i32)>>>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new().name("kafka_lock watcher".into()).spawn(move || {
        let (lock, wake) = &shared.stopping;
        let mut guard = lock.lock().unwrap_or_else(|e| e.into_inner());
        while !shared.stop.load(Ordering::SeqCst) {
            guard = wake.wait_timeout(guard, PARTITION_CHECK_INTERVAL).unwrap_or_else(|e| e.into_inner()).0;
            if shared.stop.load(Ordering::SeqCst) {
                break;
            }
            drop(guard);
            check_topics(&clients, &shared, &topics);
            guard = lock.lock().unwrap_or_else(|e| e.into_inner());
        }
    })
}

/// Starts the lookup thread: it reads the acquire of each request a view learnt of from
/// renews (see `Machine::handle_acquire_lookup`) and hands it to the core. Until then no grant
/// on that partition is trusted, so a read that fails is tried again every `LOOKUP_RETRY`
/// for as long as the view still waits for it.
pub(super) fn start_lookups(
    clients: Arc<Clients>,
    shared: Arc<Shared>,
    timeout: Duration,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("kafka_lock lookup".into())
        .spawn(move || supervise(&shared, || look_up(&clients, &shared, timeout)))
}

fn look_up(clients: &Clients, shared: &Shared, timeout: Duration) {
    let stopped = || shared.stop.load(Ordering::SeqCst);
    let mut failed: Vec<(PartitionId, i64)> = Vec::new();
    while !stopped() {
        let todo = {
            let (queue, wake) = &shared.lookups;
            let queue = queue.lock().unwrap_or_else(|e| e.into_inner());
            let idle = |q: &mut Vec<(PartitionId, i64)>| q.is_empty() && !stopped();
            // Nothing to retry: sleep until woken (no periodic wake-up for an idle process).
            let mut queue = if failed.is_empty() {
                wake.wait_while(queue, idle).unwrap_or_else(|e| e.into_inner())
            } else {
                wake.wait_timeout_while(queue, LOOKUP_RETRY, idle).unwrap_or_else(|e| e.into_inner()).0
            };
            let mut todo = std::mem::take(&mut *queue);
            todo.append(&mut failed);
            todo
        };
        for (partition, token) in todo {
            let waited = shared.lock().machine(&partition).is_some_and(|m| m.awaits_acquire(token));
            if stopped() || !waited {
                continue;
            }
            match clients.read_at(&partition, token, timeout, &shared.stop) {
                Ok(record) => {
                    let found = match &record {
                        None => AcquireLookup::Gone,
                        Some(r) => AcquireLookup::Found {
                            offset: r.offset,
                            key: r.key.as_deref(),
                            value: r.value.as_deref(),
                        },
                    };
                    let mut core = shared.lock();
                    let now = clock::now();
                    core.handle_acquire_lookup(now, &partition, token, found);
                    sync(&mut core, clients, now);
                    drop(core);
                    shared.changed.notify_all();
                }
                Err(_) => failed.push((partition, token)),
            }
        }
    }
}

fn drive(clients: &Clients, shared: &Shared) {
    let mut producer_failed = false;
    while !shared.stop.load(Ordering::SeqCst) {
        let now = clock::now();
        // Nothing to do until librdkafka has something or the core's next timer; the wait is
        // capped only so that a lost wake-up cannot stall the driver for good.
        let next_timer = shared.lock().poll_timeout().unwrap_or(now + IDLE_WAKE);
        let sleep = next_timer.min(now + IDLE_WAKE).saturating_since(now);
        let seen = clients.consumer_wake().generation();
        let mut next = clients.poll_record();
        // The fatal check below runs after the sleep: one made before it (and after `seen`
        // was read) keeps a failure that came meanwhile from waiting out the sleep.
        let unseen_failure = !producer_failed && clients.producer_failed();
        if next.is_none() && !unseen_failure && !shared.stop.load(Ordering::SeqCst) && !sleep.is_zero() {
            clients.consumer_wake().wait_change(seen, sleep);
            next = clients.poll_record();
        }
        let mut core = shared.lock();
        let now = clock::now();
        let mut changed = false;
        let mut batch = 0;
        while let Some(result) = next {
            match result {
                Ok(record) => {
                    changed = true;
                    let partition = record.partition();
                    let (offset, log_time) = (record.offset(), record.log_time());
                    core.handle_record(now, &partition, offset, log_time, record.key(), record.value());
                }
                Err(e) => {
                    shared.consumer_errors.fetch_add(1, Ordering::Relaxed);
                    match e {
                        ConsumerError::PositionLost => {
                            // A position fell below the log start: history this process had
                            // not read yet is gone. Every view is reset; the requests on them
                            // are lost.
                            for partition in core.joined_partitions() {
                                core.handle_partition_reset(now, &partition);
                            }
                            changed = true;
                        }
                        // The brokers refuse to let this client read a partition: its waiters
                        // learn why (`Clients::read_refusal`) instead of waiting for their
                        // records until the operation time-out.
                        ConsumerError::ReadRefused(_) => changed = true,
                        ConsumerError::Other => {}
                    }
                }
            }
            batch += 1;
            next = if batch < MAX_BATCH { clients.poll_record() } else { None };
        }
        // Acquires of requests a view learnt of from renews: read on the lookup thread, since
        // each is a broker round trip and renewals must not wait for it.
        let wanted = core.take_acquire_lookups();
        if !wanted.is_empty() {
            shared.queue_lookups(wanted);
        }
        // A producer that failed for good sends nothing again (renewals, releases): every
        // request of the session ends with the cause now, not when its lease runs out unseen,
        // and the session counts as broken, so the next lock operation makes a new one.
        if !producer_failed && clients.producer_failed() {
            producer_failed = true;
            let cause = clients.producer_fatal().unwrap_or_else(|| "the producer failed for good".into());
            core.fail_all(Failure::ProducerFailed(cause));
            changed = true;
        }
        core.handle_timeout(now);
        // Also unassigns what the timers unfollowed (see `sync`).
        let reports = sync(&mut core, clients, now);
        drop(core);
        if reports {
            // A thread waiting for one of these reports sleeps on the producer's wake-up.
            clients.producer_wake().notify();
        }
        if changed || reports {
            shared.changed.notify_all();
        }
    }
}

/// Fails closed when a topic's partition count changed: identifiers now map to other
/// partitions, so this process's view of who holds what is no longer the others' view. Gives
/// a deleted topic up: its holds end with that cause, and it is forgotten, so the next request
/// checks it again (and creates it if allowed) instead of producing into nothing.
fn check_topics(clients: &Clients, shared: &Shared, topics: &Mutex<Vec<(String, i32)>>) {
    let known: Vec<(String, i32)> = topics.lock().unwrap_or_else(|e| e.into_inner()).clone();
    for (topic, from) in known {
        // Outside the core's lock: a metadata round trip must not stall the PHP thread.
        match clients.topic_state(&topic, Duration::from_secs(2)) {
            Some(TopicState::Partitions(to)) if to != from => {
                shared.lock().fail_topic(&topic, Failure::PartitionCountChanged { from, to });
                shared.changed.notify_all();
            }
            Some(TopicState::Unknown) if confirmed_unknown(clients, shared, &topic) => {
                topics.lock().unwrap_or_else(|e| e.into_inner()).retain(|(t, _)| *t != topic);
                let mut core = shared.lock();
                let now = clock::now();
                core.handle_topic_deleted(now, &topic);
                sync(&mut core, clients, now);
                drop(core);
                shared.changed.notify_all();
                clients.consumer_wake().notify();
            }
            _ => {}
        }
    }
}

/// Asks again after `TOPIC_GONE_CONFIRM` (or at once if the session is stopping).
fn confirmed_unknown(clients: &Clients, shared: &Shared, topic: &str) -> bool {
    let (lock, wake) = &shared.stopping;
    let guard = lock.lock().unwrap_or_else(|e| e.into_inner());
    let _ = wake.wait_timeout_while(guard, TOPIC_GONE_CONFIRM, |_| !shared.stop.load(Ordering::SeqCst));
    clients.topic_state(topic, Duration::from_secs(2)) == Some(TopicState::Unknown)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::{Condvar, Mutex};
    use std::time::Duration;

    use super::supervise;
    use crate::protocol::{Client, Failure, Lease, LocalTime, PartitionId, Status};
    use crate::session::session::Shared;

    /// A panic in the driver's loop fails every request of the session with its cause, and
    /// later requests too, and marks the session for replacement.
    #[test]
    fn a_driver_panic_fails_every_request_with_its_cause() {
        let shared = Shared {
            core: Mutex::new(Client::new("owner".into(), [3; 32], Duration::from_secs(5))),
            changed: Condvar::new(),
            stop: AtomicBool::new(false),
            stopping: (Mutex::new(()), Condvar::new()),
            consumer_errors: AtomicU64::new(0),
            driver_stopped: AtomicBool::new(false),
            lookups: (Mutex::new(Vec::new()), Condvar::new()),
        };
        let partition = PartitionId::new("locks", 0);
        let lease = Lease { ttl: Duration::from_secs(5), max_clock_step: Duration::ZERO };
        let now = LocalTime::ZERO;
        let id = shared
            .lock()
            .acquire(now, &partition, "a", crate::protocol::Mode::Exclusive, lease)
            .expect("acquire");
        supervise(&shared, || panic!("driver bug"));
        assert!(shared.driver_stopped.load(Ordering::SeqCst));
        let stopped = Failure::Stopped("driver bug".into());
        assert_eq!(shared.lock().status(id, now), Status::Failed(stopped.clone()));
        assert_eq!(
            shared.lock().acquire(now, &partition, "b", crate::protocol::Mode::Exclusive, lease),
            Err(stopped.clone())
        );
        let elsewhere = PartitionId::new("other", 3);
        assert_eq!(
            shared.lock().acquire(now, &elsewhere, "c", crate::protocol::Mode::Exclusive, lease),
            Err(stopped)
        );
        // A loop that ends normally (the session stopping) changes nothing.
        let calm = Shared { driver_stopped: AtomicBool::new(false), ..shared };
        supervise(&calm, || {});
        assert!(!calm.driver_stopped.load(Ordering::SeqCst));
    }
}
