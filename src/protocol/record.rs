//! The wire format of the lock topic: record key = lock identifier, record value = one JSON
//! object with `"v":1` and an `"op"`.
//!
//! Decoding is strict: a value must carry exactly the fields of its op, with exactly the right
//! types, within the limits of [`super`]. Every replayer must reject the same records, or two
//! clients would disagree about the state of a lock, so "lenient" parsing is not an option.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{LogTime, Offset, MAX_IDENTIFIER_BYTES, MAX_OWNER_BYTES, MAX_TTL_MS, MAX_VALUE_BYTES};

/// What a record asks the state machine to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Enqueue a new request; the record's own offset becomes its fencing token.
    Acquire {
        /// Who sends it (a process-unique id chosen by the client).
        owner: String,
        /// The sender's sequence number: `owner`+`seq` let it find its own acquire in the log.
        seq: u64,
        /// Lease length in ms, `1..=MAX_TTL_MS`.
        ttl: u64,
        /// How the request holds: alone, with other shared ones, or a weight of a semaphore.
        mode: Mode,
    },
    /// Request `ref` is still alive.
    Renew {
        /// Must equal the owner of request `ref`.
        owner: String,
        /// Offset of the request's acquire (its token).
        r#ref: Offset,
        /// Log time at which the sender's last *accepted* alive record for `ref` was applied.
        prev: LogTime,
        /// Lease length in ms, `1..=MAX_TTL_MS`.
        ttl: u64,
    },
    /// Leave the queue (a holder releasing, or a waiter giving up).
    Release {
        /// Must equal the owner of request `ref`.
        owner: String,
        /// Offset of the request's acquire (its token).
        r#ref: Offset,
    },
    /// End request `ref` at its current lease: its renewals are refused from here on. Needs
    /// no owner proof (anyone may write it): it can only shorten a hold to the lease already
    /// granted, which every holder already allows for.
    Revoke {
        /// Who revokes (for the record; it need not be the request's owner).
        owner: String,
        /// Offset of the request's acquire (its token).
        r#ref: Offset,
    },
    /// No state change: a record whose only job is to move log time forward.
    Tick,
}

/// How a request holds its lock once granted. The requests granted at any offset are a prefix
/// of the lock's queue (FIFO: nobody is granted past a request that must still wait), and the
/// prefix only admits requests that can hold together ([`Mode::admits`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Alone (no `"mode"` field on the wire: every record of the first formats).
    Exclusive,
    /// Together with other shared requests (`"mode":"shared"`): a read lock.
    Shared,
    /// A semaphore's share (`"mode":"semaphore"`, `"limit"`, `"weight"`): requests of the same
    /// `limit` hold together while their weights sum to at most `limit`.
    Weighted {
        /// The most weight held at once, `1..=MAX_SEMAPHORE_LIMIT`.
        limit: u32,
        /// This request's weight, `1..=limit`.
        weight: u32,
    },
}

/// The largest semaphore limit a record may carry.
pub const MAX_SEMAPHORE_LIMIT: u32 = 1_000_000;

/// What a granted prefix of a queue holds: the state [`Mode::admits`] adds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// Nothing yet.
    Nothing,
    /// One exclusive request: it admits nobody else.
    Exclusive,
    /// Shared requests.
    Shared,
    /// Weighted requests of one `limit`, `used` weight in all.
    Weighted {
        /// Their common limit.
        limit: u32,
        /// Their summed weight.
        used: u32,
    },
}

impl Mode {
    /// What `held` holds once a request of this mode joins it, or `None` if it cannot join:
    /// an exclusive request holds alone, shared ones hold with shared ones, and weighted ones
    /// with weighted ones of the same limit while the weights fit. Requests of another limit
    /// never hold together, whatever their weights: a limit is not a per-request choice.
    pub fn admits(self, held: Held) -> Option<Held> {
        match (held, self) {
            (Held::Nothing, Mode::Exclusive) => Some(Held::Exclusive),
            (Held::Nothing | Held::Shared, Mode::Shared) => Some(Held::Shared),
            (Held::Nothing, Mode::Weighted { limit, weight }) if weight <= limit => {
                Some(Held::Weighted { limit, used: weight })
            }
            (Held::Weighted { limit, used }, Mode::Weighted { limit: asked, weight })
                if asked == limit && weight <= limit - used =>
            {
                Some(Held::Weighted { limit, used: used + weight })
            }
            _ => None,
        }
    }

    /// Whether requests of these modes may ever hold together (the same kind of lock; for
    /// semaphores, the same limit). A request behind one it can never hold with waits for it
    /// to leave; the client tells its caller instead of waiting on a mismatch.
    pub fn compatible_kind(self, other: Mode) -> bool {
        match (self, other) {
            (Mode::Exclusive | Mode::Shared, Mode::Exclusive | Mode::Shared) => true,
            (Mode::Weighted { limit: a, .. }, Mode::Weighted { limit: b, .. }) => a == b,
            _ => false,
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mode::Exclusive => write!(f, "an exclusive lock"),
            Mode::Shared => write!(f, "a shared lock"),
            Mode::Weighted { limit, weight } => {
                write!(f, "a semaphore share (limit {limit}, weight {weight})")
            }
        }
    }
}

impl Op {
    /// The value of the `"op"` field for this op.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Acquire { .. } => "acquire",
            Op::Renew { .. } => "renew",
            Op::Release { .. } => "release",
            Op::Revoke { .. } => "revoke",
            Op::Tick => "tick",
        }
    }
}

/// A decoded record of the lock topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The lock identifier. Always `Some` for acquire, renew and release. A tick's key plays
    /// no part in the protocol (ticks are produced to an explicit partition) and decodes as
    /// `None`.
    pub key: Option<String>,
    /// What the record asks for.
    pub op: Op,
    /// The owner proofs it carries (none on records of the first, unsigned, format).
    pub proof: Proof,
}

