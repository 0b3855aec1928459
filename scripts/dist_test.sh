#!/usr/bin/env bash
# make test's check of `make dist` (scripts/dist.sh), on the .so of `make build`:
# - two runs give the same archive, byte for byte, and its .sha256 verifies; a run with another
#   SOURCE_DATE_EPOCH (the entries' time) gives another hash, so the comparison can fail;
# - the name is the one PIE looks for on this platform, worked out here on its own;
# - the archive holds kafka_lock.so, LICENSE and README.txt, sorted, all with that time;
# - the unpacked kafka_lock.so is stripped, loads with `php -n -d extension=...`, and takes and
#   releases a lock on localhost:9092;
# - it exports get_module and ext-php-rs's alias of it (nothing else, no rd_kafka_* symbol), and
#   needs only the shared libraries the README lists (readelf -d), which are printed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SO=${1:-$ROOT/target/release/libkafka_lock.so}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
failed=0
check() { # DESCRIPTION COMMAND...: runs the command, records a failure
  local what=$1; shift
  if "$@" >"$WORK/check.log" 2>&1; then echo "  ok: $what"; else echo "  FAILED: $what" >&2; tail -n 20 "$WORK/check.log" >&2; failed=1; fi
}

# One commit time and description for every run, so a commit made meanwhile (a shared checkout)
# cannot make the two runs differ.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
DIST_COMMIT=$(git rev-parse HEAD)
if [ -n "$(git status --porcelain -- src Cargo.toml Cargo.lock)" ]; then DIST_COMMIT="$DIST_COMMIT (with uncommitted changes)"; fi
export DIST_COMMIT
echo "== make dist, twice (SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH)"
a=$(scripts/dist.sh "$SO" "$WORK/a" | tail -n 1)
b=$(scripts/dist.sh "$SO" "$WORK/b" | tail -n 1)
name=$(basename "$a")
echo "  $name"
check "the two archives are the same bytes" cmp "$a" "$b"
check "the .sha256 file verifies (sha256sum -c)" bash -c "cd '$WORK/a' && sha256sum -c '$name.sha256'"
c=$(SOURCE_DATE_EPOCH=$((SOURCE_DATE_EPOCH + 86400)) scripts/dist.sh "$SO" "$WORK/c" | tail -n 1)
check "an archive whose entries have another time has another hash" bash -c "! cmp -s '$a' '$c'"

version=$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n 1)
arch=$(uname -m | sed 's/^aarch64$/arm64/')
libc=glibc; ldd --version 2>&1 | grep -qi musl && libc=musl
suffix=$(php -n -r 'echo PHP_DEBUG ? "-debug" : "", PHP_ZTS ? "-zts" : "";')
expected="php_kafka_lock-${version}_php$(php -n -r 'echo PHP_MAJOR_VERSION, ".", PHP_MINOR_VERSION;')-$arch-linux-$libc$suffix.zip"
check "the name is PIE's for this platform ($expected)" test "$name" = "$expected"

echo "== the archive's entries"
/usr/bin/python3 - "$a" "$SOURCE_DATE_EPOCH" >"$WORK/entries.log" 2>&1 <<'PY' || { cat "$WORK/entries.log" >&2; failed=1; }
import sys, time, zipfile
z = zipfile.ZipFile(sys.argv[1])
want = time.gmtime(int(sys.argv[2]))[:6]
names = [i.filename for i in z.infolist()]
for i in z.infolist():
    print(f"  {i.filename:14} {i.file_size:>9} bytes  {'%04d-%02d-%02d %02d:%02d:%02d' % i.date_time}  {oct(i.external_attr >> 16)}")
assert names == ["LICENSE", "README.txt", "kafka_lock.so"], names
# DOS times have 2 s steps
assert all(i.date_time == want[:5] + (want[5] - want[5] % 2,) for i in z.infolist()), "entry times"
assert z.testzip() is None
z.extractall(sys.argv[1] + ".d")
PY
cat "$WORK/entries.log"
so="$a.d/kafka_lock.so"
[ -f "$so" ] || { echo "dist_test: kafka_lock.so not unpacked" >&2; exit 1; }

echo "== the unpacked kafka_lock.so"
check "stripped: no .symtab, no .debug_* sections" bash -c "! readelf -S -W '$so' | grep -E '\\.symtab|\\.debug_'"
check "php -n -d extension=<it>: DistributedLock exists, a lock is taken and released on localhost:9092" \
  php -n -d "extension=$so" -r '
    if (!class_exists("DistributedLock", false)) exit(2);
    $l = new DistributedLock("dist_test_" . bin2hex(random_bytes(4)));
    exit($l->tryLock("x") && $l->getFencingToken("x") !== null && $l->releaseLock("x") ? 0 : 1);'
exports=$(nm -D --defined-only "$so" | awk '{ print $3 }' | sort | tr '\n' ' ')
echo "  exported (nm -D --defined-only): $exports"
# ext-php-rs's #[php_module] exports get_module (what PHP's dlopen looks up) and, since
# ext-php-rs-derive 0.12, a crate-prefixed alias of it (for linking the extension into PHP
# statically); the address is the same.
check "exports only get_module and its alias kafka_lock_get_module" test "$exports" = "get_module kafka_lock_get_module "
check "exports no rd_kafka_* symbol (readelf --dyn-syms)" \
  bash -c "! readelf --dyn-syms -W '$so' | awk '\$7 != \"UND\"' | grep -E ' rd_kafka'"
needed=$(readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
echo "  dynamic dependencies (readelf -d): $needed"
echo "  newest glibc symbol version it uses: $(objdump -T "$so" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n 1)"
unexpected=$(for n in $needed; do case "$n" in libz.so.1 | libssl.so.3 | libcrypto.so.3 | libgcc_s.so.1 | libm.so.6 | libc.so.6 | ld-linux*.so.*) ;; *) echo "$n" ;; esac; done)
check "needs no shared library beyond README's list (zlib, OpenSSL 3, libgcc_s, glibc)" test -z "$unexpected"
[ -z "$unexpected" ] || echo "  not in README's list: $unexpected" >&2

[ "$failed" -eq 0 ] || exit 1
echo "== dist test: passed"
