--TEST--
lock.ttl sets the lease; the lease is renewed in the background, so a hold outlives many ttls
--FILE--
<?php
$topic = 'phpt_' . bin2hex(random_bytes(4));
$lock = new DistributedLock($topic, ['lock.ttl' => 0.5, 'lock.max_clock_step' => 0.2]);
$other = new DistributedLock($topic, ['lock.ttl' => 0.5, 'lock.max_clock_step' => 0.2]);
var_dump($lock->acquireLock('renewed'));
$token = $lock->getFencingToken('renewed');
$left = $lock->getRemainingLifetime('renewed');
var_dump($left > 0.0 && $left <= 0.5);

// Five ttls pass while the holder keeps running (the renewal thread works during usleep()).
$end = hrtime(true) + 2.5e9;
$lowest = INF;
while (hrtime(true) < $end) {
    $left = $lock->getRemainingLifetime('renewed');
    if ($left === null) {
        echo "lease lost\n";
        break;
    }
    $lowest = min($lowest, $left);
    usleep(50000);
}
var_dump($lock->isAcquired('renewed'));
var_dump($lock->getFencingToken('renewed') === $token);
echo "never ran out: ";
var_dump($lowest > 0.0);
var_dump($other->tryLock('renewed'));
var_dump($lock->releaseLock('renewed'));
var_dump($other->tryLock('renewed'));
var_dump($other->releaseLock('renewed'));
?>
--EXPECT--
bool(true)
bool(true)
bool(true)
bool(true)
never ran out: bool(true)
bool(false)
bool(true)
bool(true)
bool(true)
