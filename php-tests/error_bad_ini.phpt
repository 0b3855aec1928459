--TEST--
A bad INI value (kafka_lock.ttl=abc) makes the constructor throw DistributedLockConfigException naming the setting
--INI--
kafka_lock.ttl=abc
--FILE--
<?php
$topic = 'phpt_' . bin2hex(random_bytes(4));
var_dump(ini_get('kafka_lock.ttl'));
try {
    new DistributedLock($topic);
    echo "no exception\n";
} catch (DistributedLockException $e) {
    echo get_class($e), ': ', $e->getMessage(), "\n";
}

echo "-- other settings, set at run time\n";
ini_set('kafka_lock.ttl', '10');
foreach (['partitions' => 'many', 'replication_factor' => '0', 'create_topic' => 'maybe',
          'connect_timeout' => '-1', 'operation_timeout' => 'x', 'ttl' => '61', 'brokers' => ''] as $name => $value) {
    $old = ini_set("kafka_lock.$name", $value);
    try {
        new DistributedLock($topic);
        echo "no exception\n";
    } catch (DistributedLockException $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
    ini_set("kafka_lock.$name", $old);
}

echo "-- the fixed settings work\n";
$lock = new DistributedLock($topic);
var_dump($lock->tryLock('a'));
?>
--EXPECT--
string(3) "abc"
DistributedLockConfigException: kafka_lock.ttl must be a number, 'abc' given
-- other settings, set at run time
DistributedLockConfigException: kafka_lock.partitions must be an integer, 'many' given
DistributedLockConfigException: kafka_lock.replication_factor must be -1 (the broker's default) or at least 1, 0 given
DistributedLockConfigException: kafka_lock.create_topic must be a bool, 'maybe' given
DistributedLockConfigException: kafka_lock.connect_timeout must be between 0.001 and 3600 seconds, -1 given
DistributedLockConfigException: kafka_lock.operation_timeout must be a number, 'x' given
DistributedLockConfigException: kafka_lock.ttl must be between 0.1 and 60 seconds, 61 given
DistributedLockConfigException: INI setting kafka_lock.brokers is empty
-- the fixed settings work
bool(true)
