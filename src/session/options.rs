//! Options of a `DistributedLock`: validated here, before any client exists, so that a bad
//! option is reported by name instead of as a librdkafka message dump.
//!
//! Two kinds of keys share one config array:
//! - lock options, all under the `lock.` prefix (lease TTL, topic creation, time-outs);
//! - librdkafka properties that are safe to pass through (brokers, security, client id).
//!   Properties the protocol depends on (acks, idempotence, partitioner, ...) are refused.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::protocol::{Lease, MAX_TTL_MS};
use crate::session::error::{LockError, LockResult};

/// One option value before validation, as a caller's config array or settings file gives it.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigValue {
    /// Text (settings files give only text; numbers and booleans are parsed from it).
    Str(String),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A boolean.
    Bool(bool),
}

/// Lock options with their validated values.
#[derive(Debug, Clone, PartialEq)]
pub struct LockOptions {
    /// Lease length (renewed every third of it while the process lives) and the clock-step
    /// budget its holder's trust allows for.
    pub lease: Lease,
    /// Partition count used when this client creates the topic.
    pub partitions: i32,
    /// Replication factor used when this client creates the topic (-1: the broker's default).
    pub replication_factor: i32,
    /// Create the topic (with LogAppendTime) when it does not exist.
    pub create_topic: bool,
    /// Longest wait for the brokers when connecting or reading metadata.
    pub connect_timeout: Duration,
    /// Longest wait for one produce or lookup once connected.
    pub operation_timeout: Duration,
}

/// librdkafka properties of one client; sessions are shared between locks with equal settings.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientSettings {
    /// Property name to value, including `bootstrap.servers`.
    pub properties: BTreeMap<String, String>,
}

impl ClientSettings {
    /// The broker list these settings connect to.
    pub fn brokers(&self) -> &str {
        self.properties.get("bootstrap.servers").map(String::as_str).unwrap_or("")
    }
}

/// Names of the lock options, each with its INI setting (`kafka_lock.<name>`).
pub const OPTION_TTL: &str = "lock.ttl";
/// See [`Lease::max_clock_step`].
pub const OPTION_MAX_CLOCK_STEP: &str = "lock.max_clock_step";
/// See [`LockOptions::partitions`].
pub const OPTION_PARTITIONS: &str = "lock.partitions";
/// See [`LockOptions::replication_factor`].
pub const OPTION_REPLICATION_FACTOR: &str = "lock.replication_factor";
/// See [`LockOptions::create_topic`].
pub const OPTION_CREATE_TOPIC: &str = "lock.create_topic";
/// See [`LockOptions::connect_timeout`].
pub const OPTION_CONNECT_TIMEOUT: &str = "lock.connect_timeout";
/// See [`LockOptions::operation_timeout`].
pub const OPTION_OPERATION_TIMEOUT: &str = "lock.operation_timeout";

/// Every lock option, for error messages and the stubs test.
pub const LOCK_OPTIONS: [&str; 7] = [
    OPTION_TTL,
    OPTION_MAX_CLOCK_STEP,
    OPTION_PARTITIONS,
    OPTION_REPLICATION_FACTOR,
    OPTION_CREATE_TOPIC,
    OPTION_CONNECT_TIMEOUT,
    OPTION_OPERATION_TIMEOUT,
];

/// The option naming the brokers in [`DEFAULT_SETTINGS`] (the config array spells it
/// `bootstrap.servers` or `metadata.broker.list`).
pub const SETTING_BROKERS: &str = "brokers";

/// Every default, as settings text: the one place defaults are written. The PHP binding
/// registers its INI entries from this table; [`Defaults::default`] parses it.
pub const DEFAULT_SETTINGS: [(&str, &str); 8] = [
    (SETTING_BROKERS, "localhost:9092"),
    (OPTION_TTL, "10"),
    // Half a second: more than NTP's step threshold (128 ms) and a well-run cluster's skew.
    (OPTION_MAX_CLOCK_STEP, "0.5"),
    (OPTION_PARTITIONS, "1"),
    (OPTION_REPLICATION_FACTOR, "-1"),
    (OPTION_CREATE_TOPIC, "1"),
    (OPTION_CONNECT_TIMEOUT, "5"),
    (OPTION_OPERATION_TIMEOUT, "10"),
];

