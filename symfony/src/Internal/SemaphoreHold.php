<?php

declare(strict_types=1);

namespace KafkaLock\Symfony\Internal;

/**
 * What one Symfony semaphore Key holds through KafkaSemaphoreStore: the DistributedSemaphore
 * instance that is this Key's holder, and whether it holds a share. Kept in the Key's state.
 *
 * @internal
 */
final class SemaphoreHold
{
    public bool $held = false;

    public function __construct(public readonly \DistributedSemaphore $semaphore)
    {
    }
}
