<?php
// Shared code of the multi-process phpt tests (php-tests/multiprocess_*.phpt) and their worker
// (mp_worker.php). The test process spawns workers with proc_open (same PHP binary, -n, the same
// extension .so), and they talk through files: every worker appends one JSON object per line to
// <dir>/<name>.events, stamped with hrtime(true) (CLOCK_MONOTONIC, comparable across processes),
// and reads commands from its stdin. Everything that can be awaited is awaited by polling a
// condition with a deadline; no test relies on a fixed sleep to order events it can observe.

declare(strict_types=1);

function mp_brokers(): string
{
    return getenv('KAFKA_LOCK_BROKERS') ?: 'localhost:9092';
}

/** A fresh topic name per test run (the extension creates it with LogAppendTime). */
function mp_topic(string $what): string
{
    return 'phpt_mp_' . $what . '_' . bin2hex(random_bytes(6));
}

function mp_config(?float $ttl = null): array
{
    $config = ['metadata.broker.list' => mp_brokers()];
    if ($ttl !== null) {
        $config['lock.ttl'] = $ttl;
    }
    return $config;
}

/** Seconds (float) on the monotonic clock shared by all processes of the machine. */
function mp_now(): float
{
    return hrtime(true) / 1e9;
}

/** Path of the loaded kafka_lock extension, to load the very same file into the workers. */
function mp_extension_path(): string
{
    $maps = @file('/proc/self/maps', FILE_IGNORE_NEW_LINES) ?: [];
    foreach ($maps as $line) {
        if (preg_match('~\s(/\S*libkafka_lock\.so)( \(deleted\))?$~', rtrim($line), $m)) {
            return $m[1];
        }
    }
    foreach ((array)get_cfg_var('extension') as $ext) {
        if (str_contains((string)$ext, 'kafka_lock')) {
            return (string)$ext;
        }
    }
    // A copy of the build loaded under another name (php -d extension=/tmp/copy.so, which
    // get_cfg_var() does not report): an extension= file of the command line that is mapped
    // into this process.
    $args = explode("\0", (string)@file_get_contents('/proc/self/cmdline'));
    foreach ($args as $arg) {
        if (preg_match('~^(?:-d)?extension=(.+)$~', $arg, $m) && ($real = realpath($m[1])) !== false
            && preg_grep('~\s' . preg_quote($real, '~') . '$~', $maps)) {
            return $real;
        }
    }
    throw new RuntimeException('cannot find the path of libkafka_lock.so in /proc/self/maps');
}

final class MpWorker
{
    /** @var resource */
    public $proc;
    /** @var resource|null */
    public $stdin;
    public ?int $exitCode = null;

    public function __construct(public string $name, public string $dir)
    {
    }

    public function eventsFile(): string
    {
        return "$this->dir/$this->name.events";
    }

    public function outFile(): string
    {
        return "$this->dir/$this->name.out";
    }

    /** Sends one command line to the worker's stdin (its `wait` steps read one line each). */
    public function send(string $line = 'go'): void
    {
        if ($this->stdin === null || @fwrite($this->stdin, "$line\n") === false) {
            mp_fail("cannot write to the stdin of worker $this->name");
        }
        fflush($this->stdin);
    }

    /** All events the worker wrote so far, oldest first. */
    public function events(): array
    {
        $text = @file_get_contents($this->eventsFile());
        if ($text === false || $text === '') {
            return [];
        }
        $events = [];
        foreach (explode("\n", $text) as $line) {
            // A line without its newline may still be being written: skip it until complete.
            if ($line !== '' && str_ends_with($line, '}')) {
                $event = json_decode($line, true);
                if (is_array($event)) {
                    $events[] = $event;
                }
            }
        }
        return $events;
    }

