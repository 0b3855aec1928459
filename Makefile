# kafka_lock: development and CI entry points (see README.md).
#   make demo / make test        the two commands that matter
#   make kafka-start|kafka-stop  one local broker on localhost:9092
#   make kafka-secure-start|kafka-secure-stop
#                                one broker with TLS, SASL and ACLs on localhost:9292 (SASL_SSL), 9293 (mTLS)
#   make cluster-start|cluster-stop, make node-stop|node-start|node-kill N=1
#                                three-node cluster on localhost:19092,29092,39092
SHELL := /bin/bash
N ?= 1

setup:
	scripts/setup.sh

# The extension (target/release/libkafka_lock.so) and the operator's CLI (target/release/kafka-lock,
# a crate of its own in cli/: built apart so the PHP binding's features stay out of it).
build: setup
	cargo build --release
	cargo build --release --manifest-path cli/Cargo.toml --target-dir target

# The benchmark is not part of it (make bench-quick: about 90 s with its contenders' set-up):
# make test must stay under 15 minutes on 2 cores from a fresh machine.
test: setup build kafka-start kafka-secure-start install-test phpize-test dist-test fpm-test lint-extension
	scripts/test.sh
	python3 chaos/run.py --quick

# rustfmt and clippy (-D warnings) for the extension and the helper crates; make test runs
# lint-extension (rustfmt for all, clippy for the extension only): in a clean-clone make test the
# helpers' clippy passes took 91 of lint's 104 s, CI's make test took 877 of its 900 s.
lint: setup
	scripts/lint.sh

lint-extension: setup
	scripts/lint.sh --extension

# make install / make uninstall: into `php-config --extension-dir`, enabled with phpenmod (or PHP's
# scan folder); PHP_CONFIG=... picks another PHP, DESTDIR=... stages the files for a package.
# install-test (part of make test) installs, checks and uninstalls both ways, and leaves PHP's
# configuration as it was.
install:
	scripts/install.sh install

uninstall:
	scripts/install.sh uninstall

install-test: build kafka-start
	scripts/install_test.sh

# PHP's own build route, the one PIE runs (ext/config.m4, ext/Makefile.frag): phpize, ./configure,
# make and make install INSTALL_ROOT=<temp dir> on a copy of the checkout; the staged module must
# load, and ./configure must fail clearly without cargo or with an old rustc. cargo builds into
# target/phpize-test/, seeded from target/release: about 80 s the first time, then 5 to 45 s.
phpize-test: build
	scripts/phpize_test.sh

# make dist: dist/php_kafka_lock-<version>_php<X.Y>-<arch>-linux-glibc.zip and its .sha256, the
# stripped module named as PIE's pre-packaged-binary download looks for it, reproducible.
dist: build
	scripts/dist.sh

# make test's check of it: built twice (same bytes), unpacked, loaded, a lock taken on
# localhost:9092, the exported symbols and the shared libraries it needs checked. About 6 s.
dist-test: build kafka-start
	scripts/dist_test.sh

# php-fpm and nginx for real (fpm/README.md): a private php-fpm8.2 pool (8 workers) behind a
# private nginx, loaded with ab on one hot lock and many identifiers while holds end by release,
# by the request's end, by exit(), by an uncaught exception and by SIGKILL of the worker, and the
# master reloads; fails on an overlap, a lost counter update, a token out of order, a crash or a
# slow hand-off. The self-check first: the app without the lock must be caught. About 40 s.
fpm-test: build kafka-start
	python3 fpm/run.py --self-check
	python3 fpm/run.py

demo: setup build kafka-start
	php -n -d extension=$(CURDIR)/target/release/libkafka_lock.so examples/article.php

# --- benchmarks (bench/README.md, docs/performance.md) ---------------------------
BENCH_PY := /usr/bin/python3

bench-setup: setup
	bench/setup.sh

# Shares target/ with the extension, so the bundled librdkafka is built once.
bench-build:
	cargo build --release --manifest-path bench/kafka-floor/Cargo.toml --target-dir target

bench: bench-setup build kafka-start bench-build
	$(BENCH_PY) bench/run.py

bench-quick: bench-setup build kafka-start bench-build
	$(BENCH_PY) bench/run.py --quick

# --- fault injection (docs/reliability.md); the suite runs private brokers on other ports ---
# run.py runs chaos/selftest.py first, then fails on a safety violation, a failed check (a
# missing log, fewer acquisitions than a scenario's minimum, an exception the scenario does not
# allow, a stuck waiter, a topic that should have been refused), an interruption or a run that
# did not finish (`make test` likewise). Scenarios: kill, pause, junk, cutoff, forge, truncate,
# compacted, retention, restart (all in both runs); cluster, skew, hostile (full run only).
chaos: setup build
	python3 chaos/run.py --full

chaos-quick: setup build
	python3 chaos/run.py --quick

kafka-start: setup
	scripts/kafka.sh start

kafka-stop:
	scripts/kafka.sh stop

kafka-status:
	scripts/kafka.sh status

kafka-secure-start: setup
	scripts/kafka.sh secure-start

kafka-secure-stop:
	scripts/kafka.sh secure-stop

cluster-start: setup
	scripts/kafka.sh cluster-start

cluster-stop:
	scripts/kafka.sh cluster-stop

node-stop:
	scripts/kafka.sh node-stop $(N)

node-start: setup
	scripts/kafka.sh node-start $(N)

node-kill:
	scripts/kafka.sh node-kill $(N)

clean-run: kafka-stop kafka-secure-stop cluster-stop
	rm -rf .run

.PHONY: setup build test lint lint-extension install uninstall install-test phpize-test dist dist-test fpm-test demo bench-setup bench-build bench bench-quick chaos chaos-quick kafka-start kafka-stop kafka-status kafka-secure-start kafka-secure-stop cluster-start cluster-stop \
	node-stop node-start node-kill clean-run
