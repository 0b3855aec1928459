<?php

/**
 * IDE and static-analysis stubs of the kafka_lock PHP extension (a distributed lock over
 * Apache Kafka).
 *
 * DO NOT INCLUDE THIS FILE AT RUNTIME. It only describes the classes that the extension
 * itself defines; loading it next to the extension fails with "Cannot declare class
 * DistributedLock, because the name is already in use". IDEs index it by themselves; for
 * PHPStan or Psalm list it under `scanFiles` / `stubs`. The file contains declarations only
 * and is checked against the loaded extension by php-tests/stubs_reflection.phpt.
 *
 * Everything lives in the global namespace.
 *
 * @link https://kafka.apache.org/
 */

/**
 * A fair, fenced, lease-based distributed lock whose state lives in a Kafka topic.
 *
 * Every lock event is appended to one partition of the lock topic, keyed by the lock's
 * identifier; every client replays that partition through the same state machine, so all
 * processes agree on who holds which lock. Waiters are served in the order of their requests
 * (FIFO). Each hold carries a fencing token: the offset of the record that requested it,
 * strictly increasing per lock.
 *
 * Guarantees:
 * - at most one holder per lock at a time, across processes, hosts and instances of this
 *   class in one process;
 * - waiters are granted the lock in arrival order;
 * - the lease is renewed automatically (every third of `lock.ttl`) by the extension's
 *   background thread while the PHP process lives; a crashed or killed holder's lock passes
 *   to the next waiter about one `lock.ttl` later;
 * - locks held by an object are released when the object is destroyed and at the end of every
 *   request; queued requests are cancelled;
 * - after `pcntl_fork()` the child never renews or releases the parent's locks.
 * What no lease-based lock can guarantee on its own: a process paused for longer than its lease
 * (GC, SIGSTOP, swap) may still believe it holds the lock after someone else got it. Make the
 * protected resource check the fencing token (see the example below).
 *
 * Connections are made lazily and shared by every instance in a process that uses the same
 * client settings (brokers and librdkafka properties); in PHP-FPM they survive requests.
 *
 * Configuration array (second constructor argument). Values may be strings, ints, floats
 * or bools, as noted for each key; anything else throws a DistributedLockConfigException that
 * names the key.
 *
 * Lock options (each defaults to the INI setting of the same name, see below):
 * - `lock.ttl` (float|int|numeric string, seconds, 0.1 to 60, default 10): length of the lease.
 *   It is renewed automatically while the process lives; it only bounds how long a crashed
 *   holder blocks the others.
 * - `lock.max_clock_step` (float|int, seconds, 0 to 60, default 0.5): the largest forward step
 *   of the brokers' clocks a holder is safe against (a leader change to a broker whose clock
 *   is ahead, an NTP step on the leader). The holder trusts its lease for
 *   ttl - ttl/10 - max_clock_step, which must be at least half the ttl (so with the default a
 *   ttl is at least 1.25 s); a bigger step can give two holders at once.
 * - `lock.partitions` (int, 1 to 100000, default 1): number of partitions when this client
 *   creates the topic. Never change the partition count of a topic with live locks.
 * - `lock.replication_factor` (int, -1 or 1 to 1000, default -1): replication factor when this
 *   client creates the topic; -1 uses the broker's default.
 * - `lock.create_topic` (bool, default true): create a missing topic (with
 *   message.timestamp.type=LogAppendTime and cleanup.policy=delete). Accepts true/false, 1/0
 *   and the strings "1", "0", "true", "false", "on", "off", "yes", "no", "".
 * - `lock.connect_timeout` (float|int, seconds, 0.001 to 3600, default 5): longest wait for
 *   the brokers when connecting and reading the topic's metadata.
 * - `lock.operation_timeout` (float|int, seconds, 0.001 to 3600, default 10): longest wait
 *   for one write or lookup once connected (not the wait for the lock itself).
 *
 * Brokers (give at most one of the two keys; default: INI kafka_lock.brokers):
 * - `metadata.broker.list` (string): comma-separated host:port list, as in the article.
 * - `bootstrap.servers` (string): the same under its other librdkafka name.
 *
 * librdkafka properties passed through unchanged (string, int or bool; see librdkafka's
 * CONFIGURATION.md): `security.protocol`, `client.id`, `client.rack`, `socket.timeout.ms`,
 * `socket.keepalive.enable`, `socket.connection.setup.timeout.ms`, `broker.address.family`,
 * `client.dns.lookup`, `reconnect.backoff.ms`, `reconnect.backoff.max.ms`, `debug`, and the
 * TLS and SASL properties listed in the README (`ssl.ca.location`, `sasl.username`, ...).
 * Properties the lock manages itself (`acks`, `enable.idempotence`, `linger.ms`, `partitioner`,
 * `group.id`, `auto.offset.reset`, ...), those that load code or run a command
 * (`ssl.engine.location`, `ssl.engine.id`, `ssl.providers`, `sasl.kerberos.kinit.cmd`) and any
 * other key are refused with a DistributedLockConfigException.
 *
 * INI settings (PHP_INI_ALL: php.ini, `-d`, or ini_set(); read by each new instance):
 * - `kafka_lock.brokers` (default "localhost:9092"): brokers when the array gives none.
 * - `kafka_lock.ttl` (default 10): default of `lock.ttl`.
 * - `kafka_lock.max_clock_step` (default 0.5): default of `lock.max_clock_step`.
 * - `kafka_lock.partitions` (default 1): default of `lock.partitions`.
 * - `kafka_lock.replication_factor` (default -1): default of `lock.replication_factor`.
 * - `kafka_lock.create_topic` (default 1): default of `lock.create_topic`.
 * - `kafka_lock.connect_timeout` (default 5): default of `lock.connect_timeout`.
 * - `kafka_lock.operation_timeout` (default 10): default of `lock.operation_timeout`.
 * An invalid INI value makes the constructor throw a DistributedLockConfigException naming
 * the setting.
 *
 * Identifiers are non-empty UTF-8 strings of at most 1024 bytes. One identifier is one lock
 * per topic.
 *
 * Example: fencing the protected resource with the token.
 * ```php
 * $lock = new DistributedLock('resource_lock', ['metadata.broker.list' => 'localhost:9092']);
 * if ($lock->acquireLock('invoice-42', 5.0)) {
 *     try {
 *         $token = $lock->getFencingToken('invoice-42');
 *         // The storage accepts a write only from the newest holder: tokens only grow.
 *         $update = $pdo->prepare(
 *             'UPDATE invoices SET status = ?, fence = ? WHERE id = 42 AND fence <= ?'
 *         );
 *         $update->execute(['paid', $token, $token]);
 *         if ($update->rowCount() === 0) {
 *             // A later holder has written already: this process lost the lock while paused.
 *         }
 *     } finally {
 *         $lock->releaseLock('invoice-42');
 *     }
 * }
 * ```
 */