    /** The $nth event named $ev, waiting for it at most $timeout seconds. */
    public function await(string $ev, float $timeout = 20.0, int $nth = 1): array
    {
        $deadline = mp_now() + $timeout;
        while (true) {
            $seen = 0;
            foreach ($this->events() as $event) {
                if ($event['ev'] === $ev && ++$seen === $nth) {
                    return $event;
                }
                if ($event['ev'] === 'error') {
                    mp_fail("worker $this->name failed while the test waited for '$ev': {$event['message']}");
                }
            }
            if (!$this->running() && $ev !== 'exit') {
                // One last look: the event may have been written just before the exit.
                foreach ($this->events() as $event) {
                    if ($event['ev'] === $ev && ++$seen === $nth) {
                        return $event;
                    }
                }
                mp_fail("worker $this->name exited (code $this->exitCode) before event '$ev'");
            }
            if (mp_now() > $deadline) {
                mp_fail(sprintf("worker %s: no event '%s' within %.1f s", $this->name, $ev, $timeout));
            }
            usleep(2000);
        }
    }

    public function running(): bool
    {
        if ($this->exitCode !== null) {
            return false;
        }
        $status = proc_get_status($this->proc);
        if ($status['running']) {
            return true;
        }
        // proc_get_status reports the real exit code only once.
        $this->exitCode = $status['signaled'] ? 128 + $status['termsig'] : $status['exitcode'];
        return false;
    }

    /** Waits for the worker to exit; returns its exit code (128 + signal if killed). */
    public function wait(float $timeout = 20.0): int
    {
        $deadline = mp_now() + $timeout;
        while ($this->running()) {
            if (mp_now() > $deadline) {
                mp_fail(sprintf('worker %s did not exit within %.1f s', $this->name, $timeout));
            }
            usleep(2000);
        }
        if ($this->stdin !== null) {
            @fclose($this->stdin);
            $this->stdin = null;
        }
        proc_close($this->proc);
        return $this->exitCode;
    }

    /** SIGKILL (posix is not loaded under -n; proc_terminate sends the signal directly). */
    public function kill(): void
    {
        if ($this->running()) {
            proc_terminate($this->proc, 9);
        }
    }

    public function output(): string
    {
        return (string)@file_get_contents($this->outFile());
    }
}

final class MpTest
{
    public static ?MpTest $current = null;
    /** @var MpWorker[] */
    public array $workers = [];
    public string $dir;
    public string $extension;
    private int $pid;

    public function __construct(public string $name)
    {
        $this->pid = getmypid();
        $this->dir = sys_get_temp_dir() . "/kafka_lock_$name." . getmypid() . '.' . bin2hex(random_bytes(3));
        if (!mkdir($this->dir, 0700, true)) {
            throw new RuntimeException("cannot create $this->dir");
        }
        $this->extension = mp_extension_path();
        self::$current = $this;
        register_shutdown_function([$this, 'cleanup']);
    }

    /**
     * Starts helpers/mp_worker.php (or $script) in a new PHP process: same binary, no php.ini,
     * the same extension file, arguments DIR NAME ...$args. stdout and stderr go to
     * <dir>/<name>.out.
     */
    public function spawn(string $name, array $args, ?string $script = null): MpWorker
    {
        $worker = new MpWorker($name, $this->dir);
        $script ??= __DIR__ . '/mp_worker.php';
        $cmd = array_merge(
            [PHP_BINARY, '-n', '-d', 'extension=' . $this->extension, '-d', 'display_errors=1', '-d', 'error_reporting=-1', $script],
            [$this->dir, $name],
            array_map('strval', $args)
        );
        $out = $worker->outFile();
        $proc = proc_open($cmd, [0 => ['pipe', 'r'], 1 => ['file', $out, 'a'], 2 => ['file', $out, 'a']], $pipes);
        if (!is_resource($proc)) {
            mp_fail("cannot start worker $name");
        }
        $worker->proc = $proc;
        $worker->stdin = $pipes[0];
        $this->workers[$name] = $worker;
        return $worker;
    }

    public function file(string $name): string
    {
        return "$this->dir/$name";
    }

