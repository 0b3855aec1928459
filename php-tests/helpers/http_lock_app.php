<?php
// Router script of http_server_requests.phpt, served by `php -S` with the extension loaded: one
// PHP process serving one request after the other, as PHP-FPM's workers do.
//   GET /?topic=T&id=ID&ttl=TTL&dir=DIR&n=N
// Reports the session counters before it touches the extension, takes ID on T (lock.ttl TTL),
// writes DIR/held-N (JSON: pid, counters, token), waits until DIR/go-N exists (at most 20 s),
// answers with the same JSON plus the counters at the end, and ends the request still holding
// the lock: no releaseLock(), the object lives in a global until the request's end.
declare(strict_types=1);
require __DIR__ . '/lock_lib.php';

$q = $_GET;
$report = ['pid' => getmypid(), 'before' => kafka_lock_info()];
$GLOBALS['lock'] = new DistributedLock($q['topic'], ['lock.ttl' => (float)$q['ttl']]);
$report['ok'] = $GLOBALS['lock']->acquireLock($q['id'], 5.0);
$report['token'] = $GLOBALS['lock']->getFencingToken($q['id']);
file_put_contents("{$q['dir']}/held-{$q['n']}", json_encode($report));
$deadline = hrtime(true) + 20e9;
while (!file_exists("{$q['dir']}/go-{$q['n']}") && hrtime(true) < $deadline) {
    usleep(2000);
}
$report['still held'] = $GLOBALS['lock']->isAcquired($q['id']);
$report['after'] = kafka_lock_info();
header('Content-Type: application/json');
echo json_encode($report);
