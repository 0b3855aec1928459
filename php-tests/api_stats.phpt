--TEST--
DistributedLock::stats(): its shape, and every counter and histogram moving as the API is used: acquires, busy tryLock, a time-out, an interrupt, a hand-off from another process, a revoke, a forged record ignored by reason, a lost lease; phpinfo() shows them; a forked child starts from zero
--EXTENSIONS--
pcntl
--FILE--
<?php
require __DIR__ . '/helpers/mp_lib.php';
require __DIR__ . '/helpers/kafka_tools.php';

$stats = DistributedLock::stats();
echo 'keys: ', implode(' ', array_keys($stats)), "\n";
echo 'pid is ours: ', var_export($stats['pid'] === getmypid(), true), "\n";
echo 'counters: ', implode(' ', array_keys($stats['counters'])), "\n";
echo 'gauges: ', implode(' ', array_keys($stats['gauges'])), "\n";
echo 'histograms: ', implode(' ', array_keys($stats['histograms'])), "\n";
echo 'all zero before any lock: ', var_export(array_sum($stats['counters']) + array_sum($stats['gauges']) === 0, true), "\n";

// What moved since $before, counters and histogram counts.
function moved(array $before, array $unsteady = []): string
{
    $after = DistributedLock::stats();
    $out = [];
    // records_applied_on_ack: whether an acquire's report or its read-back comes first.
    $unsteady = array_merge($unsteady, ['records_replayed', 'records_applied_on_ack', 'ticks_sent', 'renewals_sent']);
    foreach ($after['counters'] as $name => $n) {
        if ($n !== $before['counters'][$name] && !in_array($name, $unsteady, true)) {
            $out[] = "$name+" . ($n - $before['counters'][$name]);
        }
    }
    foreach ($after['histograms'] as $name => $h) {
        if ($h['count'] !== $before['histograms'][$name]['count']) {
            $out[] = "$name+" . ($h['count'] - $before['histograms'][$name]['count']);
        }
    }
    return implode(' ', $out) . "\n";
}

$topic = mp_topic('stats');
$options = ['lock.partitions' => 1];
$s = DistributedLock::stats();
$a = new DistributedLock($topic, $options); // connects: the session starts
$b = new DistributedLock($topic, $options);
$a->acquireLock('x');
$a->acquireLock('x'); // reentrant: not a second hold
echo 'acquire: ', moved($s);
$g = DistributedLock::stats()['gauges'];
echo "sessions {$g['sessions']}, partitions followed {$g['partitions_followed']}\n";

$s = DistributedLock::stats();
var_dump($b->tryLock('x'));
echo 'tryLock refused: ', moved($s);

$s = DistributedLock::stats();
var_dump($b->acquireLock('x', 0.2));
echo 'time-out: ', moved($s);

$s = DistributedLock::stats();
pcntl_async_signals(true);
pcntl_signal(SIGALRM, function () {});
pcntl_alarm(1);
var_dump($b->acquireLock('x'));
echo 'interrupt: ', moved($s);

$s = DistributedLock::stats();
$a->releaseLock('x');
$a->releaseLock('x');
echo 'release: ', moved($s);

// A hand-off: another process holds 'h' and releases it once this one waits for it.
$script = tempnam(sys_get_temp_dir(), 'stats');
file_put_contents($script, <<<'PHP'
<?php
[, $topic] = $argv;
$lock = new DistributedLock($topic, ['lock.partitions' => 1]);
$lock->acquireLock('h');
echo "holding\n";
$deadline = microtime(true) + 20;
while ($lock->inspect('h')['waiting'] < 1 && microtime(true) < $deadline) {
    usleep(10000);
}
$lock->releaseLock('h');
PHP);
$proc = proc_open([PHP_BINARY, '-n', '-d', 'extension=' . mp_extension_path(), $script, $topic],
    [1 => ['pipe', 'w'], 2 => ['file', '/dev/null', 'w']], $pipes);
echo fgets($pipes[1]);
$s = DistributedLock::stats();
var_dump($a->acquireLock('h', 20));
echo 'handed over: ', moved($s);
proc_close($proc);
unlink($script);
$a->releaseLock('h');

