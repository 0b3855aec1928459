//! `kafka-lock`: the operator's view of a kafka_lock topic from a shell. `status` lists holders
//! and queues, `watch` prints changes as they happen, `revoke` ends a stuck holder at its
//! current lease. It runs the extension's own client core and Kafka session, with the same
//! options (flags, a properties file): what it shows is what every PHP process replays.
//!
//! Exit status: 0 done, 1 an error (unreachable brokers, a refused topic, ...), 2 bad usage.

use std::fs;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use kafka_lock::protocol::{Mode, Snapshot};
use kafka_lock::session::{ConfigValue, Defaults, LockError, LockHandle};
use serde_json::json;

/// The command line, parsed.
struct Cli {
    brokers: Option<String>,
    config: Option<String>,
    properties: Vec<String>,
    json: bool,
    command: Command,
}

enum Command {
    Status { topic: String, identifier: Option<String> },
    Watch { topic: String, interval: f64, duration: Option<f64> },
    Revoke { topic: String, identifier: String },
}

fn command_line() -> clap::Command {
    use clap::{Arg, ArgAction, Command as C};
    let topic = || Arg::new("topic").required(true).help("The lock topic");
    C::new("kafka-lock")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Inspect, watch and revoke kafka_lock locks")
        .subcommand_required(true)
        .arg(
            Arg::new("brokers")
                .short('b')
                .long("brokers")
                .global(true)
                .help("Brokers, host:port[,host:port...] (the extension's bootstrap.servers)"),
        )
        .arg(Arg::new("config").short('F').long("config").value_name("FILE").global(true).help(
            "A properties file: one KEY=VALUE per line, as DistributedLock's config array takes them \
             (security.protocol, sasl.*, ssl.*, lock.* options); # starts a comment",
        ))
        .arg(
            Arg::new("property")
                .short('X')
                .value_name("KEY=VALUE")
                .action(ArgAction::Append)
                .global(true)
                .help("One property or lock option; repeatable; overrides the properties file"),
        )
        .arg(Arg::new("json").long("json").action(ArgAction::SetTrue).global(true).help("Print JSON"))
        .subcommand(
            C::new("status")
                .about("Holders, modes, fencing tokens, lease left and queue lengths, of one lock or of all")
                .arg(topic())
                .arg(Arg::new("identifier").help("One lock (default: every lock with live requests)")),
        )
        .subcommand(
            C::new("watch")
                .about("Prints holds as they begin and end (the topic's state every --interval seconds)")
                .arg(topic())
                .arg(
                    Arg::new("interval")
                        .long("interval")
                        .value_parser(clap::value_parser!(f64))
                        .default_value("0.5")
                        .help("Seconds between two looks at the log"),
                )
                .arg(
                    Arg::new("duration")
                        .long("duration")
                        .value_parser(clap::value_parser!(f64))
                        .help("Stop after this many seconds (default: until interrupted)"),
                ),
        )
        .subcommand(
            C::new("revoke")
                .about(
                    "Ends the holders of a lock at their current leases (renewals are refused from now on)",
                )
                .arg(topic())
                .arg(Arg::new("identifier").required(true).help("The lock")),
        )
}

fn parse() -> Cli {
    let matches = command_line().get_matches();
    let text = |m: &clap::ArgMatches, name: &str| m.get_one::<String>(name).cloned();
    let command = match matches.subcommand() {
        Some(("status", m)) => {
            Command::Status { topic: text(m, "topic").unwrap_or_default(), identifier: text(m, "identifier") }
        }
        Some(("watch", m)) => Command::Watch {
            topic: text(m, "topic").unwrap_or_default(),
            interval: m.get_one::<f64>("interval").copied().unwrap_or(0.5),
            duration: m.get_one::<f64>("duration").copied(),
        },
        Some(("revoke", m)) => Command::Revoke {
            topic: text(m, "topic").unwrap_or_default(),
            identifier: text(m, "identifier").unwrap_or_default(),
        },
        _ => unreachable!("clap requires a subcommand"),
    };
    Cli {
        brokers: text(&matches, "brokers"),
        config: text(&matches, "config"),
        properties: matches.get_many::<String>("property").map(|v| v.cloned().collect()).unwrap_or_default(),
        json: matches.get_flag("json"),
        command,
    }
}

