--TEST--
Secure broker: ACL refusals the extension reports with their cause, well before lock.connect_timeout: no ACL at all (Describe refused), no Create on a missing topic, no Write on the topic with IdempotentWrite on the cluster; the principal without Create still locks on an existing topic
--SKIPIF--
<?php require __DIR__ . '/helpers/secure_lib.php'; if ($r = secure_unavailable()) die("skip $r"); ?>
--FILE--
<?php
require __DIR__ . '/helpers/secure_lib.php';
$topic = secure_info()['topic'];
foreach (['scram', 'plain', 'mtls'] as $how) {
    secure_expect_failure("$how, nobody", $topic, secure_config($how, 'nobody'), '/Topic authorization failed/');
    secure_expect_failure("$how, nocreate, missing topic", secure_topic(), secure_config($how, 'nocreate'), '/^cannot create topic .*Topic authorization failed/');
    secure_expect_failure("$how, idemreader", $topic, secure_config($how, 'idemreader'), '/Topic authorization failed/');
    $lock = new DistributedLock($topic, secure_config($how, 'nocreate'));
    $id = 'refusals-' . bin2hex(random_bytes(4));
    echo "$how, nocreate, existing topic: acquired ", var_export($lock->acquireLock($id, 5.0), true),
        ', released ', var_export($lock->releaseLock($id), true), "\n";
}
?>
--EXPECT--
scram, nobody: DistributedLockTopicException; names the cause: yes; ended within 2.0 s: yes
scram, nocreate, missing topic: DistributedLockTopicException; names the cause: yes; ended within 2.0 s: yes
scram, idemreader: DistributedLockConnectionException; names the cause: yes; ended within 2.0 s: yes
scram, nocreate, existing topic: acquired true, released true
plain, nobody: DistributedLockTopicException; names the cause: yes; ended within 2.0 s: yes
plain, nocreate, missing topic: DistributedLockTopicException; names the cause: yes; ended within 2.0 s: yes
plain, idemreader: DistributedLockConnectionException; names the cause: yes; ended within 2.0 s: yes
plain, nocreate, existing topic: acquired true, released true
mtls, nobody: DistributedLockTopicException; names the cause: yes; ended within 2.0 s: yes
mtls, nocreate, missing topic: DistributedLockTopicException; names the cause: yes; ended within 2.0 s: yes
mtls, idemreader: DistributedLockConnectionException; names the cause: yes; ended within 2.0 s: yes
mtls, nocreate, existing topic: acquired true, released true
