--TEST--
Secure broker: a read-only principal (Read, Describe and DescribeConfigs on the topic; no Write, no IdempotentWrite) can construct a lock but acquireLock() and tryLock() end in DistributedLockConnectionException naming the refused authorization, within lock.connect_timeout + 1 s, over SCRAM, PLAIN and mTLS, and again on the same session
--SKIPIF--
<?php require __DIR__ . '/helpers/secure_lib.php'; if ($r = secure_unavailable()) die("skip $r"); ?>
--XFAIL--
The message does not name the cause: "cannot write to topic 'locks' partition 0 at localhost:9292: Message production error: PurgeQueue (Local: Purged in queue)". The broker refuses the idempotent producer's InitProducerId with CLUSTER_AUTHORIZATION_FAILED; librdkafka makes that a fatal producer error (RD_KAFKA_RESP_ERR__FATAL on the error callback; rd_kafka_fatal_error() gives "Failed to acquire idempotence PID from broker ...: Broker: Cluster authorization failed") and purges the queued records, and the extension reports only the purge.
--FILE--
<?php
require __DIR__ . '/helpers/secure_lib.php';
$topic = secure_info()['topic'];
foreach (['scram', 'plain', 'mtls'] as $how) {
    $config = secure_config($how, 'reader');
    $lock = new DistributedLock($topic, $config);
    echo "$how: constructed (Describe is allowed)\n";
    secure_expect_failure("$how, acquireLock", $topic, $config, '/authoriz/i');
    secure_expect_failure("$how, tryLock, same session", $topic, $config, '/authoriz/i', fn(DistributedLock $l) => $l->tryLock('never'));
}
?>
--EXPECT--
scram: constructed (Describe is allowed)
scram, acquireLock: DistributedLockConnectionException; names the cause: yes; ended within 3.0 s: yes
scram, tryLock, same session: DistributedLockConnectionException; names the cause: yes; ended within 3.0 s: yes
plain: constructed (Describe is allowed)
plain, acquireLock: DistributedLockConnectionException; names the cause: yes; ended within 3.0 s: yes
plain, tryLock, same session: DistributedLockConnectionException; names the cause: yes; ended within 3.0 s: yes
mtls: constructed (Describe is allowed)
mtls, acquireLock: DistributedLockConnectionException; names the cause: yes; ended within 3.0 s: yes
mtls, tryLock, same session: DistributedLockConnectionException; names the cause: yes; ended within 3.0 s: yes
