--TEST--
Multi-process: a holder that ends without releaseLock() (normal end, exit(), uncaught exception, fatal error, destroyed object) hands the lock on at once
--EXTENSIONS--
kafka_lock
--SKIPIF--
<?php if (!function_exists('proc_open')) die('skip proc_open is disabled'); ?>
--FILE--
<?php
// For each way of ending, a holder process takes the lock (default ttl: 10 s) and a second
// process waits for it. The holder then ends without calling releaseLock(); the lock must pass
// well before the lease could have run out (< 5 s, half the ttl): the request end or the
// object's destruction released it.
require __DIR__ . '/helpers/mp_lib.php';

const LIMIT = 5.0;

$test = new MpTest('destruct');
$topic = mp_topic('destruct');

$cases = [
    'end of script' => ['steps' => [], 'exit' => 0, 'output' => null],
    'exit(3)' => ['steps' => ['exit:3'], 'exit' => 3, 'output' => null],
    'uncaught exception' => ['steps' => ['throw'], 'exit' => 255, 'output' => 'Fatal error: Uncaught RuntimeException'],
    'fatal error' => ['steps' => ['fatal'], 'exit' => 255, 'output' => 'Allowed memory size of'],
    'object destroyed, process lives on' => ['steps' => ['unset', 'wait'], 'exit' => 0, 'output' => null],
];

$n = 0;
$figures = [];
foreach ($cases as $case => $spec) {
    $n++;
    $id = "resource-$n";
    $holder = $test->spawn("holder$n", array_merge([$topic, 'new', "acquire:$id:10", 'wait'], $spec['steps']));
    $held = $holder->await('acquired');
    $waiter = $test->spawn("waiter$n", [$topic, 'new', "try:warm-$n", "release:warm-$n", "acquire:$id:20", "release:$id"]);
    $waiter->await('acquiring');
    mp_pause(0.2); // lets the waiter's request reach the queue; the check below does not depend on it
    if (!$held['ok'] || !$waiter->running() || array_filter($waiter->events(), fn($e) => $e['ev'] === 'acquired')) {
        mp_fail("$case: the holder does not hold the lock alone");
    }

    $endAt = mp_now();
    $holder->send('go');
    $granted = $waiter->await('acquired', 20.0);
    $latency = $granted['t'] / 1e9 - $endAt;
    $figures[] = sprintf('%s %.3f s', $case, $latency);
    mp_check($granted['ok'] === true && $latency < LIMIT, "$case: the waiter got the lock in under " . LIMIT . ' s', sprintf('%.3f s', $latency));
    mp_check($granted['token'] > $held['token'], "$case: with a larger fencing token");
    if ($case === 'object destroyed, process lives on') {
        mp_check($holder->running(), "$case: the holder process was still running when the lock passed");
        $holder->send('exit');
    }
    $code = $holder->wait();
    mp_check($code === $spec['exit'], "$case: the holder exited with code {$spec['exit']}", "exit code $code");
    if ($spec['output'] !== null) {
        mp_check(str_contains($holder->output(), $spec['output']), "$case: the holder printed '{$spec['output']}'", $holder->output());
    } else {
        mp_check(trim($holder->output()) === '', "$case: the holder printed nothing", $holder->output());
    }
    mp_check($waiter->wait() === 0, "$case: the waiter exited normally");
}
mp_measure('multiprocess_destruct', 'end-to-grant: ' . implode(', ', $figures));
echo "done\n";
?>
--EXPECT--
ok: end of script: the waiter got the lock in under 5 s
ok: end of script: with a larger fencing token
ok: end of script: the holder exited with code 0
ok: end of script: the holder printed nothing
ok: end of script: the waiter exited normally
ok: exit(3): the waiter got the lock in under 5 s
ok: exit(3): with a larger fencing token
ok: exit(3): the holder exited with code 3
ok: exit(3): the holder printed nothing
ok: exit(3): the waiter exited normally
ok: uncaught exception: the waiter got the lock in under 5 s
ok: uncaught exception: with a larger fencing token
ok: uncaught exception: the holder exited with code 255
ok: uncaught exception: the holder printed 'Fatal error: Uncaught RuntimeException'
ok: uncaught exception: the waiter exited normally
ok: fatal error: the waiter got the lock in under 5 s
ok: fatal error: with a larger fencing token
ok: fatal error: the holder exited with code 255
ok: fatal error: the holder printed 'Allowed memory size of'
ok: fatal error: the waiter exited normally
ok: object destroyed, process lives on: the waiter got the lock in under 5 s
ok: object destroyed, process lives on: with a larger fencing token
ok: object destroyed, process lives on: the holder process was still running when the lock passed
ok: object destroyed, process lives on: the holder exited with code 0
ok: object destroyed, process lives on: the holder printed nothing
ok: object destroyed, process lives on: the waiter exited normally
done
