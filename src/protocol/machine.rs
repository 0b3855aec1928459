//! The per-partition state machine: records in, lock events out.
//!
//! Pure and deterministic: no clock (time is the log clock, the largest broker timestamp
//! seen), no I/O, no randomness, no global state. Two machines fed the same records produce
//! the same events.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;

use super::record::{commitment_of, decode_record, validate_record, Held, Mode, Op, Proof, Record, Reject};
use super::{LogTime, Offset, MAX_LIVE_REQUESTS, MAX_TOMBSTONES, MAX_TTL_MS};

/// A live request in a lock's queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Offset of the request's acquire record: its place in the queue and its fencing token.
    pub token: Offset,
    /// Who sent it.
    pub owner: String,
    /// Lease length in ms, from its last accepted alive record.
    pub ttl: u64,
    /// Log clock when its last alive record (acquire or renew) was accepted.
    pub last_alive: LogTime,
    /// The commitment its release must open (from its acquire, or for a request a joiner
    /// learnt of from a renew, that renew's); `None` for a request of the first format.
    pub commitment: Option<[u8; 32]>,
    /// A revoke named it under its lock: its renews are refused, so it ends at its lease.
    pub revoked: bool,
    /// How it holds once granted, from its acquire. A request learnt of from renews is taken
    /// as exclusive until its acquire is read (no grant is trusted meanwhile).
    pub mode: Mode,
}

impl Request {
    /// The last log time at which this request is still alive: `last_alive + ttl`.
    pub fn deadline(&self) -> LogTime {
        deadline(self.last_alive, self.ttl)
    }
}

/// Something that happened while applying a record, in log order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// An acquire was accepted at offset `token`.
    Enqueued {
        /// The lock identifier.
        key: String,
        /// The new request's token (the acquire's offset).
        token: Offset,
        /// The acquire's owner.
        owner: String,
        /// The acquire's seq: with `owner`, how the sender recognises its own request.
        seq: u64,
        /// The log clock at acceptance: the sender's next `prev`.
        alive_at: LogTime,
        /// The acquire's nonce: with `owner`, `seq` and `key`, how the sender recognises its
        /// own acquire whatever others copy.
        nonce: Option<[u8; 16]>,
    },
    /// A valid renew was accepted (also when a mid-log joiner learns of a request it had not
    /// seen the acquire of).
    Renewed {
        /// The lock identifier.
        key: String,
        /// The renewed request's token.
        token: Offset,
        /// The request's owner.
        owner: String,
        /// The log clock at acceptance: the sender's next `prev`.
        alive_at: LogTime,
    },
    /// A request joined the granted prefix of its queue: its owner holds the lock (alone, or
    /// with the others its mode admits), fenced by `token`.
    Granted {
        /// The lock identifier.
        key: String,
        /// The fencing token (offset of the request's acquire).
        token: Offset,
        /// The new holder.
        owner: String,
        /// Offset of the record at which the request became head.
        at: Offset,
    },
    /// A request left its queue through a release by its owner.
    Released {
        /// The lock identifier.
        key: String,
        /// The released request's token.
        token: Offset,
        /// Its owner.
        owner: String,
    },
    /// A revoke named a live request: it ends at its current lease, no renew extends it.
    Revoked {
        /// The lock identifier.
        key: String,
        /// The revoked request's token.
        token: Offset,
        /// Its owner.
        owner: String,
    },
    /// A request's lease ran out: log time passed `last_alive + ttl`.
    Expired {
        /// The lock identifier.
        key: String,
        /// The expired request's token.
        token: Offset,
        /// Its owner.
        owner: String,
    },
    /// A record that changed no request (see [`Ignored`]).
    Ignored {
        /// The record's offset.
        offset: Offset,
        /// Why.
        reason: Ignored,
    },
}

/// Why a record changed no request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ignored {
    /// The record could not be decoded; it still moved log time.
    Malformed(Reject),
    /// A renew whose `prev + ttl` is before the log clock: its sender's lease had run out
    /// when it was written into the log.
    RenewInvalid,
    /// A renew of a live request by someone else.
    RenewWrongOwner,
    /// A renew whose key is not the key of the live request it names.
    RenewWrongKey,
    /// A renew of a request this replayer does not know and may not resurrect (it was
    /// acquired at or after this replayer's first offset, so it never existed or is gone).
    RenewUnknown,
    /// A renew of a request acquired before this replayer's first offset that it saw removed
    /// (one acquired later and removed is refused as `RenewUnknown`).
    RenewTombstoned,
    /// A release of a live request by someone else.
    ReleaseWrongOwner,
    /// A release whose key is not the key of the live request it names.
    ReleaseWrongKey,
    /// A release of a request this replayer does not know (it is tombstoned all the same).
    ReleaseUnknown,
    /// A renew of a request naming another commitment than its acquire's (a forgery).
    RenewWrongCommitment,
    /// A release of a committed request without the secret that opens its commitment.
    ReleaseBadSecret,
    /// A release of a request a joiner learnt of from renews, beyond the
    /// `MAX_DEFERRED_RELEASES` kept until its acquire is read: refused.
    ReleaseUnverifiable,
    /// An acquire while the partition already had `MAX_LIVE_REQUESTS` live requests.
    PartitionFull,
    /// A record whose offset is not above the previous record's (or below the first offset):
    /// a duplicate delivery. It changed nothing, not even the clock.
    OffsetNotIncreasing,
    /// A request learnt of from renews whose token's record is no acquire (the offset the
    /// event names is the token's): the renews were forged, and the request is dropped.
    ClaimWithoutAcquire,
    /// A renew of a request a revoke named under that lock.
    RenewRevoked,
    /// A revoke of a request this replayer does not hold live and cannot learn of later (or
    /// naming its own offset or a later one).
    RevokeUnknown,
    /// A revoke whose key is not the key of the live request it names.
    RevokeWrongKey,
}