/// Defaults of every option (the brokers and the lock options), for one `DistributedLock`.
#[derive(Debug, Clone, PartialEq)]
pub struct Defaults {
    /// The broker list used when the config array names none.
    pub brokers: String,
    /// The lock options' defaults.
    pub options: LockOptions,
}

impl Default for Defaults {
    fn default() -> Self {
        let text = |name: &str| DEFAULT_SETTINGS.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string());
        Defaults::from_settings(text, |name| format!("the default of {name}"))
            .expect("DEFAULT_SETTINGS are valid (unit test)")
    }
}

impl Defaults {
    /// Builds the defaults from settings text: `lookup(name)` gives the text of a setting of
    /// [`DEFAULT_SETTINGS`] (missing ones keep the built-in default). A value that does not
    /// parse is an error naming the setting as `setting_name(name)` does.
    pub fn from_settings(
        lookup: impl Fn(&str) -> Option<String>,
        setting_name: impl Fn(&str) -> String,
    ) -> LockResult<Defaults> {
        let mut d = Defaults {
            brokers: String::new(),
            options: LockOptions {
                lease: Lease { ttl: Duration::ZERO, max_clock_step: Duration::ZERO },
                partitions: 0,
                replication_factor: 0,
                create_topic: false,
                connect_timeout: Duration::ZERO,
                operation_timeout: Duration::ZERO,
            },
        };
        for (name, default) in DEFAULT_SETTINGS {
            let text = lookup(name).unwrap_or_else(|| default.to_owned());
            if name == SETTING_BROKERS {
                if text.trim().is_empty() {
                    return Err(LockError::Config(format!("{} must not be empty", setting_name(name))));
                }
                d.brokers = text;
            } else {
                apply_lock_option(&mut d.options, name, &ConfigValue::Str(text), &setting_name(name))?;
            }
        }
        // The ttl and max_clock_step are checked together once a config array may have changed
        // either (parse_options), so settings can be changed one at a time.
        Ok(d)
    }
}

