<?php

declare(strict_types=1);

namespace KafkaLock\Symfony;

use KafkaLock\Symfony\Internal\LockHold;
use KafkaLock\Symfony\Internal\StateKey;
use Symfony\Component\Lock\BlockingSharedLockStoreInterface;
use Symfony\Component\Lock\BlockingStoreInterface;
use Symfony\Component\Lock\Exception\InvalidArgumentException;
use Symfony\Component\Lock\Exception\LockAcquiringException;
use Symfony\Component\Lock\Exception\LockConflictedException;
use Symfony\Component\Lock\Exception\LockExpiredException;
use Symfony\Component\Lock\Exception\LockReleasingException;
use Symfony\Component\Lock\Key;
use Symfony\Component\Lock\SharedLockStoreInterface;

/**
 * A symfony/lock store on the kafka_lock extension: exclusive and shared locks, blocking and
 * non-blocking, granted in arrival order, fenced, held as long as their Key and the process live.
 *
 * Each Key gets a DistributedLock instance of its own, kept in the Key's state: two Keys of one
 * resource are two holders and exclude each other, also within one process. The Kafka lease is
 * renewed by the extension while the process lives; putOffExpiration() checks the hold is still
 * valid and records the Symfony TTL in the Key, it does not shorten the hold. A hold ends with
 * delete(), with its Key (the DistributedLock is released when destroyed), at the end of the
 * request, or about one `lock.ttl` after the process dies. Keys are therefore bound to the
 * process that took them and cannot be serialized.
 *
 * Nothing is sent to Kafka before the first lock is taken: the constructor only keeps the topic
 * and the options, which the extension validates on first use (a bad option throws
 * InvalidArgumentException from save()).
 */
final class KafkaStore implements BlockingStoreInterface, SharedLockStoreInterface, BlockingSharedLockStoreInterface
{
    /** The refusal of a blocking acquire that gave control back to PHP (a format naming the Key). */
    private const INTERRUPTED = 'The wait for the lock "%s" was interrupted (a signal handler or max_execution_time).';

    private readonly string $stateKey;

    /**
     * @param string                                $topic  the lock topic (created when missing, unless `lock.create_topic` is off)
     * @param array<string, string|int|float|bool> $config the extension's options: `bootstrap.servers`, `lock.ttl`, TLS and SASL, ...
     */
    public function __construct(
        private readonly string $topic,
        private readonly array $config = [],
    ) {
        $this->stateKey = StateKey::of(self::class, $topic, $config);
    }

    /**
     * Takes the lock exclusively if it is granted at once (nobody holds it or waits for it).
     * A Key holding it shared is promoted when it is the only holder and nobody waits.
     */
    public function save(Key $key): void
    {
        $this->rejectExpired($key);
        $hold = $this->hold($key);
        $this->forgetLostHold($key, $hold);
        $id = (string) $key;

        if (LockHold::WRITE === $hold->mode) {
            // Saving twice is allowed; the extension's reentrancy would count a second level.
        } elseif (LockHold::READ === $hold->mode) {
            $this->promote($key, $hold);
        } elseif ($this->acquiring($key, $hold, static fn (): bool => $hold->lock->tryLock($id))) {
            $hold->mode = LockHold::WRITE;
        } else {
            throw new LockConflictedException(sprintf('The lock "%s" is held or awaited by someone else.', $key));
        }

        $this->rejectExpired($key);
    }

    /**
     * Waits (in arrival order, without a time limit) until the lock is held exclusively.
     * A Key holding it shared releases that hold and queues for the exclusive one.
     *
     * @throws LockConflictedException when the wait was cut short so that a pcntl signal handler
     *                                 could run (pcntl_async_signals), or the name is in use
     *                                 as a semaphore
     */
    public function waitAndSave(Key $key): void
    {
        $take = static fn (\DistributedLock $lock, string $id): bool => $lock->acquireLock($id, null);
        $this->holdAs($key, LockHold::WRITE, $take, self::INTERRUPTED);
    }

    /**
     * Takes the lock shared if that is granted at once: no writer holds it or waits for it.
     * A Key holding it exclusively releases that hold and asks for a shared one.
     */
    public function saveRead(Key $key): void
    {
        $take = static fn (\DistributedLock $lock, string $id): bool => $lock->tryReadLock($id);
        $this->holdAs($key, LockHold::READ, $take, 'The lock "%s" is held or awaited by a writer.');
    }

