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
 * strictly increasing per lock in the order holds are granted.
 *
 * A lock is taken exclusively (acquireLock(), tryLock()) or shared (acquireReadLock(),
 * tryReadLock()): readers hold it together, a writer holds it alone. DistributedSemaphore
 * keeps counted semaphores on the same topics, with the same options.
 *
 * Guarantees:
 * - at most one holder per lock at a time, or only readers together, across processes, hosts
 *   and instances of this class in one process;
 * - waiters are granted the lock in arrival order: the readers consecutive at the head of the
 *   queue hold together, and readers that arrive behind a waiting writer wait behind it, so
 *   readers cannot starve a writer;
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
 * `client.dns.lookup`, `broker.address.ttl`, `reconnect.backoff.ms`, `reconnect.backoff.max.ms`, `debug`, and the
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
 * per topic, and DistributedSemaphore's names share that space: a request for a name in use as
 * the other kind (a lock's identifier used as a semaphore, or the reverse) can never be held
 * with it, and throws DistributedLockConflictException instead of waiting.
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
     * Exclusive: granted once no other holder (writer or reader) is left and every request
     * ahead of it was served. Reentrant: acquiring a lock this instance already holds returns
     * true at once and counts one more level, which must be released as often. Waiters are
     * granted the lock in arrival order. The lease is renewed automatically until released.
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
     * @throws DistributedLockConflictException if this instance holds the lock shared (a hold is
     *                                          never upgraded: release it first), or the
     *                                          identifier is in use as a semaphore (the request
     *                                          is withdrawn rather than wait behind it).
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
     * @throws DistributedLockConflictException if this instance holds the lock shared (a hold is
     *                                          never upgraded: release it first), or the
     *                                          identifier is in use as a semaphore.
     */
    public function tryLock(string $identifier): bool {}

    /**
     * Blocks until this instance holds the lock shared with other readers, or until `$timeout`
     * seconds have passed.
     *
     * Readers consecutive at the head of the queue hold the lock together, each with a fencing
     * token of its own; a writer (acquireLock()) holds it alone. Requests are still served in
     * arrival order: a reader that arrives while a writer waits waits behind that writer, so
     * readers cannot starve a writer. Reentrant like acquireLock(): asking again for a read
     * lock this instance holds returns true at once (even while a writer waits) and counts one
     * more level. A hold never changes its mode: an instance holding the lock exclusively that
     * asks for it shared gets a DistributedLockConflictException.
     *
     * @param string $identifier The lock's name: non-empty UTF-8, at most 1024 bytes.
     * @param float|null $timeout Longest wait in seconds; null (the default) or INF waits
     *                            forever, 0 only takes the lock if it is granted at once.
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
     * @throws DistributedLockTopicException if the topic cannot carry locks.
     * @throws DistributedLockLostException if this instance held the lock but its lease was
     *                                      lost; call releaseLock() (once) before acquiring again.
     * @throws DistributedLockConflictException if this instance holds the lock exclusively (a
     *                                          hold is never downgraded: release it first), or
     *                                          the identifier is in use as a semaphore (the
     *                                          request is withdrawn rather than wait behind it).
     */
    public function acquireReadLock(string $identifier, ?float $timeout = null): bool {}

    /**
     * Takes the lock shared only if that is granted at once: no writer holds it or waits for
     * it; never waits.
     *
     * Reentrant like acquireReadLock(): true at once, one more level, if this instance holds
     * it shared.
     *
     * @param string $identifier The lock's name: non-empty UTF-8, at most 1024 bytes.
     *
     * @return bool true if this instance holds the lock shared now, false if a writer holds it
     *              or is queued for it.
     *
     * @throws DistributedLockConfigException if the identifier is empty, longer than
     *                                        1024 bytes or not valid UTF-8.
     * @throws DistributedLockConnectionException if the brokers do not answer within
     *                                            `lock.operation_timeout`.
     * @throws DistributedLockTopicException if the topic cannot carry locks.
     * @throws DistributedLockLostException if this instance held the lock but its lease was
     *                                      lost; call releaseLock() (once) before acquiring again.
     * @throws DistributedLockConflictException if this instance holds the lock exclusively (a
     *                                          hold is never downgraded: release it first), or
     *                                          the identifier is in use as a semaphore.
     */
    public function tryReadLock(string $identifier): bool {}

    /**
     * Releases one level of this instance's hold, exclusive or shared; the lock is free for
     * others once every level is released. Releasing the last level waits (at most `lock.operation_timeout`)
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
     * Tokens of one lock strictly increase in the order holds are granted (readers holding
     * together each have their own, and a writer's is above every earlier reader's); pass the
     * token to the protected resource and have it refuse writes carrying a smaller token than
     * it has seen.
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
     * @return array{mode: 'exclusive'|'shared'|'semaphore'|null, holders: list<array{owner: string, token: int, expires_in: float, weight?: int}>, waiting: int, limit: int|null, complete: bool}
     *         `mode`: that of the oldest request: 'exclusive' (a writer), 'shared' (readers) or
     *         'semaphore' (the name is used by DistributedSemaphore); null when it is free.
     *         `holders`: every holder, oldest first (one writer, or several readers or
     *         semaphore shares): the owner name its records carry (host/pid/...), its fencing
     *         token, the seconds of lease left by the broker's clock at the last record read
     *         (renewed holds stay above 2/3 of `lock.ttl`), and for a semaphore share its
     *         `weight`. `waiting`: requests not granted yet. `limit`: the semaphore's limit,
     *         null for locks.
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
     * Ends whoever holds the lock at its current lease (the writer, or every reader or
     * semaphore share): for an operator facing a stuck holder (a worker hung inside its
     * critical section, a cron job that never returns). Inspects the lock like inspect(), then
     * writes a revoke record naming each holder's fencing token; from that record on, every
     * process refuses those holders' renewals, so each hold ends when its current lease does
     * (at most `lock.ttl` of the holder later), its `isAcquired()` turns false before that, and
     * the next waiter is granted. Safe because it waits for the lease
     * the holder already has: no writer can shorten a hold below it, so it needs no proof of
     * ownership. A lock that looks free (also when inspect() would say `complete` false) gives
     * false. Every process on the topic must run a version that knows revoke records (this one
     * or later): an older holder would ignore the record and keep trusting its renewals, and
     * since anyone can write a revoke record, do not mix older builds with this one on a topic.
     *
     * @param string $identifier The lock's name: non-empty UTF-8, at most 1024 bytes.
     *
     * @return bool true if the holders were revoked, false if nobody held the lock.
     *
     * @throws DistributedLockConfigException if the identifier is empty, longer than
     *                                        1024 bytes or not valid UTF-8.
     * @throws DistributedLockConnectionException if the brokers do not answer or acknowledge
     *                                            within `lock.operation_timeout`.
     * @throws DistributedLockTopicException if the topic cannot be used (deleted, CreateTime).
     */
    public function revoke(string $identifier): bool {}

    /**
     * This process's lock statistics: every DistributedLock and DistributedSemaphore of the
     * process, over every session it had, since it started (a child of `pcntl_fork()` starts
     * from zero). Asks nothing of the brokers. examples/metrics.php renders it for Prometheus.
     * Throws nothing.
     *
     * @return array{pid: int, counters: array<string, int>, gauges: array<string, int>, ignored_by_reason: array<string, int>, histograms: array<string, array{buckets: array<string, int>, count: int, sum: float}>}
     *         `counters` (only grow): `acquires` (holds handed to callers; a reentrant acquire
     *         is not counted), `busy` (tryLock()/tryAcquire() refused), `timeouts`,
     *         `interrupts` (waits cut short for a signal handler), `releases` (holds ended by
     *         their holder while valid: release, destruct, end of request), `leases_lost`
     *         (holds that ended without their holder, counted when it lets go of them),
     *         `renewals_sent`, `renew_failures`, `revokes_sent`, `releases_resent`,
     *         `ticks_sent`, `records_replayed`, `records_ignored`, `records_bounded` (refused
     *         to bound memory: a flood), `joins` (partitions joined), `consumer_errors`,
     *         `sessions_started`. `gauges` (now): `sessions`, `partitions_followed`.
     *         `ignored_by_reason`: records that changed nothing, by reason (e.g.
     *         `release_bad_secret` for a forged release), present once counted.
     *         `histograms`, in seconds: `acquire_wait_seconds` (acquire call to hold),
     *         `hand_off_seconds` (for a request that waited behind another: reading the record
     *         that ended the hold in front to the waiter holding), `hold_seconds` (hold to
     *         release); `buckets` are cumulative counts keyed by their upper bound as a string
     *         ('0.001' ... '1.0' ... '60.0', '+Inf'; always strings), as Prometheus' `le` label.
     */
    public static function stats(): array {}
}

