<?php
// Scenario 6: one worker process on a read-mostly lock. It warms up, says "ready", waits for
// the runner's start/end instants, then until the end: a read (--read_pct % of the operations,
// chosen at random) or a write on one identifier, acquire (blocking: shared or exclusive),
// hold --hold_us, release. Writes every hold as [requested, acquired, releasing, released,
// read] (hrtime ns; read is 1 for a shared hold, 0 for an exclusive one).
declare(strict_types=1);
require __DIR__ . '/lib.php';

$opts = options(['hold_us' => '1000', 'read_pct' => '90', 'prefix' => 'rw']);
$c = contender($opts);
$hold = (int) $opts['hold_us'];
$readPct = (int) $opts['read_pct'];
$id = $opts['prefix'];
$pid = getmypid();

// Warm-up: kafka_lock joins the partition (a private identifier, both modes); symfony stores
// connect. The shared identifier only shared, so warm-ups do not queue behind each other.
$c->acquire("warm-$pid");
$c->release("warm-$pid");
$c->acquireRead("warm-$pid");
$c->release("warm-$pid");
$c->acquireRead($id);
$c->release($id);
[$start, $end] = await_start();

$events = [];
$reads = $writes = 0;
while (true) {
    $read = mt_rand(0, 99) < $readPct;
    $t0 = hrtime(true);
    if ($t0 >= $end) {
        break;
    }
    $read ? $c->acquireRead($id) : $c->acquire($id);
    $t1 = hrtime(true);
    if ($t1 < $end) {
        if ($hold > 0) {
            usleep($hold);
        }
        $read ? $reads++ : $writes++;
    }
    $t2 = hrtime(true);
    $c->release($id);
    $t3 = hrtime(true);
    $events[] = [$t0, $t1, $t2, $t3, $read ? 1 : 0];
}
emit($opts, ['pid' => $pid, 'reads' => $reads, 'writes' => $writes, 'events' => $events] + rss_kib());
