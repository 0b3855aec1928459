--TEST--
lock.create_topic => false: a missing topic throws DistributedLockTopicException; an existing one works
--FILE--
<?php
$topic = 'phpt_' . bin2hex(random_bytes(4));
foreach ([false, 0, 'off', 'no'] as $off) {
    try {
        new DistributedLock($topic, ['lock.create_topic' => $off]);
        echo "no exception\n";
    } catch (DistributedLockException $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}
echo "the failed attempts did not create it\n";
try {
    new DistributedLock($topic, ['lock.create_topic' => false]);
    echo "no exception\n";
} catch (DistributedLockTopicException $e) {
    echo "still missing\n";
}

echo "once created (by a default instance) it is used\n";
$creator = new DistributedLock($topic);
$lock = new DistributedLock($topic, ['lock.create_topic' => false]);
var_dump($lock->tryLock('a'));
var_dump($creator->tryLock('a'));
var_dump($lock->releaseLock('a'));
?>
--EXPECTF--
DistributedLockTopicException: topic 'phpt_%x' does not exist and lock.create_topic is off; create it with message.timestamp.type=LogAppendTime
DistributedLockTopicException: topic 'phpt_%x' does not exist and lock.create_topic is off; create it with message.timestamp.type=LogAppendTime
DistributedLockTopicException: topic 'phpt_%x' does not exist and lock.create_topic is off; create it with message.timestamp.type=LogAppendTime
DistributedLockTopicException: topic 'phpt_%x' does not exist and lock.create_topic is off; create it with message.timestamp.type=LogAppendTime
the failed attempts did not create it
still missing
once created (by a default instance) it is used
bool(true)
bool(false)
bool(true)
