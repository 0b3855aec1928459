--TEST--
Multi-process: 4 processes increment a shared counter 50 times each under the lock, holding it 2 ms each time; sections never overlap (O_EXCL marker), tokens grow, the lock alternates (FIFO, no barging), workers print nothing
--EXTENSIONS--
kafka_lock
--SKIPIF--
<?php if (!function_exists('proc_open')) die('skip proc_open is disabled'); ?>
--FILE--
<?php
require __DIR__ . '/helpers/mp_counter.php';

// Each section holds the lock for at least 2 ms between reading and writing the counter (see
// helpers/mp_counter_worker.php), so a second holder at the same time would overlap it, trip the
// O_EXCL marker and lose an increment.
//
// Alternation: every worker asks again as soon as it released, so with FIFO hand-off the lock
// goes round the workers: the releaser's new request queues behind the three that are already
// waiting. A "barge" is a hand-off where the releaser got the lock back although another worker
// had been inside acquireLock() since before the releaser left its critical section (at least
// BARGE_MARGIN before, time enough for that worker's request to be in the log ahead of the
// releaser's next one, which is only written after the release is acknowledged). FIFO allows
// none; one is allowed for a waiter whose request record was delayed beyond the margin on a
// loaded machine. A lock that lets the releaser win again (as symfony's Redis store does) barges
// on most hand-offs. Hand-offs between different workers must be at least MIN_SWITCHES of all:
// only the last round (workers finishing) or a worker that was not even asking yet (descheduled
// longer than a whole round) can give the lock back to the same worker.
const WORKERS = 4;
const ITERATIONS = 50;
const BARGE_MARGIN = 0.005;
const MAX_BARGES = 1;
const MIN_SWITCHES = 0.9;

$test = new MpTest('counter');
[$sections, $elapsed] = mp_counter_run($test, [mp_topic('counter')], WORKERS, ITERATIONS);
mp_counter_check($test, 0, $sections, WORKERS * ITERATIONS, '');

// How the lock went round (see the top of this file).
$handoffs = count($sections) - 1;
$switches = 0;
$barges = [];
for ($i = 1; $i < count($sections); $i++) {
    [$prev, $cur] = [$sections[$i - 1], $sections[$i]];
    if ($cur['worker'] !== $prev['worker']) {
        $switches++;
        continue;
    }
    // Who was waiting when the releaser left its section: asked long enough before, granted later.
    foreach (array_slice($sections, $i + 1) as $later) {
        if ($later['worker'] !== $cur['worker'] && $later['asked'] < $prev['end'] - BARGE_MARGIN * 1e9) {
            $barges[] = sprintf('%s got it back (token %d) while %s had waited %.1f ms (granted token %d)', $cur['worker'], $cur['token'],
                $later['worker'], ($prev['end'] - $later['asked']) / 1e6, $later['token']);
            break;
        }
    }
}
mp_check(count($barges) <= MAX_BARGES, 'a releaser never won its own lock back while another worker waited (at most ' . MAX_BARGES . ' of ' . $handoffs . ' hand-offs)',
    count($barges) . ' barges: ' . implode('; ', array_slice($barges, 0, 5)));
mp_check($switches >= MIN_SWITCHES * $handoffs, 'the lock alternated: at least ' . (MIN_SWITCHES * 100) . '% of hand-offs went to another worker',
    "$switches of $handoffs");
mp_measure('multiprocess_counter', sprintf('%d critical sections in %.2f s (%.1f ms per section), %d of %d hand-offs between processes, %d barges',
    count($sections), $elapsed, $elapsed * 1000 / count($sections), $switches, $handoffs, count($barges)));
echo "done\n";
?>
--EXPECT--
ok: worker w1 exited normally
ok: worker w2 exited normally
ok: worker w3 exited normally
ok: worker w4 exited normally
ok: worker w1 saw no overlap and no fencing violation in the counter file
ok: worker w1 printed nothing (no warning or notice)
ok: worker w2 saw no overlap and no fencing violation in the counter file
ok: worker w2 printed nothing (no warning or notice)
ok: worker w3 saw no overlap and no fencing violation in the counter file
ok: worker w3 printed nothing (no warning or notice)
ok: worker w4 saw no overlap and no fencing violation in the counter file
ok: worker w4 printed nothing (no warning or notice)
ok: the counter is exactly 200
ok: every worker logged every critical section
ok: no two critical sections overlap in time
ok: fencing tokens strictly increase in the order the critical sections started
ok: a releaser never won its own lock back while another worker waited (at most 1 of 199 hand-offs)
ok: the lock alternated: at least 90% of hand-offs went to another worker
done
