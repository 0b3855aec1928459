<?php
// Shared by the bench scripts: options, the contenders behind small interfaces (locks, shared
// locks, semaphores), and output.
// Each script is started by bench/run.py, which passes every option as --name=value.
declare(strict_types=1);

/** Parses --name=value options; missing ones take the defaults given. */
function options(array $defaults): array
{
    global $argv;
    $opts = $defaults;
    foreach (array_slice($argv, 1) as $arg) {
        if (!preg_match('/^--([a-z_]+)=(.*)$/s', $arg, $m)) {
            fwrite(STDERR, "bad argument: $arg (want --name=value)\n");
            exit(2);
        }
        $opts[$m[1]] = $m[2];
    }
    return $opts;
}

/** One lock implementation, as the benchmarks use it: blocking acquire, release. */
interface Contender
{
    /** Blocks until `$id` is held; with a time-out, false when it ran out. */
    public function acquire(string $id, ?float $timeout = null): bool;

    public function release(string $id): void;
}

/** A lock that is also taken shared (scenario 6): readers hold together, a writer alone. */
interface SharedContender extends Contender
{
    /** Blocks until `$id` is held shared; release() releases either mode. */
    public function acquireRead(string $id): bool;
}

/** A counted semaphore (scenario 7): at most `$limit` weight of `$name` held at once. */
interface SemaphoreContender
{
    /** Blocks until `$weight` of `$name` is held. */
    public function acquire(string $name, int $limit, int $weight = 1): bool;

    public function release(string $name): void;
}

final class KafkaLockContender implements SharedContender
{
    public DistributedLock $lock;

    public function __construct(string $topic, int $partitions)
    {
        $this->lock = new DistributedLock($topic, ['lock.partitions' => $partitions]);
    }

    public function acquire(string $id, ?float $timeout = null): bool
    {
        return $this->lock->acquireLock($id, $timeout);
    }

    public function acquireRead(string $id): bool
    {
        return $this->lock->acquireReadLock($id);
    }

    public function release(string $id): void
    {
        if (!$this->lock->releaseLock($id)) {
            throw new RuntimeException("releaseLock('$id') returned false: the lease was lost");
        }
    }
}

/** symfony/lock 5.4 as a PHP team uses it: a LockFactory over one store, a Lock per hold. */
final class SymfonyContender implements SharedContender
{
    private Symfony\Component\Lock\LockFactory $factory;
    /** @var array<string, Symfony\Component\Lock\LockInterface> */
    private array $held = [];

    public function __construct(string $store, string $flockDir)
    {
        require_once '/usr/share/php/Symfony/Component/Lock/autoload.php';
        switch ($store) {
            case 'redis':
                $redis = new Redis();
                $redis->connect('127.0.0.1', (int) (getenv('BENCH_REDIS_PORT') ?: 6379));
                $backend = new Symfony\Component\Lock\Store\RedisStore($redis);
                break;
            case 'pgsql':
                $port = (int) (getenv('BENCH_PG_PORT') ?: 5432);
                // PostgreSqlStore (symfony/lock >= 5.2): session-level advisory locks, and
                // pg_advisory_lock() for a blocking acquire.
                $backend = new Symfony\Component\Lock\Store\PostgreSqlStore(
                    "pgsql:host=127.0.0.1;port=$port;dbname=kafka_lock_bench",
                    ['db_username' => 'kafka_lock_bench', 'db_password' => 'bench']
                );
                break;
            case 'flock':
                $backend = new Symfony\Component\Lock\Store\FlockStore($flockDir);
                break;
            default:
                throw new InvalidArgumentException("unknown symfony store '$store'");
        }
        $this->factory = new Symfony\Component\Lock\LockFactory($backend);
    }

    public function acquire(string $id, ?float $timeout = null): bool
    {
        // TTL 300 s (the factory's default): only a crashed holder's lock would ever expire.
        $lock = $this->factory->createLock($id, 300.0, false);
        $lock->acquire(true);
        $this->held[$id] = $lock;
        return true;
    }

    /**
     * Lock::acquireRead(true): FlockStore and PostgreSqlStore block in flock(LOCK_SH) and
     * pg_advisory_lock_shared(); RedisStore has no blocking read, so Lock retries saveRead()
     * every 90-110 ms (usleep) until it succeeds, as its blocking acquire() does with save().
     */
    public function acquireRead(string $id): bool
    {
        $lock = $this->factory->createLock($id, 300.0, false);
        $lock->acquireRead(true);
        $this->held[$id] = $lock;
        return true;
    }

    public function release(string $id): void
    {
        $this->held[$id]->release();
        unset($this->held[$id]);
    }
}

final class KafkaSemaphoreContender implements SemaphoreContender
{
    public DistributedSemaphore $semaphore;

