<?php

declare(strict_types=1);

namespace KafkaLock\Symfony\Tests;

use PHPUnit\Framework\Assert;

/**
 * Helpers of our test classes: topics, forked processes, and waiting for a condition.
 */
final class KafkaTestSupport
{
    /** Options of every store under test; the brokers come from kafka_lock.brokers (default localhost:9092). */
    public const OPTIONS = [];

    public const SKIP_EXPIRY = 'KafkaStore does not drop a hold when the Key\'s Symfony TTL passes: the extension '
        .'renews the Kafka lease while the process lives, and a hold ends with delete(), with its Key or with the '
        .'process. putOffExpiration() records the TTL in the Key only, so exists() stays true after it (see symfony/README.md).';

    public static function freshTopic(string $prefix): string
    {
        return $prefix.'_'.bin2hex(random_bytes(6));
    }

    /**
     * Runs $work in a forked child, which exits 0 when it returns and 1 when it throws.
     */
    public static function fork(callable $work): int
    {
        $pid = pcntl_fork();
        if (-1 === $pid) {
            Assert::fail('pcntl_fork() failed');
        }
        if (0 !== $pid) {
            return $pid;
        }
        $status = 1;
        try {
            $work();
            $status = 0;
        } catch (\Throwable $e) {
            fwrite(\STDERR, "child $e\n");
        } finally {
            exit($status);
        }
    }

    /**
     * Waits for a forked child and gives its exit status.
     */
    public static function finish(int $pid): int
    {
        if (pcntl_waitpid($pid, $status) !== $pid) {
            Assert::fail("pcntl_waitpid($pid) failed");
        }

        return pcntl_wifexited($status) ? pcntl_wexitstatus($status) : 128 + pcntl_wtermsig($status);
    }

    /**
     * Waits until $condition holds, failing after $timeout seconds.
     */
    public static function await(callable $condition, float $timeout, string $what): void
    {
        $deadline = microtime(true) + $timeout;
        while (!$condition()) {
            if (microtime(true) > $deadline) {
                Assert::fail("timed out after {$timeout} s waiting for $what");
            }
            usleep(10000);
        }
    }

    /**
     * Waits until the log shows $count requests waiting for the lock or semaphore $name.
     */
    public static function awaitWaiting(string $topic, string $name, int $count): void
    {
        $observer = new \DistributedLock($topic, self::OPTIONS);
        self::await(static fn (): bool => $observer->inspect($name)['waiting'] >= $count, 20.0, "$count waiting request(s) for '$name'");
    }
}
