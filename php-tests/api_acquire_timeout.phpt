--TEST--
acquireLock() with a time-out on a lock held by another instance returns false after the time-out: not before, and not more than 1 s after (0 returns at once)
--FILE--
<?php
$topic = 'phpt_' . bin2hex(random_bytes(4));
$holder = new DistributedLock($topic);
$waiter = new DistributedLock($topic);
var_dump($holder->acquireLock('busy'));

// Both sides: not before the time-out, and not long after it (1 s of slack for a loaded machine;
// an implementation that waits for the lease, 10 s, or twice the time-out fails).
function timed(callable $call, float $min, float $max): mixed
{
    $start = hrtime(true);
    $result = $call();
    $took = (hrtime(true) - $start) / 1e9;
    printf("returned after %s s\n", $took < $min ? sprintf('less than %.3f (%.3f)', $min, $took)
        : ($took >= $max ? sprintf('%.3f or more (%.3f)', $max, $took) : sprintf('%.3f to %.3f', $min, $max)));
    return $result;
}
var_dump(timed(fn() => $waiter->acquireLock('busy', 0.5), 0.5, 1.5));
var_dump($waiter->isAcquired('busy'));
var_dump($waiter->getFencingToken('busy'));
var_dump($holder->isAcquired('busy'));

echo "time-out 0 (int and float) on a held lock: no wait at all (measured: under 1 ms)\n";
var_dump(timed(fn() => $waiter->acquireLock('busy', 0), 0.0, 0.25));
var_dump(timed(fn() => $waiter->acquireLock('busy', 0.0), 0.0, 0.25));
var_dump($waiter->isAcquired('busy'));
echo "a time-out of 1.25 s, an int 1 s\n";
var_dump(timed(fn() => $waiter->acquireLock('busy', 1.25), 1.25, 2.25));
var_dump(timed(fn() => $waiter->acquireLock('busy', 1), 1.0, 2.0));

echo "the timed-out requests were withdrawn: after the release the lock is free at once\n";
var_dump($holder->releaseLock('busy'));
var_dump($waiter->tryLock('busy'));
var_dump($waiter->releaseLock('busy'));
?>
--EXPECT--
bool(true)
returned after 0.500 to 1.500 s
bool(false)
bool(false)
NULL
bool(true)
time-out 0 (int and float) on a held lock: no wait at all (measured: under 1 ms)
returned after 0.000 to 0.250 s
bool(false)
returned after 0.000 to 0.250 s
bool(false)
bool(false)
a time-out of 1.25 s, an int 1 s
returned after 1.250 to 2.250 s
bool(false)
returned after 1.000 to 2.000 s
bool(false)
the timed-out requests were withdrawn: after the release the lock is free at once
bool(true)
bool(true)
bool(true)