final class DistributedLock
{
    /**
     * Validates the topic name and the options, connects to the brokers (once per process and
     * client settings) and checks the topic, creating it when it is missing and
     * `lock.create_topic` allows.
     *
     * @param string $topic Name of the lock topic: 1 to 249 ASCII letters, digits, '.', '_' or
     *                      '-' (Kafka's rules), not "." or "..".
     * @param array<string, string|int|float|bool> $config Lock options (`lock.*`), the
     *                      brokers and pass-through librdkafka properties; see the class
     *                      documentation. Missing keys take their INI defaults.
     *
     * @throws DistributedLockConfigException if the topic name, an option or an INI setting is
     *                                        invalid (the message names it).
     * @throws DistributedLockConnectionException if the brokers cannot be reached within
     *                                            `lock.connect_timeout`, or do not answer within
     *                                            `lock.operation_timeout`.
     * @throws DistributedLockTopicException if the topic is missing and `lock.create_topic` is
     *                                       off, or cannot be created or used.
     */
    public function __construct(string $topic, array $config = []) {}

    /**
     * Blocks until this instance holds the lock, or until `$timeout` seconds have passed.
     *
     * Reentrant: acquiring a lock this instance already holds returns true at once and
     * counts one more level, which must be released as often. Waiters are granted the lock in
     * arrival order. The lease is renewed automatically until released.
     *
     * @param string $identifier The lock's name: non-empty UTF-8, at most 1024 bytes.
     * @param float|null $timeout Longest wait in seconds; null (the default) or INF waits
     *                            forever, 0 only takes a free lock.
     *
     * @return bool true once held; false if the time-out passed first, or if the wait was cut
     *              short so that PHP can run a pending signal handler (pcntl_async_signals) or
     *              enforce max_execution_time; the queued request is then withdrawn.
     *
     * @throws DistributedLockConfigException if the identifier is empty, longer than
     *                                        1024 bytes or not valid UTF-8, or the
     *                                        time-out is negative or NAN.
     * @throws DistributedLockConnectionException if the brokers do not answer within
     *                                            `lock.operation_timeout`.
     * @throws DistributedLockTopicException if the topic cannot carry locks (for example its
     *                                       timestamps are CreateTime; the message says how to
     *                                       fix it).
     * @throws DistributedLockLostException if this instance held the lock but its lease was
     *                                      lost; call releaseLock() (once) before acquiring again.
     */
    public function acquireLock(string $identifier, ?float $timeout = null): bool {}

