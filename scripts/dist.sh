#!/usr/bin/env bash
# `make dist`: the built extension as a pre-built binary archive, named the way PIE (php/pie,
# "download-url-method": "pre-packaged-binary", PIE 1.4 and later) looks for it among a GitHub
# release's assets, and the way php/pie-ext-binary-builder names it:
#   php_kafka_lock-<version>_php<major.minor>-<arch>-<os>-<libc>[-debug][-zts].zip
#   e.g. dist/php_kafka_lock-0.1.0_php8.2-x86_64-linux-glibc.zip  (+ .sha256)
# holding kafka_lock.so (stripped) at its root, LICENSE and README.txt. <version> is Cargo.toml's,
# and must be the release's git tag as written (PIE puts the tag there): tag 0.1.0, not v0.1.0,
# or set DIST_VERSION. The PHP is the one of php-config (PHP_CONFIG), which `make build` used.
#
# Reproducible: the same .so gives the same archive, byte for byte. Entries are sorted, carry
# the time SOURCE_DATE_EPOCH (default: the last commit's), fixed permissions and no extra
# fields; deflate level 9 (the same zlib gives the same bytes). README.txt names the commit.
#
#   scripts/dist.sh [SO [OUT_DIR]]    SO: target/release/libkafka_lock.so, OUT_DIR: dist/
# Prints the archive's path on its last line.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SO=${1:-$ROOT/target/release/libkafka_lock.so}
OUT=${2:-$ROOT/dist}
PHP_CONFIG_BIN=${PHP_CONFIG:-php-config}
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || PYTHON=python3
die() { printf 'dist: error: %s\n' "$*" >&2; exit 1; }

[ -f "$SO" ] || die "$SO not found: build it first (make build)"
command -v strip >/dev/null || die "strip not found (Debian: binutils, part of build-essential)"
VERSION=${DIST_VERSION:-$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n 1)}
[ -n "$VERSION" ] || die "no version in Cargo.toml"
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null) || die "not a git checkout: set SOURCE_DATE_EPOCH"
fi
# README.txt names the commit (DIST_COMMIT overrides it); a build from changed sources is not
# the commit's, and it says so.
COMMIT=${DIST_COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
if [ -z "${DIST_COMMIT:-}" ] && [ "$COMMIT" != unknown ] \
    && [ -n "$(git status --porcelain -- src Cargo.toml Cargo.lock 2>/dev/null)" ]; then
  COMMIT="$COMMIT (with uncommitted changes to src/, Cargo.toml or Cargo.lock)"
fi

# The target platform, as PIE names it (lower case).
PHP_BIN=$("$PHP_CONFIG_BIN" --php-binary)
PHP_MM=$("$PHP_CONFIG_BIN" --version | cut -d. -f1,2)
DEBUG=$("$PHP_BIN" -n -r 'echo PHP_DEBUG ? "-debug" : "";')
TS=$("$PHP_BIN" -n -r 'echo PHP_ZTS ? "-zts" : "";')
case "$(uname -m)" in
  x86_64 | amd64) ARCH=x86_64 ;;
  aarch64 | arm64) ARCH=arm64 ;;
  i?86) ARCH=x86 ;;
  *) die "architecture $(uname -m) has no PIE name" ;;
esac
case "$(uname -s)" in
  Linux) OS=linux ;;
  *) die "only Linux is packaged (composer.json: os-families linux)" ;;
esac
if ldd --version 2>&1 | grep -qi musl; then LIBC=musl; else LIBC=glibc; fi
NAME=$(printf 'php_kafka_lock-%s_php%s-%s-%s-%s%s%s' "$VERSION" "$PHP_MM" "$ARCH" "$OS" "$LIBC" "$DEBUG" "$TS" | tr 'A-Z' 'a-z')

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# --strip-unneeded: the debug info and the static symbol table go, the dynamic symbols PHP needs
# (get_module) stay.
strip --strip-unneeded -o "$WORK/kafka_lock.so" "$SO"
"$PHP_BIN" -n -d "extension=$WORK/kafka_lock.so" -r 'exit(class_exists("DistributedLock", false) ? 0 : 1);' \
  || die "the stripped kafka_lock.so does not load into $PHP_BIN"
cp LICENSE "$WORK/LICENSE"
NEEDED=$(readelf -d "$WORK/kafka_lock.so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ' | sed 's/ $//')
GLIBC=$(objdump -T "$WORK/kafka_lock.so" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n 1 || true)
cat >"$WORK/README.txt" <<EOF
kafka_lock $VERSION: a distributed lock over Apache Kafka, a PHP extension written in Rust.
Built for PHP $PHP_MM$( [ -n "$TS" ] && echo ' ZTS' || echo ' NTS')${DEBUG:+ debug}, $ARCH $OS ($LIBC), from commit $COMMIT.
kafka_lock.so sha256: $(sha256sum "$WORK/kafka_lock.so" | cut -d' ' -f1)

Install: copy kafka_lock.so into \`php-config --extension-dir\` and add extension=kafka_lock
to PHP's ini files (or let PIE do both: pie install kafka-lock/kafka_lock).
Shared libraries it needs: $NEEDED
${GLIBC:+(glibc $GLIBC or newer); }librdkafka is linked in statically. Documentation: README.md of
the source repository.
EOF

mkdir -p "$OUT"
"$PYTHON" - "$WORK" "$OUT/$NAME.zip" "$SOURCE_DATE_EPOCH" <<'PY'
import os, sys, time, zipfile
src, dest, epoch = sys.argv[1], sys.argv[2], int(sys.argv[3])
stamp = time.gmtime(max(epoch, 315532800))[:6]  # zip (DOS) times start in 1980
tmp = dest + ".tmp"
with zipfile.ZipFile(tmp, "w") as z:
    for name in sorted(["LICENSE", "README.txt", "kafka_lock.so"]):
        info = zipfile.ZipInfo(name, date_time=stamp)
        info.create_system = 3  # Unix, so external_attr holds the mode
        info.external_attr = (0o100644 << 16)
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(os.path.join(src, name), "rb") as f:
            z.writestr(info, f.read(), compresslevel=9)
os.replace(tmp, dest)
PY
(cd "$OUT" && sha256sum "$NAME.zip" >"$NAME.zip.sha256")
echo "dist: $(du -h "$OUT/$NAME.zip" | cut -f1) $(cut -d' ' -f1 "$OUT/$NAME.zip.sha256") (kafka_lock.so $(du -h "$WORK/kafka_lock.so" | cut -f1) stripped, from $(du -h "$SO" | cut -f1))"
echo "$OUT/$NAME.zip"
