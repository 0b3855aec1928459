--TEST--
Names with a NUL byte or invalid UTF-8 in an error message: the documented exception is still thrown (not Error or TypeError)
--FILE--
<?php
echo "-- topic names\n";
foreach (['NUL byte' => "a\0b", 'invalid UTF-8' => "t\xff"] as $what => $topic) {
    try {
        new DistributedLock($topic, ['metadata.broker.list' => '127.0.0.1:1', 'lock.connect_timeout' => 5]);
        echo "$what: no exception\n";
    } catch (Throwable $e) {
        echo "$what: ", get_class($e), ': ', str_starts_with($e->getMessage(), 'topic name ') ? 'topic name ...' : $e->getMessage(), "\n";
    }
}

echo "-- a lost lease of an identifier with a NUL byte (valid UTF-8, accepted as identifier)\n";
$lock = new DistributedLock('phpt_' . bin2hex(random_bytes(4)), ['lock.ttl' => 0.3, 'lock.max_clock_step' => 0]);
var_dump($lock->acquireLock("job\0one"));
$pid = getmypid();
shell_exec("(sleep 1.0; kill -CONT $pid) >/dev/null 2>&1 & kill -STOP $pid");
try {
    $lock->acquireLock("job\0one", 1.0);
    echo "no exception\n";
} catch (Throwable $e) {
    echo get_class($e), ': ', str_starts_with($e->getMessage(), 'the lease of lock ') ? 'the lease of lock ...' : $e->getMessage(), "\n";
}
?>
--EXPECT--
-- topic names
NUL byte: DistributedLockConfigException: topic name ...
invalid UTF-8: DistributedLockConfigException: invalid topic name: not valid UTF-8
-- a lost lease of an identifier with a NUL byte (valid UTF-8, accepted as identifier)
bool(true)
DistributedLockLostException: the lease of lock ...
