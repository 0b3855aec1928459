--TEST--
Multi-process: a queued waiter that ends (SIGTERM handler that exits, hits a fatal error or throws, or whose exception is caught) cancels its request; the waiter behind it is granted at once on release, where a SIGKILLed one blocks it until its lease runs out
--EXTENSIONS--
kafka_lock
--SKIPIF--
<?php if (!function_exists('proc_open')) die('skip proc_open is disabled'); ?>
--FILE--
<?php
// For each way of ending, on its own identifier: this process holds the lock; waiter A (lock.ttl
// TTL) queues for it, waiter B queues behind A. A gets SIGTERM and its handler ends it in that
// way; then the holder releases. B must be granted within LIMIT of the release, far below A's
// lease: A's request was withdrawn. The control case SIGKILLs A, which cancels nothing: its
// request stays in the queue until its lease runs out (at least 2/3 TTL after its last renewal,
// renewals come every TTL/3), so B is granted at least CONTROL_MIN after the kill (and at most
// TTL + 1.5 s after it). The control also proves that the
// gap put every A in the queue before its B (all cases run side by side with the same timing).
require __DIR__ . '/helpers/mp_lib.php';

const TTL = 4.0;
const LIMIT = 1.0;
const CONTROL_MIN = 2.0;
const GAP = 0.3;

$cases = [
    'handler calls exit()' => ['trap' => 'exit', 'exit' => 0, 'output' => ''],
    'handler hits a fatal error' => ['trap' => 'fatal', 'exit' => 255, 'output' => 'Allowed memory size of'],
    'handler throws, uncaught' => ['trap' => 'throw', 'exit' => 255, 'output' => 'Uncaught SigtermThrown'],
    'handler throws, caught around acquireLock(), process lives on' => ['trap' => 'catch', 'exit' => 0, 'output' => ''],
    'control: SIGKILL' => ['trap' => null, 'exit' => 128 + 9, 'output' => ''],
];

$test = new MpTest('waiter_exit');
$topic = mp_topic('waiter_exit');
$holder = new DistributedLock($topic, mp_config());

$a = $b = $ids = $ended = [];
$n = 0;
foreach ($cases as $case => $spec) {
    $id = $ids[$case] = 'resource-' . ++$n;
    if (!$holder->acquireLock($id, 10.0)) {
        mp_fail("the holder could not take $id");
    }
    $steps = [$topic, 'new:' . TTL];
    if ($spec['trap'] !== null) {
        $steps[] = "trap:{$spec['trap']}";
    }
    $a[$case] = $test->spawn("a$n", array_merge($steps, ["try:warm-a$n", "release:warm-a$n", "acquire:$id:30", "check:$id", 'wait']));
}
foreach ($a as $w) {
    $w->await('acquiring');
}
mp_pause(GAP);
$n = 0;
foreach ($cases as $case => $spec) {
    $n++;
    $b[$case] = $test->spawn("b$n", [$topic, 'new', "try:warm-b$n", "release:warm-b$n", "acquire:{$ids[$case]}:30", "release:{$ids[$case]}"]);
}
foreach ($b as $w) {
    $w->await('acquiring');
}
mp_pause(GAP);
foreach ($cases as $case => $spec) {
    mp_check(!array_filter(array_merge($a[$case]->events(), $b[$case]->events()), fn($e) => $e['ev'] === 'acquired'), "$case: both waiters wait");
}

// End every A, and wait until it has ended (or, when caught, went on).
foreach ($cases as $case => $spec) {
    $ended[$case] = mp_now();
    $spec['trap'] === null ? $a[$case]->kill() : proc_terminate($a[$case]->proc, 15);
}
foreach ($cases as $case => $spec) {
    if ($spec['trap'] === 'catch') {
        $a[$case]->await('caught');
        $state = $a[$case]->await('state');
        mp_check($state['acquired'] === false && $a[$case]->running(), "$case: A caught the exception, does not hold the lock and lives on");
    } else {
        $code = $a[$case]->wait();
        mp_check($code === $spec['exit'], "$case: A ended with exit code {$spec['exit']}", "exit code $code");
    }
    $out = trim($a[$case]->output());
    mp_check($spec['output'] === '' ? $out === '' : str_contains($out, $spec['output']),
        "$case: A's output is " . ($spec['output'] === '' ? 'empty' : "PHP's '{$spec['output']}'"), $out);
}

