--TEST--
Secure broker: on the mTLS listener, a client certificate from a CA the broker does not trust, or none at all, ends in DistributedLockConnectionException naming the certificate, within lock.connect_timeout + 1 s
--SKIPIF--
<?php require __DIR__ . '/helpers/secure_lib.php'; if ($r = secure_unavailable()) die("skip $r"); ?>
--XFAIL--
The message does not name the cause: "cannot reach the Kafka brokers at localhost:9293 within 2.0 s: Meta data fetch error: BrokerTransportFailure (Local: Broker transport failure)", after all of lock.connect_timeout. librdkafka reports "Receive failed: ... ssl/tls alert bad certificate: SSL alert number 42" (RD_KAFKA_RESP_ERR__TRANSPORT) to the error callback at once, and the extension does not watch it.
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
    secure_expect_failure($label, $topic, $config, '/certificate/i');
}
?>
--EXPECT--
a certificate for CN=locker from another CA: DistributedLockConnectionException; names the cause: yes; ended within 3.0 s: yes
no client certificate: DistributedLockConnectionException; names the cause: yes; ended within 3.0 s: yes
