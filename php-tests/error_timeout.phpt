--TEST--
Invalid time-outs (negative, NAN) throw DistributedLockConfigException; INF waits forever and does not change a free lock's result
--FILE--
<?php
$topic = 'phpt_' . bin2hex(random_bytes(4));
$lock = new DistributedLock($topic);
foreach ([-1, -0.5, -1e-9, NAN] as $timeout) {
    try {
        var_dump($lock->acquireLock('t', $timeout));
    } catch (DistributedLockException $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}
echo "nothing was queued by the refused calls\n";
var_dump($lock->isAcquired('t'));
$other = new DistributedLock($topic);
var_dump($other->tryLock('t'));
var_dump($other->releaseLock('t'));

echo "INF on a free lock: taken at once\n";
var_dump($lock->acquireLock('t', INF));
var_dump($lock->isAcquired('t'));
echo "INF on a lock held by this instance: reentrant, at once\n";
var_dump($lock->acquireLock('t', INF));
var_dump($lock->releaseLock('t'), $lock->releaseLock('t'));
echo "huge finite time-out on a free lock\n";
var_dump($lock->acquireLock('t', 1e300));
var_dump($lock->releaseLock('t'));
?>
--EXPECT--
DistributedLockConfigException: timeout must not be negative, -1 given; use null to wait forever
DistributedLockConfigException: timeout must not be negative, -0.5 given; use null to wait forever
DistributedLockConfigException: timeout must not be negative, -0.000000001 given; use null to wait forever
DistributedLockConfigException: timeout must be a number of seconds or null, NAN given
nothing was queued by the refused calls
bool(false)
bool(true)
bool(true)
INF on a free lock: taken at once
bool(true)
bool(true)
INF on a lock held by this instance: reentrant, at once
bool(true)
bool(true)
bool(true)
huge finite time-out on a free lock
bool(true)
bool(true)
