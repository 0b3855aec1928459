--TEST--
The lock topic deleted under a held lock and a waiter: the hold ends, the waiter's acquireLock() throws DistributedLockTopicException naming the deletion instead of waiting out its time-out, and once the topic exists again the next call locks
--FILE--
<?php
require __DIR__ . '/helpers/kafka_tools.php';

$topic = 'phpt_deleted_' . bin2hex(random_bytes(4));
kafka_create_topic($topic);
$holder = new DistributedLock($topic, ['lock.ttl' => 60]);
var_dump($holder->acquireLock('x', 5.0));

[$read, $write] = stream_socket_pair(STREAM_PF_UNIX, STREAM_SOCK_STREAM, STREAM_IPPROTO_IP);
$pid = pcntl_fork();
if ($pid === 0) {
    fclose($read);
    $waiter = new DistributedLock($topic, ['lock.ttl' => 60]);
    fwrite($write, "waiting\n");
    $started = hrtime(true);
    try {
        $got = $waiter->acquireLock('x', 45.0);
        $result = 'acquired: ' . var_export($got, true);
    } catch (DistributedLockException $e) {
        $result = get_class($e) . ': ' . $e->getMessage();
    }
    $seconds = (hrtime(true) - $started) / 1e9;
    fwrite($write, $result . "\n" . ($seconds < 40 ? 'before its time-out' : "after $seconds s") . "\n");
    exit(0);
}
fclose($write);
echo fgets($read);
// The waiter's acquire must be in the log before the topic goes; the deletion takes seconds
// (a JVM starts), so a record produced right after "waiting" is read back long before.
kafka_tool('org.apache.kafka.tools.TopicCommand', ['--delete', '--topic', $topic]);

$deadline = hrtime(true) + 30e9;
while ($holder->isAcquired('x') && hrtime(true) < $deadline) {
    usleep(100000);
}
echo 'the hold ended: ', var_export(!$holder->isAcquired('x'), true), "\n";
echo 'waiter: ', fgets($read), 'waiter: ', fgets($read);
pcntl_waitpid($pid, $status);

// The operator creates the topic again: the next call checks it anew and locks.
kafka_create_topic($topic);
try {
    var_dump($holder->acquireLock('z', 10.0));
    var_dump($holder->releaseLock('z'));
} catch (DistributedLockException $e) {
    echo 'after the topic was created again: ', get_class($e), ': ', $e->getMessage(), "\n";
}
?>
--EXPECTF--
bool(true)
waiting
the hold ended: true
waiter: DistributedLockTopicException: topic 'phpt_deleted_%x' was deleted while locks were in use; every hold on it is lost. The next lock operation checks the topic again (and creates it if lock.create_topic allows)
waiter: before its time-out
bool(true)
bool(true)
