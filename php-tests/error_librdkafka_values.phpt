--TEST--
Invalid values of pass-through librdkafka properties: DistributedLockConfigException with one clean line naming the property (no raw "key value" dump)
--FILE--
<?php
$topic = 'phpt_' . bin2hex(random_bytes(4));
$cases = [
    ['security.protocol', 'bogus'],
    ['debug', 'nonsense'],
    ['client.dns.lookup', 'bogus'],
    ['broker.address.ttl', -5],
    ['socket.timeout.ms', 'abc'],
    ['socket.timeout.ms', 1],
    ['ssl.no.such.property', 'x'],
];
foreach ($cases as [$key, $value]) {
    try {
        new DistributedLock($topic, [$key => $value, 'lock.connect_timeout' => 2]);
        echo "$key: no exception\n";
        continue;
    } catch (DistributedLockException $e) {
        $message = $e->getMessage();
    }
    $checks = [
        'class' => $e instanceof DistributedLockConfigException,
        'names the property' => str_contains($message, $key),
        'one line' => !str_contains($message, "\n"),
        'no trailing dump' => !str_ends_with(trim($message), "$key $value"),
    ];
    $failed = array_keys(array_filter($checks, fn($ok) => !$ok));
    echo "$key: ", $failed ? 'FAILED ' . implode(', ', $failed) . ': ' . json_encode($message) : 'ok', "\n";
}
?>
--EXPECT--
security.protocol: ok
debug: ok
client.dns.lookup: ok
broker.address.ttl: ok
socket.timeout.ms: ok
socket.timeout.ms: ok
ssl.no.such.property: ok
