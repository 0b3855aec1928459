--TEST--
5,000 distinct identifiers acquired and released in one process: every one granted, and the process's memory (VmRSS, Rust's included) grows by less than 2 MB
--SKIPIF--
<?php if (!is_readable('/proc/self/status')) die('skip needs /proc/self/status (Linux)'); ?>
--FILE--
<?php
// memory_get_usage() sees only PHP's heap; the session's state lives in Rust's, so this reads
// the resident set size of the whole process. After a warm-up (buffers, allocator arenas), 5,000
// more identifiers of 512 bytes each may add at most LIMIT_KB: what the state machine keeps per
// released lock until its tombstone expires (measured: about 75 bytes, 0.2 MB for 2,500,
// whatever the identifier's length) fits many times over; keeping the identifier itself, or
// anything of that size per lock, does not (5,000 x 512 bytes is 2.5 MB).
require __DIR__ . '/helpers/mp_lib.php';

const WARMUP = 1000;
const COUNT = 5000;
const LIMIT_KB = 2048;

function rss_kb(): int
{
    preg_match('/^VmRSS:\s+(\d+) kB$/m', file_get_contents('/proc/self/status'), $m);
    return (int)$m[1];
}

$lock = new DistributedLock('phpt_' . bin2hex(random_bytes(4)));
$failed = [];
$run = function (string $prefix, int $count) use ($lock, &$failed): void {
    for ($i = 0; $i < $count; $i++) {
        $id = str_pad("$prefix-$i-", 512, '.');
        if (!$lock->acquireLock($id, 5.0) || !$lock->isAcquired($id) || !$lock->releaseLock($id) || $lock->isAcquired($id)) {
            $failed[] = "$prefix-$i";
        }
    }
};
$run('warm', WARMUP);
$before = rss_kb();
$php = memory_get_usage();
$run('id', COUNT);
$grown = rss_kb() - $before;

echo 'identifiers that failed: ', count($failed) === 0 ? 'none' : implode(', ', array_slice($failed, 0, 5)), "\n";
echo 'resident memory grew by ', $grown < LIMIT_KB ? 'less than ' . LIMIT_KB . ' kB' : "$grown kB", "\n";
echo "PHP's heap grew by ", memory_get_usage() - $php < 4096 ? 'less than 4 kB' : (memory_get_usage() - $php) . ' bytes', "\n";
mp_measure('api_many_identifiers', "VmRSS +$grown kB for " . COUNT . ' identifiers');
?>
--EXPECT--
identifiers that failed: none
resident memory grew by less than 2048 kB
PHP's heap grew by less than 4 kB
