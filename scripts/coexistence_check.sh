#!/usr/bin/env bash
# A manual check, not part of make test (it needs php-rdkafka's source, which CI does not fetch):
# kafka_lock next to php-rdkafka (arnaud-lb/php-rdkafka, the PECL rdkafka extension) in one PHP
# process. php-rdkafka links the system's librdkafka (Debian: librdkafka1, headers in
# librdkafka-dev); kafka_lock carries its own librdkafka, linked in statically. The two must not
# meet: kafka_lock.so must export no rd_kafka_* symbol (nor import one), and both must work in
# the same process, over TLS.
#
#   scripts/coexistence_check.sh <php-rdkafka source folder> [kafka_lock.so]
#
# 1. builds php-rdkafka with phpize/configure/make in a temporary copy (nothing is installed);
# 2. checks the symbols: kafka_lock.so's dynamic symbol table has no rd_kafka_*, and it defines
#    nothing that rdkafka.so or the system librdkafka also defines;
# 3. runs one PHP script with both extensions loaded, in both load orders, against the secure
#    test broker (make kafka-secure-start; SASL_SSL with SCRAM-SHA-512 on localhost:9292, mTLS on
#    9293): takes a kafka_lock lock over SASL_SSL (SCRAM-SHA-512), and while holding it produces
#    records with php-rdkafka's Producer and reads them back with its Consumer over SASL_SSL
#    (PLAIN: librdkafka before 2.6.1, Debian 12's 2.0.2 among them, fails SCRAM against Kafka 4,
#    confluentinc/librdkafka#4895), takes a second kafka_lock lock over mTLS, then releases; PHP
#    must exit 0 (no crash, at shutdown either).
# Needs: php8.2-dev, pkg-config, librdkafka-dev (apt-get install librdkafka-dev), the built
# extension (make build) and the secure broker.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC=${1:?usage: scripts/coexistence_check.sh <php-rdkafka source folder> [kafka_lock.so]}
SRC=$(cd "$SRC" && pwd)
SO=${2:-$ROOT/target/release/libkafka_lock.so}
CLIENTS=$ROOT/.run/kafka-secure/clients.json
PHP_CONFIG_BIN=$(command -v "${PHP_CONFIG:-php-config}")
PHP_BIN=$("$PHP_CONFIG_BIN" --php-binary)
die() { printf 'coexistence: error: %s\n' "$*" >&2; exit 1; }

[ -f "$SRC/config.m4" ] && grep -q rdkafka "$SRC/config.m4" || die "$SRC is not php-rdkafka's source (no config.m4 naming rdkafka)"
[ -f "$SO" ] || die "$SO not found (make build)"
[ -r "$CLIENTS" ] || die "the secure broker was never started (make kafka-secure-start)"
pkg-config --exists rdkafka || die "librdkafka's headers are missing (Debian: apt-get install librdkafka-dev)"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

