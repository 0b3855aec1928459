--TEST--
acquireReadLock()/tryReadLock(): readers hold together, each with its own increasing token; a writer waits for every reader, and a waiting writer holds back the readers behind it (FIFO); reentrant; never upgraded or downgraded
--EXTENSIONS--
kafka_lock
--SKIPIF--
<?php if (!function_exists('proc_open')) die('skip proc_open is disabled'); ?>
--FILE--
<?php
require __DIR__ . '/helpers/mp_lib.php';

$test = new MpTest('read_lock');
$topic = mp_topic('read_lock');
$r1 = new DistributedLock($topic, mp_config());
$r2 = new DistributedLock($topic, mp_config());
$r3 = new DistributedLock($topic, mp_config());
$w = new DistributedLock($topic, mp_config());

/** mode, the holders' tokens (as names given in $names, token => name) and how many wait. */
function show(array $s, array $names = []): string
{
    $holders = array_map(fn($h) => $names[$h['token']] ?? "token {$h['token']}", $s['holders']);
    return 'mode ' . var_export($s['mode'], true) . ', holders [' . implode(', ', $holders) . '], waiting '
        . $s['waiting'] . ', limit ' . var_export($s['limit'], true);
}

/** Inspects until $done says yes (a condition awaited, not a fixed pause); fails after 20 s. */
function inspect_until(DistributedLock $lock, string $id, callable $done, string $what): array
{
    $deadline = mp_now() + 20;
    while (!$done($s = $lock->inspect($id))) {
        if (mp_now() > $deadline) {
            mp_fail("$what: last snapshot " . json_encode($s));
        }
        mp_pause(0.02);
    }
    return $s;
}