impl Ignored {
    /// A stable snake_case name of the reason, for metrics labels.
    pub fn label(&self) -> &'static str {
        match self {
            Ignored::Malformed(_) => "malformed",
            Ignored::RenewInvalid => "renew_invalid",
            Ignored::RenewWrongOwner => "renew_wrong_owner",
            Ignored::RenewWrongKey => "renew_wrong_key",
            Ignored::RenewUnknown => "renew_unknown",
            Ignored::RenewTombstoned => "renew_tombstoned",
            Ignored::ReleaseWrongOwner => "release_wrong_owner",
            Ignored::ReleaseWrongKey => "release_wrong_key",
            Ignored::ReleaseUnknown => "release_unknown",
            Ignored::OffsetNotIncreasing => "offset_not_increasing",
            Ignored::RenewWrongCommitment => "renew_wrong_commitment",
            Ignored::ReleaseBadSecret => "release_bad_secret",
            Ignored::ReleaseUnverifiable => "release_unverifiable",
            Ignored::PartitionFull => "partition_full",
            Ignored::ClaimWithoutAcquire => "claim_without_acquire",
            Ignored::RenewRevoked => "renew_revoked",
            Ignored::RevokeUnknown => "revoke_unknown",
            Ignored::RevokeWrongKey => "revoke_wrong_key",
        }
    }
}

impl fmt::Display for Ignored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ignored::Malformed(reason) => write!(f, "malformed record: {reason}"),
            Ignored::RenewInvalid => write!(f, "renew arrived after prev + ttl"),
            Ignored::RenewWrongOwner => write!(f, "renew by someone other than the owner"),
            Ignored::RenewWrongKey => write!(f, "renew under another lock's key"),
            Ignored::RenewUnknown => write!(f, "renew of an unknown request"),
            Ignored::RenewTombstoned => write!(f, "renew of a removed request"),
            Ignored::ReleaseWrongOwner => write!(f, "release by someone other than the owner"),
            Ignored::ReleaseWrongKey => write!(f, "release under another lock's key"),
            Ignored::ReleaseUnknown => write!(f, "release of an unknown request"),
            Ignored::OffsetNotIncreasing => write!(f, "offset not above the previous record's"),
            Ignored::RenewWrongCommitment => write!(f, "renew naming another commitment than the request's"),
            Ignored::ReleaseBadSecret => write!(f, "release without the secret of the request's commitment"),
            Ignored::ReleaseUnverifiable => {
                write!(f, "release of a request whose acquire is unread, beyond those kept")
            }
            Ignored::PartitionFull => write!(f, "acquire refused: the partition has too many live requests"),
            Ignored::ClaimWithoutAcquire => write!(f, "renews named a record that is no acquire"),
            Ignored::RenewRevoked => write!(f, "renew of a revoked request"),
            Ignored::RevokeUnknown => write!(f, "revoke of an unknown request"),
            Ignored::RevokeWrongKey => write!(f, "revoke under another lock's key"),
        }
    }
}

/// Counters, for metrics and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Records handed to the machine, whatever became of them.
    pub records: u64,
    /// Records that failed to decode.
    pub malformed: u64,
    /// Well-formed records that changed no request, and records with a non-increasing offset.
    pub ignored: u64,
    /// Accepted acquires.
    pub acquires: u64,
    /// Accepted renews (resurrections included).
    pub renews: u64,
    /// Renews that inserted a request this mid-log replayer had not seen the acquire of.
    pub resurrections: u64,
    /// Accepted releases.
    pub releases: u64,
    /// Ticks.
    pub ticks: u64,
    /// Grants.
    pub grants: u64,
    /// Expiries.
    pub expiries: u64,
    /// Acquires refused because the partition already had `MAX_LIVE_REQUESTS` live requests.
    pub refused_full: u64,
    /// Tombstones dropped early because there were `MAX_TOMBSTONES`.
    pub tombstones_evicted: u64,
    /// Requests learnt of from renews whose acquire was looked up and read
    /// ([`Machine::handle_acquire_lookup`]).
    pub acquires_looked_up: u64,
    /// ... whose acquire was deleted from the log: they keep the longest lease.
    pub acquires_gone: u64,
    /// Releases of such requests kept until the acquire is read (see `DeferredRelease`).
    pub releases_deferred: u64,
    /// Revokes that named a live request.
    pub revokes: u64,
}

/// What the session found at a token's offset ([`Machine::handle_acquire_lookup`]).
#[derive(Debug, Clone, Copy)]
pub enum AcquireLookup<'a> {
    /// The first record at or after the token's offset, as consumed.
    Found {
        /// Its offset (above the token when the token's record is not there).
        offset: Offset,
        /// Its key.
        key: Option<&'a [u8]>,
        /// Its value.
        value: Option<&'a [u8]>,
    },
    /// The token lies below the partition's log start: deleted.
    Gone,
}

/// One lock's queue: live requests by token, and those granted: the longest prefix whose
/// modes admit each other ([`Mode::admits`]).
#[derive(Debug, Clone, Default)]
struct Queue {
    requests: BTreeMap<Offset, Request>,
    granted: BTreeSet<Offset>,
}

