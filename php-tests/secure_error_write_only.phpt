--TEST--
Secure broker: a principal that may write the topic but not read it ends in DistributedLockConnectionException naming the refused authorization, within lock.connect_timeout + 1 s (not after lock.operation_timeout), over SCRAM, PLAIN and mTLS
--SKIPIF--
<?php require __DIR__ . '/helpers/secure_lib.php'; if ($r = secure_unavailable()) die("skip $r"); ?>
--XFAIL--
The message does not name the cause, and comes only after lock.operation_timeout (5 s here): "the acquire record was not seen back from the brokers at localhost:9292 within 5.0 s (lock.operation_timeout)". The acquire record is written; the consumer's Fetch is refused with TOPIC_AUTHORIZATION_FAILED, which librdkafka delivers as a consumer error event on the partition (KafkaError::MessageConsumption(TopicAuthorizationFailed)); the driver only counts consumer errors.
--FILE--
<?php
require __DIR__ . '/helpers/secure_lib.php';
foreach (['scram', 'plain', 'mtls'] as $how) {
    // A topic of its own (writeonly may create it): its acquire records are written.
    secure_expect_failure("$how, acquireLock", secure_topic(), secure_config($how, 'writeonly'), '/authoriz/i');
}
?>
--EXPECT--
scram, acquireLock: DistributedLockConnectionException; names the cause: yes; ended within 3.0 s: yes
plain, acquireLock: DistributedLockConnectionException; names the cause: yes; ended within 3.0 s: yes
mtls, acquireLock: DistributedLockConnectionException; names the cause: yes; ended within 3.0 s: yes