    public function __construct(string $topic, int $partitions)
    {
        $this->semaphore = new DistributedSemaphore($topic, ['lock.partitions' => $partitions]);
    }

    public function acquire(string $name, int $limit, int $weight = 1): bool
    {
        return $this->semaphore->acquire($name, $limit, null, $weight);
    }

    public function release(string $name): void
    {
        if (!$this->semaphore->release($name)) {
            throw new RuntimeException("release('$name') returned false: the lease was lost");
        }
    }
}

/**
 * symfony/semaphore 5.4 on Redis, as a PHP team would use it. Its acquire() never blocks (one
 * Lua script: true if the weight fits, false otherwise), so a blocking acquire is a retry loop
 * with a short sleep: --retry_us (default 1000) plus or minus a quarter of it at random.
 */
final class SymfonySemaphoreContender implements SemaphoreContender
{
    private Symfony\Component\Semaphore\SemaphoreFactory $factory;
    /** @var array<string, Symfony\Component\Semaphore\SemaphoreInterface> */
    private array $held = [];
    /** Attempts that found the semaphore full, for the report. */
    public int $retries = 0;

    public function __construct(private int $retryUs)
    {
        require_once '/usr/share/php/Symfony/Component/Semaphore/autoload.php';
        $redis = new Redis();
        $redis->connect('127.0.0.1', (int) (getenv('BENCH_REDIS_PORT') ?: 6379));
        $this->factory = new Symfony\Component\Semaphore\SemaphoreFactory(
            new Symfony\Component\Semaphore\Store\RedisStore($redis)
        );
    }

    public function acquire(string $name, int $limit, int $weight = 1): bool
    {
        // TTL 300 s (the factory's default), no auto-release: released explicitly.
        $semaphore = $this->factory->createSemaphore($name, $limit, $weight, 300.0, false);
        $jitter = intdiv($this->retryUs, 4);
        while (!$semaphore->acquire()) {
            $this->retries++;
            usleep($this->retryUs + ($jitter > 0 ? random_int(-$jitter, $jitter) : 0));
        }
        $this->held[$name] = $semaphore;
        return true;
    }

    public function release(string $name): void
    {
        $this->held[$name]->release();
        unset($this->held[$name]);
    }
}

/** The semaphore named by --contender (kafka_lock|redis). */
function semaphore_contender(array $opts): SemaphoreContender
{
    if ($opts['contender'] === 'kafka_lock') {
        return new KafkaSemaphoreContender($opts['topic'], (int) ($opts['partitions'] ?? 1));
    }
    if ($opts['contender'] === 'redis') {
        return new SymfonySemaphoreContender((int) ($opts['retry_us'] ?? 1000));
    }
    throw new InvalidArgumentException("no semaphore for contender '{$opts['contender']}'");
}

/** The contender named by --contender (kafka_lock|redis|pgsql|flock). */
function contender(array $opts): SharedContender
{
    if ($opts['contender'] === 'kafka_lock') {
        return new KafkaLockContender($opts['topic'], (int) ($opts['partitions'] ?? 1));
    }
    return new SymfonyContender($opts['contender'], $opts['flock_dir'] ?? sys_get_temp_dir());
}

/** Resident set size of this process in KiB (VmRSS), and its peak (VmHWM). */
function rss_kib(): array
{
    $status = file_get_contents('/proc/self/status');
    preg_match('/^VmRSS:\s+(\d+)/m', $status, $rss);
    preg_match('/^VmHWM:\s+(\d+)/m', $status, $hwm);
    return ['rss_kib' => (int) $rss[1], 'hwm_kib' => (int) $hwm[1]];
}

/** Writes the result for bench/run.py. */
function emit(array $opts, array $result): void
{
    $json = json_encode($result, JSON_THROW_ON_ERROR);
    if (isset($opts['out'])) {
        file_put_contents($opts['out'], $json);
    } else {
        echo $json, "\n";
    }
}

/**
 * Tells bench/run.py this worker is ready (warmed up), then waits for the start and end
 * instants it sends: hrtime(true) values (CLOCK_MONOTONIC, shared by all processes of a boot).
 */
function await_start(): array
{
    fwrite(STDOUT, "ready\n");
    fflush(STDOUT);
    $line = fgets(STDIN);
    if ($line === false || !preg_match('/^(\d+) (\d+)$/', trim($line), $m)) {
        fwrite(STDERR, "no start line from the runner\n");
        exit(3);
    }
    $start = (int) $m[1];
    while (hrtime(true) < $start) {
        $left = $start - hrtime(true);
        if ($left > 2_000_000) {
            usleep(intdiv($left - 1_000_000, 1000));
        }
    }
    return [$start, (int) $m[2]];
}