/// The state machine of one partition of the lock topic.
///
/// Per record: advance the clock, expire, apply the op, grant new heads (see the module
/// docs of [`super`]). Events wait in an internal queue until [`Machine::poll_event`]
/// drains them; a caller that never drains them lets them accumulate.
#[derive(Debug, Clone)]
pub struct Machine {
    first_offset: Offset,
    last_offset: Option<Offset>,
    clock: Option<LogTime>,
    queues: BTreeMap<String, Queue>,
    /// Live token -> its lock's key.
    keys_by_token: BTreeMap<Offset, String>,
    /// Live requests ordered by deadline, so expiry never scans all locks.
    deadlines: BTreeSet<(LogTime, Offset)>,
    /// Removed token -> when and under which key it was removed.
    tombstones: BTreeMap<Offset, Tombstone>,
    /// Requests learnt of from renews whose acquire has not been read yet (or was deleted),
    /// with the largest ttl their renews asked for: their lock, owner and commitment are
    /// claims. They keep the longest lease until it is read
    /// ([`Machine::handle_acquire_lookup`]).
    unconfirmed: BTreeMap<Offset, u64>,
    /// Releases of `unconfirmed` requests, judged when the acquire is read.
    deferred_releases: BTreeMap<Offset, Vec<DeferredRelease>>,
    /// Tokens of `unconfirmed` whose acquire the session has not been asked to read yet.
    lookups: Vec<Offset>,
    /// Tombstones ordered by removal time, for dropping old ones.
    tombstones_by_age: BTreeSet<(LogTime, Offset)>,
    /// Revokes of requests acquired before `first_offset` that this replayer did not know when
    /// the revoke came: a renew naming that token under that lock must not bring it in (a full
    /// replay refused it). Kept `MAX_TTL_MS` of log time, at most `MAX_TOMBSTONES`.
    early_revokes: BTreeMap<(Offset, String), LogTime>,
    early_revokes_by_age: BTreeSet<(LogTime, Offset, String)>,
    events: VecDeque<Event>,
    stats: Stats,
}

/// A removed request, remembered so a renew cannot bring it back.
#[derive(Debug, Clone)]
struct Tombstone {
    removed_at: LogTime,
    /// The commitment the request had when removed (`None` for a request of the first format
    /// or an unknown one).
    commitment: Option<[u8; 32]>,
    /// For a release of a request this replayer did not know: its secret, to check against
    /// the commitment a later renew names.
    release: Option<[u8; 32]>,
    /// Blocks nothing: the expiry of a request learnt of from renews (see `remove`).
    weak: bool,
    /// Blocks every renew: the token's record is no acquire.
    forged: bool,
}

/// A release of a request whose acquire is not read yet. The claim's owner, lock and
/// commitment came from renews, which anyone can write: a forger's claim carrying its own
/// commitment, then a release opening it, would otherwise end a request its owner holds. So the
/// release is judged against the acquire, once read.
#[derive(Debug, Clone)]
struct DeferredRelease {
    key: String,
    owner: String,
    secret: Option<[u8; 32]>,
}

/// Releases kept per unconfirmed request; further ones are refused (`ReleaseUnverifiable`),
/// so a writer flooding them costs nothing but their refusal.
const MAX_DEFERRED_RELEASES: usize = 4;

/// How a request left its queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Removal {
    Expiry,
    Release,
    /// Learnt of from renews only, and its token's record is no acquire.
    Forged,
}

fn deadline(last_alive: LogTime, ttl: u64) -> LogTime {
    // ttl <= MAX_TTL_MS after validation; saturate anyway so no input can overflow.
    last_alive.saturating_add(i64::try_from(ttl).unwrap_or(i64::MAX))
}

impl Machine {
    /// A machine that will read the partition from `first_offset` on. A full replay starts at
    /// the partition's log-start offset; a mid-log joiner at the offset its join window starts.
    /// Renews of requests acquired before `first_offset` may insert them (see [`Ignored`]).
    pub fn new(first_offset: Offset) -> Self {
        Machine {
            first_offset,
            last_offset: None,
            clock: None,
            queues: BTreeMap::new(),
            keys_by_token: BTreeMap::new(),
            deadlines: BTreeSet::new(),
            tombstones: BTreeMap::new(),
            deferred_releases: BTreeMap::new(),
            unconfirmed: BTreeMap::new(),
            lookups: Vec::new(),
            tombstones_by_age: BTreeSet::new(),
            early_revokes: BTreeMap::new(),
            early_revokes_by_age: BTreeSet::new(),
            events: VecDeque::new(),
            stats: Stats::default(),
        }
    }

    /// The first offset this machine reads.
    pub fn first_offset(&self) -> Offset {
        self.first_offset
    }

    /// Decodes and applies one record: its offset, its broker timestamp (LogAppendTime), its
    /// key and value as consumed. Never panics.
    pub fn handle_record(
        &mut self,
        offset: Offset,
        timestamp: LogTime,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
    ) {
        self.handle_decoded(offset, timestamp, decode_record(key, value));
    }

