--TEST--
lock.create_topic given an int other than 0/1 or a float: the message says what was given, like every other option
--FILE--
<?php
$topic = 'phpt_' . bin2hex(random_bytes(4));
foreach ([2, 1.0] as $value) {
    try {
        new DistributedLock($topic, ['lock.create_topic' => $value]);
        echo "no exception\n";
    } catch (DistributedLockException $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}
?>
--EXPECTF--
DistributedLockConfigException: option 'lock.create_topic' must be a bool, %S2 given
DistributedLockConfigException: option 'lock.create_topic' must be a bool, %S1%S given
