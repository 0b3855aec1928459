<?php
// Chaos worker: loops acquire -> critical section (read-modify-write of a counter in the fenced
// store, with this hold's fencing token) -> release, logging every step as JSON lines.
//
//   php -n -d extension=target/release/libkafka_lock.so chaos/worker.php --log=F --store=SOCK
//       --topic=T --brokers=H:P [--ttl=1] [--lock=hot] [--mixed=0] [--hot-share=1.0]
//       [--hold-ms=20] [--duration=10] [--iterations=0] [--acq-timeout=30] [--watch-max=0]
//       [--partitions=3] [--gap-ms=0] [--mode=writer|reader|share] [--limit=3] [--weight=1]
//
// --mixed=N: with probability 1 - hot-share, use one of N other locks (m0..m{N-1}) instead of
// the hot lock. --watch-max=S: inside the critical section, poll isAcquired() every 2 ms until
// it turns false or S seconds pass (the cut-off client of scenario 6), logging the last instant
// it was seen true. Times: hrtime(true) (CLOCK_MONOTONIC, ns, comparable across processes of
// this machine) and microtime(true) (wall clock, to compare with the brokers' LogAppendTime).
//
// --mode: how this worker holds its lock, for its whole run (docs/reliability.md, "Shared locks
// and semaphores"): writer (default) acquireLock(), a read-modify-write of the counter in the
// critical section; reader acquireReadLock(), a read at the start and a `leave` access at the
// end (also a read; a reader never writes); share DistributedSemaphore::acquire($lock, limit,
// timeout, weight), the same accesses as a reader. Every access carries the hold's mode (and a
// share's limit and weight), which the fenced store needs for its rule, and the acq, cs_start
// and cs_end lines record them. --take=read (a control only): a writer that takes its hold with
// acquireReadLock() while it logs, and accesses the store, as a writer: a lying client that the
// checker must flag.
//
// Nothing is swallowed: every exception (acquire, release, the store, or uncaught), every PHP
// warning or notice and a fatal error is logged as an "exc" event with its class, which the
// checker judges against the exceptions the scenario allows (chaos/checker.py).

$opt = ['ttl' => '1', 'clock-step' => '0.2', 'lock' => 'hot', 'mixed' => '0', 'hot-share' => '1.0', 'hold-ms' => '20',
        'duration' => '10', 'iterations' => '0', 'acq-timeout' => '30', 'watch-max' => '0',
        'partitions' => '3', 'gap-ms' => '0', 'op-timeout' => '10', 'mode' => 'writer', 'limit' => '3',
        'weight' => '1', 'take' => ''];
foreach (array_slice($argv, 1) as $a) {
    if (!preg_match('/^--([a-z-]+)=(.*)$/s', $a, $m)) {
        fwrite(STDERR, "bad argument $a\n");
        exit(2);
    }
    $opt[$m[1]] = $m[2];
}
foreach (['log', 'store', 'topic', 'brokers'] as $k) {
    if (!isset($opt[$k])) {
        fwrite(STDERR, "--$k is required\n");
        exit(2);
    }
}

$pid = getmypid();
$logf = fopen($opt['log'], 'a');
function logj(array $e): void
{
    global $logf, $pid;
    $e['pid'] = $pid;
    fwrite($logf, json_encode($e, JSON_UNESCAPED_SLASHES) . "\n");
    fflush($logf);
}
function now(): int
{
    return hrtime(true);
}
function log_exc(string $where, Throwable $e, array $more = []): void
{
    logj(['ev' => 'exc', 'where' => $where, 'class' => get_class($e), 'msg' => $e->getMessage(), 't' => now()] + $more);
}
set_error_handler(function (int $no, string $msg, string $file, int $line): bool {
    logj(['ev' => 'exc', 'where' => 'php', 'class' => 'PHP error ' . $no, 'msg' => "$msg at $file:$line", 't' => now()]);
    return false; // and PHP's own handling (output to the .stderr file)
});
set_exception_handler(function (Throwable $e): void {
    log_exc('uncaught', $e, ['at' => $e->getFile() . ':' . $e->getLine()]);
    exit(5);
});
register_shutdown_function(function (): void {
    $err = error_get_last();
    if ($err !== null && in_array($err['type'], [E_ERROR, E_CORE_ERROR, E_COMPILE_ERROR, E_USER_ERROR], true)) {
        logj(['ev' => 'exc', 'where' => 'fatal', 'class' => 'PHP fatal error', 'msg' => $err['message'], 't' => now()]);
    }
});

