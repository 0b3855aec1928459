--TEST--
Topic checks: a compacted topic and a retention shorter than the join window are refused with DistributedLockTopicException naming the setting and the fix; a topic that keeps records forever is accepted
--FILE--
<?php
require __DIR__ . '/helpers/kafka_tools.php';

$cases = [
    'compact' => ['cleanup.policy=compact'],
    'compact,delete' => ['cleanup.policy=compact,delete'],
    'retention 30 s' => ['retention.ms=30000'],
    'retention forever' => ['retention.ms=-1'],
];
foreach ($cases as $name => $configs) {
    $topic = 'phpt_cfg_' . bin2hex(random_bytes(4));
    kafka_create_topic($topic, $configs);
    try {
        $lock = new DistributedLock($topic, ['lock.create_topic' => false]);
        echo "$name: accepted; tryLock ", var_export($lock->tryLock('a'), true), "\n";
    } catch (DistributedLockException $e) {
        echo "$name: ", get_class($e), ': ', str_replace($topic, 'T', $e->getMessage()), "\n";
    }
}
?>
--EXPECT--
compact: DistributedLockTopicException: topic 'T' has cleanup.policy=compact: compaction removes records from the middle of the log, so a process joining later could miss a live lock. Lock topics need cleanup.policy=delete. Fix: kafka-configs.sh --bootstrap-server <brokers> --alter --entity-type topics --entity-name T --add-config cleanup.policy=delete
compact,delete: DistributedLockTopicException: topic 'T' has cleanup.policy=compact,delete: compaction removes records from the middle of the log, so a process joining later could miss a live lock. Lock topics need cleanup.policy=delete. Fix: kafka-configs.sh --bootstrap-server <brokers> --alter --entity-type topics --entity-name T --add-config cleanup.policy=delete
retention 30 s: DistributedLockTopicException: topic 'T' keeps records for retention.ms=30000, less than the 70000 ms a joining process reads back (the longest lease plus a margin): every process would wait 70000 ms of log time before trusting a grant. Fix: kafka-configs.sh --bootstrap-server <brokers> --alter --entity-type topics --entity-name T --add-config retention.ms=604800000
retention forever: accepted; tryLock true
