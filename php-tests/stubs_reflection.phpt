--TEST--
stubs/kafka_lock.stub.php declares exactly what the loaded extension does (Reflection), with full phpdoc
--FILE--
<?php
/*
 * The stub is never loaded into this process (it would redeclare the extension's classes):
 * a child `php -n` without the extension includes it and prints the same normalised
 * description that this process makes of the extension. The two must be equal.
 */
const STUB = __DIR__ . '/../stubs/kafka_lock.stub.php';

/** One line per fact, sorted, so a difference shows as the lines only one side has. */
function describe_class(ReflectionClass $class): array
{
    $name = $class->getName();
    $interfaces = $class->getInterfaceNames();
    sort($interfaces);
    $lines = [sprintf('class %s: parent=%s final=%s abstract=%s interface=%s interfaces=%s',
        $name, $class->getParentClass() ? $class->getParentClass()->getName() : '-',
        var_export($class->isFinal(), true), var_export($class->isAbstract(), true),
        var_export($class->isInterface(), true), implode(',', $interfaces))];
    foreach ($class->getReflectionConstants() as $constant) {
        if ($constant->getDeclaringClass()->getName() === $name) {
            $lines[] = sprintf('const %s::%s = %s', $name, $constant->getName(), var_export($constant->getValue(), true));
        }
    }
    foreach ($class->getProperties() as $property) {
        if ($property->getDeclaringClass()->getName() === $name) {
            $lines[] = sprintf('property %s::$%s: %s %s', $name, $property->getName(),
                implode(' ', Reflection::getModifierNames($property->getModifiers())), $property->getType() ?? '-');
        }
    }
    foreach ($class->getMethods() as $method) {
        if ($method->getDeclaringClass()->getName() !== $name) {
            continue;
        }
        $id = "$name::{$method->getName()}()";
        $lines[] = sprintf('method %s: %s return=%s tentative=%s byref=%s params=%d required=%d', $id,
            implode(' ', Reflection::getModifierNames($method->getModifiers())),
            $method->hasReturnType() ? $method->getReturnType() : '-',
            $method->hasTentativeReturnType() ? $method->getTentativeReturnType() : '-',
            var_export($method->returnsReference(), true),
            $method->getNumberOfParameters(), $method->getNumberOfRequiredParameters());
        foreach ($method->getParameters() as $p) {
            $lines[] = sprintf('param %s #%d $%s: type=%s nullable=%s optional=%s default=%s variadic=%s byref=%s',
                $id, $p->getPosition(), $p->getName(), $p->hasType() ? $p->getType() : '-',
                var_export($p->allowsNull(), true), var_export($p->isOptional(), true),
                $p->isDefaultValueAvailable() ? var_export($p->getDefaultValue(), true) : '-',
                var_export($p->isVariadic(), true), var_export($p->isPassedByReference(), true));
        }
    }
    return $lines;
}

function describe(array $classes, array $functions, array $constants): array
{
    $lines = [];
    foreach ($classes as $class) {
        array_push($lines, ...describe_class(new ReflectionClass($class)));
    }
    foreach ($functions as $function) {
        $lines[] = "function $function";
    }
    foreach ($constants as $constant => $value) {
        $lines[] = "constant $constant = " . var_export($value, true);
    }
    $lines = array_map(fn($l) => str_replace("\n", ' ', $l), $lines);
    sort($lines);
    return $lines;
}

/** Normalised type set of a phpdoc or Reflection type: "?float" and "float|null" agree. */
function type_set(string $type): string
{
    $type = preg_replace('/<.*>/', '', $type);
    if (str_starts_with($type, '?')) {
        $type = substr($type, 1) . '|null';
    }
    $parts = explode('|', strtolower($type));
    sort($parts);
    return implode('|', $parts);
}

/** Problems of the stub's phpdoc: every class and method documented, every @param/@return typed like the code. */
function doc_problems(array $classes): array
{
    $problems = [];
    foreach ($classes as $className) {
        $class = new ReflectionClass($className);
        if (!$class->getDocComment()) {
            $problems[] = "$className has no docblock";
        }
        foreach ($class->getMethods() as $method) {
            if ($method->getDeclaringClass()->getName() !== $className) {
                continue;
            }
            $id = "$className::{$method->getName()}()";
            $doc = $method->getDocComment();
            if (!$doc) {
                $problems[] = "$id has no docblock";
                continue;
            }
            foreach ($method->getParameters() as $p) {
                if (!preg_match('/@param\s+(\S+(?:<[^>]*>)?)\s+\$' . $p->getName() . '\s+\S/', $doc, $m)) {
                    $problems[] = "$id: no described @param for \${$p->getName()}";
                } elseif (type_set($m[1]) !== type_set((string) $p->getType())) {
                    $problems[] = "$id: @param {$m[1]} \${$p->getName()} differs from the type {$p->getType()}";
                }
            }
            if ($method->hasReturnType()) {
                // An array shape (array{key: type, ...}, for IDEs and static analysers) counts as array.
                if (!preg_match('/@return\s+(array(\{(?:[^{}]++|(?2))*\})|\S+)\s+\S/', $doc, $m)) {
                    $problems[] = "$id: no described @return";
                } elseif (type_set(isset($m[2]) && $m[2] !== '' ? 'array' : $m[1]) !== type_set((string) $method->getReturnType())) {
                    $problems[] = "$id: @return {$m[1]} differs from the type {$method->getReturnType()}";
                }
            } elseif ($method->getName() !== '__construct') {
                $problems[] = "$id has no return type";
            }
            // A method that cannot fail says so in words instead.
            if (!preg_match('/@throws\s+DistributedLock\w*Exception\s+\S/', $doc) && !str_contains($doc, 'Throws nothing.')) {
                $problems[] = "$id: no described @throws";
            }
            preg_match_all('/@throws\s+(\S+)/', $doc, $thrown);
            foreach ($thrown[1] as $exception) {
                if (!in_array($exception, $classes, true)) {
                    $problems[] = "$id: @throws $exception is not a class of the extension";
                }
            }
        }
    }
    return $problems;
}