// A revoke, and a forged release (no owner proof) that every process ignores.
$s = DistributedLock::stats();
$a->acquireLock('r');
var_dump($b->revoke('r'));
echo 'revoke: ', moved($s);
$a->releaseLock('r');
// A release forged in the holder's name (owner and token copied from the log, no secret).
$a->acquireLock('f');
$held = $a->inspect('f')['holders'][0];
$s = DistributedLock::stats();
kafka_produce_raw($topic, 'f', json_encode(['v' => 1, 'op' => 'release', 'owner' => $held['owner'], 'ref' => $held['token']]));
$a->inspect('f'); // reads past the forged record
$ignored = DistributedLock::stats()['ignored_by_reason'];
echo 'forged release: records_ignored +', DistributedLock::stats()['counters']['records_ignored'] - $s['counters']['records_ignored'],
    ', release_bad_secret +', ($ignored['release_bad_secret'] ?? 0) - ($s['ignored_by_reason']['release_bad_secret'] ?? 0),
    ', still held ', var_export($a->isAcquired('f'), true), "\n";
$a->releaseLock('f');

// A lost lease: the whole process stopped (its renewals too) for four leases.
$short = new DistributedLock($topic, ['lock.partitions' => 1, 'lock.ttl' => 0.3, 'lock.max_clock_step' => 0]);
$short->acquireLock('lost');
$pid = getmypid();
shell_exec("(sleep 1.2; kill -CONT $pid) >/dev/null 2>&1 & kill -STOP $pid");
$s = DistributedLock::stats();
var_dump($short->releaseLock('lost'));
// Renewals that were due during the pause may land after the lease: ignored (renew_invalid).
echo 'lost: ', moved($s, ['records_ignored']);

// The histograms: cumulative buckets, '+Inf' equals the count, the sum in seconds.
foreach (DistributedLock::stats()['histograms'] as $name => $h) {
    $counts = array_values($h['buckets']);
    $sorted = $counts;
    sort($sorted);
    printf("%s: %d buckets, first %s, last %s, string keys %s, cumulative %s, +Inf = count %s, sum %s\n", $name, count($counts),
        array_key_first($h['buckets']), array_key_last($h['buckets']),
        var_export(array_filter(array_keys($h['buckets']), 'is_string') === array_keys($h['buckets']), true),
        var_export($counts === $sorted, true),
        var_export($h['buckets']['+Inf'] === $h['count'], true), var_export(is_float($h['sum']) && $h['sum'] >= 0, true));
}

ob_start();
phpinfo(INFO_MODULES);
$info = ob_get_clean();
echo 'phpinfo: ', preg_match('/^acquires => (\d+)$/m', $info, $m) && (int)$m[1] === DistributedLock::stats()['counters']['acquires'] ? 'acquires shown' : 'acquires missing', "\n";

$child = pcntl_fork();
if ($child === 0) {
    $c = DistributedLock::stats();
    exit(array_sum($c['counters']) === 0 && $c['pid'] === getmypid() ? 0 : 1);
}
pcntl_waitpid($child, $status);
echo 'forked child starts from zero: ', var_export(pcntl_wexitstatus($status) === 0, true), "\n";
?>
--EXPECT--
keys: pid counters gauges ignored_by_reason histograms
pid is ours: true
counters: acquires busy timeouts interrupts releases leases_lost renewals_sent renew_failures revokes_sent releases_resent ticks_sent records_replayed records_applied_on_ack records_ignored records_bounded joins consumer_errors sessions_started
gauges: sessions partitions_followed
histograms: acquire_wait_seconds hand_off_seconds hold_seconds
all zero before any lock: true
acquire: acquires+1 joins+1 sessions_started+1 acquire_wait_seconds+1
sessions 1, partitions followed 1
bool(false)
tryLock refused: busy+1
bool(false)
time-out: timeouts+1
bool(false)
interrupt: interrupts+1
release: releases+1 hold_seconds+1
holding
bool(true)
handed over: acquires+1 acquire_wait_seconds+1 hand_off_seconds+1
bool(true)
revoke: acquires+1 revokes_sent+1 acquire_wait_seconds+1
forged release: records_ignored +1, release_bad_secret +1, still held true
bool(false)
lost: leases_lost+1 hold_seconds+1
acquire_wait_seconds: 15 buckets, first 0.001, last +Inf, string keys true, cumulative true, +Inf = count true, sum true
hand_off_seconds: 15 buckets, first 0.001, last +Inf, string keys true, cumulative true, +Inf = count true, sum true
hold_seconds: 15 buckets, first 0.001, last +Inf, string keys true, cumulative true, +Inf = count true, sum true
phpinfo: acquires shown
forked child starts from zero: true
