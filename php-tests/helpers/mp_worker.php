<?php
// Scripted worker process of the multi-process tests.
//   php -n -d extension=.../libkafka_lock.so mp_worker.php DIR NAME TOPIC STEP...
// Runs the steps in order and appends one JSON event per line to DIR/NAME.events, each with
// 't' = hrtime(true) in ns, taken right after the step's lock call returned. Steps:
//   new[:TTL]           construct the DistributedLock on TOPIC (lock.ttl = TTL seconds)
//   acquire:ID[:TO]     event 'acquiring' just before acquireLock(ID, TO), then 'acquired'
//   try:ID              tryLock(ID), event 'try'
//   release:ID          releaseLock(ID), event 'released'
//   check:ID            event 'state': isAcquired, getFencingToken, getRemainingLifetime
//   inspect:ID          event 'inspected': inspect(ID)
//   wait[:LABEL]        event 'waiting', then block until a line arrives on stdin (or EOF)
//   append:FILE:ID      append "NAME TOKEN" to DIR/FILE (a shared log written under the lock)
//   sleep:MS            sleep (only to make a hold last; never to order events)
//   hold_forever:ID     keep holding; event 'trust' whenever the lease end by the holder's own
//                       view (now + getRemainingLifetime) moves; gives up after 60 s
//   unset               destroy the DistributedLock object (its destructor releases)
//   throw               die by an uncaught exception
//   fatal               die by a fatal error (memory exhausted: no exception, a bailout)
//   exit:CODE           exit(CODE) at once
//   trap:MODE           pcntl_async_signals(true) and a SIGTERM handler that emits 'signal' and
//                       then, by MODE: exit (exit(0)), fatal (memory exhausted), throw (throws a
//                       SigtermThrown nobody catches), catch (throws a SigtermThrown that the
//                       acquire step in progress catches: event 'caught', the steps go on)
// Shared locks and semaphores (events as their exclusive counterparts, with 'mode'):
//   read:ID[:TO]        as acquire, with acquireReadLock(ID, TO)
//   tryread:ID          tryReadLock(ID), event 'try'
//   newsem[:TTL]        construct the DistributedSemaphore on TOPIC (the lock steps keep theirs)
//   sem:NAME:LIMIT:W[:TO]  as acquire, with the semaphore's acquire(NAME, LIMIT, TO, W)
//   trysem:NAME:LIMIT:W tryAcquire(NAME, LIMIT, W), event 'try'
//   semrelease:NAME     release(NAME), event 'released'
//   cycle:KIND:ID:N:MS  N times: take ID (KIND: read, write, or semL for a weight-1 share of a
//                       semaphore of limit L), hold it MS ms, release it; event 'held' per hold
//                       with 'start' and 'end' (hrtime right after the grant and right before
//                       the release), 'token' and 'kind'; event 'cycled' at the end
// Any unexpected exception writes an 'error' event and exits with code 2.

declare(strict_types=1);
require __DIR__ . '/mp_lib.php';

[, $dir, $name, $topic] = $argv;
$steps = array_slice($argv, 4);
$events = "$dir/$name.events";

function emit(string $ev, array $data = [], ?int $t = null): void
{
    global $events;
    $line = json_encode(['ev' => $ev, 't' => $t ?? hrtime(true)] + $data) . "\n";
    file_put_contents($events, $line, FILE_APPEND | LOCK_EX);
}

final class SigtermThrown extends RuntimeException
{
}

/** Dies by a fatal error: memory exhausted (no exception, a bailout). */
function exhaust_memory(): never
{
    ini_set('memory_limit', '8M');
    $hog = [];
    while (true) {
        $hog[] = str_repeat('x', 1 << 20);
    }
}

