//! `autobill serve`'s configuration: a TOML file, then environment variables, then command-line
//! flags, each overriding the one before. [`Config::load`] reads and checks everything and reports
//! every problem at once, each naming the key and how to fix it.
//!
//! ```toml
//! [server]
//! listen = "127.0.0.1:8080"        # AUTOBILL_LISTEN
//! operator_token = "…"             # AUTOBILL_OPERATOR_TOKEN (at least 32 characters)
//! max_body_bytes = 1048576         # JSON request bodies
//!
//! [database]
//! url = "sqlite://autobill.db"     # AUTOBILL_DATABASE_URL; or postgres://USER@HOST:PORT/DB
//!
//! [scheduler]
//! tick_interval_seconds = 60       # AUTOBILL_TICK_INTERVAL_SECONDS
//! host_id = "web-1"                # AUTOBILL_HOST_ID; default autobill-<pid>
//! run_workers = 2                  # AUTOBILL_RUN_WORKERS: runs at once; default 1 on SQLite, 2 on PostgreSQL
//!
//! [outbox]
//! dir = "autobill-outbox"          # AUTOBILL_OUTBOX_DIR: emails as .eml files
//!
//! [plugins]
//! max_component_bytes = 16777216   # largest plugin upload
//! fuel = 2000000000                # instructions per plugin call
//! memory_bytes = 67108864          # memory per plugin call
//!
//! [stripe]                         # optional: without it, the sandbox gateway takes payments
//! secret_key = "sk_live_…"         # AUTOBILL_STRIPE_SECRET_KEY
//! api_base = "http://127.0.0.1:8420" # AUTOBILL_STRIPE_API_BASE: a local Stripe double; default Stripe
//!
//! [smtp]                           # optional: without it, emails go to the outbox folder
//! host = "smtp.example.com"        # AUTOBILL_SMTP_HOST
//! port = 587                       # AUTOBILL_SMTP_PORT
//! security = "starttls"            # AUTOBILL_SMTP_SECURITY: starttls, or plain for this machine only
//! username = "billing"             # AUTOBILL_SMTP_USERNAME
//! password = "…"                   # AUTOBILL_SMTP_PASSWORD
//! from = "billing@example.com"     # AUTOBILL_SMTP_FROM: sender of practices without their own
//!
//! [testing]
//! simulated_clock = false          # tests only: time stands still from the start until POST /v1/test/clock moves it
//! ```
//!
//! Unknown sections and keys are reported, so a typo never goes unnoticed. Secrets (the operator
//! token, the Stripe key, the SMTP password) never appear in messages or `Debug` output.

use crate::mail::{MailError, SmtpConfig, SmtpMailer, SmtpSecurity};
use crate::payments::stripe::{SecretKey, StripeConfig, StripeConfigError, StripeGateway};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The most run workers a host may have: the PostgreSQL pool has eight connections, and the API
/// and share dispatch need some of them while runs execute.
pub const MAX_RUN_WORKERS: u64 = 4;

/// Why the configuration cannot be used: every problem found, each saying what to change.
#[derive(Debug, thiserror::Error)]
#[error("the configuration has {} problem(s):\n  - {}", .0.len(), .0.join("\n  - "))]
pub struct ConfigError(pub Vec<String>);

/// Everything `autobill serve` needs.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The HTTP listener and API settings.
    pub server: ServerConfig,
    /// `sqlite://PATH` or `postgres://USER@HOST:PORT/DB`.
    pub database_url: String,
    /// The scheduler loop.
    pub scheduler: SchedulerConfig,
    /// Where shared documents are written as `.eml` files.
    pub outbox_dir: PathBuf,
    /// Limits on policy plugins.
    pub plugins: PluginConfig,
    /// Stripe, when payments go to a real account; `None` for the sandbox gateway.
    pub stripe: Option<StripeSettings>,
    /// An SMTP server, when emails are sent; `None` for the file outbox.
    pub smtp: Option<SmtpSettings>,
    /// Test-only switches, all off by default.
    pub testing: TestingConfig,
}

/// The `[stripe]` section. Its `Debug` hides the key.
#[derive(Clone, Debug, PartialEq)]
pub struct StripeSettings {
    /// The account's secret (or restricted) key.
    pub secret_key: SecretKey,
    /// Another API base URL, e.g. a local Stripe double; `None` is Stripe itself.
    pub api_base: Option<String>,
}

