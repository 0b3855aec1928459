//! The exception hierarchy, registered by hand so PHP code can `new`, subclass and catch them
//! (classes declared with `#[php_class]` get a constructor that throws: ext-php-rs issue #203).
//!
//! ```text
//! RuntimeException
//!  └─ DistributedLockException
//!      ├─ DistributedLockConfigException      bad option, INI setting, topic name or argument
//!      ├─ DistributedLockConnectionException  brokers unreachable or too slow
//!      ├─ DistributedLockTopicException       topic unusable (CreateTime, missing, ...)
//!      ├─ DistributedLockLostException        a held lease was lost
//!      └─ DistributedLockConflictException    the lock is used in a mode this request cannot join
//! ```

use std::sync::atomic::{AtomicPtr, Ordering};

use ext_php_rs::builders::ClassBuilder;
use ext_php_rs::exception::PhpException;
use ext_php_rs::ffi::zend_class_entry;
use ext_php_rs::zend::{ce, ClassEntry};

use crate::session::LockError;

extern "C" {
    // Exported by the PHP binary; SPL starts before dynamically loaded extensions.
    static spl_ce_RuntimeException: *mut zend_class_entry;
}

fn runtime_exception() -> &'static ClassEntry {
    // SAFETY: read after SPL's start-up; falls back to Exception if SPL left it unset.
    unsafe { spl_ce_RuntimeException.cast::<ClassEntry>().as_ref() }.unwrap_or_else(ce::exception)
}

macro_rules! exception_classes {
    ($($slot:ident, $register:ident, $getter:ident;)*) => {
        $(
            static $slot: AtomicPtr<ClassEntry> = AtomicPtr::new(std::ptr::null_mut());
            fn $register(class: &'static mut ClassEntry, arg_info: ext_php_rs::args::ArgInfoTables) {
                // No methods, but the engine may keep pointers into the tables: keep them.
                std::mem::forget(arg_info);
                $slot.store(class, Ordering::Release);
            }
            fn $getter() -> &'static ClassEntry {
                // SAFETY: set once during start-up, before any PHP code runs; never freed.
                unsafe { $slot.load(Ordering::Acquire).as_ref() }.unwrap_or_else(ce::exception)
            }
        )*
    };
}

exception_classes! {
    BASE, register_base, base;
    CONFIG, register_config, config;
    CONNECTION, register_connection, connection;
    TOPIC, register_topic, topic;
    LOST, register_lost, lost;
    CONFLICT, register_conflict, conflict;
}

/// Registers the classes; called from the module's start-up function.
pub fn register() -> ext_php_rs::error::Result<()> {
    ClassBuilder::new("DistributedLockException")
        .extends((runtime_exception, "RuntimeException"))
        .registration(register_base)
        .register()?;
    type Registration = fn(&'static mut ClassEntry, ext_php_rs::args::ArgInfoTables);
    let children: [(&str, Registration); 5] = [
        ("DistributedLockConfigException", register_config),
        ("DistributedLockConnectionException", register_connection),
        ("DistributedLockTopicException", register_topic),
        ("DistributedLockLostException", register_lost),
        ("DistributedLockConflictException", register_conflict),
    ];
    for (name, registration) in children {
        ClassBuilder::new(name)
            .extends((base, "DistributedLockException"))
            .registration(registration)
            .register()?;
    }
    Ok(())
}

/// The PHP exception for a session error.
pub fn to_php(error: LockError) -> PhpException {
    let class = match &error {
        LockError::Config(_) | LockError::Argument(_) => config(),
        LockError::Connection(_) => connection(),
        LockError::Topic(_) => topic(),
        LockError::Lost(_) => lost(),
        LockError::Conflict(_) => conflict(),
    };
    // A NUL byte cannot be part of an exception message (the engine refuses to throw it), and
    // identifiers and topic names may contain one.
    PhpException::new(error.to_string().replace('\0', "\\0"), 0, class)
}
