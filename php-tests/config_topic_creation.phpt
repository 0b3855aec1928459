--TEST--
Topic auto-creation: lock.partitions (default 1), LogAppendTime and delete clean-up; a replication factor the cluster cannot meet throws DistributedLockTopicException
--FILE--
<?php
$prefix = 'phpt_tc_' . bin2hex(random_bytes(4));

$default = new DistributedLock("{$prefix}_default");
$three = new DistributedLock("{$prefix}_three", ['lock.partitions' => 3, 'lock.replication_factor' => 1]);
// Locks spread over the three partitions work like on one.
$ids = array_map(fn($i) => "job-$i", range(1, 12));
$ok = true;
foreach ($ids as $id) {
    $ok = $ok && $three->tryLock($id) && $three->getFencingToken($id) !== null;
}
foreach ($ids as $id) {
    $ok = $ok && $three->releaseLock($id);
}
var_dump($ok);

try {
    new DistributedLock("{$prefix}_rf", ['lock.replication_factor' => 2]);
    echo "no exception\n";
} catch (DistributedLockException $e) {
    echo get_class($e), ': ', $e->getMessage(), "\n";
}

// What the broker says about the created topics, through Kafka's own tool.
exec(sprintf('java -cp %s org.apache.kafka.tools.TopicCommand --bootstrap-server localhost:9092 --describe --topic %s 2>&1',
    escapeshellarg(__DIR__ . '/../.cache/kafka/libs/*'), escapeshellarg("$prefix.*")), $lines, $status);
if ($status !== 0) {
    exit("TopicCommand failed ($status):\n" . implode("\n", $lines) . "\n");
}
$topics = [];
foreach (preg_grep('/^Topic: /', $lines) as $line) {
    preg_match('/^Topic: (\S+)\s.*PartitionCount: (\d+)\s.*Configs: (.*)$/', $line, $m);
    $configs = explode(',', $m[3]);
    $topics[] = sprintf("%s: partitions=%d %s %s", str_replace($prefix, 'PREFIX', $m[1]), $m[2],
        implode(' ', preg_grep('/^message\.timestamp\.type=/', $configs)),
        implode(' ', preg_grep('/^cleanup\.policy=/', $configs)));
}
sort($topics);
echo implode("\n", $topics), "\n";
?>
--EXPECTF--
bool(true)
DistributedLockTopicException: cannot create topic 'phpt_tc_%x_rf' (partitions 1, replication factor 2): InvalidReplicationFactor (Broker: Invalid replication factor)
PREFIX_default: partitions=1 message.timestamp.type=LogAppendTime cleanup.policy=delete
PREFIX_three: partitions=3 message.timestamp.type=LogAppendTime cleanup.policy=delete
