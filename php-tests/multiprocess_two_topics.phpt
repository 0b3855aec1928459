--TEST--
Multi-process: two topics in each process under contention: the same identifier on two topics is two locks, each exclusive, taken alone or nested
--EXTENSIONS--
kafka_lock
--SKIPIF--
<?php if (!function_exists('proc_open')) die('skip proc_open is disabled'); ?>
--FILE--
<?php
// Three workers, each with one DistributedLock per topic (one session per process serves both),
// lock the identifier 'counter' on topic 0, on topic 1, or on both nested (0 then 1), rotating
// by iteration, and increment that topic's counter under it with a 2 ms hold and an O_EXCL
// marker per topic (helpers/mp_counter_worker.php). Per topic: the counter is exact, no two
// sections overlap, tokens grow. Across topics, sections of different workers must overlap in
// time: were the two topics' locks one lock (keyed by identifier alone), they never would, and a
// nested acquire would be taken as reentrant and trip the marker.
require __DIR__ . '/helpers/mp_counter.php';

const WORKERS = 3;
const ITERATIONS = 30; // each worker: 10 x topic 0, 10 x topic 1, 10 x both

$test = new MpTest('two_topics');
[$sections, $elapsed] = mp_counter_run($test, [mp_topic('two_topics_a'), mp_topic('two_topics_b')], WORKERS, ITERATIONS);
$byTopic = [[], []];
foreach ($sections as $s) {
    $byTopic[$s['topic']][] = $s;
}
foreach ($byTopic as $k => $list) {
    mp_counter_check($test, $k, $list, WORKERS * ITERATIONS * 2 / 3, "topic $k: ");
}

$concurrent = 0;
foreach ($byTopic[0] as $a) {
    foreach ($byTopic[1] as $b) {
        $concurrent += $a['worker'] !== $b['worker'] && $a['start'] < $b['end'] && $b['start'] < $a['end'] ? 1 : 0;
    }
}
mp_check($concurrent > 0, "different workers held 'counter' on the two topics at the same time", "$concurrent overlapping pairs");
mp_measure('multiprocess_two_topics', sprintf('%d critical sections in %.2f s, %d cross-topic overlaps between workers', count($sections), $elapsed, $concurrent));
echo "done\n";
?>
--EXPECT--
ok: worker w1 exited normally
ok: worker w2 exited normally
ok: worker w3 exited normally
ok: worker w1 saw no overlap and no fencing violation in the counter file
ok: worker w1 printed nothing (no warning or notice)
ok: worker w2 saw no overlap and no fencing violation in the counter file
ok: worker w2 printed nothing (no warning or notice)
ok: worker w3 saw no overlap and no fencing violation in the counter file
ok: worker w3 printed nothing (no warning or notice)
ok: topic 0: the counter is exactly 60
ok: topic 0: every worker logged every critical section
ok: topic 0: no two critical sections overlap in time
ok: topic 0: fencing tokens strictly increase in the order the critical sections started
ok: topic 1: the counter is exactly 60
ok: topic 1: every worker logged every critical section
ok: topic 1: no two critical sections overlap in time
ok: topic 1: fencing tokens strictly increase in the order the critical sections started
ok: different workers held 'counter' on the two topics at the same time
done
