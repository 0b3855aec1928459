<?php
// Waits for a held lock while another process sends it SIGUSR1 again and again; counts every
// signal its handler sees (in a file the sender watches) and reports when it is granted.
//   php -n -d extension=... signal_worker.php TOPIC DIR
[, $topic, $dir] = $argv;
pcntl_async_signals(true);
$count = 0;
pcntl_signal(SIGUSR1, function () use (&$count, $dir) {
    $count++;
    file_put_contents("$dir/count.tmp", (string)$count);
    rename("$dir/count.tmp", "$dir/count");
});
$lock = new DistributedLock($topic, ['client.id' => 'signal-worker']);
file_put_contents("$dir/ready", 'ready');
$deadline = microtime(true) + 60;
// acquireLock() gives control back (false) when a signal handler needs it; wait again.
while (!$lock->acquireLock('x', max(0.01, $deadline - microtime(true)))) {
    if (microtime(true) > $deadline) {
        echo "not granted\n";
        exit(1);
    }
}
echo "granted after $count signals\n";
$lock->releaseLock('x');
