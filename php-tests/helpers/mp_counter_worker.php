<?php
// Worker of multiprocess_counter.phpt and multiprocess_two_topics.phpt.
//   php -n -d extension=.../libkafka_lock.so mp_counter_worker.php DIR NAME TOPICS ITERATIONS
// TOPICS is one topic, or two separated by a comma (one DistributedLock per topic, same
// identifier 'counter' on each). Waits for DIR/go to exist (so all workers contend from the
// start), then ITERATIONS times takes the locks of this iteration (one topic: always it; two:
// by (iteration + worker number) % 3, the first, the second, or both nested, first then second),
// and for each lock taken: acquireLock('counter') -> create DIR/inside-K with O_EXCL -> read
// DIR/counter-K; then sleeps HOLD_US; then for each, innermost first: write DIR/counter-K back
// + 1 -> remove DIR/inside-K -> releaseLock. The sleep makes every section long enough that two
// holders at once would overlap (and lose an increment), and the O_EXCL marker catches the
// overlap itself: its creation fails only if another holder is inside. The counter file also
// keeps the newest fencing token, and a write whose token is not larger than it is recorded as
// a fencing violation (what a real protected resource would reject).
// Each critical section is logged as [token, start ns, end ns, acquire-call ns, release ns,
// topic index K] (hrtime) to DIR/NAME.sections.

declare(strict_types=1);
require __DIR__ . '/mp_lib.php';

[, $dir, $name, $topicList, $iterations] = $argv;
const HOLD_US = 2000;

function emit(string $ev, array $data = []): void
{
    global $dir, $name;
    file_put_contents("$dir/$name.events", json_encode(['ev' => $ev, 't' => hrtime(true)] + $data) . "\n", FILE_APPEND | LOCK_EX);
}

/** Which topics (indexes) iteration $i of worker number $worker takes, outermost first. */
function topics_of_iteration(int $topics, int $i, int $worker): array
{
    return $topics === 1 ? [0] : [[0], [1], [0, 1]][($i + $worker) % 3];
}

try {
    $locks = array_map(fn($topic) => new DistributedLock($topic, mp_config()), explode(',', $topicList));
    $worker = (int)preg_replace('/\D/', '', $name);
    // Join each topic's partition before the start: a first request replays the partition's
    // recent history, and a join inside the run made a waiter that was still joining count as
    // barged past (multiprocess_counter.phpt measures waits for the lock, not joins).
    foreach ($locks as $k => $lock) {
        if (!$lock->tryLock("warm-up-$name") || !$lock->releaseLock("warm-up-$name")) {
            throw new RuntimeException("the warm-up lock of topic $k was not taken and released");
        }
    }
    emit('ready');
    $deadline = mp_now() + 20;
    while (!file_exists("$dir/go")) {
        if (mp_now() > $deadline) {
            throw new RuntimeException('no go signal within 20 s');
        }
        usleep(1000);
    }
    $sections = [];
    $violations = [];
    for ($i = 0; $i < (int)$iterations; $i++) {
        $held = [];
        foreach (topics_of_iteration(count($locks), $i, $worker) as $k) {
            $asked = hrtime(true);
            if (!$locks[$k]->acquireLock('counter', 30.0)) {
                throw new RuntimeException("iteration $i: lock of topic $k not granted within 30 s");
            }
            $start = hrtime(true);
            $marker = @fopen("$dir/inside-$k", 'x');
            if ($marker === false) {
                $violations[] = "iteration $i: $dir/inside-$k already exists: another holder is inside the critical section of topic $k";
            }
            $token = $locks[$k]->getFencingToken('counter');
            [$value, $newest] = array_map('intval', explode(' ', trim(file_get_contents("$dir/counter-$k"))));
            if ($token === null || $token <= $newest) {
                $violations[] = "iteration $i, topic $k: token " . var_export($token, true) . " after newest $newest";
            }
            $held[$k] = compact('asked', 'start', 'marker', 'token', 'value', 'newest');
        }
        usleep(HOLD_US);
        foreach (array_reverse($held, true) as $k => $h) {
            file_put_contents("$dir/counter-$k", ($h['value'] + 1) . ' ' . max($h['newest'], (int)$h['token']));
            if ($h['marker'] !== false) {
                fclose($h['marker']);
                unlink("$dir/inside-$k");
            }
            $end = hrtime(true);
            if (!$locks[$k]->releaseLock('counter')) {
                throw new RuntimeException("iteration $i: releaseLock of topic $k returned false (lease lost inside the critical section?)");
            }
            $sections[] = [$h['token'], $h['start'], $end, $h['asked'], hrtime(true), $k];
        }
    }
    file_put_contents("$dir/$name.sections", json_encode(['sections' => $sections, 'violations' => $violations]));
    emit('done');
} catch (Throwable $e) {
    emit('error', ['message' => get_class($e) . ': ' . $e->getMessage()]);
    exit(2);
}