// ---- child mode: describe the stub (run without the extension) ----
if (($argv[1] ?? '') === '--describe-stub') {
    if (extension_loaded('kafka_lock')) {
        exit("the child must run without the extension\n");
    }
    $classes = get_declared_classes();
    $functions = get_defined_functions()['user'];
    $constants = get_defined_constants(true)['user'] ?? [];
    require STUB;
    $classes = array_values(array_diff(get_declared_classes(), $classes));
    $functions = array_values(array_diff(get_defined_functions()['user'], $functions));
    $constants = array_diff_key(get_defined_constants(true)['user'] ?? [], $constants);
    echo serialize([
        'description' => describe($classes, $functions, $constants),
        'docs' => doc_problems($classes),
        'lockDoc' => (string) (new ReflectionClass('DistributedLock'))->getDocComment(),
    ]);
    exit(0);
}

// ---- parent mode: the loaded extension ----
$extension = new ReflectionExtension('kafka_lock');
$fromExtension = describe($extension->getClassNames(), array_keys($extension->getFunctions()), $extension->getConstants());

$command = [PHP_BINARY, '-n', '-d', 'display_errors=stderr', __FILE__, '--describe-stub'];
$child = proc_open($command, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
$out = stream_get_contents($pipes[1]);
$err = stream_get_contents($pipes[2]);
$status = proc_close($child);
$stub = @unserialize($out);
if ($status !== 0 || !is_array($stub)) {
    exit("describing the stub failed (status $status):\n$out\n$err\n");
}

echo "-- declarations\n";
$onlyExtension = array_diff($fromExtension, $stub['description']);
$onlyStub = array_diff($stub['description'], $fromExtension);
foreach ($onlyExtension as $line) {
    echo "only in the extension: $line\n";
}
foreach ($onlyStub as $line) {
    echo "only in the stub:      $line\n";
}
if (!$onlyExtension && !$onlyStub) {
    printf("stub and extension agree: %d classes, %d methods, %d parameters\n",
        count(preg_grep('/^class /', $fromExtension)), count(preg_grep('/^method /', $fromExtension)),
        count(preg_grep('/^param /', $fromExtension)));
}

echo "-- phpdoc of every class and method\n";
echo $stub['docs'] ? implode("\n", $stub['docs']) . "\n" : "complete\n";

echo "-- the class docblock documents every option and INI setting\n";
// The option names the extension accepts, as its own error messages list them.
$listed = function (array $config, string $pattern): array {
    try {
        new DistributedLock('phpt_stub', $config);
    } catch (DistributedLockConfigException $e) {
        if (preg_match($pattern, $e->getMessage(), $m)) {
            return explode(', ', $m[1]);
        }
        exit("unexpected message: {$e->getMessage()}\n");
    }
    exit("no exception\n");
};
$names = array_merge(
    $listed(['lock.no_such_option' => 1], '/lock options are: (.*)$/'),
    $listed(['no.such.option' => 1], '/connection properties \(([^)]*)\)/'),
    ['metadata.broker.list', 'bootstrap.servers'],
    array_keys($extension->getINIEntries()),
);
$undocumented = array_filter($names, fn($n) => !str_contains($stub['lockDoc'], "`$n`"));
echo $undocumented ? 'undocumented: ' . implode(', ', $undocumented) . "\n" : count($names) . " names, all documented\n";
foreach ($extension->getINIEntries() as $name => $default) {
    if (!str_contains($stub['lockDoc'], "`$name` (default $default)") && !str_contains($stub['lockDoc'], "`$name` (default \"$default\")")) {
        echo "the docblock does not give the default of $name ($default)\n";
    }
}
?>
--EXPECTF--
-- declarations
stub and extension agree: 8 classes, 20 methods, 28 parameters
-- phpdoc of every class and method
complete
-- the class docblock documents every option and INI setting
%d names, all documented
