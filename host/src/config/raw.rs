//! The configuration as written: each section a serde struct that refuses unknown keys, read from
//! the file's table after the environment and the flags were merged into it.
//!
//! `deny_unknown_fields` stops at the first unknown key, and a derived struct at the first value of
//! the wrong type; a user fixing a file wants every problem at once. So the unknown-key pass runs
//! first, over the plain table, with each section's keys taken from its struct (no second list to
//! keep in step), and every value is a [`Given`], which keeps a value of the wrong type instead of
//! failing. What is left for serde to refuse is a shape this module did not expect, which is
//! reported like the rest.

use super::Overrides;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::num::{NonZeroU16, NonZeroU64};

/// A value as written: absent, of the right type, or of the wrong type (kept for the message), so
/// one wrong value does not hide the problems after it.
#[derive(Default)]
pub(super) enum Given<T> {
    /// The key is not there.
    #[default]
    Absent,
    /// The value has the right type.
    Valid(T),
    /// The value written, which does not have the right type.
    Invalid(toml::Value),
}

impl<T> Given<T> {
    /// Whether a value is there but of the wrong type (then it is reported as that, not as missing).
    pub(super) fn is_invalid(&self) -> bool {
        matches!(self, Given::Invalid(_))
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Given<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = toml::Value::deserialize(deserializer)?;
        Ok(match value.clone().try_into() {
            Ok(valid) => Given::Valid(valid),
            Err(_) => Given::Invalid(value),
        })
    }
}

/// `[server] operator_token`: one token, or several while one replaces another.
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum Tokens {
    /// `operator_token = "…"`.
    One(String),
    /// `operator_token = ["new…", "old…"]`.
    Several(Vec<String>),
}

/// `[server]`.
#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct ServerSection {
    pub listen: Given<String>,
    pub operator_token: Given<Tokens>,
    pub max_body_bytes: Given<NonZeroU64>,
    pub request_timeout_seconds: Given<NonZeroU64>,
    pub header_read_timeout_seconds: Given<NonZeroU64>,
    pub body_read_timeout_seconds: Given<NonZeroU64>,
    pub shutdown_timeout_seconds: Given<NonZeroU64>,
    pub max_connections: Given<NonZeroU64>,
}

/// `[database]`.
#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct DatabaseSection {
    pub url: Given<String>,
}

/// `[scheduler]`.
#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct SchedulerSection {
    pub tick_interval_seconds: Given<NonZeroU64>,
    pub host_id: Given<String>,
    pub run_workers: Given<NonZeroU64>,
    pub charges_in_flight: Given<NonZeroU64>,
}

/// `[outbox]`.
#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct OutboxSection {
    pub dir: Given<String>,
}

/// `[plugins]`.
#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct PluginsSection {
    pub max_component_bytes: Given<NonZeroU64>,
    pub fuel: Given<NonZeroU64>,
    pub memory_bytes: Given<NonZeroU64>,
    pub call_timeout_ms: Given<NonZeroU64>,
}

/// `[stripe]`.
#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct StripeSection {
    pub secret_key: Given<String>,
    pub api_base: Given<String>,
    pub max_requests_per_second: Given<NonZeroU64>,
    pub webhook_secret: Given<String>,
    pub webhook_tolerance_seconds: Given<NonZeroU64>,
}

/// `[smtp]`.
#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct SmtpSection {
    pub host: Given<String>,
    pub port: Given<NonZeroU16>,
    pub security: Given<String>,
    pub username: Given<String>,
    pub password: Given<String>,
    pub from: Given<String>,
    pub connections: Given<NonZeroU64>,
}

/// `[console]`.
#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct ConsoleSection {
    pub secure_cookies: Given<bool>,
}

/// `[testing]`.
#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct TestingSection {
    pub simulated_clock: Given<bool>,
}

