--TEST--
Bad INI values are refused with a warning naming the setting, and the previous value stays (php.ini/-d at start-up and ini_set() at run time)
--INI--
kafka_lock.ttl=abc
--FILE--
<?php
$topic = 'phpt_' . bin2hex(random_bytes(4));
// The start-up value was refused (warning above), so the default is in force.
var_dump(ini_get('kafka_lock.ttl'));

echo "-- at run time\n";
foreach (['partitions' => 'many', 'replication_factor' => '0', 'create_topic' => 'maybe',
          'connect_timeout' => '-1', 'operation_timeout' => 'x', 'ttl' => '61', 'brokers' => ''] as $name => $value) {
    $before = ini_get("kafka_lock.$name");
    $result = ini_set("kafka_lock.$name", $value);
    echo $name, ': ini_set returned ', var_export($result, true), ', value kept: ',
        var_export(ini_get("kafka_lock.$name") === $before, true), "\n";
}

echo "-- a good value is taken, and ini_restore() brings the default back\n";
var_dump(ini_set('kafka_lock.ttl', '2.5'), ini_get('kafka_lock.ttl'));
ini_restore('kafka_lock.ttl');
var_dump(ini_get('kafka_lock.ttl'));

echo "-- the settings in force work\n";
$lock = new DistributedLock($topic);
var_dump($lock->tryLock('a'));
?>
--EXPECTF--
Warning: PHP Startup: kafka_lock.ttl must be a number, 'abc' given; the setting keeps its previous value in Unknown on line 0
string(2) "10"
-- at run time

Warning: ini_set(): kafka_lock.partitions must be an integer, 'many' given; the setting keeps its previous value in %s on line %d
partitions: ini_set returned false, value kept: true

Warning: ini_set(): kafka_lock.replication_factor must be -1 (the broker's default) or at least 1, 0 given; the setting keeps its previous value in %s on line %d
replication_factor: ini_set returned false, value kept: true

Warning: ini_set(): kafka_lock.create_topic must be a bool, 'maybe' given; the setting keeps its previous value in %s on line %d
create_topic: ini_set returned false, value kept: true

Warning: ini_set(): kafka_lock.connect_timeout must be between 0.001 and 3600 seconds, -1 given; the setting keeps its previous value in %s on line %d
connect_timeout: ini_set returned false, value kept: true

Warning: ini_set(): kafka_lock.operation_timeout must be a number, 'x' given; the setting keeps its previous value in %s on line %d
operation_timeout: ini_set returned false, value kept: true

Warning: ini_set(): kafka_lock.ttl must be between 0.1 and 60 seconds, 61 given; the setting keeps its previous value in %s on line %d
ttl: ini_set returned false, value kept: true

Warning: ini_set(): kafka_lock.brokers must not be empty; the setting keeps its previous value in %s on line %d
brokers: ini_set returned false, value kept: true
-- a good value is taken, and ini_restore() brings the default back
string(2) "10"
string(3) "2.5"
string(2) "10"
-- the settings in force work
bool(true)
