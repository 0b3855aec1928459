--TEST--
Secure broker: TLS and SASL settings librdkafka refuses before connecting (a missing CA or certificate file, a key that does not match the certificate, SASL without a username or password, an unknown mechanism) end in DistributedLockConfigException naming the property, at once
--SKIPIF--
<?php require __DIR__ . '/helpers/secure_lib.php'; if ($r = secure_unavailable()) die("skip $r"); ?>
--FILE--
<?php
require __DIR__ . '/helpers/secure_lib.php';
$topic = secure_info()['topic'];
foreach ([
    'missing CA file' => [secure_config('scram', 'locker', ['ssl.ca.location' => '/nonexistent/ca.pem']), '/^invalid librdkafka option: ssl\.ca\.location failed/'],
    'missing certificate file' => [secure_config('mtls', 'locker', ['ssl.certificate.location' => '/nonexistent/locker.pem']), '/^invalid librdkafka option: ssl\.certificate\.location failed/'],
    "another principal's key" => [secure_config('mtls', 'locker', ['ssl.key.location' => secure_file('reader.key')]), '/^invalid librdkafka option: ssl\.key\.location failed: .*key values mismatch/'],
    'PLAIN without a password' => [secure_config('plain', 'locker', ['sasl.password' => null]), '/^invalid librdkafka option: sasl\.username and sasl\.password must be set/'],
    'SCRAM without a username' => [secure_config('scram', 'locker', ['sasl.username' => null]), '/^invalid librdkafka option: sasl\.username and sasl\.password must be set/'],
    'unknown mechanism' => [secure_config('scram', 'locker', ['sasl.mechanisms' => 'NOPE']), '/^invalid librdkafka option: Unsupported SASL mechanism: NOPE/'],
] as $label => [$config, $cause]) {
    secure_expect_failure($label, $topic, $config, $cause);
}
?>
--EXPECT--
missing CA file: DistributedLockConfigException; names the cause: yes; ended within 2.0 s: yes
missing certificate file: DistributedLockConfigException; names the cause: yes; ended within 2.0 s: yes
another principal's key: DistributedLockConfigException; names the cause: yes; ended within 2.0 s: yes
PLAIN without a password: DistributedLockConfigException; names the cause: yes; ended within 2.0 s: yes
SCRAM without a username: DistributedLockConfigException; names the cause: yes; ended within 2.0 s: yes
unknown mechanism: DistributedLockConfigException; names the cause: yes; ended within 2.0 s: yes
