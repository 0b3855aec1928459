--TEST--
Two instances in one process: mutual exclusion, and fencing tokens that strictly increase from hold to hold
--FILE--
<?php
$topic = 'phpt_' . bin2hex(random_bytes(4));
$a = new DistributedLock($topic);
$b = new DistributedLock($topic);
$instances = ['a' => $a, 'b' => $b];

$tokens = [];
$violations = 0;
for ($round = 0; $round < 10; $round++) {
    $name = $round % 2 ? 'b' : 'a';
    $mine = $instances[$name];
    $theirs = $instances[$name === 'a' ? 'b' : 'a'];

    if (!$mine->acquireLock('counter', 5.0)) {
        echo "round $round: $name could not acquire\n";
        continue;
    }
    // While one holds it, the other can neither take it nor see itself as holder.
    if ($theirs->tryLock('counter') || $theirs->isAcquired('counter')
        || $theirs->getFencingToken('counter') !== null || $theirs->acquireLock('counter', 0.05)) {
        $violations++;
    }
    $tokens[] = $mine->getFencingToken('counter');
    if (!$mine->releaseLock('counter')) {
        echo "round $round: $name could not release\n";
    }
}
echo "violations: $violations\n";
echo "holds: ", count($tokens), "\n";
$increasing = true;
for ($i = 1; $i < count($tokens); $i++) {
    $increasing = $increasing && is_int($tokens[$i]) && $tokens[$i] > $tokens[$i - 1];
}
var_dump($increasing) ;
if (!$increasing) {
    echo implode(' ', $tokens), "\n";
}

echo "different locks do not exclude each other\n";
var_dump($a->acquireLock('left'), $b->acquireLock('right'));
var_dump($a->isAcquired('left'), $b->isAcquired('right'));
var_dump($a->isAcquired('right'), $b->isAcquired('left'));
var_dump($a->releaseLock('left'), $b->releaseLock('right'));

echo "the same identifier on two topics is two locks\n";
$c = new DistributedLock($topic . '_other');
var_dump($a->acquireLock('counter'), $c->tryLock('counter'));
var_dump($a->releaseLock('counter'), $c->releaseLock('counter'));
?>
--EXPECT--
violations: 0
holds: 10
bool(true)
different locks do not exclude each other
bool(true)
bool(true)
bool(true)
bool(true)
bool(false)
bool(false)
bool(true)
bool(true)
the same identifier on two topics is two locks
bool(true)
bool(true)
bool(true)
bool(true)
