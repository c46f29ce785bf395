//! The host's configuration: a TOML file, then environment variables, then command-line flags,
//! each overriding the one before. [`Config::load`] reads and checks everything and reports every
//! problem at once, each naming its key (`section.key`) and how to fix it. Every value given is
//! checked; what must be given depends on the [`Use`]: serving needs an operator token, a batch
//! command (`tick`, `simulate`, `demo`) does not.
//!
//! ```toml
//! [server]                           # the HTTP API of `autobill serve`
//! listen = "127.0.0.1:8080"          # AUTOBILL_LISTEN
//! operator_token = "…"               # AUTOBILL_OPERATOR_TOKEN: at least 32 characters; required to serve
//! # operator_token = ["new…", "old…"] # during a rotation (in the variable: comma-separated)
//! max_body_bytes = 1048576           # AUTOBILL_MAX_BODY_BYTES: JSON request bodies
//! request_timeout_seconds = 30       # AUTOBILL_REQUEST_TIMEOUT_SECONDS: one request, 1 to 3600
//! header_read_timeout_seconds = 10   # AUTOBILL_HEADER_READ_TIMEOUT_SECONDS: 1 to 3600
//! body_read_timeout_seconds = 30     # AUTOBILL_BODY_READ_TIMEOUT_SECONDS: 1 to 3600
//! shutdown_timeout_seconds = 30      # AUTOBILL_SHUTDOWN_TIMEOUT_SECONDS: requests in flight at shutdown, 1 to 3600
//! max_connections = 1024             # AUTOBILL_MAX_CONNECTIONS: open at once, 1 to 65536
//!
//! [database]
//! url = "sqlite://autobill.db"       # AUTOBILL_DATABASE_URL; or postgres://USER@HOST:PORT/DB
//!
//! [scheduler]
//! tick_interval_seconds = 60         # AUTOBILL_TICK_INTERVAL_SECONDS
//! host_id = "web-1"                  # AUTOBILL_HOST_ID; default autobill-<pid>
//! run_workers = 2                    # AUTOBILL_RUN_WORKERS: runs at once, 1 to 4; default 1 on SQLite, 2 on PostgreSQL
//! charges_in_flight = 32             # AUTOBILL_CHARGES_IN_FLIGHT: payment calls at once, 1 to 256
//!
//! [outbox]
//! dir = "autobill-outbox"            # AUTOBILL_OUTBOX_DIR: emails as .eml files
//!
//! [plugins]
//! max_component_bytes = 33554432     # AUTOBILL_PLUGINS_MAX_COMPONENT_BYTES: largest plugin upload
//! fuel = 2000000000                  # AUTOBILL_PLUGINS_FUEL: instructions per plugin call
//! memory_bytes = 67108864            # AUTOBILL_PLUGINS_MEMORY_BYTES: memory per plugin call
//! call_timeout_ms = 2000             # AUTOBILL_PLUGINS_CALL_TIMEOUT_MS: one plugin call, 100 to 60000
//!
//! [stripe]                           # optional: without it, the sandbox gateway takes payments
//! secret_key = "sk_live_…"           # AUTOBILL_STRIPE_SECRET_KEY
//! api_base = "http://127.0.0.1:8420" # AUTOBILL_STRIPE_API_BASE: a local Stripe peer; default Stripe
//! max_requests_per_second = 90       # AUTOBILL_STRIPE_MAX_REQUESTS_PER_SECOND: 1 to 1000; default 25 with a test key
//! webhook_secret = "whsec_…"         # AUTOBILL_STRIPE_WEBHOOK_SECRET: the webhook endpoint's signing secret
//! webhook_tolerance_seconds = 300    # AUTOBILL_STRIPE_WEBHOOK_TOLERANCE_SECONDS: oldest event taken, 1 to 3600
//!
//! [smtp]                             # optional: without it, emails go to the outbox folder
//! host = "smtp.example.com"          # AUTOBILL_SMTP_HOST
//! port = 587                         # AUTOBILL_SMTP_PORT
//! security = "starttls"              # AUTOBILL_SMTP_SECURITY: starttls, or plain for this machine only
//! username = "billing"               # AUTOBILL_SMTP_USERNAME
//! password = "…"                     # AUTOBILL_SMTP_PASSWORD
//! from = "billing@example.com"       # AUTOBILL_SMTP_FROM: sender of practices without their own
//! connections = 8                    # AUTOBILL_SMTP_CONNECTIONS: to the server at once, 1 to 64
//!
//! [console]
//! secure_cookies = false             # AUTOBILL_CONSOLE_SECURE_COOKIES: true when served over HTTPS
//!
//! [testing]
//! simulated_clock = false            # tests only: time stands still until POST /v1/test/clock moves it
//! ```
//!
//! Unknown sections and keys are reported, so a typo never goes unnoticed. Secrets (the operator
//! tokens, the Stripe key, the webhook secret, the SMTP password) never appear in messages or
//! `Debug` output.

mod check;
mod raw;
#[cfg(test)]
mod tests;

