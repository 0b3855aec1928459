<?php

declare(strict_types=1);

namespace KafkaLock\Symfony\Tests;

use KafkaLock\Symfony\KafkaSemaphoreStore;
use Symfony\Component\Semaphore\Exception\InvalidArgumentException;
use Symfony\Component\Semaphore\Exception\RuntimeException;
use Symfony\Component\Semaphore\Exception\SemaphoreAcquiringException;
use Symfony\Component\Semaphore\Exception\SemaphoreExpiredException;
use Symfony\Component\Semaphore\Key;
use Symfony\Component\Semaphore\PersistingStoreInterface;
use Symfony\Component\Semaphore\SemaphoreFactory;
use Symfony\Component\Semaphore\Tests\Store\AbstractStoreTestCase;

/**
 * Symfony's own semaphore store test case (unchanged from symfony/symfony v5.4.53) run against
 * KafkaSemaphoreStore, then tests of what is particular to it.
 */
final class KafkaSemaphoreStoreTest extends AbstractStoreTestCase
{
    /** A topic of its own for each run of this class: Symfony's test case uses fixed names (__METHOD__). */
    private static string $topic;

    public static function setUpBeforeClass(): void
    {
        self::$topic = KafkaTestSupport::freshTopic('sf_semaphore');
    }

    protected function getStore(): PersistingStoreInterface
    {
        return new KafkaSemaphoreStore(self::$topic, KafkaTestSupport::OPTIONS);
    }

    public function testPutOffExpirationWhenSaveHasNotBeenCalled(): void
    {
        $this->markTestSkipped('Asserts the exception message of Symfony\'s Redis semaphore store, which names its '
            .'Lua script ("has expired: the script returns a positive number."). KafkaSemaphoreStore throws the same '
            .'SemaphoreExpiredException with a message of its own: see testPutOffExpirationOfAKeyThatHoldsNothing.');
    }

    // What follows is ours: KafkaSemaphoreStore's own behaviour.

    public function testPutOffExpirationOfAKeyThatHoldsNothing(): void
    {
        $store = $this->getStore();
        $key = new Key(__METHOD__, 4, 2);

        try {
            $store->putOffExpiration($key, 20);
            $this->fail('put off the expiration of a key never saved');
        } catch (SemaphoreExpiredException $e) {
            $this->assertStringStartsWith('The semaphore "'.__METHOD__.'" has expired: ', $e->getMessage());
        }

        $store->save($key, 20);
        $store->putOffExpiration($key, 20);
        $this->assertLessThanOrEqual(20.0, $key->getRemainingLifetime());
        $store->delete($key);
        $this->expectException(SemaphoreExpiredException::class);
        $store->putOffExpiration($key, 20);
    }

    public function testSemaphoreFactoryAcquireRefreshRelease(): void
    {
        $factory = new SemaphoreFactory($this->getStore());
        $semaphores = [];
        for ($i = 0; $i < 3; ++$i) {
            $semaphores[] = $factory->createSemaphore(__METHOD__, 3, 1, 30.0);
        }
        $heavy = $factory->createSemaphore(__METHOD__, 3, 2, 30.0);

        $this->assertTrue($semaphores[0]->acquire());
        $this->assertTrue($semaphores[1]->acquire());
        $this->assertFalse($heavy->acquire());
        $this->assertTrue($semaphores[2]->acquire());
        $this->assertTrue($semaphores[2]->isAcquired());
        $semaphores[2]->refresh(5.0);
        $this->assertLessThanOrEqual(5.0, $semaphores[2]->getRemainingLifetime());

        $semaphores[0]->release();
        $this->assertFalse($heavy->acquire());
        $semaphores[1]->release();
        $this->assertTrue($heavy->acquire());
        $this->assertFalse($semaphores[0]->acquire());
        $heavy->release();
        $semaphores[2]->release();
        $this->assertFalse($semaphores[2]->isAcquired());
    }

    public function testFencingTokensPerShare(): void
    {
        $store = $this->getStore();
        $key1 = new Key(__METHOD__, 2);
        $key2 = new Key(__METHOD__, 2);

        $this->assertNull($store->getFencingToken($key1));
        $store->save($key1, 10);
        $store->save($key2, 10);
        $this->assertIsInt($store->getFencingToken($key1));
        $this->assertGreaterThan($store->getFencingToken($key1), $store->getFencingToken($key2));
        $store->delete($key1);
        $store->delete($key2);
        $this->assertNull($store->getFencingToken($key2));
    }

    public function testSaveTwiceThenDeleteOnceReleases(): void
    {
        $store = $this->getStore();
        $key = new Key(__METHOD__, 1);
        $other = new Key(__METHOD__, 1);

        // The extension's DistributedSemaphore is reentrant and would count two levels; a Key holds one.
        $store->save($key, 10);
        $store->save($key, 10);
        $store->delete($key);
        $this->assertFalse($store->exists($key));
        $store->save($other, 10);
        $this->assertTrue($store->exists($other));
        $store->delete($other);
    }

    public function testShareEndsWithItsKey(): void
    {
        $store = $this->getStore();
        $key = new Key(__METHOD__, 1);
        $store->save($key, 10);
        unset($key);

        $other = new Key(__METHOD__, 1);
        $store->save($other, 10);
        $this->assertTrue($store->exists($other));
        $store->delete($other);
    }

    public function testExtensionErrorsBecomeSymfonyExceptions(): void
    {
        $cases = [
            'unknown option' => [new KafkaSemaphoreStore(self::$topic, ['no.such.option' => 1]), new Key(__METHOD__, 1), InvalidArgumentException::class, \DistributedLockConfigException::class],
            'limit above the extension\'s 1000000' => [$this->getStore(), new Key(__METHOD__, 1000001), InvalidArgumentException::class, \DistributedLockConfigException::class],
            'unreachable brokers' => [new KafkaSemaphoreStore(self::$topic, ['bootstrap.servers' => '127.0.0.1:1', 'lock.connect_timeout' => 0.5]), new Key(__METHOD__, 1), RuntimeException::class, \DistributedLockConnectionException::class],
        ];
        foreach ($cases as $case => [$store, $key, $expected, $previous]) {
            try {
                $store->save($key, 10);
                $this->fail("$case: no exception");
            } catch (\Throwable $e) {
                $this->assertInstanceOf($expected, $e, "$case: ".$e);
                $this->assertInstanceOf($previous, $e->getPrevious(), "$case: ".$e);
            }
        }

        // Shares of another limit cannot be held together: the request is refused, its cause kept.
        $store = $this->getStore();
        $held = new Key(__METHOD__, 2);
        $store->save($held, 10);
        try {
            $store->save(new Key(__METHOD__, 3), 10);
            $this->fail('shares of two limits');
        } catch (SemaphoreAcquiringException $e) {
            $this->assertInstanceOf(\DistributedLockConflictException::class, $e->getPrevious());
        }
        $store->delete($held);
    }
}
