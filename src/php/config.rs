//! Reading the PHP side of the configuration: the `$config` array and the INI settings.

use ext_php_rs::convert::{FromZval, StubLiteral};
use ext_php_rs::flags::{DataType, IniEntryPermission};
use ext_php_rs::types::{ArrayKey, Zval};
use ext_php_rs::zend::{ExecutorGlobals, IniEntryDef, IniEntryDefs};

use crate::session::{ConfigValue, Defaults, LockError, LockResult};

/// The `$config` argument: every entry with its value converted, or why it could not be.
/// Conversion errors are reported by the constructor, naming the key, not as a TypeError.
#[derive(Debug, Default, Clone)]
pub struct ConfigArray(pub Vec<(Result<String, String>, Result<ConfigValue, &'static str>)>);

impl<'a> FromZval<'a> for ConfigArray {
    const TYPE: DataType = DataType::Array;

    fn from_zval(zval: &'a Zval) -> Option<Self> {
        let array = zval.array()?;
        let entries = array
            .iter()
            .map(|(key, value)| {
                let key = match key {
                    ArrayKey::String(s) => Ok(s),
                    ArrayKey::Str(s) => Ok(s.to_owned()),
                    ArrayKey::ZendString(s) => Ok(s.as_str().map(str::to_owned).unwrap_or_else(|_| String::from_utf8_lossy(s.as_bytes()).into_owned())),
                    ArrayKey::Long(i) => Err(i.to_string()),
                };
                (key, convert(value))
            })
            .collect();
        Some(ConfigArray(entries))
    }
}

impl StubLiteral for ConfigArray {
    fn stub_literal(&self) -> String {
        "[]".to_owned()
    }
}

fn convert(value: &Zval) -> Result<ConfigValue, &'static str> {
    let value = value.dereference();
    if let Some(s) = value.str() {
        Ok(ConfigValue::Str(s.to_owned()))
    } else if value.is_long() {
        Ok(ConfigValue::Int(value.long().unwrap_or_default()))
    } else if value.is_double() {
        Ok(ConfigValue::Float(value.double().unwrap_or_default()))
    } else if value.is_bool() {
        Ok(ConfigValue::Bool(value.is_true()))
    } else if value.is_null() {
        Err("null")
    } else if value.is_array() {
        Err("array")
    } else if value.is_object() {
        Err("object")
    } else {
        Err("unsupported type")
    }
}

impl ConfigArray {
    /// The entries as the session layer takes them, or the first bad key or value.
    pub fn entries(&self) -> LockResult<Vec<(String, ConfigValue)>> {
        self.0
            .iter()
            .map(|(key, value)| {
                let key = key.clone().map_err(|k| {
                    LockError::Config(format!("option names must be strings, integer key {k} given"))
                })?;
                let value = value.clone().map_err(|t| {
                    LockError::Config(format!("option '{key}' must be a string, int, float or bool, {t} given"))
                })?;
                Ok((key, value))
            })
            .collect()
    }
}

/// INI settings: the defaults of every option (`php.ini`, `-d`, or `ini_set()`).
pub static INI_ENTRIES: IniEntryDefs<8> = IniEntryDefs::new([
    IniEntryDef::new(c"kafka_lock.brokers", c"localhost:9092", IniEntryPermission::All),
    IniEntryDef::new(c"kafka_lock.ttl", c"10", IniEntryPermission::All),
    IniEntryDef::new(c"kafka_lock.partitions", c"1", IniEntryPermission::All),
    IniEntryDef::new(c"kafka_lock.replication_factor", c"-1", IniEntryPermission::All),
    IniEntryDef::new(c"kafka_lock.create_topic", c"1", IniEntryPermission::All),
    IniEntryDef::new(c"kafka_lock.connect_timeout", c"5", IniEntryPermission::All),
    IniEntryDef::new(c"kafka_lock.operation_timeout", c"10", IniEntryPermission::All),
    IniEntryDef::end(),
]);

/// Reads one INI setting's current value. Looked up per call (cheap: a hash lookup), so an
/// `ini_set()` takes effect for the next `DistributedLock`.
fn ini(name: &str) -> Option<String> {
    let globals = ExecutorGlobals::get();
    // SAFETY: `ini_directives` is set during engine start-up and lives as long as the request.
    let table = unsafe { globals.ini_directives.as_ref() }?;
    let zval = table.get(format!("kafka_lock.{name}").as_str())?;
    // SAFETY: every value of `ini_directives` is a pointer zval to a `zend_ini_entry`.
    let entry = unsafe { zval.ptr::<ext_php_rs::ffi::zend_ini_entry>() }?;
    // SAFETY: entries of `ini_directives` are `zend_ini_entry` pointers owned by the engine.
    let value = unsafe { entry.as_ref() }?.value;
    // SAFETY: a non-null value is a valid zend_string.
    unsafe { value.as_ref() }.map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// The option defaults from the INI settings.
pub fn defaults() -> LockResult<Defaults> {
    Defaults::from_ini(ini)
}
