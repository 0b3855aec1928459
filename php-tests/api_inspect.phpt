--TEST--
inspect(): the lock as the log has it, whoever holds it (another process, this instance, nobody): mode, the holder's owner, fencing token and lease left, how many wait; bad identifiers are refused
--EXTENSIONS--
kafka_lock
--SKIPIF--
<?php if (!function_exists('proc_open')) die('skip proc_open is disabled'); ?>
--FILE--
<?php
require __DIR__ . '/helpers/mp_lib.php';

const TTL = 5.0;

$test = new MpTest('inspect');
$topic = mp_topic('inspect');
$inspector = new DistributedLock($topic, mp_config(TTL));

/** One line per snapshot: the fields' names and types, and the values a test can know. */
function show(array $s, ?int $token = null): string
{
    $keys = implode(',', array_keys($s));
    $holders = array_map(function (array $h) use ($token) {
        $ok = array_keys($h) === ['owner', 'token', 'expires_in'] && is_string($h['owner']) && $h['owner'] !== ''
            && is_int($h['token']) && is_float($h['expires_in']) && $h['expires_in'] > 0 && $h['expires_in'] <= TTL;
        return ($ok ? 'well-formed' : 'MALFORMED ' . json_encode($h))
            . ($token === null ? '' : ($h['token'] === $token ? ', the expected token' : ", token {$h['token']}, not $token"));
    }, $s['holders']);
    return "[$keys] mode " . var_export($s['mode'], true) . ', holders [' . implode('; ', $holders) . '], waiting '
        . var_export($s['waiting'], true) . ', limit ' . var_export($s['limit'], true) . ', complete '
        . var_export($s['complete'], true);
}

/** Inspects until $done says yes (a condition awaited, not a sleep); fails after 20 s. */
function inspect_until(DistributedLock $lock, string $id, callable $done, string $what): array
{
    $deadline = mp_now() + 20;
    while (!$done($s = $lock->inspect($id))) {
        if (mp_now() > $deadline) {
            mp_fail("$what: last snapshot " . json_encode($s));
        }
        usleep(20_000);
    }
    return $s;
}

echo "-- free\n";
echo show($inspector->inspect('r')), "\n";

echo "-- held by another process\n";
$holder = $test->spawn('holder', [$topic, 'new:' . TTL, 'acquire:r:30', 'check:r', 'wait', 'release:r']);
$t1 = $holder->await('state')['token'];
$s = $inspector->inspect('r');
echo show($s, $t1), "\n";
$owner = $s['holders'][0]['owner'];

echo "-- and one process waiting behind it\n";
$waiter = $test->spawn('waiter', [$topic, 'new:' . TTL, 'acquire:r:30', 'check:r', 'wait', 'release:r']);
$waiter->await('acquiring');
$s = inspect_until($inspector, 'r', fn($s) => $s['waiting'] === 1, 'the waiter never showed');
echo show($s, $t1), "\n";
var_dump($s['holders'][0]['owner'] === $owner);

echo "-- handed over\n";
$holder->send();
$t2 = $waiter->await('state')['token'];
var_dump($t2 > $t1);
$s = $inspector->inspect('r');
echo show($s, $t2), "\n";
var_dump($s['holders'][0]['owner'] !== $owner);
$waiter->send();
$waiter->wait();
$holder->wait();
echo show(inspect_until($inspector, 'r', fn($s) => $s['mode'] === null, 'never free again')), "\n";

echo "-- held by this instance\n";
$inspector->acquireLock('own', 10);
echo show($inspector->inspect('own'), $inspector->getFencingToken('own')), "\n";
$inspector->releaseLock('own');
echo show($inspector->inspect('own')), "\n";

echo "-- a fresh instance on another topic joins it to inspect\n";
echo show((new DistributedLock($topic . '_fresh', mp_config()))->inspect('r')), "\n";

echo "-- a process that joins after the history of a held lock was deleted says its view is incomplete\n";
require __DIR__ . '/helpers/kafka_tools.php';
$truncated = mp_topic('inspect_truncated');
$keeper = new DistributedLock($truncated, mp_config(TTL));
$keeper->acquireLock('d', 10);
kafka_delete_all_records($truncated);
$late = $test->spawn('late', [$truncated, 'new:' . TTL, 'inspect:d']);
$s = $late->await('inspected')['snapshot'];
var_dump($s['complete']);
// Its acquire is gone: the lock shows as held only once a renewal of it is in the view.
var_dump($s['mode'] === null || $s['holders'][0]['token'] === $keeper->getFencingToken('d'));
$keeper->releaseLock('d');

echo "-- bad identifiers\n";
foreach (['', str_repeat('x', 1025), "bad\xff"] as $bad) {
    try {
        $inspector->inspect($bad);
        echo "accepted\n";
    } catch (DistributedLockConfigException $e) {
        echo get_class($e), ': ', $e->getMessage(), "\n";
    }
}
try {
    $inspector->inspect(['r']);
} catch (TypeError $e) {
    echo get_class($e), ': ', $e->getMessage(), "\n";
}
?>
--EXPECT--
-- free
[mode,holders,waiting,limit,complete] mode NULL, holders [], waiting 0, limit NULL, complete true
-- held by another process
[mode,holders,waiting,limit,complete] mode 'exclusive', holders [well-formed, the expected token], waiting 0, limit NULL, complete true
-- and one process waiting behind it
[mode,holders,waiting,limit,complete] mode 'exclusive', holders [well-formed, the expected token], waiting 1, limit NULL, complete true
bool(true)
-- handed over
bool(true)
[mode,holders,waiting,limit,complete] mode 'exclusive', holders [well-formed, the expected token], waiting 0, limit NULL, complete true
bool(true)
[mode,holders,waiting,limit,complete] mode NULL, holders [], waiting 0, limit NULL, complete true
-- held by this instance
[mode,holders,waiting,limit,complete] mode 'exclusive', holders [well-formed, the expected token], waiting 0, limit NULL, complete true
[mode,holders,waiting,limit,complete] mode NULL, holders [], waiting 0, limit NULL, complete true
-- a fresh instance on another topic joins it to inspect
[mode,holders,waiting,limit,complete] mode NULL, holders [], waiting 0, limit NULL, complete true
-- a process that joins after the history of a held lock was deleted says its view is incomplete
bool(false)
bool(true)
-- bad identifiers
DistributedLockConfigException: invalid lock identifier: it must not be empty
DistributedLockConfigException: invalid lock identifier: it is 1025 bytes long, at most 1024 are allowed
DistributedLockConfigException: invalid lock identifier: not valid UTF-8
TypeError: DistributedLock::inspect(): Argument #1 ($identifier) must be of type string, array given
