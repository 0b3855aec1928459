--TEST--
Multi-process: waiters are granted in the order of their acquire records (FIFO), and that is the order they asked in
--EXTENSIONS--
kafka_lock
--SKIPIF--
<?php if (!function_exists('proc_open')) die('skip proc_open is disabled'); ?>
--FILE--
<?php
// One process holds the lock; K waiters then ask for it one after another. The invariant is
// that grants follow the offsets of the acquire records (= the fencing tokens). Whether the
// records reached the partition in the order the waiters were started is a matter of timing,
// not of the lock: each waiter is started only after the previous one announced it was calling
// acquireLock() and a gap passed, and the test proves afterwards that this worked: after each
// gap it writes a probe record (tryLock of another identifier on the same single-partition topic)
// whose token is the log position at that moment; waiter i's token below probe i, and above
// probe i-1, shows its request was in the queue before the next waiter was started.
// Each waiter warms its session up first (a tryLock/releaseLock of its own identifier), so its
// acquire record is written at once: a cold process's first record can take much longer to
// reach the broker (the idempotent producer first needs its producer id) than the gap.
require __DIR__ . '/helpers/mp_lib.php';

const WAITERS = 5;
const GAP = 0.2;

$test = new MpTest('fifo');
$topic = mp_topic('fifo');
$probe = new DistributedLock($topic, mp_config());

$holder = $test->spawn('holder', [$topic, 'new', 'acquire:fifo:10', 'wait', 'release:fifo', 'wait']);
$held = $holder->await('acquired');
mp_check($held['ok'] === true && is_int($held['token']), 'the holder holds the lock');

$waiters = [];
$probes = [];
for ($i = 1; $i <= WAITERS; $i++) {
    $w = $test->spawn("w$i", [$topic, 'new', "try:warm-w$i", "release:warm-w$i", 'acquire:fifo:30', 'append:grants:fifo', 'sleep:50', 'release:fifo']);
    $w->await('acquiring');
    mp_pause(GAP);
    mp_check($w->running() && !array_filter($w->events(), fn($e) => $e['ev'] === 'acquired'), "waiter $i is waiting");
    if (!$probe->tryLock('probe')) {
        mp_fail('the probe identifier is not free');
    }
    $probes[$i] = $probe->getFencingToken('probe');
    $probe->releaseLock('probe');
    $waiters[$i] = $w;
}

$holder->send('release');
$released = $holder->await('released');
mp_check($released['ok'] === true, 'the holder released the lock');

$grants = [];
foreach ($waiters as $i => $w) {
    $e = $w->await('acquired', 20.0);
    mp_check($e['ok'] === true && is_int($e['token']), "waiter $i was granted the lock");
    mp_check($w->wait() === 0, "waiter $i exited normally");
    $grants[] = ['waiter' => $i, 'token' => $e['token'], 't' => $e['t']];
}
$holder->send('exit');
$holder->wait();

usort($grants, fn($a, $b) => $a['t'] <=> $b['t']);
$byTime = array_column($grants, 'waiter');
$tokens = array_column($grants, 'token');
$sorted = $tokens;
sort($sorted);
mp_check($tokens === $sorted && count(array_unique($tokens)) === WAITERS,
    'grant order equals token order (FIFO by acquire-record offset); tokens strictly increase',
    'grant order ' . implode(',', $byTime) . ', tokens in that order ' . implode(',', $tokens));
mp_check(min($tokens) > $held['token'], "every waiter's token is larger than the first holder's");

// The shared file the waiters appended to while holding the lock: same order as by time.
$lines = file($test->file('grants'), FILE_IGNORE_NEW_LINES);
mp_check($lines === array_map(fn($g) => "w{$g['waiter']} {$g['token']}", $grants),
    'the log written under the lock shows the same grant order', implode(' | ', $lines));

// Precondition of the next check, proven from the log positions (see the top of this file).
$positions = [];
foreach ($waiters as $i => $w) {
    $token = array_values(array_filter($grants, fn($g) => $g['waiter'] === $i))[0]['token'];
    $positions[] = "w$i=$token < probe$i={$probes[$i]}";
    if (!($token < $probes[$i] && ($i === 1 || $token > $probes[$i - 1]))) {
        mp_fail("waiter $i's acquire record was not in the log before waiter " . ($i + 1)
            . ' was started; the gap of ' . GAP . ' s was too short on this machine (a timing problem of the test, not a lock bug): ' . implode(', ', $positions));
    }
}
echo "ok: each waiter's request was in the queue before the next waiter was started\n";
mp_check($byTime === range(1, WAITERS), 'grant order equals the order the waiters asked in', 'grant order ' . implode(',', $byTime));

$gaps = [];
for ($i = 1; $i < count($grants); $i++) {
    $gaps[] = sprintf('%.1f', ($grants[$i]['t'] - $grants[$i - 1]['t']) / 1e6);
}
mp_measure('multiprocess_fifo', 'tokens ' . implode(',', $tokens) . ', probes ' . implode(',', $probes)
    . ', grant-to-grant ms (holds 50 ms) ' . implode(',', $gaps));
echo "done\n";
?>
--EXPECT--
ok: the holder holds the lock
ok: waiter 1 is waiting
ok: waiter 2 is waiting
ok: waiter 3 is waiting
ok: waiter 4 is waiting
ok: waiter 5 is waiting
ok: the holder released the lock
ok: waiter 1 was granted the lock
ok: waiter 1 exited normally
ok: waiter 2 was granted the lock
ok: waiter 2 exited normally
ok: waiter 3 was granted the lock
ok: waiter 3 exited normally
ok: waiter 4 was granted the lock
ok: waiter 4 exited normally
ok: waiter 5 was granted the lock
ok: waiter 5 exited normally
ok: grant order equals token order (FIFO by acquire-record offset); tokens strictly increase
ok: every waiter's token is larger than the first holder's
ok: the log written under the lock shows the same grant order
ok: each waiter's request was in the queue before the next waiter was started
ok: grant order equals the order the waiters asked in
done
