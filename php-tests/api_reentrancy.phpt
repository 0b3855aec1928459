--TEST--
Reentrancy: a lock acquired twice is released twice; the third release returns false
--FILE--
<?php
$topic = 'phpt_' . bin2hex(random_bytes(4));
$lock = new DistributedLock($topic);
$other = new DistributedLock($topic);

var_dump($lock->acquireLock('r'));
$token = $lock->getFencingToken('r');
var_dump($lock->acquireLock('r'));
echo "same hold, same token: ";
var_dump($lock->getFencingToken('r') === $token);

echo "first release: one level left\n";
var_dump($lock->releaseLock('r'));
var_dump($lock->isAcquired('r'), $lock->getFencingToken('r') === $token);
var_dump($other->tryLock('r'));

echo "second release: free\n";
var_dump($lock->releaseLock('r'));
var_dump($lock->isAcquired('r'));

echo "third release\n";
var_dump($lock->releaseLock('r'));

echo "tryLock and a time-out count levels too\n";
var_dump($lock->tryLock('r'));
var_dump($lock->tryLock('r'));
var_dump($lock->acquireLock('r', 0.0));
var_dump($lock->releaseLock('r'), $lock->releaseLock('r'));
var_dump($lock->isAcquired('r'));
var_dump($other->tryLock('r'));
var_dump($lock->releaseLock('r'));
var_dump($lock->isAcquired('r'));
var_dump($other->tryLock('r'));
var_dump($other->releaseLock('r'));
?>
--EXPECT--
bool(true)
bool(true)
same hold, same token: bool(true)
first release: one level left
bool(true)
bool(true)
bool(true)
bool(false)
second release: free
bool(true)
bool(false)
third release
bool(false)
tryLock and a time-out count levels too
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
bool(false)
bool(true)
bool(false)
bool(true)
bool(true)