/**
 * A fair, fenced, lease-based counted semaphore whose state lives in a Kafka topic: at most
 * `$limit` weight of a name is held at once, across processes, hosts and instances.
 *
 * It works as DistributedLock does, on the same topics: each request is a record in the
 * name's partition, every process replays it, shares are granted in the order of their
 * requests (FIFO) and each carries a fencing token of its own. A request that does not fit
 * waits, and so does every request behind it: a light request does not overtake a heavy one
 * waiting ahead of it. Leases are renewed automatically; a killed holder's share passes on
 * about one `lock.ttl` later; shares are released when the object is destroyed and at the end
 * of every request; after `pcntl_fork()` the child never renews or releases the parent's.
 *
 * Every process must give the same limit for a name: requests of two limits never hold
 * together, and the later one throws DistributedLockConflictException instead of waiting
 * behind the other (as does a semaphore request for a name in use as a DistributedLock's
 * identifier, and the reverse: both share one space of names per topic).
 *
 * The constructor takes the same configuration array, options and INI defaults as
 * DistributedLock's (see there). Names are non-empty UTF-8 strings of at most 1024 bytes.
 *
 * Example: at most 3 exports at once, across every host; a full export counts double.
 * ```php
 * $exports = new DistributedSemaphore('resource_lock');
 * if ($exports->acquire('exports', 3, 60.0, $full ? 2 : 1)) {
 *     try {
 *         run_export($exports->getFencingToken('exports'));
 *     } finally {
 *         $exports->release('exports');
 *     }
 * }
 * ```
 */