$released = [];
foreach ($cases as $case => $spec) {
    $released[$case] = mp_now();
    if (!$holder->releaseLock($ids[$case])) {
        mp_fail("the holder could not release {$ids[$case]}");
    }
}
$figures = [];
foreach ($cases as $case => $spec) {
    $granted = $b[$case]->await('acquired', 3 * TTL);
    $latency = $granted['t'] / 1e9 - $released[$case];
    $figures[] = sprintf('%s %.3f s', $case, $latency);
    if ($spec['trap'] === null) {
        $sinceKill = $granted['t'] / 1e9 - $ended[$case];
        mp_check($granted['ok'] === true && $sinceKill >= CONTROL_MIN && $sinceKill < TTL + 1.5,
            "$case: B was granted only when A's lease ran out, " . CONTROL_MIN . ' to ' . (TTL + 1.5) . ' s after the kill', sprintf('%.3f s', $sinceKill));
    } else {
        mp_check($granted['ok'] === true && $latency > 0 && $latency < LIMIT,
            "$case: B was granted within " . LIMIT . ' s of the release (A\'s lease is ' . TTL . ' s)', sprintf('%.3f s', $latency));
    }
    mp_check($b[$case]->wait() === 0 && trim($b[$case]->output()) === '', "$case: B released it and exited normally, printing nothing", $b[$case]->output());
}
$a['handler throws, caught around acquireLock(), process lives on']->send('go');
mp_check($a['handler throws, caught around acquireLock(), process lives on']->wait() === 0, 'the surviving A exited normally');
mp_measure('multiprocess_waiter_exit', 'release-to-grant ' . implode(', ', $figures));
echo "done\n";
?>
--EXPECT--
ok: handler calls exit(): both waiters wait
ok: handler hits a fatal error: both waiters wait
ok: handler throws, uncaught: both waiters wait
ok: handler throws, caught around acquireLock(), process lives on: both waiters wait
ok: control: SIGKILL: both waiters wait
ok: handler calls exit(): A ended with exit code 0
ok: handler calls exit(): A's output is empty
ok: handler hits a fatal error: A ended with exit code 255
ok: handler hits a fatal error: A's output is PHP's 'Allowed memory size of'
ok: handler throws, uncaught: A ended with exit code 255
ok: handler throws, uncaught: A's output is PHP's 'Uncaught SigtermThrown'
ok: handler throws, caught around acquireLock(), process lives on: A caught the exception, does not hold the lock and lives on
ok: handler throws, caught around acquireLock(), process lives on: A's output is empty
ok: control: SIGKILL: A ended with exit code 137
ok: control: SIGKILL: A's output is empty
ok: handler calls exit(): B was granted within 1 s of the release (A's lease is 4 s)
ok: handler calls exit(): B released it and exited normally, printing nothing
ok: handler hits a fatal error: B was granted within 1 s of the release (A's lease is 4 s)
ok: handler hits a fatal error: B released it and exited normally, printing nothing
ok: handler throws, uncaught: B was granted within 1 s of the release (A's lease is 4 s)
ok: handler throws, uncaught: B released it and exited normally, printing nothing
ok: handler throws, caught around acquireLock(), process lives on: B was granted within 1 s of the release (A's lease is 4 s)
ok: handler throws, caught around acquireLock(), process lives on: B released it and exited normally, printing nothing
ok: control: SIGKILL: B was granted only when A's lease ran out, 2 to 5.5 s after the kill
ok: control: SIGKILL: B released it and exited normally, printing nothing
ok: the surviving A exited normally
done