impl StripeSettings {
    /// The Stripe gateway these settings describe.
    pub fn gateway(&self) -> Result<StripeGateway, StripeConfigError> {
        let mut config = StripeConfig::new(self.secret_key.clone());
        config.api_base = self.api_base.clone();
        StripeGateway::new(config)
    }
}

/// The `[smtp]` section (also what `tick` and `simulate` build from their `--smtp-*` flags).
/// Its `Debug` hides the password.
#[derive(Clone, PartialEq)]
pub struct SmtpSettings {
    /// The server's host name or address.
    pub host: String,
    /// Its port (default 587).
    pub port: u16,
    /// How the connection is protected (default STARTTLS).
    pub security: SmtpSecurity,
    /// The user to authenticate as, if the server wants credentials.
    pub username: Option<String>,
    /// That user's password.
    pub password: Option<String>,
    /// The sender address of emails of practices that have no address of their own.
    pub from: Option<String>,
    /// How many messages are sent at once.
    pub connections: usize,
}

impl SmtpSettings {
    /// The SMTP mailer these settings describe; checks them without connecting.
    pub fn mailer(&self) -> Result<SmtpMailer, MailError> {
        let mut config = SmtpConfig::new(self.host.clone(), self.port, self.security);
        config.username = self.username.clone();
        config.password = self.password.clone();
        SmtpMailer::new(config)
    }
}

impl fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("from", &self.from)
            .finish()
    }
}

/// The HTTP side. Its `Debug` hides the operator token.
#[derive(Clone, PartialEq)]
pub struct ServerConfig {
    /// The address to listen on.
    pub listen: SocketAddr,
    /// The platform operator's token (not logged; compared by hash).
    pub operator_token: String,
    /// The largest JSON request body accepted, in bytes.
    pub max_body_bytes: usize,
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field("listen", &self.listen)
            .field("operator_token", &"<hidden>")
            .field("max_body_bytes", &self.max_body_bytes)
            .finish()
    }
}

/// The scheduler loop.
#[derive(Clone, Debug, PartialEq)]
pub struct SchedulerConfig {
    /// Seconds between ticks.
    pub tick_interval_seconds: u64,
    /// This host's name in run claims.
    pub host_id: String,
    /// How many runs the host executes at once; `None` leaves the engine's default for the
    /// database (see [`crate::engine::Engine::set_run_workers`]).
    pub run_workers: Option<usize>,
}

/// Limits on policy plugins.
#[derive(Clone, Debug, PartialEq)]
pub struct PluginConfig {
    /// The largest component accepted, in bytes.
    pub max_component_bytes: usize,
    /// Instructions one call may spend.
    pub fuel: u64,
    /// Memory one call may use, in bytes.
    pub memory_bytes: usize,
}

/// Test-only switches.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TestingConfig {
    /// Whether the clock is simulated and `POST /v1/test/clock` may set it. Never in production.
    pub simulated_clock: bool,
}

/// The shortest operator token accepted.
pub const MIN_TOKEN_CHARS: usize = 32;

/// What the configuration is for: serving needs an operator token and an address to listen on;
/// the batch commands (`tick`, `simulate`, `demo`, `plugin`, `practice`) do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Use {
    /// `autobill serve` and `config check`.
    Serve,
    /// The commands that run and exit.
    Batch,
}

/// The SMTP connections a mailer keeps by default.
pub const DEFAULT_SMTP_CONNECTIONS: usize = 8;

/// Values given on the command line, which override the file and the environment.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `--listen`.
    pub listen: Option<String>,
    /// `--database-url`.
    pub database_url: Option<String>,
}

/// Known sections and their keys, for reporting typos.
const KNOWN: &[(&str, &[&str])] = &[
    ("server", &["listen", "operator_token", "max_body_bytes"]),
    ("database", &["url"]),
    ("scheduler", &["tick_interval_seconds", "host_id", "run_workers"]),
    ("outbox", &["dir"]),
    ("plugins", &["max_component_bytes", "fuel", "memory_bytes"]),
    ("stripe", &["secret_key", "api_base"]),
    ("smtp", &["host", "port", "security", "username", "password", "from"]),
    ("testing", &["simulated_clock"]),
];

