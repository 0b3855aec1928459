<?php
// Calls of DistributedSemaphore made under strict_types=1 (for error_semaphore_args.phpt): a
// call's mode is that of the file it is written in, so they are written here.

declare(strict_types=1);

/** Label => call, each made from this strict file. */
function semaphore_strict_calls(DistributedSemaphore $sem): array
{
    return [
        'limit 3' => fn() => [$sem->tryAcquire('strict', 3), $sem->release('strict')],
        'limit 3.0' => fn() => $sem->tryAcquire('strict', 3.0),
        "limit '3'" => fn() => $sem->tryAcquire('strict', '3'),
        'limit true' => fn() => $sem->tryAcquire('strict', true),
        'weight 1.0' => fn() => $sem->acquire('strict', 3, 1.0, 1.0),
        "weight '1'" => fn() => $sem->tryAcquire('strict', 3, '1'),
        'int time-out (int to float is allowed)' => fn() => [$sem->acquire('strict', 3, 1), $sem->release('strict')],
        "time-out '1'" => fn() => $sem->acquire('strict', 3, '1'),
        'name 42' => fn() => $sem->tryAcquire(42, 3),
        'name null' => fn() => $sem->release(null),
    ];
}
