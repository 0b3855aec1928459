--TEST--
Out-of-range and malformed lock.* values throw DistributedLockConfigException naming the option and the accepted range
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
echo "-- the edges of the ranges and the other accepted spellings are fine\n";
foreach ([['lock.ttl', 0.1], ['lock.ttl', 60], ['lock.ttl', '2.5'], ['lock.ttl', ' 3 '],
          ['lock.partitions', '1'], ['lock.replication_factor', 1], ['lock.replication_factor', '-1'],
          ['lock.create_topic', 'yes'], ['lock.create_topic', 'on'], ['lock.create_topic', 1], ['lock.create_topic', true],
          ['lock.connect_timeout', 0.001 + 4], ['lock.operation_timeout', '3600']] as [$key, $value]) {
    $lock = new DistributedLock($topic, [$key => $value]);
}
echo "ok\n";
?>
--EXPECT--
DistributedLockConfigException: option 'lock.ttl' must be between 0.1 and 60 seconds, 0 given
DistributedLockConfigException: option 'lock.ttl' must be between 0.1 and 60 seconds, 61 given
DistributedLockConfigException: option 'lock.ttl' must be between 0.1 and 60 seconds, 0.05 given
DistributedLockConfigException: option 'lock.ttl' must be a number, 'abc' given
DistributedLockConfigException: option 'lock.ttl' must be a number, '' given
DistributedLockConfigException: option 'lock.ttl' must be a number, bool given
DistributedLockConfigException: option 'lock.ttl' must be between 0.1 and 60 seconds, -3 given
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
-- the edges of the ranges and the other accepted spellings are fine
ok