    /// Applies one record already decoded (or rejected). A hand-built record that breaks a
    /// limit decoding enforces is treated as malformed, exactly as its encoding would be.
    pub fn handle_decoded(&mut self, offset: Offset, timestamp: LogTime, record: Result<Record, Reject>) {
        self.stats.records += 1;
        let increasing = match self.last_offset {
            Some(last) => offset > last,
            None => offset >= self.first_offset,
        };
        if !increasing {
            self.stats.ignored += 1;
            self.ignore(offset, Ignored::OffsetNotIncreasing);
            return;
        }
        self.last_offset = Some(offset);

        // Step 1: the log clock never goes back, whatever the broker stamps.
        let clock = self.clock.map_or(timestamp, |clock| clock.max(timestamp));
        self.clock = Some(clock);

        // Step 2: expire, then forget tombstones no valid renew can name any more.
        let mut touched: Vec<String> = Vec::new();
        self.expire(clock, &mut touched);
        self.drop_old_tombstones(clock);
        self.drop_old_early_revokes(clock);

        // Step 3: the op.
        match record.and_then(|record| validate_record(&record).map(|()| record)) {
            Err(reason) => {
                self.stats.malformed += 1;
                self.ignore(offset, Ignored::Malformed(reason));
            }
            Ok(Record { key, op, proof }) => {
                let key = key.unwrap_or_default();
                self.apply(offset, clock, key, op, proof, &mut touched);
            }
        }

        // Step 4: grants (in key order), and forgetting locks whose queue emptied.
        touched.sort_unstable();
        touched.dedup();
        self.grant_heads(offset, &touched);
    }

    /// The next event, oldest first. Per record: expiries (by deadline, then token), then the
    /// op's effect (or why it was ignored), then grants (by key).
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The log clock: the largest timestamp seen, `None` before the first record.
    pub fn clock(&self) -> Option<LogTime> {
        self.clock
    }

    /// The offset after the last record handled (`first_offset` before any): where to resume
    /// consuming.
    pub fn next_offset(&self) -> Offset {
        self.last_offset.map_or(self.first_offset, |last| last.saturating_add(1))
    }

    /// The head of a lock's queue: its holder, or the first of its holders.
    pub fn holder(&self, key: &str) -> Option<&Request> {
        self.queues.get(key)?.requests.values().next()
    }

