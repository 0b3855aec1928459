<?php
// The counter runs of multiprocess_counter.phpt and multiprocess_two_topics.phpt: workers
// (helpers/mp_counter_worker.php) increment one counter per topic under the lock; this file
// starts them, collects their critical sections, and checks what both tests check.

declare(strict_types=1);
require_once __DIR__ . '/mp_lib.php';

/**
 * Starts $workers workers (w1, w2, ...) on $topics, lets them go at once, waits for them, and
 * checks each exited normally, saw no overlap or fencing violation and printed nothing.
 * Returns [sections (worker, topic, token, start, end, asked, released; sorted by start),
 * elapsed seconds].
 */
function mp_counter_run(MpTest $test, array $topics, int $workers, int $iterations): array
{
    foreach (array_keys($topics) as $k) {
        file_put_contents($test->file("counter-$k"), '0 -1');
    }
    $spawned = [];
    for ($w = 1; $w <= $workers; $w++) {
        $spawned[] = $test->spawn("w$w", [implode(',', $topics), $iterations], __DIR__ . '/mp_counter_worker.php');
    }
    // Every worker has connected before any of them starts: they contend from the first iteration.
    foreach ($spawned as $worker) {
        $worker->await('ready');
    }
    $start = mp_now();
    touch($test->file('go'));
    foreach ($spawned as $worker) {
        $worker->await('done', 25.0);
        mp_check($worker->wait() === 0, "worker $worker->name exited normally");
    }
    $elapsed = mp_now() - $start;

    $sections = [];
    foreach ($spawned as $worker) {
        $log = json_decode(file_get_contents($test->file("$worker->name.sections")), true);
        mp_check($log['violations'] === [], "worker $worker->name saw no overlap and no fencing violation in the counter file", implode('; ', $log['violations']));
        foreach ($log['sections'] as [$token, $s, $e, $asked, $released, $topic]) {
            $sections[] = ['worker' => $worker->name, 'topic' => $topic, 'token' => $token, 'start' => $s, 'end' => $e, 'asked' => $asked, 'released' => $released];
        }
        mp_check($worker->output() === '', "worker $worker->name printed nothing (no warning or notice)", $worker->output());
    }
    usort($sections, fn($a, $b) => $a['start'] <=> $b['start']);
    return [$sections, $elapsed];
}

/** The counter of topic $k is $expected; its sections (of one topic) never overlap and their tokens grow. */
function mp_counter_check(MpTest $test, int $k, array $sections, int $expected, string $label): void
{
    [$value] = explode(' ', file_get_contents($test->file("counter-$k")));
    mp_check((int)$value === $expected, "{$label}the counter is exactly $expected", "counter = $value");
    mp_check(count($sections) === $expected, "{$label}every worker logged every critical section", count($sections) . ' sections');
    $sections = array_values($sections);
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
    mp_check($overlaps === [], "{$label}no two critical sections overlap in time", implode('; ', array_slice($overlaps, 0, 5)));
    mp_check($disorder === [], "{$label}fencing tokens strictly increase in the order the critical sections started", implode('; ', array_slice($disorder, 0, 5)));
}
