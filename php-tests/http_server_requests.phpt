--TEST--
One PHP process serving several requests (php -S): the session outlives each request, and each request's end releases what it still holds, at once
--EXTENSIONS--
kafka_lock
--SKIPIF--
<?php if (!function_exists('proc_open')) die('skip proc_open is disabled'); ?>
--FILE--
<?php
// The built-in web server runs requests one after the other in one process, like a PHP-FPM
// worker. Each request (helpers/http_lock_app.php) takes a lock and ends without releasing it.
// While a request runs, this process cannot take the lock; once the response has ended, it
// takes it with tryLock() at once: the request's end released it (a lease running out would
// take 10 s). The second request finds the session of the first still there, its counters
// still counting (the first request's lease of 1.5 s, the shortest the default lock.max_clock_step
// of 0.5 s allows, was renewed while it waited).
require __DIR__ . '/helpers/mp_lib.php';

$test = new MpTest('http');
$topic = mp_topic('http');
$main = new DistributedLock($topic, mp_config());

// A free port: let the kernel pick one, then hand it to php -S (which fails loudly if taken).
$probe = stream_socket_server('tcp://127.0.0.1:0');
$port = (int)substr(strrchr(stream_socket_get_name($probe, false), ':'), 1);
fclose($probe);
$log = $test->file('server.log');
$server = proc_open([PHP_BINARY, '-n', '-d', 'extension=' . $test->extension, '-d', 'display_errors=1', '-d', 'error_reporting=-1',
    '-S', "127.0.0.1:$port", __DIR__ . '/helpers/http_lock_app.php'], [0 => ['file', '/dev/null', 'r'], 1 => ['file', $log, 'a'], 2 => ['file', $log, 'a']], $pipes);
register_shutdown_function(function () use ($server) {
    proc_terminate($server, 9);
    proc_close($server);
});
$deadline = mp_now() + 10;
while (!str_contains((string)@file_get_contents($log), 'started')) {
    if (mp_now() > $deadline || !proc_get_status($server)['running']) {
        mp_fail("php -S did not start on port $port: " . @file_get_contents($log));
    }
    mp_pause(0.01);
}

/** Sends request N (the response is read by finish()). */
function request(int $n, string $id, float $ttl)
{
    global $port, $topic, $test;
    $socket = stream_socket_client("tcp://127.0.0.1:$port", $errno, $error, 5.0);
    if ($socket === false) {
        mp_fail("cannot connect to php -S: $error");
    }
    $query = http_build_query(['topic' => $topic, 'id' => $id, 'ttl' => $ttl, 'dir' => $test->dir, 'n' => $n]);
    fwrite($socket, "GET /?$query HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    return $socket;
}

/** Awaits DIR/NAME (JSON written by the app) and decodes it. */
function await_file(string $name): array
{
    global $test;
    $deadline = mp_now() + 20;
    while (($text = @file_get_contents($test->file($name))) === false || $text === '') {
        if (mp_now() > $deadline) {
            mp_fail("no $name within 20 s; server log: " . @file_get_contents($test->file('server.log')));
        }
        mp_pause(0.002);
    }
    return json_decode($text, true);
}

/** Lets request N end and reads its response to the end of the connection. */
function finish(int $n, $socket): array
{
    global $test;
    touch($test->file("go-$n"));
    stream_set_timeout($socket, 20);
    $response = stream_get_contents($socket);
    fclose($socket);
    [$head, $body] = explode("\r\n\r\n", $response, 2) + [1 => ''];
    if (!str_starts_with($head, 'HTTP/1.0 200') || !is_array($report = json_decode($body, true))) {
        mp_fail("request $n: unexpected response: $response");
    }
    return $report;
}

$reports = [];
foreach ([1 => 1.5, 2 => 10.0] as $n => $ttl) {
    $socket = request($n, 'page', $ttl);
    $held = await_file("held-$n");
    mp_check($held['ok'] === true && is_int($held['token']), "request $n holds the lock");
    mp_check(!$main->tryLock('page'), "request $n: while the request runs, another process cannot take the lock");
    if ($n === 1) {
        mp_pause(1.3); // most of the 1.5 s lease: it must be renewed (and counted) meanwhile
        mp_check(!$main->tryLock('page'), 'request 1: its lease was renewed while it ran');
    }
    $report = $reports[$n] = finish($n, $socket);
    mp_check($report['still held'] === true, "request $n: still held when the request ended");
    // The connection closes after the request's shutdown (php -S), so the release is done by now.
    $start = mp_now();
    $got = $main->tryLock('page');
    mp_check($got && $main->getFencingToken('page') > $report['token'], "request $n: right after its end, another process takes the lock with tryLock()",
        sprintf('tryLock %s after %.3f s', var_export($got, true), mp_now() - $start));
    mp_check($main->releaseLock('page'), "request $n: and releases it");
}

[$first, $second] = [$reports[1], $reports[2]];
mp_check($first['pid'] === $second['pid'], 'both requests ran in the same process', "pids {$first['pid']}, {$second['pid']}");
mp_check($first['before']['sessions'] === 0 && $first['after']['sessions'] === 1,
    'the first request created the session', json_encode([$first['before'], $first['after']]));
mp_check($first['after']['renewals_sent'] >= 1, "the first request's lease was renewed", json_encode($first['after']));
mp_check($second['before']['sessions'] === 1 && $second['before']['renewals_sent'] >= $first['after']['renewals_sent']
    && $second['before']['records_replayed'] >= $first['after']['records_replayed'],
    'the second request found that session, its counters still counting, before it touched the extension', json_encode([$first['after'], $second['before']]));
mp_check($second['after']['sessions'] === 1, 'the second request used it (no new session)', json_encode($second['after']));
mp_check($second['token'] > $first['token'], 'tokens grow from request to request');
$out = preg_grep('/\b(Accepted|Closing|started|\[200\]:)/', file($log, FILE_IGNORE_NEW_LINES), PREG_GREP_INVERT);
mp_check($out === [], 'the server logged no warning or error', implode("\n", $out));
echo "done\n";
?>
--EXPECT--
ok: request 1 holds the lock
ok: request 1: while the request runs, another process cannot take the lock
ok: request 1: its lease was renewed while it ran
ok: request 1: still held when the request ended
ok: request 1: right after its end, another process takes the lock with tryLock()
ok: request 1: and releases it
ok: request 2 holds the lock
ok: request 2: while the request runs, another process cannot take the lock
ok: request 2: still held when the request ended
ok: request 2: right after its end, another process takes the lock with tryLock()
ok: request 2: and releases it
ok: both requests ran in the same process
ok: the first request created the session
ok: the first request's lease was renewed
ok: the second request found that session, its counters still counting, before it touched the extension
ok: the second request used it (no new session)
ok: tokens grow from request to request
ok: the server logged no warning or error
done
