--TEST--
DistributedSemaphore: at most the limit's weight held at once, granted in FIFO order (a heavy request at the head is not overtaken by lighter ones); tokens, leases, inspect(), reentrancy; a name used with another limit or as a lock is a conflict
--EXTENSIONS--
kafka_lock
--SKIPIF--
<?php if (!function_exists('proc_open')) die('skip proc_open is disabled'); ?>
--FILE--
<?php
require __DIR__ . '/helpers/mp_lib.php';

const TTL = 5.0;

$test = new MpTest('semaphore');
$topic = mp_topic('semaphore');
$a = new DistributedSemaphore($topic, mp_config(TTL));
$b = new DistributedSemaphore($topic, mp_config(TTL));
$c = new DistributedSemaphore($topic, mp_config(TTL));
$lock = new DistributedLock($topic, mp_config(TTL));

/** mode, limit, the holders (named by $names, token => name) with their weights, how many wait. */
function show(array $s, array $names = []): string
{
    $holders = array_map(function (array $h) use ($names) {
        $ok = array_keys($h) === ['owner', 'token', 'expires_in', 'weight'] && is_string($h['owner']) && $h['owner'] !== ''
            && is_int($h['token']) && is_float($h['expires_in']) && $h['expires_in'] > 0 && $h['expires_in'] <= TTL;
        return ($ok ? '' : 'MALFORMED ' . json_encode($h) . ' ') . ($names[$h['token']] ?? "token {$h['token']}") . ' weight ' . $h['weight'];
    }, $s['holders']);
    return '[' . implode(',', array_keys($s)) . '] mode ' . var_export($s['mode'], true) . ', limit ' . var_export($s['limit'], true)
        . ', holders [' . implode(', ', $holders) . '], waiting ' . $s['waiting'] . ', complete ' . var_export($s['complete'], true);
}

/** Inspects until $done says yes (a condition awaited, not a fixed pause); fails after 20 s. */
function inspect_until(DistributedSemaphore $sem, string $name, callable $done, string $what): array
{
    $deadline = mp_now() + 20;
    while (!$done($s = $sem->inspect($name))) {
        if (mp_now() > $deadline) {
            mp_fail("$what: last snapshot " . json_encode($s));
        }
        mp_pause(0.02);
    }
    return $s;
}

/** The call's result, or the class and message of what it threw (the topic's name as TOPIC). */
function attempt(callable $call): void
{
    global $topic;
    try {
        var_dump($call());
    } catch (DistributedLockException $e) {
        echo get_class($e), ': ', str_replace($topic, 'TOPIC', $e->getMessage()), "\n";
    }
}

echo "-- limit 3: weights 2 and 1 fill it\n";
var_dump($a->acquire('s', 3, 5.0, 2), $b->tryAcquire('s', 3));
var_dump($a->isAcquired('s'), $b->isAcquired('s'), $c->isAcquired('s'));
$ta = $a->getFencingToken('s');
$tb = $b->getFencingToken('s');
var_dump(is_int($ta) && is_int($tb) && $tb > $ta, $c->getFencingToken('s'));
$left = $a->getRemainingLifetime('s');
var_dump(is_float($left) && $left > TTL / 2 && $left <= TTL, $c->getRemainingLifetime('s'));
$names = [$ta => 'a', $tb => 'b'];
echo show($c->inspect('s'), $names), "\n";
echo "full: one more share of weight 1 does not fit\n";
var_dump($c->tryAcquire('s', 3), $c->acquire('s', 3, 0.2), $c->isAcquired('s'));
echo show($c->inspect('s'), $names), "\n";

echo "-- a heavy request at the head is not overtaken by a lighter one behind it\n";
var_dump($b->release('s'));
$heavy = $test->spawn('heavy', [$topic, 'newsem:' . TTL, 'trysem:warm:1:1', 'semrelease:warm', 'sem:s:3:2:30', 'wait', 'semrelease:s']);
$heavy->await('acquiring');
echo show(inspect_until($c, 's', fn($s) => $s['waiting'] === 1, 'the heavy request never showed as waiting'), $names), "\n";
echo "one unit is free, but weight 2 waits ahead\n";
var_dump($c->tryAcquire('s', 3), $c->acquire('s', 3, 0.2), $c->isAcquired('s'));
mp_check(!array_filter($heavy->events(), fn($e) => $e['ev'] === 'acquired'), 'the heavy request still waits');
var_dump($a->release('s'));
$granted = $heavy->await('acquired');
var_dump($granted['ok'], $granted['token'] > $tb);
$names[$granted['token']] = 'heavy';
var_dump($c->tryAcquire('s', 3), $b->tryAcquire('s', 3));
$names[$c->getFencingToken('s')] = 'c';
echo show($c->inspect('s'), $names), "\n";
$heavy->send();
mp_check($heavy->await('released')['ok'] === true && $heavy->wait() === 0, 'the heavy process released its share and exited');
var_dump($b->tryAcquire('s', 3, 2), $c->release('s'), $b->release('s'));

