#!/usr/bin/env bash
# The hygiene gate of `make test`: the helper crates' lock files in step with the root's (a drift
# rebuilds librdkafka), rustfmt (width in rustfmt.toml) and clippy with warnings as errors, for the
# extension and for every helper crate.
# Helper crates share target/, so their dependencies are built once.
#   scripts/lint.sh               everything (make lint)
#   scripts/lint.sh --extension   rustfmt for every crate, clippy for the extension only (make test,
#                                 which must stay under 15 minutes: the helpers' passes took 91 s)
set -euo pipefail
cd "$(dirname "$0")/.."
HELPERS=(bench/kafka-floor chaos/rdcheck cli fuzz)

echo "== helper crates' Cargo.lock against the root's"
python3 scripts/check_lockfiles.py

echo "== cargo fmt --check"
cargo fmt --check
for crate in "${HELPERS[@]}"; do (cd "$crate" && cargo fmt --check); done

echo "== cargo clippy --all-targets -- -D warnings"
# With the default features only: the PHP binding is a feature that adds code and removes none
# (nothing is cfg(not(feature = "php"))), so this pass covers the build without it too.
cargo clippy --release --all-targets --quiet -- -D warnings
[ "${1:-}" = --extension ] && { echo "== lint: clean (helper crates' clippy: make lint)"; exit 0; }
for crate in "${HELPERS[@]}"; do
    cargo clippy --release --all-targets --quiet --manifest-path "$crate/Cargo.toml" --target-dir target -- -D warnings
done
echo "== lint: clean"
