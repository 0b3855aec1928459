<?php
// A realistic use: workers draining a shared job list without doing any job twice.
//
//   php -d extension=target/release/libkafka_lock.so examples/job_workers.php [workers] [jobs]
//
// The parent writes a job list, forks the workers (each builds its own Kafka session after the
// fork), and each worker repeatedly takes the lock, pops the next job, and records the fencing
// token next to the job. The protected resource (the job list) rejects a write whose token is
// older than the newest it has seen: that is how a worker paused longer than its lease would be
// stopped from doing damage.

$workers = (int)($argv[1] ?? 3);
$jobs = (int)($argv[2] ?? 30);
$dir = sys_get_temp_dir() . '/kafka_lock_jobs_' . getmypid();
@mkdir($dir);
$queue = "$dir/queue.json";
file_put_contents($queue, json_encode(['jobs' => range(1, $jobs), 'done' => [], 'max_token' => -1]));

function take_job(DistributedLock $lock, string $queue, int $worker): ?int
{
    if (!$lock->acquireLock('job-queue', 30.0)) {
        throw new RuntimeException("worker $worker: no lock within 30 s");
    }
    try {
        $token = $lock->getFencingToken('job-queue');
        $state = json_decode(file_get_contents($queue), true);
        if ($token < $state['max_token']) {
            return null; // stale holder: the resource refuses it (never happens without long pauses)
        }
        $job = array_shift($state['jobs']);
        if ($job !== null) {
            $state['done'][] = ['job' => $job, 'worker' => $worker, 'token' => $token];
        }
        $state['max_token'] = $token;
        file_put_contents($queue, json_encode($state));
        return $job;
    } finally {
        $lock->releaseLock('job-queue');
    }
}

$pids = [];
for ($w = 1; $w <= $workers; $w++) {
    $pid = pcntl_fork();
    if ($pid === 0) {
        $lock = new DistributedLock('example_jobs', ['lock.ttl' => 5]);
        while (($job = take_job($lock, $queue, $w)) !== null) {
            usleep(20000); // the job's work happens outside the lock
        }
        exit(0);
    }
    $pids[] = $pid;
}
foreach ($pids as $pid) {
    pcntl_waitpid($pid, $status);
}

$state = json_decode(file_get_contents($queue), true);
$done = array_column($state['done'], 'job');
sort($done);
$perWorker = array_count_values(array_column($state['done'], 'worker'));
ksort($perWorker);
printf("%d jobs done by %d workers (%s), each exactly once: %s\n",
    count($done), $workers, json_encode($perWorker), $done === range(1, $jobs) ? 'yes' : 'NO');
array_map('unlink', glob("$dir/*"));
rmdir($dir);
exit($done === range(1, $jobs) ? 0 : 1);