/// The whole configuration as written, one field per section; `[stripe]` and `[smtp]` are `None`
/// when absent, because their presence turns Stripe and SMTP on.
pub(super) struct Raw {
    pub server: ServerSection,
    pub database: DatabaseSection,
    pub scheduler: SchedulerSection,
    pub outbox: OutboxSection,
    pub plugins: PluginsSection,
    pub stripe: Option<StripeSection>,
    pub smtp: Option<SmtpSection>,
    pub console: ConsoleSection,
    pub testing: TestingSection,
}

impl Raw {
    /// Reads the sections of `table`, adding a problem for every unknown section and key (which
    /// are then left out) and for every section that is not a table.
    pub(super) fn from_table(table: toml::Table, problems: &mut Vec<String>) -> Raw {
        let mut sections = Sections { table, known: vec![], problems };
        let raw = Raw {
            server: sections.read("server").unwrap_or_default(),
            database: sections.read("database").unwrap_or_default(),
            scheduler: sections.read("scheduler").unwrap_or_default(),
            outbox: sections.read("outbox").unwrap_or_default(),
            plugins: sections.read("plugins").unwrap_or_default(),
            stripe: sections.read("stripe"),
            smtp: sections.read("smtp"),
            console: sections.read("console").unwrap_or_default(),
            testing: sections.read("testing").unwrap_or_default(),
        };
        sections.report_unknown_sections();
        raw
    }
}

/// Takes the sections out of the table one by one, so what is left at the end is unknown.
struct Sections<'a> {
    table: toml::Table,
    known: Vec<&'static str>,
    problems: &'a mut Vec<String>,
}

impl Sections<'_> {
    /// The section `name` as `T`, or `None` when it is absent or not a table.
    fn read<T: DeserializeOwned>(&mut self, name: &'static str) -> Option<T> {
        self.known.push(name);
        let toml::Value::Table(mut entries) = self.table.remove(name)? else {
            self.problems.push(format!("{name} must be a section ([{name}]), not a value"));
            return None;
        };
        let keys = serde_aux::serde_introspection::serde_introspect::<T>();
        let unknown: Vec<String> = entries.keys().filter(|key| !keys.contains(&key.as_str())).cloned().collect();
        for key in unknown {
            entries.remove(&key);
            self.problems.push(format!("unknown key {name}.{key}; [{name}] takes {}", keys.join(", ")));
        }
        match T::deserialize(toml::Value::Table(entries)) {
            Ok(section) => Some(section),
            Err(error) => {
                self.problems.push(format!("[{name}] cannot be read: {error}"));
                None
            }
        }
    }

    fn report_unknown_sections(self) {
        for section in self.table.keys() {
            self.problems.push(format!("unknown section [{section}]; the sections are {}", self.known.join(", ")));
        }
    }
}

/// How an environment variable's text becomes a TOML value, so the file's checks apply to it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Kind {
    /// Taken as it is.
    Text,
    /// A whole number when it reads as one; otherwise the text, which the check then refuses.
    Number,
    /// `true` or `false`; otherwise the text, which the check then refuses.
    Flag,
    /// Comma-separated values, each trimmed; empty ones are dropped.
    List,
}

impl Kind {
    fn value(self, text: String) -> toml::Value {
        match self {
            Kind::Text => toml::Value::String(text),
            Kind::Number => text.trim().parse::<i64>().map(toml::Value::Integer).unwrap_or(toml::Value::String(text)),
            Kind::Flag => match text.trim() {
                "true" => toml::Value::Boolean(true),
                "false" => toml::Value::Boolean(false),
                _ => toml::Value::String(text),
            },
            Kind::List => toml::Value::Array(
                text.split(',')
                    .map(str::trim)
                    .filter(|part| !part.is_empty())
                    .map(|part| toml::Value::String(part.to_string()))
                    .collect(),
            ),
        }
    }
}

