--TEST--
Without strict_types, scalar arguments are coerced like for every internal function (int identifier, numeric-string time-out)
--FILE--
<?php
$topic = 'phpt_' . bin2hex(random_bytes(4));
$lock = new DistributedLock($topic);
$other = new DistributedLock($topic);

function show(callable $call): void {
    try {
        var_dump($call());
    } catch (Throwable $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}

echo "-- int identifier is the string '42'\n";
show(fn() => $lock->acquireLock(42));
show(fn() => $lock->isAcquired('42'));
show(fn() => $other->tryLock('42'));
show(fn() => $lock->releaseLock(42));
echo "-- float and Stringable identifiers\n";
show(fn() => $lock->tryLock(1.5));
show(fn() => $lock->isAcquired('1.5'));
show(fn() => $lock->releaseLock('1.5'));
$stringable = new class { public function __toString(): string { return 'job-7'; } };
show(fn() => $lock->tryLock($stringable));
show(fn() => $lock->releaseLock('job-7'));
echo "-- numeric-string and bool time-outs\n";
show(fn() => $lock->acquireLock('t', '1.5'));
show(fn() => $lock->releaseLock('t'));
show(fn() => $lock->acquireLock('t', false));
show(fn() => $lock->releaseLock('t'));
echo "-- non-numeric strings are still refused\n";
show(fn() => $lock->acquireLock('t', 'soon'));
?>
--EXPECT--
-- int identifier is the string '42'
bool(true)
bool(true)
bool(false)
bool(true)
-- float and Stringable identifiers
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
-- numeric-string and bool time-outs
bool(true)
bool(true)
bool(true)
bool(true)
-- non-numeric strings are still refused
TypeError: DistributedLock::acquireLock(): Argument #2 ($timeout) must be of type ?float, string given
