--TEST--
Secure broker: a principal with Write on the topic but no IdempotentWrite on the cluster can lock (Kafka 3.0 and later let Write on a topic stand in for IdempotentWrite: KIP-679), over SCRAM, PLAIN and mTLS, with the same exclusion and tokens as the locker principal
--SKIPIF--
<?php require __DIR__ . '/helpers/secure_lib.php'; if ($r = secure_unavailable()) die("skip $r"); ?>
--FILE--
<?php
require __DIR__ . '/helpers/secure_lib.php';
foreach (['scram', 'plain', 'mtls'] as $how) {
    $topic = secure_topic();
    $lock = new DistributedLock($topic, secure_config($how, 'noidem'));
    $locker = new DistributedLock($topic, secure_config($how, 'locker'));
    $held = $lock->acquireLock('a', 5.0);
    $token = $lock->getFencingToken('a');
    echo "$how: noidem acquired ", var_export($held, true), ', token ', var_export($token, true),
        '; locker tryLock ', var_export($locker->tryLock('a'), true),
        '; noidem released ', var_export($lock->releaseLock('a'), true),
        '; locker tryLock ', var_export($locker->tryLock('a'), true),
        ', token grew ', var_export($locker->getFencingToken('a') > $token, true), "\n";
    $locker->releaseLock('a');
}
?>
--EXPECT--
scram: noidem acquired true, token 0; locker tryLock false; noidem released true; locker tryLock true, token grew true
plain: noidem acquired true, token 0; locker tryLock false; noidem released true; locker tryLock true, token grew true
mtls: noidem acquired true, token 0; locker tryLock false; noidem released true; locker tryLock true, token grew true
