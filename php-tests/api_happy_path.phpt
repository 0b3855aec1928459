--TEST--
Every method's happy path on a free lock; identifiers differing at or after a NUL byte are different locks
--FILE--
<?php
$topic = 'phpt_' . bin2hex(random_bytes(4));
$lock = new DistributedLock($topic, ['lock.ttl' => 5]);
var_dump($lock instanceof DistributedLock);

echo "acquireLock (no time-out)\n";
var_dump($lock->acquireLock('orders'));
var_dump($lock->isAcquired('orders'));
$token = $lock->getFencingToken('orders');
var_dump(is_int($token) && $token >= 0);
$left = $lock->getRemainingLifetime('orders');
var_dump(is_float($left) && $left > 0.0 && $left <= 5.0);
var_dump($lock->releaseLock('orders'));
var_dump($lock->isAcquired('orders'), $lock->getFencingToken('orders'), $lock->getRemainingLifetime('orders'));

echo "acquireLock (with a time-out)\n";
var_dump($lock->acquireLock('orders', 2.5));
$second = $lock->getFencingToken('orders');
var_dump($second > $token);
var_dump($lock->releaseLock('orders'));

echo "acquireLock (time-out 0 on a free lock)\n";
var_dump($lock->acquireLock('orders', 0.0));
var_dump($lock->releaseLock('orders'));

echo "acquireLock (int time-out)\n";
var_dump($lock->acquireLock('orders', 1));
var_dump($lock->releaseLock('orders'));

echo "tryLock\n";
var_dump($lock->tryLock('orders'));
var_dump($lock->isAcquired('orders'));
var_dump($lock->getFencingToken('orders') > $second);
var_dump($lock->releaseLock('orders'));
var_dump($lock->isAcquired('orders'));

echo "identifiers: 1024 bytes, binary, UTF-8\n";
foreach ([str_repeat('k', 1024), "a\0b", 'zäh/ключ/鍵 🔒'] as $id) {
    var_dump($lock->tryLock($id), $lock->isAcquired($id), $lock->releaseLock($id));
}

echo "different identifiers are different locks\n";
var_dump($lock->acquireLock('x'), $lock->acquireLock('y'));
var_dump($lock->isAcquired('x'), $lock->isAcquired('y'));
var_dump($lock->releaseLock('x'));
var_dump($lock->isAcquired('x'), $lock->isAcquired('y'));
var_dump($lock->releaseLock('y'));

echo "identifiers that differ only at or after a NUL byte are different locks\n";
$ids = ["a\0b", "a\0c", "a", "a\0"];
$other = new DistributedLock($topic);
$tokens = [];
foreach ($ids as $id) {
    $tokens[] = $lock->tryLock($id) ? $lock->getFencingToken($id) : null;
}
echo 'all four held at once with distinct tokens: ', var_export(!in_array(null, $tokens, true) && count(array_unique($tokens)) === 4, true), "\n";
echo 'another instance gets none of them: ', var_export(array_map(fn($id) => $other->tryLock($id), $ids), true), "\n";
var_dump($lock->releaseLock("a\0b"));
echo "after releasing a\\0b, another instance gets exactly that one:\n";
foreach ($ids as $id) {
    echo '  ', addcslashes($id, "\0"), ': ', var_export($other->tryLock($id), true), ', first instance holds it: ', var_export($lock->isAcquired($id), true), "\n";
}
?>
--EXPECT--
bool(true)
acquireLock (no time-out)
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
bool(false)
NULL
NULL
acquireLock (with a time-out)
bool(true)
bool(true)
bool(true)
acquireLock (time-out 0 on a free lock)
bool(true)
bool(true)
acquireLock (int time-out)
bool(true)
bool(true)
tryLock
bool(true)
bool(true)
bool(true)
bool(true)
bool(false)
identifiers: 1024 bytes, binary, UTF-8
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
different identifiers are different locks
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
bool(false)
bool(true)
bool(true)
identifiers that differ only at or after a NUL byte are different locks
all four held at once with distinct tokens: true
another instance gets none of them: array (
  0 => false,
  1 => false,
  2 => false,
  3 => false,
)
bool(true)
after releasing a\0b, another instance gets exactly that one:
  a\000b: true, first instance holds it: false
  a\000c: false, first instance holds it: true
  a: false, first instance holds it: true
  a\000: false, first instance holds it: true
