--TEST--
A hold whose lease ran out while the process was stopped: not acquired, no token, releaseLock() false, acquireLock() throws DistributedLockLostException
--FILE--
<?php
$topic = 'phpt_' . bin2hex(random_bytes(4));
$lock = new DistributedLock($topic, ['lock.ttl' => 0.3, 'lock.max_clock_step' => 0]);
var_dump($lock->acquireLock('paused'));
$token = $lock->getFencingToken('paused');

// Stop the whole process (renewal thread included) for four ttls; a background shell
// continues it. shell_exec() returns once the process runs again.
$pid = getmypid();
$start = hrtime(true);
shell_exec("(sleep 1.2; kill -CONT $pid) >/dev/null 2>&1 & kill -STOP $pid");
$paused = (hrtime(true) - $start) / 1e9;
echo "paused: ";
var_dump($paused >= 1.0);

var_dump($lock->isAcquired('paused'));
var_dump($lock->getFencingToken('paused'));
var_dump($lock->getRemainingLifetime('paused'));
foreach (['acquireLock' => fn() => $lock->acquireLock('paused', 1.0),
          'tryLock' => fn() => $lock->tryLock('paused')] as $method => $call) {
    try {
        $call();
        echo "$method: no exception\n";
    } catch (DistributedLockLostException $e) {
        echo "$method: ", get_class($e), ': ', $e->getMessage(), "\n";
    }
}
echo "release the lost hold\n";
var_dump($lock->releaseLock('paused'));
var_dump($lock->releaseLock('paused'));
echo "acquire anew\n";
var_dump($lock->acquireLock('paused', 5.0));
var_dump($lock->getFencingToken('paused') > $token);
var_dump($lock->releaseLock('paused'));
?>
--EXPECTF--
bool(true)
paused: bool(true)
bool(false)
NULL
NULL
acquireLock: DistributedLockLostException: the lease of lock 'paused' (fencing token %d) was lost while this instance held it; call releaseLock() (once) before acquiring it again
tryLock: DistributedLockLostException: the lease of lock 'paused' (fencing token %d) was lost while this instance held it; call releaseLock() (once) before acquiring it again
release the lost hold
bool(false)
bool(false)
acquire anew
bool(true)
bool(true)
bool(true)
