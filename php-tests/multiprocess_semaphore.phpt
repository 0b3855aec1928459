--TEST--
Multi-process: 8 processes taking shares of one semaphore of limit 3 over and over never hold more than 3 at once, and do hold 3 at once
--EXTENSIONS--
kafka_lock
--SKIPIF--
<?php if (!function_exists('proc_open')) die('skip proc_open is disabled'); ?>
--FILE--
<?php
// Each worker warms its session up, waits for the common start, then ROUNDS times acquires a
// weight-1 share of 'pool' (limit 3), holds it HOLD_MS and releases it, reporting each hold as
// an interval: from right after acquire() returned to right before release() was called, on
// the monotonic clock all processes share. Every interval lies inside a real hold, so more
// than LIMIT intervals overlapping at any instant would be a broken semaphore.
require __DIR__ . '/helpers/mp_lib.php';

const WORKERS = 8;
const LIMIT = 3;
const ROUNDS = 6;
const HOLD_MS = 80;

$test = new MpTest('semaphore_mp');
$topic = mp_topic('semaphore_mp');

$workers = [];
for ($i = 1; $i <= WORKERS; $i++) {
    $workers[$i] = $test->spawn("w$i", [$topic, 'newsem', "trysem:warm-w$i:1:1", "semrelease:warm-w$i", 'wait',
        'cycle:sem' . LIMIT . ':pool:' . ROUNDS . ':' . HOLD_MS]);
}
foreach ($workers as $w) {
    $w->await('waiting');
}
foreach ($workers as $w) {
    $w->send();
}
$holds = [];
foreach ($workers as $i => $w) {
    $w->await('cycled', 30.0);
    mp_check($w->wait() === 0, "worker $i held its share " . ROUNDS . ' times and exited normally');
    foreach ($w->events() as $e) {
        if ($e['ev'] === 'held') {
            $holds[] = $e + ['worker' => $i];
        }
    }
}
$tokens = array_column($holds, 'token');
mp_check(count($holds) === WORKERS * ROUNDS && count(array_unique($tokens)) === count($holds),
    'every hold has a token of its own', count($holds) . ' holds, ' . count(array_unique($tokens)) . ' tokens');

// The most intervals open at once: a sweep over starts (+1) and ends (-1); at the same instant
// an end counts first.
$points = [];
foreach ($holds as $h) {
    $points[] = [$h['start'], 1];
    $points[] = [$h['end'], -1];
}
usort($points, fn($a, $b) => $a[0] <=> $b[0] ?: $a[1] <=> $b[1]);
$open = $max = 0;
foreach ($points as [, $step]) {
    $open += $step;
    $max = max($max, $open);
}
mp_check($max <= LIMIT, 'never more than ' . LIMIT . ' shares held at once', "$max at once");
mp_check($max === LIMIT, LIMIT . ' shares were held at once', "at most $max at once");

$first = min(array_column($holds, 'start'));
$last = max(array_column($holds, 'end'));
mp_measure('multiprocess_semaphore', sprintf('%d workers x %d holds of %d ms, limit %d: %.2f s from the first grant to the last release (%.2f s if always full)',
    WORKERS, ROUNDS, HOLD_MS, LIMIT, ($last - $first) / 1e9, WORKERS * ROUNDS * HOLD_MS / 1000 / LIMIT));
echo "done\n";
?>
--EXPECT--
ok: worker 1 held its share 6 times and exited normally
ok: worker 2 held its share 6 times and exited normally
ok: worker 3 held its share 6 times and exited normally
ok: worker 4 held its share 6 times and exited normally
ok: worker 5 held its share 6 times and exited normally
ok: worker 6 held its share 6 times and exited normally
ok: worker 7 held its share 6 times and exited normally
ok: worker 8 held its share 6 times and exited normally
ok: every hold has a token of its own
ok: never more than 3 shares held at once
ok: 3 shares were held at once
done
