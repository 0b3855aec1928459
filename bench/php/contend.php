<?php
// Scenarios 2 and 4: one worker process. It warms up, says "ready", waits for the runner's
// start/end instants, then until the end: pick an identifier (the hot lock, or one of --keys
// at random), acquire (blocking), hold --hold_us, release. Writes every hold as
// [requested, acquired, releasing, released] hrtime ns (scenario 2), or only counts (4).
declare(strict_types=1);
require __DIR__ . '/lib.php';

$opts = options(['keys' => '1', 'hold_us' => '1000', 'events' => '1', 'prefix' => 'hot', 'warm_keys' => '256']);
$c = contender($opts);
$keys = max(1, (int) $opts['keys']);
$hold = (int) $opts['hold_us'];
$prefix = $opts['prefix'];
$pid = getmypid();

// Warm-up: kafka_lock joins each partition the working set maps to (the first use of a
// partition costs a round trip); symfony stores connect. A private identifier per process
// and the working set's first identifiers (a contended identifier is only touched when it
// can be taken at once, so warm-ups do not queue behind each other for long).
$c->acquire("warm-$pid");
$c->release("warm-$pid");
for ($k = 0; $k < min($keys, (int) $opts['warm_keys']); $k++) {
    $id = $keys === 1 ? $prefix : "$prefix-$k";
    $c->acquire($id);
    $c->release($id);
}
[$start, $end] = await_start();

$events = [];
$count = 0;
$waitMax = 0;
while (true) {
    $id = $keys === 1 ? $prefix : $prefix . '-' . mt_rand(0, $keys - 1);
    $t0 = hrtime(true);
    if ($t0 >= $end) {
        break;
    }
    $c->acquire($id);
    $t1 = hrtime(true);
    if ($t1 < $end) {
        if ($hold > 0) {
            usleep($hold);
        }
        $count++;
    }
    $t2 = hrtime(true);
    $c->release($id);
    $t3 = hrtime(true);
    $waitMax = max($waitMax, $t1 - $t0);
    if ($opts['events'] === '1') {
        $events[] = [$t0, $t1, $t2, $t3];
    }
}
emit($opts, ['pid' => $pid, 'count' => $count, 'wait_max_ns' => $waitMax, 'events' => $events] + rss_kib());