echo "-- a heavy request that gives up is withdrawn: the light one behind it is granted\n";
var_dump($a->acquire('s', 3, 5.0, 2), $c->acquire('s', 3, 0.2, 2), $b->tryAcquire('s', 3));
var_dump($a->release('s'), $b->release('s'));

echo "-- reentrancy: the same limit and weight again is one more level of the same share\n";
var_dump($a->acquire('r', 3, null, 2), $a->tryAcquire('r', 3, 2), $a->acquire('r', 3, 1.0, 2));
$token = $a->getFencingToken('r');
echo show($b->inspect('r'), [$token => 'a']), "\n";
var_dump($a->release('r'), $a->release('r'), $a->getFencingToken('r') === $token, $b->tryAcquire('r', 3, 2));
var_dump($a->release('r'), $a->isAcquired('r'), $a->getFencingToken('r'), $a->getRemainingLifetime('r'));
var_dump($a->release('r'));
var_dump($b->tryAcquire('r', 3, 2), $b->release('r'));
echo "another limit or weight while holding a share\n";
var_dump($a->acquire('r', 3));
attempt(fn() => $a->acquire('r', 4, 1.0));
attempt(fn() => $a->tryAcquire('r', 3, 2));
attempt(fn() => $a->acquire('r', 2, null, 2));
var_dump($a->isAcquired('r'), $a->release('r'), $a->isAcquired('r'));

echo "-- another instance's request behind a share of another limit is withdrawn and throws\n";
var_dump($a->acquire('x', 3, 5.0, 2));
$start = mp_now();
attempt(fn() => $b->acquire('x', 4, 5.0));
mp_check(mp_now() - $start < 4.0, 'it threw without waiting for its time-out');
attempt(fn() => $b->tryAcquire('x', 2));
echo "as a lock, exclusive or shared\n";
attempt(fn() => $lock->acquireLock('x', 5.0));
attempt(fn() => $lock->tryLock('x'));
attempt(fn() => $lock->acquireReadLock('x', 5.0));
attempt(fn() => $lock->tryReadLock('x'));
echo "nothing of theirs stays queued; the share is held as before, and the same limit still fits\n";
echo show($c->inspect('x'), [$a->getFencingToken('x') => 'a']), "\n";
var_dump($a->isAcquired('x'), $b->isAcquired('x'), $lock->isAcquired('x'), $c->tryAcquire('x', 3), $c->release('x'), $a->release('x'));

echo "-- a semaphore request on a name held as a lock\n";
var_dump($lock->acquireLock('l', 5.0));
attempt(fn() => $a->acquire('l', 3, 5.0));
var_dump($lock->releaseLock('l'), $lock->acquireReadLock('l', 5.0));
attempt(fn() => $a->tryAcquire('l', 3, 2));
var_dump($lock->releaseLock('l'));
echo "free again: any kind may take it\n";
var_dump($a->tryAcquire('l', 1), $a->release('l'), $lock->tryLock('l'), $lock->releaseLock('l'));

echo "-- release() of a share not held\n";
var_dump($a->release('never'));
var_dump($b->acquire('o', 3), $a->release('o'), $b->isAcquired('o'), $b->release('o'), $b->release('o'));
echo show($a->inspect('o')), "\n";

