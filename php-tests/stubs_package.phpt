--TEST--
Composer packages: the stub package (stubs/composer.json) lints, refuses to load next to the extension, validates and installs from a path repository; the PIE package (composer.json) describes the extension
--FILE--
<?php
$root = dirname(__DIR__);
$root = realpath($root);
$stub = "$root/stubs/kafka_lock.stub.php";

function run(array $command, ?string $cwd = null, ?array $env = null): array {
    $process = proc_open($command, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, $cwd, $env);
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
require __DIR__ . '/helpers/mp_lib.php'; // mp_extension_path(): also finds a copy loaded under another name
[$status, $out] = run([PHP_BINARY, '-n', '-d', 'extension=' . mp_extension_path(), '-d', 'display_errors=stderr', '-r', 'require $argv[1];', $stub]);
echo $status, ' ', preg_replace('/ in \S+ on line \d+/', '', $out), "\n";

echo "-- stubs/composer.json: the stub package\n";
$composer = json_decode(file_get_contents("$root/stubs/composer.json"), true, 512, JSON_THROW_ON_ERROR);
echo $composer['name'], ' ', $composer['type'], ' ', $composer['license'], ' php', $composer['require']['php'], "\n";
var_dump(isset($composer['autoload']), isset($composer['autoload-dev']));
var_dump(isset($composer['provide']['ext-kafka_lock']), isset($composer['require']['ext-kafka_lock']));
var_dump(count($composer['keywords']) > 0);
[$status, $out] = run(['composer', 'validate', '--strict', '--no-interaction'], "$root/stubs");
echo $status, ' ', $out, "\n";

echo "-- composer require --dev from a path repository (no network: packagist.org off)\n";
$project = sys_get_temp_dir() . '/kafka_lock_stubs_' . bin2hex(random_bytes(4));
mkdir($project);
file_put_contents("$project/composer.json", json_encode([
    'repositories' => [['type' => 'path', 'url' => "$root/stubs", 'options' => ['symlink' => false]], ['packagist.org' => false]],
]));
$env = ['COMPOSER_HOME' => "$project/.composer", 'COMPOSER_NO_AUDIT' => '1'] + getenv();
[$status, $out] = run(['composer', 'require', '--dev', '--no-interaction', '--no-audit', 'kafka-lock/kafka-lock-stubs:@dev'], $project, $env);
echo $status, $status ? " $out" : '', "\n";
$installed = "$project/vendor/kafka-lock/kafka-lock-stubs";
$files = is_dir($installed) ? array_values(array_diff(scandir($installed), ['.', '..'])) : [];
echo implode(' ', $files), "\n";
var_dump(file_exists($installed . '/kafka_lock.stub.php') && md5_file("$installed/kafka_lock.stub.php") === md5_file($stub));
var_dump(array_keys(json_decode(file_get_contents("$project/composer.json"), true)['require-dev']));
exec('rm -rf ' . escapeshellarg($project));

echo "-- composer.json: the PIE package of the extension\n";
$pie = json_decode(file_get_contents("$root/composer.json"), true, 512, JSON_THROW_ON_ERROR);
$ext = $pie['php-ext'];
echo $pie['name'], ' ', $pie['type'], ' ', $pie['license'], ' php', $pie['require']['php'], "\n";
echo 'vendor as the stub package: ', var_export(explode('/', $pie['name'])[0] === explode('/', $composer['name'])[0], true), "\n";
// PIE's rules (php/pie docs/extension-maintainers.md and its schema): an extension name it accepts,
// known OS families, one of os-families / os-families-exclude, download methods it knows.
echo $ext['extension-name'], ' ', preg_match('/^[A-Za-z][a-zA-Z0-9_]+$/', $ext['extension-name']), "\n";
echo 'zts ', var_export($ext['support-zts'], true), ', nts ', var_export($ext['support-nts'], true), "\n";
echo 'os-families ', implode(',', $ext['os-families']), ' ', var_export(!array_diff($ext['os-families'], ['windows', 'bsd', 'darwin', 'solaris', 'linux', 'unknown']) && !isset($ext['os-families-exclude']), true), "\n";
echo 'build-path ', $ext['build-path'], ': ', implode(' ', array_map(fn($f) => $f . (is_file("$root/{$ext['build-path']}/$f") ? '' : ' MISSING'), ['config.m4', 'Makefile.frag'])), "\n";
echo 'download-url-method ', implode(',', $ext['download-url-method']), ' ', var_export(!array_diff($ext['download-url-method'], ['composer-default', 'pre-packaged-source', 'pre-packaged-binary']), true), "\n";
echo 'priority ', $ext['priority'], "\n";
var_dump(isset($pie['autoload']), isset($pie['archive']));
// Composer before 2.7 does not know the php-ext section and calls it a publish warning only.
[$status, $out] = run(['composer', 'validate', '--strict', '--no-check-publish', '--no-interaction'], $root);
echo $status, "\n";
?>
--EXPECTF--
-- php -l
0 No syntax errors detected in STUB
-- declarations only: no statement runs when the stub is included without the extension
0 silent 7 classes
-- loading it next to the extension fails loudly
255 %AFatal error:%wCannot declare class DistributedLock, because the name is already in use
-- stubs/composer.json: the stub package
kafka-lock/kafka-lock-stubs library MIT php>=8.2
bool(false)
bool(false)
bool(false)
bool(false)
bool(true)
0 ./composer.json is valid
-- composer require --dev from a path repository (no network: packagist.org off)
0
composer.json kafka_lock.stub.php
bool(true)
array(1) {
  [0]=>
  string(27) "kafka-lock/kafka-lock-stubs"
}
-- composer.json: the PIE package of the extension
kafka-lock/kafka_lock php-ext MIT php>=8.2
vendor as the stub package: true
kafka_lock 1
zts false, nts true
os-families linux true
build-path ext: config.m4 Makefile.frag
download-url-method pre-packaged-binary,composer-default true
priority 20
bool(false)
bool(false)
0