/// Environment variables and the `section.key` each sets.
pub const ENV_VARS: &[(&str, &str, &str)] = &[
    ("AUTOBILL_LISTEN", "server", "listen"),
    ("AUTOBILL_OPERATOR_TOKEN", "server", "operator_token"),
    ("AUTOBILL_MAX_BODY_BYTES", "server", "max_body_bytes"),
    ("AUTOBILL_DATABASE_URL", "database", "url"),
    ("AUTOBILL_TICK_INTERVAL_SECONDS", "scheduler", "tick_interval_seconds"),
    ("AUTOBILL_HOST_ID", "scheduler", "host_id"),
    ("AUTOBILL_RUN_WORKERS", "scheduler", "run_workers"),
    ("AUTOBILL_OUTBOX_DIR", "outbox", "dir"),
    ("AUTOBILL_STRIPE_SECRET_KEY", "stripe", "secret_key"),
    ("AUTOBILL_STRIPE_API_BASE", "stripe", "api_base"),
    ("AUTOBILL_SMTP_HOST", "smtp", "host"),
    ("AUTOBILL_SMTP_PORT", "smtp", "port"),
    ("AUTOBILL_SMTP_SECURITY", "smtp", "security"),
    ("AUTOBILL_SMTP_USERNAME", "smtp", "username"),
    ("AUTOBILL_SMTP_PASSWORD", "smtp", "password"),
    ("AUTOBILL_SMTP_FROM", "smtp", "from"),
];

