--TEST--
A topic switched to CreateTime under a held lock: the hold ends with DistributedLockTopicException naming the cause, and once the operator has repaired the topic the next call joins the partition again
--FILE--
<?php
require __DIR__ . '/helpers/kafka_tools.php';

$topic = 'phpt_ctswitch_' . bin2hex(random_bytes(4));
kafka_create_topic($topic);
$lock = new DistributedLock($topic, ['lock.ttl' => 60]);
var_dump($lock->acquireLock('x', 5.0));

// An operator switches the topic to the producer's clock, and a client writes to it: the
// holder reads a record without broker time. The broker applies the new setting within
// moments, so write until the holder has seen such a record (at most 20 s).
kafka_set_timestamp_type($topic, 'CreateTime');
$deadline = hrtime(true) + 20e9;
while ($lock->isAcquired('x') && hrtime(true) < $deadline) {
    kafka_produce_raw($topic, 'other', '{"v":1,"op":"tick"}');
    usleep(100000);
}
echo 'the hold ended: ', var_export(!$lock->isAcquired('x'), true), "\n";
var_dump($lock->releaseLock('x'));
try {
    $lock->acquireLock('y', 2.0);
    echo "acquired on a CreateTime topic\n";
} catch (DistributedLockException $e) {
    echo get_class($e), ': ', $e->getMessage(), "\n";
}

// The operator switches it back and deletes the records without broker time. The partition
// is not failed for the rest of the session: the next call joins it again, and since its join
// window now lies in deleted history it grants nothing for one window (no exception).
kafka_set_timestamp_type($topic, 'LogAppendTime');
kafka_delete_all_records($topic);
try {
    var_dump($lock->tryLock('z'));
} catch (DistributedLockException $e) {
    echo 'still failed: ', get_class($e), ': ', $e->getMessage(), "\n";
}
?>
--EXPECTF--
bool(true)
the hold ended: true
bool(false)
DistributedLockTopicException: topic 'phpt_ctswitch_%x' stamps records with the producer's clock (CreateTime); the lock needs broker time. Fix: kafka-configs.sh --bootstrap-server <brokers> --alter --entity-type topics --entity-name phpt_ctswitch_%x --add-config message.timestamp.type=LogAppendTime
bool(false)