fn main() -> ExitCode {
    let cli = parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => {
            eprintln!("kafka-lock: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Lock(error)) => {
            eprintln!("kafka-lock: {error}");
            ExitCode::FAILURE
        }
    }
}

enum Failure {
    Usage(String),
    Lock(LockError),
}

impl From<LockError> for Failure {
    fn from(error: LockError) -> Self {
        match error {
            // Every option and argument comes from the command line or its properties file.
            LockError::Argument(m) | LockError::Config(m) => Failure::Usage(m),
            other => Failure::Lock(other),
        }
    }
}

fn run(cli: &Cli) -> Result<(), Failure> {
    let entries = config_entries(cli)?;
    let topic = match &cli.command {
        Command::Status { topic, .. } | Command::Watch { topic, .. } | Command::Revoke { topic, .. } => topic,
    };
    let mut handle = LockHandle::open(topic, &entries, &Defaults::default())?;
    match &cli.command {
        Command::Status { identifier: Some(identifier), .. } => {
            let snapshot = handle.inspect(identifier)?;
            print_locks(cli.json, &[(identifier.clone(), snapshot)]);
        }
        Command::Status { identifier: None, .. } => {
            let locks = handle.inspect_all()?;
            print_locks(cli.json, &locks);
        }
        Command::Watch { interval, duration, .. } => watch(cli.json, &mut handle, *interval, *duration)?,
        Command::Revoke { identifier, .. } => {
            let holders = handle.revoke(identifier)?;
            let tokens = |already: bool| -> Vec<i64> {
                holders.iter().filter(|(_, a)| *a == already).map(|(t, _)| *t).collect()
            };
            let (revoked, earlier) = (tokens(false), tokens(true));
            if cli.json {
                println!(
                    "{}",
                    json!({ "identifier": identifier, "revoked": revoked, "revoked_before": earlier })
                );
                return Ok(());
            }
            let list = |t: &[i64]| t.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
            if holders.is_empty() {
                println!("{identifier}: nobody held it");
            }
            if !revoked.is_empty() {
                println!(
                    "{identifier}: revoked fencing token(s) {}; they end at their current lease",
                    list(&revoked)
                );
            }
            if !earlier.is_empty() {
                println!(
                    "{identifier}: fencing token(s) {} were revoked before; they end at their current lease",
                    list(&earlier)
                );
            }
        }
    }
    Ok(())
}

/// The options as DistributedLock's config array would give them: the properties file, then
/// -X, then --brokers. Inspecting never creates a topic, unless asked to.
fn config_entries(cli: &Cli) -> Result<Vec<(String, ConfigValue)>, Failure> {
    let mut entries = vec![("lock.create_topic".to_owned(), ConfigValue::Bool(false))];
    let mut add = |line: &str, origin: &str| -> Result<(), Failure> {
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| Failure::Usage(format!("{origin}: expected KEY=VALUE, got '{line}'")))?;
        let key = key.trim().to_owned();
        entries.retain(|(k, _)| *k != key);
        entries.push((key, ConfigValue::Str(value.trim().to_owned())));
        Ok(())
    };
    if let Some(path) = &cli.config {
        let text = fs::read_to_string(path)
            .map_err(|e| Failure::Usage(format!("cannot read the properties file {path}: {e}")))?;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if !line.is_empty() && !line.starts_with('#') {
                add(line, &format!("{path} line {}", n + 1))?;
            }
        }
    }
    for property in &cli.properties {
        add(property, "-X")?;
    }
    if let Some(brokers) = &cli.brokers {
        add(&format!("bootstrap.servers={brokers}"), "--brokers")?;
    }
    Ok(entries)
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Exclusive => "exclusive",
        Mode::Shared => "shared",
        Mode::Weighted { .. } => "semaphore",
    }
}