echo "== php-rdkafka: phpize, ./configure, make (in $WORK/php-rdkafka)"
cp -a "$SRC" "$WORK/php-rdkafka"
(
  cd "$WORK/php-rdkafka"
  phpize >"$WORK/phpize.log" 2>&1
  ./configure --with-php-config="$PHP_CONFIG_BIN" >"$WORK/configure.log" 2>&1
  make -j"$(nproc)" >"$WORK/make.log" 2>&1
) || { tail -n 30 "$WORK"/*.log >&2; die "building php-rdkafka failed"; }
RDKAFKA_SO=$WORK/php-rdkafka/modules/rdkafka.so
SYSTEM_LIB=$(ldd "$RDKAFKA_SO" | awk '/librdkafka\.so/ { print $3 }')
echo "  php-rdkafka $(sed -n 's/^#define PHP_RDKAFKA_VERSION "\(.*\)"/\1/p' "$WORK/php-rdkafka/php_rdkafka.h")" \
  "($(git -C "$SRC" describe --tags --always 2>/dev/null || echo 'no git')), linked to $SYSTEM_LIB" \
  "(librdkafka $(pkg-config --modversion rdkafka))"
[ -n "$SYSTEM_LIB" ] || die "rdkafka.so does not link a shared librdkafka"

echo "== symbols"
defined() { nm -D --defined-only "$1" | awk '{ print $3 }' | sed 's/@.*//' | sort -u; }
ours=$(readelf --dyn-syms -W "$SO" | awk 'NR > 3 { print $8 }' | sed 's/@.*//' | sort -u)
if grep -E '^rd_kafka|^rd_' <<<"$ours"; then die "kafka_lock.so's dynamic symbol table names librdkafka symbols (above)"; fi
echo "  ok: kafka_lock.so neither exports nor imports an rd_kafka_* symbol ($(defined "$SO" | wc -l) defined: $(defined "$SO" | tr '\n' ' '))"
clash=$(comm -12 <(defined "$SO" | grep -vx get_module) <({ defined "$RDKAFKA_SO"; defined "$SYSTEM_LIB"; } | sort -u))
[ -z "$clash" ] || die "symbols defined by kafka_lock.so and by php-rdkafka or the system librdkafka: $clash"
echo "  ok: no symbol defined by both kafka_lock.so and rdkafka.so or $SYSTEM_LIB (get_module aside: every extension has one)"

cat >"$WORK/both.php" <<'PHP'
<?php
$info = json_decode(file_get_contents($argv[1]), true, 512, JSON_THROW_ON_ERROR);
$ca = $info['tls'] . '/ca.pem';
$sasl = ['security.protocol' => 'SASL_SSL', 'ssl.ca.location' => $ca, 'sasl.mechanisms' => 'SCRAM-SHA-512',
    'sasl.username' => 'locker', 'sasl.password' => 'locker-secret'];
// php-rdkafka's librdkafka may predate 2.6.1, whose SCRAM Kafka 4 refuses: PLAIN, over TLS too.
$plain = ['sasl.mechanisms' => 'PLAIN'] + $sasl;
$mtls = ['bootstrap.servers' => $info['mtls'], 'security.protocol' => 'SSL', 'ssl.ca.location' => $ca,
    'ssl.certificate.location' => $info['tls'] . '/locker.pem', 'ssl.key.location' => $info['tls'] . '/locker.key'];
$id = bin2hex(random_bytes(4));
$step = function (string $what, bool $ok) { echo ($ok ? '  ok: ' : '  FAILED: '), $what, "\n"; if (!$ok) exit(1); };

ob_start(); phpinfo(INFO_MODULES); $phpinfo = ob_get_clean();
preg_match('/librdkafka version => (\S+)/', $phpinfo, $m);
$v = RD_KAFKA_VERSION;
printf("  php-rdkafka %s on librdkafka %d.%d.%d; kafka_lock %s on its own librdkafka %s\n", phpversion('rdkafka'),
    $v >> 24, ($v >> 16) & 0xff, ($v >> 8) & 0xff, phpversion('kafka_lock'), $m[1] ?? '?');

$lock = new DistributedLock("lock_coexist_$id", ['bootstrap.servers' => $info['sasl_ssl']] + $sasl);
$step('kafka_lock: acquireLock over SASL_SSL (SCRAM-SHA-512)', $lock->acquireLock('coexist', 10.0));
$token = $lock->getFencingToken('coexist');

// The records' topic: made by kafka_lock's topic creation (the ACLs let locker create "lock*").
$topic = "lock_coexist_data_$id";
new DistributedLock($topic, ['bootstrap.servers' => $info['sasl_ssl']] + $sasl);

$rdconf = function (array $extra = []) use ($info, $plain) {
    $conf = new RdKafka\Conf();
    foreach (['metadata.broker.list' => $info['sasl_ssl']] + $plain + $extra as $k => $v) $conf->set($k, $v);
    return $conf;
};
$producer = new RdKafka\Producer($rdconf());
$t = $producer->newTopic($topic);
for ($i = 0; $i < 20; $i++) $t->produce(0, 0, "record $i $id");
$step('php-rdkafka: 20 records produced and flushed over SASL_SSL (PLAIN)', $producer->flush(15000) === RD_KAFKA_RESP_ERR_NO_ERROR);

$consumer = new RdKafka\Consumer($rdconf(['enable.partition.eof' => 'true']));
$ct = $consumer->newTopic($topic);
$ct->consumeStart(0, RD_KAFKA_OFFSET_BEGINNING);
$read = [];
$deadline = microtime(true) + 20;
while (count($read) < 20 && microtime(true) < $deadline) {
    $msg = $ct->consume(0, 500);
    if ($msg !== null && $msg->err === RD_KAFKA_RESP_ERR_NO_ERROR) $read[] = $msg->payload;
}
$ct->consumeStop(0);
$step('php-rdkafka: the 20 records read back with its Consumer', $read === array_map(fn($i) => "record $i $id", range(0, 19)));

$step('kafka_lock: still held meanwhile (isAcquired, same fencing token)', $lock->isAcquired('coexist') && $lock->getFencingToken('coexist') === $token);
$other = new DistributedLock("lock_coexist_$id", $mtls);
$step('kafka_lock: a second lock over mTLS does not get it (tryLock false)', $other->tryLock('coexist') === false);
$step('kafka_lock: releaseLock', $lock->releaseLock('coexist'));
$step('kafka_lock: the mTLS lock takes it now, with a higher token', $other->acquireLock('coexist', 10.0) && $other->getFencingToken('coexist') > $token);
$step('kafka_lock: released again', $other->releaseLock('coexist'));
unset($producer, $consumer, $lock, $other);
echo "  script done; PHP shuts down both extensions next\n";
PHP

status=0
for order in "rdkafka kafka_lock" "kafka_lock rdkafka"; do
  echo "== one PHP process, extensions loaded in the order: $order"
  args=()
  for e in $order; do
    if [ "$e" = rdkafka ]; then args+=(-d "extension=$RDKAFKA_SO"); else args+=(-d "extension=$SO"); fi
  done
  set +e
  "$PHP_BIN" -n "${args[@]}" "$WORK/both.php" "$CLIENTS"
  rc=$?
  set -e
  if [ "$rc" -eq 0 ]; then echo "  ok: PHP exited 0"; else echo "  FAILED: PHP exited $rc$([ "$rc" -gt 128 ] && [ "$rc" -lt 160 ] && echo " (signal $((rc - 128)))")" >&2; status=1; fi
done
[ "$status" -eq 0 ] || exit 1
echo "== coexistence check: passed ($("$PHP_BIN" -v | head -n 1 | cut -d' ' -f1-2), $(date -u +%Y-%m-%d))"
