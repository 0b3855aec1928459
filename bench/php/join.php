<?php
// Scenario 4b: cost of joining a partition. A fresh process constructs the lock, then times
// its first acquire+release on the topic (the join: produce, look up the window start by
// time, replay from there up to its own record) and a second one (joined already).
declare(strict_types=1);
require __DIR__ . '/lib.php';

$opts = options(['id' => 'join']);
$t0 = hrtime(true);
$c = contender($opts);
$t1 = hrtime(true);
$c->acquire($opts['id']);
$c->release($opts['id']);
$t2 = hrtime(true);
$c->acquire($opts['id'] . '-2');
$c->release($opts['id'] . '-2');
$t3 = hrtime(true);
emit($opts, ['construct_ns' => $t1 - $t0, 'first_ns' => $t2 - $t1, 'second_ns' => $t3 - $t2] + rss_kib());
