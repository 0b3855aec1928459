<?php
// Shared by the bench scripts: options, the contenders behind one small interface, and output.
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

final class KafkaLockContender implements Contender
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

    public function release(string $id): void
    {
        if (!$this->lock->releaseLock($id)) {
            throw new RuntimeException("releaseLock('$id') returned false: the lease was lost");
        }
    }
}

/** symfony/lock 5.4 as a PHP team uses it: a LockFactory over one store, a Lock per hold. */
final class SymfonyContender implements Contender
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

    public function release(string $id): void
    {
        $this->held[$id]->release();
        unset($this->held[$id]);
    }
}

/** The contender named by --contender (kafka_lock|redis|pgsql|flock). */
function contender(array $opts): Contender
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
