#!/usr/bin/env bash
# make test's check of `make install` / `make uninstall` (scripts/install.sh) on this machine's
# PHP, both ways it can enable the extension:
#   debian    /etc/php/X.Y/mods-available/kafka_lock.ini + phpenmod
#   scan-dir  no phpenmod on the PATH: an ini file in PHP's scan folder
# For each: install; `php -m` (PHP's own ini files, no -d) lists kafka_lock and a lock works
# against localhost:9092 while `php -n -m` does not list it; uninstall; `php -m` no longer lists
# it; PHP's configuration (/etc/php/X.Y, phpenmod's state, kafka_lock* in the extension folder)
# is file for file what it was before the install, and at the end what it was before the test.
# The machine is left as it was even when a check fails or the run is interrupted: the EXIT trap
# uninstalls and puts back whatever kafka_lock files were there before (an earlier make install).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
[ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null || { echo "install_test: needs root or sudo" >&2; exit 1; }
# shellcheck source=scripts/packages.sh
. "$ROOT/scripts/packages.sh"

EXT_DIR=$(php-config --extension-dir)
PHP_VERSION=$(php-config --version | cut -d. -f1,2)
SCAN_DIR=$(php-config --ini-dir)
CLI=/usr/local/bin/kafka-lock
WATCHED=("/etc/php/$PHP_VERSION" "/var/lib/php/modules/$PHP_VERSION" "$SCAN_DIR")
WORK=$(mktemp -d)
failed=0

# state: every file, link and folder of PHP's configuration (content hashes, link targets), and
# the kafka_lock files of the extension folder. Folder times are left out (they change anyway).
state() {
  as_root find "${WATCHED[@]}" "$EXT_DIR" \( -path "$EXT_DIR/*" ! -name 'kafka_lock*' \) -prune -o \
    \( -type d -printf 'd %p\n' \) -o \( -type l -printf 'l %p -> %l\n' \) -o \
    \( -type f -exec md5sum {} + \) 2>/dev/null | sort -u
}

# The kafka_lock files there before (an earlier make install), to be put back at the end.
previous() {
  { as_root find "${WATCHED[@]}" "$EXT_DIR" -name '*kafka_lock*' ! -type d 2>/dev/null
    if [ -e "$CLI" ]; then echo "$CLI"; fi; } | sort -u
}

restore() {
  local rc=$?
  scripts/install.sh uninstall >/dev/null 2>&1 || true
  PATH=/usr/local/bin:/usr/bin:/bin scripts/install.sh uninstall >/dev/null 2>&1 || true
  if [ -s "$WORK/previous.list" ]; then
    as_root tar -xpf "$WORK/previous.tar" -C / 2>/dev/null || echo "install_test: could not put back $(tr '\n' ' ' <"$WORK/previous.list")" >&2
  fi
  if ! diff -u "$WORK/before" <(state) >"$WORK/diff"; then
    echo "install_test: FAILED: PHP's configuration differs from before the test:" >&2
    cat "$WORK/diff" >&2
    rc=1
  fi
  rm -rf "$WORK"
  exit "$rc"
}

check() { # DESCRIPTION COMMAND...: runs the command, records a failure
  local what=$1; shift
  if "$@" >/dev/null 2>&1; then echo "  ok: $what"; else echo "  FAILED: $what" >&2; failed=1; fi
}
# grep without -q reads all of php's output: -q exits at the first match and, under pipefail,
# a php still writing gets SIGPIPE and the check fails (seen once on a clean clone).
lists_it() { php "$@" -m | grep -x kafka_lock >/dev/null; }
locks() {
  php -r '$l = new DistributedLock("install_test_" . bin2hex(random_bytes(4))); exit($l->tryLock("x") && $l->releaseLock("x") ? 0 : 1);'
}

state >"$WORK/before"
previous >"$WORK/previous.list"
if [ -s "$WORK/previous.list" ]; then
  as_root tar -cpf "$WORK/previous.tar" -P -T "$WORK/previous.list"
  echo "install_test: kafka_lock is installed already; it is put back afterwards: $(tr '\n' ' ' <"$WORK/previous.list")"
fi
trap restore EXIT
trap 'exit 130' INT TERM HUP
scripts/install.sh uninstall >/dev/null
state >"$WORK/clean"

for way in debian scan-dir; do
  path=$PATH
  [ "$way" = scan-dir ] && path=/usr/local/bin:/usr/bin:/bin
  echo "== make install, the $way way"
  PATH=$path scripts/install.sh install
  check "php -m lists kafka_lock (no -d)" lists_it
  check "php -n -m does not (it is PHP's ini files that load it)" eval '! lists_it -n'
  check "a lock works (localhost:9092)" locks
  check "the kafka-lock CLI is installed and runs" "$CLI" --version
  [ "$way" = debian ] && check "phpenmod enabled it for the CLI" test -L "/etc/php/$PHP_VERSION/cli/conf.d/20-kafka_lock.ini"
  [ "$way" = scan-dir ] && check "its ini file is in $SCAN_DIR" test -f "$SCAN_DIR/20-kafka_lock.ini"
  echo "== make uninstall"
  PATH=$path scripts/install.sh uninstall
  check "php -m no longer lists kafka_lock" eval '! lists_it'
  check "the kafka-lock CLI is gone" test ! -e "$CLI"
  check "PHP's configuration is as before the install" diff "$WORK/clean" <(state)
done
[ "$failed" -eq 0 ] || exit 1
echo "== install test: passed"
