#!/usr/bin/env bash
# make test's check of PHP's own build route (ext/config.m4, ext/Makefile.frag), the one PIE runs:
#   cd ext && phpize && ./configure --with-php-config=... && make && make install
# on a copy of the checkout (the files git tracks or would track, as they are in the working tree),
# with `make install INSTALL_ROOT=<temp dir>`: nothing is installed into this machine's PHP. Then:
# - the staged kafka_lock.so loads with `php -n -d extension=...` and DistributedLock exists;
# - `make install` only copied: it ran with CARGO=false and still succeeded;
# - the extension folder of this PHP holds the same kafka_lock files as before;
# - ./configure fails, with a message saying so, without cargo on the PATH and with a rustc older
#   than the minimum config.m4 states.
#
# Speed: cargo builds into target/phpize-test/ (PHPIZE_TEST_DIR), seeded with a copy of
# target/release (the `make build` that make test runs first) when it is missing or was seeded
# for another Cargo.lock or rustc. It cannot simply share target/release: Makefile.frag passes
# PHP_CONFIG and PHP to cargo, ext-php-rs reruns its build script when they change, and a shared
# target/ would flip between the two builds. So the first run here recompiles ext-php-rs and the
# crate (about a minute on 2 cores); the copy of the sources lives at a fixed path with the
# checkout's file times, so a later run recompiles the crate only when a source changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

DIR=${PHPIZE_TEST_DIR:-$ROOT/target/phpize-test}
SEED=${PHPIZE_TEST_SEED:-$ROOT/target/release}
PHP_CONFIG_BIN=$(command -v "${PHP_CONFIG:-php-config}") || { echo "phpize_test: php-config not found" >&2; exit 1; }
EXT_DIR=$("$PHP_CONFIG_BIN" --extension-dir)
SRC=$DIR/src
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
failed=0
start=$(date +%s)

check() { # DESCRIPTION COMMAND...: runs the command, records a failure
  local what=$1; shift
  if "$@" >"$STAGE/check.log" 2>&1; then echo "  ok: $what"; else echo "  FAILED: $what" >&2; tail -n 20 "$STAGE/check.log" >&2; failed=1; fi
}
ext_files() { find "$EXT_DIR" -maxdepth 1 -name 'kafka_lock*' -printf '%p %s %T@\n' 2>/dev/null | sort; }

echo "== phpize route: a copy of the checkout in $SRC"
# Seed cargo's target folder from the main build (a copy: cargo rewrites files in place, so hard
# links would let this build change target/release under the main build's feet).
stamp="$(sha256sum Cargo.lock | cut -d' ' -f1) $(rustc -vV 2>/dev/null | sed -n 's/^commit-hash: //p')"
if [ ! -d "$DIR/release" ] || [ "$(cat "$DIR/seed.stamp" 2>/dev/null)" != "$stamp" ]; then
  [ -d "$SEED/deps" ] || { echo "phpize_test: $SEED has no build to seed from: run make build first" >&2; exit 1; }
  rm -rf "$DIR/release"
  mkdir -p "$DIR"
  cp -a "$SEED" "$DIR/release"
  echo "$stamp" >"$DIR/seed.stamp"
  echo "  seeded $DIR/release from $SEED ($(du -sh "$DIR/release" | cut -f1))"
fi
rm -rf "$SRC"
mkdir -p "$SRC"
# tar keeps the files' times, so cargo sees unchanged sources as unchanged.
git ls-files -z --cached --others --exclude-standard \
  | while IFS= read -r -d '' f; do if [ -e "$f" ]; then printf '%s\0' "$f"; fi; done \
  | tar --null -T - -cf - | tar -xf - -C "$SRC"
[ -f "$SRC/ext/config.m4" ] || { echo "phpize_test: ext/config.m4 is not in the copy" >&2; exit 1; }

before=$(ext_files)
cd "$SRC/ext"
echo "== phpize"
phpize >"$STAGE/phpize.log" 2>&1 || { cat "$STAGE/phpize.log" >&2; exit 1; }

echo "== ./configure: the checks fail loudly"
# A PATH without cargo: every folder of PATH that has no cargo in it (rustup's ~/.cargo/bin here;
# with a cargo in /usr/bin this would drop the C compiler too, and the check would say so).
nocargo_path=$(tr ':' '\n' <<<"$PATH" | while read -r d; do if [ -n "$d" ] && [ ! -x "$d/cargo" ]; then printf '%s:' "$d"; fi; done)
check "without cargo on the PATH: 'cargo not found on the PATH'" \
  bash -c "! PATH='${nocargo_path%:}' ./configure --with-php-config='$PHP_CONFIG_BIN' >'$STAGE/nocargo.log' 2>&1 \
    && grep 'error: cargo not found on the PATH' '$STAGE/nocargo.log'"
min=$(sed -n 's/^ *KAFKA_LOCK_MIN_RUSTC=//p' config.m4)
printf '#!/bin/sh\necho "rustc 1.%s.0 (old)"\n' "$(( ${min#*.} - 1 ))" >"$STAGE/old-rustc"
chmod +x "$STAGE/old-rustc"
check "with rustc 1.$(( ${min#*.} - 1 )): 'rustc $min or newer is needed'" \
  bash -c "! RUSTC='$STAGE/old-rustc' ./configure --with-php-config='$PHP_CONFIG_BIN' >'$STAGE/oldrustc.log' 2>&1 \
    && grep 'error: rustc $min or newer is needed' '$STAGE/oldrustc.log'"

echo "== ./configure --with-php-config=$PHP_CONFIG_BIN"
./configure --with-php-config="$PHP_CONFIG_BIN" >"$STAGE/configure.log" 2>&1 || { tail -n 30 "$STAGE/configure.log" >&2; exit 1; }
grep -E '^checking (for cargo|for rustc|whether rustc|for the PHP kafka_lock)' "$STAGE/configure.log" | sed 's/^/  /'

echo "== make (cargo build --release into $DIR)"
make_start=$(date +%s)
if ! CARGO_TARGET_DIR=$DIR make >"$STAGE/make.log" 2>&1; then
  tail -n 40 "$STAGE/make.log" >&2
  exit 1
fi
grep -E '^ *(Compiling|Finished)' "$STAGE/make.log" | sed 's/^ */  /'
echo "  make took $(( $(date +%s) - make_start )) s"

echo "== make install INSTALL_ROOT=$STAGE/root (CARGO=false: installing must not build)"
make install INSTALL_ROOT="$STAGE/root" CARGO=false >"$STAGE/install.log" 2>&1 || { cat "$STAGE/install.log" >&2; exit 1; }
so="$STAGE/root$EXT_DIR/kafka_lock.so"
check "make install put kafka_lock.so into the staged extension folder ($EXT_DIR)" test -f "$so"
check "php -n -d extension=<staged kafka_lock.so>: the extension loads and DistributedLock exists" \
  php -n -d "extension=$so" -r 'exit(extension_loaded("kafka_lock") && class_exists("DistributedLock", false) ? 0 : 1);'
check "it is the module make built (same bytes as .libs/kafka_lock.so)" cmp "$so" .libs/kafka_lock.so
check "this PHP's extension folder is as before (no kafka_lock file added or changed)" \
  bash -c "[ \"\$1\" = \"\$(find '$EXT_DIR' -maxdepth 1 -name 'kafka_lock*' -printf '%p %s %T@\n' 2>/dev/null | sort)\" ]" _ "$before"

cd "$ROOT"
[ "$failed" -eq 0 ] || exit 1
echo "== phpize test: passed ($(( $(date +%s) - start )) s)"
