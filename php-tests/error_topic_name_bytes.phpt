--TEST--
Topic names with a NUL byte or invalid UTF-8 throw DistributedLockConfigException too (not Error or TypeError)
--FILE--
<?php
foreach (['NUL byte' => "a\0b", 'invalid UTF-8' => "t\xff"] as $what => $topic) {
    try {
        new DistributedLock($topic, ['metadata.broker.list' => '127.0.0.1:1', 'lock.connect_timeout' => 5]);
        echo "$what: no exception\n";
    } catch (Throwable $e) {
        echo "$what: ", get_class($e), ': ', str_starts_with($e->getMessage(), 'topic name ') ? 'topic name ...' : $e->getMessage(), "\n";
    }
}
?>
--EXPECT--
NUL byte: DistributedLockConfigException: topic name ...
invalid UTF-8: DistributedLockConfigException: topic name ...
