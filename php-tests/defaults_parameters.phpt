--TEST--
Documented parameter defaults: $config = [] and $timeout = null
--FILE--
<?php
foreach (['__construct', 'acquireLock', 'tryLock', 'releaseLock', 'isAcquired',
          'getFencingToken', 'getRemainingLifetime'] as $method) {
    foreach ((new ReflectionMethod('DistributedLock', $method))->getParameters() as $p) {
        printf("%s(\$%s): %s%s\n", $method, $p->getName(), $p->getType(),
            $p->isOptional() ? ' = ' . var_export($p->getDefaultValue(), true) : '');
    }
}

// The defaults behave as documented: no config array at all, and acquireLock() without a
// time-out (waits forever; the lock is free, so it returns at once).
$lock = new DistributedLock('phpt_' . bin2hex(random_bytes(4)));
var_dump($lock->acquireLock('resource'));
var_dump($lock->releaseLock('resource'));
?>
--EXPECT--
__construct($topic): string
__construct($config): array = array (
)
acquireLock($identifier): string
acquireLock($timeout): ?float = NULL
tryLock($identifier): string
releaseLock($identifier): string
isAcquired($identifier): string
getFencingToken($identifier): string
getRemainingLifetime($identifier): string
bool(true)
bool(true)
