--TEST--
Multi-process: after pcntl_fork() the child can neither release nor see the parent's lock, builds its own session, and the parent keeps (and renews) its lock
--EXTENSIONS--
kafka_lock
pcntl
--SKIPIF--
<?php if (!function_exists('proc_open')) die('skip proc_open is disabled'); ?>
--FILE--
<?php
require __DIR__ . '/helpers/mp_lib.php';

const TTL = 3.0;
const CHILDREN = 8;

$test = new MpTest('fork');
$topic = mp_topic('fork');
$lock = new DistributedLock($topic, mp_config(TTL));
mp_check($lock->acquireLock('parent', 10.0) === true, 'the parent holds the lock');
$token = $lock->getFencingToken('parent');

$childFile = $test->file('child.json');
$forkedAt = mp_now();
$pid = pcntl_fork();
if ($pid === -1) {
    mp_fail('pcntl_fork() failed');
}
if ($pid === 0) {
    // The child: everything goes to a file; the parent prints it.
    $r = [];
    try {
        // The inherited object: the parent's hold is not the child's.
        $r['inherited releaseLock'] = $lock->releaseLock('parent');
        $r['inherited isAcquired'] = $lock->isAcquired('parent');
        $r['inherited getFencingToken'] = $lock->getFencingToken('parent');
        $r['inherited getRemainingLifetime'] = $lock->getRemainingLifetime('parent');
        // A new object in the child: its own session, which sees the parent holding the lock.
        $own = new DistributedLock($topic, mp_config(TTL));
        $r['own tryLock(parent)'] = $own->tryLock('parent');
        $r['own acquireLock(child)'] = $own->acquireLock('child', 10.0);
        $r['own token above the parent\'s'] = $own->getFencingToken('child') > $token;
        $r['own releaseLock(child)'] = $own->releaseLock('child');
        // The inherited object works for new locks too (through the child's session); the
        // child exits holding this one: its request end must release it (and nothing else).
        $r['inherited acquireLock(child-exit)'] = $lock->acquireLock('child-exit', 10.0);
        $r['inherited isAcquired(child-exit)'] = $lock->isAcquired('child-exit');
        $r['inherited isAcquired(parent), again'] = $lock->isAcquired('parent');
    } catch (Throwable $e) {
        $r['error'] = get_class($e) . ': ' . $e->getMessage();
    }
    file_put_contents($childFile, json_encode($r));
    exit(0);
}

// The parent: wait for the child (which ends by a normal request shutdown).
mp_check(mp_waitpids([$pid => 'child']) === ['child' => 'ok'], 'the child exited normally');
foreach (json_decode((string)@file_get_contents($childFile), true) ?? ['error' => 'no result file'] as $what => $value) {
    echo "child: $what = ", var_export($value, true), "\n";
}

mp_check($lock->isAcquired('parent') === true, 'the parent still holds the lock after the child exited');
mp_check($lock->getFencingToken('parent') === $token, 'with the same fencing token');

// Another process's view of the same log. The child's releases were flushed to the broker
// before it exited (module shutdown), so they are in the log before this worker's requests.
$other = $test->spawn('other', [$topic, 'new', 'try:parent', 'try:child', 'try:child-exit', 'wait', 'try:parent', 'wait', 'acquire:parent:10']);
$other->await('try', 10.0, 3);
$try = array_values(array_filter($other->events(), fn($e) => $e['ev'] === 'try'));
mp_check($try[0]['ok'] === false, 'another process cannot take the parent\'s lock');
mp_check($try[1]['ok'] === true, 'the lock the child released is free');
mp_check($try[2]['ok'] === true, 'the lock the child held when it exited was released by its request end');

// More children at once, forked from a parent whose session threads are busy renewing: each
// builds its own session, and they contend for one lock among themselves.
$pids = [];
for ($i = 0; $i < CHILDREN; $i++) {
    $pid = pcntl_fork();
    if ($pid === 0) {
        $own = new DistributedLock($topic, mp_config());
        $ok = $own->acquireLock('children', 10.0);
        $line = sprintf("%d %s %s\n", $i, var_export($ok, true), var_export($own->getFencingToken('children'), true));
        file_put_contents($test->file('children'), $line, FILE_APPEND | LOCK_EX);
        exit($ok && $own->releaseLock('children') ? 0 : 1);
    }
    $pids[$pid] = "child $i";
}
$ended = mp_waitpids($pids);
$lines = file($test->file('children'), FILE_IGNORE_NEW_LINES) ?: [];
$tokens = array_map(fn($l) => (int)explode(' ', $l)[2], $lines);
$sorted = $tokens;
sort($sorted);
mp_check(array_values(array_unique($ended)) === ['ok'] && count($lines) === CHILDREN && count(array_unique($tokens)) === CHILDREN && min($tokens) > $token,
    CHILDREN . ' concurrent children each took and released the lock they contend for, with distinct tokens',
    json_encode($ended) . '; ' . implode('; ', $lines));
mp_check($tokens === $sorted, 'they held it in token order (the order they wrote in, under the lock)');
mp_check($lock->isAcquired('parent') === true, 'the parent still holds its lock');

// Renewals go on in the parent: let the lease run past the point where it would have expired
// without them.
mp_pause_until($forkedAt + TTL + 1.0);
mp_check($lock->isAcquired('parent') === true, 'ttl + 1 s after the fork the parent still holds the lock');
$remaining = $lock->getRemainingLifetime('parent');
mp_check($remaining > 0 && $remaining <= TTL, 'its remaining lifetime is within (0, ttl]', var_export($remaining, true));
$other->send('go');
mp_check($other->await('try', 10.0, 4)['ok'] === false, 'another process still cannot take it');

mp_check($lock->releaseLock('parent') === true, 'the parent releases the lock');
// releaseLock() does not wait for its record to reach the broker: the other process asks
// right away and must be granted as soon as the release is in the log.
$other->send('go');
$granted = $other->await('acquired', 15.0);
mp_check($granted['ok'] === true && $granted['token'] > $token, 'then another process gets it');
mp_check($other->wait() === 0, 'that process exited normally');
mp_measure('multiprocess_fork', sprintf('parent remaining lifetime %.3f s at fork + ttl + 1 s', $remaining));
echo "done\n";
?>
--EXPECT--
ok: the parent holds the lock
ok: the child exited normally
child: inherited releaseLock = false
child: inherited isAcquired = false
child: inherited getFencingToken = NULL
child: inherited getRemainingLifetime = NULL
child: own tryLock(parent) = false
child: own acquireLock(child) = true
child: own token above the parent's = true
child: own releaseLock(child) = true
child: inherited acquireLock(child-exit) = true
child: inherited isAcquired(child-exit) = true
child: inherited isAcquired(parent), again = false
ok: the parent still holds the lock after the child exited
ok: with the same fencing token
ok: another process cannot take the parent's lock
ok: the lock the child released is free
ok: the lock the child held when it exited was released by its request end
ok: 8 concurrent children each took and released the lock they contend for, with distinct tokens
ok: they held it in token order (the order they wrote in, under the lock)
ok: the parent still holds its lock
ok: ttl + 1 s after the fork the parent still holds the lock
ok: its remaining lifetime is within (0, ttl]
ok: another process still cannot take it
ok: the parent releases the lock
ok: then another process gets it
ok: that process exited normally
done
