--TEST--
Signals: a process waiting for a held lock with pcntl_async_signals(true) receives 2,000 SIGUSR1, one at a time, and its handler sees every one (no thread of the extension takes them); then it is granted
--SKIPIF--
<?php if (!function_exists('proc_open') || !function_exists('pcntl_async_signals')) die('skip needs proc_open and pcntl'); ?>
--FILE--
<?php
require __DIR__ . '/helpers/mp_lib.php';

const SIGNALS = 2000;
$topic = mp_topic('signals');
$dir = sys_get_temp_dir() . '/kafka_lock_signals_' . bin2hex(random_bytes(4));
mkdir($dir);

$holder = new DistributedLock($topic, ['client.id' => 'signal-holder']);
var_dump($holder->acquireLock('x', 5.0));

$command = [PHP_BINARY, '-n', '-d', 'extension=' . mp_extension_path(), __DIR__ . '/helpers/signal_worker.php', $topic, $dir];
$worker = proc_open($command, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
$until = microtime(true) + 20;
while (!file_exists("$dir/ready") && microtime(true) < $until) {
    usleep(1000);
}
echo 'worker ready: ', var_export(file_exists("$dir/ready"), true), "\n";

// One signal at a time: the next is sent once the handler has counted the previous one, so
// none can merge with another; a signal taken by another thread is never counted.
$seen = 0;
for ($i = 1; $i <= SIGNALS; $i++) {
    proc_terminate($worker, SIGUSR1);
    $until = microtime(true) + 2.0;
    do {
        $seen = (int)@file_get_contents("$dir/count");
    } while ($seen < $i && microtime(true) < $until && (usleep(50) || true));
    if ($seen < $i) {
        echo "signal $i was not seen by the handler (it saw $seen)\n";
        break;
    }
}
echo "handler saw $seen of ", SIGNALS, "\n";

var_dump($holder->releaseLock('x'));
$out = stream_get_contents($pipes[1]);
$err = stream_get_contents($pipes[2]);
$status = proc_close($worker);
echo trim($out), "\n", 'worker exit ', $status, ', stderr: ', var_export($err, true), "\n";
array_map('unlink', glob("$dir/*"));
rmdir($dir);
?>
--EXPECT--
bool(true)
worker ready: true
handler saw 2000 of 2000
bool(true)
granted after 2000 signals
worker exit 0, stderr: ''
