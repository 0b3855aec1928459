--TEST--
Out-of-range and malformed lock.* values throw DistributedLockConfigException naming the option and the accepted range; the edges and other spellings are accepted and take effect
--FILE--
<?php
$topic = 'phpt_' . bin2hex(random_bytes(4));
$cases = [
    ['lock.ttl', 0],
    ['lock.ttl', 61],
    ['lock.ttl', 0.05],
    ['lock.ttl', 'abc'],
    ['lock.ttl', ''],
    ['lock.ttl', true],
    ['lock.ttl', -3],
    ['lock.max_clock_step', -0.1],
    ['lock.max_clock_step', 61],
    ['lock.max_clock_step', 'soon'],
    ['lock.ttl', 1],
    ['lock.ttl', 0.1],
    ['lock.partitions', 0],
    ['lock.partitions', 100001],
    ['lock.partitions', 1.5],
    ['lock.partitions', 'two'],
    ['lock.replication_factor', 0],
    ['lock.replication_factor', -2],
    ['lock.create_topic', 'maybe'],
    ['lock.connect_timeout', 0],
    ['lock.connect_timeout', 3601],
    ['lock.operation_timeout', -1],
    ['lock.operation_timeout', 'x'],
];
foreach ($cases as [$key, $value]) {
    try {
        new DistributedLock($topic, [$key => $value]);
        echo "$key: no exception\n";
    } catch (DistributedLockException $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}
echo "-- the edges of the ranges and the other accepted spellings are accepted, and take effect\n";
require __DIR__ . '/helpers/lock_lib.php';
$fresh = fn() => 'phpt_' . bin2hex(random_bytes(4));

echo "lock.ttl: the hold's lease\n";
foreach ([[0.1, 0.1], [60, 60], ['2.5', 2.5], [' 3 ', 3]] as $i => [$value, $ttl]) {
    lease(new DistributedLock($topic, ['lock.ttl' => $value, 'lock.max_clock_step' => 0]), "ttl-$i", $ttl);
}
// The shortest lease is renewed often enough to outlive itself many times over.
$short = new DistributedLock($topic, ['lock.ttl' => 0.1, 'lock.max_clock_step' => 0]);
var_dump($short->acquireLock('short', 5.0));
usleep(500000);
var_dump($short->isAcquired('short'), $short->releaseLock('short'));

echo "lock.max_clock_step: the holder trusts its lease that much less (ttl - ttl/10 - step)\n";
foreach ([[0, 9.0], ['4', 5.0], [2.5, 6.5]] as $i => [$value, $trusted]) {
    $lock = new DistributedLock($topic, ['lock.ttl' => 10, 'lock.max_clock_step' => $value]);
    $lock->acquireLock("step-$i", 5.0);
    $left = $lock->getRemainingLifetime("step-$i");
    echo var_export($value, true), ': remaining ', $left <= $trusted && $left > $trusted - 1.0 ? "in ($trusted - 1, $trusted]" : $left, "\n";
    $lock->releaseLock("step-$i");
}
// The pair is checked whichever order it is given in, and with a ttl from the defaults.
ini_set('kafka_lock.ttl', '1');
var_dump((new DistributedLock($topic, ['lock.max_clock_step' => 0.4]))->tryLock('step-ini'));
ini_restore('kafka_lock.ttl');

echo "lock.partitions: a fresh topic's partitions (tokens are offsets, counted per partition)\n";
foreach (['1', '2', 3] as $value) {
    $lock = new DistributedLock($fresh(), ['lock.partitions' => $value]);
    $tokens = [];
    foreach (range(0, 7) as $i) {
        $tokens[] = $lock->tryLock("p$i") ? $lock->getFencingToken("p$i") : 'not granted';
    }
    // One partition: 0..7. More: every partition counts from 0, so the offsets repeat.
    echo var_export($value, true), ': ', $tokens === range(0, 7) ? 'one partition' : (min($tokens) === 0 && count(array_unique($tokens)) < 8 ? 'several partitions' : implode(',', $tokens)), "\n";
}

echo "lock.replication_factor: a fresh topic is created with it (2 is refused by this one broker)\n";
foreach ([1, '-1', 2] as $value) {
    try {
        $lock = new DistributedLock($fresh(), ['lock.replication_factor' => $value]);
        echo var_export($value, true), ': ', $lock->tryLock('r') ? 'created, lock works' : 'created, tryLock false', "\n";
    } catch (DistributedLockTopicException $e) {
        echo var_export($value, true), ': ', preg_replace('/phpt_[0-9a-f]+/', 'TOPIC', $e->getMessage()), "\n";
    }
}

echo "lock.create_topic: on creates a missing topic, off refuses it\n";
foreach (['yes', 'on', 1, true, '1', 'no', 'off', 0, false, ''] as $value) {
    try {
        $lock = new DistributedLock($fresh(), ['lock.create_topic' => $value]);
        echo var_export($value, true), ': ', $lock->tryLock('c') ? 'created' : 'created, tryLock false', "\n";
    } catch (DistributedLockTopicException $e) {
        echo var_export($value, true), ": missing\n";
    }
}

echo "lock.connect_timeout: how long the constructor waits for unreachable brokers\n";
foreach ([[0.001, 0.0, 0.5], [0.25, 0.25, 1.25]] as [$value, $min, $max]) {
    $start = hrtime(true);
    try {
        new DistributedLock($topic, ['lock.connect_timeout' => $value, 'metadata.broker.list' => '127.0.0.1:1']);
        echo "no exception\n";
    } catch (DistributedLockConnectionException $e) {
        $took = (hrtime(true) - $start) / 1e9;
        echo "$value: gave up after ", $took >= $min && $took < $max ? "$min to $max s" : sprintf('%.3f s', $took), "\n";
    }
}

$far = new DistributedLock($topic, ['lock.connect_timeout' => 3600]);
echo "3600 with a reachable broker: ", var_export($far->tryLock('far') && $far->releaseLock('far'), true), "\n";

echo "lock.operation_timeout: part of the session key, so 3600 and '3600' share a session and other values do not\n";
$before = kafka_lock_sessions();
$x = new DistributedLock($topic, ['lock.operation_timeout' => '3600']);
$y = new DistributedLock($topic, ['lock.operation_timeout' => 3600]);
$z = new DistributedLock($topic, ['lock.operation_timeout' => 3599.5]);
var_dump(kafka_lock_sessions() - $before);
var_dump($x->tryLock('o'), $y->tryLock('o'), $z->tryLock('o'), $x->releaseLock('o'));
?>
--EXPECT--
DistributedLockConfigException: option 'lock.ttl' must be between 0.1 and 60 seconds, 0 given
DistributedLockConfigException: option 'lock.ttl' must be between 0.1 and 60 seconds, 61 given
DistributedLockConfigException: option 'lock.ttl' must be between 0.1 and 60 seconds, 0.05 given
DistributedLockConfigException: option 'lock.ttl' must be a number, 'abc' given
DistributedLockConfigException: option 'lock.ttl' must be a number, '' given
DistributedLockConfigException: option 'lock.ttl' must be a number, bool given
DistributedLockConfigException: option 'lock.ttl' must be between 0.1 and 60 seconds, -3 given
DistributedLockConfigException: option 'lock.max_clock_step' must be between 0 and 60 seconds, -0.1 given
DistributedLockConfigException: option 'lock.max_clock_step' must be between 0 and 60 seconds, 61 given
DistributedLockConfigException: option 'lock.max_clock_step' must be a number, 'soon' given
DistributedLockConfigException: lock.ttl 1 s with lock.max_clock_step 0.5 s leaves a holder too little time to trust its lease: it trusts a lease for ttl - ttl/10 - max_clock_step (0.4 s), which must be at least half the ttl; give a ttl of at least 1.25 s or a smaller max_clock_step (in the config array or the defaults)
DistributedLockConfigException: lock.ttl 0.1 s with lock.max_clock_step 0.5 s leaves a holder too little time to trust its lease: it trusts a lease for ttl - ttl/10 - max_clock_step (0 s), which must be at least half the ttl; give a ttl of at least 1.25 s or a smaller max_clock_step (in the config array or the defaults)
DistributedLockConfigException: option 'lock.partitions' must be between 1 and 100000, 0 given
DistributedLockConfigException: option 'lock.partitions' must be between 1 and 100000, 100001 given
DistributedLockConfigException: option 'lock.partitions' must be an integer, float 1.5 given
DistributedLockConfigException: option 'lock.partitions' must be an integer, 'two' given
DistributedLockConfigException: option 'lock.replication_factor' must be -1 (the broker's default) or at least 1, 0 given
DistributedLockConfigException: option 'lock.replication_factor' must be between -1 and 1000, -2 given
DistributedLockConfigException: option 'lock.create_topic' must be a bool, 'maybe' given
DistributedLockConfigException: option 'lock.connect_timeout' must be between 0.001 and 3600 seconds, 0 given
DistributedLockConfigException: option 'lock.connect_timeout' must be between 0.001 and 3600 seconds, 3601 given
DistributedLockConfigException: option 'lock.operation_timeout' must be between 0.001 and 3600 seconds, -1 given
DistributedLockConfigException: option 'lock.operation_timeout' must be a number, 'x' given
-- the edges of the ranges and the other accepted spellings are accepted, and take effect
lock.ttl: the hold's lease
ttl-0: acquired true, remaining in (0.1/2, 0.1]
ttl-1: acquired true, remaining in (60/2, 60]
ttl-2: acquired true, remaining in (2.5/2, 2.5]
ttl-3: acquired true, remaining in (3/2, 3]
bool(true)
bool(true)
bool(true)
lock.max_clock_step: the holder trusts its lease that much less (ttl - ttl/10 - step)
0: remaining in (9 - 1, 9]
'4': remaining in (5 - 1, 5]
2.5: remaining in (6.5 - 1, 6.5]
bool(true)
lock.partitions: a fresh topic's partitions (tokens are offsets, counted per partition)
'1': one partition
'2': several partitions
3: several partitions
lock.replication_factor: a fresh topic is created with it (2 is refused by this one broker)
1: created, lock works
'-1': created, lock works
2: cannot create topic 'TOPIC' (partitions 1, replication factor 2): InvalidReplicationFactor (Broker: Invalid replication factor)
lock.create_topic: on creates a missing topic, off refuses it
'yes': created
'on': created
1: created
true: created
'1': created
'no': missing
'off': missing
0: missing
false: missing
'': missing
lock.connect_timeout: how long the constructor waits for unreachable brokers
0.001: gave up after 0 to 0.5 s
0.25: gave up after 0.25 to 1.25 s
3600 with a reachable broker: true
lock.operation_timeout: part of the session key, so 3600 and '3600' share a session and other values do not
int(2)
bool(true)
bool(false)
bool(false)
bool(true)
