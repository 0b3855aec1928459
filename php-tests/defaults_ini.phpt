--TEST--
Documented INI settings exist with their documented defaults, and nothing else
--FILE--
<?php
$documented = [
    'kafka_lock.brokers' => 'localhost:9092',
    'kafka_lock.ttl' => '10',
    'kafka_lock.max_clock_step' => '0.5',
    'kafka_lock.partitions' => '1',
    'kafka_lock.replication_factor' => '-1',
    'kafka_lock.create_topic' => '1',
    'kafka_lock.connect_timeout' => '5',
    'kafka_lock.operation_timeout' => '10',
];
foreach ($documented as $name => $default) {
    printf("%s = %s\n", $name, var_export(ini_get($name), true));
    if (ini_get($name) !== $default) {
        echo "  differs from the documented default ", var_export($default, true), "\n";
    }
}
$all = (new ReflectionExtension('kafka_lock'))->getINIEntries();
ksort($all);
ksort($documented);
var_dump($all === $documented);

// PHP_INI_ALL: php.ini, -d, .htaccess/.user.ini and ini_set() may all change them.
foreach (ini_get_all('kafka_lock') as $name => $entry) {
    if ($entry['access'] !== INI_ALL) {
        echo "$name: access {$entry['access']}\n";
    }
}
echo "done\n";
?>
--EXPECT--
kafka_lock.brokers = 'localhost:9092'
kafka_lock.ttl = '10'
kafka_lock.max_clock_step = '0.5'
kafka_lock.partitions = '1'
kafka_lock.replication_factor = '-1'
kafka_lock.create_topic = '1'
kafka_lock.connect_timeout = '5'
kafka_lock.operation_timeout = '10'
bool(true)
done
