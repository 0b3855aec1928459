--TEST--
max_execution_time and a waiting acquireLock(): the limit counts CPU time, which a wait does not use; when it does run out during a wait, the wait is withdrawn and PHP's time-limit error ends the script
--SKIPIF--
<?php if (PHP_OS_FAMILY !== 'Linux') die('skip Linux: PHP counts max_execution_time in CPU time there (ITIMER_PROF)'); ?>
--FILE--
<?php
// On Linux PHP arms max_execution_time as ITIMER_PROF: CPU time of the whole process, not wall
// time. A blocked acquireLock() sleeps in the session's condition wait, so the limit does not run
// out however long it waits. When the limit does run out (the timer sends SIGPROF), the
// engine asks for control like a signal handler does: acquireLock() withdraws its request and
// returns, and PHP raises "Maximum execution time ... exceeded" at once.
$topic = 'phpt_' . bin2hex(random_bytes(4));
$holder = new DistributedLock($topic);
$waiter = new DistributedLock($topic);
var_dump($holder->acquireLock('busy'));

function cpu_seconds(): float
{
    $r = getrusage(); // the whole process: the PHP thread and the extension's threads
    return $r['ru_utime.tv_sec'] + $r['ru_utime.tv_usec'] / 1e6 + $r['ru_stime.tv_sec'] + $r['ru_stime.tv_usec'] / 1e6;
}

echo "1. set_time_limit(1), then a 2.5 s wait: the wait runs to its own time-out\n";
set_time_limit(1);
$cpu = cpu_seconds();
$start = hrtime(true);
var_dump($waiter->acquireLock('busy', 2.5));
$took = (hrtime(true) - $start) / 1e9;
$used = cpu_seconds() - $cpu;
echo 'returned after ', $took >= 2.5 && $took < 3.5 ? '2.5 to 3.5 s' : sprintf('%.3f s', $took), "\n";
echo 'CPU time used by the wait: ', $used < 0.5 ? 'less than half the limit' : sprintf('%.3f s', $used), "\n";
echo "the script goes on\n";

echo "2. the limit runs out during a forever wait (SIGPROF, what the timer sends, 0.5 s into it)\n";
set_time_limit(1); // a fresh second of CPU time
$start = hrtime(true);
register_shutdown_function(function () use ($start, $holder, $waiter, $topic) {
    $took = (hrtime(true) - $start) / 1e9;
    echo 'the script ended ', $took >= 0.5 && $took < 1.5 ? '0.5 to 1.5 s' : sprintf('%.3f s', $took), " after the wait began\n";
    // Its request was withdrawn (shutdown functions run before the request-end clean-up): after
    // the holder's release the waiter does not get the lock, and a third instance gets it at once.
    echo 'holder released: ', var_export($holder->releaseLock('busy'), true), "\n";
    echo 'the waiter does not hold the lock: ', var_export(!$waiter->isAcquired('busy'), true), "\n";
    echo 'third instance tryLock: ', var_export((new DistributedLock($topic))->tryLock('busy'), true), "\n";
});
$timer = proc_open(['sh', '-c', 'sleep 0.5; kill -PROF ' . getmypid()], [], $pipes);
$waiter->acquireLock('busy');
echo "not reached: acquireLock() returned and the script went on\n";
?>
--EXPECTF--
bool(true)
1. set_time_limit(1), then a 2.5 s wait: the wait runs to its own time-out
bool(false)
returned after 2.5 to 3.5 s
CPU time used by the wait: less than half the limit
the script goes on
2. the limit runs out during a forever wait (SIGPROF, what the timer sends, 0.5 s into it)

Fatal error: Maximum execution time of 1 second exceeded in %s on line %d
the script ended 0.5 to 1.5 s after the wait began
holder released: true
the waiter does not hold the lock: true
third instance tryLock: true
