<?php
// Scenario 1: uncontended acquire+release on distinct locks in one long-lived process.
// Prints/writes {"total_ns":[...],"acquire_ns":[...],"release_ns":[...]}.
declare(strict_types=1);
require __DIR__ . '/lib.php';

$opts = options(['n' => '2000', 'warmup' => '200', 'run' => 'r']);
$c = contender($opts);
$n = (int) $opts['n'];
$warmup = (int) $opts['warmup'];
$total = $acq = $rel = [];
// The warm-up also pays kafka_lock's join of the partition (its first use costs a round trip).
for ($i = 0; $i < $warmup + $n; $i++) {
    $id = "u-{$opts['run']}-$i";
    $t0 = hrtime(true);
    $c->acquire($id);
    $t1 = hrtime(true);
    $c->release($id);
    $t2 = hrtime(true);
    if ($i >= $warmup) {
        $total[] = $t2 - $t0;
        $acq[] = $t1 - $t0;
        $rel[] = $t2 - $t1;
    }
}
emit($opts, ['total_ns' => $total, 'acquire_ns' => $acq, 'release_ns' => $rel] + rss_kib());
