--TEST--
DistributedSemaphore refuses bad arguments: limits and weights out of range (DistributedLockConfigException), ints coerced as PHP's own functions coerce them (a fraction is refused, not truncated; strict_types allows int only), bad time-outs and names; its constructor refuses what DistributedLock's does
--FILE--
<?php
require __DIR__ . '/helpers/semaphore_strict_calls.php';

$topic = 'phpt_' . bin2hex(random_bytes(4));
$sem = new DistributedSemaphore($topic);

function show(string $what, callable $call): void
{
    try {
        $result = json_encode($call());
    } catch (Throwable $e) {
        $result = get_class($e) . ': ' . $e->getMessage();
    }
    echo $what, ': ', $result, "\n";
}

echo "-- limit out of range\n";
foreach ([0, -1, 1000001, PHP_INT_MAX, PHP_INT_MIN] as $limit) {
    show("limit $limit", fn() => $sem->tryAcquire('n', $limit));
    show("limit $limit, acquire", fn() => $sem->acquire('n', $limit, 0.0));
}
echo "-- weight out of range\n";
foreach ([0, -1, 4, 1000001] as $weight) {
    show("weight $weight of 3", fn() => $sem->tryAcquire('n', 3, $weight));
    show("weight $weight of 3, acquire", fn() => $sem->acquire('n', 3, null, $weight));
}
show('weight 2 of 1', fn() => $sem->tryAcquire('n', 1, 2));
echo "-- the bounds themselves are fine\n";
show('limit 1, weight 1', fn() => [$sem->tryAcquire('edge', 1, 1), $sem->release('edge')]);
show('limit 1000000, weight 1000000', fn() => [$sem->tryAcquire('edge', 1000000, 1000000), $sem->inspect('edge')['limit'], $sem->release('edge')]);

echo "-- int arguments are coerced as for PHP's own functions\n";
foreach ([3.0, '3', ' 3', '3 ', '3e0', true] as $limit) {
    show('limit ' . var_export($limit, true), fn() => [$sem->tryAcquire('c', $limit), $sem->inspect('c')['limit'], $sem->release('c')]);
}
show('limit false (0)', fn() => $sem->tryAcquire('c', false));
show('weight 2.0', fn() => [$sem->acquire('c', 3, null, 2.0), $sem->inspect('c')['holders'][0]['weight'], $sem->release('c')]);
show("weight '2'", fn() => [$sem->tryAcquire('c', 3, '2'), $sem->inspect('c')['holders'][0]['weight'], $sem->release('c')]);
echo "-- anything else is a TypeError, a fraction too (refused, not truncated)\n";
foreach ([1.5, 2.999, '1.5', 'abc', '', '3abc', '0x3', null, [], new stdClass(), INF, NAN, 1e19] as $limit) {
    show('limit ' . str_replace("\n", '', var_export($limit, true)), fn() => $sem->tryAcquire('c', $limit));
}
foreach ([1.5, 'abc', []] as $weight) {
    show('weight ' . str_replace("\n", '', var_export($weight, true)), fn() => $sem->acquire('c', 3, null, $weight));
}
show('tryAcquire weight 0.5', fn() => $sem->tryAcquire('c', 3, 0.5));
// An optional int given null: the message is ext-php-rs's (as for DistributedLock's $config).
show('weight null', fn() => $sem->acquire('c', 3, null, null));

echo "-- under strict_types only int is an int (a float time-out may be an int)\n";
foreach (semaphore_strict_calls($sem) as $what => $call) {
    show($what, $call);
}

echo "-- time-out\n";
foreach ([-1, -0.001, -INF, NAN] as $timeout) {
    show('time-out ' . var_export($timeout, true), fn() => $sem->acquire('c', 3, $timeout));
}
show("time-out 'soon'", fn() => $sem->acquire('c', 3, 'soon'));
show('time-out []', fn() => $sem->acquire('c', 3, []));
show("time-out '0.5' and INF are fine", fn() => [$sem->acquire('c', 3, '0.5'), $sem->acquire('c', 3, INF), $sem->release('c'), $sem->release('c')]);

