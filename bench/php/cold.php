<?php
// Scenario 3: the cron-job pattern. Construct, acquire once, release, exit; bench/run.py
// times the whole process from spawn to exit.
declare(strict_types=1);
require __DIR__ . '/lib.php';

$opts = options(['id' => 'cold']);
$c = contender($opts);
$c->acquire($opts['id']);
$c->release($opts['id']);
