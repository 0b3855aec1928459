--TEST--
Multi-process: a child forked while the parent's librdkafka threads are resolving broker addresses connects, locks and exits (glibc's lookup locks are never inherited held)
--EXTENSIONS--
kafka_lock
pcntl
posix
--FILE--
<?php
// The hazard: a fork landing while one of the parent's librdkafka threads is inside glibc's
// getaddrinfo() (AI_ADDRCONFIG takes a lock in __check_pf) gave the child that lock held by a
// thread it does not have; its session never connected and its exit hung. Here the parent keeps
// many lookups going (sessions whose brokers refuse connections, reconnecting every
// millisecond without an address cache) and forks children that each make their own session.
// Without the fork guard about 1 child in 10 hung (6 of 60); with it, none in 300.
const SESSIONS = 20;
const CHILDREN = 60;
const CHILD_DEADLINE = 6; // seconds; a child needs well under one

$topic = 'phpt_' . bin2hex(random_bytes(4));
$parent = new DistributedLock($topic);
var_dump($parent->tryLock('parent'));

$refused = implode(',', array_map(fn($port) => "127.0.0.1:$port", range(20001, 20030)));
$resolving = ['bootstrap.servers' => $refused, 'reconnect.backoff.ms' => 1,
    'reconnect.backoff.max.ms' => 1, 'broker.address.ttl' => 0, 'lock.connect_timeout' => 0.1];
$kept = 0;
for ($i = 0; $i < SESSIONS; $i++) {
    try {
        new DistributedLock($topic, ['client.id' => "resolving-$i"] + $resolving);
    } catch (DistributedLockConnectionException $e) {
        $kept++; // the session stays, its threads keep reconnecting (and resolving)
    }
}
echo "sessions resolving: $kept\n";

// SIGCHLD is awaited, not polled: blocked here, taken by pcntl_sigtimedwait().
pcntl_sigprocmask(SIG_BLOCK, [SIGCHLD]);
$hung = $failed = 0;
for ($i = 0; $i < CHILDREN && $hung === 0; $i++) {
    $pid = pcntl_fork();
    if ($pid === -1) {
        exit("pcntl_fork() failed\n");
    }
    if ($pid === 0) {
        pcntl_sigprocmask(SIG_UNBLOCK, [SIGCHLD]);
        $child = new DistributedLock($topic, ['lock.connect_timeout' => 3]);
        exit($child->tryLock("child-$i") && $child->releaseLock("child-$i") ? 0 : 3);
    }
    $deadline = microtime(true) + CHILD_DEADLINE;
    while (($reaped = pcntl_waitpid($pid, $status, WNOHANG)) === 0) {
        $left = $deadline - microtime(true);
        if ($left <= 0 || pcntl_sigtimedwait([SIGCHLD], $info, (int)$left, (int)(fmod($left, 1) * 1e9)) === false) {
            if ($deadline - microtime(true) > 0) {
                continue; // interrupted by another signal
            }
            $hung++;
            posix_kill($pid, SIGKILL);
            pcntl_waitpid($pid, $status);
            echo "child $i did not exit within ", CHILD_DEADLINE, " s\n";
            break;
        }
    }
    if ($reaped === $pid && !(pcntl_wifexited($status) && pcntl_wexitstatus($status) === 0)) {
        $failed++;
        echo "child $i failed (status $status)\n";
    }
}
echo "children forked: $i, hung: $hung, failed: $failed\n";
var_dump($parent->isAcquired('parent'), $parent->releaseLock('parent'));
?>
--EXPECT--
bool(true)
sessions resolving: 20
children forked: 60, hung: 0, failed: 0
bool(true)
bool(true)
