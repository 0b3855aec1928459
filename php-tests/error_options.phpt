--TEST--
Bad config arrays throw DistributedLockConfigException naming the option: unknown, unknown lock.*, managed, both broker keys, bad value types, integer keys
--FILE--
<?php
$topic = 'phpt_' . bin2hex(random_bytes(4));
$cases = [
    'unknown option' => ['foo' => 1],
    'unknown lock option' => ['lock.tll' => 5],
    'managed: acks' => ['acks' => 'all'],
    'managed: enable.idempotence' => ['enable.idempotence' => false],
    'managed: linger.ms' => ['linger.ms' => 5],
    'managed: group.id' => ['group.id' => 'g'],
    'managed: partitioner' => ['partitioner' => 'random'],
    'both broker keys' => ['metadata.broker.list' => 'localhost:9092', 'bootstrap.servers' => 'localhost:9092'],
    'both broker keys, other order' => ['bootstrap.servers' => 'localhost:9092', 'metadata.broker.list' => 'localhost:9092'],
    'empty broker list' => ['metadata.broker.list' => ''],
    'blank broker list' => ['bootstrap.servers' => '  '],
    'array value' => ['client.id' => ['a']],
    'array value of a lock option' => ['lock.ttl' => [5]],
    'null value' => ['lock.ttl' => null],
    'object value' => ['client.id' => new stdClass()],
    'float for a librdkafka property' => ['socket.timeout.ms' => 1.5],
    'integer key' => ['localhost:9092'],
    'refused: loads a library' => ['ssl.engine.location' => '/tmp/engine.so'],
    'refused: engine id' => ['ssl.engine.id' => 'dynamic'],
    'refused: providers' => ['ssl.providers' => 'legacy'],
    'refused: runs a command' => ['sasl.kerberos.kinit.cmd' => 'touch /tmp/pwned'],
    'unknown ssl property' => ['ssl.made.up' => '1'],
    'pointer-valued property' => ['ssl.certificate.verify_cb' => '1'],
    'integer key after a good one' => ['lock.ttl' => 5, 7 => 'x'],
];
foreach ($cases as $what => $config) {
    try {
        new DistributedLock($topic, $config);
        echo "$what: no exception\n";
    } catch (DistributedLockException $e) {
        echo "$what: ", get_class($e), ': ', $e->getMessage(), "\n";
    }
}
?>
--EXPECT--
unknown option: DistributedLockConfigException: unknown option 'foo'; use 'lock.*' options (lock.ttl, lock.max_clock_step, lock.partitions, lock.replication_factor, lock.create_topic, lock.connect_timeout, lock.operation_timeout), the brokers ('metadata.broker.list' or 'bootstrap.servers'), librdkafka's connection properties (security.protocol, client.id, client.rack, socket.timeout.ms, socket.keepalive.enable, socket.connection.setup.timeout.ms, broker.address.family, client.dns.lookup, broker.address.ttl, reconnect.backoff.ms, reconnect.backoff.max.ms, debug) or its TLS and SASL properties (ssl.*, sasl.*, listed in the README)
unknown lock option: DistributedLockConfigException: unknown option 'lock.tll'; lock options are: lock.ttl, lock.max_clock_step, lock.partitions, lock.replication_factor, lock.create_topic, lock.connect_timeout, lock.operation_timeout
managed: acks: DistributedLockConfigException: option 'acks' is set by kafka_lock itself (the lock relies on acks=all, an idempotent producer and its own partitioning) and cannot be changed
managed: enable.idempotence: DistributedLockConfigException: option 'enable.idempotence' is set by kafka_lock itself (the lock relies on acks=all, an idempotent producer and its own partitioning) and cannot be changed
managed: linger.ms: DistributedLockConfigException: option 'linger.ms' is set by kafka_lock itself (the lock relies on acks=all, an idempotent producer and its own partitioning) and cannot be changed
managed: group.id: DistributedLockConfigException: option 'group.id' is set by kafka_lock itself (the lock relies on acks=all, an idempotent producer and its own partitioning) and cannot be changed
managed: partitioner: DistributedLockConfigException: option 'partitioner' is set by kafka_lock itself (the lock relies on acks=all, an idempotent producer and its own partitioning) and cannot be changed
both broker keys: DistributedLockConfigException: options 'metadata.broker.list' and 'bootstrap.servers' both set the brokers; give only one
both broker keys, other order: DistributedLockConfigException: options 'bootstrap.servers' and 'metadata.broker.list' both set the brokers; give only one
empty broker list: DistributedLockConfigException: option 'metadata.broker.list' is empty
blank broker list: DistributedLockConfigException: option 'bootstrap.servers' is empty
array value: DistributedLockConfigException: option 'client.id' must be a string, int, float or bool, array given
array value of a lock option: DistributedLockConfigException: option 'lock.ttl' must be a string, int, float or bool, array given
null value: DistributedLockConfigException: option 'lock.ttl' must be a string, int, float or bool, null given
object value: DistributedLockConfigException: option 'client.id' must be a string, int, float or bool, stdClass given
float for a librdkafka property: DistributedLockConfigException: option 'socket.timeout.ms' must be a string or an int, float given
integer key: DistributedLockConfigException: option names must be strings, integer key 0 given
refused: loads a library: DistributedLockConfigException: option 'ssl.engine.location' is refused: it loads a shared library (an OpenSSL engine) into the PHP process; kafka_lock passes through only TLS and SASL settings that configure a connection
refused: engine id: DistributedLockConfigException: option 'ssl.engine.id' is refused: it selects an OpenSSL engine, which OpenSSL may load as a shared library; kafka_lock passes through only TLS and SASL settings that configure a connection
refused: providers: DistributedLockConfigException: option 'ssl.providers' is refused: it loads OpenSSL providers (shared libraries) into the PHP process; kafka_lock passes through only TLS and SASL settings that configure a connection
refused: runs a command: DistributedLockConfigException: option 'sasl.kerberos.kinit.cmd' is refused: it is a shell command librdkafka runs; kafka_lock passes through only TLS and SASL settings that configure a connection
unknown ssl property: DistributedLockConfigException: unknown option 'ssl.made.up'; use 'lock.*' options (lock.ttl, lock.max_clock_step, lock.partitions, lock.replication_factor, lock.create_topic, lock.connect_timeout, lock.operation_timeout), the brokers ('metadata.broker.list' or 'bootstrap.servers'), librdkafka's connection properties (security.protocol, client.id, client.rack, socket.timeout.ms, socket.keepalive.enable, socket.connection.setup.timeout.ms, broker.address.family, client.dns.lookup, broker.address.ttl, reconnect.backoff.ms, reconnect.backoff.max.ms, debug) or its TLS and SASL properties (ssl.*, sasl.*, listed in the README)
pointer-valued property: DistributedLockConfigException: unknown option 'ssl.certificate.verify_cb'; use 'lock.*' options (lock.ttl, lock.max_clock_step, lock.partitions, lock.replication_factor, lock.create_topic, lock.connect_timeout, lock.operation_timeout), the brokers ('metadata.broker.list' or 'bootstrap.servers'), librdkafka's connection properties (security.protocol, client.id, client.rack, socket.timeout.ms, socket.keepalive.enable, socket.connection.setup.timeout.ms, broker.address.family, client.dns.lookup, broker.address.ttl, reconnect.backoff.ms, reconnect.backoff.max.ms, debug) or its TLS and SASL properties (ssl.*, sasl.*, listed in the README)
integer key after a good one: DistributedLockConfigException: option names must be strings, integer key 7 given
