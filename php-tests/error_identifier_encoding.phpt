--TEST--
An identifier that is not valid UTF-8 throws DistributedLockConfigException (identifiers are UTF-8 record keys)
--FILE--
<?php
$lock = new DistributedLock('phpt_' . bin2hex(random_bytes(4)));
foreach (["\xff", "caf\xe9", md5('raw', true)] as $id) {
    foreach (['acquireLock', 'tryLock', 'releaseLock', 'isAcquired'] as $method) {
        try {
            var_dump($lock->$method($id));
        } catch (Throwable $e) {
            echo $method, ': ', get_class($e), ': ', $e->getMessage(), "\n";
        }
    }
}
?>
--EXPECTF--
acquireLock: DistributedLockConfigException: invalid lock identifier: %SUTF-8%S
tryLock: DistributedLockConfigException: invalid lock identifier: %SUTF-8%S
releaseLock: DistributedLockConfigException: invalid lock identifier: %SUTF-8%S
isAcquired: DistributedLockConfigException: invalid lock identifier: %SUTF-8%S
acquireLock: DistributedLockConfigException: invalid lock identifier: %SUTF-8%S
tryLock: DistributedLockConfigException: invalid lock identifier: %SUTF-8%S
releaseLock: DistributedLockConfigException: invalid lock identifier: %SUTF-8%S
isAcquired: DistributedLockConfigException: invalid lock identifier: %SUTF-8%S
acquireLock: DistributedLockConfigException: invalid lock identifier: %SUTF-8%S
tryLock: DistributedLockConfigException: invalid lock identifier: %SUTF-8%S
releaseLock: DistributedLockConfigException: invalid lock identifier: %SUTF-8%S
isAcquired: DistributedLockConfigException: invalid lock identifier: %SUTF-8%S
