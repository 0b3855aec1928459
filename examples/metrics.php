<?php
// DistributedLock::stats() in Prometheus' text exposition format (version 0.0.4), as a page to
// scrape or a file for node_exporter's textfile collector.
//
//   php -d extension=target/release/libkafka_lock.so -S 127.0.0.1:9464 examples/metrics.php
//       GET /metrics   this process's lock metrics
//       GET /work      takes lock 'demo' on topic 'metrics_demo' for 10 ms (something to count)
//   php -d extension=target/release/libkafka_lock.so examples/metrics.php > /var/lib/node_exporter/php_worker.prom
//
// The figures are per process: under php-fpm each worker has its own and a scrape shows the
// worker that served it. Label each exposition with what identifies the process where that
// matters (the `instance` of a textfile, a `pid` label below), or sum in PromQL.

/** The exposition of $stats (DistributedLock::stats()); $labels are added to every sample. */
function kafka_lock_prometheus(array $stats, array $labels = []): string
{
    $label = function (array $extra = []) use ($labels): string {
        $all = $extra + $labels; // 'le' and 'reason' are the exposition's own
        if ($all === []) {
            return '';
        }
        $parts = [];
        foreach ($all as $name => $value) {
            $escaped = str_replace(['\\', '"', "\n"], ['\\\\', '\\"', '\\n'], (string)$value);
            $parts[] = "$name=\"$escaped\"";
        }
        return '{' . implode(',', $parts) . '}';
    };
    $out = [];
    foreach ($stats['counters'] as $name => $value) {
        $out[] = "# TYPE kafka_lock_{$name}_total counter";
        $out[] = "kafka_lock_{$name}_total{$label()} $value";
    }
    $out[] = '# HELP kafka_lock_records_ignored_by_reason_total Lock records that changed nothing, by reason.';
    $out[] = '# TYPE kafka_lock_records_ignored_by_reason_total counter';
    foreach ($stats['ignored_by_reason'] as $reason => $value) {
        $out[] = "kafka_lock_records_ignored_by_reason_total{$label(['reason' => $reason])} $value";
    }
    foreach ($stats['gauges'] as $name => $value) {
        $out[] = "# TYPE kafka_lock_$name gauge";
        $out[] = "kafka_lock_$name{$label()} $value";
    }
    foreach ($stats['histograms'] as $name => $histogram) {
        $out[] = "# TYPE kafka_lock_$name histogram";
        foreach ($histogram['buckets'] as $le => $count) {
            $out[] = "kafka_lock_{$name}_bucket{$label(['le' => $le])} $count";
        }
        $out[] = "kafka_lock_{$name}_sum{$label()} " . sprintf('%.9F', $histogram['sum']);
        $out[] = "kafka_lock_{$name}_count{$label()} {$histogram['count']}";
    }
    return implode("\n", $out) . "\n";
}

if (PHP_SAPI === 'cli') {
    echo kafka_lock_prometheus(DistributedLock::stats());
    return;
}

$path = parse_url($_SERVER['REQUEST_URI'] ?? '/', PHP_URL_PATH);
if ($path === '/metrics') {
    header('Content-Type: text/plain; version=0.0.4; charset=utf-8');
    echo kafka_lock_prometheus(DistributedLock::stats(), ['pid' => getmypid()]);
} elseif ($path === '/work') {
    $lock = new DistributedLock('metrics_demo');
    if ($lock->acquireLock('demo', 5.0)) {
        $token = $lock->getFencingToken('demo');
        usleep(10000); // the critical section
        $lock->releaseLock('demo');
        echo "worked with token $token\n";
    } else {
        http_response_code(503);
        echo "busy\n";
    }
} else {
    http_response_code(404);
    echo "GET /metrics or /work\n";
}
