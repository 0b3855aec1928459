--TEST--
Secure broker: locks over SASL_SSL/SCRAM-SHA-512, SASL_SSL/PLAIN and mTLS, on a topic the extension creates and on one an admin made (lock.create_topic off); the locker principal's ACLs are all the client needs (the broker denies it nothing)
--SKIPIF--
<?php require __DIR__ . '/helpers/secure_lib.php'; if ($r = secure_unavailable()) die("skip $r"); ?>
--FILE--
<?php
require __DIR__ . '/helpers/secure_lib.php';
require __DIR__ . '/helpers/lock_lib.php';

// Broker-side check: every request the broker refuses is logged in authorizer.log (denials at
// INFO, kafka/log4j2.properties); read what this test adds to it.
$authorizerLog = dirname(secure_info()['tls']) . '/logs/authorizer.log';
clearstatcache();
$logFrom = is_file($authorizerLog) ? filesize($authorizerLog) : 0;

// Each way in holds a lock on a topic it creates; the next way in, another session over another
// listener or mechanism, must find it taken, then free once released.
$ways = ['scram', 'plain', 'mtls'];
foreach ($ways as $i => $how) {
    $next = $ways[($i + 1) % 3];
    $topic = secure_topic();
    $lock = new DistributedLock($topic, secure_config($how, 'locker') + ['lock.connect_timeout' => 5]);
    $other = new DistributedLock($topic, secure_config($next, 'locker'));
    $held = $lock->acquireLock('a', 5.0);
    $token = $lock->getFencingToken('a');
    echo "$how: acquired ", var_export($held, true), ', token ', var_export($token, true),
        "; $next: tryLock ", var_export($other->tryLock('a'), true),
        ', acquireLock(0.3) ', var_export($other->acquireLock('a', 0.3), true);
    echo "; released ", var_export($lock->releaseLock('a'), true),
        "; $next: tryLock ", var_export($other->tryLock('a'), true),
        ', token grew ', var_export($other->getFencingToken('a') > $token, true),
        ', released ', var_export($other->releaseLock('a'), true), "\n";

    // The topic an admin made (LogAppendTime), with topic creation off, as on a managed service.
    $managed = new DistributedLock(secure_info()['topic'], secure_config($how, 'locker') + ['lock.create_topic' => false]);
    $id = 'paths-' . bin2hex(random_bytes(4));
    echo "$how, admin's topic: acquired ", var_export($managed->acquireLock($id, 5.0), true),
        ', released ', var_export($managed->releaseLock($id), true), "\n";
}
echo 'sessions: ', kafka_lock_sessions(), "\n";

// Every request that was sent has been answered by now (each release waited for its
// acknowledgement): the broker has logged any denial. Only User:locker's matter here.
clearstatcache();
$denials = is_file($authorizerLog) ? file_get_contents($authorizerLog, false, null, $logFrom) : '';
$locker = preg_grep('/Principal = User:locker is Denied/', explode("\n", $denials));
echo 'requests of User:locker the broker denied: ', count($locker), "\n", implode("\n", $locker);
?>
--EXPECT--
scram: acquired true, token 0; plain: tryLock false, acquireLock(0.3) false; released true; plain: tryLock true, token grew true, released true
scram, admin's topic: acquired true, released true
plain: acquired true, token 0; mtls: tryLock false, acquireLock(0.3) false; released true; mtls: tryLock true, token grew true, released true
plain, admin's topic: acquired true, released true
mtls: acquired true, token 0; scram: tryLock false, acquireLock(0.3) false; released true; scram: tryLock true, token grew true, released true
mtls, admin's topic: acquired true, released true
sessions: 3
requests of User:locker the broker denied: 0
