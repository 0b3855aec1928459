--TEST--
A pending signal handler (pcntl_async_signals) interrupts a forever-waiting acquireLock(): it returns false, the request is withdrawn, and the handler runs
--FILE--
<?php
$topic = 'phpt_' . bin2hex(random_bytes(4));
$holder = new DistributedLock($topic);
$waiter = new DistributedLock($topic);
var_dump($holder->acquireLock('busy'));

pcntl_async_signals(true);
$handled = false;
pcntl_signal(SIGALRM, function () use (&$handled) { $handled = true; });
pcntl_alarm(1);
// null: wait forever, but a queue worker's SIGTERM handler must still get to run.
var_dump($waiter->acquireLock('busy'));
var_dump($handled);
var_dump($waiter->isAcquired('busy'));

// The withdrawn request does not stand in the queue: after the holder releases, a third
// instance gets the lock at once.
var_dump($holder->releaseLock('busy'));
$third = new DistributedLock($topic);
var_dump($third->tryLock('busy'));
?>
--EXPECT--
bool(true)
bool(false)
bool(true)
bool(false)
bool(true)
bool(true)