echo "-- names\n";
$calls = [
    'acquire' => fn($n) => $sem->acquire($n, 3, 0.0),
    'tryAcquire' => fn($n) => $sem->tryAcquire($n, 3),
    'release' => fn($n) => $sem->release($n),
    'isAcquired' => fn($n) => $sem->isAcquired($n),
    'getFencingToken' => fn($n) => $sem->getFencingToken($n),
    'getRemainingLifetime' => fn($n) => $sem->getRemainingLifetime($n),
    'inspect' => fn($n) => $sem->inspect($n),
];
foreach (['empty' => '', '1025 bytes' => str_repeat('x', 1025), 'not UTF-8' => "bad\xff", 'array' => []] as $what => $name) {
    foreach ($calls as $method => $call) {
        show("$method, $what", fn() => $call($name));
    }
}
show('tryAcquire, 1024 bytes (fine)', fn() => [$sem->tryAcquire(str_repeat('x', 1024), 3), $sem->release(str_repeat('x', 1024))]);
show('tryAcquire, int 42 (the name "42")', fn() => [$sem->tryAcquire(42, 3), $sem->isAcquired('42'), $sem->release('42')]);
show('tryAcquire, null', fn() => $sem->tryAcquire(null, 3));

echo "-- argument count\n";
show('acquire(name)', fn() => $sem->acquire('n'));
show('acquire with 5 arguments', fn() => $sem->acquire('n', 3, 1.0, 1, 1));
show('tryAcquire with 4 arguments', fn() => $sem->tryAcquire('n', 3, 1, 1));
show('release()', fn() => $sem->release());

echo "-- nothing was queued or held by the refused calls\n";
var_dump($sem->inspect('n'), $sem->inspect('c')['mode'], $sem->inspect('strict')['mode']);

echo "-- the constructor refuses what DistributedLock's refuses, with the same message\n";
$cases = [
    'empty topic' => [''],
    'topic with a space' => ['a b'],
    'topic of 250 characters' => [str_repeat('t', 250)],
    'topic ..' => ['..'],
    'topic array' => [[]],
    'config string' => [$topic, 'metadata.broker.list=localhost:9092'],
    'config null' => [$topic, null],
    'unknown lock option' => [$topic, ['lock.nope' => 1]],
    'lock.ttl 0' => [$topic, ['lock.ttl' => 0]],
    'lock.ttl array' => [$topic, ['lock.ttl' => []]],
    'managed property' => [$topic, ['acks' => 'all']],
    'both broker keys' => [$topic, ['metadata.broker.list' => 'localhost:9092', 'bootstrap.servers' => 'localhost:9092']],
    'unreachable brokers' => ['phpt_unreachable', ['metadata.broker.list' => '127.0.0.1:1', 'lock.connect_timeout' => 0.3]],
];
foreach ($cases as $what => $args) {
    $messages = [];
    foreach (['DistributedSemaphore', 'DistributedLock'] as $class) {
        try {
            new $class(...$args);
            $messages[$class] = 'no exception';
        } catch (Throwable $e) {
            // (librdkafka's details of a failed connection vary: cut after the time-out)
            $messages[$class] = get_class($e) . ': ' . preg_replace('/(within [\d.]+ s): .*$/s', '$1: ...',
                str_replace("$class::", 'CLASS::', $e->getMessage()));
        }
    }
    echo $what, ': ', $messages['DistributedSemaphore'],
        $messages['DistributedSemaphore'] === $messages['DistributedLock'] ? '' : "\n  BUT DistributedLock: " . $messages['DistributedLock'], "\n";
}
try {
    new DistributedSemaphore();
} catch (ArgumentCountError $e) {
    echo get_class($e), ': ', $e->getMessage(), "\n";
}