    /**
     * Takes the lock only if nobody holds it or waits for it; never waits for a holder.
     *
     * Reentrant like acquireLock(): true at once, one more level, if this instance holds it.
     *
     * @param string $identifier The lock's name: non-empty UTF-8, at most 1024 bytes.
     *
     * @return bool true if this instance holds the lock now, false if someone else holds it or
     *              is queued for it.
     *
     * @throws DistributedLockConfigException if the identifier is empty, longer than
     *                                        1024 bytes or not valid UTF-8.
     * @throws DistributedLockConnectionException if the brokers do not answer within
     *                                            `lock.operation_timeout`.
     * @throws DistributedLockTopicException if the topic cannot carry locks.
     * @throws DistributedLockLostException if this instance held the lock but its lease was
     *                                      lost; call releaseLock() (once) before acquiring again.
     */
    public function tryLock(string $identifier): bool {}

    /**
     * Releases one level of this instance's hold; the lock is free for others once every
     * level is released. Releasing the last level waits (at most `lock.operation_timeout`)
     * until the broker has the release, so an acquire that anyone makes after this returns
     * is queued behind it. A hold whose lease was lost is dropped at every level at once.
     *
     * @param string $identifier The lock's name: non-empty UTF-8, at most 1024 bytes.
     *
     * @return bool true if this instance held the lock with a valid lease; false if it did not
     *              hold it (never acquired, already released, held by another instance) or its
     *              lease had been lost.
     *
     * @throws DistributedLockConfigException if the identifier is empty, longer than
     *                                        1024 bytes or not valid UTF-8.
     */
    public function releaseLock(string $identifier): bool {}

    /**
     * Whether this instance holds the lock, by the holder's own conservative view of its
     * lease (it stops trusting the lease before any other client can consider it expired).
     *
     * @param string $identifier The lock's name: non-empty UTF-8, at most 1024 bytes.
     *
     * @return bool true while this instance holds the lock with a valid lease.
     *
     * @throws DistributedLockConfigException if the identifier is empty, longer than
     *                                        1024 bytes or not valid UTF-8.
     */
    public function isAcquired(string $identifier): bool {}

    /**
     * The fencing token of the current hold: the offset of the record that requested it.
     * Tokens of one lock strictly increase from one hold to the next; pass the token to the
     * protected resource and have it refuse writes carrying a smaller token than it has seen.
     *
     * @param string $identifier The lock's name: non-empty UTF-8, at most 1024 bytes.
     *
     * @return int|null the token, or null if this instance does not hold the lock (or its lease
     *                  was lost).
     *
     * @throws DistributedLockConfigException if the identifier is empty, longer than
     *                                        1024 bytes or not valid UTF-8.
     */
    public function getFencingToken(string $identifier): ?int {}

    /**
     * Seconds left of the lease by the holder's conservative view: the holder trusts its
     * lease for a little less than `lock.ttl` (a safety margin), and the lease is renewed
     * every third of `lock.ttl`, so the value stays well above zero while the process runs
     * normally. It reaches zero only if renewals stop getting through (brokers unreachable,
     * process paused); the hold is then lost.
     *
     * @param string $identifier The lock's name: non-empty UTF-8, at most 1024 bytes.
     *
     * @return float|null seconds (less than `lock.ttl`), or null if this instance does not
     *                    hold the lock (or its lease was lost).
     *
     * @throws DistributedLockConfigException if the identifier is empty, longer than
     *                                        1024 bytes or not valid UTF-8.
     */
    public function getRemainingLifetime(string $identifier): ?float {}

