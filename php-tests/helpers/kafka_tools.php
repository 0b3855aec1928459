<?php
// Kafka's own command-line tools (the jars scripts/setup.sh fetched), run the way an operator
// would against the test broker: create topics with given settings, delete records.

/** The shell command that runs one of Kafka's tool classes with $args against the test broker. */
function kafka_tool_command(string $class, array $args): string
{
    $libs = __DIR__ . '/../../.cache/kafka/libs/*';
    $command = 'java -cp ' . escapeshellarg($libs) . ' ' . $class . ' --bootstrap-server localhost:9092';
    foreach ($args as $arg) {
        $command .= ' ' . escapeshellarg($arg);
    }
    return $command;
}

/** Runs one of Kafka's tool classes with $args; dies with its output if it fails. */
function kafka_tool(string $class, array $args): string
{
    exec(kafka_tool_command($class, $args) . ' 2>&1', $output, $status);
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

/** Every record of partition 0 of $topic as [offset, key, value] (kcat, read to the end). */
function kafka_read_records(string $topic): array
{
    $command = 'kcat -b localhost:9092 -C -t ' . escapeshellarg($topic) . " -p 0 -o beginning -e -q -f '%o\t%k\t%s\n'";
    exec($command . ' 2>&1', $lines, $status);
    if ($status !== 0) {
        die("kcat could not read $topic (status $status):\n" . implode("\n", $lines) . "\n");
    }
    return array_map(fn(string $line) => explode("\t", $line, 3), $lines);
}

/** Produces one raw record to partition 0 of $topic, as any client with WRITE could. */
function kafka_produce_raw(string $topic, string $key, string $value): void
{
    $file = tempnam(sys_get_temp_dir(), 'kafka_lock_raw');
    file_put_contents($file, "$key\x1f$value\n");
    $command = 'kcat -b localhost:9092 -P -t ' . escapeshellarg($topic) . ' -p 0 -K ' . escapeshellarg("\x1f")
        . ' -l ' . escapeshellarg($file);
    exec($command . ' 2>&1', $output, $status);
    unlink($file);
    if ($status !== 0) {
        die("kcat could not produce to $topic (status $status):\n" . implode("\n", $output) . "\n");
    }
}

/** Sets $topic's message.timestamp.type (CreateTime or LogAppendTime), as kafka-configs.sh does. */
function kafka_set_timestamp_type(string $topic, string $type): void
{
    kafka_tool('kafka.admin.ConfigCommand', ['--alter', '--entity-type', 'topics', '--entity-name', $topic,
        '--add-config', "message.timestamp.type=$type"]);
}
