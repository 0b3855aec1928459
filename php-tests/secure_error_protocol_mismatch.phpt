--TEST--
Secure broker: a SASL mechanism the broker does not enable, or a security.protocol that does not match the listener, ends in DistributedLockConnectionException naming the cause, well before lock.connect_timeout
--SKIPIF--
<?php require __DIR__ . '/helpers/secure_lib.php'; if ($r = secure_unavailable()) die("skip $r"); ?>
--FILE--
<?php
require __DIR__ . '/helpers/secure_lib.php';
$topic = secure_info()['topic'];
$info = secure_info();
$plaintext = ['security.protocol' => 'PLAINTEXT', 'sasl.mechanisms' => null, 'sasl.username' => null, 'sasl.password' => null, 'ssl.ca.location' => null];
$closed = '/^the brokers at localhost:\d+ closed the connection while it was set up: .*; is security\.protocol right for this listener\?$/';
foreach ([
    'SCRAM-SHA-256, not enabled on the broker' => [secure_config('scram', 'locker', ['sasl.mechanisms' => 'SCRAM-SHA-256']), '/^authentication failed at localhost:\d+: .*Unsupported SASL mechanism/'],
    'PLAINTEXT to the SASL_SSL listener' => [secure_config('scram', 'locker', $plaintext), $closed],
    'PLAINTEXT to the mTLS listener' => [secure_config('scram', 'locker', ['bootstrap.servers' => $info['mtls']] + $plaintext), $closed],
    'SSL (no SASL) to the SASL_SSL listener' => [secure_config('mtls', 'locker', ['bootstrap.servers' => $info['sasl_ssl']]), $closed],
    'SASL_SSL to the mTLS listener' => [secure_config('scram', 'locker', ['bootstrap.servers' => $info['mtls']]), "/^the brokers at localhost:\\d+ refused this client's certificate/"],
] as $label => [$config, $cause]) {
    secure_expect_failure($label, $topic, $config, $cause);
}
?>
--EXPECT--
SCRAM-SHA-256, not enabled on the broker: DistributedLockConnectionException; names the cause: yes; ended within 2.0 s: yes
PLAINTEXT to the SASL_SSL listener: DistributedLockConnectionException; names the cause: yes; ended within 2.0 s: yes
PLAINTEXT to the mTLS listener: DistributedLockConnectionException; names the cause: yes; ended within 2.0 s: yes
SSL (no SASL) to the SASL_SSL listener: DistributedLockConnectionException; names the cause: yes; ended within 2.0 s: yes
SASL_SSL to the mTLS listener: DistributedLockConnectionException; names the cause: yes; ended within 2.0 s: yes
