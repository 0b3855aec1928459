--TEST--
Invalid identifiers (empty, longer than 1024 bytes) throw DistributedLockConfigException from every method
--FILE--
<?php
$lock = new DistributedLock('phpt_' . bin2hex(random_bytes(4)));
$calls = [
    'acquireLock' => fn(string $id) => $lock->acquireLock($id),
    'acquireLock+timeout' => fn(string $id) => $lock->acquireLock($id, 1.0),
    'tryLock' => fn(string $id) => $lock->tryLock($id),
    'releaseLock' => fn(string $id) => $lock->releaseLock($id),
    'isAcquired' => fn(string $id) => $lock->isAcquired($id),
    'getFencingToken' => fn(string $id) => $lock->getFencingToken($id),
    'getRemainingLifetime' => fn(string $id) => $lock->getRemainingLifetime($id),
];
foreach (['empty' => '', '1025 bytes' => str_repeat('x', 1025), '1025 bytes, multibyte' => str_repeat('é', 512) . 'x'] as $what => $id) {
    echo "-- $what\n";
    foreach ($calls as $method => $call) {
        try {
            var_dump($call($id));
        } catch (DistributedLockException $e) {
            printf("%s: %s: %s\n", $method, get_class($e), $e->getMessage());
        }
    }
}
echo "-- 1024 bytes is fine\n";
var_dump($lock->tryLock(str_repeat('é', 512)));
var_dump($lock->releaseLock(str_repeat('é', 512)));
?>
--EXPECT--
-- empty
acquireLock: DistributedLockConfigException: invalid lock identifier: it must not be empty
acquireLock+timeout: DistributedLockConfigException: invalid lock identifier: it must not be empty
tryLock: DistributedLockConfigException: invalid lock identifier: it must not be empty
releaseLock: DistributedLockConfigException: invalid lock identifier: it must not be empty
isAcquired: DistributedLockConfigException: invalid lock identifier: it must not be empty
getFencingToken: DistributedLockConfigException: invalid lock identifier: it must not be empty
getRemainingLifetime: DistributedLockConfigException: invalid lock identifier: it must not be empty
-- 1025 bytes
acquireLock: DistributedLockConfigException: invalid lock identifier: it is 1025 bytes long, at most 1024 are allowed
acquireLock+timeout: DistributedLockConfigException: invalid lock identifier: it is 1025 bytes long, at most 1024 are allowed
tryLock: DistributedLockConfigException: invalid lock identifier: it is 1025 bytes long, at most 1024 are allowed
releaseLock: DistributedLockConfigException: invalid lock identifier: it is 1025 bytes long, at most 1024 are allowed
isAcquired: DistributedLockConfigException: invalid lock identifier: it is 1025 bytes long, at most 1024 are allowed
getFencingToken: DistributedLockConfigException: invalid lock identifier: it is 1025 bytes long, at most 1024 are allowed
getRemainingLifetime: DistributedLockConfigException: invalid lock identifier: it is 1025 bytes long, at most 1024 are allowed
-- 1025 bytes, multibyte
acquireLock: DistributedLockConfigException: invalid lock identifier: it is 1025 bytes long, at most 1024 are allowed
acquireLock+timeout: DistributedLockConfigException: invalid lock identifier: it is 1025 bytes long, at most 1024 are allowed
tryLock: DistributedLockConfigException: invalid lock identifier: it is 1025 bytes long, at most 1024 are allowed
releaseLock: DistributedLockConfigException: invalid lock identifier: it is 1025 bytes long, at most 1024 are allowed
isAcquired: DistributedLockConfigException: invalid lock identifier: it is 1025 bytes long, at most 1024 are allowed
getFencingToken: DistributedLockConfigException: invalid lock identifier: it is 1025 bytes long, at most 1024 are allowed
getRemainingLifetime: DistributedLockConfigException: invalid lock identifier: it is 1025 bytes long, at most 1024 are allowed
-- 1024 bytes is fine
bool(true)
bool(true)
