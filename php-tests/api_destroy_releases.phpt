--TEST--
Destroying a DistributedLock releases its locks (unset, end of scope, reassignment), however many levels it holds
--FILE--
<?php
$topic = 'phpt_' . bin2hex(random_bytes(4));
$observer = new DistributedLock($topic);

echo "unset()\n";
$lock = new DistributedLock($topic);
var_dump($lock->acquireLock('a'), $lock->acquireLock('b'));
var_dump($observer->tryLock('a'));
unset($lock);
var_dump($observer->tryLock('a'), $observer->tryLock('b'));
var_dump($observer->releaseLock('a'), $observer->releaseLock('b'));

echo "reentrant hold\n";
$lock = new DistributedLock($topic);
var_dump($lock->acquireLock('c'), $lock->acquireLock('c'), $lock->acquireLock('c'));
$lock = null;
var_dump($observer->tryLock('c'));
var_dump($observer->releaseLock('c'));

echo "end of a function's scope\n";
function work(string $topic): bool {
    $lock = new DistributedLock($topic);
    return $lock->acquireLock('d');
}
var_dump(work($topic));
var_dump($observer->tryLock('d'));
var_dump($observer->releaseLock('d'));
?>
--EXPECT--
unset()
bool(true)
bool(true)
bool(false)
bool(true)
bool(true)
bool(true)
bool(true)
reentrant hold
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
end of a function's scope
bool(true)
bool(true)
bool(true)
