<?php
// Shared by the secure_*.phpt tests: client settings for the secure test broker of
// `make kafka-secure-start` (scripts/kafka.sh secure-start, kafka/secure.properties.in), read from
// the clients.json that scripts/kafka.sh writes next to it:
//   SASL_SSL (SCRAM-SHA-512 or PLAIN) on one port, mTLS on another, a CA of its own, and the
//   principals locker, noidem, nocreate, reader, idemreader, writeonly and nobody (see
//   scripts/kafka.sh for what each may do). Password of each SASL user: "<name>-secret";
//   certificate: tls/<name>.pem and .key, CN=<name>. ACLs cover the topics starting with "lock".

const SECURE_CLIENTS = __DIR__ . '/../../.run/kafka-secure/clients.json';

/** For --SKIPIF--: the reason the secure broker cannot be used, or null. */
function secure_unavailable(): ?string
{
    if (!is_readable(SECURE_CLIENTS)) {
        return 'the secure broker was never started (make kafka-secure-start)';
    }
    [$host, $port] = explode(':', secure_info()['mtls']);
    $socket = @fsockopen($host, (int)$port, $errno, $errstr, 1.0);
    if ($socket === false) {
        return "the secure broker does not answer on $host:$port (make kafka-secure-start)";
    }
    fclose($socket);
    return null;
}

/** The decoded clients.json. */
function secure_info(): array
{
    static $info = null;
    return $info ??= json_decode(file_get_contents(SECURE_CLIENTS), true, 512, JSON_THROW_ON_ERROR);
}

/** A file of the broker's TLS folder (ca.pem, locker.pem, locker.key, untrusted-ca.pem, ...). */
function secure_file(string $name): string
{
    return secure_info()['tls'] . '/' . $name;
}

/**
 * The $config array of a client that logs in as $user: over SASL_SSL with 'scram'
 * (SCRAM-SHA-512) or 'plain' (PLAIN), or over 'mtls' with the user's certificate. $extra is
 * merged last: a key with the value null is removed (e.g. no client certificate).
 */
function secure_config(string $how, string $user, array $extra = []): array
{
    $info = secure_info();
    $config = match ($how) {
        'scram', 'plain' => [
            'bootstrap.servers' => $info['sasl_ssl'],
            'security.protocol' => 'SASL_SSL',
            'ssl.ca.location' => secure_file('ca.pem'),
            'sasl.mechanisms' => $how === 'scram' ? 'SCRAM-SHA-512' : 'PLAIN',
            'sasl.username' => $user,
            'sasl.password' => "$user-secret",
        ],
        'mtls' => [
            'bootstrap.servers' => $info['mtls'],
            'security.protocol' => 'SSL',
            'ssl.ca.location' => secure_file('ca.pem'),
            'ssl.certificate.location' => secure_file("$user.pem"),
            'ssl.key.location' => secure_file("$user.key"),
        ],
    };
    return array_filter(array_merge($config, $extra), fn($v) => $v !== null);
}

/** A new topic name covered by the ACLs (they allow the prefix "lock"). */
function secure_topic(): string
{
    return 'lock_' . bin2hex(random_bytes(4));
}

// The time-outs of the failure tests. Every cause these tests provoke is one the broker reports
// on the first connection or request, so the call must end well before lock.connect_timeout:
// within SECURE_PROMPT, half of it. A failure noticed only when a time-out runs out (the
// connect time-out, or the longer operation time-out for a record not read back) shows.
const SECURE_CONNECT_TIMEOUT = 4.0;
const SECURE_OPERATION_TIMEOUT = 5.0;
const SECURE_PROMPT = SECURE_CONNECT_TIMEOUT / 2;

/** The lock options of the failure tests (the time-outs above). */
function secure_timeouts(): array
{
    return ['lock.connect_timeout' => SECURE_CONNECT_TIMEOUT, 'lock.operation_timeout' => SECURE_OPERATION_TIMEOUT];
}

/**
 * Makes a DistributedLock on $topic with $config (and the time-outs above) and calls $use on it
 * (by default an acquireLock() of a new identifier), which must throw. Prints one line: the
 * exception's class, whether its message names the cause ($cause, a regular expression; else the
 * message) and whether it all ended in [0, SECURE_PROMPT) seconds (else how long it took). The
 * lower bound is 0 on purpose: the broker refuses at once, so there is no least time to wait;
 * the upper bound is what a time-out cannot meet.
 */
function secure_expect_failure(string $label, string $topic, array $config, string $cause, ?callable $use = null): void
{
    $use ??= fn(DistributedLock $lock) => $lock->acquireLock('never-' . bin2hex(random_bytes(4)), 1.0);
    $start = hrtime(true);
    try {
        $use(new DistributedLock($topic, $config + secure_timeouts()));
        [$class, $message] = ['no exception', ''];
    } catch (Throwable $e) {
        [$class, $message] = [get_class($e), $e->getMessage()];
    }
    $took = (hrtime(true) - $start) / 1e9;
    printf(
        "%s: %s; names the cause: %s; ended within %.1f s: %s\n",
        $label,
        $class,
        preg_match($cause, $message) === 1 ? 'yes' : "no ($message)",
        SECURE_PROMPT,
        $took < SECURE_PROMPT ? 'yes' : sprintf('no (%.3f s)', $took)
    );
}

/** The number of client sessions this process keeps for reuse. */
function secure_sessions(): int
{
    return DistributedLock::stats()['gauges']['sessions'];
}
