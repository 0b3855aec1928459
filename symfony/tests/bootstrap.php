<?php

declare(strict_types=1);

/*
 * Test bootstrap without `composer install`: Debian's symfony/lock and symfony/semaphore
 * (php-symfony-lock, php-symfony-semaphore), this library's src/, our tests, and Symfony's own
 * store test cases kept unchanged in tests/vendor-symfony/ (see ORIGIN.md there). PHPUnit is
 * Debian's (package phpunit). With a `composer install` in this folder, its autoloader is used
 * instead of Debian's packages.
 */

if (!extension_loaded('kafka_lock')) {
    fwrite(STDERR, "The kafka_lock extension is not loaded: run PHPUnit as\n"
        ."  php -d extension=/path/to/libkafka_lock.so /usr/bin/phpunit -c symfony/phpunit.xml.dist\n");
    exit(1);
}

if (is_file(__DIR__.'/../vendor/autoload.php')) {
    require_once __DIR__.'/../vendor/autoload.php';
} else {
    foreach (['Lock', 'Semaphore'] as $component) {
        $autoload = "/usr/share/php/Symfony/Component/$component/autoload.php";
        if (!is_file($autoload)) {
            fwrite(STDERR, "$autoload is missing: apt-get install php-symfony-".strtolower($component)."\n");
            exit(1);
        }
        require_once $autoload;
    }
}

spl_autoload_register(static function (string $class): void {
    static $prefixes = [
        'KafkaLock\\Symfony\\Tests\\' => __DIR__.'/',
        'KafkaLock\\Symfony\\' => __DIR__.'/../src/',
        'Symfony\\Component\\Lock\\Tests\\' => __DIR__.'/vendor-symfony/src/Symfony/Component/Lock/Tests/',
        'Symfony\\Component\\Semaphore\\Tests\\' => __DIR__.'/vendor-symfony/src/Symfony/Component/Semaphore/Tests/',
    ];
    foreach ($prefixes as $prefix => $dir) {
        if (str_starts_with($class, $prefix)) {
            $file = $dir.str_replace('\\', '/', substr($class, strlen($prefix))).'.php';
            if (is_file($file)) {
                require $file;
            }

            return;
        }
    }
});