impl Config {
    /// Reads `file` (if given), then the environment through `env`, then `overrides`, and checks
    /// the result. Every problem is reported at once.
    pub fn load(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
        overrides: &Overrides,
        purpose: Use,
    ) -> Result<Config, ConfigError> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|error| ConfigError(vec![format!("{}: cannot be read: {error}", path.display())]))?;
                text.parse::<toml::Table>()
                    .map_err(|error| ConfigError(vec![format!("{}: not valid TOML: {error}", path.display())]))?
            }
            None => toml::Table::new(),
        };
        for (var, section, key) in ENV_VARS {
            if let Some(value) = env(var) {
                set(&mut table, section, key, env_value(key, value));
            }
        }
        if let Some(listen) = &overrides.listen {
            set(&mut table, "server", "listen", toml::Value::String(listen.clone()));
        }
        if let Some(url) = &overrides.database_url {
            set(&mut table, "database", "url", toml::Value::String(url.clone()));
        }
        if purpose == Use::Batch {
            set(&mut table, "server", "operator_token", toml::Value::String("-".repeat(MIN_TOKEN_CHARS)));
        }
        Config::from_table(&table)
    }

    /// Checks a parsed table (file and environment merged) and builds the configuration.
    pub fn from_table(table: &toml::Table) -> Result<Config, ConfigError> {
        let mut problems = vec![];
        for (section, value) in table {
            let Some((_, keys)) = KNOWN.iter().find(|(name, _)| name == section) else {
                let known: Vec<&str> = KNOWN.iter().map(|(name, _)| *name).collect();
                problems.push(format!("unknown section [{section}]; the sections are {}", known.join(", ")));
                continue;
            };
            match value.as_table() {
                Some(entries) => {
                    for key in entries.keys().filter(|key| !keys.contains(&key.as_str())) {
                        problems.push(format!("unknown key {section}.{key}; [{section}] takes {}", keys.join(", ")));
                    }
                }
                None => problems.push(format!("{section} must be a section ([{section}]), not a value")),
            }
        }
        let mut reader = Reader { table, problems };
        let listen = reader.string("server", "listen").unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen = match listen.parse::<SocketAddr>() {
            Ok(address) => Some(address),
            Err(_) => {
                reader.problems.push(format!(
                    "server.listen is `{listen}`, not an address; use IP:PORT, e.g. 127.0.0.1:8080 (AUTOBILL_LISTEN or --listen)"
                ));
                None
            }
        };
        let operator_token = reader.string("server", "operator_token").unwrap_or_default();
        if operator_token.chars().count() < MIN_TOKEN_CHARS {
            reader.problems.push(format!(
                "server.operator_token is {}; set at least {MIN_TOKEN_CHARS} random characters (e.g. `openssl rand -hex 32`) in the file or AUTOBILL_OPERATOR_TOKEN",
                if operator_token.is_empty() { "missing".to_string() } else { format!("{} characters", operator_token.chars().count()) }
            ));
        }
        let max_body_bytes = reader.positive("server", "max_body_bytes", 1 << 20);
        let database_url = reader.string("database", "url").unwrap_or_default();
        if database_url.is_empty() {
            reader.problems.push(
                "database.url is missing; set sqlite://PATH or postgres://USER@HOST:PORT/DB (AUTOBILL_DATABASE_URL or --database-url)"
                    .into(),
            );
        } else if !["sqlite:", "postgres:", "postgresql:"].iter().any(|scheme| database_url.starts_with(scheme)) {
            reader.problems.push(format!(
                "database.url `{}` is not supported; use sqlite://PATH or postgres://USER@HOST:PORT/DB",
                database_url.split('@').next_back().unwrap_or_default()
            ));
        }
        let tick_interval_seconds = reader.positive("scheduler", "tick_interval_seconds", 60);
        let host_id =
            reader.string("scheduler", "host_id").unwrap_or_else(|| format!("autobill-{}", std::process::id()));
        let run_workers = reader.value("scheduler", "run_workers").is_some().then(|| {
            let workers = reader.positive("scheduler", "run_workers", 1);
            if workers > MAX_RUN_WORKERS {
                reader.problems.push(format!(
                    "scheduler.run_workers is {workers}; use at most {MAX_RUN_WORKERS} (each worker holds a database connection)"
                ));
            }
            to_usize(workers.min(MAX_RUN_WORKERS))
        });
        let outbox_dir = PathBuf::from(reader.string("outbox", "dir").unwrap_or_else(|| "autobill-outbox".into()));
        let defaults = crate::plugin::PluginLimits::default();
        let max_component_bytes = reader.positive("plugins", "max_component_bytes", defaults.component_bytes as u64);
        let fuel = reader.positive("plugins", "fuel", defaults.fuel);
        let memory_bytes = reader.positive("plugins", "memory_bytes", defaults.memory_bytes as u64);
        let stripe = reader.stripe();
        let smtp = reader.smtp();
        let simulated_clock = reader.flag("testing", "simulated_clock");
        let problems = reader.problems;
        match listen {
            Some(listen) if problems.is_empty() => Ok(Config {
                server: ServerConfig { listen, operator_token, max_body_bytes: to_usize(max_body_bytes) },
                database_url,
                scheduler: SchedulerConfig { tick_interval_seconds, host_id, run_workers },
                outbox_dir,
                plugins: PluginConfig {
                    max_component_bytes: to_usize(max_component_bytes),
                    fuel,
                    memory_bytes: to_usize(memory_bytes),
                },
                stripe,
                smtp,
                testing: TestingConfig { simulated_clock },
            }),
            _ => Err(ConfigError(problems)),
        }
    }

    /// The plugin runtime's limits from this configuration.
    pub fn plugin_limits(&self) -> crate::plugin::PluginLimits {
        crate::plugin::PluginLimits {
            fuel: self.plugins.fuel,
            memory_bytes: self.plugins.memory_bytes,
            component_bytes: self.plugins.max_component_bytes,
            ..Default::default()
        }
    }
}

fn to_usize(value: u64) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

/// An environment value as TOML: numbers for numeric keys, so their checks apply.
fn env_value(key: &str, value: String) -> toml::Value {
    let numeric = ["max_body_bytes", "tick_interval_seconds", "run_workers", "port"];
    match value.trim().parse::<i64>() {
        Ok(number) if numeric.contains(&key) => toml::Value::Integer(number),
        _ => toml::Value::String(value),
    }
}

fn set(table: &mut toml::Table, section: &str, key: &str, value: toml::Value) {
    let entry = table.entry(section).or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let Some(section) = entry.as_table_mut() {
        section.insert(key.to_string(), value);
    }
}

/// Reads typed values, collecting a problem for each one of the wrong type.
struct Reader<'a> {
    table: &'a toml::Table,
    problems: Vec<String>,
}