final class DistributedSemaphore
{
    /**
     * Validates the topic name and the options, connects to the brokers (once per process and
     * client settings) and checks the topic, creating it when it is missing and
     * `lock.create_topic` allows; exactly as DistributedLock's constructor.
     *
     * @param string $topic Name of the lock topic: 1 to 249 ASCII letters, digits, '.', '_' or
     *                      '-' (Kafka's rules), not "." or "..".
     * @param array<string, string|int|float|bool> $config Lock options (`lock.*`), the
     *                      brokers and pass-through librdkafka properties; see DistributedLock.
     *                      Missing keys take their INI defaults.
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
     * Blocks until this instance holds `$weight` of semaphore `$name`, of which at most `$limit`
     * is held at once, or until `$timeout` seconds have passed.
     *
     * Granted in arrival order once the share fits beside the shares held. Reentrant: asking
     * again with the same limit and weight while this instance holds a share returns true at
     * once and counts one more level, which must be released as often; another limit or weight
     * throws DistributedLockConflictException (release first).
     *
     * @param string $name The semaphore's name: non-empty UTF-8, at most 1024 bytes.
     * @param int $limit The most weight held at once: 1 to 1000000, the same in every process.
     * @param float|null $timeout Longest wait in seconds; null (the default) or INF waits
     *                            forever, 0 only takes a share that is granted at once.
     * @param int $weight How much of the limit this share takes: 1 (the default) to `$limit`.
     *
     * @return bool true once held; false if the time-out passed first, or if the wait was cut
     *              short so that PHP can run a pending signal handler (pcntl_async_signals) or
     *              enforce max_execution_time; the queued request is then withdrawn.
     *
     * @throws DistributedLockConfigException if the name is empty, longer than 1024 bytes or
     *                                        not valid UTF-8, the limit or weight is out of
     *                                        range, or the time-out is negative or NAN.
     * @throws DistributedLockConnectionException if the brokers do not answer within
     *                                            `lock.operation_timeout`.
     * @throws DistributedLockTopicException if the topic cannot carry locks.
     * @throws DistributedLockLostException if this instance held a share but its lease was lost;
     *                                      call release() (once) before acquiring again.
     * @throws DistributedLockConflictException if this instance holds a share of another limit or
     *                                          weight, or the name is in use with another limit
     *                                          or as a lock (the request is withdrawn rather
     *                                          than wait behind it).
     */
    public function acquire(string $name, int $limit, ?float $timeout = null, int $weight = 1): bool {}

    /**
     * Takes `$weight` of semaphore `$name` only if that is granted at once: the share fits
     * beside the shares held and nobody waits ahead of it; never waits.
     *
     * Reentrant like acquire(): true at once, one more level, if this instance holds a share
     * of the same limit and weight.
     *
     * @param string $name The semaphore's name: non-empty UTF-8, at most 1024 bytes.
     * @param int $limit The most weight held at once: 1 to 1000000, the same in every process.
     * @param int $weight How much of the limit this share takes: 1 (the default) to `$limit`.
     *
     * @return bool true if this instance holds the share now, false if it does not fit or
     *              someone waits ahead.
     *
     * @throws DistributedLockConfigException if the name is empty, longer than 1024 bytes or
     *                                        not valid UTF-8, or the limit or weight is out of
     *                                        range.
     * @throws DistributedLockConnectionException if the brokers do not answer within
     *                                            `lock.operation_timeout`.
     * @throws DistributedLockTopicException if the topic cannot carry locks.
     * @throws DistributedLockLostException if this instance held a share but its lease was lost;
     *                                      call release() (once) before acquiring again.
     * @throws DistributedLockConflictException if this instance holds a share of another limit or
     *                                          weight, or the name is in use with another limit
     *                                          or as a lock.
     */
    public function tryAcquire(string $name, int $limit, int $weight = 1): bool {}

