<?php

declare(strict_types=1);

namespace KafkaLock\Symfony;

use KafkaLock\Symfony\Exception\SemaphoreAcquiringException;
use KafkaLock\Symfony\Exception\SemaphoreReleasingException;
use KafkaLock\Symfony\Internal\SemaphoreHold;
use KafkaLock\Symfony\Internal\StateKey;
use Symfony\Component\Semaphore\Exception\InvalidArgumentException;
use Symfony\Component\Semaphore\Exception\RuntimeException;
use Symfony\Component\Semaphore\Exception\SemaphoreExpiredException;
use Symfony\Component\Semaphore\Key;
use Symfony\Component\Semaphore\PersistingStoreInterface;

/**
 * A symfony/semaphore store on the kafka_lock extension's DistributedSemaphore: at most
 * `$key->getLimit()` weight of a resource held at once, each Key taking `$key->getWeight()`,
 * granted in arrival order, each share with a fencing token of its own.
 *
 * As with KafkaStore, each Key gets a DistributedSemaphore instance of its own (kept in the Key's
 * state), so two Keys of one resource are two shares, also within one process; the Kafka lease is
 * renewed by the extension while the process lives, and a share ends with delete(), with its Key,
 * at the end of the request, or about one `lock.ttl` after the process dies. The `$ttlInSecond`
 * Symfony passes is recorded in the Key, not in Kafka. Every process must give the same limit
 * for a resource, and a resource name is either a lock or a semaphore on one topic.
 */
final class KafkaSemaphoreStore implements PersistingStoreInterface
{
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
     * Takes the Key's share if it is granted at once: it fits beside the shares held and nobody
     * waits ahead of it.
     */
    public function save(Key $key, float $ttlInSecond): void
    {
        if (0 > $ttlInSecond) {
            throw new InvalidArgumentException("The TTL should be greater than 0, '$ttlInSecond' given.");
        }
        $hold = $this->hold($key);
        $name = (string) $key;
        if ($hold->held) {
            if ($hold->semaphore->isAcquired($name)) {
                // Saving twice is allowed; the extension's reentrancy would count a second level.
                return;
            }
            // The lease was lost: release (once) before acquiring again.
            $hold->semaphore->release($name);
            $hold->held = false;
        }

        try {
            $granted = $hold->semaphore->tryAcquire($name, $key->getLimit(), $key->getWeight());
        } catch (\DistributedLockConfigException $e) {
            throw new InvalidArgumentException(sprintf('Invalid semaphore "%s" (limit %d, weight %d): %s', $key, $key->getLimit(), $key->getWeight(), $e->getMessage()), 0, $e);
        } catch (\DistributedLockConflictException $e) {
            throw new SemaphoreAcquiringException($key, 'the name is in use with another limit or as a lock', $e);
        } catch (\DistributedLockException $e) {
            throw new RuntimeException(sprintf('Failed to acquire the "%s" semaphore: %s', $key, $e->getMessage()), 0, $e);
        }
        if (!$granted) {
            throw new SemaphoreAcquiringException($key, 'the share does not fit beside the shares held, or others wait ahead of it');
        }
        $hold->held = true;
    }

    /**
     * Releases this Key's share; a Key that holds none is left alone.
     */
    public function delete(Key $key): void
    {
        if (!$key->hasState($this->stateKey)) {
            return;
        }
        $hold = $key->getState($this->stateKey);
        if (!$hold->held) {
            return;
        }

        try {
            // false: the lease had been lost; the share is dropped all the same.
            $hold->semaphore->release((string) $key);
        } catch (\DistributedLockException $e) {
            throw new SemaphoreReleasingException($key, $e->getMessage(), $e);
        }
        $hold->held = false;
    }

    /**
     * Whether this Key holds a share with a valid lease, by the holder's own conservative view;
     * asks nothing of the brokers.
     */
    public function exists(Key $key): bool
    {
        if (!$key->hasState($this->stateKey)) {
            return false;
        }
        $hold = $key->getState($this->stateKey);

        try {
            return $hold->held && $hold->semaphore->isAcquired((string) $key);
        } catch (\DistributedLockException $e) {
            throw new InvalidArgumentException(sprintf('Invalid semaphore name "%s": %s', $key, $e->getMessage()), 0, $e);
        }
    }

    /**
     * Checks that this Key still holds its share and records `$ttlInSecond` as the Key's
     * lifetime. The Kafka lease needs no extension: the extension renews it while the process
     * lives.
     *
     * @throws SemaphoreExpiredException if this Key holds no share (never saved, deleted, or its
     *                                   lease was lost)
     */
    public function putOffExpiration(Key $key, float $ttlInSecond): void
    {
        if (0 > $ttlInSecond) {
            throw new InvalidArgumentException("The TTL should be greater than 0, '$ttlInSecond' given.");
        }
        if (!$this->exists($key)) {
            throw new SemaphoreExpiredException($key, 'this key holds no share of it (never acquired, released, or its lease was lost)');
        }
        $key->reduceLifetime($ttlInSecond);
    }

    /**
     * The fencing token of this Key's share (each share has its own, increasing per semaphore in
     * the order shares are granted; see DistributedSemaphore::getFencingToken()), or null if the
     * Key holds none. SemaphoreFactory::createSemaphoreFromKey($key) makes a Semaphore on a Key
     * you keep.
     */
    public function getFencingToken(Key $key): ?int
    {
        if (!$this->exists($key)) {
            return null;
        }

        return $key->getState($this->stateKey)->semaphore->getFencingToken((string) $key);
    }

    private function hold(Key $key): SemaphoreHold
    {
        if ($key->hasState($this->stateKey)) {
            return $key->getState($this->stateKey);
        }

        try {
            $hold = new SemaphoreHold(new \DistributedSemaphore($this->topic, $this->config));
        } catch (\DistributedLockConfigException $e) {
            throw new InvalidArgumentException(sprintf('Invalid kafka_lock settings for topic "%s": %s', $this->topic, $e->getMessage()), 0, $e);
        } catch (\DistributedLockException $e) {
            throw new RuntimeException(sprintf('Failed to acquire the "%s" semaphore: %s', $key, $e->getMessage()), 0, $e);
        }
        $key->setState($this->stateKey, $hold);

        return $hold;
    }
}