    /// The requests holding a lock, oldest first: the granted prefix of its queue.
    pub fn holders(&self, key: &str) -> impl Iterator<Item = &Request> + '_ {
        self.queues.get(key).into_iter().flat_map(|queue| {
            queue.requests.values().take_while(|request| queue.granted.contains(&request.token))
        })
    }

    /// Whether live request `token` of lock `key` holds it.
    pub fn is_granted(&self, key: &str, token: Offset) -> bool {
        self.queues.get(key).is_some_and(|queue| queue.granted.contains(&token))
    }

    /// A live request of a lock, by token.
    pub fn request(&self, key: &str, token: Offset) -> Option<&Request> {
        self.queues.get(key)?.requests.get(&token)
    }

    /// The key of the lock a live request belongs to.
    pub fn key_of(&self, token: Offset) -> Option<&str> {
        self.keys_by_token.get(&token).map(String::as_str)
    }

    /// The live requests of a lock, head (holder) first.
    pub fn queue(&self, key: &str) -> impl Iterator<Item = &Request> + '_ {
        self.queues.get(key).into_iter().flat_map(|queue| queue.requests.values())
    }

    /// How many requests wait in a lock's queue, holder included.
    pub fn queue_len(&self, key: &str) -> usize {
        self.queues.get(key).map_or(0, |queue| queue.requests.len())
    }

    /// The identifiers of all locks with a non-empty queue, in byte order.
    pub fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.queues.keys().map(String::as_str)
    }

    /// How many locks have a non-empty queue (empty queues are forgotten at once).
    pub fn lock_count(&self) -> usize {
        self.queues.len()
    }

    /// The smallest log time at which some live request expires (`last_alive + ttl + 1`):
    /// once the client believes broker time has passed it, it produces a `tick`.
    pub fn next_expiry(&self) -> Option<LogTime> {
        self.deadlines.first().map(|(deadline, _)| deadline.saturating_add(1))
    }

    /// `last_alive + ttl` of a live request: the last log time at which it is alive.
    pub fn deadline_of(&self, key: &str, token: Offset) -> Option<LogTime> {
        self.request(key, token).map(Request::deadline)
    }

    /// Whether this replayer remembers `token` as removed (a renew naming it is ignored).
    pub fn is_tombstoned(&self, token: Offset) -> bool {
        self.tombstones.contains_key(&token)
    }

    /// How many tombstones are kept (they are dropped `MAX_TTL_MS` after removal).
    pub fn tombstone_count(&self) -> usize {
        self.tombstones.len()
    }

    /// The tokens of the requests learnt of from renews since the last call: the session
    /// reads the record at each token's offset and answers with
    /// [`Machine::handle_acquire_lookup`].
    pub fn take_acquire_lookups(&mut self) -> Vec<Offset> {
        std::mem::take(&mut self.lookups)
    }

    /// Whether request `token`, learnt of from renews, waits for its acquire to be read.
    pub fn awaits_acquire(&self, token: Offset) -> bool {
        self.unconfirmed.contains_key(&token)
    }

    /// Whether a request learnt of from renews waits for its acquire to be read, or lives on
    /// with its acquire deleted. Until then a lock's queue may lack a request (a forged renew
    /// may have put it under another lock's key, where its owner's renews are refused), so no
    /// grant of this view can be trusted.
    pub fn awaits_acquires(&self) -> bool {
        !self.unconfirmed.is_empty()
    }

    /// The record found at the offset of `token`, a request learnt of from renews
    /// ([`Machine::take_acquire_lookups`]). The request becomes what a full replay knows of it:
    /// - an acquire of the same lock: its owner, key and ttl (raised to the largest its renews
    ///   asked for, as renews do) replace the claim's; renews naming others are forgeries from
    ///   here on;
    /// - an acquire of another lock: the request moves to that lock's queue, alive from now
    ///   (its owner's renews were refused while it sat in the wrong queue);
    /// - no acquire (another op, a malformed record, no record at that offset): the renews
    ///   were forged; the request is dropped and its token refuses every renew;
    /// - deleted: the claim can never be checked, so it stays unconfirmed until it ends: the
    ///   longest lease, alive on renews naming any lock, its releases never judged, and no
    ///   grant on the partition trusted while it lives. Its lock and commitment came from
    ///   renews anyone can write: before, a forged claim under another lock hid its owner's
    ///   request from the real lock's queue (two holders), and a forged commitment let a
    ///   forged release end it.
    ///
    /// An answer for a request that ended meanwhile changes nothing.
    pub fn handle_acquire_lookup(&mut self, token: Offset, found: AcquireLookup<'_>) {
        let Some(&asked_ttl) = self.unconfirmed.get(&token) else { return };
        let (Some(claimed_key), Some(clock)) = (self.keys_by_token.get(&token).cloned(), self.clock) else {
            return;
        };
        let (offset, key, value) = match found {
            AcquireLookup::Gone => {
                self.stats.acquires_gone += 1;
                return;
            }
            AcquireLookup::Found { offset, key, value } => (offset, key, value),
        };
        self.unconfirmed.remove(&token);
        let deferred = self.deferred_releases.remove(&token).unwrap_or_default();
        self.stats.acquires_looked_up += 1;
        let record = (offset == token).then(|| decode_record(key, value)).and_then(Result::ok);
        let mut touched = vec![claimed_key.clone()];
        match record.filter(|r| validate_record(r).is_ok()) {
            Some(Record { key: Some(key), op: Op::Acquire { owner, ttl, mode, .. }, proof }) => {
                // Its grant mark stays: re-inserted under the same lock, a request still in
                // the granted prefix is not granted anew (the next grant recomputes the prefix).
                let claimed = self.queues.get_mut(&claimed_key).and_then(|q| q.requests.remove(&token));
                let Some(claimed) = claimed else { return };
                self.deadlines.remove(&(claimed.deadline(), token));
                let last_alive = if key == claimed_key { claimed.last_alive } else { clock };
                let ttl = ttl.max(asked_ttl);
                // Releases that came while the acquire was unread, judged as a full replay
                // judged them when they came (a request of the first format by owner alone).
                let released = deferred.iter().any(|d| {
                    d.key == key
                        && d.owner == owner
                        && proof.commitment.is_none_or(|c| d.secret.is_some_and(|s| commitment_of(&s) == c))
                });
                // A revoke named the claim's lock; it holds only if that is the acquire's lock
                // (a full replay ignored a revoke under another key).
                let revoked = claimed.revoked && key == claimed_key;
                let request =
                    Request { token, owner, ttl, last_alive, commitment: proof.commitment, revoked, mode };
                self.insert(&key, request);
                if released {
                    self.remove_released(token, clock, &mut touched);
                }
                touched.push(key);
            }
            _ => {
                self.remove(token, clock, Removal::Forged);
                self.ignore(token, Ignored::ClaimWithoutAcquire);
            }
        }
        self.expire(clock, &mut touched);
        touched.sort_unstable();
        touched.dedup();
        self.grant_heads(self.last_offset.unwrap_or(self.first_offset), &touched);
    }

    fn remove_released(&mut self, token: Offset, clock: LogTime, touched: &mut Vec<String>) {
        if let Some((key, request)) = self.remove(token, clock, Removal::Release) {
            self.stats.releases += 1;
            self.events.push_back(Event::Released { key: key.clone(), token, owner: request.owner });
            touch(touched, key);
        }
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    fn ignore(&mut self, offset: Offset, reason: Ignored) {
        self.events.push_back(Event::Ignored { offset, reason });
    }

    fn ignore_op(&mut self, offset: Offset, reason: Ignored) {
        self.stats.ignored += 1;
        self.ignore(offset, reason);
    }

    fn expire(&mut self, clock: LogTime, touched: &mut Vec<String>) {
        while let Some(&(deadline, token)) = self.deadlines.first() {
            if clock <= deadline {
                break;
            }
            self.deadlines.pop_first();
            if let Some((key, request)) = self.remove(token, clock, Removal::Expiry) {
                self.stats.expiries += 1;
                self.events.push_back(Event::Expired { key: key.clone(), token, owner: request.owner });
                touch(touched, key);
            }
        }
    }

    fn drop_old_tombstones(&mut self, clock: LogTime) {
        let max_ttl = i64::try_from(MAX_TTL_MS).unwrap_or(i64::MAX);
        while let Some(&(removed_at, token)) = self.tombstones_by_age.first() {
            // A valid renew needs clock <= prev + ttl with prev <= removed_at and
            // ttl <= MAX_TTL_MS; past that no valid renew can name the token.
            if clock <= removed_at.saturating_add(max_ttl) {
                break;
            }
            self.tombstones_by_age.pop_first();
            // A weak tombstone may outlive its request's return (a request learnt again from
            // a renew after a forged claim expired): the live request's marks are its own
            // (`unconfirmed`), and go only with it. Before, they went with the old tombstone,
            // the owner's next renews were refused as forged, and the joiner dropped a request
            // its owner kept renewing.
            self.tombstones.remove(&token);
        }
    }

    fn tombstone_with(&mut self, token: Offset, tombstone: Tombstone) {
        if token >= self.first_offset {
            // This replayer read every acquire from its first offset on, so it refuses every
            // renew of such a token that is not live (`RenewUnknown`): a tombstone would decide
            // nothing. None is kept, so a follower's memory does not grow with the partition's
            // release rate (before: one per removed request for MAX_TTL_MS of log time).
            return;
        }
        let at = tombstone.removed_at;
        if let Some(previous) = self.tombstones.insert(token, tombstone) {
            self.tombstones_by_age.remove(&(previous.removed_at, token));
        }
        self.tombstones_by_age.insert((at, token));
        if self.tombstones.len() > MAX_TOMBSTONES {
            // Releases of unknown requests at a high rate: forget the oldest. A dropped
            // tombstone can only let a renew bring a request back, which keeps it alive longer.
            if let Some((_, oldest)) = self.tombstones_by_age.pop_first() {
                self.tombstones.remove(&oldest);
                self.stats.tombstones_evicted += 1;
            }
        }
    }

    /// Whether a tombstone of `token` stops a renew naming `commitment` from bringing it back:
    /// the request was removed under that commitment, or a release of it opens it. A renew
    /// naming another commitment may be the real owner's after a forged release or expiry of
    /// a forged claim, so it is not stopped (keeping a request alive is always safe).
    fn tombstone_blocks(&self, token: Offset, commitment: Option<[u8; 32]>) -> bool {
        let Some(tombstone) = self.tombstones.get(&token) else { return false };
        if tombstone.forged {
            return true;
        }
        if tombstone.weak {
            return false;
        }
        if tombstone.commitment == commitment {
            return true;
        }
        match (&tombstone.release, commitment) {
            (Some(secret), Some(commitment)) => commitment_of(secret) == commitment,
            _ => false,
        }
    }

    /// Removes a live request (its deadline entry must already be gone or is removed here)
    /// and tombstones it.
    fn remove(&mut self, token: Offset, clock: LogTime, how: Removal) -> Option<(String, Request)> {
        let key = self.keys_by_token.remove(&token)?;
        let queue = self.queues.get_mut(&key)?;
        let request = queue.requests.remove(&token)?;
        queue.granted.remove(&token);
        self.deadlines.remove(&(request.deadline(), token));
        // A request learnt of from a renew may have expired by a forged claim's lease (a copy
        // of the owner's key asking for 1 ms): the owner's next renew must bring it back. An
        // honest renew after a real expiry is invalid anyway (its `prev` is too old).
        let weak = how == Removal::Expiry && self.unconfirmed.contains_key(&token);
        self.tombstone_with(
            token,
            Tombstone {
                removed_at: clock,
                commitment: request.commitment,
                release: None,
                weak,
                forged: how == Removal::Forged,
            },
        );
        self.unconfirmed.remove(&token);
        self.deferred_releases.remove(&token);
        Some((key, request))
    }

    fn insert(&mut self, key: &str, request: Request) {
        self.deadlines.insert((request.deadline(), request.token));
        self.keys_by_token.insert(request.token, key.to_owned());
        self.queues.entry(key.to_owned()).or_default().requests.insert(request.token, request);
    }

    fn apply(
        &mut self,
        offset: Offset,
        clock: LogTime,
        key: String,
        op: Op,
        proof: Proof,
        touched: &mut Vec<String>,
    ) {
        match op {
            Op::Acquire { .. } if self.keys_by_token.len() >= MAX_LIVE_REQUESTS => {
                // A writer filling the partition with requests nobody renews: refuse more, so
                // a replayer's memory stays bounded. Views that know different requests (a
                // joiner's claims) refuse different acquires, so a view that refused one may
                // lack a request another view grants: the client gives such a partition up
                // (`Failure::PartitionFull`).
                self.stats.refused_full += 1;
                self.ignore_op(offset, Ignored::PartitionFull);
            }
            Op::Acquire { owner, seq, ttl, mode } => {
                self.stats.acquires += 1;
                let commitment = proof.commitment;
                let request = Request {
                    token: offset,
                    owner: owner.clone(),
                    ttl,
                    last_alive: clock,
                    commitment,
                    revoked: false,
                    mode,
                };
                self.insert(&key, request);
                self.events.push_back(Event::Enqueued {
                    key: key.clone(),
                    token: offset,
                    owner,
                    seq,
                    alive_at: clock,
                    nonce: proof.nonce,
                });
                touch(touched, key);
            }
            Op::Renew { owner, r#ref: token, prev, ttl } => {
                let renew = RenewOp { owner, token, prev, ttl, commitment: proof.commitment };
                self.renew(offset, clock, key, renew, touched)
            }
            Op::Release { owner, r#ref: token } => {
                self.release(offset, clock, key, owner, token, proof.secret, touched)
            }
            Op::Revoke { r#ref: token, .. } => self.revoke(offset, clock, key, token),
            Op::Tick => self.stats.ticks += 1,
        }
    }

    fn renew(
        &mut self,
        offset: Offset,
        clock: LogTime,
        key: String,
        renew: RenewOp,
        touched: &mut Vec<String>,
    ) {
        let RenewOp { owner, token, prev, ttl, commitment } = renew;
        // Validity first: an invalid renew changes nothing, whatever the state.
        if clock > deadline(prev, ttl) {
            return self.ignore_op(offset, Ignored::RenewInvalid);
        }
        match self.keys_by_token.get(&token) {
            Some(live_key) if *live_key != key && self.unconfirmed.contains_key(&token) => {
                // Claims naming two locks while the acquire is unread: one of them is forged,
                // and only the acquire tells which. Each keeps the request alive where it
                // sits (its acquire's lock is settled by the lookup), so it cannot expire
                // before the full replay's. Before, the owner's renews were refused as naming
                // the wrong lock when a forger's came first, and a slow lookup found the
                // request already expired here: a lost request, and two holders.
                let live_key = live_key.clone();
                self.keep_alive(&live_key, token, clock, ttl);
                return self.ignore_op(offset, Ignored::RenewWrongKey);
            }
            Some(live_key) if *live_key != key => {
                return self.ignore_op(offset, Ignored::RenewWrongKey);
            }
            Some(_) => {
                let Some(request) =
                    self.queues.get_mut(&key).and_then(|queue| queue.requests.get_mut(&token))
                else {
                    return self.ignore_op(offset, Ignored::RenewUnknown);
                };
                if request.revoked {
                    return self.ignore_op(offset, Ignored::RenewRevoked);
                }
                // A claim (acquire unread) that disagrees with an earlier one keeps the request
                // alive all the same: one of them is forged, and this replayer cannot tell which
                // until it reads the acquire (the real owner's must count, a forger's may); its
                // releases wait for the acquire (see `release`). Once the acquire is read, it
                // named owner and commitment: a renew naming others is a forgery.
                let disagrees = request.owner != owner || request.commitment != commitment;
                if disagrees && !self.unconfirmed.contains_key(&token) {
                    let reason = if request.owner != owner {
                        Ignored::RenewWrongOwner
                    } else {
                        Ignored::RenewWrongCommitment
                    };
                    return self.ignore_op(offset, reason);
                }
                self.keep_alive(&key, token, clock, ttl);
            }
            None => {
                if self.tombstone_blocks(token, commitment) {
                    return self.ignore_op(offset, Ignored::RenewTombstoned);
                }
                if token >= self.first_offset {
                    return self.ignore_op(offset, Ignored::RenewUnknown);
                }
                if self.early_revokes.contains_key(&(token, key.clone())) {
                    return self.ignore_op(offset, Ignored::RenewRevoked);
                }
                // A mid-log joiner learning of a request whose acquire lies before its window.
                // The lease its acquire asked for is unknown here, and this renew may be a
                // forger's asking for 1 ms: until the acquire is read, the request has the
                // longest lease, which no renew can undercut, so this view never ends it
                // before the full replay does. Before, a forged short renew seen first let
                // the request expire here until its owner's next renew: two holders.
                self.stats.resurrections += 1;
                self.unconfirmed.insert(token, ttl);
                self.lookups.push(token);
                let request = Request {
                    token,
                    owner: owner.clone(),
                    ttl: MAX_TTL_MS,
                    last_alive: clock,
                    commitment,
                    revoked: false,
                    mode: Mode::Exclusive,
                };
                self.insert(&key, request);
                touch(touched, key.clone());
            }
        }
        self.stats.renews += 1;
        self.events.push_back(Event::Renewed { key, token, owner, alive_at: clock });
    }

    /// A valid renew of live request `token` of `key`'s queue: alive from `clock` on, its ttl
    /// raised to `ttl` (a renew never shortens a lease: only its owner may end it early, by
    /// its release; honest clients keep one ttl per request), and `ttl` noted as asked for
    /// while its acquire is unread.
    fn keep_alive(&mut self, key: &str, token: Offset, clock: LogTime, ttl: u64) {
        let Some(request) = self.queues.get_mut(key).and_then(|q| q.requests.get_mut(&token)) else { return };
        let old_deadline = request.deadline();
        request.last_alive = clock;
        request.ttl = request.ttl.max(ttl);
        let new_deadline = request.deadline();
        self.deadlines.remove(&(old_deadline, token));
        self.deadlines.insert((new_deadline, token));
        if let Some(asked) = self.unconfirmed.get_mut(&token) {
            *asked = (*asked).max(ttl);
        }
    }

    /// A revoke of request `token` under `key`. A view applies it only where a full replay
    /// certainly does too, since a view that applies a revoke the full replay ignored ends a
    /// request early (two holders), while one that ignores a revoke the full replay applied
    /// only keeps a request alive longer:
    /// - live under `key` (a claim included: if the claim's lock is forged, the mark refuses
    ///   only renews naming that lock, which a full replay refuses as naming the wrong lock;
    ///   the lookup drops the mark if the acquire names another lock): its renews are refused
    ///   from here on, so it ends at its current lease;
    /// - unknown here and acquired before this replayer's first offset (a joiner that has not
    ///   met a renew of it yet): remembered, so a later renew naming it under `key` does not
    ///   bring it in; a full replay refuses that renew too (the request is revoked there, or
    ///   ended, or lives under another lock);
    /// - otherwise (another lock, ended, a token at or after the revoke): ignored.
    fn revoke(&mut self, offset: Offset, clock: LogTime, key: String, token: Offset) {
        match self.keys_by_token.get(&token) {
            Some(live_key) if *live_key != key => self.ignore_op(offset, Ignored::RevokeWrongKey),
            Some(_) => {
                let Some(request) = self.queues.get_mut(&key).and_then(|q| q.requests.get_mut(&token)) else {
                    return self.ignore_op(offset, Ignored::RevokeUnknown);
                };
                if !request.revoked {
                    request.revoked = true;
                    self.stats.revokes += 1;
                    let owner = request.owner.clone();
                    self.events.push_back(Event::Revoked { key, token, owner });
                }
            }
            None if token < self.first_offset => {
                if self.early_revokes.insert((token, key.clone()), clock).is_none() {
                    self.early_revokes_by_age.insert((clock, token, key));
                    if self.early_revokes.len() > MAX_TOMBSTONES {
                        // Forgetting one only lets a renew bring a request in: alive longer.
                        if let Some((_, oldest, oldest_key)) = self.early_revokes_by_age.pop_first() {
                            self.early_revokes.remove(&(oldest, oldest_key));
                        }
                    }
                }
                self.ignore_op(offset, Ignored::RevokeUnknown);
            }
            None => self.ignore_op(offset, Ignored::RevokeUnknown),
        }
    }

    /// Forgets early revokes no valid renew can answer any more: a request revoked before any
    /// renew of it reached this view was last alive before the revoke, so by `MAX_TTL_MS` later
    /// every honest renew of it is invalid.
    fn drop_old_early_revokes(&mut self, clock: LogTime) {
        let max_ttl = i64::try_from(MAX_TTL_MS).unwrap_or(i64::MAX);
        while let Some((at, _, _)) = self.early_revokes_by_age.first() {
            if clock <= at.saturating_add(max_ttl) {
                break;
            }
            let (_, token, key) = self.early_revokes_by_age.pop_first().expect("first exists");
            self.early_revokes.remove(&(token, key));
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn release(
        &mut self,
        offset: Offset,
        clock: LogTime,
        key: String,
        owner: String,
        token: Offset,
        secret: Option<[u8; 32]>,
        touched: &mut Vec<String>,
    ) {
        let Some(live_key) = self.keys_by_token.get(&token) else {
            // Unknown here (not yet seen, or already gone): it must not come back, unless a
            // renew names a commitment this release does not open (see `tombstone_blocks`).
            // A tombstone already there keeps what it knew (the commitment, the first secret).
            let known = self.tombstones.get(&token);
            let commitment = known.and_then(|t| t.commitment);
            let release = known.and_then(|t| t.release).or(secret);
            // A weak tombstone (a claim's expiry) stays weak: a release without a secret, or
            // with one that opens nothing known, proves nothing about the owner's commitment.
            let weak = known.is_some_and(|t| t.weak);
            let forged = known.is_some_and(|t| t.forged);
            self.tombstone_with(token, Tombstone { removed_at: clock, commitment, release, weak, forged });
            return self.ignore_op(offset, Ignored::ReleaseUnknown);
        };
        if self.unconfirmed.contains_key(&token) {
            // Its lock, owner and commitment are claims until the acquire is read.
            let kept = self.deferred_releases.entry(token).or_default();
            if kept.len() < MAX_DEFERRED_RELEASES {
                kept.push(DeferredRelease { key, owner, secret });
                self.stats.releases_deferred += 1;
                return;
            }
            return self.ignore_op(offset, Ignored::ReleaseUnverifiable);
        }
        if *live_key != key {
            return self.ignore_op(offset, Ignored::ReleaseWrongKey);
        }
        let Some(request) = self.request(&key, token) else {
            return self.ignore_op(offset, Ignored::ReleaseUnknown);
        };
        if request.owner != owner {
            return self.ignore_op(offset, Ignored::ReleaseWrongOwner);
        }
        if let Some(commitment) = request.commitment {
            // A committed request ends early only by its owner's secret, which nobody else
            // knows before the owner's release is in the log (and a copy of that release
            // names a request already gone).
            if secret.is_none_or(|secret| commitment_of(&secret) != commitment) {
                return self.ignore_op(offset, Ignored::ReleaseBadSecret);
            }
        }
        self.remove_released(token, clock, touched);
    }

    /// Grants, in each touched queue, the longest prefix whose modes admit each other: FIFO,
    /// so a request that must wait holds back every later one (no writer starves behind
    /// readers, no heavy share behind light ones). In a full replay the prefix only grows
    /// while its requests live (a request only leaves, and later ones only join at the end);
    /// a joiner's claim can stand in front of it, and what it no longer covers is ungranted
    /// (no grant of a view with claims is trusted).
    fn grant_heads(&mut self, offset: Offset, touched: &[String]) {
        for key in touched {
            let Some(queue) = self.queues.get_mut(key) else {
                continue;
            };
            if queue.requests.is_empty() {
                self.queues.remove(key);
                continue;
            }
            let mut held = Held::Nothing;
            let mut prefix = 0;
            for request in queue.requests.values() {
                let Some(next) = request.mode.admits(held) else { break };
                held = next;
                prefix += 1;
                if !queue.granted.contains(&request.token) {
                    self.stats.grants += 1;
                    self.events.push_back(Event::Granted {
                        key: key.clone(),
                        token: request.token,
                        owner: request.owner.clone(),
                        at: offset,
                    });
                }
            }
            queue.granted = queue.requests.keys().take(prefix).copied().collect();
        }
    }
}

/// The fields of a renew record, with the key it names.
struct RenewOp {
    owner: String,
    token: Offset,
    prev: LogTime,
    ttl: u64,
    commitment: Option<[u8; 32]>,
}

/// Remembers that a lock's queue changed during this record (duplicates are removed before
/// granting; a linear `contains` would be quadratic when a tick expires thousands of locks).
fn touch(touched: &mut Vec<String>, key: String) {
    touched.push(key);
}
