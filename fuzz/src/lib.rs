//! The fuzz targets' bodies, as functions: `fuzz_targets/*.rs` hand them libFuzzer's inputs
//! (`cargo +nightly fuzz run client`), and `tests/smoke.rs` runs them on pseudo-random inputs
//! on stable Rust in `make test`, so a broken invariant fails there too.

pub mod client;

/// A fuzz input read from the front.
pub struct Bytes<'a>(pub &'a [u8]);

impl Bytes<'_> {
    /// The next byte, if any.
    pub fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    /// The next two bytes as a little-endian u16, if there are two.
    pub fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes([self.byte()?, self.byte()?]))
    }
}
