--TEST--
Invalid topic names throw DistributedLockConfigException before any broker round trip
--FILE--
<?php
$cases = [
    'empty' => '',
    'with a space' => 'a b',
    '250 characters' => str_repeat('t', 250),
    'dot' => '.',
    'dot dot' => '..',
    'slash' => 'locks/orders',
    'non-ASCII' => 'tö',
];
foreach ($cases as $what => $topic) {
    try {
        // An unreachable broker list: a name check that needed the brokers would time out.
        new DistributedLock($topic, ['metadata.broker.list' => '127.0.0.1:1', 'lock.connect_timeout' => 5]);
        echo "$what: no exception\n";
    } catch (DistributedLockException $e) {
        echo "$what: ", get_class($e), ': ', $e->getMessage(), "\n";
    }
}
echo "-- 249 characters and every allowed character are fine\n";
$lock = new DistributedLock(substr('phpt_' . bin2hex(random_bytes(4)) . str_repeat('x', 249), 0, 249));
var_dump($lock->tryLock('a'));
$lock = new DistributedLock('phpt.' . bin2hex(random_bytes(4)) . '-AZ_az.09');
var_dump($lock->tryLock('a'));
?>
--EXPECT--
empty: DistributedLockConfigException: topic name must not be empty
with a space: DistributedLockConfigException: topic name 'a b' contains ' '; Kafka allows only ASCII letters, digits, '.', '_' and '-'
250 characters: DistributedLockConfigException: topic name is 250 characters long; Kafka allows at most 249
dot: DistributedLockConfigException: topic name '.' is not allowed by Kafka
dot dot: DistributedLockConfigException: topic name '..' is not allowed by Kafka
slash: DistributedLockConfigException: topic name 'locks/orders' contains '/'; Kafka allows only ASCII letters, digits, '.', '_' and '-'
non-ASCII: DistributedLockConfigException: topic name 'tö' contains 'ö'; Kafka allows only ASCII letters, digits, '.', '_' and '-'
-- 249 characters and every allowed character are fine
bool(true)
bool(true)