/// Owner proofs a record may carry (see docs/protocol.md, "Owner proofs"). All optional on the
/// wire: a request whose acquire carries no key is an unsigned request of the first format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Proof {
    /// `commit` (acquire, renew): SHA-256 of the request's release secret. In an acquire it
    /// binds the request to that secret; in a renew it lets a joiner that never saw the
    /// acquire learn it.
    pub commitment: Option<[u8; 32]>,
    /// `nonce` (acquire): a value only the sender can compute, so it recognises its own acquire
    /// whatever other writers copy or predict.
    pub nonce: Option<[u8; 16]>,
    /// `secret` (release): the value whose SHA-256 is the request's commitment. Random per
    /// request and known only to its owner until this release reveals it.
    pub secret: Option<[u8; 32]>,
}

/// The commitment a release `secret` opens: its SHA-256.
pub fn commitment_of(secret: &[u8; 32]) -> [u8; 32] {
    Sha256::digest(secret).into()
}

/// Why a record was rejected as malformed. Every replayer rejects the same records for the
/// same reason; a rejected record still moves log time (see [`super::Machine`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reject {
    /// The record has no value (a Kafka null, e.g. a compaction tombstone).
    NullValue,
    /// The value is longer than [`MAX_VALUE_BYTES`].
    ValueTooLarge,
    /// The value is not one well-formed JSON document (bad syntax, bad UTF-8, trailing data).
    NotJson,
    /// The value is JSON but not an object.
    NotObject,
    /// A field appears twice in the object.
    DuplicateField(&'static str),
    /// A field that the op does not have.
    UnknownField,
    /// A required field is absent.
    MissingField(&'static str),
    /// A field has the wrong JSON type or is outside its integer type's range.
    WrongType(&'static str),
    /// `"v"` is not the integer 1.
    BadVersion,
    /// `"op"` names no known op.
    UnknownOp,
    /// An acquire, renew or release without a key.
    NullKey,
    /// The key is not valid UTF-8.
    KeyNotUtf8,
    /// The key is empty.
    EmptyKey,
    /// The key is longer than [`MAX_IDENTIFIER_BYTES`].
    KeyTooLong,
    /// `owner` is empty or longer than [`MAX_OWNER_BYTES`].
    OwnerInvalid,
    /// `ttl` is 0 or above [`MAX_TTL_MS`].
    TtlOutOfRange,
    /// `ref` is negative (offsets never are).
    NegativeRef,
    /// `mode` is not `"shared"` or `"semaphore"` (an exclusive acquire has no `mode`).
    UnknownMode,
    /// A semaphore's `limit` is 0 or above [`MAX_SEMAPHORE_LIMIT`].
    LimitOutOfRange,
    /// A semaphore's `weight` is 0 or above its `limit`.
    WeightOutOfRange,
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reject::NullValue => write!(f, "record has no value"),
            Reject::ValueTooLarge => write!(f, "value longer than {MAX_VALUE_BYTES} bytes"),
            Reject::NotJson => write!(f, "value is not a JSON document"),
            Reject::NotObject => write!(f, "value is not a JSON object"),
            Reject::DuplicateField(name) => write!(f, "field \"{name}\" appears twice"),
            Reject::UnknownField => write!(f, "value has a field its op does not have"),
            Reject::MissingField(name) => write!(f, "field \"{name}\" is missing"),
            Reject::WrongType(name) => write!(f, "field \"{name}\" has the wrong type or range"),
            Reject::BadVersion => write!(f, "field \"v\" is not 1"),
            Reject::UnknownOp => write!(f, "field \"op\" names no known op"),
            Reject::NullKey => write!(f, "record has no key (the lock identifier)"),
            Reject::KeyNotUtf8 => write!(f, "key is not valid UTF-8"),
            Reject::EmptyKey => write!(f, "key (the lock identifier) is empty"),
            Reject::KeyTooLong => write!(f, "key longer than {MAX_IDENTIFIER_BYTES} bytes"),
            Reject::OwnerInvalid => {
                write!(f, "field \"owner\" must be 1 to {MAX_OWNER_BYTES} bytes")
            }
            Reject::TtlOutOfRange => write!(f, "field \"ttl\" must be 1 to {MAX_TTL_MS} ms"),
            Reject::NegativeRef => write!(f, "field \"ref\" is negative"),
            Reject::UnknownMode => write!(f, "field \"mode\" is not \"shared\" or \"semaphore\""),
            Reject::LimitOutOfRange => {
                write!(f, "field \"limit\" must be 1 to {MAX_SEMAPHORE_LIMIT}")
            }
            Reject::WeightOutOfRange => write!(f, "field \"weight\" must be 1 to the limit"),
        }
    }
}

impl std::error::Error for Reject {}

/// Checks a lock identifier: non-empty and at most [`MAX_IDENTIFIER_BYTES`] bytes of UTF-8.
/// Any other UTF-8 is allowed (NUL and control characters included): the identifier is only
/// ever compared and hashed as bytes.
pub fn validate_identifier(id: &str) -> Result<(), Reject> {
    if id.is_empty() {
        Err(Reject::EmptyKey)
    } else if id.len() > MAX_IDENTIFIER_BYTES {
        Err(Reject::KeyTooLong)
    } else {
        Ok(())
    }
}

