--TEST--
Messages spell infinite and not-a-number floats the PHP way (INF, -INF, NAN), as PHP code would write them
--FILE--
<?php
$topic = 'phpt_' . bin2hex(random_bytes(4));
$lock = new DistributedLock($topic);
try {
    $lock->acquireLock('t', -INF);
} catch (DistributedLockConfigException $e) {
    echo $e->getMessage(), "\n";
}
foreach ([NAN, INF, -INF] as $ttl) {
    try {
        new DistributedLock($topic, ['lock.ttl' => $ttl]);
    } catch (DistributedLockConfigException $e) {
        echo $e->getMessage(), "\n";
    }
}
?>
--EXPECT--
timeout must not be negative, -INF given; use null to wait forever
option 'lock.ttl' must be between 0.1 and 60 seconds, NAN given
option 'lock.ttl' must be between 0.1 and 60 seconds, INF given
option 'lock.ttl' must be between 0.1 and 60 seconds, -INF given
