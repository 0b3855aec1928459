<?php
// Scenario 5: RSS of a process with the extension loaded, with one lock held, and along
// acquire/release cycles on distinct identifiers (growth would show here).
declare(strict_types=1);
require __DIR__ . '/lib.php';

$opts = options(['cycles' => '2000', 'points' => '20', 'min_seconds' => '0']);
$samples = [['stage' => 'loaded', 'cycles' => 0] + rss_kib()];
$c = contender($opts);
$samples[] = ['stage' => 'constructed', 'cycles' => 0] + rss_kib();
$c->acquire('mem-held');
$samples[] = ['stage' => 'one lock held', 'cycles' => 0] + rss_kib();
// At least --cycles cycles, and on until --min_seconds have passed: nothing kafka_lock keeps
// outlives the longest lease (60 s of log time), so a run longer than that shows whether its
// memory is flat (builds before b9fc121 kept a tombstone per released request that long).
$cycles = (int) $opts['cycles'];
$minNs = (int) ((float) $opts['min_seconds'] * 1e9);
$every = max(1, intdiv($cycles, (int) $opts['points']));
$t0 = hrtime(true);
for ($i = 1; $i <= $cycles || hrtime(true) - $t0 < $minNs; $i++) {
    $id = "mem-$i";
    $c->acquire($id);
    $c->release($id);
    if ($i % $every === 0) {
        $samples[] = ['stage' => 'cycles', 'cycles' => $i, 'elapsed_s' => (hrtime(true) - $t0) / 1e9] + rss_kib();
    }
}
$c->release('mem-held');
gc_collect_cycles();
$samples[] = ['stage' => 'released', 'cycles' => $i - 1, 'elapsed_s' => (hrtime(true) - $t0) / 1e9] + rss_kib();
emit($opts, ['samples' => $samples, 'php_memory_usage' => memory_get_usage(true)]);
