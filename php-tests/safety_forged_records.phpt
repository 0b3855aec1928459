--TEST--
Safety: records another writer forges from a holder's own records (a release in its name, a 1 ms renew, a release secret copied from another release, a replayed acquire) never hand the held lock to a waiter
--FILE--
<?php
require __DIR__ . '/helpers/kafka_tools.php';

$topic = 'phpt_forge_' . bin2hex(random_bytes(4));
kafka_create_topic($topic);

$holder = new DistributedLock($topic, ['client.id' => 'holder', 'lock.ttl' => 30]);
var_dump($holder->acquireLock('x', 5.0));
$token = $holder->getFencingToken('x');

// Everything a writer with WRITE on the topic can see: the holder's acquire record.
$acquire = null;
foreach (kafka_read_records($topic) as [$offset, $key, $value]) {
    if ((int)$offset === $token) {
        $acquire = json_decode($value, true);
    }
}
echo 'acquire carries a commitment and a nonce: ', var_export(isset($acquire['commit'], $acquire['nonce']), true), "\n";
$owner = $acquire['owner'];

// A release of another lock by the holder, so there is a real release secret to copy: it opens
// the commitment of that other request (SHA-256), not the held one's.
var_dump($holder->acquireLock('other', 5.0), $holder->releaseLock('other'));
$copied = null;
$commitments = [];
foreach (kafka_read_records($topic) as [, $key, $value]) {
    $record = json_decode($value, true);
    if (($record['op'] ?? '') === 'acquire') {
        $commitments[$key] = $record['commit'];
    }
    if (($record['op'] ?? '') === 'release') {
        $copied = $record['secret'];
    }
}
echo 'a secret to copy, opening the released request\'s commitment only: ', var_export(is_string($copied) && strlen($copied) === 64
    && hash('sha256', hex2bin($copied)) === $commitments['other'] && hash('sha256', hex2bin($copied)) !== $commitments['x'], true), "\n";

$forgeries = [
    'release in its name' => ['v' => 1, 'op' => 'release', 'owner' => $owner, 'ref' => $token],
    'release with a copied secret' => ['v' => 1, 'op' => 'release', 'owner' => $owner, 'ref' => $token, 'secret' => $copied],
    '1 ms renew, prev in the future' => ['v' => 1, 'op' => 'renew', 'owner' => $owner, 'ref' => $token,
        'prev' => (int)(microtime(true) * 1000) + 60000, 'ttl' => 1, 'commit' => $acquire['commit']],
];
$waiter = new DistributedLock($topic, ['client.id' => 'waiter']);
foreach ($forgeries as $name => $record) {
    kafka_produce_raw($topic, 'x', json_encode($record));
    // A waiter that joins or waits now must not get 'x': the holder holds it.
    $got = $waiter->acquireLock('x', 1.0);
    echo "$name: waiter granted ", var_export($got, true), ', holder holds ', var_export($holder->isAcquired('x'), true), "\n";
}
// Only the holder's own release frees it, at once.
var_dump($holder->releaseLock('x'));
$t = hrtime(true);
var_dump($waiter->acquireLock('x', 5.0));
echo 'hand-off within 1 s: ', var_export((hrtime(true) - $t) / 1e9 < 1.0, true), "\n";

// A byte-for-byte replay of the old holder's acquire is a new request at the tail (a queue
// entry nobody renews: it delays later waiters for its lease, a denial of service), never the
// old holder's hold again, and it does not disturb the new holder.
$waiterToken = $waiter->getFencingToken('x');
kafka_produce_raw($topic, 'x', json_encode($acquire));
var_dump($holder->tryLock('other2'));
echo 'replay: old holder holds x ', var_export($holder->isAcquired('x'), true),
    ', new holder still holds with its token ', var_export($waiter->isAcquired('x') && $waiter->getFencingToken('x') === $waiterToken, true), "\n";
var_dump($waiter->releaseLock('x'));
?>
--EXPECT--
bool(true)
acquire carries a commitment and a nonce: true
bool(true)
bool(true)
a secret to copy, opening the released request's commitment only: true
release in its name: waiter granted false, holder holds true
release with a copied secret: waiter granted false, holder holds true
1 ms renew, prev in the future: waiter granted false, holder holds true
bool(true)
bool(true)
hand-off within 1 s: true
bool(true)
replay: old holder holds x false, new holder still holds with its token true
bool(true)