/// librdkafka properties passed through unchanged.
const PASS_THROUGH: [&str; 12] = [
    "security.protocol",
    "client.id",
    "client.rack",
    "socket.timeout.ms",
    "socket.keepalive.enable",
    "socket.connection.setup.timeout.ms",
    "broker.address.family",
    "client.dns.lookup",
    "broker.address.ttl",
    "reconnect.backoff.ms",
    "reconnect.backoff.max.ms",
    "debug",
];
/// librdkafka's TLS and SASL properties passed through (librdkafka 2.12), listed one by one:
/// a prefix would also pass the ones in [`REFUSED_SECURITY`].
const PASS_THROUGH_SECURITY: [&str; 41] = [
    "ssl.cipher.suites",
    "ssl.curves.list",
    "ssl.sigalgs.list",
    "ssl.key.location",
    "ssl.key.password",
    "ssl.key.pem",
    "ssl.certificate.location",
    "ssl.certificate.pem",
    "ssl.ca.location",
    "ssl.ca.pem",
    "ssl.crl.location",
    "ssl.keystore.location",
    "ssl.keystore.password",
    "ssl.endpoint.identification.algorithm",
    "enable.ssl.certificate.verification",
    "https.ca.location",
    "https.ca.pem",
    "sasl.mechanisms",
    "sasl.mechanism",
    "sasl.username",
    "sasl.password",
    "sasl.kerberos.service.name",
    "sasl.kerberos.principal",
    "sasl.kerberos.keytab",
    "sasl.kerberos.min.time.before.relogin",
    "sasl.oauthbearer.config",
    "enable.sasl.oauthbearer.unsecure.jwt",
    "sasl.oauthbearer.method",
    "sasl.oauthbearer.client.id",
    "sasl.oauthbearer.client.secret",
    "sasl.oauthbearer.client.credentials.client.id",
    "sasl.oauthbearer.client.credentials.client.secret",
    "sasl.oauthbearer.scope",
    "sasl.oauthbearer.extensions",
    "sasl.oauthbearer.token.endpoint.url",
    "sasl.oauthbearer.grant.type",
    "sasl.oauthbearer.assertion.algorithm",
    "sasl.oauthbearer.assertion.private.key.file",
    "sasl.oauthbearer.assertion.private.key.passphrase",
    "sasl.oauthbearer.assertion.private.key.pem",
    "sasl.oauthbearer.assertion.file",
];
/// More `sasl.oauthbearer.assertion.*` properties (the JWT bearer grant's claims), passed
/// through; kept apart only so the list above stays readable.
const PASS_THROUGH_ASSERTION_CLAIMS: [&str; 8] = [
    "sasl.oauthbearer.assertion.claim.aud",
    "sasl.oauthbearer.assertion.claim.exp.seconds",
    "sasl.oauthbearer.assertion.claim.iss",
    "sasl.oauthbearer.assertion.claim.jti.include",
    "sasl.oauthbearer.assertion.claim.nbf.seconds",
    "sasl.oauthbearer.assertion.claim.sub",
    "sasl.oauthbearer.assertion.jwt.template.file",
    "sasl.oauthbearer.metadata.authentication.type",
];
/// Every librdkafka property a config array may set (the lock options and brokers aside).
#[cfg(test)]
pub(crate) fn pass_through_properties() -> impl Iterator<Item = &'static str> {
    PASS_THROUGH.into_iter().chain(PASS_THROUGH_SECURITY).chain(PASS_THROUGH_ASSERTION_CLAIMS)
}

/// TLS and SASL properties refused by name, with the reason: a config array must not be
/// able to load code into the PHP process or run a command (config often comes from
/// environment variables or a settings store other people can write).
const REFUSED_SECURITY: [(&str, &str); 4] = [
    ("ssl.engine.location", "it loads a shared library (an OpenSSL engine) into the PHP process"),
    ("ssl.engine.id", "it selects an OpenSSL engine, which OpenSSL may load as a shared library"),
    ("ssl.providers", "it loads OpenSSL providers (shared libraries) into the PHP process"),
    ("sasl.kerberos.kinit.cmd", "it is a shell command librdkafka runs"),
];
/// Properties the protocol sets itself; changing them would break ordering or durability.
const MANAGED: [&str; 14] = [
    "acks",
    "request.required.acks",
    "enable.idempotence",
    "max.in.flight.requests.per.connection",
    "max.in.flight",
    "partitioner",
    "group.id",
    "enable.auto.commit",
    "auto.offset.reset",
    "linger.ms",
    "queue.buffering.max.ms",
    "message.timeout.ms",
    "allow.auto.create.topics",
    "isolation.level",
];

/// Checks a topic name the way Kafka does, so the error comes before any round trip.
pub fn validate_topic(topic: &str) -> LockResult<()> {
    if topic.is_empty() {
        return Err(LockError::Argument("topic name must not be empty".into()));
    }
    if topic.len() > 249 {
        return Err(LockError::Argument(format!(
            "topic name is {} characters long; Kafka allows at most 249",
            topic.len()
        )));
    }
    if topic == "." || topic == ".." {
        return Err(LockError::Argument(format!("topic name '{topic}' is not allowed by Kafka")));
    }
    if let Some(c) = topic.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))) {
        return Err(LockError::Argument(format!(
            "topic name '{topic}' contains '{c}'; Kafka allows only ASCII letters, digits, '.', '_' and '-'"
        )));
    }
    Ok(())
}