    /**
     * Releases one level of this instance's share; the weight is free for others once every
     * level is released. Releasing the last level waits (at most `lock.operation_timeout`)
     * until the broker has the release, as DistributedLock::releaseLock() does.
     *
     * @param string $name The semaphore's name: non-empty UTF-8, at most 1024 bytes.
     *
     * @return bool true if this instance held a share with a valid lease; false if it held none
     *              (never acquired, already released, held by another instance) or its lease
     *              had been lost.
     *
     * @throws DistributedLockConfigException if the name is empty, longer than 1024 bytes or
     *                                        not valid UTF-8.
     */
    public function release(string $name): bool {}

    /**
     * Whether this instance holds a share, by the holder's own conservative view of its lease.
     *
     * @param string $name The semaphore's name: non-empty UTF-8, at most 1024 bytes.
     *
     * @return bool true while this instance holds a share with a valid lease.
     *
     * @throws DistributedLockConfigException if the name is empty, longer than 1024 bytes or
     *                                        not valid UTF-8.
     */
    public function isAcquired(string $name): bool {}

    /**
     * The fencing token of this instance's share: the offset of the record that requested it.
     * Every share has its own; tokens of one name increase in the order shares are granted.
     *
     * @param string $name The semaphore's name: non-empty UTF-8, at most 1024 bytes.
     *
     * @return int|null the token, or null if this instance holds no share (or its lease was
     *                  lost).
     *
     * @throws DistributedLockConfigException if the name is empty, longer than 1024 bytes or
     *                                        not valid UTF-8.
     */
    public function getFencingToken(string $name): ?int {}

    /**
     * Seconds left of the share's lease by the holder's conservative view (renewed
     * automatically), as DistributedLock::getRemainingLifetime().
     *
     * @param string $name The semaphore's name: non-empty UTF-8, at most 1024 bytes.
     *
     * @return float|null seconds (less than `lock.ttl`), or null if this instance holds no
     *                    share (or its lease was lost).
     *
     * @throws DistributedLockConfigException if the name is empty, longer than 1024 bytes or
     *                                        not valid UTF-8.
     */
    public function getRemainingLifetime(string $name): ?float {}

    /**
     * The semaphore as the log has it now, whoever holds it, as DistributedLock::inspect()
     * answers for a lock (one tick record written and read past; a snapshot).
     *
     * @param string $name The semaphore's name: non-empty UTF-8, at most 1024 bytes.
     *
     * @return array{mode: 'exclusive'|'shared'|'semaphore'|null, holders: list<array{owner: string, token: int, expires_in: float, weight?: int}>, waiting: int, limit: int|null, complete: bool}
     *         `mode`: 'semaphore' while shares are held or wait (or the mode of the lock
     *         using the name), null when it is free. `holders`: every share held, oldest
     *         first, with its owner, fencing token, seconds of lease left and `weight`.
     *         `waiting`: requests not granted yet. `limit`: the semaphore's limit.
     *         `complete`: as for DistributedLock::inspect().
     *
     * @throws DistributedLockConfigException if the name is empty, longer than 1024 bytes or
     *                                        not valid UTF-8.
     * @throws DistributedLockConnectionException if the brokers do not answer within
     *                                            `lock.operation_timeout`.
     * @throws DistributedLockTopicException if the topic cannot be used (deleted, CreateTime).
     */
    public function inspect(string $name): array {}
}

/**
 * Base class of every exception thrown by kafka_lock. Catch it to handle all of them.
 */
class DistributedLockException extends RuntimeException {}

/**
 * A bad option, INI setting, topic name or argument (empty or too long identifier, negative
 * or NAN time-out, a semaphore limit or weight out of range). The message names what is wrong;
 * retrying does not help.
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
 * acquireLock() or tryLock() (or another acquire) was called again on a hold whose lease was
 * lost (for example the process was paused for longer than `lock.ttl`). Call releaseLock() (it
 * returns false) and acquire the lock anew; work done under the lost hold must be treated as
 * unprotected.
 */
class DistributedLockLostException extends DistributedLockException {}

/**
 * The name is in use in a way this request can never hold with, so waiting would be forever:
 * the request was queued behind one of another kind (a lock's identifier used as a semaphore,
 * or the reverse) or a semaphore request of another limit, and was withdrawn; or this instance
 * already holds the name in another mode (a read lock asked for exclusively or the reverse, a
 * semaphore share asked for with another limit or weight), which is never upgraded or
 * downgraded: two holders upgrading at once would wait for each other forever. Release first;
 * use one kind of lock per name, and one limit per semaphore.
 */
class DistributedLockConflictException extends DistributedLockException {}
