--TEST--
DistributedLock is final and cannot be cloned, serialized or made without its constructor
--FILE--
<?php
$lock = new DistributedLock('phpt_' . bin2hex(random_bytes(4)));
var_dump((new ReflectionClass('DistributedLock'))->isFinal());
foreach ([
    'clone' => fn() => clone $lock,
    'serialize' => fn() => serialize($lock),
    'unserialize' => fn() => unserialize('O:15:"DistributedLock":0:{}'),
    'newInstanceWithoutConstructor' => fn() => (new ReflectionClass('DistributedLock'))->newInstanceWithoutConstructor(),
] as $what => $call) {
    try {
        $call();
        echo "$what: no exception\n";
    } catch (Throwable $e) {
        echo "$what: ", get_class($e), ': ', $e->getMessage(), "\n";
    }
}
// The original still works.
var_dump($lock->tryLock('a'), $lock->releaseLock('a'));
?>
--EXPECT--
bool(true)
clone: Error: Trying to clone an uncloneable object of class DistributedLock
serialize: Exception: Serialization of 'DistributedLock' is not allowed
unserialize: Exception: Unserialization of 'DistributedLock' is not allowed
newInstanceWithoutConstructor: ReflectionException: Class DistributedLock is an internal class marked as final that cannot be instantiated without invoking its constructor
bool(true)
bool(true)