/// Validates the config array of one `DistributedLock` against the defaults.
pub fn parse_options(
    entries: &[(String, ConfigValue)],
    defaults: &Defaults,
) -> LockResult<(ClientSettings, LockOptions)> {
    let mut options = defaults.options.clone();
    let mut properties = BTreeMap::new();
    let mut brokers: Option<(String, String)> = None;
    for (key, value) in entries {
        let key = key.as_str();
        if key.starts_with("lock.") {
            if !LOCK_OPTIONS.contains(&key) {
                return Err(LockError::Config(format!(
                    "unknown option '{key}'; lock options are: {}",
                    LOCK_OPTIONS.join(", ")
                )));
            }
            apply_lock_option(&mut options, key, value, &format!("option '{key}'"))?;
        } else if key == "metadata.broker.list" || key == "bootstrap.servers" {
            let list = property_string(key, value)?;
            if list.trim().is_empty() {
                return Err(LockError::Config(format!("option '{key}' is empty")));
            }
            if let Some((other, _)) = &brokers {
                if other != key {
                    return Err(LockError::Config(format!(
                        "options '{other}' and '{key}' both set the brokers; give only one"
                    )));
                }
            }
            brokers = Some((key.to_owned(), list));
        } else if MANAGED.contains(&key) {
            return Err(LockError::Config(format!(
                "option '{key}' is set by kafka_lock itself (the lock relies on acks=all, an \
                 idempotent producer and its own partitioning) and cannot be changed"
            )));
        } else if let Some((_, why)) = REFUSED_SECURITY.iter().find(|(name, _)| *name == key) {
            return Err(LockError::Config(format!(
                "option '{key}' is refused: {why}; kafka_lock passes through only TLS and SASL \
                 settings that configure a connection"
            )));
        } else if PASS_THROUGH.contains(&key)
            || PASS_THROUGH_SECURITY.contains(&key)
            || PASS_THROUGH_ASSERTION_CLAIMS.contains(&key)
        {
            properties.insert(key.to_owned(), property_string(key, value)?);
        } else {
            return Err(LockError::Config(format!(
                "unknown option '{key}'; use 'lock.*' options ({}), the brokers \
                 ('metadata.broker.list' or 'bootstrap.servers'), librdkafka's connection \
                 properties ({}) or its TLS and SASL properties (ssl.*, sasl.*, listed in the \
                 README)",
                LOCK_OPTIONS.join(", "),
                PASS_THROUGH.join(", ")
            )));
        }
    }
    check_lease(&options.lease)?;
    let list = brokers.map(|(_, l)| l).unwrap_or_else(|| defaults.brokers.clone());
    properties.insert("bootstrap.servers".to_owned(), list);
    Ok((ClientSettings { properties }, options))
}

/// The ttl and the clock-step budget, from the config array or the defaults, must leave a
/// holder enough trust ([`Lease::check`]).
fn check_lease(lease: &Lease) -> LockResult<()> {
    lease.check().map_err(|shortest| {
        LockError::Config(format!(
            "{OPTION_TTL} {} s with {OPTION_MAX_CLOCK_STEP} {} s leaves a holder too little time to \
             trust its lease: it trusts a lease for ttl - ttl/10 - max_clock_step ({} s), which \
             must be at least half the ttl; give a ttl of at least {} s or a smaller \
             max_clock_step (in the config array or the defaults)",
            lease.ttl.as_secs_f64(),
            lease.max_clock_step.as_secs_f64(),
            lease.trusted_for().as_secs_f64(),
            shortest.as_secs_f64()
        ))
    })
}

fn property_string(key: &str, value: &ConfigValue) -> LockResult<String> {
    match value {
        ConfigValue::Str(s) => Ok(s.clone()),
        ConfigValue::Int(i) => Ok(i.to_string()),
        ConfigValue::Bool(b) => Ok(b.to_string()),
        ConfigValue::Float(_) => {
            Err(LockError::Config(format!("option '{key}' must be a string or an int, float given")))
        }
    }
}