    /**
     * The lock as the log has it now, whoever holds it: for operators and for "who holds
     * this?" questions. Writes one record (a tick) to the lock's partition and waits until
     * this process has read past it, so the answer includes every record written before the
     * call; it is a snapshot, already old when it returns. Returns within about
     * `lock.operation_timeout`.
     *
     * @param string $identifier The lock's name: non-empty UTF-8, at most 1024 bytes.
     *
     * @return array{mode: 'exclusive'|null, holders: list<array{owner: string, token: int, expires_in: float}>, waiting: int, limit: null, complete: bool}
     *         `mode`: 'exclusive' while someone holds the lock, null when it is free.
     *         `holders`: the holder (at most one for this class): the owner name its records
     *         carry (host/pid/...), its fencing token, and the seconds of lease left by the
     *         broker's clock at the last record read (renewed holds stay above 2/3 of
     *         `lock.ttl`). `waiting`: requests queued behind it. `limit`: null (semaphores).
     *         `complete`: false when this process joined the partition less than 70 s after
     *         its history was deleted, or a request learnt from a renewal is not checked yet:
     *         the view may then lack a live request (and shows the lock free while it is not).
     *
     * @throws DistributedLockConfigException if the identifier is empty, longer than
     *                                        1024 bytes or not valid UTF-8.
     * @throws DistributedLockConnectionException if the brokers do not answer within
     *                                            `lock.operation_timeout`.
     * @throws DistributedLockTopicException if the topic cannot be used (deleted, CreateTime).
     */
    public function inspect(string $identifier): array {}

    /**
     * Ends whoever holds the lock at its current lease: for an operator facing a stuck holder
     * (a worker hung inside its critical section, a cron job that never returns). Inspects the
     * lock like inspect(), then writes a revoke record naming the holder's fencing token; from
     * that record on, every process refuses the holder's renewals, so its hold ends when its
     * current lease does (at most `lock.ttl` of the holder later), its `isAcquired()` turns
     * false before that, and the next waiter is granted. Safe because it waits for the lease
     * the holder already has: no writer can shorten a hold below it, so it needs no proof of
     * ownership. A lock that looks free (also when inspect() would say `complete` false) gives
     * false. Every process on the topic must run a version that knows revoke records (this one
     * or later): an older holder would ignore the record and keep trusting its renewals, and
     * since anyone can write a revoke record, do not mix older builds with this one on a topic.
     *
     * @param string $identifier The lock's name: non-empty UTF-8, at most 1024 bytes.
     *
     * @return bool true if a holder was revoked, false if nobody held the lock.
     *
     * @throws DistributedLockConfigException if the identifier is empty, longer than
     *                                        1024 bytes or not valid UTF-8.
     * @throws DistributedLockConnectionException if the brokers do not answer or acknowledge
     *                                            within `lock.operation_timeout`.
     * @throws DistributedLockTopicException if the topic cannot be used (deleted, CreateTime).
     */
    public function revoke(string $identifier): bool {}
}

/**
 * Base class of every exception thrown by kafka_lock. Catch it to handle all of them.
 */
class DistributedLockException extends RuntimeException {}

/**
 * A bad option, INI setting, topic name or argument (empty or too long identifier, negative
 * or NAN time-out). The message names what is wrong; retrying does not help.
 */
class DistributedLockConfigException extends DistributedLockException {}

/**
 * The brokers could not be reached within `lock.connect_timeout`, or did not answer within
 * `lock.operation_timeout`. Usually temporary.
 */
class DistributedLockConnectionException extends DistributedLockException {}

/**
 * The topic cannot carry locks: its timestamps are CreateTime (the message gives the command
 * that switches it to LogAppendTime), it is missing while `lock.create_topic` is off, it
 * could not be created, or its partition count changed under live locks.
 */
class DistributedLockTopicException extends DistributedLockException {}

/**
 * acquireLock() or tryLock() was called again on a hold whose lease was lost (for example the
 * process was paused for longer than `lock.ttl`). Call releaseLock() (it returns false) and
 * acquire the lock anew; work done under the lost hold must be treated as unprotected.
 */
class DistributedLockLostException extends DistributedLockException {}
