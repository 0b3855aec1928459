--TEST--
The article's configuration style: metadata.broker.list in the config array (and bootstrap.servers)
--FILE--
<?php
$topic = 'phpt_' . bin2hex(random_bytes(4));

// As in the article.
$lock = new DistributedLock($topic, ['metadata.broker.list' => 'localhost:9092']);
var_dump($lock->acquireLock('resource_lock'));
var_dump($lock->isAcquired('resource_lock'));
var_dump($lock->releaseLock('resource_lock'));

// librdkafka's other name for the same setting, with a pass-through property.
$other = new DistributedLock($topic, ['bootstrap.servers' => '127.0.0.1:9092', 'client.id' => 'phpt']);
var_dump($other->acquireLock('resource_lock'));

// Both spellings reach the same lock state: the first instance sees the second's hold.
var_dump($lock->tryLock('resource_lock'));
var_dump($other->releaseLock('resource_lock'));
var_dump($lock->tryLock('resource_lock'));
var_dump($lock->releaseLock('resource_lock'));

// A broker list with several entries (an unreachable one first).
$listed = new DistributedLock($topic, ['metadata.broker.list' => '127.0.0.1:1,localhost:9092']);
var_dump($listed->tryLock('resource_lock'));
var_dump($listed->releaseLock('resource_lock'));
?>
--EXPECT--
bool(true)
bool(true)
bool(true)
bool(true)
bool(false)
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