fn apply_lock_option(
    options: &mut LockOptions,
    key: &str,
    value: &ConfigValue,
    what: &str,
) -> LockResult<()> {
    match key {
        OPTION_TTL => {
            let max = MAX_TTL_MS as f64 / 1000.0;
            options.lease.ttl = seconds(value, what, 0.1, max)?;
        }
        OPTION_MAX_CLOCK_STEP => {
            let max = MAX_TTL_MS as f64 / 1000.0;
            options.lease.max_clock_step = seconds(value, what, 0.0, max)?;
        }
        OPTION_CONNECT_TIMEOUT => options.connect_timeout = seconds(value, what, 0.001, 3600.0)?,
        OPTION_OPERATION_TIMEOUT => options.operation_timeout = seconds(value, what, 0.001, 3600.0)?,
        OPTION_PARTITIONS => options.partitions = integer(value, what, 1, 100_000)? as i32,
        OPTION_REPLICATION_FACTOR => {
            let rf = integer(value, what, -1, 1000)? as i32;
            if rf == 0 {
                return Err(LockError::Config(format!(
                    "{what} must be -1 (the broker's default) or at least 1, 0 given"
                )));
            }
            options.replication_factor = rf;
        }
        OPTION_CREATE_TOPIC => options.create_topic = boolean(value, what)?,
        _ => unreachable!("LOCK_OPTIONS and this match list the same names"),
    }
    Ok(())
}

/// A float for messages, with NAN and INF spelled as the caller wrote them.
pub fn display_float(f: f64) -> String {
    if f.is_nan() {
        "NAN".to_owned()
    } else if f.is_infinite() {
        if f > 0.0 { "INF" } else { "-INF" }.to_owned()
    } else {
        f.to_string()
    }
}

fn number(value: &ConfigValue, what: &str) -> LockResult<f64> {
    match value {
        ConfigValue::Int(i) => Ok(*i as f64),
        ConfigValue::Float(f) => Ok(*f),
        ConfigValue::Str(s) => s
            .trim()
            .parse::<f64>()
            .map_err(|_| LockError::Config(format!("{what} must be a number, '{s}' given"))),
        ConfigValue::Bool(_) => Err(LockError::Config(format!("{what} must be a number, bool given"))),
    }
}

fn seconds(value: &ConfigValue, what: &str, min: f64, max: f64) -> LockResult<Duration> {
    let s = number(value, what)?;
    if !s.is_finite() || s < min || s > max {
        return Err(LockError::Config(format!(
            "{what} must be between {min} and {max} seconds, {} given",
            display_float(s)
        )));
    }
    Ok(Duration::from_secs_f64(s))
}

fn integer(value: &ConfigValue, what: &str, min: i64, max: i64) -> LockResult<i64> {
    let i = match value {
        ConfigValue::Int(i) => *i,
        ConfigValue::Str(s) => s
            .trim()
            .parse::<i64>()
            .map_err(|_| LockError::Config(format!("{what} must be an integer, '{s}' given")))?,
        ConfigValue::Float(f) => {
            return Err(LockError::Config(format!(
                "{what} must be an integer, float {} given",
                display_float(*f)
            )))
        }
        ConfigValue::Bool(_) => {
            return Err(LockError::Config(format!("{what} must be an integer, bool given")))
        }
    };
    if i < min || i > max {
        return Err(LockError::Config(format!("{what} must be between {min} and {max}, {i} given")));
    }
    Ok(i)
}

