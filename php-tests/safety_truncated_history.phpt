--TEST--
Safety: a process that joins after the partition's records were deleted (DeleteRecords up to the end) does not get a lock another process holds
--FILE--
<?php
require __DIR__ . '/helpers/kafka_tools.php';

$topic = 'phpt_trunc_' . bin2hex(random_bytes(4));
kafka_create_topic($topic);

// Two sessions in one process: a different client.id makes a different set of Kafka clients,
// each replaying the partition on its own, as two processes would.
$a = new DistributedLock($topic, ['client.id' => 'holder', 'lock.ttl' => 60]);
var_dump($a->acquireLock('x', 5.0));
$token = $a->getFencingToken('x');

// An operator (or a short retention) deletes the partition's history while 'x' is held.
$out = kafka_delete_all_records($topic);
echo preg_match('~partition: \S+-0\s+low_watermark: (\d+)~', $out, $m) ? "deleted up to offset {$m[1]}\n" : "unexpected tool output: $out\n";

// A fresh process joins: its window lies entirely in deleted history, so it cannot know whether
// a request is alive; it must not be granted.
$b = new DistributedLock($topic, ['client.id' => 'joiner']);
$t = hrtime(true);
var_dump($b->tryLock('x'));
var_dump($b->acquireLock('x', 1.0));
$waited = (hrtime(true) - $t) / 1e9;
echo 'joiner gave up within its time-out: ', var_export($waited >= 1.0 && $waited < 3.0, true), "\n";
var_dump($b->isAcquired('x'));

// The holder never noticed anything: it still holds, with the same token.
var_dump($a->isAcquired('x'), $a->getFencingToken('x') === $token);
var_dump($a->releaseLock('x'));
?>
--EXPECTF--
bool(true)
deleted up to offset %d
bool(false)
bool(false)
joiner gave up within its time-out: true
bool(false)
bool(true)
bool(true)
bool(true)
