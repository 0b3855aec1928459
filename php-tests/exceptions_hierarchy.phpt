--TEST--
Exception classes: parents as documented; PHP code can new, throw, catch and extend each; thrown ones carry the caller's file and line
--FILE--
<?php
$classes = ['DistributedLockException', 'DistributedLockConfigException', 'DistributedLockConnectionException',
            'DistributedLockTopicException', 'DistributedLockLostException', 'DistributedLockConflictException'];
foreach ($classes as $class) {
    $r = new ReflectionClass($class);
    printf("%s extends %s%s%s\n", $class, $r->getParentClass()->getName(),
        $r->isFinal() ? ', final' : '', $r->isAbstract() ? ', abstract' : '');
}

echo "-- new, throw and catch\n";
$previous = new LogicException('cause');
foreach ($classes as $class) {
    try {
        throw new $class("message of $class", 42, $previous);
    } catch (DistributedLockException $e) {
        $caughtAsBase = true;
    }
    try {
        throw new $class();
    } catch (RuntimeException $runtime) {
    }
    printf("%s: base=%s runtime=%s message=%s code=%d previous=%s empty=%s\n", $class,
        var_export($caughtAsBase, true), var_export($runtime instanceof $class, true),
        $e->getMessage(), $e->getCode(), $e->getPrevious()?->getMessage(), var_export($runtime->getMessage(), true));
}

echo "-- user subclasses\n";
class MyLockError extends DistributedLockLostException {}
try {
    throw new MyLockError('mine');
} catch (DistributedLockException $e) {
    echo get_class($e), ': ', $e->getMessage(), "\n";
}

echo "-- an exception thrown by the extension\n";
$lock = new DistributedLock('phpt_' . bin2hex(random_bytes(4)));
try {
    $line = __LINE__ + 1;
    $lock->tryLock('');
} catch (DistributedLockConfigException $e) {
    var_dump($e instanceof DistributedLockException, $e instanceof RuntimeException);
    var_dump($e->getFile() === __FILE__, $e->getLine() === $line, $e->getCode(), $e->getPrevious());
    echo $e->getTrace()[0]['class'], '::', $e->getTrace()[0]['function'], "\n";
}
try {
    new DistributedLock('phpt_topic', ['nope' => 1]);
} catch (RuntimeException $e) {
    echo get_class($e), "\n";
}
?>
--EXPECT--
DistributedLockException extends RuntimeException
DistributedLockConfigException extends DistributedLockException
DistributedLockConnectionException extends DistributedLockException
DistributedLockTopicException extends DistributedLockException
DistributedLockLostException extends DistributedLockException
DistributedLockConflictException extends DistributedLockException
-- new, throw and catch
DistributedLockException: base=true runtime=true message=message of DistributedLockException code=42 previous=cause empty=''
DistributedLockConfigException: base=true runtime=true message=message of DistributedLockConfigException code=42 previous=cause empty=''
DistributedLockConnectionException: base=true runtime=true message=message of DistributedLockConnectionException code=42 previous=cause empty=''
DistributedLockTopicException: base=true runtime=true message=message of DistributedLockTopicException code=42 previous=cause empty=''
DistributedLockLostException: base=true runtime=true message=message of DistributedLockLostException code=42 previous=cause empty=''
DistributedLockConflictException: base=true runtime=true message=message of DistributedLockConflictException code=42 previous=cause empty=''
-- user subclasses
MyLockError: mine
-- an exception thrown by the extension
bool(true)
bool(true)
bool(true)
bool(true)
int(0)
NULL
DistributedLock::tryLock
DistributedLockConfigException