// The extension's counters (DistributedLock::stats(), docs/observability.md): records replayed,
// joins, consumer errors, ... Logged with time-outs and exceptions, to tell a client that stopped
// reading the log from a slow lock. (It parsed phpinfo() lines that the stats rework renamed,
// and logged an empty list since.)
function session_stats(): array
{
    $stats = DistributedLock::stats();
    $keep = ['records_replayed', 'records_applied_on_ack', 'records_ignored', 'renewals_sent', 'renew_failures',
        'ticks_sent', 'joins', 'consumer_errors', 'sessions_started', 'leases_lost'];
    return array_intersect_key($stats['counters'], array_flip($keep)) + $stats['gauges']
        + ['ignored_by_reason' => $stats['ignored_by_reason']];
}

$store = null;
function store(array $req): array
{
    global $store, $opt, $pid;
    if ($store === null) {
        $store = stream_socket_client('unix://' . $opt['store'], $errno, $errstr, 5);
        if (!$store) {
            throw new RuntimeException("store: $errstr");
        }
    }
    $req['pid'] = $pid;
    fwrite($store, json_encode($req) . "\n");
    $line = fgets($store);
    if ($line === false) {
        throw new RuntimeException('store connection lost');
    }
    $resp = json_decode($line, true);
    if (!is_array($resp) || isset($resp['error'])) {
        throw new RuntimeException('store refused the request: ' . trim($line));
    }
    return $resp;
}

[$holdLo, $holdHi] = array_map('intval', array_pad(explode('-', $opt['hold-ms']), 2, $opt['hold-ms']));
$config = [
    'metadata.broker.list' => $opt['brokers'],
    'lock.ttl' => (float)$opt['ttl'],
    'lock.max_clock_step' => (float)$opt['clock-step'],
    'lock.partitions' => (int)$opt['partitions'],
    'lock.operation_timeout' => (float)$opt['op-timeout'],
];
// The hold's mode as the log line, the store and the checker name it.
$workerMode = $opt['mode'];
if (!in_array($workerMode, ['writer', 'reader', 'share'], true)) {
    fwrite(STDERR, "bad --mode {$opt['mode']}\n");
    exit(2);
}
$limit = (int)$opt['limit'];
$weight = (int)$opt['weight'];
$holdMode = ['writer' => 'exclusive', 'reader' => 'shared', 'share' => 'semaphore'][$workerMode];
$modeFields = ['mode' => $holdMode] + ($holdMode === 'semaphore' ? ['limit' => $limit, 'weight' => $weight] : []);
$takeRead = $workerMode === 'reader' || ($workerMode === 'writer' && $opt['take'] === 'read');

$t0 = now();
logj(['ev' => 'start', 't' => $t0, 'wall' => microtime(true), 'opt' => $opt]);
try {
    $lock = $workerMode === 'share' ? new DistributedSemaphore($opt['topic'], $config)
                                    : new DistributedLock($opt['topic'], $config);
} catch (Throwable $e) {
    log_exc('construct', $e);
    exit(3);
}
logj(['ev' => 'ready', 't' => now()]);

$deadline = $t0 + (int)((float)$opt['duration'] * 1e9);
$iterations = (int)$opt['iterations'];
$mixed = (int)$opt['mixed'];
$hotShare = (float)$opt['hot-share'];
$acqTimeout = (float)$opt['acq-timeout'];
$watchMax = (float)$opt['watch-max'];
$gap = (int)$opt['gap-ms'];
$done = 0;

// The calls of this worker's mode (a semaphore names its holds like a lock: by name).
function hold_acquire(string $name, float $timeout): bool
{
    global $lock, $workerMode, $takeRead, $limit, $weight;
    if ($workerMode === 'share') {
        return $lock->acquire($name, $limit, $timeout, $weight);
    }
    return $takeRead ? $lock->acquireReadLock($name, $timeout) : $lock->acquireLock($name, $timeout);
}
function hold_release(string $name): bool
{
    global $lock, $workerMode;
    return $workerMode === 'share' ? $lock->release($name) : $lock->releaseLock($name);
}

