--TEST--
Secure broker: a client that does not trust the broker's CA (another CA, or only the system's CAs) ends in DistributedLockConnectionException naming the failed certificate verification, well before lock.connect_timeout, on the SASL_SSL and the mTLS listener
--SKIPIF--
<?php require __DIR__ . '/helpers/secure_lib.php'; if ($r = secure_unavailable()) die("skip $r"); ?>
--FILE--
<?php
require __DIR__ . '/helpers/secure_lib.php';
$topic = secure_info()['topic'];
foreach ([
    'SASL_SSL, another CA' => secure_config('scram', 'locker', ['ssl.ca.location' => secure_file('untrusted-ca.pem')]),
    "SASL_SSL, the system's CAs only" => secure_config('scram', 'locker', ['ssl.ca.location' => null]),
    'mTLS, another CA' => secure_config('mtls', 'locker', ['ssl.ca.location' => secure_file('untrusted-ca.pem')]),
] as $label => $config) {
    secure_expect_failure($label, $topic, $config, '/^TLS handshake with localhost:\d+ failed: .*certificate verify failed/');
}
?>
--EXPECT--
SASL_SSL, another CA: DistributedLockConnectionException; names the cause: yes; ended within 2.0 s: yes
SASL_SSL, the system's CAs only: DistributedLockConnectionException; names the cause: yes; ended within 2.0 s: yes
mTLS, another CA: DistributedLockConnectionException; names the cause: yes; ended within 2.0 s: yes
