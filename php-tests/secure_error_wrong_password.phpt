--TEST--
Secure broker: a wrong SASL password (SCRAM-SHA-512, PLAIN) or an unknown user ends in DistributedLockConnectionException naming the failed authentication, well before lock.connect_timeout, also for the same settings again; no refused session is kept; the right password then works in the same process
--SKIPIF--
<?php require __DIR__ . '/helpers/secure_lib.php'; if ($r = secure_unavailable()) die("skip $r"); ?>
--FILE--
<?php
require __DIR__ . '/helpers/secure_lib.php';
$topic = secure_info()['topic'];
foreach ([
    'scram, wrong password' => secure_config('scram', 'locker', ['sasl.password' => 'wrong']),
    'scram, wrong password, the same settings again' => secure_config('scram', 'locker', ['sasl.password' => 'wrong']),
    'plain, wrong password' => secure_config('plain', 'locker', ['sasl.password' => 'wrong']),
    'scram, unknown user' => secure_config('scram', 'ghost'),
    'plain, unknown user' => secure_config('plain', 'ghost'),
] as $label => $config) {
    secure_expect_failure($label, $topic, $config, '/^authentication failed at localhost:\d+: .*SASL authentication error: Authentication failed/');
}
// A refused session is not reused: the same settings again start from a fresh connection,
// so they meet the refusal again (librdkafka reports an identical error once per 30 s).
echo 'sessions kept: ', secure_sessions(), "\n";
$lock = new DistributedLock($topic, secure_config('scram', 'locker') + ['lock.create_topic' => false]);
$id = 'password-' . bin2hex(random_bytes(4));
echo 'the right password, same process: acquired ', var_export($lock->acquireLock($id, 5.0), true),
    ', released ', var_export($lock->releaseLock($id), true), "\n";
?>
--EXPECT--
scram, wrong password: DistributedLockConnectionException; names the cause: yes; ended within 2.0 s: yes
scram, wrong password, the same settings again: DistributedLockConnectionException; names the cause: yes; ended within 2.0 s: yes
plain, wrong password: DistributedLockConnectionException; names the cause: yes; ended within 2.0 s: yes
scram, unknown user: DistributedLockConnectionException; names the cause: yes; ended within 2.0 s: yes
plain, unknown user: DistributedLockConnectionException; names the cause: yes; ended within 2.0 s: yes
sessions kept: 0
the right password, same process: acquired true, released true