while (now() < $deadline && ($iterations === 0 || $done < $iterations)) {
    $done++;
    $name = ($mixed > 0 && mt_rand() / mt_getrandmax() >= $hotShare) ? 'm' . mt_rand(0, $mixed - 1) : $opt['lock'];
    $ta = now();
    logj(['ev' => 'acq', 'lock' => $name, 't' => $ta, 'wall' => microtime(true)] + $modeFields);
    try {
        $ok = hold_acquire($name, $acqTimeout);
    } catch (Throwable $e) {
        log_exc('acquire', $e, ['lock' => $name, 'session' => session_stats()]);
        usleep(100000);
        continue;
    }
    if (!$ok) {
        logj(['ev' => 'acq_timeout', 'lock' => $name, 't' => now(), 'waited' => (now() - $ta) / 1e9, 'session' => session_stats()]);
        continue;
    }
    $ts = now();
    $wall = microtime(true);
    $token = $lock->getFencingToken($name);
    $rem = $lock->getRemainingLifetime($name);
    logj(['ev' => 'cs_start', 'lock' => $name, 'token' => $token, 't' => $ts, 'wall' => $wall, 't_acq' => $ta, 'rem' => $rem]
         + $modeFields);
    $cs = ['ev' => 'cs_end', 'lock' => $name, 'token' => $token] + $modeFields;
    try {
        $r = store(['op' => 'read', 'lock' => $name, 'token' => $token] + $modeFields);
        $cs['read_ok'] = $r['ok'];
        $value = $r['value'] ?? null;
        $cs['read'] = $value;
        if ($watchMax > 0) {
            // Hold the lock and watch our own view of the lease.
            $lastTrue = null;
            $lastTrueWall = null;
            $firstFalse = null;
            $polls = 0;
            $end = now() + (int)($watchMax * 1e9);
            while (now() < $end) {
                $tb = now();
                $wb = microtime(true);
                $polls++;
                if ($lock->isAcquired($name)) {
                    $lastTrue = $tb;
                    $lastTrueWall = $wb;
                } else {
                    $firstFalse = now();
                    break;
                }
                usleep(2000);
            }
            $cs += ['watch_last_true' => $lastTrue, 'watch_last_true_wall' => $lastTrueWall,
                    'watch_first_false' => $firstFalse, 'watch_polls' => $polls];
        } else {
            usleep(mt_rand($holdLo, $holdHi) * 1000);
        }
        if ($r['ok'] && $holdMode === 'exclusive') {
            $w = store(['op' => 'write', 'lock' => $name, 'token' => $token, 'value' => $value + 1] + $modeFields);
            $cs['write_ok'] = $w['ok'];
            $cs['wrote'] = $value + 1;
        } elseif ($r['ok']) {
            // Readers and shares never write: their last access ends their critical section in
            // the store's view (and is refused once a hold that excludes them has touched it).
            $l = store(['op' => 'leave', 'lock' => $name, 'token' => $token] + $modeFields);
            $cs['leave_ok'] = $l['ok'];
            $cs['left'] = $l['value'] ?? null;
        }
    } catch (Throwable $e) {
        $cs['store_error'] = $e->getMessage();
        log_exc('store', $e, ['lock' => $name, 'token' => $token]);
    }
    // The last instant this holder checked its own view of the lease: if it was still true
    // after another process was granted the lock, the holder's view was not conservative.
    $cs['t_chk'] = now();
    $cs['wall_chk'] = microtime(true);
    $cs['held'] = $lock->isAcquired($name);
    $cs['t'] = now();
    $cs['rem'] = $lock->getRemainingLifetime($name);
    logj($cs);
    $tr = now();
    try {
        $rel = hold_release($name);
        logj(['ev' => 'rel', 'lock' => $name, 'token' => $token, 'ok' => $rel, 't0' => $tr, 't' => now()]);
    } catch (Throwable $e) {
        log_exc('release', $e, ['lock' => $name, 'token' => $token]);
    }
    if ($gap > 0) {
        usleep($gap * 1000);
    }
}
logj(['ev' => 'end', 't' => now(), 'iterations' => $done]);