/// The environment variables, the `section.key` each sets, and how its text is read.
pub(super) const ENV_VARS: &[(&str, &str, &str, Kind)] = &[
    ("AUTOBILL_LISTEN", "server", "listen", Kind::Text),
    ("AUTOBILL_OPERATOR_TOKEN", "server", "operator_token", Kind::List),
    ("AUTOBILL_MAX_BODY_BYTES", "server", "max_body_bytes", Kind::Number),
    ("AUTOBILL_REQUEST_TIMEOUT_SECONDS", "server", "request_timeout_seconds", Kind::Number),
    ("AUTOBILL_HEADER_READ_TIMEOUT_SECONDS", "server", "header_read_timeout_seconds", Kind::Number),
    ("AUTOBILL_BODY_READ_TIMEOUT_SECONDS", "server", "body_read_timeout_seconds", Kind::Number),
    ("AUTOBILL_SHUTDOWN_TIMEOUT_SECONDS", "server", "shutdown_timeout_seconds", Kind::Number),
    ("AUTOBILL_MAX_CONNECTIONS", "server", "max_connections", Kind::Number),
    ("AUTOBILL_DATABASE_URL", "database", "url", Kind::Text),
    ("AUTOBILL_TICK_INTERVAL_SECONDS", "scheduler", "tick_interval_seconds", Kind::Number),
    ("AUTOBILL_HOST_ID", "scheduler", "host_id", Kind::Text),
    ("AUTOBILL_RUN_WORKERS", "scheduler", "run_workers", Kind::Number),
    ("AUTOBILL_CHARGES_IN_FLIGHT", "scheduler", "charges_in_flight", Kind::Number),
    ("AUTOBILL_OUTBOX_DIR", "outbox", "dir", Kind::Text),
    ("AUTOBILL_PLUGINS_MAX_COMPONENT_BYTES", "plugins", "max_component_bytes", Kind::Number),
    ("AUTOBILL_PLUGINS_FUEL", "plugins", "fuel", Kind::Number),
    ("AUTOBILL_PLUGINS_MEMORY_BYTES", "plugins", "memory_bytes", Kind::Number),
    ("AUTOBILL_PLUGINS_CALL_TIMEOUT_MS", "plugins", "call_timeout_ms", Kind::Number),
    ("AUTOBILL_STRIPE_SECRET_KEY", "stripe", "secret_key", Kind::Text),
    ("AUTOBILL_STRIPE_API_BASE", "stripe", "api_base", Kind::Text),
    ("AUTOBILL_STRIPE_MAX_REQUESTS_PER_SECOND", "stripe", "max_requests_per_second", Kind::Number),
    ("AUTOBILL_STRIPE_WEBHOOK_SECRET", "stripe", "webhook_secret", Kind::Text),
    ("AUTOBILL_STRIPE_WEBHOOK_TOLERANCE_SECONDS", "stripe", "webhook_tolerance_seconds", Kind::Number),
    ("AUTOBILL_SMTP_HOST", "smtp", "host", Kind::Text),
    ("AUTOBILL_SMTP_PORT", "smtp", "port", Kind::Number),
    ("AUTOBILL_SMTP_SECURITY", "smtp", "security", Kind::Text),
    ("AUTOBILL_SMTP_USERNAME", "smtp", "username", Kind::Text),
    ("AUTOBILL_SMTP_PASSWORD", "smtp", "password", Kind::Text),
    ("AUTOBILL_SMTP_FROM", "smtp", "from", Kind::Text),
    ("AUTOBILL_SMTP_CONNECTIONS", "smtp", "connections", Kind::Number),
    ("AUTOBILL_CONSOLE_SECURE_COOKIES", "console", "secure_cookies", Kind::Flag),
];

/// Writes the environment's values, then the flags', over the file's.
pub(super) fn merge(table: &mut toml::Table, env: impl Fn(&str) -> Option<String>, overrides: &Overrides) {
    for (var, section, key, kind) in ENV_VARS {
        if let Some(text) = env(var) {
            set(table, section, key, kind.value(text));
        }
    }
    if let Some(listen) = &overrides.listen {
        set(table, "server", "listen", toml::Value::String(listen.clone()));
    }
    if let Some(url) = &overrides.database_url {
        set(table, "database", "url", toml::Value::String(url.clone()));
    }
}

fn set(table: &mut toml::Table, section: &str, key: &str, value: toml::Value) {
    let entry = table.entry(section).or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let Some(section) = entry.as_table_mut() {
        section.insert(key.to_string(), value);
    }
}
