#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian 12 machine; quick on reruns.
#  1. Debian packages that are missing (apt-get update only when one is missing).
#  2. Apache Kafka's jars from Maven Central (kafka/pom.xml) into .cache/kafka/libs,
#     skipped while the stamp matches the pom's hash.
# Runs as root (CI) or through sudo when available.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/packages.sh
. "$ROOT/scripts/packages.sh"
cd "$ROOT"

# The one list of Debian packages the project needs (build, tests, broker).
DEB_PACKAGES=(
  php8.2-cli php8.2-dev        # PHP 8.2 + php-config/headers for ext-php-rs, run-tests.php
  libclang-dev clang           # bindgen (ext-php-rs)
  build-essential pkg-config   # C toolchain for the bundled librdkafka
  python3                      # scripts/kafka_ready.py
  openjdk-17-jre-headless      # runs the Kafka broker (Java 17+)
  maven                        # fetches the Kafka jars from Maven Central
  zlib1g-dev                   # rdkafka feature "libz"
  libssl-dev                   # rdkafka feature "ssl" (TLS, SASL SCRAM) for production clusters
  composer                     # composer validate --strict of the stub package
  procps                       # ps, used by scripts/kafka.sh status
  openssl                      # the secure test broker's CA and certificates (scripts/kafka.sh)
  kcat                         # phpt tests that read and forge raw lock records
  faketime                     # make chaos, scenario skew: one cluster node's wall clock ahead (libfaketime)
  php8.2-fpm nginx-light apache2-utils   # make fpm-test: a real php-fpm master behind nginx, loaded with ab
  phpunit php-symfony-lock php-symfony-semaphore   # symfony/: the Kafka stores under Symfony's own store tests (5.4)
  python3-prometheus-client   # example_metrics.phpt parses (with Debian's /usr/bin/python3) examples/metrics.php's output with Prometheus' own parser
)

log() { printf 'setup: %s\n' "$*"; }

# ---- 1. Debian packages -------------------------------------------------------
install_missing_packages log "${DEB_PACKAGES[@]}"

# The Rust toolchain (cargo, rustc >= the crates' MSRV) comes with the machine image:
# Debian's cargo is too old for ext-php-rs, and rustup is not reachable from here.
if command -v cargo >/dev/null 2>&1; then
  log "Rust: $(cargo --version)"
else
  log "warning: cargo is not on PATH (needed by make build/test)"
fi

# ---- 2. Kafka jars ----------------------------------------------------------------
KAFKA_CACHE="$ROOT/.cache/kafka"
LIBS="$KAFKA_CACHE/libs"
STAMP="$KAFKA_CACHE/libs.stamp"
want="$(sha256sum kafka/pom.xml | cut -d' ' -f1)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -d "$LIBS" ]; then
  log "Kafka jars: $(ls "$LIBS" | wc -l) cached in .cache/kafka/libs (pom unchanged), skipping Maven"
else
  log "Kafka jars: fetching with Maven (kafka/pom.xml)"
  start=$(date +%s)
  rm -rf "$LIBS.tmp" "$STAMP"
  mkdir -p "$KAFKA_CACHE"
  if ! mvn -B -Dstyle.color=never -f kafka/pom.xml dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$LIBS.tmp" >"$KAFKA_CACHE/mvn.log" 2>&1; then
    tail -n 60 "$KAFKA_CACHE/mvn.log" >&2
    echo "setup: Maven failed (full log: .cache/kafka/mvn.log)" >&2
    exit 1
  fi
  rm -rf "$LIBS"
  mv "$LIBS.tmp" "$LIBS"
  echo "$want" >"$STAMP"
  log "Kafka jars: $(ls "$LIBS" | wc -l) jars in .cache/kafka/libs ($(( $(date +%s) - start )) s)"
fi
