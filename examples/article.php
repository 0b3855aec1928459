<?php
// The blog article's usage example, unchanged in shape, now with a lock that really locks:
// acquireLock() blocks until this process holds 'example_identifier' (FIFO among waiters),
// the lease is renewed in the background while the process lives, and releaseLock() hands
// the lock to the next waiter.
//
//   make demo        (or: php -d extension=target/release/libkafka_lock.so examples/article.php)
// Run it in two terminals at once: the second waits until the first has released.

$lock = new DistributedLock('resource_lock');

$identifier = 'example_identifier';

echo "Acquiring lock...\n";
$lock->acquireLock($identifier);
echo "Lock acquired!\n";

// Critical section: only one process in the cluster is here at a time.
printf("(holding it with fencing token %d)\n", $lock->getFencingToken($identifier));
sleep(5);

echo "Releasing lock...\n";
$lock->releaseLock($identifier);
echo "Lock released!\n";
