<?php
// The application of `make fpm-test` (fpm/run.py), served by a private php-fpm pool behind a
// private nginx. One request = at most one hold of one lock of the topic KL_TOPIC:
//
//   GET /app.php?lock=hot&end=release     the one hot lock, "hot"
//   GET /app.php?lock=many&end=mix        one of KL_MANY identifiers "id-N", picked at random
//   GET /app.php?warm=1                   creates the topic (the driver's readiness probe)
//
// end= how the hold ends: release (releaseLock), request_end (left to the end of the request),
// exit (exit() inside the hold), throw (an uncaught exception inside the hold), kill
// (posix_kill(getmypid(), SIGKILL) inside the hold), mix (release, request_end, exit or throw at
// random).
//
// Inside the hold the request increments a per-lock counter file with a read-modify-write that
// sleeps KL_WINDOW_US between the read and the write: without mutual exclusion increments are
// lost. Every step is one JSON line appended to KL_DIR/events.log, stamped with hrtime(true)
// (CLOCK_MONOTONIC, the clock of every process on this machine, the driver's too); the driver
// checks that log afterwards. KL_SKIP_LOCK=1 (fpm/run.py --self-check only) skips the lock: the
// broken variant that the checker must catch.
declare(strict_types=1);

$dir = (string)getenv('KL_DIR');
$topic = (string)getenv('KL_TOPIC');
$skipLock = getenv('KL_SKIP_LOCK') === '1';
$window = (int)getenv('KL_WINDOW_US');
$many = max(1, (int)getenv('KL_MANY'));
$rid = (string)($_SERVER['KL_REQUEST_ID'] ?? '');

function ev(string $ev, array $fields = []): void
{
    global $dir, $rid;
    $line = json_encode(['t' => hrtime(true), 'ev' => $ev, 'rid' => $rid, 'pid' => getmypid()] + $fields) . "\n";
    // One write() with O_APPEND per event: lines of concurrent workers never interleave.
    file_put_contents("$dir/events.log", $line, FILE_APPEND);
}

header('Content-Type: text/plain');
if (isset($_GET['warm'])) {
    $lock = new DistributedLock($topic);
    $ok = $lock->tryLock('warm-up');
    $lock->releaseLock('warm-up');
    echo $ok ? "ready\n" : "warm-up lock busy\n";
    return;
}

$kind = (string)($_GET['lock'] ?? '');
$end = (string)($_GET['end'] ?? '');
$id = match ($kind) {
    'hot' => 'hot',
    'many' => 'id-' . random_int(0, $many - 1),
    default => null,
};
if ($end === 'mix') {
    $r = random_int(0, 99);
    $end = $r < 70 ? 'release' : ($r < 85 ? 'request_end' : ($r < 93 ? 'throw' : 'exit'));
}
if ($id === null || !in_array($end, ['release', 'request_end', 'exit', 'throw', 'kill'], true)) {
    http_response_code(400);
    echo "bad request\n";
    return;
}
ev('begin', ['id' => $id, 'end' => $end]);

// In a global: a hold left to the request's end must not end earlier with the object.
$GLOBALS['kl_lock'] = $lock = new DistributedLock($topic);
ev('acquiring', ['id' => $id]);
if ($skipLock) {
    $token = hrtime(true);
} else {
    if (!$lock->acquireLock($id, 25.0)) {
        ev('timeout', ['id' => $id]);
        http_response_code(503);
        echo "acquire timed out\n";
        return;
    }
    $token = $lock->getFencingToken($id);
}
ev('enter', ['id' => $id, 'token' => $token, 'end' => $end]);

// Whatever ends the request (return, exit(), an uncaught exception), shutdown functions run
// before the object's destructor and the extension's request shutdown release the lock: the hold
// is still on when 'leave' is logged. The extension's release comes after it.
$left = false;
register_shutdown_function(function () use ($lock, $id, $skipLock, &$left) {
    if (!$left) {
        ev('leave', ['id' => $id, 'how' => 'shutdown', 'held' => $skipLock || $lock->isAcquired($id)]);
    }
});

// The critical section: read, wait a little, write. Overlapping holds lose increments.
$file = "$dir/counter-$id";
$read = (int)@file_get_contents($file);
usleep($window);
file_put_contents($file, (string)($read + 1));
ev('inc', ['id' => $id, 'read' => $read]);

switch ($end) {
    case 'release':
        $left = true;
        $held = $skipLock || $lock->isAcquired($id);
        ev('leave', ['id' => $id, 'how' => 'release', 'held' => $held]);
        $ok = $skipLock || $lock->releaseLock($id);
        ev('released', ['id' => $id, 'ok' => $ok]);
        echo "released\n";
        break;
    case 'request_end':
        echo "left to the end of the request\n";
        break;
    case 'exit':
        echo "exit() inside the hold\n";
        exit(0);
    case 'throw':
        throw new RuntimeException('deliberate uncaught exception inside the hold');
    case 'kill':
        $left = true;
        // The holder's own view of its lease: nobody else may enter before it runs out.
        $remaining = $skipLock ? 0.0 : (float)$lock->getRemainingLifetime($id);
        $now = hrtime(true);
        ev('kill', ['id' => $id, 'until' => $now + (int)round($remaining * 1e9)]);
        posix_kill(getmypid(), 9); // SIGKILL (the pcntl constants are not loaded)
        ev('survived kill', ['id' => $id]);
        break;
}
