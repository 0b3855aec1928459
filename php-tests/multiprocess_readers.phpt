--TEST--
Multi-process: readers and writers on one lock: readers hold together, a writer always alone, tokens follow the grant order; a kill -9'd reader's share ends with its lease and the waiting writer gets the lock
--EXTENSIONS--
kafka_lock
--SKIPIF--
<?php if (!function_exists('proc_open')) die('skip proc_open is disabled'); ?>
--FILE--
<?php
// Part 1: READERS reader processes and WRITERS writer processes warm their sessions up, wait
// for the common start, then each takes 'doc' ROUNDS times in its mode, holds it and releases
// it, reporting each hold as an interval (right after the grant to right before the release,
// on the monotonic clock all processes share). Every interval lies inside a real hold, so a
// writer's interval that overlaps any other would be a broken lock.
// Part 2: reader A (lock.ttl = 2 s) holds 'victim' and is SIGKILLed while writer B waits for
// it: B must be granted once A's lease runs out (within ttl + margin of the kill), and not
// while A could still trust its lease.
require __DIR__ . '/helpers/mp_lib.php';

const READERS = 4;
const WRITERS = 2;
const ROUNDS = 4;
const TTL = 2.0;
const MARGIN = 1.5;

$test = new MpTest('readers');
$topic = mp_topic('readers');

echo "-- readers and writers\n";
$workers = [];
for ($i = 1; $i <= READERS + WRITERS; $i++) {
    [$name, $kind, $ms] = $i <= READERS ? ["r$i", 'read', 80] : ['w' . ($i - READERS), 'write', 40];
    $workers[$name] = $test->spawn($name, [$topic, 'new', "try:warm-$name", "release:warm-$name", 'wait', "cycle:$kind:doc:" . ROUNDS . ":$ms"]);
}
foreach ($workers as $w) {
    $w->await('waiting');
}
foreach ($workers as $w) {
    $w->send();
}
$holds = [];
foreach ($workers as $name => $w) {
    $w->await('cycled', 30.0);
    mp_check($w->wait() === 0, "$name held the lock " . ROUNDS . ' times and exited normally');
    foreach ($w->events() as $e) {
        if ($e['ev'] === 'held') {
            $holds[] = $e + ['worker' => $name];
        }
    }
}
mp_check(count($holds) === (READERS + WRITERS) * ROUNDS && count(array_unique(array_column($holds, 'token'))) === count($holds),
    'every hold has a token of its own');

$overlap = fn(array $a, array $b) => $a['start'] < $b['end'] && $b['start'] < $a['end'];
$label = fn(array $h) => sprintf('%s token %d [%.3f, %.3f]', $h['worker'], $h['token'], $h['start'] / 1e9, $h['end'] / 1e9);
$readersTogether = 0;
$writerClashes = [];
foreach ($holds as $i => $a) {
    foreach ($holds as $j => $b) {
        if ($j <= $i || !$overlap($a, $b)) {
            continue;
        }
        if ($a['kind'] === 'read' && $b['kind'] === 'read') {
            $readersTogether += $a['worker'] !== $b['worker'] ? 1 : 0;
        } else {
            $writerClashes[] = $label($a) . ' with ' . $label($b);
        }
    }
}
mp_check(!$writerClashes, "no writer's hold overlaps any other hold", implode('; ', $writerClashes));
mp_check($readersTogether > 0, 'readers of different processes held the lock together');
// Fencing: a writer's token is above every hold that ended before it began, and below every
// hold that began after it ended.
$misordered = [];
foreach ($holds as $w) {
    if ($w['kind'] !== 'write') {
        continue;
    }
    foreach ($holds as $h) {
        if (($h['end'] < $w['start'] && $h['token'] > $w['token']) || ($h['start'] > $w['end'] && $h['token'] < $w['token'])) {
            $misordered[] = $label($w) . ' and ' . $label($h);
        }
    }
}
mp_check(!$misordered, "writers' tokens are above every earlier hold's and below every later one's", implode('; ', $misordered));
mp_measure('multiprocess_readers', sprintf('%d readers (80 ms) and %d writers (40 ms) x %d holds: %.2f s; %d pairs of reader holds overlapped',
    READERS, WRITERS, ROUNDS, (max(array_column($holds, 'end')) - min(array_column($holds, 'start'))) / 1e9, $readersTogether));

echo "-- a reader killed while holding: the waiting writer gets the lock when its lease ends\n";
$inspector = new DistributedLock($topic, mp_config());
$a = $test->spawn('A', [$topic, 'new:' . TTL, 'read:victim:10', 'hold_forever:victim']);
$held = $a->await('acquired');
mp_check($held['ok'] === true && is_int($held['token']), 'reader A holds the lock');
// Let A renew at least once, so the kill lands on a holder in its steady state.
$a->await('trust', 10.0, 2);
$b = $test->spawn('B', [$topic, 'new', 'try:warm-b', 'release:warm-b', 'acquire:victim:30', 'check:victim', 'release:victim']);
$b->await('acquiring');
$deadline = mp_now() + 20;
while (($s = $inspector->inspect('victim'))['waiting'] !== 1) {
    if (mp_now() > $deadline) {
        mp_fail('writer B never showed as waiting: ' . json_encode($s));
    }
    mp_pause(0.02);
}
mp_check($s['mode'] === 'shared' && array_column($s['holders'], 'token') === [$held['token']], 'B waits behind reader A');

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
mp_check($granted['token'] > $held['token'], "B's fencing token is larger than A's");
$state = $b->await('state');
mp_check($state['acquired'] === true && $state['token'] === $granted['token'], 'B holds it with that token');
mp_check($b->await('released')['ok'] === true && $b->wait() === 0, 'B released it and exited normally');
mp_measure('multiprocess_readers', sprintf('ttl %.1f s: reader kill-to-writer-grant %.3f s', TTL, $latency));
echo "done\n";
?>
--EXPECT--
-- readers and writers
ok: r1 held the lock 4 times and exited normally
ok: r2 held the lock 4 times and exited normally
ok: r3 held the lock 4 times and exited normally
ok: r4 held the lock 4 times and exited normally
ok: w1 held the lock 4 times and exited normally
ok: w2 held the lock 4 times and exited normally
ok: every hold has a token of its own
ok: no writer's hold overlaps any other hold
ok: readers of different processes held the lock together
ok: writers' tokens are above every earlier hold's and below every later one's
-- a reader killed while holding: the waiting writer gets the lock when its lease ends
ok: reader A holds the lock
ok: B waits behind reader A
ok: A was killed by SIGKILL
ok: A never lost its lease while it was alive
ok: B was granted the lock after A was killed
ok: B got the lock within ttl + 1.5 s of the kill
ok: B got the lock only after the end of A's lease by A's own view
ok: B's fencing token is larger than A's
ok: B holds it with that token
ok: B released it and exited normally
done