fn boolean(value: &ConfigValue, what: &str) -> LockResult<bool> {
    match value {
        ConfigValue::Bool(b) => Ok(*b),
        ConfigValue::Int(0) => Ok(false),
        ConfigValue::Int(1) => Ok(true),
        ConfigValue::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "on" | "yes" => Ok(true),
            "0" | "false" | "off" | "no" | "" => Ok(false),
            _ => Err(LockError::Config(format!("{what} must be a bool, '{s}' given"))),
        },
        ConfigValue::Int(i) => Err(LockError::Config(format!("{what} must be a bool, int {i} given"))),
        ConfigValue::Float(f) => {
            Err(LockError::Config(format!("{what} must be a bool, float {} given", display_float(*f))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(entries: &[(&str, ConfigValue)]) -> LockResult<(ClientSettings, LockOptions)> {
        let owned: Vec<_> = entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        parse_options(&owned, &Defaults::default())
    }

    #[test]
    fn defaults_apply_when_the_array_is_empty() {
        let (settings, options) = parse(&[]).unwrap();
        assert_eq!(settings.brokers(), "localhost:9092");
        assert_eq!(options, Defaults::default().options);
    }

    #[test]
    fn both_broker_spellings_work_but_not_together() {
        let (s, _) = parse(&[("metadata.broker.list", ConfigValue::Str("a:1".into()))]).unwrap();
        assert_eq!(s.brokers(), "a:1");
        let (s, _) = parse(&[("bootstrap.servers", ConfigValue::Str("b:2".into()))]).unwrap();
        assert_eq!(s.brokers(), "b:2");
        let err = parse(&[
            ("bootstrap.servers", ConfigValue::Str("b:2".into())),
            ("metadata.broker.list", ConfigValue::Str("a:1".into())),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("give only one"), "{err}");
    }

    #[test]
    fn unknown_and_managed_options_are_named() {
        let err = parse(&[("lock.tll", ConfigValue::Int(5))]).unwrap_err();
        assert!(err.to_string().starts_with("unknown option 'lock.tll'"), "{err}");
        let err = parse(&[("foo", ConfigValue::Int(5))]).unwrap_err();
        assert!(err.to_string().starts_with("unknown option 'foo'"), "{err}");
        let err = parse(&[("acks", ConfigValue::Str("1".into()))]).unwrap_err();
        assert!(err.to_string().starts_with("option 'acks' is set by kafka_lock"), "{err}");
    }

    #[test]
    fn security_properties_are_listed_one_by_one() {
        let passed =
            |key: &str| parse(&[(key, ConfigValue::Str("x".into()))]).map(|(c, _)| c.properties[key].clone());
        for key in ["ssl.ca.location", "sasl.password", "sasl.oauthbearer.assertion.claim.sub"] {
            assert_eq!(passed(key).unwrap(), "x");
        }
        for (key, why) in [
            ("ssl.engine.location", "loads a shared library"),
            ("ssl.engine.id", "OpenSSL engine"),
            ("ssl.providers", "loads OpenSSL providers"),
            ("sasl.kerberos.kinit.cmd", "shell command"),
        ] {
            let err = passed(key).unwrap_err().to_string();
            assert!(err.starts_with(&format!("option '{key}' is refused: ")) && err.contains(why), "{err}");
        }
        // Neither a family prefix nor librdkafka's pointer-valued names pass.
        for key in ["ssl.made.up", "sasl.oauthbearer.made.up", "ssl_key", "ssl.certificate.verify_cb"] {
            assert!(passed(key).unwrap_err().to_string().starts_with(&format!("unknown option '{key}'")));
        }
    }

    #[test]
    fn lock_options_are_range_checked() {
        let (_, o) = parse(&[("lock.ttl", ConfigValue::Float(2.5))]).unwrap();
        assert_eq!(o.lease.ttl, Duration::from_millis(2500));
        for bad in [
            ConfigValue::Float(f64::NAN),
            ConfigValue::Int(0),
            ConfigValue::Int(61),
            ConfigValue::Str("x".into()),
        ] {
            let err = parse(&[("lock.ttl", bad)]).unwrap_err();
            assert!(err.to_string().starts_with("option 'lock.ttl' must be"), "{err}");
        }
        let err = parse(&[("lock.replication_factor", ConfigValue::Int(0))]).unwrap_err();
        assert!(err.to_string().contains("-1"), "{err}");
        let err = parse(&[("lock.partitions", ConfigValue::Float(2.0))]).unwrap_err();
        assert!(err.to_string().contains("integer"), "{err}");
    }

    #[test]
    fn the_clock_step_budget_must_leave_half_the_ttl_trusted() {
        let step = |s: f64| ("lock.max_clock_step", ConfigValue::Float(s));
        let ttl = |s: f64| ("lock.ttl", ConfigValue::Float(s));
        // 1.25 s - 0.125 s - 0.5 s = 0.625 s, exactly half.
        let (_, o) = parse(&[ttl(1.25)]).unwrap();
        assert_eq!(o.lease.trusted_for(), Duration::from_millis(625));
        let err = parse(&[ttl(1.2)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "lock.ttl 1.2 s with lock.max_clock_step 0.5 s leaves a holder too little time to trust its \
             lease: it trusts a lease for ttl - ttl/10 - max_clock_step (0.58 s), which must be at least \
             half the ttl; give a ttl of at least 1.25 s or a smaller max_clock_step (in the config \
             array or the defaults)"
        );
        // Order does not matter: the check runs once every option is known.
        assert!(parse(&[step(0.0), ttl(0.1)]).is_ok());
        assert!(parse(&[ttl(0.1), step(0.0)]).is_ok());
        assert!(parse(&[ttl(10.0), step(4.0)]).is_ok());
        assert!(parse(&[ttl(10.0), step(4.01)]).is_err());
        let err = parse(&[step(-0.1)]).unwrap_err();
        assert!(
            err.to_string().starts_with("option 'lock.max_clock_step' must be between 0 and 60"),
            "{err}"
        );
        // Settings are checked one at a time; the pair when a lock is made from them.
        let name = |n: &str| format!("ini {n}");
        let d = Defaults::from_settings(|k| (k == OPTION_TTL).then(|| "1".to_owned()), name).unwrap();
        assert!(parse_options(&[], &d).unwrap_err().to_string().starts_with("lock.ttl 1 s with"));
        let fixed = [("lock.max_clock_step".to_owned(), ConfigValue::Int(0))];
        assert!(parse_options(&fixed, &d).is_ok());
    }

    #[test]
    fn settings_name_the_setting() {
        let name = |n: &str| format!("ini {n}");
        let d = Defaults::from_settings(|k| (k == OPTION_TTL).then(|| "3".to_owned()), name).unwrap();
        assert_eq!(d.options.lease.ttl, Duration::from_secs(3));
        let lookup = |k: &str| (k == OPTION_PARTITIONS).then(|| "many".to_owned());
        let err = Defaults::from_settings(lookup, name).unwrap_err();
        assert!(err.to_string().starts_with("ini lock.partitions must be an integer"), "{err}");
        let err = Defaults::from_settings(|k| (k == SETTING_BROKERS).then(String::new), name).unwrap_err();
        assert_eq!(err.to_string(), "ini brokers must not be empty");
    }

    #[test]
    fn the_default_settings_are_the_documented_defaults() {
        let d = Defaults::default();
        assert_eq!(d.brokers, "localhost:9092");
        assert_eq!(
            d.options.lease,
            Lease { ttl: Duration::from_secs(10), max_clock_step: Duration::from_millis(500) }
        );
        assert_eq!((d.options.partitions, d.options.replication_factor), (1, -1));
        assert!(d.options.create_topic);
        assert_eq!(d.options.connect_timeout, Duration::from_secs(5));
        assert_eq!(d.options.operation_timeout, Duration::from_secs(10));
    }

    #[test]
    fn topic_names_follow_kafka_rules() {
        assert!(validate_topic("resource_lock").is_ok());
        assert!(validate_topic("").is_err());
        assert!(validate_topic("a b").unwrap_err().to_string().contains("' '"));
        assert!(validate_topic(&"x".repeat(250)).is_err());
    }
}
