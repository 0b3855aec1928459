<?php
// Kafka's own command-line tools (the jars scripts/setup.sh fetched), run the way an operator
// would against the test broker: create topics with given settings, delete records.

/** Runs one of Kafka's tool classes with $args; dies with its output if it fails. */
function kafka_tool(string $class, array $args): string
{
    $libs = __DIR__ . '/../../.cache/kafka/libs/*';
    $command = 'java -cp ' . escapeshellarg($libs) . ' ' . $class . ' --bootstrap-server localhost:9092';
    foreach ($args as $arg) {
        $command .= ' ' . escapeshellarg($arg);
    }
    exec($command . ' 2>&1', $output, $status);
    if ($status !== 0) {
        die("$class failed (status $status):\n" . implode("\n", $output) . "\n");
    }
    return implode("\n", $output);
}

/** Creates a one-partition topic with LogAppendTime and the given extra --config settings. */
function kafka_create_topic(string $topic, array $configs = []): void
{
    $args = ['--create', '--topic', $topic, '--partitions', '1', '--replication-factor', '1',
             '--config', 'message.timestamp.type=LogAppendTime'];
    foreach ($configs as $config) {
        array_push($args, '--config', $config);
    }
    kafka_tool('org.apache.kafka.tools.TopicCommand', $args);
}

/** Deletes every record of partition 0 of $topic up to the high watermark (DeleteRecords). */
function kafka_delete_all_records(string $topic): string
{
    $file = tempnam(sys_get_temp_dir(), 'kafka_lock_delete');
    file_put_contents($file, json_encode(['version' => 1, 'partitions' => [
        ['topic' => $topic, 'partition' => 0, 'offset' => -1],
    ]]));
    try {
        return kafka_tool('org.apache.kafka.tools.DeleteRecordsCommand', ['--offset-json-file', $file]);
    } finally {
        unlink($file);
    }
}
