dnl kafka_lock, PHP's own build route: in this folder, `phpize && ./configure && make && make install`
dnl (PIE does the same here: composer.json's "build-path" is "ext"). There is no C to compile:
dnl ./configure checks for cargo and a new enough rustc, and Makefile.frag builds the crate one
dnl folder up with `cargo build --release` for the PHP of --with-php-config, then installs it as
dnl kafka_lock.so into that PHP's extension folder.
dnl
dnl Why a sub-folder and not the top of the checkout: ./configure writes ./Makefile and
dnl `phpize --clean` deletes it, which at the top would be the project's own Makefile.

PHP_ARG_ENABLE([kafka_lock],
  [whether to enable kafka_lock],
  [AS_HELP_STRING([--enable-kafka_lock], [Build kafka_lock (a Rust crate, built with cargo)])],
  [yes])

if test "$PHP_KAFKA_LOCK" != "no"; then
  dnl The oldest rustc that builds Cargo.lock, stated here and nowhere else (README points here):
  dnl darling 0.24 (ext-php-rs 0.16.4's derive macros) declares rust-version 1.88; several other
  dnl locked crates use edition 2024 (1.85). Cargo.toml's own rust-version is lower than that.
  KAFKA_LOCK_MIN_RUSTC=1.88

  KAFKA_LOCK_CRATE_DIR=`cd "$abs_srcdir/.." && pwd`
  if test ! -f "$KAFKA_LOCK_CRATE_DIR/Cargo.toml" || test ! -f "$KAFKA_LOCK_CRATE_DIR/Cargo.lock"; then
    AC_MSG_ERROR([no Cargo.toml and Cargo.lock in $KAFKA_LOCK_CRATE_DIR: run phpize in the ext/ folder of a kafka_lock checkout])
  fi

  AC_ARG_VAR([CARGO], [the cargo to build kafka_lock with (default: cargo on the PATH)])
  AC_ARG_VAR([RUSTC], [the rustc whose version is checked (default: rustc on the PATH, the one cargo runs unless RUSTC is also set for make)])
  AC_PATH_PROG([CARGO], [cargo], [no])
  if test "$CARGO" = "no"; then
    AC_MSG_ERROR([cargo not found on the PATH. kafka_lock is written in Rust: install a Rust toolchain (rustc $KAFKA_LOCK_MIN_RUSTC or newer, e.g. with rustup from https://rustup.rs; Debian's cargo package is too old), or give its path with CARGO=/path/to/cargo])
  fi
  AC_PATH_PROG([RUSTC], [rustc], [no])
  if test "$RUSTC" = "no"; then
    AC_MSG_ERROR([rustc not found on the PATH (cargo is $CARGO): put the toolchain's bin folder on the PATH, or set RUSTC=/path/to/rustc])
  fi

  AC_MSG_CHECKING([whether rustc is $KAFKA_LOCK_MIN_RUSTC or newer])
  dnl Asked from the crate's folder, so a rustup override or rust-toolchain file there counts.
  kafka_lock_rustc_version=`cd "$KAFKA_LOCK_CRATE_DIR" && "$RUSTC" --version 2>/dev/null | awk '{ print $2 }'`
  kafka_lock_have=`echo "$kafka_lock_rustc_version" | awk -F. '{ print $1 * 1000 + $2 }'`
  kafka_lock_need=`echo "$KAFKA_LOCK_MIN_RUSTC" | awk -F. '{ print $1 * 1000 + $2 }'`
  if test -z "$kafka_lock_rustc_version" || test "$kafka_lock_have" -lt "$kafka_lock_need"; then
    AC_MSG_RESULT([no (${kafka_lock_rustc_version:-unknown version}, $RUSTC)])
    AC_MSG_ERROR([rustc $KAFKA_LOCK_MIN_RUSTC or newer is needed to build kafka_lock's locked dependencies; $RUSTC is ${kafka_lock_rustc_version:-of unknown version} (rustup: rustup update stable)])
  fi
  AC_MSG_RESULT([yes ($kafka_lock_rustc_version)])

  dnl The bundled librdkafka is built with TLS and SASL (rdkafka's "ssl" feature): OpenSSL's
  dnl headers must be there (openssl-sys also honours OPENSSL_DIR). zstd is built in; zlib is the
  dnl system's when pkg-config finds it (Debian: zlib1g-dev), else built in too.
  AC_MSG_CHECKING([for OpenSSL's development files])
  if test -n "$OPENSSL_DIR" || { test -n "$PKG_CONFIG" && $PKG_CONFIG --exists openssl; }; then
    AC_MSG_RESULT([yes])
  else
    AC_MSG_RESULT([no])
    AC_MSG_ERROR([OpenSSL's development files were not found with pkg-config (Debian: apt-get install libssl-dev pkg-config; or set OPENSSL_DIR)])
  fi

  dnl ext-php-rs reads the target PHP from the environment (PHP_CONFIG, PHP), and wants paths.
  case "$PHP_CONFIG" in
    /*) KAFKA_LOCK_PHP_CONFIG=$PHP_CONFIG ;;
    */*) KAFKA_LOCK_PHP_CONFIG=`pwd`/$PHP_CONFIG ;;
    *) KAFKA_LOCK_PHP_CONFIG=`command -v "$PHP_CONFIG"` ;;
  esac
  KAFKA_LOCK_PHP=$PHP_EXECUTABLE
  if test ! -x "$KAFKA_LOCK_PHP"; then
    AC_MSG_ERROR([$PHP_CONFIG --php-binary names no executable PHP ($KAFKA_LOCK_PHP); ext-php-rs needs that PHP's php -i])
  fi
  AC_MSG_CHECKING([for the PHP kafka_lock is built for])
  AC_MSG_RESULT([$KAFKA_LOCK_PHP, $KAFKA_LOCK_PHP_CONFIG])
  if test "$PHP_THREAD_SAFETY" = "yes"; then
    AC_MSG_WARN([this PHP is thread-safe (ZTS): kafka_lock is only tested on NTS builds])
  fi

  dnl No PHP_NEW_EXTENSION (it would add libtool rules for C objects): Makefile.frag provides
  dnl $(phplibdir)/kafka_lock.la, which phpize's `all` builds and `make install` installs.
  PHP_MODULES='$(phplibdir)/kafka_lock.la'
  PHP_ADD_BUILD_DIR([modules])
  PHP_SUBST(KAFKA_LOCK_CRATE_DIR)
  PHP_SUBST(KAFKA_LOCK_PHP_CONFIG)
  PHP_SUBST(KAFKA_LOCK_PHP)
  PHP_SUBST(CARGO)
  PHP_ADD_MAKEFILE_FRAGMENT([$abs_srcdir/Makefile.frag], [$abs_srcdir], [$abs_builddir])
fi