    /**
     * Waits (in arrival order, without a time limit) until the lock is held shared.
     * A Key holding it exclusively releases that hold and queues for a shared one.
     *
     * @throws LockConflictedException when the wait was cut short so that a pcntl signal handler
     *                                 could run (pcntl_async_signals), or the name is in use
     *                                 as a semaphore
     */
    public function waitAndSaveRead(Key $key): void
    {
        $take = static fn (\DistributedLock $lock, string $id): bool => $lock->acquireReadLock($id, null);
        $this->holdAs($key, LockHold::READ, $take, self::INTERRUPTED);
    }

    /**
     * Releases what this Key holds; a Key that holds nothing is left alone.
     */
    public function delete(Key $key): void
    {
        if (!$key->hasState($this->stateKey)) {
            return;
        }
        $hold = $key->getState($this->stateKey);
        if (null !== $hold->mode) {
            $this->release($key, $hold);
        }
    }

    /**
     * Whether this Key holds the lock (exclusively or shared) with a valid lease, by the holder's
     * own conservative view; asks nothing of the brokers.
     */
    public function exists(Key $key): bool
    {
        if (!$key->hasState($this->stateKey)) {
            return false;
        }
        $hold = $key->getState($this->stateKey);
        if (null === $hold->mode) {
            return false;
        }

        try {
            return $hold->lock->isAcquired((string) $key);
        } catch (\DistributedLockException $e) {
            throw new InvalidArgumentException(sprintf('Invalid lock name "%s": %s', $key, $e->getMessage()), 0, $e);
        }
    }

    /**
     * Checks that this Key still holds the lock and records `$ttl` as the Key's lifetime. The
     * Kafka lease needs no extension: the extension renews it while the process lives.
     *
     * @throws LockConflictedException if this Key does not hold the lock (never saved, deleted, or
     *                                 its lease was lost)
     * @throws LockExpiredException    if `$ttl` has already passed (the lock is then released)
     */
    public function putOffExpiration(Key $key, float $ttl): void
    {
        if (!$this->exists($key)) {
            throw new LockConflictedException(sprintf('The lock "%s" is not held by this key (never acquired, released, or its lease was lost).', $key));
        }
        $key->reduceLifetime($ttl);
        $this->rejectExpired($key);
    }

    /**
     * The fencing token of this Key's hold (increasing per lock in the order holds are granted;
     * see DistributedLock::getFencingToken()), or null if the Key holds nothing. Pass it to the
     * resource the lock protects and have it refuse tokens lower than the highest it has seen.
     *
     * Symfony's Lock does not expose its Key: create the Key yourself and the lock with
     * LockFactory::createLockFromKey($key).
     */
    public function getFencingToken(Key $key): ?int
    {
        if (!$this->exists($key)) {
            return null;
        }

        return $key->getState($this->stateKey)->lock->getFencingToken((string) $key);
    }

    private function hold(Key $key): LockHold
    {
        if ($key->hasState($this->stateKey)) {
            return $key->getState($this->stateKey);
        }

        try {
            $hold = new LockHold(new \DistributedLock($this->topic, $this->config));
        } catch (\DistributedLockConfigException $e) {
            throw new InvalidArgumentException(sprintf('Invalid kafka_lock settings for topic "%s": %s', $this->topic, $e->getMessage()), 0, $e);
        } catch (\DistributedLockException $e) {
            throw new LockAcquiringException(sprintf('Failed to acquire the "%s" lock: %s', $key, $e->getMessage()), 0, $e);
        }
        // The hold belongs to this process's DistributedLock instance: a copy of the Key in
        // another process would hold nothing (FlockStore marks its Keys the same way).
        $key->markUnserializable();
        $key->setState($this->stateKey, $hold);

        return $hold;
    }

    /**
     * Makes this Key hold the lock in `$mode` (LockHold::READ or WRITE) by `$take`, releasing a
     * hold in the other mode first (the extension never converts a hold); a Key already holding
     * it so keeps it. Throws LockConflictedException with `$refused` (a format naming the Key)
     * when `$take` says no.
     *
     * @param callable(\DistributedLock, string): bool $take
     */
    private function holdAs(Key $key, string $mode, callable $take, string $refused): void
    {
        $this->rejectExpired($key);
        $hold = $this->hold($key);
        $this->forgetLostHold($key, $hold);

        if ($mode !== $hold->mode) {
            if (null !== $hold->mode) {
                $this->release($key, $hold);
            }
            $id = (string) $key;
            if (!$this->acquiring($key, $hold, static fn (): bool => $take($hold->lock, $id))) {
                throw new LockConflictedException(sprintf($refused, $key));
            }
            $hold->mode = $mode;
        }

        $this->rejectExpired($key);
    }

