--TEST--
Arguments of the wrong type throw PHP's standard TypeError (strict_types=1)
--FILE--
<?php
declare(strict_types=1);

function show(callable $call): void {
    try {
        var_dump($call());
    } catch (TypeError $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}
$lock = new DistributedLock('phpt_' . bin2hex(random_bytes(4)));

echo "-- array as identifier\n";
show(fn() => $lock->acquireLock([]));
show(fn() => $lock->tryLock(['id']));
show(fn() => $lock->releaseLock([]));
show(fn() => $lock->isAcquired([]));
show(fn() => $lock->getFencingToken([]));
show(fn() => $lock->getRemainingLifetime([]));
echo "-- other types as identifier\n";
show(fn() => $lock->acquireLock(42));
show(fn() => $lock->acquireLock(null));
show(fn() => $lock->acquireLock(new stdClass()));
echo "-- time-out\n";
show(fn() => $lock->acquireLock('id', 'soon'));
show(fn() => $lock->acquireLock('id', []));
show(fn() => $lock->acquireLock('id', true));
echo "-- constructor\n";
show(fn() => new DistributedLock(['topic']));
show(fn() => new DistributedLock('phpt_topic', 'metadata.broker.list=localhost:9092'));
show(fn() => new DistributedLock('phpt_topic', null));
echo "-- argument count\n";
try {
    $lock->acquireLock();
} catch (ArgumentCountError $e) {
    echo get_class($e), ': ', $e->getMessage(), "\n";
}
try {
    $lock->tryLock('a', 'b');
} catch (ArgumentCountError $e) {
    echo get_class($e), ': ', $e->getMessage(), "\n";
}
try {
    new DistributedLock();
} catch (ArgumentCountError $e) {
    echo get_class($e), ': ', $e->getMessage(), "\n";
}
echo "-- the instance still works\n";
var_dump($lock->tryLock('id'), $lock->releaseLock('id'));
?>
--EXPECT--
-- array as identifier
TypeError: DistributedLock::acquireLock(): Argument #1 ($identifier) must be of type string, array given
TypeError: DistributedLock::tryLock(): Argument #1 ($identifier) must be of type string, array given
TypeError: DistributedLock::releaseLock(): Argument #1 ($identifier) must be of type string, array given
TypeError: DistributedLock::isAcquired(): Argument #1 ($identifier) must be of type string, array given
TypeError: DistributedLock::getFencingToken(): Argument #1 ($identifier) must be of type string, array given
TypeError: DistributedLock::getRemainingLifetime(): Argument #1 ($identifier) must be of type string, array given
-- other types as identifier
TypeError: DistributedLock::acquireLock(): Argument #1 ($identifier) must be of type string, int given
TypeError: DistributedLock::acquireLock(): Argument #1 ($identifier) must be of type string, null given
TypeError: DistributedLock::acquireLock(): Argument #1 ($identifier) must be of type string, stdClass given
-- time-out
TypeError: DistributedLock::acquireLock(): Argument #2 ($timeout) must be of type ?float, string given
TypeError: DistributedLock::acquireLock(): Argument #2 ($timeout) must be of type ?float, array given
TypeError: DistributedLock::acquireLock(): Argument #2 ($timeout) must be of type ?float, bool given
-- constructor
TypeError: DistributedLock::__construct(): Argument #1 ($topic) must be of type string, array given
TypeError: DistributedLock::__construct(): Argument #2 ($config) must be of type array, string given
TypeError: Argument `$config` must not be null
-- argument count
ArgumentCountError: DistributedLock::acquireLock() expects at least 1 argument, 0 given
ArgumentCountError: DistributedLock::tryLock() expects exactly 1 argument, 2 given
ArgumentCountError: DistributedLock::__construct() expects at least 1 argument, 0 given
-- the instance still works
bool(true)
bool(true)
