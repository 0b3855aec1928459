--TEST--
Multi-process: a topic with lock.partitions = 3: locks on every partition exclude a second client and hand off to a queued waiter (partition chosen by Kafka's murmur2, checked from PHP)
--EXTENSIONS--
kafka_lock
--SKIPIF--
<?php if (!function_exists('proc_open')) die('skip proc_open is disabled'); ?>
--FILE--
<?php
// The extension places a lock on partition (murmur2(identifier) & 0x7fffffff) % partitions, as
// Kafka's Java producer does (src/protocol/partition.rs). This test computes that in PHP (checked
// against Kafka's own UtilsTest vectors), picks one identifier per partition of a fresh 3-partition
// topic, and proves from the fencing tokens (the offset of the granted record in its partition)
// that the extension put each lock where murmur2 says: every partition's offsets start at 0.
// Then, on every partition: a second client (own session: another client.id) cannot take the
// lock, and a waiter in another process that queued before the release is handed the lock.
require __DIR__ . '/helpers/mp_lib.php';

const PARTITIONS = 3;
const GAP = 0.3;          // lets the waiter's acquire record reach the queue; proven afterwards
const HANDOFF_LIMIT = 2.0; // release to grant; a lease (10 s) running out instead would be far above

/** Kafka's Utils.murmur2 on 32-bit unsigned arithmetic in PHP's 64-bit ints; signed result. */
function murmur2(string $data): int
{
    $mul = fn(int $a, int $b): int => (($a * ($b & 0xffff)) + ((($a * ($b >> 16)) & 0xffff) << 16)) & 0xffffffff;
    $m = 0x5bd1e995;
    $length = strlen($data);
    $h = (0x9747b28c ^ $length) & 0xffffffff;
    $blocks = intdiv($length, 4) * 4;
    for ($i = 0; $i < $blocks; $i += 4) {
        $k = unpack('V', $data, $i)[1];
        $k = $mul($k, $m);
        $k ^= $k >> 24;
        $k = $mul($k, $m);
        $h = $mul($h, $m) ^ $k;
    }
    switch ($length % 4) {
        case 3:
            $h ^= ord($data[$blocks + 2]) << 16;
            // fall through
        case 2:
            $h ^= ord($data[$blocks + 1]) << 8;
            // fall through
        case 1:
            $h ^= ord($data[$blocks]);
            $h = $mul($h, $m);
    }
    $h ^= $h >> 13;
    $h = $mul($h, $m);
    $h ^= $h >> 15;
    return $h >= 0x80000000 ? $h - 0x100000000 : $h;
}

function partition_of(string $identifier): int
{
    return (murmur2($identifier) & 0x7fffffff) % PARTITIONS;
}

// Kafka's UtilsTest.testMurmur2 vectors (every tail length 0..3), as in partition.rs.
$vectors = ['21' => -973932308, 'foobar' => -790332482, 'abc' => 479470107,
    'a-little-bit-long-string' => -985981536, 'a-little-bit-longer-string' => -1486304829,
    'lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8' => -58897971];
$wrong = [];
foreach ($vectors as $input => $expected) {
    if (murmur2((string)$input) !== $expected) {
        $wrong[] = "murmur2('$input') = " . murmur2((string)$input) . ", Kafka says $expected";
    }
}
mp_check($wrong === [], "murmur2 in PHP matches Kafka's test vectors", implode('; ', $wrong));

/** The first "$prefix-$i" identifier on each partition, partition => identifier. */
function one_per_partition(string $prefix): array
{
    $ids = [];
    for ($i = 0; count($ids) < PARTITIONS; $i++) {
        $ids[partition_of("$prefix-$i")] ??= "$prefix-$i";
    }
    ksort($ids);
    return $ids;
}
$locks = one_per_partition('lock');
$warm = one_per_partition('warm');
$probes = one_per_partition('probe');
foreach ($locks as $p => $id) {
    echo "partition $p: $id\n";
}

$test = new MpTest('partitions');
$topic = mp_topic('partitions');
$a = new DistributedLock($topic, mp_config() + ['lock.partitions' => PARTITIONS, 'client.id' => 'phpt-a']);

// Where the extension put the locks: tokens are offsets, each partition counts from 0, and every
// tryLock below writes one record. So the k-th identifier's token is the number of identifiers
// before it on the same partition, if and only if both agree on every partition.
$sample = array_merge(array_values($locks), ['extra-1', 'extra-2', 'extra-3', 'extra-4', 'extra-5', 'extra-6']);
$seen = array_fill(0, PARTITIONS, 0);
$mismatch = [];
foreach ($sample as $id) {
    $p = partition_of($id);
    if (!$a->tryLock($id)) {
        mp_fail("tryLock('$id') on a fresh topic returned false");
    }
    if ($a->getFencingToken($id) !== $seen[$p]) {
        $mismatch[] = "$id: token " . var_export($a->getFencingToken($id), true) . ", expected offset {$seen[$p]} of partition $p";
    }
    $seen[$p]++;
}
mp_check($mismatch === [], 'every lock lives on the partition murmur2 picks (its token is the next offset there)', implode('; ', $mismatch));
foreach (array_slice($sample, PARTITIONS) as $id) {
    $a->releaseLock($id);
}

// A second client with its own session replays each partition and sees the holds.
$b = new DistributedLock($topic, mp_config() + ['client.id' => 'phpt-b']);
foreach ($locks as $p => $id) {
    mp_check($b->tryLock($id) === false && $b->isAcquired($id) === false, "partition $p: the second client's tryLock('$id') is false while it is held");
}

// A waiter process queues on each lock in turn; each release hands that lock to it.
$steps = [$topic, 'new'];
foreach ($warm as $id) {
    array_push($steps, "try:$id", "release:$id"); // joins every partition before the timed part
}
foreach ($locks as $id) {
    $steps[] = "acquire:$id:20";
}
$steps[] = 'wait';
foreach ($locks as $id) {
    $steps[] = "release:$id";
}
$waiter = $test->spawn('waiter', $steps);
foreach ($locks as $p => $id) {
    $asking = $waiter->await('acquiring', 20.0, $p + 1);
    mp_check($asking['id'] === $id, "partition $p: the waiter asks for '$id'");
    mp_pause(GAP);
    mp_check(count(array_filter($waiter->events(), fn($e) => $e['ev'] === 'acquired')) === $p, "partition $p: the waiter waits while '$id' is held");
    // The probe's token is the partition's log end at this moment (see multiprocess_fifo.phpt).
    if (!$a->tryLock($probes[$p])) {
        mp_fail("the probe '{$probes[$p]}' is not free");
    }
    $probe = $a->getFencingToken($probes[$p]);
    $a->releaseLock($probes[$p]);
    $heldToken = $a->getFencingToken($id);
    $releasedAt = mp_now();
    mp_check($a->releaseLock($id), "partition $p: the holder released '$id'");
    $granted = $waiter->await('acquired', 20.0, $p + 1);
    $latency = $granted['t'] / 1e9 - $releasedAt;
    mp_check($granted['ok'] === true && $granted['token'] > $heldToken, "partition $p: the waiter was granted '$id' with a larger token",
        "ok " . var_export($granted['ok'], true) . ", token {$granted['token']} after $heldToken");
    mp_check($granted['token'] < $probe, "partition $p: the waiter's request was queued before the release (a hand-off, not a free lock)",
        "token {$granted['token']}, log end before the release $probe; a timing problem of the test if the gap of " . GAP . ' s was too short');
    mp_check($latency > 0 && $latency < HANDOFF_LIMIT, "partition $p: the hand-off took less than " . HANDOFF_LIMIT . ' s', sprintf('%.3f s', $latency));
    $figures[] = sprintf('p%d %.1f ms', $p, $latency * 1000);
}
$waiter->await('waiting');
foreach ($locks as $p => $id) {
    mp_check(!$a->tryLock($id) && !$b->tryLock($id), "partition $p: while the waiter holds '$id' neither client gets it");
}
$waiter->send('go');
$code = $waiter->wait();
$released = count(array_filter($waiter->events(), fn($e) => $e['ev'] === 'released' && $e['ok'] && in_array($e['id'], $locks, true)));
mp_check($code === 0 && $released === PARTITIONS, 'the waiter released all three and exited normally', "exit code $code, $released released");
foreach ($locks as $p => $id) {
    mp_check($b->tryLock($id) && $b->releaseLock($id), "partition $p: after that the second client takes '$id' at once");
}
mp_check(trim($waiter->output()) === '', 'the waiter printed nothing', $waiter->output());
mp_measure('multiprocess_partitions', 'release-to-grant ' . implode(', ', $figures));
echo "done\n";
?>
--EXPECT--
ok: murmur2 in PHP matches Kafka's test vectors
partition 0: lock-1
partition 1: lock-3
partition 2: lock-0
ok: every lock lives on the partition murmur2 picks (its token is the next offset there)
ok: partition 0: the second client's tryLock('lock-1') is false while it is held
ok: partition 1: the second client's tryLock('lock-3') is false while it is held
ok: partition 2: the second client's tryLock('lock-0') is false while it is held
ok: partition 0: the waiter asks for 'lock-1'
ok: partition 0: the waiter waits while 'lock-1' is held
ok: partition 0: the holder released 'lock-1'
ok: partition 0: the waiter was granted 'lock-1' with a larger token
ok: partition 0: the waiter's request was queued before the release (a hand-off, not a free lock)
ok: partition 0: the hand-off took less than 2 s
ok: partition 1: the waiter asks for 'lock-3'
ok: partition 1: the waiter waits while 'lock-3' is held
ok: partition 1: the holder released 'lock-3'
ok: partition 1: the waiter was granted 'lock-3' with a larger token
ok: partition 1: the waiter's request was queued before the release (a hand-off, not a free lock)
ok: partition 1: the hand-off took less than 2 s
ok: partition 2: the waiter asks for 'lock-0'
ok: partition 2: the waiter waits while 'lock-0' is held
ok: partition 2: the holder released 'lock-0'
ok: partition 2: the waiter was granted 'lock-0' with a larger token
ok: partition 2: the waiter's request was queued before the release (a hand-off, not a free lock)
ok: partition 2: the hand-off took less than 2 s
ok: partition 0: while the waiter holds 'lock-1' neither client gets it
ok: partition 1: while the waiter holds 'lock-3' neither client gets it
ok: partition 2: while the waiter holds 'lock-0' neither client gets it
ok: the waiter released all three and exited normally
ok: partition 0: after that the second client takes 'lock-1' at once
ok: partition 1: after that the second client takes 'lock-3' at once
ok: partition 2: after that the second client takes 'lock-0' at once
ok: the waiter printed nothing
done
