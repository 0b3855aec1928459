<?php
// Scenario 7: one worker process on a counted semaphore. It warms up, says "ready", waits for
// the runner's start/end instants, then until the end: acquire --weight of the semaphore of
// --limit (blocking), hold --hold_us, release. Writes every hold as [requested, acquired,
// releasing, released] (hrtime ns), and for symfony/semaphore the attempts that found it full.
declare(strict_types=1);
require __DIR__ . '/lib.php';

$opts = options(['hold_us' => '1000', 'limit' => '3', 'weight' => '1', 'prefix' => 'sem']);
$c = semaphore_contender($opts);
$hold = (int) $opts['hold_us'];
$limit = (int) $opts['limit'];
$weight = (int) $opts['weight'];
$name = $opts['prefix'];
$pid = getmypid();

// Warm-up: kafka_lock joins the partition, symfony's Redis connects; then the semaphore once.
$c->acquire("warm-$pid", 1);
$c->release("warm-$pid");
$c->acquire($name, $limit, $weight);
$c->release($name);
$retriesBefore = $c instanceof SymfonySemaphoreContender ? $c->retries : 0;
[$start, $end] = await_start();

$events = [];
$count = 0;
while (true) {
    $t0 = hrtime(true);
    if ($t0 >= $end) {
        break;
    }
    $c->acquire($name, $limit, $weight);
    $t1 = hrtime(true);
    if ($t1 < $end) {
        if ($hold > 0) {
            usleep($hold);
        }
        $count++;
    }
    $t2 = hrtime(true);
    $c->release($name);
    $t3 = hrtime(true);
    $events[] = [$t0, $t1, $t2, $t3];
}
$retries = $c instanceof SymfonySemaphoreContender ? $c->retries - $retriesBefore : null;
emit($opts, ['pid' => $pid, 'count' => $count, 'retries' => $retries, 'events' => $events] + rss_kib());
