--TEST--
examples/metrics.php renders DistributedLock::stats() in the Prometheus text format that Prometheus' own Python parser (prometheus_client) reads back: every counter, gauge and histogram, with the values stats() gives
--SKIPIF--
<?php
exec('/usr/bin/python3 -c "import prometheus_client" 2>&1', $out, $status);
if ($status !== 0) die('skip python3-prometheus-client is not installed (make setup installs it)');
?>
--FILE--
<?php
$lock = new DistributedLock('phpt_' . bin2hex(random_bytes(4)));
var_dump($lock->acquireLock('m') && $lock->releaseLock('m'), $lock->tryLock('m'));

ob_start();
require __DIR__ . '/../examples/metrics.php';
$text = ob_get_clean();
$stats = DistributedLock::stats();

$file = tempnam(sys_get_temp_dir(), 'prom');
file_put_contents($file, $text);
$parser = <<<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
seen = {}
for family in text_string_to_metric_families(open(sys.argv[1]).read()):
    for sample in family.samples:
        seen[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    print(family.type, family.name)
print("acquires", int(seen[("kafka_lock_acquires_total", ())]))
print("sessions", int(seen[("kafka_lock_sessions", ())]))
print("hold count", int(seen[("kafka_lock_hold_seconds_count", ())]))
print("hold +Inf", int(seen[("kafka_lock_hold_seconds_bucket", (("le", "+Inf"),))]))
print("hold sum", seen[("kafka_lock_hold_seconds_sum", ())])
PY;
exec('/usr/bin/python3 -c ' . escapeshellarg($parser) . ' ' . escapeshellarg($file) . ' 2>&1', $lines, $status);
unlink($file);
echo "parser exit status $status\n";
$families = preg_grep('/^(counter|gauge|histogram) /', $lines);
echo count(preg_grep('/^counter /', $families)), ' counters, ', count(preg_grep('/^gauge /', $families)), ' gauges, ',
    count(preg_grep('/^histogram /', $families)), " histograms\n";
echo 'one counter family per stats() counter and one for the reasons: ',
    var_export(count(preg_grep('/^counter /', $families)) === count($stats['counters']) + 1, true), "\n";
$values = array_values(preg_grep('/^(acquires|sessions|hold) /', $lines));
echo implode("\n", $values), "\n";
$expected = [
    "acquires {$stats['counters']['acquires']}",
    "sessions {$stats['gauges']['sessions']}",
    "hold count {$stats['histograms']['hold_seconds']['count']}",
    "hold +Inf {$stats['histograms']['hold_seconds']['buckets']['+Inf']}",
];
$sum = (float)substr($values[4], strlen('hold sum '));
echo 'same as stats(): ', var_export(array_slice($values, 0, 4) === $expected
    && abs($sum - $stats['histograms']['hold_seconds']['sum']) < 1e-6, true), "\n";
?>
--EXPECTF--
bool(true)
bool(true)
parser exit status 0
19 counters, 2 gauges, 3 histograms
one counter family per stats() counter and one for the reasons: true
acquires 2
sessions 1
hold count 1
hold +Inf 1
hold sum %f
same as stats(): true
