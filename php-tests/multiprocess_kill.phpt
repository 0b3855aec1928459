--TEST--
Multi-process: kill -9 of the holder hands the lock to the waiter within ttl + 1.5 s, and not before the holder's lease ran out
--EXTENSIONS--
kafka_lock
--SKIPIF--
<?php if (!function_exists('proc_open')) die('skip proc_open is disabled'); ?>
--FILE--
<?php
// Worker A holds the lock (lock.ttl = 2 s) and then just lives on, reporting after every
// accepted renewal how long it trusts its lease (now + getRemainingLifetime()). Worker B waits
// for the lock. The test SIGKILLs A: nobody releases, so B must be granted when A's lease runs
// out by broker time, which is at most ttl after A's last renewal, i.e. within ttl of the kill;
// the margin covers B's tick and the hand-off. And B must not be granted while A could still
// trust its lease: B's grant comes after the last lease end A reported.
require __DIR__ . '/helpers/mp_lib.php';

const TTL = 2.0;
const MARGIN = 1.5;

$test = new MpTest('kill');
$topic = mp_topic('kill');

$a = $test->spawn('A', [$topic, 'new:' . TTL, 'acquire:victim:10', 'hold_forever:victim']);
$held = $a->await('acquired');
mp_check($held['ok'] === true && is_int($held['token']), 'A holds the lock');
// Let A renew at least once, so the kill lands on a holder in its steady state.
$a->await('trust', 10.0, 2);

$b = $test->spawn('B', [$topic, 'new', 'try:warm-b', 'release:warm-b', 'acquire:victim:30', 'check:victim', 'release:victim']);
$b->await('acquiring');
// B's acquire record is produced at once (its session is warm); give it time to be in the queue
// so that what is measured is the hand-off, not B's start. Nothing below depends on this gap.
mp_pause(0.3);
mp_check($b->running() && !array_filter($b->events(), fn($e) => $e['ev'] === 'acquired'), 'B is waiting while A holds the lock');

$killedAt = mp_now();
$a->kill();
mp_check($a->wait() === 128 + 9, 'A was killed by SIGKILL');
$trust = array_values(array_filter($a->events(), fn($e) => $e['ev'] === 'trust'));
$lastTrust = end($trust)['until'];
mp_check(!array_filter($a->events(), fn($e) => $e['ev'] === 'lost'), 'A never lost its lease while it was alive');

$granted = $b->await('acquired', 30.0);
$latency = $granted['t'] / 1e9 - $killedAt;
mp_check($granted['ok'] === true, 'B was granted the lock after A was killed');
mp_check($latency < TTL + MARGIN, 'B got the lock within ttl + ' . MARGIN . ' s of the kill', sprintf('%.3f s', $latency));
mp_check($granted['t'] / 1e9 > $lastTrust, "B got the lock only after the end of A's lease by A's own view",
    sprintf('B granted %.3f s before A stopped trusting its lease', $lastTrust - $granted['t'] / 1e9));
mp_check($granted['token'] > $held['token'], "B's fencing token is larger than A's", "A {$held['token']}, B {$granted['token']}");
$state = $b->await('state');
mp_check($state['acquired'] === true && $state['token'] === $granted['token'], 'B holds it with that token');
mp_check($b->await('released')['ok'] === true, 'B released it');
mp_check($b->wait() === 0, 'B exited normally');

mp_measure('multiprocess_kill', sprintf('ttl %.1f s: kill-to-grant %.3f s; grant %.3f s after the lease end A last reported (%d renewals seen by A)',
    TTL, $latency, $granted['t'] / 1e9 - $lastTrust, count($trust) - 1));
echo "done\n";
?>
--EXPECT--
ok: A holds the lock
ok: B is waiting while A holds the lock
ok: A was killed by SIGKILL
ok: A never lost its lease while it was alive
ok: B was granted the lock after A was killed
ok: B got the lock within ttl + 1.5 s of the kill
ok: B got the lock only after the end of A's lease by A's own view
ok: B's fencing token is larger than A's
ok: B holds it with that token
ok: B released it
ok: B exited normally
done
