--TEST--
The kafka-lock CLI: status (text and JSON) of one lock and of a topic, revoke of every reader, watch, and its exit codes for usage errors (2) and failures (1)
--FILE--
<?php
$cli = __DIR__ . '/../target/release/kafka-lock';
function run(string $args): array
{
    global $cli;
    exec(escapeshellarg($cli) . " $args 2>&1", $out, $rc);
    return [$rc, implode("\n", $out)];
}

$topic = 'phpt_cli_' . bin2hex(random_bytes(4));
$r1 = new DistributedLock($topic, ['lock.ttl' => 2]);
$r2 = new DistributedLock($topic, ['lock.ttl' => 2]);
$sem = new DistributedSemaphore($topic, ['lock.ttl' => 2]);
var_dump($r1->acquireReadLock('report', 5), $r2->acquireReadLock('report', 5), $sem->acquire('exports', 3, 5, 2));
$tokens = [$r1->getFencingToken('report'), $r2->getFencingToken('report')];

echo "-- status of one lock, JSON\n";
[$rc, $out] = run("status $topic report --json");
$locks = json_decode($out, true);
var_dump($rc, count($locks), $locks[0]['identifier'], $locks[0]['mode'], $locks[0]['waiting'], $locks[0]['complete']);
var_dump(array_column($locks[0]['holders'], 'token') === $tokens);

echo "-- status of the topic, text\n";
[$rc, $out] = run("status $topic");
var_dump($rc);
echo preg_replace(['~held by \S+~', '~token \d+~', '~[\d.]+ s left~'], ['held by OWNER', 'token N', 'T s left'], $out), "\n";

echo "-- a free lock\n";
[$rc, $out] = run("status $topic nobody --json");
var_dump($rc, json_decode($out, true)[0]['mode'], json_decode($out, true)[0]['holders']);

echo "-- watch sees the semaphore share end\n";
$watch = proc_open([$cli, 'watch', $topic, '--duration', '6', '--interval', '0.2', '--json'], [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
$first = json_decode(fgets($pipes[1]), true);
var_dump($first['event']);
$sem->release('exports');
$ended = null;
while (($line = fgets($pipes[1])) !== false) {
    $event = json_decode($line, true);
    if ($event['event'] === 'ended' && $event['identifier'] === 'exports') {
        $ended = $event;
        break;
    }
}
proc_terminate($watch);
proc_close($watch);
var_dump($ended['mode'] ?? null);

echo "-- revoke ends both readers within their lease\n";
[$rc, $out] = run("revoke $topic report");
var_dump($rc, str_replace(implode(', ', $tokens), 'T1, T2', $out));
$deadline = microtime(true) + 5;
while (($r1->isAcquired('report') || $r2->isAcquired('report')) && microtime(true) < $deadline) {
    usleep(50000);
}
var_dump($r1->isAcquired('report'), $r2->isAcquired('report'));
[$rc, $out] = run("revoke $topic report");
var_dump($rc, str_replace(implode(', ', $tokens), 'T1, T2', $out));

echo "-- usage errors exit with 2, failures with 1\n";
foreach ([
    '',
    'status',
    'frobnicate x',
    "status $topic -X nonsense",
    "status $topic -F /nonexistent/file.properties",
    "status $topic -X lock.ttl=abc",
    "watch $topic --interval 0",
    "status 'bad topic'",
    "status {$topic}_missing",
    "status $topic -b 127.0.0.1:1 -X lock.connect_timeout=1",
] as $args) {
    [$rc, $out] = run($args);
    echo "[$args] => $rc: ", strtok($out, "\n"), "\n";
}
?>
--EXPECTF--
bool(true)
bool(true)
bool(true)
-- status of one lock, JSON
int(0)
int(1)
string(6) "report"
string(6) "shared"
int(0)
bool(true)
bool(true)
-- status of the topic, text
int(0)
exports: semaphore (limit 3), 0 waiting
  held by OWNER (fencing token N, weight 2), lease T s left
report: shared, 0 waiting
  held by OWNER (fencing token N), lease T s left
  held by OWNER (fencing token N), lease T s left
-- a free lock
int(0)
NULL
array(0) {
}
-- watch sees the semaphore share end
string(4) "held"
string(9) "semaphore"
-- revoke ends both readers within their lease
int(0)
string(%d) "report: revoked fencing token(s) T1, T2; they end at their current lease"
bool(false)
bool(false)
int(0)
string(%d) "report: fencing token(s) T1, T2 were revoked before; they end at their current lease"
-- usage errors exit with 2, failures with 1
[] => 2: error: 'kafka-lock' requires a subcommand but one was not provided
[status] => 2: error: the following required arguments were not provided:
[frobnicate x] => 2: error: unrecognized subcommand 'frobnicate'
[status %s -X nonsense] => 2: kafka-lock: -X: expected KEY=VALUE, got 'nonsense'
[status %s -F /nonexistent/file.properties] => 2: kafka-lock: cannot read the properties file /nonexistent/file.properties: No such file or directory (os error 2)
[status %s -X lock.ttl=abc] => 2: kafka-lock: %s
[watch %s --interval 0] => 2: kafka-lock: --interval must be at least 0.05 s, 0 given
[status 'bad topic'] => 2: kafka-lock: topic name 'bad topic' contains ' '; Kafka allows only ASCII letters, digits, '.', '_' and '-'
[status %s_missing] => 1: kafka-lock: topic '%s_missing' does not exist and lock.create_topic is off; create it with message.timestamp.type=LogAppendTime
[status %s -b 127.0.0.1:1 -X lock.connect_timeout=1] => 1: kafka-lock: %s
