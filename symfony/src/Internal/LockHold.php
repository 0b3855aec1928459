<?php

declare(strict_types=1);

namespace KafkaLock\Symfony\Internal;

/**
 * What one Symfony Key holds through KafkaStore: the DistributedLock instance that is this Key's
 * holder, and the mode it holds the resource in. Kept in the Key's state.
 *
 * @internal
 */
final class LockHold
{
    public const READ = 'read';
    public const WRITE = 'write';

    /** @var self::READ|self::WRITE|null */
    public ?string $mode = null;

    public function __construct(public readonly \DistributedLock $lock)
    {
    }
}
