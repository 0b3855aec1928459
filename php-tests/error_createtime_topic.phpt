--TEST--
A topic with CreateTime timestamps is refused with DistributedLockTopicException whose message says how to fix it
--FILE--
<?php
$topic = 'phpt_ct_' . bin2hex(random_bytes(4));

// Create the topic the way an operator would, with Kafka's own tool.
$libs = __DIR__ . '/../.cache/kafka/libs/*';
$command = sprintf(
    'java -cp %s org.apache.kafka.tools.TopicCommand --bootstrap-server localhost:9092 --create --topic %s'
        . ' --partitions 1 --replication-factor 1 --config message.timestamp.type=CreateTime 2>&1',
    escapeshellarg($libs),
    escapeshellarg($topic)
);
exec($command, $output, $status);
if ($status !== 0) {
    die("could not create the CreateTime topic (status $status):\n" . implode("\n", $output) . "\n");
}

foreach (['acquireLock' => fn(DistributedLock $l) => $l->acquireLock('a', 5.0),
          'tryLock' => fn(DistributedLock $l) => $l->tryLock('a')] as $method => $call) {
    try {
        // The constructor may refuse the topic already; at the latest the first lock call must.
        $lock = new DistributedLock($topic);
        var_dump($call($lock));
    } catch (DistributedLockException $e) {
        echo $method, ': ', get_class($e), ': ', $e->getMessage(), "\n";
    }
}
?>
--EXPECTF--
acquireLock: DistributedLockTopicException: topic 'phpt_ct_%x' stamps records with the producer's clock (CreateTime); the lock needs broker time. Fix: kafka-configs.sh --bootstrap-server <brokers> --alter --entity-type topics --entity-name phpt_ct_%x --add-config message.timestamp.type=LogAppendTime
tryLock: DistributedLockTopicException: topic 'phpt_ct_%x' stamps records with the producer's clock (CreateTime); the lock needs broker time. Fix: kafka-configs.sh --bootstrap-server <brokers> --alter --entity-type topics --entity-name phpt_ct_%x --add-config message.timestamp.type=LogAppendTime