/// One lock as `inspect()` returns it: the mode of its head, its holders, how many wait.
fn lock_json(identifier: &str, snapshot: &Snapshot) -> serde_json::Value {
    let holders: Vec<serde_json::Value> = snapshot
        .queue
        .iter()
        .filter(|r| r.granted)
        .map(|r| {
            let mut holder = json!({
                "owner": r.owner,
                "token": r.token,
                "expires_in": r.expires_in.as_secs_f64(),
                "revoked": r.revoked,
            });
            if let Mode::Weighted { weight, .. } = r.mode {
                holder["weight"] = json!(weight);
            }
            holder
        })
        .collect();
    let head = snapshot.queue.first().map(|r| r.mode);
    let limit = match head {
        Some(Mode::Weighted { limit, .. }) => Some(limit),
        _ => None,
    };
    json!({
        "identifier": identifier,
        "mode": head.map(mode_name),
        "holders": holders,
        "waiting": snapshot.queue.iter().filter(|r| !r.granted).count(),
        "limit": limit,
        "complete": snapshot.complete,
    })
}

fn print_locks(as_json: bool, locks: &[(String, Snapshot)]) {
    if as_json {
        let list: Vec<serde_json::Value> = locks.iter().map(|(id, s)| lock_json(id, s)).collect();
        println!("{}", serde_json::Value::Array(list));
        return;
    }
    if locks.iter().all(|(_, s)| s.queue.is_empty()) {
        println!("no lock is held or awaited");
    }
    for (identifier, snapshot) in locks.iter().filter(|(_, s)| !s.queue.is_empty()) {
        let waiting = snapshot.queue.iter().filter(|r| !r.granted).count();
        let head = snapshot.queue[0].mode;
        let limit = match head {
            Mode::Weighted { limit, .. } => format!(" (limit {limit})"),
            _ => String::new(),
        };
        println!("{identifier}: {}{limit}, {waiting} waiting", mode_name(head));
        for holder in snapshot.queue.iter().filter(|r| r.granted) {
            let weight = match holder.mode {
                Mode::Weighted { weight, .. } => format!(", weight {weight}"),
                _ => String::new(),
            };
            println!(
                "  held by {} (fencing token {}{weight}), lease {:.1} s left{}",
                holder.owner,
                holder.token,
                holder.expires_in.as_secs_f64(),
                if holder.revoked { ", revoked" } else { "" }
            );
        }
        if !snapshot.complete {
            println!("  (this view may lack a request: history was deleted or a claim is unchecked)");
        }
    }
}

/// Looks at the topic every `interval` seconds and prints the holds that began and ended in
/// between. A hold that begins and ends within one interval is not seen.
fn watch(
    as_json: bool,
    handle: &mut LockHandle,
    interval: f64,
    duration: Option<f64>,
) -> Result<(), Failure> {
    if !(interval.is_finite() && interval >= 0.05) {
        return Err(Failure::Usage(format!("--interval must be at least 0.05 s, {interval} given")));
    }
    let start = Instant::now();
    let until = duration.map(|d| start + Duration::from_secs_f64(d.max(0.0)));
    let mut held: Vec<(String, i64, String, Mode)> = Vec::new();
    loop {
        let mut now_held = Vec::new();
        for (identifier, snapshot) in handle.inspect_all()? {
            for r in snapshot.queue.iter().filter(|r| r.granted) {
                now_held.push((identifier.clone(), r.token, r.owner.clone(), r.mode));
            }
        }
        let at = start.elapsed().as_secs_f64();
        for hold in now_held.iter().filter(|h| !held.contains(h)) {
            print_change(as_json, at, "held", hold);
        }
        for hold in held.iter().filter(|h| !now_held.contains(h)) {
            print_change(as_json, at, "ended", hold);
        }
        held = now_held;
        if until.is_some_and(|u| Instant::now() >= u) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_secs_f64(interval));
    }
}

fn print_change(
    as_json: bool,
    at: f64,
    what: &str,
    (identifier, token, owner, mode): &(String, i64, String, Mode),
) {
    if as_json {
        let line = json!({"at": at, "event": what, "identifier": identifier, "token": token, "owner": owner, "mode": mode_name(*mode)});
        println!("{line}");
    } else {
        println!(
            "{at:8.1} s  {what:5}  {identifier} (fencing token {token}, {}) by {owner}",
            mode_name(*mode)
        );
    }
}
