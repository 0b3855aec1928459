--TEST--
Multi-process: 4 processes increment a shared counter 50 times each under the lock; critical sections never overlap, tokens grow
--EXTENSIONS--
kafka_lock
--SKIPIF--
<?php if (!function_exists('proc_open')) die('skip proc_open is disabled'); ?>
--FILE--
<?php
require __DIR__ . '/helpers/mp_lib.php';

const WORKERS = 4;
const ITERATIONS = 50;

$test = new MpTest('counter');
$topic = mp_topic('counter');
file_put_contents($test->file('counter'), '0 -1');

$workers = [];
for ($w = 1; $w <= WORKERS; $w++) {
    $workers[] = $test->spawn("w$w", [$topic, ITERATIONS], __DIR__ . '/helpers/mp_counter_worker.php');
}
// Every worker has connected before any of them starts: they contend from the first iteration.
foreach ($workers as $worker) {
    $worker->await('ready');
}
$start = mp_now();
touch($test->file('go'));
foreach ($workers as $worker) {
    $worker->await('done', 25.0);
    mp_check($worker->wait() === 0, "worker $worker->name exited normally");
}
$elapsed = mp_now() - $start;

[$value] = explode(' ', file_get_contents($test->file('counter')));
mp_check((int)$value === WORKERS * ITERATIONS, 'the counter is exactly ' . WORKERS * ITERATIONS, "counter = $value");

$sections = [];
foreach ($workers as $worker) {
    $log = json_decode(file_get_contents($test->file("$worker->name.sections")), true);
    mp_check($log['violations'] === [], "worker $worker->name saw no fencing violation in the counter file", implode('; ', $log['violations']));
    foreach ($log['sections'] as [$token, $s, $e]) {
        $sections[] = ['worker' => $worker->name, 'token' => $token, 'start' => $s, 'end' => $e];
    }
}
mp_check(count($sections) === WORKERS * ITERATIONS, 'every worker logged every critical section');
usort($sections, fn($a, $b) => $a['start'] <=> $b['start']);

$overlaps = [];
$disorder = [];
for ($i = 1; $i < count($sections); $i++) {
    [$prev, $cur] = [$sections[$i - 1], $sections[$i]];
    if ($cur['start'] <= $prev['end']) {
        $overlaps[] = sprintf('%s (token %d) started %.3f ms before %s (token %d) ended',
            $cur['worker'], $cur['token'], ($prev['end'] - $cur['start']) / 1e6, $prev['worker'], $prev['token']);
    }
    if (!is_int($cur['token']) || $cur['token'] <= $prev['token']) {
        $disorder[] = sprintf('%s token %s after %s token %s', $cur['worker'], var_export($cur['token'], true), $prev['worker'], var_export($prev['token'], true));
    }
}
mp_check($overlaps === [], 'no two critical sections overlap in time', implode('; ', array_slice($overlaps, 0, 5)));
mp_check($disorder === [], 'fencing tokens strictly increase in the order the critical sections started', implode('; ', array_slice($disorder, 0, 5)));

// How much the workers interleaved (all four must have had turns between each other's).
$switches = 0;
for ($i = 1; $i < count($sections); $i++) {
    $switches += $sections[$i]['worker'] !== $sections[$i - 1]['worker'] ? 1 : 0;
}
mp_check($switches >= WORKERS, 'the lock passed between processes', "$switches hand-offs between different processes");
mp_measure('multiprocess_counter', sprintf('%d critical sections in %.2f s (%.1f ms per section), %d hand-offs between processes',
    count($sections), $elapsed, $elapsed * 1000 / count($sections), $switches));
echo "done\n";
?>
--EXPECT--
ok: worker w1 exited normally
ok: worker w2 exited normally
ok: worker w3 exited normally
ok: worker w4 exited normally
ok: the counter is exactly 200
ok: worker w1 saw no fencing violation in the counter file
ok: worker w2 saw no fencing violation in the counter file
ok: worker w3 saw no fencing violation in the counter file
ok: worker w4 saw no fencing violation in the counter file
ok: every worker logged every critical section
ok: no two critical sections overlap in time
ok: fencing tokens strictly increase in the order the critical sections started
ok: the lock passed between processes
done