function attempt(callable $call): void
{
    try {
        var_dump($call());
    } catch (DistributedLockException $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}

echo "-- two readers hold together\n";
var_dump($r1->acquireReadLock('doc', 5.0), $r2->tryReadLock('doc'));
var_dump($r1->isAcquired('doc'), $r2->isAcquired('doc'));
$t1 = $r1->getFencingToken('doc');
$t2 = $r2->getFencingToken('doc');
var_dump(is_int($t1) && is_int($t2) && $t2 > $t1);
$left = $r2->getRemainingLifetime('doc');
var_dump(is_float($left) && $left > 5 && $left <= 10);
$names = [$t1 => 'r1', $t2 => 'r2'];
echo show($w->inspect('doc'), $names), "\n";

echo "-- a writer does not get it while they hold; a time-out withdraws its request\n";
var_dump($w->tryLock('doc'), $w->acquireLock('doc', 0.2), $w->isAcquired('doc'), $w->getFencingToken('doc'));
echo show($w->inspect('doc'), $names), "\n";
echo "a third reader joins them\n";
var_dump($r3->tryReadLock('doc'));
$names[$r3->getFencingToken('doc')] = 'r3';
echo show($w->inspect('doc'), $names), "\n";
var_dump($r3->releaseLock('doc'));

echo "-- a writer waiting (another process) holds back the readers that come after it\n";
$writer = $test->spawn('writer', [$topic, 'new', 'try:warm', 'release:warm', 'acquire:doc:30', 'check:doc', 'wait', 'release:doc']);
$writer->await('acquiring');
echo show(inspect_until($w, 'doc', fn($s) => $s['waiting'] === 1, 'the writer never showed as waiting'), $names), "\n";
var_dump($r3->tryReadLock('doc'), $r3->acquireReadLock('doc', 0.2), $r3->isAcquired('doc'));
echo "the readers that hold keep holding, and a reader that holds may take another level\n";
var_dump($r1->isAcquired('doc'), $r2->isAcquired('doc'));
var_dump($r1->acquireReadLock('doc', 0.0), $r1->getFencingToken('doc') === $t1);
echo "the writer waits until the last reader leaves\n";
var_dump($r1->releaseLock('doc'), $r1->releaseLock('doc'), $r1->isAcquired('doc'));
echo show($w->inspect('doc'), $names), "\n";
mp_check(!array_filter($writer->events(), fn($e) => $e['ev'] === 'acquired'), 'the writer still waits while r2 holds');
var_dump($r2->releaseLock('doc'));
$state = $writer->await('state');
var_dump($state['acquired'], $state['token'] > $t2);
$names[$state['token']] = 'the writer';
echo show($w->inspect('doc'), $names), "\n";

echo "-- readers that queue behind the holding writer are granted together after it\n";
var_dump($r3->tryReadLock('doc'));
$reader = $test->spawn('reader', [$topic, 'new', 'try:warm', 'release:warm', 'read:doc:30', 'check:doc', 'wait', 'release:doc']);
$reader->await('acquiring');
echo show(inspect_until($w, 'doc', fn($s) => $s['waiting'] === 1, 'the reader never showed as waiting'), $names), "\n";
$writer->send();
mp_check($writer->await('released')['ok'] === true, 'the writer released');
$granted = $reader->await('acquired');
var_dump($granted['ok'], $granted['token'] > $state['token']);
$names[$granted['token']] = 'the reader process';
var_dump($r3->tryReadLock('doc'));
$names[$r3->getFencingToken('doc')] = 'r3';
echo show($w->inspect('doc'), $names), "\n";
$reader->send();
$reader->await('released');
var_dump($r3->releaseLock('doc'));
mp_check($writer->wait() === 0 && $reader->wait() === 0, 'both processes exited normally');

echo "-- a waiting writer that gives up no longer holds back the reader behind it\n";
var_dump($r1->acquireReadLock('quit', 5.0));
$quitter = $test->spawn('quitter', [$topic, 'new', 'try:warm', 'release:warm', 'acquire:quit:2.5']);
$quitter->await('acquiring');
inspect_until($w, 'quit', fn($s) => $s['waiting'] === 1, 'the writer never showed as waiting');
$late = $test->spawn('late', [$topic, 'new', 'try:warm', 'release:warm', 'read:quit:30', 'check:quit', 'wait', 'release:quit']);
$late->await('acquiring');
$gone = fn() => (bool)array_filter($quitter->events(), fn($e) => $e['ev'] === 'acquired');
inspect_until($w, 'quit', fn($s) => $s['waiting'] === 2 || $gone(), 'the late reader never showed as waiting');
if ($gone()) {
    mp_fail('the writer gave up before the late reader was queued behind it: the 2.5 s time-out was too short on this machine (a timing problem of the test, not a lock bug)');
}
$gaveUp = $quitter->await('acquired');
var_dump($gaveUp['ok']);
$joined = $late->await('acquired');
mp_check($joined['ok'] === true && $r1->isAcquired('quit'), 'the late reader was granted beside r1 (r1 never released)');
echo show($w->inspect('quit'), [$r1->getFencingToken('quit') => 'r1', $joined['token'] => 'the late reader']), "\n";
$late->send();
var_dump($late->await('released')['ok'], $r1->releaseLock('quit'));
mp_check($quitter->wait() === 0 && $late->wait() === 0, 'both processes exited normally');

echo "-- reentrancy\n";
var_dump($r1->acquireReadLock('re'), $r1->tryReadLock('re'), $r1->acquireReadLock('re', 1.0));
$token = $r1->getFencingToken('re');
var_dump($r1->releaseLock('re'), $r1->releaseLock('re'), $r1->getFencingToken('re') === $token);
var_dump($w->tryLock('re'));
var_dump($r1->releaseLock('re'), $r1->isAcquired('re'), $r1->getFencingToken('re'), $r1->getRemainingLifetime('re'));
var_dump($r1->releaseLock('re'));
var_dump($w->tryLock('re'), $w->releaseLock('re'));

echo "-- no upgrade: a reader asking for the write lock\n";
var_dump($r1->acquireReadLock('up'));
attempt(fn() => $r1->acquireLock('up', 1.0));
attempt(fn() => $r1->tryLock('up'));
echo "the read hold is as it was: one level\n";
var_dump($r1->isAcquired('up'), $r1->releaseLock('up'), $r1->isAcquired('up'));

echo "-- no downgrade: a writer asking for a read lock\n";
var_dump($w->acquireLock('down', 5.0));
attempt(fn() => $w->acquireReadLock('down', 1.0));
attempt(fn() => $w->tryReadLock('down'));
var_dump($w->isAcquired('down'), $w->releaseLock('down'), $w->isAcquired('down'));
echo "after the release either mode may be taken\n";
var_dump($w->tryReadLock('down'), $w->releaseLock('down'), $w->tryLock('down'), $w->releaseLock('down'));

echo "-- releaseLock() of a read lock not held\n";
var_dump($r1->releaseLock('never'));
var_dump($r2->acquireReadLock('other'), $r1->releaseLock('other'), $r2->isAcquired('other'), $r2->releaseLock('other'));
var_dump($r2->releaseLock('other'));

echo "-- the arguments are checked as acquireLock()'s\n";
foreach ([fn() => $r1->acquireReadLock(''), fn() => $r1->tryReadLock(str_repeat('x', 1025)), fn() => $r1->tryReadLock("bad\xff"),
          fn() => $r1->acquireReadLock('doc', -1), fn() => $r1->acquireReadLock('doc', NAN)] as $call) {
    attempt($call);
}
foreach ([fn() => $r1->acquireReadLock([]), fn() => $r1->tryReadLock(null), fn() => $r1->acquireReadLock('doc', 'soon')] as $call) {
    try {
        $call();
    } catch (TypeError $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}
?>
--EXPECT--
-- two readers hold together
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
mode 'shared', holders [r1, r2], waiting 0, limit NULL
-- a writer does not get it while they hold; a time-out withdraws its request
bool(false)
bool(false)
bool(false)
NULL
mode 'shared', holders [r1, r2], waiting 0, limit NULL
a third reader joins them
bool(true)
mode 'shared', holders [r1, r2, r3], waiting 0, limit NULL
bool(true)
-- a writer waiting (another process) holds back the readers that come after it
mode 'shared', holders [r1, r2], waiting 1, limit NULL
bool(false)
bool(false)
bool(false)
the readers that hold keep holding, and a reader that holds may take another level
bool(true)
bool(true)
bool(true)
bool(true)
the writer waits until the last reader leaves
bool(true)
bool(true)
bool(false)
mode 'shared', holders [r2], waiting 1, limit NULL
ok: the writer still waits while r2 holds
bool(true)
bool(true)
bool(true)
mode 'exclusive', holders [the writer], waiting 0, limit NULL
-- readers that queue behind the holding writer are granted together after it
bool(false)
mode 'exclusive', holders [the writer], waiting 1, limit NULL
ok: the writer released
bool(true)
bool(true)
bool(true)
mode 'shared', holders [the reader process, r3], waiting 0, limit NULL
bool(true)
ok: both processes exited normally
-- a waiting writer that gives up no longer holds back the reader behind it
bool(true)
bool(false)
ok: the late reader was granted beside r1 (r1 never released)
mode 'shared', holders [r1, the late reader], waiting 0, limit NULL
bool(true)
bool(true)
ok: both processes exited normally
-- reentrancy
bool(true)
bool(true)
bool(true)
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
-- no upgrade: a reader asking for the write lock
bool(true)
DistributedLockConflictException: this instance holds 'up' as a shared lock and asked for an exclusive lock; release it first (a hold is never upgraded or downgraded: two holders upgrading at once would wait for each other forever)
DistributedLockConflictException: this instance holds 'up' as a shared lock and asked for an exclusive lock; release it first (a hold is never upgraded or downgraded: two holders upgrading at once would wait for each other forever)
the read hold is as it was: one level
bool(true)
bool(true)
bool(false)
-- no downgrade: a writer asking for a read lock
bool(true)
DistributedLockConflictException: this instance holds 'down' as an exclusive lock and asked for a shared lock; release it first (a hold is never upgraded or downgraded: two holders upgrading at once would wait for each other forever)
DistributedLockConflictException: this instance holds 'down' as an exclusive lock and asked for a shared lock; release it first (a hold is never upgraded or downgraded: two holders upgrading at once would wait for each other forever)
bool(true)
bool(true)
bool(false)
after the release either mode may be taken
bool(true)
bool(true)
bool(true)
bool(true)
-- releaseLock() of a read lock not held
bool(false)
bool(true)
bool(false)
bool(true)
bool(true)
bool(false)
-- the arguments are checked as acquireLock()'s
DistributedLockConfigException: invalid lock identifier: it must not be empty
DistributedLockConfigException: invalid lock identifier: it is 1025 bytes long, at most 1024 are allowed
DistributedLockConfigException: invalid lock identifier: not valid UTF-8
DistributedLockConfigException: timeout must not be negative, -1 given; use null to wait forever
DistributedLockConfigException: timeout must be a number of seconds or null, NAN given
TypeError: DistributedLock::acquireReadLock(): Argument #1 ($identifier) must be of type string, array given
TypeError: DistributedLock::tryReadLock(): Argument #1 ($identifier) must be of type string, null given
TypeError: DistributedLock::acquireReadLock(): Argument #2 ($timeout) must be of type ?float, string given
