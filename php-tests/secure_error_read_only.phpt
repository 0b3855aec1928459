--TEST--
Secure broker: a read-only principal (Read, Describe and DescribeConfigs on the topic; no Write, no IdempotentWrite) can construct a lock but acquireLock() and tryLock() end in DistributedLockConnectionException naming the refused cluster authorization, well before lock.connect_timeout, over SCRAM, PLAIN and mTLS, again with the same settings and on the same object; the session whose producer failed for good is not kept
--SKIPIF--
<?php require __DIR__ . '/helpers/secure_lib.php'; if ($r = secure_unavailable()) die("skip $r"); ?>
--FILE--
<?php
require __DIR__ . '/helpers/secure_lib.php';
$topic = secure_info()['topic'];
// The refusal reaches the caller by whichever path sees it first: the acquire's send, or the
// session's check for a producer that failed for good (which ends every request of the session).
$cause = "/^cannot write to topic '$topic' partition 0 at localhost:\\d+: the producer failed for good: .*Cluster authorization failed; grant this principal Write on the topic"
    . "|^the producer failed for good: .*Cluster authorization failed; grant this principal Write on the topic.*reaches topic '$topic' any more/";
foreach (['scram', 'plain', 'mtls'] as $how) {
    $config = secure_config($how, 'reader');
    // The settings secure_expect_failure() uses, so this object starts on the same session.
    $lock = new DistributedLock($topic, $config + secure_timeouts());
    echo "$how: constructed (Describe is allowed)\n";
    secure_expect_failure("$how, acquireLock", $topic, $config, $cause);
    secure_expect_failure("$how, tryLock, the same settings again", $topic, $config, $cause, fn(DistributedLock $l) => $l->tryLock('never'));
    secure_expect_failure("$how, tryLock, the object made first", $topic, $config, $cause, fn() => $lock->tryLock('never'));
    // A producer that failed for good never recovers: its session is dropped, and the next
    // lock with these settings (after an admin granted Write, say) starts a new one.
    echo "$how: sessions kept: ", secure_sessions(), "\n";
}
?>
--EXPECT--
scram: constructed (Describe is allowed)
scram, acquireLock: DistributedLockConnectionException; names the cause: yes; ended within 2.0 s: yes
scram, tryLock, the same settings again: DistributedLockConnectionException; names the cause: yes; ended within 2.0 s: yes
scram, tryLock, the object made first: DistributedLockConnectionException; names the cause: yes; ended within 2.0 s: yes
scram: sessions kept: 0
plain: constructed (Describe is allowed)
plain, acquireLock: DistributedLockConnectionException; names the cause: yes; ended within 2.0 s: yes
plain, tryLock, the same settings again: DistributedLockConnectionException; names the cause: yes; ended within 2.0 s: yes
plain, tryLock, the object made first: DistributedLockConnectionException; names the cause: yes; ended within 2.0 s: yes
plain: sessions kept: 0
mtls: constructed (Describe is allowed)
mtls, acquireLock: DistributedLockConnectionException; names the cause: yes; ended within 2.0 s: yes
mtls, tryLock, the same settings again: DistributedLockConnectionException; names the cause: yes; ended within 2.0 s: yes
mtls, tryLock, the object made first: DistributedLockConnectionException; names the cause: yes; ended within 2.0 s: yes
mtls: sessions kept: 0
