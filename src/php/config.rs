//! Reading the PHP side of the configuration: the `$config` array and the INI settings.

use ext_php_rs::convert::{FromZval, StubLiteral};
use ext_php_rs::error::php_error;
use ext_php_rs::flags::{DataType, ErrorType, IniEntryPermission};
use ext_php_rs::types::{ArrayKey, Zval};
use std::ffi::{CStr, CString};

use ext_php_rs::zend::{ExecutorGlobals, IniEntryDef};

use crate::php::args::{php_type_name, ArgProblem};
use crate::session::{ConfigValue, Defaults, LockError, LockResult, DEFAULT_SETTINGS};

/// One entry of `$config`: the key (or the int key that is not allowed) and the value (or the
/// PHP type that cannot be an option value).
type ConfigEntry = (Result<String, String>, Result<ConfigValue, String>);

/// The `$config` argument: every entry with its value converted, or why it could not be.
/// Conversion errors are reported by the constructor, naming the key, not as a TypeError.
#[derive(Debug, Clone)]
pub struct ConfigArray(pub Result<Vec<ConfigEntry>, ArgProblem>);

impl Default for ConfigArray {
    fn default() -> Self {
        ConfigArray(Ok(Vec::new()))
    }
}

impl<'a> FromZval<'a> for ConfigArray {
    const TYPE: DataType = DataType::Array;

    fn from_zval(zval: &'a Zval) -> Option<Self> {
        let zval = zval.dereference();
        let Some(array) = zval.array() else {
            return Some(ConfigArray(Err(ArgProblem::WrongType(php_type_name(zval)))));
        };
        let entries = array
            .iter()
            .map(|(key, value)| {
                let key = match key {
                    ArrayKey::String(s) => Ok(s),
                    ArrayKey::Str(s) => Ok(s.to_owned()),
                    ArrayKey::ZendString(s) => Ok(s
                        .as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|_| String::from_utf8_lossy(s.as_bytes()).into_owned())),
                    ArrayKey::Long(i) => Err(i.to_string()),
                };
                (key, convert(value))
            })
            .collect();
        Some(ConfigArray(Ok(entries)))
    }
}

impl StubLiteral for ConfigArray {
    fn stub_literal(&self) -> String {
        "[]".to_owned()
    }
}

fn convert(value: &Zval) -> Result<ConfigValue, String> {
    let value = value.dereference();
    if let Some(s) = value.str() {
        Ok(ConfigValue::Str(s.to_owned()))
    } else if value.is_long() {
        Ok(ConfigValue::Int(value.long().unwrap_or_default()))
    } else if value.is_double() {
        Ok(ConfigValue::Float(value.double().unwrap_or_default()))
    } else if value.is_bool() {
        Ok(ConfigValue::Bool(value.is_true()))
    } else if value.is_string() {
        Err("a string that is not valid UTF-8".to_owned())
    } else {
        Err(php_type_name(value))
    }
}

impl ConfigArray {
    /// The entries as the session layer takes them, or the first bad key or value.
    pub fn entries(&self) -> LockResult<Vec<(String, ConfigValue)>> {
        let Ok(entries) = &self.0 else { return Ok(Vec::new()) };
        entries
            .iter()
            .map(|(key, value)| {
                let key = key.clone().map_err(|k| {
                    LockError::Config(format!("option names must be strings, integer key {k} given"))
                })?;
                let value = value.clone().map_err(|t| {
                    LockError::Config(format!(
                        "option '{key}' must be a string, int, float or bool, {t} given"
                    ))
                })?;
                Ok((key, value))
            })
            .collect()
    }
}

/// The INI setting of an option: `kafka_lock.` and the option's name without its `lock.`
/// prefix (`lock.ttl` is `kafka_lock.ttl`, the brokers are `kafka_lock.brokers`).
fn ini_name(option: &str) -> String {
    format!("kafka_lock.{}", option.strip_prefix("lock.").unwrap_or(option))
}