impl Reader<'_> {
    fn value(&self, section: &str, key: &str) -> Option<&toml::Value> {
        self.table.get(section)?.as_table()?.get(key)
    }

    fn string(&mut self, section: &str, key: &str) -> Option<String> {
        match self.value(section, key)? {
            toml::Value::String(text) => Some(text.clone()),
            other => {
                self.problems.push(format!("{section}.{key} must be a string, not {}", other.type_str()));
                None
            }
        }
    }

    fn positive(&mut self, section: &str, key: &str, default: u64) -> u64 {
        match self.value(section, key) {
            None => default,
            Some(toml::Value::Integer(number)) if *number > 0 => u64::try_from(*number).unwrap_or(default),
            Some(other) => {
                self.problems.push(format!("{section}.{key} must be a whole number above 0, not `{other}`"));
                default
            }
        }
    }

    /// The `[stripe]` section, if there is one; a section without a key is a problem.
    fn stripe(&mut self) -> Option<StripeSettings> {
        self.table.get("stripe")?;
        let key = self.string("stripe", "secret_key").map(|key| key.trim().to_string()).unwrap_or_default();
        let api_base =
            self.string("stripe", "api_base").map(|url| url.trim().to_string()).filter(|url| !url.is_empty());
        let before = self.problems.len();
        if key.is_empty() {
            self.problems.push(
                "stripe.secret_key is missing; set the account's secret key (sk_…) in the file or AUTOBILL_STRIPE_SECRET_KEY, or remove [stripe] to use the sandbox gateway"
                    .into(),
            );
        } else if !(key.starts_with("sk_") || key.starts_with("rk_")) {
            self.problems.push(
                "stripe.secret_key is not a Stripe secret key; it starts with sk_ (or rk_ for a restricted key), never pk_"
                    .into(),
            );
        }
        if let Some(url) = &api_base
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            self.problems.push(format!(
                "stripe.api_base `{url}` is not an http(s) URL, e.g. http://127.0.0.1:8420 for a local Stripe double"
            ));
        }
        let settings = StripeSettings { secret_key: SecretKey::new(key), api_base };
        if self.problems.len() == before
            && let Err(error) = settings.gateway()
        {
            self.problems.push(format!("[stripe]: {error}"));
        }
        Some(settings)
    }

    /// The `[smtp]` section, if there is one; a section without a host is a problem.
    fn smtp(&mut self) -> Option<SmtpSettings> {
        self.table.get("smtp")?;
        let host = self.string("smtp", "host").map(|host| host.trim().to_string()).unwrap_or_default();
        let before = self.problems.len();
        if host.is_empty() {
            self.problems.push(
                "smtp.host is missing; set the SMTP server's host (AUTOBILL_SMTP_HOST), or remove [smtp] to write emails to the outbox folder"
                    .into(),
            );
        }
        let port = match self.value("smtp", "port") {
            None => 587,
            Some(toml::Value::Integer(port)) if (1..=65535).contains(port) => u16::try_from(*port).unwrap_or(587),
            Some(other) => {
                self.problems.push(format!("smtp.port must be a port from 1 to 65535 (usually 587), not `{other}`"));
                587
            }
        };
        let security = self.string("smtp", "security").unwrap_or_else(|| "starttls".into());
        let security = security.parse::<SmtpSecurity>().unwrap_or_else(|problem| {
            self.problems.push(format!("smtp.security: {problem}"));
            SmtpSecurity::StartTls
        });
        let username = self.string("smtp", "username").filter(|user| !user.is_empty());
        let password = self.string("smtp", "password").filter(|password| !password.is_empty());
        let from = self.string("smtp", "from").map(|from| from.trim().to_string()).filter(|from| !from.is_empty());
        if let Some(from) = &from
            && from.parse::<lettre::Address>().is_err()
        {
            self.problems.push(format!(
                "smtp.from `{from}` is not an email address; use an address such as billing@example.com (emails show the practice's name with it)"
            ));
        }
        let settings =
            SmtpSettings { host, port, security, username, password, from, connections: DEFAULT_SMTP_CONNECTIONS };
        if self.problems.len() == before
            && let Err(error) = settings.mailer()
        {
            self.problems.push(format!("[smtp]: {error}"));
        }
        Some(settings)
    }

    fn flag(&mut self, section: &str, key: &str) -> bool {
        match self.value(section, key) {
            None => false,
            Some(toml::Value::Boolean(value)) => *value,
            Some(other) => {
                self.problems.push(format!("{section}.{key} must be true or false, not `{other}`"));
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::from_table(&text.parse::<toml::Table>().expect("valid TOML"))
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let error = parse(
            "[server]\nlisten = \"nowhere\"\noperator_token = \"short\"\nmax_body_bytes = -1\n[database]\nurl = \"mysql://x\"\n[smpt]\nhost = \"x\"\n[scheduler]\ntick_interval_seconds = \"often\"\nhots_id = \"a\"\n",
        )
        .expect_err("a broken configuration");
        let text = error.to_string();
        for expected in [
            "unknown section [smpt]",
            "unknown key scheduler.hots_id",
            "server.listen is `nowhere`",
            "operator_token is 5 characters",
            "max_body_bytes must be a whole number",
            "mysql://x` is not supported",
            "tick_interval_seconds must be a whole number",
        ] {
            assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
        }
        assert_eq!(error.0.len(), 7, "{text}");
    }

    #[test]
    fn environment_and_flags_override_the_file() {
        let dir = tempfile::tempdir().expect("a folder");
        let file = dir.path().join("autobill.toml");
        std::fs::write(&file, "[database]\nurl = \"sqlite://file.db\"\n[server]\nlisten = \"127.0.0.1:1\"\n")
            .expect("write");
        let env = |name: &str| match name {
            "AUTOBILL_OPERATOR_TOKEN" => Some("x".repeat(32)),
            "AUTOBILL_DATABASE_URL" => Some("sqlite://env.db".into()),
            "AUTOBILL_TICK_INTERVAL_SECONDS" => Some("5".into()),
            _ => None,
        };
        let overrides = Overrides { listen: Some("127.0.0.1:9".into()), database_url: None };
        let config = Config::load(Some(&file), env, &overrides, Use::Serve).expect("a good configuration");
        assert_eq!(config.database_url, "sqlite://env.db");
        assert_eq!(config.server.listen.port(), 9);
        assert_eq!(config.scheduler.tick_interval_seconds, 5);
        assert!(!config.testing.simulated_clock, "the simulated clock is off by default");
    }

    const GOOD: &str =
        "[server]\noperator_token = \"0123456789abcdef0123456789abcdef\"\n[database]\nurl = \"sqlite://a.db\"\n";

    #[test]
    fn run_workers_default_to_the_engines_and_are_bounded() {
        assert_eq!(parse(GOOD).expect("a good configuration").scheduler.run_workers, None);
        let three = parse(&format!("{GOOD}[scheduler]\nrun_workers = 3\n")).expect("three workers");
        assert_eq!(three.scheduler.run_workers, Some(3));
        for (value, expected) in [("0", "run_workers must be a whole number above 0"), ("9", "use at most 4")] {
            let error = parse(&format!("{GOOD}[scheduler]\nrun_workers = {value}\n")).expect_err("out of bounds");
            assert!(error.to_string().contains(expected), "{error}");
        }
        let env = |name: &str| match name {
            "AUTOBILL_OPERATOR_TOKEN" => Some("x".repeat(32)),
            "AUTOBILL_DATABASE_URL" => Some("postgres://postgres@127.0.0.1:5432/test".into()),
            "AUTOBILL_RUN_WORKERS" => Some("2".into()),
            _ => None,
        };
        let overrides = Overrides { listen: None, database_url: None };
        let config = Config::load(None, env, &overrides, Use::Serve).expect("a good configuration");
        assert_eq!(config.scheduler.run_workers, Some(2));
    }

    #[test]
    fn stripe_and_smtp_are_optional_and_read_from_the_file() {
        let config = parse(GOOD).expect("a good configuration");
        assert_eq!((config.stripe, config.smtp), (None, None), "sandbox gateway and file outbox by default");
        let config = parse(&format!(
            "{GOOD}[stripe]\nsecret_key = \"sk_test_abc\"\napi_base = \"http://127.0.0.1:8420\"\n\
             [smtp]\nhost = \"smtp.example.com\"\nusername = \"billing\"\npassword = \"hunter2-secret\"\nfrom = \"billing@example.com\"\n"
        ))
        .expect("a good configuration");
        let stripe = config.stripe.clone().expect("Stripe");
        assert_eq!(stripe.api_base.as_deref(), Some("http://127.0.0.1:8420"));
        let smtp = config.smtp.clone().expect("SMTP");
        assert_eq!((smtp.port, smtp.security), (587, SmtpSecurity::StartTls), "STARTTLS on 587 by default");
        assert_eq!(smtp.from.as_deref(), Some("billing@example.com"));
        let shown = format!("{config:?}");
        for secret in ["sk_test_abc", "hunter2-secret", "0123456789abcdef"] {
            assert!(!shown.contains(secret), "a secret in the Debug output: {shown}");
        }
    }

    #[test]
    fn stripe_and_smtp_come_from_the_environment_too() {
        let env = |name: &str| match name {
            "AUTOBILL_OPERATOR_TOKEN" => Some("x".repeat(32)),
            "AUTOBILL_DATABASE_URL" => Some("sqlite://env.db".into()),
            "AUTOBILL_STRIPE_SECRET_KEY" => Some("rk_live_restricted".into()),
            "AUTOBILL_SMTP_HOST" => Some("127.0.0.1".into()),
            "AUTOBILL_SMTP_PORT" => Some("2525".into()),
            "AUTOBILL_SMTP_SECURITY" => Some("plain".into()),
            "AUTOBILL_SMTP_USERNAME" => Some("local".into()),
            "AUTOBILL_SMTP_PASSWORD" => Some("pw".into()),
            _ => None,
        };
        let config = Config::load(None, env, &Overrides::default(), Use::Serve).expect("a good configuration");
        assert_eq!(config.stripe.map(|stripe| stripe.secret_key), Some(SecretKey::new("rk_live_restricted")));
        let smtp = config.smtp.expect("SMTP");
        assert_eq!((smtp.host.as_str(), smtp.port, smtp.security), ("127.0.0.1", 2525, SmtpSecurity::Plain));
        assert_eq!((smtp.username.as_deref(), smtp.password.as_deref()), (Some("local"), Some("pw")));
    }

    #[test]
    fn every_stripe_and_smtp_problem_is_reported_with_the_others_and_no_secret() {
        let error = parse(
            "[server]\noperator_token = \"short\"\n[database]\nurl = \"sqlite://a.db\"\n\
             [stripe]\nsecret_key = \"pk_live_publishable\"\napi_base = \"localhost:8420\"\napi_key = \"x\"\n\
             [smtp]\nport = 70000\nsecurity = \"ssl\"\nfrom = \"billing\"\npassword = \"hunter2-secret\"\n",
        )
        .expect_err("a broken configuration");
        let text = error.to_string();
        for expected in [
            "operator_token is 5 characters",
            "unknown key stripe.api_key",
            "stripe.secret_key is not a Stripe secret key; it starts with sk_",
            "stripe.api_base `localhost:8420` is not an http(s) URL",
            "smtp.host is missing",
            "smtp.port must be a port from 1 to 65535",
            "unknown SMTP security `ssl`: use starttls or plain",
            "smtp.from `billing` is not an email address",
        ] {
            assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
        }
        assert_eq!(error.0.len(), 8, "{text}");
        assert!(!text.contains("pk_live_publishable") && !text.contains("hunter2-secret"), "{text}");
    }

    #[test]
    fn smtp_settings_that_cannot_work_are_reported_before_serving() {
        let error = parse(&format!(
            "{GOOD}[smtp]\nhost = \"smtp.example.com\"\nsecurity = \"plain\"\nusername = \"u\"\npassword = \"hunter2-secret\"\n[stripe]\n"
        ))
        .expect_err("credentials in clear across the network, and Stripe without a key");
        let text = error.to_string();
        assert!(text.contains("credentials would cross the network unencrypted"), "{text}");
        assert!(text.contains("stripe.secret_key is missing"), "{text}");
        assert!(!text.contains("hunter2-secret"), "{text}");
        let error = parse(&format!("{GOOD}[smtp]\nhost = \"smtp.example.com\"\nusername = \"u\"\n"))
            .expect_err("a user without a password");
        assert!(error.to_string().contains("username was given without a password"), "{error}");
    }
}
