--TEST--
Secure broker: a client that does not trust the broker's CA (another CA, or only the system's CAs) ends in DistributedLockConnectionException naming the certificate, within lock.connect_timeout + 1 s, on the SASL_SSL and the mTLS listener
--SKIPIF--
<?php require __DIR__ . '/helpers/secure_lib.php'; if ($r = secure_unavailable()) die("skip $r"); ?>
--XFAIL--
The message does not name the cause: "cannot reach the Kafka brokers at localhost:9292 within 2.0 s: Meta data fetch error: BrokerTransportFailure (Local: Broker transport failure)", after all of lock.connect_timeout. librdkafka reports "SSL handshake failed: ... certificate verify failed: broker certificate could not be verified ..." (RD_KAFKA_RESP_ERR__SSL) to the error callback at once, and the extension does not watch it.
--FILE--
<?php
require __DIR__ . '/helpers/secure_lib.php';
$topic = secure_info()['topic'];
foreach ([
    'SASL_SSL, another CA' => secure_config('scram', 'locker', ['ssl.ca.location' => secure_file('untrusted-ca.pem')]),
    "SASL_SSL, the system's CAs only" => secure_config('scram', 'locker', ['ssl.ca.location' => null]),
    'mTLS, another CA' => secure_config('mtls', 'locker', ['ssl.ca.location' => secure_file('untrusted-ca.pem')]),
] as $label => $config) {
    secure_expect_failure($label, $topic, $config, '/certificate/i');
}
?>
--EXPECT--
SASL_SSL, another CA: DistributedLockConnectionException; names the cause: yes; ended within 3.0 s: yes
SASL_SSL, the system's CAs only: DistributedLockConnectionException; names the cause: yes; ended within 3.0 s: yes
mTLS, another CA: DistributedLockConnectionException; names the cause: yes; ended within 3.0 s: yes
