<?php
// Shared by phpt tests: which ttl a hold got, and the extension's phpinfo() counters.

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

/**
 * The session counters of the kafka_lock section of phpinfo() (plain text under the CLI, HTML
 * under php -S), name => int.
 */
function kafka_lock_info(): array
{
    ob_start();
    phpinfo(INFO_MODULES);
    $text = preg_replace('~\s*</td><td class="v">~', ' => ', ob_get_clean());
    $rows = [];
    foreach (['sessions', 'records_replayed', 'renewals_sent', 'ticks_sent', 'consumer_errors'] as $name) {
        if (preg_match('~(?:^|>)' . preg_quote($name, '~') . ' => (\d+)~m', $text, $m)) {
            $rows[$name] = (int)$m[1];
        }
    }
    return $rows;
}

/** The "sessions" gauge of phpinfo(): one per distinct client settings. */
function kafka_lock_sessions(): int
{
    return kafka_lock_info()['sessions'] ?? -1;
}
