//! Method arguments converted the way PHP's own functions convert them, with PHP's own
//! TypeError messages. ext-php-rs would refuse an int identifier and say only "Invalid value
//! given"; `acquireLock($userId)` with an int is the call users write most.

use ext_php_rs::convert::{FromZval, StubLiteral};
use ext_php_rs::exception::PhpException;
use ext_php_rs::flags::DataType;
use ext_php_rs::types::Zval;
use ext_php_rs::zend::ce;

use crate::session::LockError;

/// What was wrong with an argument.
#[derive(Debug, Clone)]
pub enum ArgProblem {
    /// A type PHP would refuse too (array, null, an object without __toString): its PHP name.
    WrongType(String),
    /// A string that is not UTF-8 (lock keys and topic names are UTF-8 on the wire).
    NotUtf8,
}

/// The type name PHP's own TypeErrors use (an object's class name).
pub fn php_type_name(zval: &Zval) -> String {
    let name = if zval.is_null() {
        "null"
    } else if zval.is_bool() {
        "bool"
    } else if zval.is_long() {
        "int"
    } else if zval.is_double() {
        "float"
    } else if zval.is_string() {
        "string"
    } else if zval.is_array() {
        "array"
    } else if let Some(object) = zval.object() {
        return object.get_class_name().unwrap_or_else(|_| "object".to_owned());
    } else {
        "resource"
    };
    name.to_owned()
}

/// Whether the PHP code calling the running method declared `strict_types=1`: then only the
/// exact type is accepted (and an int for a float), as for PHP's own functions.
fn caller_uses_strict_types() -> bool {
    let globals = ext_php_rs::zend::ExecutorGlobals::get();
    // SAFETY: the engine's frames are live while the method runs; every pointer is checked.
    unsafe {
        let Some(current) = globals.current_execute_data.as_ref() else { return false };
        let Some(caller) = current.prev_execute_data.as_ref() else { return false };
        let Some(func) = caller.func.as_ref() else { return false };
        func.common.fn_flags & ext_php_rs::ffi::ZEND_ACC_STRICT_TYPES != 0
    }
}

/// A `string` parameter, coerced as PHP coerces arguments of its own functions (ints, floats,
/// bools, Stringable objects); null, arrays and other objects are a TypeError.
#[derive(Debug, Clone)]
pub struct StringArg(pub Result<String, ArgProblem>);

impl<'a> FromZval<'a> for StringArg {
    const TYPE: DataType = DataType::String;

    fn from_zval(zval: &'a Zval) -> Option<Self> {
        let zval = zval.dereference();
        let value = if let Some(s) = zval.str() {
            Ok(s.to_owned())
        } else if zval.is_string() {
            Err(ArgProblem::NotUtf8)
        } else if zval.is_null() || zval.is_array() || caller_uses_strict_types() {
            Err(ArgProblem::WrongType(php_type_name(zval)))
        } else {
            zval.coerce_to_string().ok_or_else(|| ArgProblem::WrongType(php_type_name(zval).to_owned()))
        };
        Some(StringArg(value))
    }
}

/// A `?float` parameter defaulting to null: floats, ints, numeric strings and bools (PHP's
/// coercion), or null.
#[derive(Debug, Clone)]
pub struct OptionalSeconds(pub Result<Option<f64>, ArgProblem>);

impl<'a> FromZval<'a> for OptionalSeconds {
    const TYPE: DataType = DataType::Double;
    const NULLABLE: bool = true;

    fn from_zval(zval: &'a Zval) -> Option<Self> {
        let zval = zval.dereference();
        let value = if zval.is_null() {
            Ok(None)
        } else if zval.is_double() {
            Ok(zval.double())
        } else if zval.is_long() {
            Ok(zval.long().map(|i| i as f64))
        } else if caller_uses_strict_types() {
            Err(ArgProblem::WrongType(php_type_name(zval)))
        } else if let Some(n) = zval.str().and_then(numeric) {
            Ok(Some(n))
        } else if zval.is_bool() {
            Ok(Some(if zval.is_true() { 1.0 } else { 0.0 }))
        } else {
            Err(ArgProblem::WrongType(php_type_name(zval)))
        };
        Some(OptionalSeconds(value))
    }

    fn from_missing() -> Option<Self> {
        Some(OptionalSeconds(Ok(None)))
    }
}

/// An `int` parameter, coerced as PHP coerces arguments of its own functions (integral floats,
/// integer strings, bools); a fraction is refused rather than truncated.
#[derive(Debug, Clone)]
pub struct IntArg(pub Result<i64, ArgProblem>);

impl From<i64> for IntArg {
    fn from(value: i64) -> Self {
        IntArg(Ok(value))
    }
}

impl StubLiteral for IntArg {
    fn stub_literal(&self) -> String {
        match &self.0 {
            Ok(value) => value.to_string(),
            Err(_) => "null".to_owned(),
        }
    }
}

impl<'a> FromZval<'a> for IntArg {
    const TYPE: DataType = DataType::Long;

    fn from_zval(zval: &'a Zval) -> Option<Self> {
        let zval = zval.dereference();
        let integral = |f: f64| (f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e18).then_some(f as i64);
        let value = if let Some(i) = zval.long() {
            Ok(i)
        } else if caller_uses_strict_types() || zval.is_null() {
            Err(ArgProblem::WrongType(php_type_name(zval)))
        } else if let Some(i) = zval.double().and_then(integral) {
            Ok(i)
        } else if let Some(i) = zval.str().and_then(numeric).and_then(integral) {
            Ok(i)
        } else if zval.is_bool() {
            Ok(i64::from(zval.is_true()))
        } else {
            Err(ArgProblem::WrongType(php_type_name(zval)))
        };
        Some(IntArg(value))
    }
}

/// PHP's numeric strings ("1.5", " 2 "); Rust's parser would also take "inf" and "nan".
fn numeric(s: &str) -> Option<f64> {
    let t = s.trim();
    let plain =
        !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'));
    plain.then(|| t.parse().ok()).flatten()
}

/// Unpacks an argument of `function` (`Class::method`), throwing what PHP would throw for it.
pub fn take<T>(
    value: Result<T, ArgProblem>,
    function: &str,
    position: u32,
    name: &str,
    expected: &str,
) -> Result<T, PhpException> {
    value.map_err(|problem| match problem {
        ArgProblem::WrongType(given) => PhpException::new(
            format!("{function}(): Argument #{position} (${name}) must be of type {expected}, {given} given"),
            0,
            ce::type_error(),
        ),
        ArgProblem::NotUtf8 => crate::php::exceptions::to_php(LockError::Argument(format!(
            "invalid {}: not valid UTF-8",
            match name {
                "topic" => "topic name",
                "name" => "semaphore name",
                _ => "lock identifier",
            }
        ))),
    })
}
