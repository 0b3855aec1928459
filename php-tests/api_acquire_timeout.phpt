--TEST--
acquireLock() with a time-out on a lock held by another instance returns false after about the time-out
--FILE--
<?php
$topic = 'phpt_' . bin2hex(random_bytes(4));
$holder = new DistributedLock($topic);
$waiter = new DistributedLock($topic);
var_dump($holder->acquireLock('busy'));

$start = hrtime(true);
var_dump($waiter->acquireLock('busy', 0.5));
$waited = (hrtime(true) - $start) / 1e9;
echo "waited at least the time-out: ";
var_dump($waited >= 0.45);
if ($waited < 0.45) {
    printf("only %.3f s\n", $waited);
}
var_dump($waiter->isAcquired('busy'));
var_dump($waiter->getFencingToken('busy'));
var_dump($holder->isAcquired('busy'));

echo "time-out 0 on a held lock\n";
var_dump($waiter->acquireLock('busy', 0));
var_dump($waiter->isAcquired('busy'));

echo "the timed-out requests were withdrawn: after the release the lock is free at once\n";
var_dump($holder->releaseLock('busy'));
var_dump($waiter->tryLock('busy'));
var_dump($waiter->releaseLock('busy'));
?>
--EXPECT--
bool(true)
bool(false)
waited at least the time-out: bool(true)
bool(false)
NULL
bool(true)
time-out 0 on a held lock
bool(false)
bool(false)
the timed-out requests were withdrawn: after the release the lock is free at once
bool(true)
bool(true)
bool(true)
