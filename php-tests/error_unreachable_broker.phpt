--TEST--
Unreachable brokers: the constructor throws DistributedLockConnectionException within lock.connect_timeout
--FILE--
<?php
$topic = 'phpt_' . bin2hex(random_bytes(4));
foreach ([
    ['metadata.broker.list' => '127.0.0.1:1', 'lock.connect_timeout' => 1],
    // The same settings again: a failed connection is not cached as a good one.
    ['metadata.broker.list' => '127.0.0.1:1', 'lock.connect_timeout' => 1],
    ['bootstrap.servers' => '127.0.0.1:1,127.0.0.1:2', 'lock.connect_timeout' => 0.5],
] as $config) {
    $start = hrtime(true);
    try {
        new DistributedLock($topic, $config);
        echo "no exception\n";
    } catch (DistributedLockException $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
    $took = (hrtime(true) - $start) / 1e9;
    echo "within a few seconds: ";
    var_dump($took < 4.0);
    if ($took >= 4.0) {
        printf("took %.1f s\n", $took);
    }
}
var_dump((new DistributedLockConnectionException()) instanceof DistributedLockException);

echo "the good broker still works in the same process\n";
$lock = new DistributedLock($topic);
var_dump($lock->tryLock('x'));
?>
--EXPECTF--
DistributedLockConnectionException: cannot reach the Kafka brokers at 127.0.0.1:1 within 1.0 s: %s
within a few seconds: bool(true)
DistributedLockConnectionException: cannot reach the Kafka brokers at 127.0.0.1:1 within 1.0 s: %s
within a few seconds: bool(true)
DistributedLockConnectionException: cannot reach the Kafka brokers at 127.0.0.1:1,127.0.0.1:2 within 0.5 s: %s
within a few seconds: bool(true)
bool(true)
the good broker still works in the same process
bool(true)
