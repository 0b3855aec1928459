--TEST--
Uncontended acquires are granted from their delivery report when the view has read everything before them: counted in records_applied_on_ack, read back without being applied twice, tokens increasing, and another session sees the holds
--FILE--
<?php
require __DIR__ . '/helpers/mp_lib.php';

const CYCLES = 200;
$topic = mp_topic('onack');
$lock = new DistributedLock($topic, mp_config(10.0));
// Another session (other client settings: its own clients and view) checks every 20th hold.
$other = new DistributedLock($topic, ['client.id' => 'onack-checker'] + mp_config(10.0));
$lock->acquireLock('warm-up', 10.0); // joins the partition
$lock->releaseLock('warm-up');

$before = DistributedLock::stats()['counters'];
$tokens = [];
$busy = 0;
for ($i = 0; $i < CYCLES; $i++) {
    if ($lock->acquireLock("k$i", 10.0) !== true) {
        exit("k$i not acquired\n");
    }
    $tokens[] = $lock->getFencingToken("k$i");
    if ($i % 20 === 0) {
        $busy += $other->tryLock("k$i") === false ? 1 : 0;
    }
    if ($lock->releaseLock("k$i") !== true) {
        exit("k$i not released\n");
    }
}
$after = DistributedLock::stats()['counters'];
// After the releases the other session gets every lock it was refused.
$free = 0;
for ($i = 0; $i < CYCLES; $i += 20) {
    $free += $other->tryLock("k$i") && $other->releaseLock("k$i") ? 1 : 0;
}

$sorted = $tokens;
sort($sorted);
$onAck = $after['records_applied_on_ack'] - $before['records_applied_on_ack'];
echo 'tokens strictly increasing: ', var_export($sorted === $tokens && count(array_unique($tokens)) === CYCLES, true), "\n";
echo 'the other session found every checked hold busy: ', var_export($busy === CYCLES / 20, true), "\n";
echo 'and free after its release: ', var_export($free === CYCLES / 20, true), "\n";
echo 'some acquires applied from their report: ', var_export($onAck > 0, true), "\n";
echo 'nothing ignored (no read-back applied twice): ', var_export($after['records_ignored'] === $before['records_ignored'], true), "\n";
?>
--EXPECT--
tokens strictly increasing: true
the other session found every checked hold busy: true
and free after its release: true
some acquires applied from their report: true
nothing ignored (no read-back applied twice): true
