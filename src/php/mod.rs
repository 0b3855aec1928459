//! The PHP binding layer: the only place that touches the Zend engine. Everything here runs on
//! the PHP thread; it converts arguments, calls the session layer, and maps errors to exceptions.

mod args;
mod config;
mod distributed_lock;
mod distributed_semaphore;
mod exceptions;
mod stats;

use ext_php_rs::prelude::*;
use ext_php_rs::zend::ModuleEntry;
use ext_php_rs::{info_table_end, info_table_header, info_table_row, info_table_start};

use crate::session::{kafka, registry};

/// Why the module refuses to start on a thread-safe PHP, or `None` on the PHP it supports.
/// Holds belong to the process-wide sessions and request end releases all of them, so under
/// ZTS (FrankenPHP, Apache's worker MPM, `parallel`) one request's end would release other
/// threads' holds; no ZTS build is tested.
fn zts_refusal(zts: bool) -> Option<&'static str> {
    zts.then_some(
        "kafka_lock does not support thread-safe PHP (ZTS): the end of one request would release \
         the locks other threads hold. Use a non-thread-safe PHP (php-fpm, CLI, Apache prefork)",
    )
}

extern "C" fn startup(_ty: i32, module_number: i32) -> i32 {
    if let Some(why) = zts_refusal(ext_php_rs::PHP_ZTS) {
        ext_php_rs::error::php_error(&ext_php_rs::flags::ErrorType::CoreWarning, why);
        return -1;
    }
    config::register_ini_entries(module_number);
    match exceptions::register() {
        Ok(()) => 0,
        Err(_) => -1,
    }
}

/// End of every request: release what the request still holds (like symfony/lock's autoRelease).
extern "C" fn request_shutdown(_ty: i32, _module_number: i32) -> i32 {
    let _ = std::panic::catch_unwind(registry::release_all);
    0
}

/// Process end: let the releases reach the brokers and stop the threads before PHP may unload us.
extern "C" fn module_shutdown(_ty: i32, _module_number: i32) -> i32 {
    let _ = std::panic::catch_unwind(registry::shutdown);
    0
}

extern "C" fn info(_module: *mut ModuleEntry) {
    let _ = std::panic::catch_unwind(|| {
        info_table_start!();
        info_table_header!("kafka_lock", "enabled");
        info_table_row!("kafka_lock version", env!("CARGO_PKG_VERSION"));
        info_table_row!("librdkafka version", kafka::librdkafka_version());
        info_table_row!("protocol", "v1 (max ttl 60 s)");
        info_table_end!();
        info_table_start!();
        stats::info_rows(&registry::totals());
        info_table_end!();
    });
}

#[php_module]
#[php(startup = startup)]
pub fn get_module(module: ModuleBuilder) -> ModuleBuilder {
    module
        .name("kafka_lock")
        .version(env!("CARGO_PKG_VERSION"))
        .class::<distributed_lock::DistributedLock>()
        .class::<distributed_semaphore::DistributedSemaphore>()
        .request_shutdown_function(request_shutdown)
        .shutdown_function(module_shutdown)
        .info_function(info)
}
