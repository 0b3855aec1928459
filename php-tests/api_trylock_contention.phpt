--TEST--
tryLock() on a lock held by another instance in the same process returns false at once, and succeeds after the release
--FILE--
<?php
$topic = 'phpt_' . bin2hex(random_bytes(4));
$holder = new DistributedLock($topic);
$other = new DistributedLock($topic);

var_dump($holder->acquireLock('shared'));
$token = $holder->getFencingToken('shared');

echo "held by the other instance\n";
var_dump($other->tryLock('shared'));
var_dump($other->isAcquired('shared'));
var_dump($other->getFencingToken('shared'));
var_dump($holder->isAcquired('shared'));
// A failed tryLock() leaves nothing queued: trying again gives the same answer.
var_dump($other->tryLock('shared'));

echo "after the release\n";
var_dump($holder->releaseLock('shared'));
var_dump($other->tryLock('shared'));
var_dump($other->isAcquired('shared'));
var_dump($other->getFencingToken('shared') > $token);
var_dump($holder->tryLock('shared'));
var_dump($other->releaseLock('shared'));
?>
--EXPECT--
bool(true)
held by the other instance
bool(false)
bool(false)
NULL
bool(true)
bool(false)
after the release
bool(true)
bool(true)
bool(true)
bool(true)
bool(false)
bool(true)
