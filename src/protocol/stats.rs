//! What a client counts and times, for metrics: `DistributedLock::stats()`, `phpinfo()` and the
//! Prometheus example read these. Pure like the rest of the core: the times are the `now`s the
//! caller passes in.

use std::collections::BTreeMap;
use std::time::Duration;

use super::machine::Ignored;

/// Upper bounds of the histograms' buckets, in seconds (Prometheus' `le`): 1 ms, a round trip to
/// a local broker, up to 60 s, the longest lease. Everything longer falls in `+Inf` only.
pub const BUCKET_BOUNDS: [f64; 14] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0];

/// A latency histogram with cumulative buckets (each counts the observations at or below its
/// bound), their count and their sum: what Prometheus' histogram type exposes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Histogram {
    at_or_below: [u64; BUCKET_BOUNDS.len()],
    count: u64,
    sum: Duration,
}

impl Histogram {
    /// Counts one observation.
    pub fn observe(&mut self, value: Duration) {
        let seconds = value.as_secs_f64();
        for (bucket, bound) in self.at_or_below.iter_mut().zip(BUCKET_BOUNDS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
        self.count += 1;
        self.sum += value;
    }

    /// The cumulative count at each of [`BUCKET_BOUNDS`], in order (`+Inf` is [`Histogram::count`]).
    pub fn buckets(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        BUCKET_BOUNDS.into_iter().zip(self.at_or_below.iter().copied())
    }

    /// Observations counted.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Sum of the observations.
    pub fn sum(&self) -> Duration {
        self.sum
    }

    /// Adds `other`'s observations (the process's total over its sessions).
    pub fn merge(&mut self, other: &Histogram) {
        for (mine, theirs) in self.at_or_below.iter_mut().zip(other.at_or_below) {
            *mine += theirs;
        }
        self.count += other.count;
        self.sum += other.sum;
    }
}

/// Why a wait ended without the lock (see [`super::Client::give_up`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GaveUp {
    /// `tryLock()`: someone holds it or waits in front.
    Busy,
    /// The caller's time-out passed.
    TimedOut,
    /// A signal handler or time limit of PHP's needed control.
    Interrupted,
}

/// Counters and histograms since the client started. Times are in seconds where shown to users.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Records handed to the machines.
    pub records: u64,
    /// Records the machines ignored (malformed, invalid renew, ...), all reasons.
    pub ignored: u64,
    /// Own acquires applied from their delivery report, before being read back (also counted
    /// in `records`; the read-back is not counted again).
    pub applied_on_ack: u64,
    /// Records ignored, by [`Ignored::label`].
    pub ignored_by_reason: BTreeMap<&'static str, u64>,
    /// Renew records queued.
    pub renews_sent: u64,
    /// Renewals whose produce failed or whose delivery report said so.
    pub renew_failures: u64,
    /// Tick records queued.
    pub ticks_sent: u64,
    /// Release records queued again after a failed delivery.
    pub releases_resent: u64,
    /// Revoke records queued.
    pub revokes_sent: u64,
    /// Records the machines refused or forgot to stay within their bounds
    /// (`MAX_LIVE_REQUESTS`, `MAX_TOMBSTONES`): non-zero means someone floods the topic.
    pub bounded: u64,
    /// Partitions joined (a first request or inspection on a partition not followed yet).
    pub joins: u64,
    /// Partitions followed now (a gauge).
    pub partitions_followed: u64,
    /// Holds handed to callers (an acquire that returned true; reentrant calls are not counted).
    pub acquired: u64,
    /// Waits that ended without the lock, by why.
    pub busy: u64,
    /// See [`GaveUp::TimedOut`].
    pub timed_out: u64,
    /// See [`GaveUp::Interrupted`].
    pub interrupted: u64,
    /// Holds the holder ended while its lease was valid (release, destruct, end of request).
    pub released: u64,
    /// Holds that ended without the holder: the lease ran out or was revoked, or the log lost
    /// the request; counted when the holder lets go of it.
    pub leases_lost: u64,
    /// From the acquire call to the hold, for every hold handed over.
    pub acquire_wait: Histogram,
    /// For holds that waited behind another: from reading the record that made the request the
    /// head (the release or expiry of the one in front) to the caller having the hold.
    pub hand_off: Histogram,
    /// From the hold handed over to its end (release, or the holder letting go of a lost hold).
    pub hold: Histogram,
}

impl ClientStats {
    /// Adds `other` (the process's total over its sessions).
    pub fn merge(&mut self, other: &ClientStats) {
        for (reason, n) in &other.ignored_by_reason {
            *self.ignored_by_reason.entry(reason).or_default() += n;
        }
        self.records += other.records;
        self.ignored += other.ignored;
        self.applied_on_ack += other.applied_on_ack;
        self.renews_sent += other.renews_sent;
        self.renew_failures += other.renew_failures;
        self.ticks_sent += other.ticks_sent;
        self.releases_resent += other.releases_resent;
        self.revokes_sent += other.revokes_sent;
        self.bounded += other.bounded;
        self.joins += other.joins;
        self.partitions_followed += other.partitions_followed;
        self.acquired += other.acquired;
        self.busy += other.busy;
        self.timed_out += other.timed_out;
        self.interrupted += other.interrupted;
        self.released += other.released;
        self.leases_lost += other.leases_lost;
        self.acquire_wait.merge(&other.acquire_wait);
        self.hand_off.merge(&other.hand_off);
        self.hold.merge(&other.hold);
    }

    /// Counts a record the machine ignored.
    pub(super) fn note_ignored(&mut self, reason: &Ignored) {
        self.ignored += 1;
        *self.ignored_by_reason.entry(reason.label()).or_default() += 1;
    }

    /// Counts a wait given up.
    pub(super) fn note_gave_up(&mut self, why: GaveUp) {
        match why {
            GaveUp::Busy => self.busy += 1,
            GaveUp::TimedOut => self.timed_out += 1,
            GaveUp::Interrupted => self.interrupted += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_the_sum_exact() {
        let mut h = Histogram::default();
        for ms in [0, 1, 3, 70_000] {
            h.observe(Duration::from_millis(ms));
        }
        let buckets: Vec<(f64, u64)> = h.buckets().collect();
        assert_eq!(buckets[0], (0.001, 2), "0 ms and 1 ms are at or below 1 ms");
        assert_eq!(buckets[2], (0.005, 3));
        assert_eq!(buckets.last(), Some(&(60.0, 3)), "70 s is only in +Inf");
        assert_eq!(h.count(), 4);
        assert_eq!(h.sum(), Duration::from_millis(70_004));
        let mut twice = h.clone();
        twice.merge(&h);
        assert_eq!(
            twice.buckets().map(|(_, n)| n).collect::<Vec<_>>(),
            h.buckets().map(|(_, n)| 2 * n).collect::<Vec<_>>()
        );
        assert_eq!((twice.count(), twice.sum()), (8, Duration::from_millis(140_008)));
    }
}
