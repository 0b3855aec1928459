<?php
// Scenario 8: an idle worker. Takes and releases one lock, says "ready", then does nothing
// until bench/run.py closes its stdin; the runner meters the broker's CPU and this process's
// own while it sits there.
declare(strict_types=1);
require __DIR__ . '/lib.php';

$opts = options(['id' => 'idle']);
$c = contender($opts);
$c->acquire($opts['id']);
$c->release($opts['id']);
echo "ready\n";
fgets(STDIN);