use crate::mail::{MailError, SmtpConfig, SmtpMailer, SmtpSecurity};
use crate::payments::stripe::{SecretKey, StripeConfig, StripeConfigError, StripeGateway};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The most run workers a host may have: the PostgreSQL pool has eight connections, and the API
/// and share dispatch need some of them while runs execute.
pub const MAX_RUN_WORKERS: u64 = 4;

/// The shortest operator token accepted.
pub const MIN_TOKEN_CHARS: usize = 32;

/// SMTP connections open at once when `[smtp] connections` is not given.
pub const DEFAULT_SMTP_CONNECTIONS: usize = 8;

/// Why the configuration cannot be used: every problem found, each saying what to change.
#[derive(Debug, thiserror::Error)]
#[error("the configuration has {} problem(s):\n  - {}", .0.len(), .0.join("\n  - "))]
pub struct ConfigError(pub Vec<String>);

/// What the configuration is loaded for, which decides what it must contain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Use {
    /// `autobill serve` (and `config check`): the HTTP API needs an operator token.
    Serve,
    /// A command without the HTTP API (`tick`, `simulate`, `demo`): no operator token is needed,
    /// and [`ServerConfig::operator_tokens`] is empty unless one is given, so an API built from
    /// it admits no operator.
    Batch,
}

/// A secret from the configuration. `Debug` shows `<hidden>`; only [`Secret::expose`] gives the text.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(text: impl Into<String>) -> Self {
        Secret(text.into())
    }

    /// The secret itself, for the one place that uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<hidden>")
    }
}

/// Everything the host needs. Its `Debug` shows no secret.
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
    /// The staff and operator console.
    pub console: ConsoleConfig,
    /// Test-only switches, all off by default.
    pub testing: TestingConfig,
}

/// The `[stripe]` section. Its `Debug` hides the key and the webhook secret.
#[derive(Clone, Debug, PartialEq)]
pub struct StripeSettings {
    /// The account's secret (or restricted) key.
    pub secret_key: SecretKey,
    /// Another API base URL, e.g. a local Stripe peer; `None` is Stripe itself.
    pub api_base: Option<String>,
    /// The most requests sent to Stripe in one second (default 25 with a test-mode key, 90
    /// otherwise: Stripe allows about 25 and 100).
    pub max_requests_per_second: u32,
    /// The webhook endpoint's signing secret (`whsec_…`), when webhooks are received.
    pub webhook_secret: Option<Secret>,
    /// How old a webhook event's signature may be and still be taken (default 5 minutes).
    pub webhook_tolerance: Duration,
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
    /// How many connections to the server may be open at once (default
    /// [`DEFAULT_SMTP_CONNECTIONS`]).
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
            .field("connections", &self.connections)
            .finish()
    }
}

/// The HTTP side. Its `Debug` hides the operator tokens.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerConfig {
    /// The address to listen on (default 127.0.0.1:8080).
    pub listen: SocketAddr,
    /// The platform operator's tokens: one, or a new and an old one during a rotation. Any of them
    /// is the operator (not logged; compared by hash). Empty only under [`Use::Batch`].
    pub operator_tokens: Vec<Secret>,
    /// The largest JSON request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// The longest one request may take, from its first byte to the end of the answer.
    pub request_timeout: Duration,
    /// The longest a client may take to send a request's headers.
    pub header_read_timeout: Duration,
    /// The longest a client may take to send a request's body.
    pub body_read_timeout: Duration,
    /// How long requests in flight may go on after the shutdown signal.
    pub shutdown_timeout: Duration,
    /// The most connections open at once.
    pub max_connections: usize,
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
    /// How many payment calls may be in flight at once.
    pub charges_in_flight: usize,
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
    /// The longest one call may take.
    pub call_timeout: Duration,
}

/// The console's settings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConsoleConfig {
    /// Whether session cookies carry `Secure` (sent over HTTPS only): on whenever the console is
    /// reached over HTTPS, e.g. behind a TLS-terminating proxy.
    pub secure_cookies: bool,
}

/// Test-only switches.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TestingConfig {
    /// Whether the clock is simulated and `POST /v1/test/clock` may set it. Never in production.
    pub simulated_clock: bool,
}

/// Values given on the command line, which override the file and the environment.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `--listen`.
    pub listen: Option<String>,
    /// `--database-url`.
    pub database_url: Option<String>,
}

impl Config {
    /// Reads `file` (if given), then the environment through `env`, then `overrides`, and checks
    /// the result for `purpose`. Every problem is reported at once.
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
        raw::merge(&mut table, env, overrides);
        Config::from_table(&table, purpose)
    }

    /// Checks a parsed table (file and environment merged) for `purpose` and builds the
    /// configuration.
    pub fn from_table(table: &toml::Table, purpose: Use) -> Result<Config, ConfigError> {
        let mut problems = vec![];
        let raw = raw::Raw::from_table(table.clone(), &mut problems);
        check::config(raw, purpose, problems)
    }

    /// The plugin runtime's limits from this configuration.
    pub fn plugin_limits(&self) -> crate::plugin::PluginLimits {
        crate::plugin::PluginLimits {
            fuel: self.plugins.fuel,
            memory_bytes: self.plugins.memory_bytes,
            component_bytes: self.plugins.max_component_bytes,
            call_timeout: self.plugins.call_timeout,
            ..Default::default()
        }
    }
}