$lock = null;
$sem = null;
$trap = null;
emit('started', ['pid' => getmypid()]);
try {
    foreach ($steps as $step) {
        $arg = explode(':', $step);
        switch ($arg[0]) {
            case 'new':
                $lock = new DistributedLock($topic, mp_config(isset($arg[1]) ? (float)$arg[1] : null));
                emit('ready');
                break;
            case 'acquire':
                $timeout = isset($arg[2]) ? (float)$arg[2] : null;
                emit('acquiring', ['id' => $arg[1]]);
                try {
                    $ok = $lock->acquireLock($arg[1], $timeout);
                } catch (SigtermThrown $e) {
                    if ($trap !== 'catch') {
                        throw $e;
                    }
                    emit('caught', ['id' => $arg[1], 'message' => $e->getMessage()]);
                    break;
                }
                $t = hrtime(true);
                emit('acquired', ['id' => $arg[1], 'ok' => $ok, 'token' => $lock->getFencingToken($arg[1])], $t);
                break;
            case 'try':
                $ok = $lock->tryLock($arg[1]);
                $t = hrtime(true);
                emit('try', ['id' => $arg[1], 'ok' => $ok, 'token' => $lock->getFencingToken($arg[1])], $t);
                break;
            case 'release':
                $t = hrtime(true);
                $ok = $lock->releaseLock($arg[1]);
                emit('released', ['id' => $arg[1], 'ok' => $ok], $t);
                break;
            case 'check':
                emit('state', [
                    'id' => $arg[1],
                    'acquired' => $lock->isAcquired($arg[1]),
                    'token' => $lock->getFencingToken($arg[1]),
                    'remaining' => $lock->getRemainingLifetime($arg[1]),
                ]);
                break;
            case 'inspect':
                emit('inspected', ['id' => $arg[1], 'snapshot' => $lock->inspect($arg[1])]);
                break;
            case 'wait':
                emit('waiting', ['label' => $arg[1] ?? '']);
                $line = fgets(STDIN);
                emit('cmd', ['line' => $line === false ? null : rtrim($line)]);
                break;
            case 'append':
                $token = $lock->getFencingToken($arg[2]);
                file_put_contents("$dir/$arg[1]", "$name $token\n", FILE_APPEND | LOCK_EX);
                break;
            case 'sleep':
                usleep((int)$arg[1] * 1000);
                break;
            case 'hold_forever':
                $until = 0.0;
                $giveUp = mp_now() + 60;
                while (mp_now() < $giveUp) {
                    $remaining = $lock->getRemainingLifetime($arg[1]);
                    $now = mp_now();
                    if ($remaining === null) {
                        emit('lost', ['id' => $arg[1]]);
                        break;
                    }
                    if ($now + $remaining > $until + 0.001) {
                        $until = $now + $remaining;
                        emit('trust', ['id' => $arg[1], 'until' => $until]);
                    }
                    usleep(5000);
                }
                break;
            case 'unset':
                $lock = null;
                emit('unset');
                break;
            case 'throw':
                emit('throwing');
                throw new RuntimeException("worker $name dies by an uncaught exception");
            case 'fatal':
                emit('fatal');
                exhaust_memory();
            case 'exit':
                emit('exiting');
                exit((int)$arg[1]);
            case 'trap':
                $trap = $arg[1];
                pcntl_async_signals(true);
                pcntl_signal(SIGTERM, function () use ($trap, $name) {
                    emit('signal', ['mode' => $trap]);
                    switch ($trap) {
                        case 'exit':
                            exit(0);
                        case 'fatal':
                            exhaust_memory();
                        default:
                            throw new SigtermThrown("the SIGTERM handler of $name throws");
                    }
                });
                break;
            case 'read':
                $timeout = isset($arg[2]) ? (float)$arg[2] : null;
                emit('acquiring', ['id' => $arg[1], 'mode' => 'shared']);
                $ok = $lock->acquireReadLock($arg[1], $timeout);
                $t = hrtime(true);
                emit('acquired', ['id' => $arg[1], 'mode' => 'shared', 'ok' => $ok, 'token' => $lock->getFencingToken($arg[1])], $t);
                break;
            case 'tryread':
                $ok = $lock->tryReadLock($arg[1]);
                $t = hrtime(true);
                emit('try', ['id' => $arg[1], 'mode' => 'shared', 'ok' => $ok, 'token' => $lock->getFencingToken($arg[1])], $t);
                break;
            case 'newsem':
                $sem = new DistributedSemaphore($topic, mp_config(isset($arg[1]) ? (float)$arg[1] : null));
                emit('ready');
                break;
            case 'sem':
                $timeout = isset($arg[4]) ? (float)$arg[4] : null;
                emit('acquiring', ['id' => $arg[1], 'mode' => 'semaphore']);
                $ok = $sem->acquire($arg[1], (int)$arg[2], $timeout, (int)$arg[3]);
                $t = hrtime(true);
                emit('acquired', ['id' => $arg[1], 'mode' => 'semaphore', 'ok' => $ok, 'token' => $sem->getFencingToken($arg[1])], $t);
                break;
            case 'trysem':
                $ok = $sem->tryAcquire($arg[1], (int)$arg[2], (int)$arg[3]);
                $t = hrtime(true);
                emit('try', ['id' => $arg[1], 'mode' => 'semaphore', 'ok' => $ok, 'token' => $sem->getFencingToken($arg[1])], $t);
                break;
            case 'semrelease':
                $t = hrtime(true);
                $ok = $sem->release($arg[1]);
                emit('released', ['id' => $arg[1], 'mode' => 'semaphore', 'ok' => $ok], $t);
                break;
            case 'cycle':
                [, $kind, $id, $n, $ms] = $arg;
                for ($i = 0; $i < (int)$n; $i++) {
                    $ok = match (true) {
                        $kind === 'read' => $lock->acquireReadLock($id, 30.0),
                        $kind === 'write' => $lock->acquireLock($id, 30.0),
                        str_starts_with($kind, 'sem') => $sem->acquire($id, (int)substr($kind, 3), 30.0),
                    };
                    $start = hrtime(true);
                    if (!$ok) {
                        throw new RuntimeException("$kind hold $i of '$id' not granted within 30 s");
                    }
                    $token = str_starts_with($kind, 'sem') ? $sem->getFencingToken($id) : $lock->getFencingToken($id);
                    usleep((int)$ms * 1000);
                    $end = hrtime(true);
                    $ok = str_starts_with($kind, 'sem') ? $sem->release($id) : $lock->releaseLock($id);
                    if (!$ok) {
                        throw new RuntimeException("$kind hold $i of '$id' (token $token) was lost before its release");
                    }
                    emit('held', ['id' => $id, 'kind' => $kind, 'start' => $start, 'end' => $end, 'token' => $token], $end);
                }
                emit('cycled', ['id' => $id]);
                break;
            default:
                throw new LogicException("unknown step '$step'");
        }
    }
} catch (Throwable $e) {
    if (($arg[0] ?? '') === 'throw' || $e instanceof SigtermThrown) {
        throw $e;
    }
    emit('error', ['message' => get_class($e) . ': ' . $e->getMessage() . ' in step ' . ($step ?? '?')]);
    exit(2);
}
emit('end');
