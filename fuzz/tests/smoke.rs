//! Runs the fuzz targets' bodies on pseudo-random inputs on stable Rust (part of `make test`);
//! libFuzzer explores further with `cargo +nightly fuzz run client`.

use kafka_lock_protocol_fuzz::client;

#[test]
fn the_client_target_holds_on_random_inputs() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let (mut runs_with_holds, mut trusted_checks, mut runs_with_snapshots, mut runs_with_ended_holds) =
        (0, 0, 0, 0);
    for _ in 0..20_000 {
        let len = (next(&mut state) % 400) as usize;
        let data: Vec<u8> = (0..len).map(|_| next(&mut state) as u8).collect();
        let coverage = client::run(&data);
        runs_with_holds += usize::from(coverage.trusted_checks > 0);
        trusted_checks += coverage.trusted_checks;
        runs_with_snapshots += usize::from(coverage.ready_inspections > 0);
        runs_with_ended_holds += usize::from(coverage.holds_ended > 0);
    }
    eprintln!(
        "{runs_with_holds} of 20000 runs reached a trusted hold ({trusted_checks} checks), \
         {runs_with_snapshots} a ready inspection, {runs_with_ended_holds} a hold handed over and ended \
         (stats checked)"
    );
    assert!(runs_with_ended_holds > 200, "random inputs rarely end a hold: {runs_with_ended_holds}");
    assert!(runs_with_holds > 1_000, "random inputs rarely reach a hold: {runs_with_holds}");
    assert!(
        runs_with_snapshots > 1_000,
        "random inputs rarely reach a ready inspection: {runs_with_snapshots}"
    );
}

/// xorshift64*: enough to spread the inputs; deterministic so a failure reproduces.
fn next(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_f491_4f6c_dd1d)
}
