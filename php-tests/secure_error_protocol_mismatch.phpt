--TEST--
Secure broker: a SASL mechanism the broker does not enable, or a security.protocol that does not match the listener, ends in DistributedLockConnectionException naming the cause, within lock.connect_timeout + 1 s
--SKIPIF--
<?php require __DIR__ . '/helpers/secure_lib.php'; if ($r = secure_unavailable()) die("skip $r"); ?>
--XFAIL--
The message does not name the cause: "cannot reach the Kafka brokers at localhost:9292 within 2.0 s: Meta data fetch error: BrokerTransportFailure (Local: Broker transport failure)", after all of lock.connect_timeout (after 0.3 s for SSL to the SASL_SSL listener, although the message says 2.0 s). librdkafka reports the mechanism ("Unsupported SASL mechanism: broker's supported mechanisms: SCRAM-SHA-512,PLAIN", RD_KAFKA_RESP_ERR__AUTHENTICATION) and a TLS client certificate refusal (RD_KAFKA_RESP_ERR__TRANSPORT) to the error callback; a plaintext client on a TLS listener only shows in librdkafka's FAIL log line ("Disconnected: connection closed by peer ... in state APIVERSION_QUERY").
--FILE--
<?php
require __DIR__ . '/helpers/secure_lib.php';
$topic = secure_info()['topic'];
$info = secure_info();
$plaintext = ['security.protocol' => 'PLAINTEXT', 'sasl.mechanisms' => null, 'sasl.username' => null, 'sasl.password' => null, 'ssl.ca.location' => null];
foreach ([
    'SCRAM-SHA-256, not enabled on the broker' => [secure_config('scram', 'locker', ['sasl.mechanisms' => 'SCRAM-SHA-256']), '/mechanism/i'],
    'PLAINTEXT to the SASL_SSL listener' => [secure_config('scram', 'locker', $plaintext), '/security\.protocol|closed by peer/i'],
    'PLAINTEXT to the mTLS listener' => [secure_config('scram', 'locker', ['bootstrap.servers' => $info['mtls']] + $plaintext), '/security\.protocol|closed by peer/i'],
    'SSL (no SASL) to the SASL_SSL listener' => [secure_config('mtls', 'locker', ['bootstrap.servers' => $info['sasl_ssl']]), '/security\.protocol|closed by peer/i'],
    'SASL_SSL to the mTLS listener' => [secure_config('scram', 'locker', ['bootstrap.servers' => $info['mtls']]), '/certificate/i'],
] as $label => [$config, $cause]) {
    secure_expect_failure($label, $topic, $config, $cause);
}
?>
--EXPECT--
SCRAM-SHA-256, not enabled on the broker: DistributedLockConnectionException; names the cause: yes; ended within 3.0 s: yes
PLAINTEXT to the SASL_SSL listener: DistributedLockConnectionException; names the cause: yes; ended within 3.0 s: yes
PLAINTEXT to the mTLS listener: DistributedLockConnectionException; names the cause: yes; ended within 3.0 s: yes
SSL (no SASL) to the SASL_SSL listener: DistributedLockConnectionException; names the cause: yes; ended within 3.0 s: yes
SASL_SSL to the mTLS listener: DistributedLockConnectionException; names the cause: yes; ended within 3.0 s: yes
