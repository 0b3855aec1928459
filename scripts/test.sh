#!/usr/bin/env bash
# The README's test command (`make test` runs this after set-up, build and broker start):
# the Rust tests, then the phpt suite, against the live broker on localhost:9092 (and the
# secure_*.phpt tests against the secure broker of `make kafka-secure-start`).
# Exits non-zero on any failure; a skipped or XFAIL phpt counts as a failure (nothing is skipped
# silently), and so does a cargo run that ran no tests.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .run
EXT="$PWD/target/release/libkafka_lock.so"
RUN_TESTS=/usr/lib/php/20220829/build/run-tests.php
status=0

echo "== cargo test: protocol core, session layer, integration tests against localhost:9092"
# The property tests draw their scenarios from this seed, so a CI failure replays exactly
# (unset it, or pick another, to explore new scenarios locally).
export PROPTEST_RNG_SEED="${PROPTEST_RNG_SEED:-20261201}"
# One broker test spends a join window (70 s) asleep; it runs beside the CPU-bound tests instead
# of before them (make test must stay under CI's 15 minutes).
SLEEPER=a_joiner_reads_the_acquire_behind_a_renew_forged_under_another_lock
sleeper_bin=$(cargo test --release --no-default-features --test broker_session --no-run 2>&1 \
    | sed -nE 's/^ *Executable .*\((target\/[^)]*)\)$/\1/p')
[ -x "$sleeper_bin" ] || { echo "no broker_session test binary"; status=1; }
"$sleeper_bin" --exact "$SLEEPER" > .run/cargo-test-sleeper.log 2>&1 &
sleeper_pid=$!
if ! cargo test --release --no-default-features -- --skip "$SLEEPER" 2>&1 | tee .run/cargo-test.log | grep -E '^(test result|running|error|failures:|    [a-z_:]+$|thread .* panicked)'; then
    status=1
fi
wait "$sleeper_pid" || status=1
echo "== cargo test: $SLEEPER (ran beside the tests above)"
tee -a .run/cargo-test.log < .run/cargo-test-sleeper.log | grep -E '^(test result|failures:|thread .* panicked)'
# Forging writers under one more fixed seed: 8 found a holder's trust shifted by copies of its
# renewals (docs/protocol.md); about 17 s. Seeds 2 and 3, which found the last two faults of the
# joiners' rules, no longer replay those scenarios since the simulation changed; unit tests pin
# both faults (make test must stay under CI's 15 minutes).
for seed in 8; do
    echo "== cargo test: forging writers, PROPTEST_RNG_SEED=$seed"
    if ! PROPTEST_RNG_SEED=$seed cargo test --release --no-default-features --test protocol_properties forging_writers 2>&1 \
        | tee -a .run/cargo-test.log | grep -E '^(test result|error|failures:|thread .* panicked)'; then
        status=1
    fi
done
echo "== cargo test: the fuzz targets' bodies on pseudo-random inputs (fuzz/tests/smoke.rs)"
cargo test --release --manifest-path fuzz/Cargo.toml --target-dir target 2>&1 | tee -a .run/cargo-test.log \
    | grep -E '^(test result|error|thread .* panicked)'
grep -q '^error' .run/cargo-test.log && status=1
grep -qE '^test result: FAILED' .run/cargo-test.log && status=1
# A cargo run that ran no test at all (a filter, a feature or a target gone missing) is a failure.
cargo_passed=$(sed -nE 's/^test result: ok\. ([0-9]+) passed.*/\1/p' .run/cargo-test.log | awk '{ n += $1 } END { print n + 0 }')
echo "cargo tests passed: $cargo_passed"
[ "$cargo_passed" -gt 0 ] || { echo "cargo ran no tests"; status=1; }

echo "== stubs: php -l, composer validate --strict"
php -n -l stubs/kafka_lock.stub.php || status=1
composer validate --strict --no-check-publish --quiet || { echo "composer validate failed"; status=1; }

echo "== phpt suite ($RUN_TESTS), two at a time"
# Two workers: most tests wait on the broker, so two at a time took 119 s where one took 184 s
# (make test must stay under CI's 15 minutes). A test that pauses the shared broker, or counts
# lease samples with a 1 s lease, says --CONFLICTS-- all and runs alone at the end.
NO_INTERACTION=1 TEST_PHP_EXECUTABLE="$(command -v php)" \
    php -n "$RUN_TESTS" -j2 -q --no-color -n -d "extension=$EXT" --show-diff php-tests/ 2>&1 | tee .run/phpt.log \
    | sed -n '/^Number of tests/,/^=====*$/p;/^FAIL/p;/^XFAIL/p;/^SKIP/p;/^BORK/p;/^LEAK/p;/^WARN/p;/\]WARN /p'
grep -qE '^Tests failed *: *[1-9]' .run/phpt.log && status=1
grep -qE '^Tests skipped *: *[1-9]' .run/phpt.log && { echo "skipped phpt tests count as failures"; status=1; }
# run-tests.php reruns a failed test that mentions sleep/hrtime and calls a pass on the rerun
# a warning: a flaky test is a failing test here.
grep -qE '^Tests warned *: *[1-9]' .run/phpt.log && { echo "phpt tests that passed only on a rerun count as failures"; status=1; }
# An expected failure (--XFAIL--) is a failure here too: a known bug is fixed, not filed in the suite.
grep -qE '^(Expected fail *: *[1-9]|XFAIL)' .run/phpt.log && { echo "XFAIL phpt tests count as failures"; status=1; }
grep -qE '^Tests passed *: *[1-9]' .run/phpt.log || { echo "no phpt test passed"; status=1; }
grep -q '^BORK' .run/phpt.log && status=1

echo "== symfony/: KafkaStore and KafkaSemaphoreStore under Symfony's own store tests (PHPUnit)"
composer validate --strict --no-check-publish --quiet symfony/composer.json || { echo "composer validate symfony/ failed"; status=1; }
# Skips are allowed for these tests only, each skipped with its reason in the test class and in
# symfony/README.md (they assume a lock ends when its Symfony TTL passes, or a Redis message).
SYMFONY_SKIPS="testExpiration testRefreshLock testAbortAfterExpiration testPutOffExpirationWhenSaveHasNotBeenCalled"
php -d "extension=$EXT" /usr/bin/phpunit -c symfony/phpunit.xml.dist \
    --log-junit .run/symfony-junit.xml > .run/symfony.log 2>&1 || { cat .run/symfony.log; status=1; }
tail -n 3 .run/symfony.log
python3 - "$SYMFONY_SKIPS" .run/symfony-junit.xml <<'PY' || status=1
import sys, xml.etree.ElementTree as ET
allowed = set(sys.argv[1].split())
cases = list(ET.parse(sys.argv[2]).iter("testcase"))
skipped = {c.get("name") for c in cases if c.find("skipped") is not None}
print(f"symfony/: {len(cases)} tests, skipped: {' '.join(sorted(skipped)) or 'none'}")
if not cases or skipped - allowed:
    sys.exit(f"symfony/: skipped without a documented reason: {sorted(skipped - allowed)}")
PY

if [ "$status" -eq 0 ]; then echo "== make test: all passed"; else echo "== make test: FAILED (logs in .run/)"; fi
exit "$status"