echo "-- the INI settings are its defaults, as for DistributedLock\n";
ini_set('kafka_lock.ttl', '2');
$short = new DistributedSemaphore($topic, mp_config());
var_dump($short->acquire('ini', 2, 5.0));
$left = $short->getRemainingLifetime('ini');
var_dump($left > 1 && $left <= 2, $short->release('ini'));
?>
--EXPECT--
-- limit 3: weights 2 and 1 fill it
bool(true)
bool(true)
bool(true)
bool(true)
bool(false)
bool(true)
NULL
bool(true)
NULL
[mode,holders,waiting,limit,complete] mode 'semaphore', limit 3, holders [a weight 2, b weight 1], waiting 0, complete true
full: one more share of weight 1 does not fit
bool(false)
bool(false)
bool(false)
[mode,holders,waiting,limit,complete] mode 'semaphore', limit 3, holders [a weight 2, b weight 1], waiting 0, complete true
-- a heavy request at the head is not overtaken by a lighter one behind it
bool(true)
[mode,holders,waiting,limit,complete] mode 'semaphore', limit 3, holders [a weight 2], waiting 1, complete true
one unit is free, but weight 2 waits ahead
bool(false)
bool(false)
bool(false)
ok: the heavy request still waits
bool(true)
bool(true)
bool(true)
bool(true)
bool(false)
[mode,holders,waiting,limit,complete] mode 'semaphore', limit 3, holders [heavy weight 2, c weight 1], waiting 0, complete true
ok: the heavy process released its share and exited
bool(true)
bool(true)
bool(true)
-- a heavy request that gives up is withdrawn: the light one behind it is granted
bool(true)
bool(false)
bool(true)
bool(true)
bool(true)
-- reentrancy: the same limit and weight again is one more level of the same share
bool(true)
bool(true)
bool(true)
[mode,holders,waiting,limit,complete] mode 'semaphore', limit 3, holders [a weight 2], waiting 0, complete true
bool(true)
bool(true)
bool(true)
bool(false)
bool(true)
bool(false)
NULL
NULL
bool(false)
bool(true)
bool(true)
another limit or weight while holding a share
bool(true)
DistributedLockConflictException: this instance holds 'r' as a semaphore share (limit 3, weight 1) and asked for a semaphore share (limit 4, weight 1); release it first (a hold is never upgraded or downgraded: two holders upgrading at once would wait for each other forever)
DistributedLockConflictException: this instance holds 'r' as a semaphore share (limit 3, weight 1) and asked for a semaphore share (limit 3, weight 2); release it first (a hold is never upgraded or downgraded: two holders upgrading at once would wait for each other forever)
DistributedLockConflictException: this instance holds 'r' as a semaphore share (limit 3, weight 1) and asked for a semaphore share (limit 2, weight 2); release it first (a hold is never upgraded or downgraded: two holders upgrading at once would wait for each other forever)
bool(true)
bool(true)
bool(false)
-- another instance's request behind a share of another limit is withdrawn and throws
bool(true)
DistributedLockConflictException: 'x' on topic 'TOPIC' is in use as a semaphore share (limit 3, weight 2), which a semaphore share (limit 4, weight 1) can never be held with; the request was withdrawn rather than wait behind it. Use one kind of lock per identifier, and one limit per semaphore name
ok: it threw without waiting for its time-out
DistributedLockConflictException: 'x' on topic 'TOPIC' is in use as a semaphore share (limit 3, weight 2), which a semaphore share (limit 2, weight 1) can never be held with; the request was withdrawn rather than wait behind it. Use one kind of lock per identifier, and one limit per semaphore name
as a lock, exclusive or shared
DistributedLockConflictException: 'x' on topic 'TOPIC' is in use as a semaphore share (limit 3, weight 2), which an exclusive lock can never be held with; the request was withdrawn rather than wait behind it. Use one kind of lock per identifier, and one limit per semaphore name
DistributedLockConflictException: 'x' on topic 'TOPIC' is in use as a semaphore share (limit 3, weight 2), which an exclusive lock can never be held with; the request was withdrawn rather than wait behind it. Use one kind of lock per identifier, and one limit per semaphore name
DistributedLockConflictException: 'x' on topic 'TOPIC' is in use as a semaphore share (limit 3, weight 2), which a shared lock can never be held with; the request was withdrawn rather than wait behind it. Use one kind of lock per identifier, and one limit per semaphore name
DistributedLockConflictException: 'x' on topic 'TOPIC' is in use as a semaphore share (limit 3, weight 2), which a shared lock can never be held with; the request was withdrawn rather than wait behind it. Use one kind of lock per identifier, and one limit per semaphore name
nothing of theirs stays queued; the share is held as before, and the same limit still fits
[mode,holders,waiting,limit,complete] mode 'semaphore', limit 3, holders [a weight 2], waiting 0, complete true
bool(true)
bool(false)
bool(false)
bool(true)
bool(true)
bool(true)
-- a semaphore request on a name held as a lock
bool(true)
DistributedLockConflictException: 'l' on topic 'TOPIC' is in use as an exclusive lock, which a semaphore share (limit 3, weight 1) can never be held with; the request was withdrawn rather than wait behind it. Use one kind of lock per identifier, and one limit per semaphore name
bool(true)
bool(true)
DistributedLockConflictException: 'l' on topic 'TOPIC' is in use as a shared lock, which a semaphore share (limit 3, weight 2) can never be held with; the request was withdrawn rather than wait behind it. Use one kind of lock per identifier, and one limit per semaphore name
bool(true)
free again: any kind may take it
bool(true)
bool(true)
bool(true)
bool(true)
-- release() of a share not held
bool(false)
bool(true)
bool(false)
bool(true)
bool(true)
bool(false)
[mode,holders,waiting,limit,complete] mode NULL, limit NULL, holders [], waiting 0, complete true
-- the INI settings are its defaults, as for DistributedLock
bool(true)
bool(true)
bool(true)
