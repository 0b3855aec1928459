//! The fuzz targets' bodies, as functions: `fuzz_targets/*.rs` hand them libFuzzer's inputs
//! (`cargo +nightly fuzz run client`), and `tests/smoke.rs` runs them on pseudo-random inputs
//! on stable Rust in `make test`, so a broken invariant fails there too.

pub mod client;
