--TEST--
INI settings: -d values and ini_set() are the defaults of the next instance; ini_restore() undoes ini_set()
--INI--
kafka_lock.ttl=2
--FILE--
<?php
$topic = 'phpt_' . bin2hex(random_bytes(4));

// kafka_lock.ttl=2 from the INI section.
$a = new DistributedLock($topic);
$a->acquireLock('a');
$left = $a->getRemainingLifetime('a');
var_dump($left > 1.0 && $left <= 2.0);

// ini_set() applies to instances created afterwards, not to existing ones.
var_dump(ini_set('kafka_lock.ttl', '4'));
$b = new DistributedLock($topic);
$b->acquireLock('b');
$left = $b->getRemainingLifetime('b');
var_dump($left > 2.0 && $left <= 4.0);
$a->releaseLock('a');
$a->acquireLock('a');
var_dump($a->getRemainingLifetime('a') <= 2.0);

// The config array wins over the INI setting.
$c = new DistributedLock($topic, ['lock.ttl' => 1]);
$c->acquireLock('c');
var_dump($c->getRemainingLifetime('c') <= 1.0);

// The broker list comes from kafka_lock.brokers when the array gives none.
ini_set('kafka_lock.brokers', '127.0.0.1:1');
ini_set('kafka_lock.connect_timeout', '0.5');
try {
    new DistributedLock($topic);
} catch (DistributedLockConnectionException $e) {
    echo $e->getMessage(), "\n";
}

// ini_restore() brings back the value of the INI section / php.ini.
ini_restore('kafka_lock.ttl');
ini_restore('kafka_lock.brokers');
ini_restore('kafka_lock.connect_timeout');
var_dump(ini_get('kafka_lock.ttl'), ini_get('kafka_lock.brokers'), ini_get('kafka_lock.connect_timeout'));
?>
--EXPECTF--
bool(true)
string(1) "2"
bool(true)
bool(true)
bool(true)
cannot reach the Kafka brokers at 127.0.0.1:1 within 0.5 s: %s
string(1) "2"
string(14) "localhost:9092"
string(1) "5"
