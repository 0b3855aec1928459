//! Which partition of the lock topic a lock lives on.
//!
//! Kafka's Java producer places a keyed record on `toPositive(murmur2(key)) % partitions`.
//! We use the same rule so every tool that writes or reads the lock topic (a Java consumer,
//! `kcat`, another client library with the Java partitioner) agrees on where a lock lives.

/// Kafka's `Utils.murmur2`: 32-bit MurmurHash2 with seed `0x9747b28c`, bytes read
/// little-endian in blocks of four, result reinterpreted as a signed Java `int`.
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const MIX: u32 = 0x5bd1_e995;
    const SHIFT: u32 = 24;

    // Java computes `seed ^ length` on ints; the length of a byte[] always fits in an int,
    // and truncating to 32 bits gives the same bits for any longer slice.
    let mut hash = SEED ^ (data.len() as u32);

    let mut blocks = data.chunks_exact(4);
    for block in &mut blocks {
        let mut k = u32::from_le_bytes([block[0], block[1], block[2], block[3]]);
        k = k.wrapping_mul(MIX);
        k ^= k >> SHIFT;
        k = k.wrapping_mul(MIX);
        hash = hash.wrapping_mul(MIX);
        hash ^= k;
    }

    // The tail: Java's switch falls through from 3 to 2 to 1.
    let tail = blocks.remainder();
    if tail.len() >= 3 {
        hash ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        hash ^= u32::from(tail[1]) << 8;
    }
    if !tail.is_empty() {
        hash ^= u32::from(tail[0]);
        hash = hash.wrapping_mul(MIX);
    }

    hash ^= hash >> 13;
    hash = hash.wrapping_mul(MIX);
    hash ^= hash >> 15;
    hash as i32
}

/// The partition the Java producer's default partitioner picks for `key`:
/// `(murmur2(key) & 0x7fffffff) % partitions`.
///
/// A topic always has at least one partition; `partitions == 0` returns 0 rather than
/// dividing by zero, so a caller's bug cannot panic here.
pub fn partition_for(key: &[u8], partitions: u32) -> i32 {
    if partitions == 0 {
        return 0;
    }
    let positive = (murmur2(key) & 0x7fff_ffff) as u32;
    // The remainder is below `partitions` and below 2^31, so it fits an i32.
    (positive % partitions) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vectors of Kafka's own `UtilsTest.testMurmur2` (clients module).
    #[test]
    fn matches_kafka_utils_test_vectors() {
        let cases: [(&[u8], i32); 6] = [
            (b"21", -973_932_308),
            (b"foobar", -790_332_482),
            (b"a-little-bit-long-string", -985_981_536),
            (b"a-little-bit-longer-string", -1_486_304_829),
            (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58_897_971),
            (b"abc", 479_470_107),
        ];
        for (input, expected) in cases {
            assert_eq!(murmur2(input), expected, "murmur2({input:?})");
        }
    }

    #[test]
    fn every_tail_length_is_hashed() {
        // Lengths 0..=7 exercise every tail case twice; distinct inputs must not collide here.
        let hashes: Vec<i32> = (0..8).map(|n| murmur2(&b"abcdefgh"[..n])).collect();
        for (i, a) in hashes.iter().enumerate() {
            for b in &hashes[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn partition_is_java_to_positive_modulo() {
        // murmur2("21") is negative: toPositive masks the sign bit, it does not negate.
        let expected = ((-973_932_308_i32 & 0x7fff_ffff) as u32 % 16) as i32;
        assert_eq!(partition_for(b"21", 16), expected);
        for partitions in 1..50 {
            let p = partition_for(b"some-lock", partitions);
            assert!(p >= 0 && (p as u32) < partitions);
        }
        assert_eq!(partition_for(b"x", 1), 0);
        assert_eq!(partition_for(b"x", 0), 0);
        assert!(partition_for(b"x", u32::MAX) >= 0);
    }
}
