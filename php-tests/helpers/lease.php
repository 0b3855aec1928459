<?php
// Shared by single-process phpt tests that check which ttl a hold got.

/**
 * Acquires $id and prints which ttl the hold got, from both sides: right after acquireLock()
 * the holder trusts its lease for a little less than the ttl (measured: 90% of it, less a round
 * trip), never more, so the remaining lifetime must lie in (ttl/2, ttl].
 */
function lease(DistributedLock $lock, string $id, float $ttl): void
{
    $ok = $lock->acquireLock($id, 5.0);
    $left = $lock->getRemainingLifetime($id);
    echo "$id: acquired ", var_export($ok, true), ', remaining ',
        is_float($left) && $left > $ttl / 2 && $left <= $ttl ? "in ($ttl/2, $ttl]" : var_export($left, true), "\n";
}

/** The "sessions in this process" counter of phpinfo(): one per distinct client settings. */
function kafka_lock_sessions(): int
{
    ob_start();
    phpinfo(INFO_MODULES);
    return preg_match('/^sessions in this process => (\d+)$/m', ob_get_clean(), $m) ? (int)$m[1] : -1;
}
