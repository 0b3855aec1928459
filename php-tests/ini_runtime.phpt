--TEST--
INI settings: -d values and ini_set() are the defaults of the next instance (the ttl a hold gets, the brokers and connect time-out used); ini_restore() undoes ini_set()
--INI--
kafka_lock.ttl=2
--FILE--
<?php
require __DIR__ . '/helpers/lock_lib.php';
$topic = 'phpt_' . bin2hex(random_bytes(4));

// kafka_lock.ttl=2 from the INI section.
$a = new DistributedLock($topic);
lease($a, 'a', 2);

// ini_set() applies to instances created afterwards, not to existing ones.
var_dump(ini_set('kafka_lock.ttl', '4'));
$b = new DistributedLock($topic);
lease($b, 'b', 4);
var_dump($a->releaseLock('a'));
lease($a, 'a', 2);

// The config array wins over the INI setting.
$c = new DistributedLock($topic, ['lock.ttl' => 1, 'lock.max_clock_step' => 0.1]);
lease($c, 'c', 1);

// The broker list comes from kafka_lock.brokers when the array gives none.
ini_set('kafka_lock.brokers', '127.0.0.1:1');
ini_set('kafka_lock.connect_timeout', '0.5');
$start = hrtime(true);
try {
    new DistributedLock($topic);
    echo "no exception\n";
} catch (DistributedLockConnectionException $e) {
    echo $e->getMessage(), "\n";
}
// kafka_lock.connect_timeout took effect: the constructor gave up after it, not at once or later.
$took = (hrtime(true) - $start) / 1e9;
echo 'gave up after ', $took >= 0.5 && $took < 1.5 ? '0.5 to 1.5 s' : sprintf('%.3f s', $took), "\n";

// ini_restore() brings back the value of the INI section / php.ini.
ini_restore('kafka_lock.ttl');
ini_restore('kafka_lock.brokers');
ini_restore('kafka_lock.connect_timeout');
var_dump(ini_get('kafka_lock.ttl'), ini_get('kafka_lock.brokers'), ini_get('kafka_lock.connect_timeout'));
// ... and the next instance uses them: the broker on localhost, a ttl of 2 s.
$d = new DistributedLock($topic);
lease($d, 'd', 2);
?>
--EXPECTF--
a: acquired true, remaining in (2/2, 2]
string(1) "2"
b: acquired true, remaining in (4/2, 4]
bool(true)
a: acquired true, remaining in (2/2, 2]
c: acquired true, remaining in (1/2, 1]
cannot reach the Kafka brokers at 127.0.0.1:1 within 0.5 s: %s
gave up after 0.5 to 1.5 s
string(1) "2"
string(14) "localhost:9092"
string(1) "5"
d: acquired true, remaining in (2/2, 2]
