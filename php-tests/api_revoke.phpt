--TEST--
revoke(): an operator ends another process's hold at its current lease; the holder stops trusting it before the waiter behind it is granted (the waiter's token is larger); a free lock gives false; bad identifiers are refused
--EXTENSIONS--
kafka_lock
--SKIPIF--
<?php if (!function_exists('proc_open')) die('skip proc_open is disabled'); ?>
--FILE--
<?php
require __DIR__ . '/helpers/mp_lib.php';

const TTL = 3.0;

$test = new MpTest('revoke');
$topic = mp_topic('revoke');
$ops = new DistributedLock($topic, mp_config(TTL));

echo "-- a free lock\n";
var_dump($ops->revoke('r'));

echo "-- a holder that keeps renewing, and a waiter behind it\n";
$holder = $test->spawn('holder', [$topic, 'new:' . TTL, 'acquire:r:30', 'check:r', 'hold_forever:r']);
$t1 = $holder->await('state')['token'];
$waiter = $test->spawn('waiter', [$topic, 'new:' . TTL, 'try:warm', 'release:warm', 'acquire:r:60', 'check:r', 'wait']);
$waiter->await('acquiring');
$deadline = mp_now() + 20;
while ($ops->inspect('r')['waiting'] !== 1) {
    if (mp_now() > $deadline) {
        mp_fail('the waiter never showed in the queue');
    }
    usleep(20_000);
}
// The holder renews every TTL/3: wait for a renewal after the waiter queued, so the hold would
// run on for a whole lease if nothing ended it.
$renewals = count(array_filter($holder->events(), fn($e) => $e['ev'] === 'trust'));
$holder->await('trust', 10, $renewals + 1);

echo "-- revoked\n";
$revoked_at = mp_now();
var_dump($ops->revoke('r'));
$lost = $holder->await('lost', 20);
$granted = $waiter->await('state', 20);
$trusted_until = max(array_map(fn($e) => $e['until'], array_filter($holder->events(), fn($e) => $e['ev'] === 'trust')));
$lost_after = $lost['t'] / 1e9 - $revoked_at;
echo "the holder lost it within its lease: ", var_export($lost_after <= TTL + 0.5, true), "\n";
echo "the holder trusted it no later than the waiter's grant: ", var_export($trusted_until <= $granted['t'] / 1e9, true), "\n";
echo "the waiter holds it with a larger token: ", var_export($granted['acquired'] && $granted['token'] > $t1, true), "\n";
$s = $ops->inspect('r');
var_dump($s['holders'][0]['token'] === $granted['token']);
if ($lost_after > TTL + 0.5 || $trusted_until > $granted['t'] / 1e9) {
    printf("lost %.3f s after the revoke; trusted until %.3f, granted at %.3f\n", $lost_after, $trusted_until, $granted['t'] / 1e9);
}
$waiter->send();
$waiter->wait();
$holder->wait();

echo "-- bad identifiers\n";
foreach (['', str_repeat('x', 1025)] as $bad) {
    try {
        $ops->revoke($bad);
        echo "accepted\n";
    } catch (DistributedLockConfigException $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}
try {
    $ops->revoke(null);
} catch (TypeError $e) {
    echo get_class($e), ': ', $e->getMessage(), "\n";
}
?>
--EXPECT--
-- a free lock
bool(false)
-- a holder that keeps renewing, and a waiter behind it
-- revoked
bool(true)
the holder lost it within its lease: true
the holder trusted it no later than the waiter's grant: true
the waiter holds it with a larger token: true
bool(true)
-- bad identifiers
DistributedLockConfigException: invalid lock identifier: it must not be empty
DistributedLockConfigException: invalid lock identifier: it is 1025 bytes long, at most 1024 are allowed
TypeError: DistributedLock::revoke(): Argument #1 ($identifier) must be of type string, null given
