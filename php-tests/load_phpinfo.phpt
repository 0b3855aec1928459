--TEST--
kafka_lock loads; phpinfo() shows the extension and librdkafka versions
--FILE--
<?php
var_dump(extension_loaded('kafka_lock'));
$version = phpversion('kafka_lock');
var_dump($version === (new ReflectionExtension('kafka_lock'))->getVersion());
var_dump((bool) preg_match('/^\d+\.\d+\.\d+/', $version));

foreach (['DistributedLock', 'DistributedLockException', 'DistributedLockConfigException',
          'DistributedLockConnectionException', 'DistributedLockTopicException',
          'DistributedLockLostException'] as $class) {
    printf("%s: %s\n", $class, (new ReflectionClass($class))->getExtensionName());
}

ob_start();
phpinfo(INFO_MODULES);
$info = ob_get_clean();
// The module's own section only (from its header to the next module's).
preg_match('/^kafka_lock\n\n(.*?)\n\n/ms', $info, $m) or die("no kafka_lock section in phpinfo()\n");
echo $m[1], "\n";
var_dump(str_contains($m[1], "kafka_lock version => $version\n"));
?>
--EXPECTF--
bool(true)
bool(true)
bool(true)
DistributedLock: kafka_lock
DistributedLockException: kafka_lock
DistributedLockConfigException: kafka_lock
DistributedLockConnectionException: kafka_lock
DistributedLockTopicException: kafka_lock
DistributedLockLostException: kafka_lock
kafka_lock => enabled
kafka_lock version => %d.%d.%s
librdkafka version => %d.%d.%s%A
bool(true)