/// Checks the limits of an op that decoding enforces (owner length, ttl range, non-negative
/// ref). Used by [`encode_record`] and by the state machine for records built by hand.
pub fn validate_op(op: &Op) -> Result<(), Reject> {
    let (owner, ttl, reference) = match op {
        Op::Acquire { owner, ttl, mode, .. } => {
            if let Mode::Weighted { limit, weight } = *mode {
                if limit == 0 || limit > MAX_SEMAPHORE_LIMIT {
                    return Err(Reject::LimitOutOfRange);
                }
                if weight == 0 || weight > limit {
                    return Err(Reject::WeightOutOfRange);
                }
            }
            (owner, Some(*ttl), None)
        }
        Op::Renew { owner, r#ref, ttl, .. } => (owner, Some(*ttl), Some(*r#ref)),
        Op::Release { owner, r#ref } | Op::Revoke { owner, r#ref } => (owner, None, Some(*r#ref)),
        Op::Tick => return Ok(()),
    };
    if owner.is_empty() || owner.len() > MAX_OWNER_BYTES {
        return Err(Reject::OwnerInvalid);
    }
    if let Some(ttl) = ttl {
        if ttl == 0 || ttl > MAX_TTL_MS {
            return Err(Reject::TtlOutOfRange);
        }
    }
    if reference.is_some_and(|r| r < 0) {
        return Err(Reject::NegativeRef);
    }
    Ok(())
}

/// Checks a whole record as decoding would: a valid op, proofs only where its op has them, and
/// for every op but tick a valid key.
pub fn validate_record(record: &Record) -> Result<(), Reject> {
    validate_op(&record.op)?;
    let p = &record.proof;
    let misplaced = match record.op {
        Op::Acquire { .. } => p.secret.is_some(),
        Op::Renew { .. } => p.nonce.is_some() || p.secret.is_some(),
        Op::Release { .. } => p.commitment.is_some() || p.nonce.is_some(),
        Op::Revoke { .. } | Op::Tick => *p != Proof::default(),
    };
    if misplaced {
        return Err(Reject::UnknownField);
    }
    if record.op != Op::Tick {
        match &record.key {
            None => return Err(Reject::NullKey),
            Some(key) => validate_identifier(key)?,
        }
    }
    Ok(())
}

/// The value's field order on the wire: `v`, `op`, then the op's fields in the order of the
/// design's table. `None` fields are left out.
#[derive(Serialize)]
struct WireValue<'a> {
    v: u8,
    op: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    reference: Option<Offset>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prev: Option<LogTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ttl: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mode: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    weight: Option<u32>,
    #[serde(rename = "commit", skip_serializing_if = "Option::is_none")]
    commitment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

fn hex<const N: usize>(bytes: [u8; N]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Encodes an op as a record value, e.g. `{"v":1,"op":"acquire","owner":"p1","seq":7,"ttl":30000}`.
///
/// This does not check limits; use [`encode_record`] to refuse what decoders would reject.
pub fn encode_value(op: &Op) -> Vec<u8> {
    encode_value_with(op, &Proof::default())
}

/// [`encode_value`] with owner proofs (hex on the wire).
pub fn encode_value_with(op: &Op, proof: &Proof) -> Vec<u8> {
    let mut wire = WireValue {
        v: 1,
        op: op.name(),
        owner: None,
        seq: None,
        reference: None,
        prev: None,
        ttl: None,
        mode: None,
        limit: None,
        weight: None,
        commitment: proof.commitment.map(hex),
        nonce: proof.nonce.map(hex),
        secret: proof.secret.map(hex),
    };
    match op {
        Op::Acquire { owner, seq, ttl, mode } => {
            wire.owner = Some(owner);
            wire.seq = Some(*seq);
            wire.ttl = Some(*ttl);
            match *mode {
                Mode::Exclusive => {}
                Mode::Shared => wire.mode = Some("shared"),
                Mode::Weighted { limit, weight } => {
                    wire.mode = Some("semaphore");
                    wire.limit = Some(limit);
                    wire.weight = Some(weight);
                }
            }
        }
        Op::Renew { owner, r#ref, prev, ttl } => {
            wire.owner = Some(owner);
            wire.reference = Some(*r#ref);
            wire.prev = Some(*prev);
            wire.ttl = Some(*ttl);
        }
        Op::Release { owner, r#ref } | Op::Revoke { owner, r#ref } => {
            wire.owner = Some(owner);
            wire.reference = Some(*r#ref);
        }
        Op::Tick => {}
    }
    // Serialising this struct (strings and integers only) cannot fail; were it ever to, an
    // empty value is rejected by every decoder, which is the safe outcome.
    serde_json::to_vec(&wire).unwrap_or_default()
}

/// Encodes a record's value after checking everything a decoder checks (key, owner, ttl,
/// ref, value size), so a client never produces a record that replayers would skip.
pub fn encode_record(key: Option<&str>, op: &Op) -> Result<Vec<u8>, Reject> {
    encode_with_proof(key, op, &Proof::default())
}

/// [`encode_record`] with owner proofs. A proof field the op does not carry is an error
/// (`UnknownField`), as decoding would reject it.
pub fn encode_with_proof(key: Option<&str>, op: &Op, proof: &Proof) -> Result<Vec<u8>, Reject> {
    let record = Record { key: key.map(str::to_owned), op: op.clone(), proof: *proof };
    validate_record(&record)?;
    let value = encode_value_with(op, proof);
    if value.len() > MAX_VALUE_BYTES {
        return Err(Reject::ValueTooLarge);
    }
    Ok(value)
}

/// Decodes one record of the lock topic, strictly. Never panics, whatever the bytes.
///
/// The value is checked first (so a tick needs no key), then, for every op but tick, the key.
pub fn decode_record(key: Option<&[u8]>, value: Option<&[u8]>) -> Result<Record, Reject> {
    let value = value.ok_or(Reject::NullValue)?;
    if value.len() > MAX_VALUE_BYTES {
        return Err(Reject::ValueTooLarge);
    }
    let fields = match serde_json::from_slice::<TopLevel>(value) {
        Ok(TopLevel::Object(fields)) => fields,
        Ok(TopLevel::Other) => return Err(Reject::NotObject),
        Err(_) => return Err(Reject::NotJson),
    };
    let fields = Fields::collect(fields)?;
    let op = fields.op()?;
    let proof = Proof {
        commitment: fields.hex_field("commit")?,
        nonce: fields.hex_field("nonce")?,
        secret: fields.hex_field("secret")?,
    };
    if op == Op::Tick {
        return Ok(Record { key: None, op, proof });
    }
    let key = key.ok_or(Reject::NullKey)?;
    let key = std::str::from_utf8(key).map_err(|_| Reject::KeyNotUtf8)?;
    validate_identifier(key)?;
    Ok(Record { key: Some(key.to_owned()), op, proof })
}

/// Every field name any op has; a name outside this list is rejected before anything else.
const KNOWN_FIELDS: [&str; 13] =
    ["v", "op", "owner", "seq", "ref", "prev", "ttl", "mode", "limit", "weight", "commit", "nonce", "secret"];

/// The fields of a value, by name, with duplicates already refused.
struct Fields {
    entries: Vec<(&'static str, Value)>,
}

impl Fields {
    fn collect(raw: Vec<(String, Value)>) -> Result<Self, Reject> {
        let mut entries: Vec<(&'static str, Value)> = Vec::with_capacity(raw.len());
        for (name, value) in raw {
            let known = KNOWN_FIELDS.iter().find(|known| **known == name).ok_or(Reject::UnknownField)?;
            if entries.iter().any(|(seen, _)| seen == known) {
                return Err(Reject::DuplicateField(known));
            }
            entries.push((known, value));
        }
        Ok(Fields { entries })
    }

    fn get(&self, name: &'static str) -> Result<&Value, Reject> {
        self.entries
            .iter()
            .find(|(field, _)| *field == name)
            .map(|(_, value)| value)
            .ok_or(Reject::MissingField(name))
    }

    fn op(&self) -> Result<Op, Reject> {
        match self.get("v")?.as_u64() {
            Some(1) => {}
            _ => return Err(Reject::BadVersion),
        }
        let name = self.get("op")?.as_str().ok_or(Reject::WrongType("op"))?;
        let allowed: &[&str] = match name {
            "acquire" => &["owner", "seq", "ttl", "mode", "limit", "weight", "commit", "nonce"],
            "renew" => &["owner", "ref", "prev", "ttl", "commit"],
            "release" => &["owner", "ref", "secret"],
            "revoke" => &["owner", "ref"],
            "tick" => &[],
            _ => return Err(Reject::UnknownOp),
        };
        let extra =
            self.entries.iter().any(|(field, _)| *field != "v" && *field != "op" && !allowed.contains(field));
        if extra {
            return Err(Reject::UnknownField);
        }
        let op = match name {
            "acquire" => Op::Acquire {
                owner: self.owner()?,
                seq: self.get("seq")?.as_u64().ok_or(Reject::WrongType("seq"))?,
                ttl: self.ttl()?,
                mode: self.mode()?,
            },
            "renew" => Op::Renew {
                owner: self.owner()?,
                r#ref: self.reference()?,
                prev: self.get("prev")?.as_i64().ok_or(Reject::WrongType("prev"))?,
                ttl: self.ttl()?,
            },
            "release" => Op::Release { owner: self.owner()?, r#ref: self.reference()? },
            "revoke" => Op::Revoke { owner: self.owner()?, r#ref: self.reference()? },
            _ => Op::Tick,
        };
        Ok(op)
    }

    /// An optional proof field: exactly `2 N` lowercase hex digits.
    fn hex_field<const N: usize>(&self, name: &'static str) -> Result<Option<[u8; N]>, Reject> {
        let Ok(value) = self.get(name) else { return Ok(None) };
        let text = value.as_str().ok_or(Reject::WrongType(name))?.as_bytes();
        if text.len() != 2 * N {
            return Err(Reject::WrongType(name));
        }
        let digit = |c: u8| match c {
            b'0'..=b'9' => Ok(c - b'0'),
            b'a'..=b'f' => Ok(c - b'a' + 10),
            _ => Err(Reject::WrongType(name)),
        };
        let mut out = [0u8; N];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = digit(text[2 * i])? << 4 | digit(text[2 * i + 1])?;
        }
        Ok(Some(out))
    }

    fn owner(&self) -> Result<String, Reject> {
        let owner = self.get("owner")?.as_str().ok_or(Reject::WrongType("owner"))?;
        if owner.is_empty() || owner.len() > MAX_OWNER_BYTES {
            return Err(Reject::OwnerInvalid);
        }
        Ok(owner.to_owned())
    }

    fn ttl(&self) -> Result<u64, Reject> {
        let ttl = self.get("ttl")?;
        // An integer out of range (negative, zero, huge) is a range error; a float or a string
        // is a type error.
        if let Some(ttl) = ttl.as_u64() {
            if (1..=MAX_TTL_MS).contains(&ttl) {
                return Ok(ttl);
            }
            return Err(Reject::TtlOutOfRange);
        }
        if ttl.is_i64() {
            return Err(Reject::TtlOutOfRange);
        }
        Err(Reject::WrongType("ttl"))
    }

    /// An acquire's mode: no `mode` for exclusive (one spelling per mode, so every replayer
    /// reads a record alike), `limit` and `weight` only, and always, with `"semaphore"`.
    fn mode(&self) -> Result<Mode, Reject> {
        let Ok(mode) = self.get("mode") else {
            if self.get("limit").is_ok() || self.get("weight").is_ok() {
                return Err(Reject::UnknownField);
            }
            return Ok(Mode::Exclusive);
        };
        match mode.as_str().ok_or(Reject::WrongType("mode"))? {
            "shared" if self.get("limit").is_ok() || self.get("weight").is_ok() => Err(Reject::UnknownField),
            "shared" => Ok(Mode::Shared),
            "semaphore" => {
                let limit = self.bounded("limit", Reject::LimitOutOfRange)?;
                let weight = self.bounded("weight", Reject::WeightOutOfRange)?;
                if limit > MAX_SEMAPHORE_LIMIT {
                    return Err(Reject::LimitOutOfRange);
                }
                if weight > limit {
                    return Err(Reject::WeightOutOfRange);
                }
                Ok(Mode::Weighted { limit, weight })
            }
            _ => Err(Reject::UnknownMode),
        }
    }

    /// A positive `u32` field: any other integer is `out_of_range`, anything else a type error.
    fn bounded(&self, name: &'static str, out_of_range: Reject) -> Result<u32, Reject> {
        let value = self.get(name)?;
        match value.as_u64() {
            Some(n) if n >= 1 => u32::try_from(n).map_err(|_| out_of_range),
            _ if value.is_i64() || value.is_u64() => Err(out_of_range),
            _ => Err(Reject::WrongType(name)),
        }
    }

    fn reference(&self) -> Result<Offset, Reject> {
        let reference = self.get("ref")?;
        match reference.as_i64() {
            Some(r) if r < 0 => Err(Reject::NegativeRef),
            Some(r) => Ok(r),
            None => Err(Reject::WrongType("ref")),
        }
    }
}

/// A JSON document read far enough to tell an object (kept as its fields in order, duplicates
/// included, which `serde_json::Map` would silently merge) from anything else.
enum TopLevel {
    Object(Vec<(String, Value)>),
    Other,
}

impl<'de> Deserialize<'de> for TopLevel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TopLevelVisitor)
    }
}

struct TopLevelVisitor;

impl<'de> Visitor<'de> for TopLevelVisitor {
    type Value = TopLevel;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON document")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TopLevel, A::Error> {
        let mut fields = Vec::new();
        while let Some(entry) = map.next_entry::<String, Value>()? {
            fields.push(entry);
        }
        Ok(TopLevel::Object(fields))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TopLevel, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(TopLevel::Other)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<TopLevel, E> {
        Ok(TopLevel::Other)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<TopLevel, E> {
        Ok(TopLevel::Other)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<TopLevel, E> {
        Ok(TopLevel::Other)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<TopLevel, E> {
        Ok(TopLevel::Other)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<TopLevel, E> {
        Ok(TopLevel::Other)
    }

    fn visit_unit<E: de::Error>(self) -> Result<TopLevel, E> {
        Ok(TopLevel::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(key: Option<&str>, value: &str) -> Result<Record, Reject> {
        decode_record(key.map(str::as_bytes), Some(value.as_bytes()))
    }

    fn acquire(owner: &str, seq: u64, ttl: u64) -> Op {
        Op::Acquire { owner: owner.into(), seq, ttl, mode: Mode::Exclusive }
    }

    #[test]
    fn encodes_exactly_the_model_shape() {
        let cases = [
            (acquire("c1", 3, 250), r#"{"v":1,"op":"acquire","owner":"c1","seq":3,"ttl":250}"#),
            (
                Op::Renew { owner: "c1".into(), r#ref: 17, prev: 1234, ttl: 250 },
                r#"{"v":1,"op":"renew","owner":"c1","ref":17,"prev":1234,"ttl":250}"#,
            ),
            (
                Op::Release { owner: "c1".into(), r#ref: 17 },
                r#"{"v":1,"op":"release","owner":"c1","ref":17}"#,
            ),
            (
                Op::Revoke { owner: "ops".into(), r#ref: 17 },
                r#"{"v":1,"op":"revoke","owner":"ops","ref":17}"#,
            ),
            (Op::Tick, r#"{"v":1,"op":"tick"}"#),
        ];
        for (op, json) in cases {
            assert_eq!(String::from_utf8(encode_value(&op)).unwrap(), json);
            let record = decode(Some("lock"), json).unwrap();
            assert_eq!(record.op, op);
        }
    }

    #[test]
    fn round_trips_awkward_strings_and_extreme_integers() {
        let owner = "o\"w\\n\u{0}e\u{1f512}r";
        let op = Op::Renew { owner: owner.into(), r#ref: i64::MAX, prev: i64::MIN, ttl: MAX_TTL_MS };
        let value = encode_record(Some("k\u{0}ey"), &op).unwrap();
        let record = decode_record(Some("k\u{0}ey".as_bytes()), Some(&value)).unwrap();
        assert_eq!(record.op, op);
        assert_eq!(record.key.as_deref(), Some("k\u{0}ey"));
        let acquire = acquire("p", u64::MAX, 1);
        let value = encode_value(&acquire);
        assert_eq!(decode_record(Some(b"k"), Some(&value)).unwrap().op, acquire);
    }

    #[test]
    fn tick_key_is_ignored() {
        let tick = r#"{"v":1,"op":"tick"}"#;
        assert_eq!(decode(None, tick).unwrap().key, None);
        assert_eq!(decode(Some(""), tick).unwrap().key, None);
        let rec = decode_record(Some(&[0xff, 0xfe]), Some(tick.as_bytes())).unwrap();
        assert_eq!(rec.op, Op::Tick);
    }

    #[test]
    fn rejects_every_malformed_kind() {
        let long_key = "k".repeat(MAX_IDENTIFIER_BYTES + 1);
        let long_owner =
            format!(r#"{{"v":1,"op":"release","owner":"{}","ref":1}}"#, "o".repeat(MAX_OWNER_BYTES + 1));
        let huge = format!(r#"{{"v":1,"op":"tick"{}}}"#, " ".repeat(MAX_VALUE_BYTES));
        let k = Some("lock");
        let cases: Vec<(Option<&str>, &str, Reject)> = vec![
            (k, huge.as_str(), Reject::ValueTooLarge),
            (k, "", Reject::NotJson),
            (k, "{", Reject::NotJson),
            (k, r#"{"v":1,"op":"tick"} x"#, Reject::NotJson),
            (k, r#"{"v":1,"op":"tick"}{}"#, Reject::NotJson),
            (k, "[1,2]", Reject::NotObject),
            (k, "null", Reject::NotObject),
            (k, "\"tick\"", Reject::NotObject),
            (k, "12", Reject::NotObject),
            (k, "true", Reject::NotObject),
            (k, r#"{"v":1,"v":1,"op":"tick"}"#, Reject::DuplicateField("v")),
            (k, r#"{"v":1,"op":"release","owner":"a","ref":1,"ref":2}"#, Reject::DuplicateField("ref")),
            (k, r#"{"v":1,"op":"tick","x":1}"#, Reject::UnknownField),
            (k, r#"{"v":1,"op":"tick","owner":"a"}"#, Reject::UnknownField),
            (k, r#"{"v":1,"op":"acquire","owner":"a","seq":1,"ttl":5,"ref":1}"#, Reject::UnknownField),
            (k, r#"{"op":"tick"}"#, Reject::MissingField("v")),
            (k, r#"{"v":1}"#, Reject::MissingField("op")),
            (k, r#"{"v":1,"op":"acquire","seq":1,"ttl":5}"#, Reject::MissingField("owner")),
            (k, r#"{"v":1,"op":"acquire","owner":"a","ttl":5}"#, Reject::MissingField("seq")),
            (k, r#"{"v":1,"op":"acquire","owner":"a","seq":1}"#, Reject::MissingField("ttl")),
            (k, r#"{"v":1,"op":"renew","owner":"a","ref":1,"ttl":5}"#, Reject::MissingField("prev")),
            (k, r#"{"v":1,"op":"release","owner":"a"}"#, Reject::MissingField("ref")),
            (k, r#"{"v":2,"op":"tick"}"#, Reject::BadVersion),
            (k, r#"{"v":1.0,"op":"tick"}"#, Reject::BadVersion),
            (k, r#"{"v":"1","op":"tick"}"#, Reject::BadVersion),
            (k, r#"{"v":1,"op":7}"#, Reject::WrongType("op")),
            (k, r#"{"v":1,"op":"steal"}"#, Reject::UnknownOp),
            (k, r#"{"v":1,"op":"Tick"}"#, Reject::UnknownOp),
            (k, r#"{"v":1,"op":"acquire","owner":1,"seq":1,"ttl":5}"#, Reject::WrongType("owner")),
            (k, r#"{"v":1,"op":"acquire","owner":"a","seq":-1,"ttl":5}"#, Reject::WrongType("seq")),
            (k, r#"{"v":1,"op":"acquire","owner":"a","seq":1.5,"ttl":5}"#, Reject::WrongType("seq")),
            (k, r#"{"v":1,"op":"acquire","owner":"a","seq":1e3,"ttl":5}"#, Reject::WrongType("seq")),
            (
                k,
                r#"{"v":1,"op":"acquire","owner":"a","seq":18446744073709551616,"ttl":5}"#,
                Reject::WrongType("seq"),
            ),
            (k, r#"{"v":1,"op":"acquire","owner":"a","seq":1,"ttl":"5"}"#, Reject::WrongType("ttl")),
            (k, r#"{"v":1,"op":"acquire","owner":"a","seq":1,"ttl":5.0}"#, Reject::WrongType("ttl")),
            (k, r#"{"v":1,"op":"acquire","owner":"a","seq":1,"ttl":0}"#, Reject::TtlOutOfRange),
            (k, r#"{"v":1,"op":"acquire","owner":"a","seq":1,"ttl":-5}"#, Reject::TtlOutOfRange),
            (k, r#"{"v":1,"op":"acquire","owner":"a","seq":1,"ttl":60001}"#, Reject::TtlOutOfRange),
            (k, r#"{"v":1,"op":"acquire","owner":"","seq":1,"ttl":5}"#, Reject::OwnerInvalid),
            (k, long_owner.as_str(), Reject::OwnerInvalid),
            (k, r#"{"v":1,"op":"release","owner":"a","ref":-1}"#, Reject::NegativeRef),
            (k, r#"{"v":1,"op":"release","owner":"a","ref":"1"}"#, Reject::WrongType("ref")),
            (k, r#"{"v":1,"op":"release","owner":"a","ref":9223372036854775808}"#, Reject::WrongType("ref")),
            (k, r#"{"v":1,"op":"renew","owner":"a","ref":1,"prev":null,"ttl":5}"#, Reject::WrongType("prev")),
            (None, r#"{"v":1,"op":"release","owner":"a","ref":1}"#, Reject::NullKey),
            (Some(""), r#"{"v":1,"op":"release","owner":"a","ref":1}"#, Reject::EmptyKey),
            (Some(long_key.as_str()), r#"{"v":1,"op":"release","owner":"a","ref":1}"#, Reject::KeyTooLong),
        ];
        for (key, value, expected) in cases {
            assert_eq!(decode(key, value), Err(expected), "{value}");
            // Every reason has a human-readable text naming what is wrong.
            assert!(!expected.to_string().is_empty());
        }
        assert_eq!(decode_record(Some(b"k"), None), Err(Reject::NullValue));
        assert_eq!(
            decode_record(Some(&[b'k', 0xc3]), Some(br#"{"v":1,"op":"release","owner":"a","ref":1}"#)),
            Err(Reject::KeyNotUtf8)
        );
        assert_eq!(decode_record(Some(b"k"), Some(&[b'{', 0xff, b'}'])), Err(Reject::NotJson));
    }

    /// One spelling per mode: no `mode` for exclusive, `limit` and `weight` only and always with
    /// `"semaphore"`; every other shape is malformed, so every replayer reads a record alike.
    #[test]
    fn modes_round_trip_and_every_other_shape_is_malformed() {
        let acquire = |mode| Op::Acquire { owner: "a".into(), seq: 1, ttl: 5, mode };
        let modes = [
            (Mode::Exclusive, r#"{"v":1,"op":"acquire","owner":"a","seq":1,"ttl":5}"#),
            (Mode::Shared, r#"{"v":1,"op":"acquire","owner":"a","seq":1,"ttl":5,"mode":"shared"}"#),
            (
                Mode::Weighted { limit: 3, weight: 2 },
                r#"{"v":1,"op":"acquire","owner":"a","seq":1,"ttl":5,"mode":"semaphore","limit":3,"weight":2}"#,
            ),
        ];
        for (mode, wire) in modes {
            assert_eq!(String::from_utf8(encode_value(&acquire(mode))).unwrap(), wire);
            assert_eq!(decode(Some("k"), wire).map(|r| r.op), Ok(acquire(mode)));
        }
        let max = MAX_SEMAPHORE_LIMIT;
        let top = format!(
            r#"{{"v":1,"op":"acquire","owner":"a","seq":1,"ttl":5,"mode":"semaphore","limit":{max},"weight":{max}}}"#
        );
        assert!(decode(Some("k"), &top).is_ok(), "the largest limit and weight are allowed");
        let over = format!(
            r#"{{"v":1,"op":"acquire","owner":"a","seq":1,"ttl":5,"mode":"semaphore","limit":{},"weight":1}}"#,
            max + 1
        );
        let a = r#"{"v":1,"op":"acquire","owner":"a","seq":1,"ttl":5,"#;
        let cases: Vec<(String, Reject)> = vec![
            (format!(r#"{a}"mode":"exclusive"}}"#), Reject::UnknownMode),
            (format!(r#"{a}"mode":"Shared"}}"#), Reject::UnknownMode),
            (format!(r#"{a}"mode":1}}"#), Reject::WrongType("mode")),
            (format!(r#"{a}"limit":3,"weight":1}}"#), Reject::UnknownField),
            (format!(r#"{a}"weight":1}}"#), Reject::UnknownField),
            (format!(r#"{a}"mode":"shared","limit":3}}"#), Reject::UnknownField),
            (format!(r#"{a}"mode":"semaphore","weight":1}}"#), Reject::MissingField("limit")),
            (format!(r#"{a}"mode":"semaphore","limit":3}}"#), Reject::MissingField("weight")),
            (format!(r#"{a}"mode":"semaphore","limit":0,"weight":1}}"#), Reject::LimitOutOfRange),
            (format!(r#"{a}"mode":"semaphore","limit":-3,"weight":1}}"#), Reject::LimitOutOfRange),
            (over, Reject::LimitOutOfRange),
            (format!(r#"{a}"mode":"semaphore","limit":"3","weight":1}}"#), Reject::WrongType("limit")),
            (format!(r#"{a}"mode":"semaphore","limit":3.0,"weight":1}}"#), Reject::WrongType("limit")),
            (format!(r#"{a}"mode":"semaphore","limit":3,"weight":0}}"#), Reject::WeightOutOfRange),
            (format!(r#"{a}"mode":"semaphore","limit":3,"weight":4}}"#), Reject::WeightOutOfRange),
            (format!(r#"{a}"mode":"semaphore","limit":3,"weight":99999999999}}"#), Reject::WeightOutOfRange),
            (
                r#"{"v":1,"op":"renew","owner":"a","ref":1,"prev":1,"ttl":5,"mode":"shared"}"#.into(),
                Reject::UnknownField,
            ),
            (r#"{"v":1,"op":"release","owner":"a","ref":1,"limit":3}"#.into(), Reject::UnknownField),
        ];
        for (value, expected) in cases {
            assert_eq!(decode(Some("k"), &value), Err(expected), "{value}");
            assert!(!expected.to_string().is_empty());
        }
        // Encoding refuses what decoding would reject.
        for mode in [Mode::Weighted { limit: 0, weight: 0 }, Mode::Weighted { limit: 2, weight: 3 }] {
            assert!(encode_record(Some("k"), &acquire(mode)).is_err(), "{mode:?}");
        }
    }

    /// The grant rule's table: who holds with whom.
    #[test]
    fn modes_admit_only_what_can_hold_together() {
        let w = |limit, weight| Mode::Weighted { limit, weight };
        assert_eq!(Mode::Exclusive.admits(Held::Nothing), Some(Held::Exclusive));
        assert_eq!(Mode::Exclusive.admits(Held::Shared), None);
        assert_eq!(Mode::Exclusive.admits(Held::Exclusive), None);
        assert_eq!(Mode::Shared.admits(Held::Shared), Some(Held::Shared));
        assert_eq!(Mode::Shared.admits(Held::Exclusive), None);
        assert_eq!(Mode::Shared.admits(Held::Weighted { limit: 9, used: 1 }), None);
        assert_eq!(w(3, 2).admits(Held::Nothing), Some(Held::Weighted { limit: 3, used: 2 }));
        assert_eq!(
            w(3, 1).admits(Held::Weighted { limit: 3, used: 2 }),
            Some(Held::Weighted { limit: 3, used: 3 })
        );
        assert_eq!(w(3, 2).admits(Held::Weighted { limit: 3, used: 2 }), None, "over the limit");
        assert_eq!(w(4, 1).admits(Held::Weighted { limit: 3, used: 1 }), None, "another limit");
        assert_eq!(w(3, 1).admits(Held::Shared), None);
        assert_eq!(w(3, 1).admits(Held::Exclusive), None);
        assert!(Mode::Shared.compatible_kind(Mode::Exclusive));
        assert!(w(3, 1).compatible_kind(w(3, 3)));
        assert!(!w(3, 1).compatible_kind(w(4, 1)));
        assert!(!w(1, 1).compatible_kind(Mode::Exclusive));
    }

    #[test]
    fn limits_are_inclusive() {
        let max_key = "k".repeat(MAX_IDENTIFIER_BYTES);
        let max_owner = "o".repeat(MAX_OWNER_BYTES);
        let op = acquire(&max_owner, 0, MAX_TTL_MS);
        let value = encode_record(Some(&max_key), &op).unwrap();
        assert!(value.len() <= MAX_VALUE_BYTES);
        assert_eq!(decode_record(Some(max_key.as_bytes()), Some(&value)).unwrap().op, op);
        // Whitespace padding up to exactly the limit is still accepted.
        let mut padded = br#"{"v":1,"op":"tick"}"#.to_vec();
        padded.resize(MAX_VALUE_BYTES, b' ');
        assert!(decode_record(None, Some(&padded)).is_ok());
    }

    #[test]
    fn identifiers() {
        assert_eq!(validate_identifier(""), Err(Reject::EmptyKey));
        assert_eq!(validate_identifier(&"x".repeat(MAX_IDENTIFIER_BYTES + 1)), Err(Reject::KeyTooLong));
        // Multi-byte characters count in bytes, not characters.
        assert_eq!(validate_identifier(&"é".repeat(MAX_IDENTIFIER_BYTES / 2 + 1)), Err(Reject::KeyTooLong));
        assert_eq!(validate_identifier(&"é".repeat(MAX_IDENTIFIER_BYTES / 2)), Ok(()));
        assert_eq!(validate_identifier("a\u{0}b"), Ok(()));
    }

    #[test]
    fn encode_record_refuses_what_decoders_reject() {
        assert_eq!(encode_record(None, &acquire("a", 1, 5)), Err(Reject::NullKey));
        assert_eq!(encode_record(Some(""), &acquire("a", 1, 5)), Err(Reject::EmptyKey));
        assert_eq!(encode_record(Some("k"), &acquire("", 1, 5)), Err(Reject::OwnerInvalid));
        assert_eq!(encode_record(Some("k"), &acquire("a", 1, 0)), Err(Reject::TtlOutOfRange));
        let release = Op::Release { owner: "a".into(), r#ref: -3 };
        assert_eq!(encode_record(Some("k"), &release), Err(Reject::NegativeRef));
        assert!(encode_record(None, &Op::Tick).is_ok());
    }

    #[test]
    fn proofs_round_trip_where_their_op_has_them() {
        let proof = Proof { commitment: Some([0xab; 32]), nonce: Some([0x01; 16]), secret: None };
        let value = encode_with_proof(Some("k"), &acquire("a", 1, 5), &proof).unwrap();
        let text = String::from_utf8(value.clone()).unwrap();
        assert!(
            text.ends_with(&format!(r#""commit":"{}","nonce":"{}"}}"#, "ab".repeat(32), "01".repeat(16))),
            "{text}"
        );
        assert_eq!(decode(Some("k"), &text).unwrap().proof, proof);
        let secret = Proof { secret: Some([0xfe; 32]), ..Proof::default() };
        let release = Op::Release { owner: "a".into(), r#ref: 3 };
        let value = encode_with_proof(Some("k"), &release, &secret).unwrap();
        assert_eq!(decode_record(Some(b"k"), Some(&value)).unwrap().proof, secret);
        // A proof on an op that has no such field is refused on both sides.
        assert_eq!(encode_with_proof(Some("k"), &release, &proof), Err(Reject::UnknownField));
        assert_eq!(encode_with_proof(None, &Op::Tick, &secret), Err(Reject::UnknownField));
        let secret_on_acquire =
            format!(r#"{{"v":1,"op":"acquire","owner":"a","seq":1,"ttl":5,"secret":"{}"}}"#, "00".repeat(32));
        assert_eq!(decode(Some("k"), &secret_on_acquire), Err(Reject::UnknownField));
        // The Ed25519 fields of builds before commitments are refused, not ignored.
        let old = format!(r#"{{"v":1,"op":"release","owner":"a","ref":1,"sig":"{}"}}"#, "00".repeat(64));
        assert_eq!(decode(Some("k"), &old), Err(Reject::UnknownField));
    }

    #[test]
    fn proof_fields_must_be_exact_lowercase_hex() {
        let with_commit =
            |c: &str| format!(r#"{{"v":1,"op":"renew","owner":"a","ref":1,"prev":2,"ttl":5,"commit":{c}}}"#);
        for bad in [
            format!("\"{}\"", "AB".repeat(32)),  // upper case
            format!("\"{}\"", "ab".repeat(31)),  // too short
            format!("\"{}\"", "ab".repeat(33)),  // too long
            format!("\"{}g\"", "ab".repeat(31)), // not hex
            "123".to_owned(),                    // not a string
        ] {
            assert_eq!(decode(Some("k"), &with_commit(&bad)), Err(Reject::WrongType("commit")), "{bad}");
        }
        assert!(decode(Some("k"), &with_commit(&format!("\"{}\"", "0f".repeat(32)))).is_ok());
    }

    #[test]
    fn a_commitment_is_the_sha256_of_its_secret() {
        // SHA-256 of 32 zero bytes (FIPS 180-4; e.g. `head -c 32 /dev/zero | sha256sum`).
        let expected = "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925";
        assert_eq!(hex(commitment_of(&[0; 32])), expected);
        assert_ne!(commitment_of(&[0; 32]), commitment_of(&[1; 32]));
    }
}
