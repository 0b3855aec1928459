<?php

declare(strict_types=1);

namespace KafkaLock\Symfony\Exception;

use Symfony\Component\Semaphore\Key;

/**
 * Symfony's SemaphoreReleasingException, with the extension's exception as its previous one
 * (Symfony's constructor takes none). Same message format as Symfony's.
 */
final class SemaphoreReleasingException extends \Symfony\Component\Semaphore\Exception\SemaphoreReleasingException
{
    public function __construct(Key $key, string $message, ?\Throwable $previous = null)
    {
        \RuntimeException::__construct(sprintf('The semaphore "%s" could not be released: %s.', $key, $message), 0, $previous);
    }
}
