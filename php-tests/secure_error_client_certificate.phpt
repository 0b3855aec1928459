--TEST--
Secure broker: on the mTLS listener, a client certificate from a CA the broker does not trust, or none at all, ends in DistributedLockConnectionException naming the refused certificate, well before lock.connect_timeout
--SKIPIF--
<?php require __DIR__ . '/helpers/secure_lib.php'; if ($r = secure_unavailable()) die("skip $r"); ?>
--FILE--
<?php
require __DIR__ . '/helpers/secure_lib.php';
$topic = secure_info()['topic'];
foreach ([
    "a certificate for CN=locker from another CA" => secure_config('mtls', 'locker', [
        'ssl.certificate.location' => secure_file('untrusted-locker.pem'),
        'ssl.key.location' => secure_file('untrusted-locker.key'),
    ]),
    'no client certificate' => secure_config('mtls', 'locker', ['ssl.certificate.location' => null, 'ssl.key.location' => null]),
] as $label => $config) {
    secure_expect_failure($label, $topic, $config, "/^the brokers at localhost:\\d+ refused this client's certificate .*alert bad certificate/");
}
?>
--EXPECT--
a certificate for CN=locker from another CA: DistributedLockConnectionException; names the cause: yes; ended within 2.0 s: yes
no client certificate: DistributedLockConnectionException; names the cause: yes; ended within 2.0 s: yes
