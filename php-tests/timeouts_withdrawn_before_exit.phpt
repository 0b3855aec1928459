--TEST--
A wait that gives up before its acquire is read back (a signal handler's interrupt on a joined partition, a time-out while the partition is being joined, both while the broker is paused) and a process that ends right after: the end of the process writes the release once the acquire shows up (finishing the join first), so the request does not stand in the queue for a lease
--CONFLICTS--
all
--SKIPIF--
<?php
if (!is_readable(__DIR__ . '/../.run/kafka/pid')) die('skip the local broker (make kafka-start) is not running from this checkout');
if (!function_exists('proc_open')) die('skip proc_open is disabled');
?>
--FILE--
<?php
// Before the fix, 13 of 100 interrupted waiters ended with their request still queued: the
// acquire was on its way when the wait gave up, the request was only marked for release "when it
// shows up", and the process ended first. Pausing the broker makes that window certain.
require __DIR__ . '/helpers/mp_lib.php';

$brokerPid = (int)trim(file_get_contents(__DIR__ . '/../.run/kafka/pid'));
$topic = mp_topic('withdrawn');
$unjoined = mp_topic('unjoined'); // the child has not joined its partition when it waits on it
// A lease far longer than the test: a request left queued would still be there at the end.
$options = ['lock.ttl' => 60, 'lock.operation_timeout' => 4];
$holder = new DistributedLock($topic, $options);
$holderB = new DistributedLock($unjoined, $options);
var_dump($holder->acquireLock('signalled') && $holderB->acquireLock('timed'));

$child = <<<'PHP'
<?php
[, $topic, $unjoined] = $argv;
$lock = new DistributedLock($topic, ['lock.ttl' => 60, 'lock.operation_timeout' => 4]);
$lock->inspect('signalled'); // joins the partition before the broker is paused
$lockB = new DistributedLock($unjoined, ['lock.ttl' => 60, 'lock.operation_timeout' => 4]); // connects, joins nothing
echo "joined\n";
fgets(STDIN); // the broker is paused now
echo 'acquireLock(timed, 0.2) while joining: ', var_export($lockB->acquireLock('timed', 0.2), true), "\n";
pcntl_async_signals(true);
pcntl_signal(SIGALRM, function () { echo "SIGALRM handled\n"; });
pcntl_alarm(1);
$granted = $lock->acquireLock('signalled');
echo 'acquireLock(signalled): ', var_export($granted, true), "\n";
// The script ends here, while both acquires are still on their way.
PHP;
$script = tempnam(sys_get_temp_dir(), 'withdrawn');
file_put_contents($script, $child);
$proc = proc_open(
    [PHP_BINARY, '-n', '-d', 'extension=' . mp_extension_path(), $script, $topic, $unjoined],
    [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['file', '/dev/null', 'w']],
    $pipes,
);
echo fgets($pipes[1]);

// The watchdog acts only while its marker exists, so it cannot resume a later pause.
$marker = tempnam(sys_get_temp_dir(), 'paused');
exec('(sleep 20; [ -e ' . escapeshellarg($marker) . " ] && kill -CONT $brokerPid) > /dev/null 2>&1 &");
register_shutdown_function(function () use ($brokerPid, $marker, $script) {
    exec("kill -CONT $brokerPid");
    @unlink($marker);
    @unlink($script);
});
exec("kill -STOP $brokerPid");
fwrite($pipes[0], "go\n");
echo fgets($pipes[1]);
echo fgets($pipes[1]);
echo fgets($pipes[1]);
exec("kill -CONT $brokerPid");
@unlink($marker);
echo "-- broker resumed\n";
fclose($pipes[0]);
echo stream_get_contents($pipes[1]);
echo 'child exit code: ', proc_close($proc), "\n";

// Neither request waits: their releases were written before the child ended.
foreach ([[$holderB, 'timed'], [$holder, 'signalled']] as [$lock, $id]) {
    $view = $lock->inspect($id);
    echo "$id: ", count($view['holders']), ' holder, ', $view['waiting'], " waiting\n";
}
var_dump($holderB->releaseLock('timed'), $holder->releaseLock('signalled'));
var_dump((new DistributedLock($unjoined, $options))->tryLock('timed'), (new DistributedLock($topic, $options))->tryLock('signalled'));
?>
--EXPECT--
bool(true)
joined
acquireLock(timed, 0.2) while joining: false
SIGALRM handled
acquireLock(signalled): false
-- broker resumed
child exit code: 0
timed: 1 holder, 0 waiting
signalled: 1 holder, 0 waiting
bool(true)
bool(true)
bool(true)
bool(true)
