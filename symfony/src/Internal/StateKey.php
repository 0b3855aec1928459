<?php

declare(strict_types=1);

namespace KafkaLock\Symfony\Internal;

/**
 * The name under which a store keeps its hold in a Key's state. Two stores of one class with the
 * same topic and options are one lock space (a Key used through either is the same holder);
 * other topics or clusters get a state of their own.
 *
 * @internal
 */
final class StateKey
{
    /**
     * @param array<string, string|int|float|bool> $config
     */
    public static function of(string $storeClass, string $topic, array $config): string
    {
        ksort($config);

        return $storeClass.':'.hash('xxh128', serialize([$topic, $config]));
    }
}
