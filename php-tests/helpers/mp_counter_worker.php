<?php
// Worker of multiprocess_counter.phpt.
//   php -n -d extension=.../libkafka_lock.so mp_counter_worker.php DIR NAME TOPIC ITERATIONS
// Waits for DIR/go to exist (so all workers contend from the start), then ITERATIONS times:
// acquireLock('counter') -> create DIR/inside with O_EXCL -> read DIR/counter -> sleep HOLD_US
// -> write it back + 1 -> remove DIR/inside -> releaseLock. The sleep makes every section long
// enough that two holders at once would overlap (and lose an increment), and the O_EXCL marker
// catches the overlap itself: its creation fails only if another holder is inside. The counter
// file also keeps the newest fencing token, and a write whose token is not larger than it is
// recorded as a fencing violation (what a real protected resource would reject).
// Each critical section is logged as [token, start ns, end ns, acquire-call ns, release ns]
// (hrtime) to DIR/NAME.sections.

declare(strict_types=1);
require __DIR__ . '/mp_lib.php';

[, $dir, $name, $topic, $iterations] = $argv;
const HOLD_US = 2000;

function emit(string $ev, array $data = []): void
{
    global $dir, $name;
    file_put_contents("$dir/$name.events", json_encode(['ev' => $ev, 't' => hrtime(true)] + $data) . "\n", FILE_APPEND | LOCK_EX);
}

try {
    $lock = new DistributedLock($topic, mp_config());
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
    $counter = "$dir/counter";
    $inside = "$dir/inside";
    for ($i = 0; $i < (int)$iterations; $i++) {
        $asked = hrtime(true);
        if (!$lock->acquireLock('counter', 30.0)) {
            throw new RuntimeException("iteration $i: lock not granted within 30 s");
        }
        $start = hrtime(true);
        $marker = @fopen($inside, 'x');
        if ($marker === false) {
            $violations[] = "iteration $i: $inside already exists: another holder is inside the critical section";
        }
        $token = $lock->getFencingToken('counter');
        [$value, $newest] = array_map('intval', explode(' ', trim(file_get_contents($counter))));
        if ($token === null || $token <= $newest) {
            $violations[] = "iteration $i: token " . var_export($token, true) . " after newest $newest";
        }
        usleep(HOLD_US);
        file_put_contents($counter, ($value + 1) . ' ' . max($newest, (int)$token));
        if ($marker !== false) {
            fclose($marker);
            unlink($inside);
        }
        $end = hrtime(true);
        if (!$lock->releaseLock('counter')) {
            throw new RuntimeException("iteration $i: releaseLock returned false (lease lost inside the critical section?)");
        }
        $sections[] = [$token, $start, $end, $asked, hrtime(true)];
    }
    file_put_contents("$dir/$name.sections", json_encode(['sections' => $sections, 'violations' => $violations]));
    emit('done');
} catch (Throwable $e) {
    emit('error', ['message' => get_class($e) . ': ' . $e->getMessage()]);
    exit(2);
}
