#!/usr/bin/env bash
# `make install` / `make uninstall`: the built extension into PHP's extension folder as
# kafka_lock.so, enabled the Debian way (/etc/php/X.Y/mods-available/kafka_lock.ini, then
# phpenmod for every SAPI of that PHP), or, where there is no phpenmod, with an ini file in PHP's
# scan folder (php-config --ini-dir).
#
#   scripts/install.sh install [SO]   SO: default target/release/libkafka_lock.so
#   scripts/install.sh uninstall      removes all of it again, also phpenmod's state files
# The operator's CLI, target/release/kafka-lock, goes to BINDIR (default /usr/local/bin).
#
# Environment: PHP_CONFIG (default php-config: which PHP to install into); DESTDIR (for
# packages: only the files, under DESTDIR, and no phpenmod: a package's postinst runs it).
# Runs as root, or through sudo when available.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/packages.sh
. "$ROOT/scripts/packages.sh"

PHP_CONFIG=${PHP_CONFIG:-php-config}
DESTDIR=${DESTDIR:-}
MODULE=kafka_lock
PRIORITY=20
BINDIR=${BINDIR:-/usr/local/bin}
CLI=kafka-lock

say() { printf 'install: %s\n' "$*"; }
die() { printf 'install: error: %s\n' "$*" >&2; exit 1; }

command -v "$PHP_CONFIG" >/dev/null || die "$PHP_CONFIG not found (Debian: apt-get install php8.2-dev)"
EXT_DIR=$("$PHP_CONFIG" --extension-dir)
PHP_VERSION=$("$PHP_CONFIG" --version | cut -d. -f1,2)
SCAN_DIR=$("$PHP_CONFIG" --ini-dir)
MODS_DIR=/etc/php/$PHP_VERSION/mods-available
STATE_DIR=/var/lib/php/modules/$PHP_VERSION

# The Debian way needs phpenmod and this PHP's mods-available (Debian's and sury.org's PHP).
debian_way() { [ -d "$MODS_DIR" ] && command -v phpenmod >/dev/null; }

install_ext() {
  local so=${1:-$ROOT/target/release/libkafka_lock.so} ini
  [ -f "$so" ] || die "$so not found: build it first (make build)"
  as_root install -D -m 0644 "$so" "$DESTDIR$EXT_DIR/$MODULE.so"
  say "$DESTDIR$EXT_DIR/$MODULE.so"
  ini="; $MODULE: a distributed lock over Apache Kafka (installed by make install)
; priority=$PRIORITY
extension=$MODULE.so"
  if debian_way; then
    printf '%s\n' "$ini" | as_root install -D -m 0644 /dev/stdin "$DESTDIR$MODS_DIR/$MODULE.ini"
    say "$DESTDIR$MODS_DIR/$MODULE.ini"
    if [ -z "$DESTDIR" ]; then
      as_root phpenmod -v "$PHP_VERSION" "$MODULE"
      say "enabled with phpenmod -v $PHP_VERSION $MODULE (SAPIs: $(phpquery -S -v "$PHP_VERSION" | tr '\n' ' '))"
    fi
  else
    printf '%s\n' "$ini" | as_root install -D -m 0644 /dev/stdin "$DESTDIR$SCAN_DIR/$PRIORITY-$MODULE.ini"
    say "$DESTDIR$SCAN_DIR/$PRIORITY-$MODULE.ini (no phpenmod here: PHP's scan folder)"
  fi
}

install_cli() {
  local cli=$ROOT/target/release/$CLI
  [ -x "$cli" ] || die "$cli is not built (make build builds it)"
  as_root install -D -m 0755 "$cli" "$DESTDIR$BINDIR/$CLI"
  say "$DESTDIR$BINDIR/$CLI"
}

uninstall_ext() {
  local f
  if [ -z "$DESTDIR" ] && [ -f "$MODS_DIR/$MODULE.ini" ] && command -v phpdismod >/dev/null; then
    as_root phpdismod -v "$PHP_VERSION" "$MODULE"
  fi
  as_root rm -f "$DESTDIR$MODS_DIR/$MODULE.ini" "$DESTDIR$SCAN_DIR/$PRIORITY-$MODULE.ini" \
    "$DESTDIR$EXT_DIR/$MODULE.so"
  if [ -z "$DESTDIR" ] && [ -d "$STATE_DIR" ]; then
    # phpenmod/phpdismod remember what the admin did per SAPI (and create the folders for it):
    # forget this module, and drop such a folder when it is left empty.
    as_root rm -f "$STATE_DIR/registry/$MODULE" "$STATE_DIR"/*/{enabled,disabled}_by_{admin,maint}/"$MODULE"
    for f in "$STATE_DIR"/*/{enabled,disabled}_by_{admin,maint}; do
      [ -d "$f" ] && as_root rmdir --ignore-fail-on-non-empty "$f"
    done
  fi
  as_root rm -f "$DESTDIR$BINDIR/$CLI"
  say "removed $MODULE from $DESTDIR$EXT_DIR and PHP's configuration, and $DESTDIR$BINDIR/$CLI"
}

case "${1:-}" in
  install) install_ext "${2:-}"; install_cli ;;
  uninstall) uninstall_ext ;;
  *) sed -n '2,/^set -e/p' "${BASH_SOURCE[0]}" | grep '^#' | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
