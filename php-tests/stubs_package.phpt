--TEST--
Stub package: the stub lints, refuses to load next to the extension, and composer.json is valid with no autoload
--FILE--
<?php
$root = dirname(__DIR__);
$root = realpath($root);
$stub = "$root/stubs/kafka_lock.stub.php";

function run(array $command, ?string $cwd = null): array {
    $process = proc_open($command, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, $cwd);
    $out = stream_get_contents($pipes[1]) . stream_get_contents($pipes[2]);
    return [proc_close($process), trim($out)];
}

echo "-- php -l\n";
[$status, $out] = run([PHP_BINARY, '-n', '-l', $stub]);
echo $status, ' ', str_replace($stub, 'STUB', $out), "\n";

echo "-- declarations only: no statement runs when the stub is included without the extension\n";
[$status, $out] = run([PHP_BINARY, '-n', '-r', 'ob_start(); require $argv[1]; echo ob_get_clean() === "" ? "silent" : "output"; '
    . 'echo " ", count(array_filter(get_declared_classes(), fn($c) => str_starts_with($c, "DistributedLock"))), " classes";', $stub]);
echo $status, ' ', $out, "\n";

echo "-- loading it next to the extension fails loudly\n";
preg_match('~\s(/\S*kafka_lock\S*\.so)$~m', file_get_contents('/proc/self/maps'), $m) or exit("extension path not found\n");
[$status, $out] = run([PHP_BINARY, '-n', '-d', "extension=$m[1]", '-d', 'display_errors=stderr', '-r', 'require $argv[1];', $stub]);
echo $status, ' ', preg_replace('/ in \S+ on line \d+/', '', $out), "\n";

echo "-- composer.json\n";
$composer = json_decode(file_get_contents("$root/composer.json"), true, 512, JSON_THROW_ON_ERROR);
echo $composer['name'], ' ', $composer['type'], ' ', $composer['license'], ' php', $composer['require']['php'], "\n";
var_dump(isset($composer['autoload']), isset($composer['autoload-dev']));
var_dump(isset($composer['provide']['ext-kafka_lock']), isset($composer['require']['ext-kafka_lock']));
var_dump(count($composer['keywords']) > 0);
[$status, $out] = run(['composer', 'validate', '--strict', '--no-check-publish', '--no-interaction'], $root);
echo $status, ' ', $out, "\n";
?>
--EXPECTF--
-- php -l
0 No syntax errors detected in STUB
-- declarations only: no statement runs when the stub is included without the extension
0 silent 6 classes
-- loading it next to the extension fails loudly
255 %AFatal error:%wCannot declare class DistributedLock, because the name is already in use
-- composer.json
kafka-lock/kafka-lock-stubs library MIT php>=8.2
bool(false)
bool(false)
bool(false)
bool(false)
bool(true)
0 ./composer.json is valid