    /**
     * A hold whose lease was lost must be released (once) before the instance takes it again.
     */
    private function forgetLostHold(Key $key, LockHold $hold): void
    {
        if (null !== $hold->mode && !$hold->lock->isAcquired((string) $key)) {
            $hold->lock->releaseLock((string) $key);
            $hold->mode = null;
        }
    }

    /**
     * A Key holding the lock shared asks for it exclusively. The extension never upgrades a hold,
     * so this releases the shared hold and takes the exclusive one, which only makes sense when
     * this Key is the only holder and nobody waits: otherwise it is refused and the shared hold
     * kept. Should a request arrive between the release and the exclusive request, the shared
     * hold is asked for again; if that fails too, the Key holds nothing.
     */
    private function promote(Key $key, LockHold $hold): void
    {
        $id = (string) $key;
        $token = $hold->lock->getFencingToken($id);
        $view = $this->acquiring($key, $hold, static fn (): array => $hold->lock->inspect($id));
        $alone = 0 === $view['waiting'] && 1 === \count($view['holders']) && $token === $view['holders'][0]['token'];
        if (!$alone) {
            throw new LockConflictedException(sprintf('The lock "%s" is also held or awaited by others; it stays held shared by this key.', $key));
        }

        $this->release($key, $hold);
        if ($this->acquiring($key, $hold, static fn (): bool => $hold->lock->tryLock($id))) {
            $hold->mode = LockHold::WRITE;

            return;
        }
        if ($this->acquiring($key, $hold, static fn (): bool => $hold->lock->tryReadLock($id))) {
            $hold->mode = LockHold::READ;

            throw new LockConflictedException(sprintf('The lock "%s" was asked for by someone else while it was promoted; it stays held shared by this key.', $key));
        }

        throw new LockConflictedException(sprintf('The lock "%s" was taken by someone else while it was promoted; this key no longer holds it.', $key));
    }

    private function release(Key $key, LockHold $hold): void
    {
        try {
            // false: the lease had been lost; the hold is dropped all the same.
            $hold->lock->releaseLock((string) $key);
        } catch (\DistributedLockException $e) {
            throw new LockReleasingException(sprintf('Failed to release the "%s" lock: %s', $key, $e->getMessage()), 0, $e);
        }
        $hold->mode = null;
    }

    /**
     * Runs one call that asks the brokers for the lock and maps the extension's exceptions.
     *
     * @template T
     *
     * @param callable(): T $call
     *
     * @return T
     */
    private function acquiring(Key $key, LockHold $hold, callable $call): mixed
    {
        try {
            return $call();
        } catch (\DistributedLockConfigException $e) {
            throw new InvalidArgumentException(sprintf('Invalid lock "%s": %s', $key, $e->getMessage()), 0, $e);
        } catch (\DistributedLockConflictException $e) {
            throw new LockConflictedException(sprintf('The lock "%s" is in use in a way this request cannot be held with: %s', $key, $e->getMessage()), 0, $e);
        } catch (\DistributedLockLostException $e) {
            $hold->lock->releaseLock((string) $key);
            $hold->mode = null;

            throw new LockConflictedException(sprintf('The lease of the "%s" lock was lost: %s', $key, $e->getMessage()), 0, $e);
        } catch (\DistributedLockException $e) {
            throw new LockAcquiringException(sprintf('Failed to acquire the "%s" lock: %s', $key, $e->getMessage()), 0, $e);
        }
    }

    /**
     * As Symfony's own stores do (ExpiringStoreTrait): a Key whose lifetime is over holds
     * nothing.
     */
    private function rejectExpired(Key $key): void
    {
        if (!$key->isExpired()) {
            return;
        }
        try {
            $this->delete($key);
        } catch (\Exception) {
            // The expiry is the error to report.
        }

        throw new LockExpiredException(sprintf('Failed to store the "%s" lock.', $key));
    }
}