echo "-- the instance still works\n";
var_dump($sem->tryAcquire('n', 3), $sem->release('n'));
?>
--EXPECT--
-- limit out of range
limit 0: DistributedLockConfigException: limit must be 1 to 1000000, 0 given
limit 0, acquire: DistributedLockConfigException: limit must be 1 to 1000000, 0 given
limit -1: DistributedLockConfigException: limit must be 1 to 1000000, -1 given
limit -1, acquire: DistributedLockConfigException: limit must be 1 to 1000000, -1 given
limit 1000001: DistributedLockConfigException: limit must be 1 to 1000000, 1000001 given
limit 1000001, acquire: DistributedLockConfigException: limit must be 1 to 1000000, 1000001 given
limit 9223372036854775807: DistributedLockConfigException: limit must be 1 to 1000000, 9223372036854775807 given
limit 9223372036854775807, acquire: DistributedLockConfigException: limit must be 1 to 1000000, 9223372036854775807 given
limit -9223372036854775808: DistributedLockConfigException: limit must be 1 to 1000000, -9223372036854775808 given
limit -9223372036854775808, acquire: DistributedLockConfigException: limit must be 1 to 1000000, -9223372036854775808 given
-- weight out of range
weight 0 of 3: DistributedLockConfigException: weight must be 1 to the limit (3), 0 given
weight 0 of 3, acquire: DistributedLockConfigException: weight must be 1 to the limit (3), 0 given
weight -1 of 3: DistributedLockConfigException: weight must be 1 to the limit (3), -1 given
weight -1 of 3, acquire: DistributedLockConfigException: weight must be 1 to the limit (3), -1 given
weight 4 of 3: DistributedLockConfigException: weight must be 1 to the limit (3), 4 given
weight 4 of 3, acquire: DistributedLockConfigException: weight must be 1 to the limit (3), 4 given
weight 1000001 of 3: DistributedLockConfigException: weight must be 1 to the limit (3), 1000001 given
weight 1000001 of 3, acquire: DistributedLockConfigException: weight must be 1 to the limit (3), 1000001 given
weight 2 of 1: DistributedLockConfigException: weight must be 1 to the limit (1), 2 given
-- the bounds themselves are fine
limit 1, weight 1: [true,true]
limit 1000000, weight 1000000: [true,1000000,true]
-- int arguments are coerced as for PHP's own functions
limit 3.0: [true,3,true]
limit '3': [true,3,true]
limit ' 3': [true,3,true]
limit '3 ': [true,3,true]
limit '3e0': [true,3,true]
limit true: [true,1,true]
limit false (0): DistributedLockConfigException: limit must be 1 to 1000000, 0 given
weight 2.0: [true,2,true]
weight '2': [true,2,true]
-- anything else is a TypeError, a fraction too (refused, not truncated)
limit 1.5: TypeError: DistributedSemaphore::tryAcquire(): Argument #2 ($limit) must be of type int, float given
limit 2.999: TypeError: DistributedSemaphore::tryAcquire(): Argument #2 ($limit) must be of type int, float given
limit '1.5': TypeError: DistributedSemaphore::tryAcquire(): Argument #2 ($limit) must be of type int, string given
limit 'abc': TypeError: DistributedSemaphore::tryAcquire(): Argument #2 ($limit) must be of type int, string given
limit '': TypeError: DistributedSemaphore::tryAcquire(): Argument #2 ($limit) must be of type int, string given
limit '3abc': TypeError: DistributedSemaphore::tryAcquire(): Argument #2 ($limit) must be of type int, string given
limit '0x3': TypeError: DistributedSemaphore::tryAcquire(): Argument #2 ($limit) must be of type int, string given
limit NULL: TypeError: DistributedSemaphore::tryAcquire(): Argument #2 ($limit) must be of type int, null given
limit array (): TypeError: DistributedSemaphore::tryAcquire(): Argument #2 ($limit) must be of type int, array given
limit (object) array(): TypeError: DistributedSemaphore::tryAcquire(): Argument #2 ($limit) must be of type int, stdClass given
limit INF: TypeError: DistributedSemaphore::tryAcquire(): Argument #2 ($limit) must be of type int, float given
limit NAN: TypeError: DistributedSemaphore::tryAcquire(): Argument #2 ($limit) must be of type int, float given
limit 1.0E+19: TypeError: DistributedSemaphore::tryAcquire(): Argument #2 ($limit) must be of type int, float given
weight 1.5: TypeError: DistributedSemaphore::acquire(): Argument #4 ($weight) must be of type int, float given
weight 'abc': TypeError: DistributedSemaphore::acquire(): Argument #4 ($weight) must be of type int, string given
weight array (): TypeError: DistributedSemaphore::acquire(): Argument #4 ($weight) must be of type int, array given
tryAcquire weight 0.5: TypeError: DistributedSemaphore::tryAcquire(): Argument #3 ($weight) must be of type int, float given
weight null: TypeError: Argument `$weight` must not be null
-- under strict_types only int is an int (a float time-out may be an int)
limit 3: [true,true]
limit 3.0: TypeError: DistributedSemaphore::tryAcquire(): Argument #2 ($limit) must be of type int, float given
limit '3': TypeError: DistributedSemaphore::tryAcquire(): Argument #2 ($limit) must be of type int, string given
limit true: TypeError: DistributedSemaphore::tryAcquire(): Argument #2 ($limit) must be of type int, bool given
weight 1.0: TypeError: DistributedSemaphore::acquire(): Argument #4 ($weight) must be of type int, float given
weight '1': TypeError: DistributedSemaphore::tryAcquire(): Argument #3 ($weight) must be of type int, string given
int time-out (int to float is allowed): [true,true]
time-out '1': TypeError: DistributedSemaphore::acquire(): Argument #3 ($timeout) must be of type ?float, string given
name 42: TypeError: DistributedSemaphore::tryAcquire(): Argument #1 ($name) must be of type string, int given
name null: TypeError: DistributedSemaphore::release(): Argument #1 ($name) must be of type string, null given
-- time-out
time-out -1: DistributedLockConfigException: timeout must not be negative, -1 given; use null to wait forever
time-out -0.001: DistributedLockConfigException: timeout must not be negative, -0.001 given; use null to wait forever
time-out -INF: DistributedLockConfigException: timeout must not be negative, -INF given; use null to wait forever
time-out NAN: DistributedLockConfigException: timeout must be a number of seconds or null, NAN given
time-out 'soon': TypeError: DistributedSemaphore::acquire(): Argument #3 ($timeout) must be of type ?float, string given
time-out []: TypeError: DistributedSemaphore::acquire(): Argument #3 ($timeout) must be of type ?float, array given
time-out '0.5' and INF are fine: [true,true,true,true]
-- names
acquire, empty: DistributedLockConfigException: invalid semaphore name: it must not be empty
tryAcquire, empty: DistributedLockConfigException: invalid semaphore name: it must not be empty
release, empty: DistributedLockConfigException: invalid semaphore name: it must not be empty
isAcquired, empty: DistributedLockConfigException: invalid semaphore name: it must not be empty
getFencingToken, empty: DistributedLockConfigException: invalid semaphore name: it must not be empty
getRemainingLifetime, empty: DistributedLockConfigException: invalid semaphore name: it must not be empty
inspect, empty: DistributedLockConfigException: invalid semaphore name: it must not be empty
acquire, 1025 bytes: DistributedLockConfigException: invalid semaphore name: it is 1025 bytes long, at most 1024 are allowed
tryAcquire, 1025 bytes: DistributedLockConfigException: invalid semaphore name: it is 1025 bytes long, at most 1024 are allowed
release, 1025 bytes: DistributedLockConfigException: invalid semaphore name: it is 1025 bytes long, at most 1024 are allowed
isAcquired, 1025 bytes: DistributedLockConfigException: invalid semaphore name: it is 1025 bytes long, at most 1024 are allowed
getFencingToken, 1025 bytes: DistributedLockConfigException: invalid semaphore name: it is 1025 bytes long, at most 1024 are allowed
getRemainingLifetime, 1025 bytes: DistributedLockConfigException: invalid semaphore name: it is 1025 bytes long, at most 1024 are allowed
inspect, 1025 bytes: DistributedLockConfigException: invalid semaphore name: it is 1025 bytes long, at most 1024 are allowed
acquire, not UTF-8: DistributedLockConfigException: invalid semaphore name: not valid UTF-8
tryAcquire, not UTF-8: DistributedLockConfigException: invalid semaphore name: not valid UTF-8
release, not UTF-8: DistributedLockConfigException: invalid semaphore name: not valid UTF-8
isAcquired, not UTF-8: DistributedLockConfigException: invalid semaphore name: not valid UTF-8
getFencingToken, not UTF-8: DistributedLockConfigException: invalid semaphore name: not valid UTF-8
getRemainingLifetime, not UTF-8: DistributedLockConfigException: invalid semaphore name: not valid UTF-8
inspect, not UTF-8: DistributedLockConfigException: invalid semaphore name: not valid UTF-8
acquire, array: TypeError: DistributedSemaphore::acquire(): Argument #1 ($name) must be of type string, array given
tryAcquire, array: TypeError: DistributedSemaphore::tryAcquire(): Argument #1 ($name) must be of type string, array given
release, array: TypeError: DistributedSemaphore::release(): Argument #1 ($name) must be of type string, array given
isAcquired, array: TypeError: DistributedSemaphore::isAcquired(): Argument #1 ($name) must be of type string, array given
getFencingToken, array: TypeError: DistributedSemaphore::getFencingToken(): Argument #1 ($name) must be of type string, array given
getRemainingLifetime, array: TypeError: DistributedSemaphore::getRemainingLifetime(): Argument #1 ($name) must be of type string, array given
inspect, array: TypeError: DistributedSemaphore::inspect(): Argument #1 ($name) must be of type string, array given
tryAcquire, 1024 bytes (fine): [true,true]
tryAcquire, int 42 (the name "42"): [true,true,true]
tryAcquire, null: TypeError: DistributedSemaphore::tryAcquire(): Argument #1 ($name) must be of type string, null given
-- argument count
acquire(name): ArgumentCountError: DistributedSemaphore::acquire() expects at least 2 arguments, 1 given
acquire with 5 arguments: ArgumentCountError: DistributedSemaphore::acquire() expects at most 4 arguments, 5 given
tryAcquire with 4 arguments: ArgumentCountError: DistributedSemaphore::tryAcquire() expects at most 3 arguments, 4 given
release(): ArgumentCountError: DistributedSemaphore::release() expects exactly 1 argument, 0 given
-- nothing was queued or held by the refused calls
array(5) {
  ["mode"]=>
  NULL
  ["holders"]=>
  array(0) {
  }
  ["waiting"]=>
  int(0)
  ["limit"]=>
  NULL
  ["complete"]=>
  bool(true)
}
NULL
NULL
-- the constructor refuses what DistributedLock's refuses, with the same message
empty topic: DistributedLockConfigException: topic name must not be empty
topic with a space: DistributedLockConfigException: topic name 'a b' contains ' '; Kafka allows only ASCII letters, digits, '.', '_' and '-'
topic of 250 characters: DistributedLockConfigException: topic name is 250 characters long; Kafka allows at most 249
topic ..: DistributedLockConfigException: topic name '..' is not allowed by Kafka
topic array: TypeError: CLASS::__construct(): Argument #1 ($topic) must be of type string, array given
config string: TypeError: CLASS::__construct(): Argument #2 ($config) must be of type array, string given
config null: TypeError: Argument `$config` must not be null
unknown lock option: DistributedLockConfigException: unknown option 'lock.nope'; lock options are: lock.ttl, lock.max_clock_step, lock.partitions, lock.replication_factor, lock.create_topic, lock.connect_timeout, lock.operation_timeout
lock.ttl 0: DistributedLockConfigException: option 'lock.ttl' must be between 0.1 and 60 seconds, 0 given
lock.ttl array: DistributedLockConfigException: option 'lock.ttl' must be a string, int, float or bool, array given
managed property: DistributedLockConfigException: option 'acks' is set by kafka_lock itself (the lock relies on acks=all, an idempotent producer and its own partitioning) and cannot be changed
both broker keys: DistributedLockConfigException: options 'metadata.broker.list' and 'bootstrap.servers' both set the brokers; give only one
unreachable brokers: DistributedLockConnectionException: cannot reach the Kafka brokers at 127.0.0.1:1 within 0.3 s: ...
ArgumentCountError: DistributedSemaphore::__construct() expects at least 1 argument, 0 given
-- the instance still works
bool(true)
bool(true)
