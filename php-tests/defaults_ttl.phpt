--TEST--
The default lease is 10 s: getRemainingLifetime() is just under 10 with no option or INI change
--FILE--
<?php
$lock = new DistributedLock('phpt_' . bin2hex(random_bytes(4)));
var_dump($lock->acquireLock('resource'));
$left = $lock->getRemainingLifetime('resource');
var_dump(is_float($left));
// Holder's conservative view: a little under the ttl, but far above the next shorter value
// anyone would pick.
var_dump($left > 8.0 && $left <= 10.0);
if (!($left > 8.0 && $left <= 10.0)) {
    var_dump($left);
}
var_dump($lock->releaseLock('resource'));
?>
--EXPECT--
bool(true)
bool(true)
bool(true)
bool(true)
