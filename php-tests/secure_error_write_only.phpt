--TEST--
Secure broker: a principal that may write the topic but not read it ends in DistributedLockConnectionException naming the refused Read, well before lock.connect_timeout (not after lock.operation_timeout), over SCRAM, PLAIN and mTLS, and at once again on the same session
--SKIPIF--
<?php require __DIR__ . '/helpers/secure_lib.php'; if ($r = secure_unavailable()) die("skip $r"); ?>
--FILE--
<?php
require __DIR__ . '/helpers/secure_lib.php';
foreach (['scram', 'plain', 'mtls'] as $how) {
    // A topic of its own (writeonly may create it): its acquire records are written.
    $topic = secure_topic();
    $cause = "/^cannot read topic '$topic' partition 0 at localhost:\\d+: .*Topic authorization failed; grant this principal Read on the topic$/";
    secure_expect_failure("$how, acquireLock", $topic, secure_config($how, 'writeonly'), $cause);
    // librdkafka reports the refused Fetch once; the session remembers it for the partition.
    secure_expect_failure("$how, tryLock, the same session", $topic, secure_config($how, 'writeonly'), $cause, fn(DistributedLock $l) => $l->tryLock('never'));
}
?>
--EXPECT--
scram, acquireLock: DistributedLockConnectionException; names the cause: yes; ended within 2.0 s: yes
scram, tryLock, the same session: DistributedLockConnectionException; names the cause: yes; ended within 2.0 s: yes
plain, acquireLock: DistributedLockConnectionException; names the cause: yes; ended within 2.0 s: yes
plain, tryLock, the same session: DistributedLockConnectionException; names the cause: yes; ended within 2.0 s: yes
mtls, acquireLock: DistributedLockConnectionException; names the cause: yes; ended within 2.0 s: yes
mtls, tryLock, the same session: DistributedLockConnectionException; names the cause: yes; ended within 2.0 s: yes
