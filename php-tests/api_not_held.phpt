--TEST--
A lock this instance does not hold: releaseLock() false, isAcquired() false, getFencingToken()/getRemainingLifetime() null
--FILE--
<?php
$topic = 'phpt_' . bin2hex(random_bytes(4));
$lock = new DistributedLock($topic);

echo "never acquired\n";
var_dump($lock->releaseLock('nobody'));
var_dump($lock->isAcquired('nobody'));
var_dump($lock->getFencingToken('nobody'));
var_dump($lock->getRemainingLifetime('nobody'));

echo "released already\n";
var_dump($lock->acquireLock('once'));
var_dump($lock->releaseLock('once'));
var_dump($lock->releaseLock('once'));
var_dump($lock->isAcquired('once'));
var_dump($lock->getFencingToken('once'));
var_dump($lock->getRemainingLifetime('once'));

echo "held by another instance\n";
$other = new DistributedLock($topic);
var_dump($other->acquireLock('theirs'));
var_dump($lock->releaseLock('theirs'));
var_dump($lock->isAcquired('theirs'));
var_dump($lock->getFencingToken('theirs'));
var_dump($lock->getRemainingLifetime('theirs'));
// The failed release did not touch the other instance's hold.
var_dump($other->isAcquired('theirs'));
var_dump($lock->tryLock('theirs'));
var_dump($other->releaseLock('theirs'));
?>
--EXPECT--
never acquired
bool(false)
bool(false)
NULL
NULL
released already
bool(true)
bool(true)
bool(false)
bool(false)
NULL
NULL
held by another instance
bool(true)
bool(false)
bool(false)
NULL
NULL
bool(true)
bool(false)
bool(true)
