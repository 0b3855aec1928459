--TEST--
Pass-through librdkafka properties (string, int and bool values) and every lock option are accepted together
--FILE--
<?php
$topic = 'phpt_' . bin2hex(random_bytes(4));
$lock = new DistributedLock($topic, [
    'bootstrap.servers' => 'localhost:9092',
    'security.protocol' => 'plaintext',
    'client.id' => 'phpt-passthrough',
    'client.rack' => 'rack-a',
    'socket.timeout.ms' => 30000,
    'socket.keepalive.enable' => true,
    'socket.connection.setup.timeout.ms' => '10000',
    'broker.address.family' => 'any',
    'client.dns.lookup' => 'use_all_dns_ips',
    'broker.address.ttl' => 1000,
    'reconnect.backoff.ms' => 50,
    'reconnect.backoff.max.ms' => 1000,
    'ssl.endpoint.identification.algorithm' => 'none',
    'sasl.mechanisms' => 'PLAIN',
    'lock.ttl' => 3,
    'lock.partitions' => 2,
    'lock.replication_factor' => -1,
    'lock.create_topic' => true,
    'lock.connect_timeout' => 2.5,
    'lock.operation_timeout' => '4',
]);
var_dump($lock->acquireLock('p', 5.0));
$left = $lock->getRemainingLifetime('p');
var_dump($left > 2.0 && $left <= 3.0);

// Another client configuration (its own connection) sees the same lock.
$plain = new DistributedLock($topic);
var_dump($plain->tryLock('p'));
var_dump($lock->releaseLock('p'));
var_dump($plain->tryLock('p'));
var_dump($plain->releaseLock('p'));
?>
--EXPECT--
bool(true)
bool(true)
bool(false)
bool(true)
bool(true)
bool(true)