/// The option an INI setting sets (the inverse of [`ini_name`]).
fn option_of_ini(ini: &str) -> Option<&'static str> {
    DEFAULT_SETTINGS.iter().map(|(option, _)| *option).find(|option| ini_name(option) == ini)
}

/// Registers one INI entry per default setting, each with its default: the defaults' one home
/// is the session layer's `DEFAULT_SETTINGS`. The table lives as long as the process (the
/// engine keeps pointers into it), so it is leaked once, at module start-up.
pub fn register_ini_entries(module_number: i32) {
    let leak = |text: String| -> &'static CStr {
        Box::leak(CString::new(text).expect("setting names and defaults have no NUL").into_boxed_c_str())
    };
    let mut entries: Vec<IniEntryDef> = DEFAULT_SETTINGS
        .iter()
        .map(|(option, default)| {
            let entry =
                IniEntryDef::new(leak(ini_name(option)), leak(default.to_string()), IniEntryPermission::All);
            // A new value is validated: `ini_set()` of a bad value returns false and keeps the
            // old one; an entry with a handler can also be `ini_restore()`d.
            IniEntryDef { on_modify: Some(on_modify), ..entry }
        })
        .collect();
    entries.push(IniEntryDef::end());
    IniEntryDef::register(Box::leak(entries.into_boxed_slice()), module_number);
}

unsafe extern "C" fn on_modify(
    entry: *mut ext_php_rs::ffi::zend_ini_entry,
    new_value: *mut ext_php_rs::ffi::zend_string,
    _mh_arg1: *mut std::ffi::c_void,
    _mh_arg2: *mut std::ffi::c_void,
    _mh_arg3: *mut std::ffi::c_void,
    stage: std::ffi::c_int,
) -> std::ffi::c_int {
    let checked = std::panic::catch_unwind(|| {
        // SAFETY: the engine passes its own live entry and the new value's zend_string.
        let (Some(entry), Some(value)) = (unsafe { entry.as_ref() }, unsafe { new_value.as_ref() }) else {
            return false;
        };
        // SAFETY: a registered entry's name is a valid zend_string.
        let Some(name) = (unsafe { entry.name.as_ref() }) else { return false };
        let name = String::from_utf8_lossy(name.as_bytes());
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        let Some(option) = option_of_ini(&name) else { return false };
        match Defaults::from_settings(|k| (k == option).then(|| value.clone()), ini_name) {
            Ok(_) => true,
            Err(e) => {
                // Not silent: a bad php.ini line or ini_set() says why it was refused.
                let kind =
                    if stage == ZEND_INI_STAGE_STARTUP { ErrorType::CoreWarning } else { ErrorType::Warning };
                php_error(&kind, &format!("{e}; the setting keeps its previous value"));
                false
            }
        }
    });
    if checked.unwrap_or(false) {
        0 // SUCCESS
    } else {
        -1 // FAILURE
    }
}

/// `ZEND_INI_STAGE_STARTUP` of zend_ini.h: values from php.ini or -d at module start-up.
const ZEND_INI_STAGE_STARTUP: std::ffi::c_int = 1;

/// Reads the current value of an option's INI setting. Looked up per call (cheap: a hash
/// lookup), so an `ini_set()` takes effect for the next `DistributedLock`.
fn ini(option: &str) -> Option<String> {
    let globals = ExecutorGlobals::get();
    // SAFETY: `ini_directives` is set during engine start-up and lives as long as the request.
    let table = unsafe { globals.ini_directives.as_ref() }?;
    let zval = table.get(ini_name(option).as_str())?;
    // SAFETY: every value of `ini_directives` is a pointer zval to a `zend_ini_entry`.
    let entry = unsafe { zval.ptr::<ext_php_rs::ffi::zend_ini_entry>() }?;
    // SAFETY: entries of `ini_directives` are `zend_ini_entry` pointers owned by the engine.
    let value = unsafe { entry.as_ref() }?.value;
    // SAFETY: a non-null value is a valid zend_string.
    unsafe { value.as_ref() }.map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// The option defaults from the INI settings.
pub fn defaults() -> LockResult<Defaults> {
    Defaults::from_settings(ini, ini_name)
}
