<?php
// Scenario 9: one web request of a php-fpm pool that takes one hot lock (BENCH_LOCK_ID) around a read-modify-
// write of a counter file (BENCH_HOLD_US between the read and the write), as an application
// would around a shared resource. bench/run.py loads it with ab and checks, once the pool has
// stopped, that the counter equals the increments made: no lost update.
declare(strict_types=1);
require __DIR__ . '/lib.php';

$opts = ['contender' => getenv('BENCH_CONTENDER'), 'topic' => getenv('BENCH_TOPIC'),
         'flock_dir' => getenv('BENCH_FLOCK_DIR')];
$c = contender($opts);
$id = getenv('BENCH_LOCK_ID');
$c->acquire($id);
$counter = getenv('BENCH_COUNTER');
$n = (int) @file_get_contents($counter);
usleep((int) getenv('BENCH_HOLD_US'));
file_put_contents($counter, (string) ($n + 1));
// One line per increment: ab does not count the requests it stops waiting for at its time
// limit, which still run to their end here.
file_put_contents("$counter.done", "1\n", FILE_APPEND);
$c->release($id);
echo "ok\n";