    /** Kills what is still running and removes the temporary files (also after a failure). */
    public function cleanup(): void
    {
        if (getmypid() !== $this->pid) {
            return; // a pcntl_fork() child: the files and workers belong to the parent
        }
        foreach ($this->workers as $worker) {
            if ($worker->exitCode === null && is_resource($worker->proc)) {
                $worker->kill();
                @proc_close($worker->proc);
            }
        }
        if (getenv('MP_KEEP_FILES')) {
            return;
        }
        foreach (glob("$this->dir/*") ?: [] as $file) {
            @unlink($file);
        }
        @rmdir($this->dir);
    }
}

/**
 * Fails the test: prints the reason and every worker's events and output (so the diff shows
 * what happened), then exits.
 */
function mp_fail(string $message): never
{
    echo "FAILED: $message\n";
    $test = MpTest::$current;
    if ($test !== null) {
        foreach ($test->workers as $worker) {
            echo "--- worker {$worker->name} events:\n";
            foreach ($worker->events() as $event) {
                echo '    ', json_encode($event), "\n";
            }
            $out = trim($worker->output());
            if ($out !== '') {
                echo "--- worker {$worker->name} output:\n$out\n";
            }
        }
    }
    exit(1);
}

/** Prints "ok: $what" or fails with details: the expected output lists the assertions. */
function mp_check(bool $condition, string $what, string $details = ''): void
{
    if (!$condition) {
        mp_fail("$what" . ($details !== '' ? " ($details)" : ''));
    }
    echo "ok: $what\n";
}

/**
 * Appends measured figures (latencies and the like) to .run/multiprocess-measurements.log at
 * the repository root: they vary from run to run, so they stay out of the expected output.
 */
function mp_measure(string $test, string $line): void
{
    $dir = dirname(__DIR__, 2) . '/.run';
    @mkdir($dir, 0777, true);
    @file_put_contents("$dir/multiprocess-measurements.log", date('c') . " $test: $line\n", FILE_APPEND | LOCK_EX);
}

/**
 * Sleeps $seconds. Only for letting time pass on purpose (a lease that must outlive its ttl, a
 * gap between two requests whose order is then proven from the log), never to wait for an event
 * that can be observed. (The tests call this instead of usleep(): run-tests.php retries any test
 * whose code mentions usleep/sleep/hrtime/microtime once, and reports a pass on the retry as a
 * mere WARN, which would hide a flaky test.)
 */
function mp_pause(float $seconds): void
{
    usleep((int)round($seconds * 1e6));
}

/** Sleeps until the monotonic clock (mp_now()) reaches $until. */
function mp_pause_until(float $until): void
{
    $left = $until - mp_now();
    if ($left > 0) {
        mp_pause($left);
    }
}

/**
 * Waits for the pcntl_fork() children $pids (pid => label) to exit, at most $timeout seconds;
 * SIGKILLs and reports the ones that hang. Returns label => exit status description, 'ok' for
 * a normal exit with code 0.
 */
function mp_waitpids(array $pids, float $timeout = 20.0): array
{
    $deadline = mp_now() + $timeout;
    $result = [];
    while ($pids) {
        // One pid at a time (never -1: that could reap the proc_open() workers as well).
        foreach ($pids as $pid => $label) {
            if (pcntl_waitpid($pid, $status, WNOHANG) === $pid) {
                $result[$label] = pcntl_wifexited($status)
                    ? (pcntl_wexitstatus($status) === 0 ? 'ok' : 'exit code ' . pcntl_wexitstatus($status))
                    : 'killed by signal ' . pcntl_wtermsig($status);
                unset($pids[$pid]);
            }
        }
        if ($pids && mp_now() > $deadline) {
            foreach ($pids as $pid => $label) {
                exec('kill -9 ' . (int)$pid);
                pcntl_waitpid($pid, $status);
                $result[$label] = sprintf('hung (killed after %.0f s)', $timeout);
            }
            $pids = [];
        } elseif ($pids) {
            usleep(2000);
        }
    }
    return $result;
}
