# kafka_lock (ext/config.m4): cargo builds the module; these rules stand where libtool's would
# for a C extension, so phpize's own targets work unchanged:
#   ./kafka_lock.la, .libs/kafka_lock.so   cargo build --release (when a source file is newer)
#   $(phplibdir)/kafka_lock.la             modules/kafka_lock.so, what `make install` installs
# `make install` only copies a module `make` built: it does not run cargo, so `sudo make install`
# (PIE's way when the extension folder is not writable) needs no Rust toolchain for root.
# CARGO_TARGET_DIR (environment or make variable) moves cargo's target folder as usual.

KAFKA_LOCK_TARGET_DIR = $(if $(CARGO_TARGET_DIR),$(CARGO_TARGET_DIR),$(KAFKA_LOCK_CRATE_DIR)/target)
KAFKA_LOCK_SOURCES = $(KAFKA_LOCK_CRATE_DIR)/Cargo.toml $(KAFKA_LOCK_CRATE_DIR)/Cargo.lock \
	$(shell find '$(KAFKA_LOCK_CRATE_DIR)/src' -name '*.rs')

./kafka_lock.la: $(KAFKA_LOCK_SOURCES)
	PHP_CONFIG='$(KAFKA_LOCK_PHP_CONFIG)' PHP='$(KAFKA_LOCK_PHP)' '$(CARGO)' build --release --locked --lib \
		--manifest-path '$(KAFKA_LOCK_CRATE_DIR)/Cargo.toml' --target-dir '$(KAFKA_LOCK_TARGET_DIR)'
	@mkdir -p .libs
	cp '$(KAFKA_LOCK_TARGET_DIR)/release/libkafka_lock.so' .libs/kafka_lock.so
	@printf '%s\n' "# written by ext/Makefile.frag: cargo built .libs/kafka_lock.so" "dlname='kafka_lock.so'" >$@

$(phplibdir)/kafka_lock.la: ./kafka_lock.la
	@mkdir -p $(phplibdir)
	cp .libs/kafka_lock.so $(phplibdir)/kafka_lock.so
	cp ./kafka_lock.la $@
