//! From the configuration as written to a [`Config`]: defaults, bounds and the checks that need
//! more than a type, every problem collected.

use super::raw::{
    ConsoleSection, Given, PluginsSection, Raw, SchedulerSection, ServerSection, SmtpSection, StripeSection, Tokens,
};
use super::{
    Config, ConfigError, ConsoleConfig, DEFAULT_SMTP_CONNECTIONS, MAX_RUN_WORKERS, MIN_TOKEN_CHARS, PluginConfig,
    SchedulerConfig, Secret, ServerConfig, SmtpSettings, StripeSettings, TestingConfig, Use,
};
use crate::mail::SmtpSecurity;
use crate::payments::stripe::SecretKey;
use std::net::SocketAddr;
use std::num::NonZeroU64;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;

/// The longest any of the timeouts may be.
const MAX_TIMEOUT_SECONDS: u64 = 3600;

/// Checks `raw` for `purpose`, adding to the `problems` its reading found.
pub(super) fn config(raw: Raw, purpose: Use, problems: Vec<String>) -> Result<Config, ConfigError> {
    let mut check = Problems(problems);
    let server = check.server(raw.server, purpose);
    let database_url = check.text("database.url", raw.database.url).unwrap_or_default();
    if database_url.is_empty() {
        check.push(
            "database.url is missing; set sqlite://PATH or postgres://USER@HOST:PORT/DB (AUTOBILL_DATABASE_URL or --database-url)",
        );
    } else if !["sqlite:", "postgres:", "postgresql:"].iter().any(|scheme| database_url.starts_with(scheme)) {
        check.push(format!(
            "database.url `{}` is not supported; use sqlite://PATH or postgres://USER@HOST:PORT/DB",
            database_url.split('@').next_back().unwrap_or_default()
        ));
    }
    let scheduler = check.scheduler(raw.scheduler);
    let outbox_dir =
        PathBuf::from(check.text("outbox.dir", raw.outbox.dir).unwrap_or_else(|| "autobill-outbox".into()));
    let plugins = check.plugins(raw.plugins);
    let stripe = raw.stripe.map(|section| check.stripe(section));
    let smtp = raw.smtp.map(|section| check.smtp(section));
    let console = check.console(raw.console);
    let simulated_clock = check.flag("testing.simulated_clock", raw.testing.simulated_clock);
    if !check.0.is_empty() {
        return Err(ConfigError(check.0));
    }
    Ok(Config {
        server,
        database_url,
        scheduler,
        outbox_dir,
        plugins,
        stripe,
        smtp,
        console,
        testing: TestingConfig { simulated_clock },
    })
}

/// The problems found so far, and the readers that add to them.
struct Problems(Vec<String>);

impl Problems {
    fn push(&mut self, problem: impl Into<String>) {
        self.0.push(problem.into());
    }

    /// The value, or `None` with a problem naming `key`, what it must be and what it is.
    fn typed<T>(&mut self, key: &str, given: Given<T>, expected: &str) -> Option<T> {
        match given {
            Given::Absent => None,
            Given::Valid(value) => Some(value),
            Given::Invalid(value) => {
                self.push(format!("{key} must be {expected}, not `{value}`"));
                None
            }
        }
    }

    /// Like [`Problems::typed`], without showing what was written: it may be a secret.
    fn secret<T>(&mut self, key: &str, given: Given<T>, expected: &str) -> Option<T> {
        match given {
            Given::Absent => None,
            Given::Valid(value) => Some(value),
            Given::Invalid(_) => {
                self.push(format!("{key} must be {expected} (the value is not shown: it is a secret)"));
                None
            }
        }
    }

    fn text(&mut self, key: &str, given: Given<String>) -> Option<String> {
        self.typed(key, given, "a string")
    }

    fn flag(&mut self, key: &str, given: Given<bool>) -> bool {
        self.typed(key, given, "true or false").unwrap_or(false)
    }

    /// A whole number within `bounds` (`default` when absent); `why` follows the bound in the
    /// message when it is exceeded.
    fn number(
        &mut self,
        key: &str,
        given: Given<NonZeroU64>,
        default: u64,
        bounds: RangeInclusive<u64>,
        why: &str,
    ) -> u64 {
        let (min, max) = (*bounds.start(), *bounds.end());
        let expected = match (min, max) {
            (1, u64::MAX) => "a whole number above 0".to_string(),
            (1, max) => format!("a whole number above 0 and at most {max}"),
            (min, max) => format!("a whole number from {min} to {max}"),
        };
        let Some(value) = self.typed(key, given, &expected).map(NonZeroU64::get) else { return default };
        if !bounds.contains(&value) {
            let range = if min == 1 { format!("at most {max}") } else { format!("{min} to {max}") };
            self.push(format!("{key} is {value}; use {range}{why}"));
            return default;
        }
        value
    }

    /// A whole number of seconds from 1 to [`MAX_TIMEOUT_SECONDS`].
    fn seconds(&mut self, key: &str, given: Given<NonZeroU64>, default: u64, why: &str) -> Duration {
        Duration::from_secs(self.number(key, given, default, 1..=MAX_TIMEOUT_SECONDS, why))
    }

    /// A size or count with no bound but the machine's.
    fn positive(&mut self, key: &str, given: Given<NonZeroU64>, default: u64) -> u64 {
        self.number(key, given, default, 1..=u64::MAX, "")
    }

    fn server(&mut self, section: ServerSection, purpose: Use) -> ServerConfig {
        let listen = self.text("server.listen", section.listen).map(|listen| match listen.parse::<SocketAddr>() {
            Ok(address) => address,
            Err(_) => {
                self.push(format!(
                    "server.listen is `{listen}`, not an address; use IP:PORT, e.g. 127.0.0.1:8080 (AUTOBILL_LISTEN or --listen)"
                ));
                default_listen()
            }
        });
        let wrong_type = section.operator_token.is_invalid();
        let tokens =
            match self.secret("server.operator_token", section.operator_token, "a string, or a list of strings") {
                None => vec![],
                Some(Tokens::One(token)) => vec![token],
                Some(Tokens::Several(tokens)) => tokens,
            };
        let tokens: Vec<String> = tokens.into_iter().filter(|token| !token.is_empty()).collect();
        let fix = format!(
            "set at least {MIN_TOKEN_CHARS} random characters (e.g. `openssl rand -hex 32`) in the file or AUTOBILL_OPERATOR_TOKEN"
        );
        if tokens.is_empty() && !wrong_type && purpose == Use::Serve {
            self.push(format!("server.operator_token is missing; {fix}"));
        }
        for (index, token) in tokens.iter().enumerate() {
            let length = token.chars().count();
            if length < MIN_TOKEN_CHARS {
                let which = if tokens.len() == 1 {
                    String::new()
                } else {
                    format!(" (token {} of {})", index + 1, tokens.len())
                };
                let characters = if length == 1 { "character" } else { "characters" };
                self.push(format!("server.operator_token{which} is {length} {characters}; {fix}"));
            }
        }
        let max_body_bytes = self.positive("server.max_body_bytes", section.max_body_bytes, 1 << 20);
        let request_timeout = self.seconds("server.request_timeout_seconds", section.request_timeout_seconds, 30, "");
        let header_read_timeout =
            self.seconds("server.header_read_timeout_seconds", section.header_read_timeout_seconds, 10, "");
        let body_read_timeout =
            self.seconds("server.body_read_timeout_seconds", section.body_read_timeout_seconds, 30, "");
        let shutdown_timeout =
            self.seconds("server.shutdown_timeout_seconds", section.shutdown_timeout_seconds, 30, "");
        let max_connections = self.number(
            "server.max_connections",
            section.max_connections,
            1024,
            1..=65536,
            " (each connection holds a file descriptor)",
        );
        ServerConfig {
            listen: listen.unwrap_or_else(default_listen),
            operator_tokens: tokens.into_iter().map(Secret::new).collect(),
            max_body_bytes: to_usize(max_body_bytes),
            request_timeout,
            header_read_timeout,
            body_read_timeout,
            shutdown_timeout,
            max_connections: to_usize(max_connections),
        }
    }

    fn scheduler(&mut self, section: SchedulerSection) -> SchedulerConfig {
        let tick_interval_seconds = self.positive("scheduler.tick_interval_seconds", section.tick_interval_seconds, 60);
        let host_id = self
            .text("scheduler.host_id", section.host_id)
            .unwrap_or_else(|| format!("autobill-{}", std::process::id()));
        let run_workers = match section.run_workers {
            Given::Absent => None,
            given => Some(to_usize(self.number(
                "scheduler.run_workers",
                given,
                1,
                1..=MAX_RUN_WORKERS,
                " (each worker holds a database connection)",
            ))),
        };
        let charges_in_flight = self.number(
            "scheduler.charges_in_flight",
            section.charges_in_flight,
            32,
            1..=256,
            " (each is a request to the payment provider waiting for its answer)",
        );
        SchedulerConfig { tick_interval_seconds, host_id, run_workers, charges_in_flight: to_usize(charges_in_flight) }
    }

    fn plugins(&mut self, section: PluginsSection) -> PluginConfig {
        let defaults = crate::plugin::PluginLimits::default();
        let max_component_bytes =
            self.positive("plugins.max_component_bytes", section.max_component_bytes, defaults.component_bytes as u64);
        let fuel = self.positive("plugins.fuel", section.fuel, defaults.fuel);
        let memory_bytes = self.positive("plugins.memory_bytes", section.memory_bytes, defaults.memory_bytes as u64);
        let call_timeout_ms = self.number("plugins.call_timeout_ms", section.call_timeout_ms, 2000, 100..=60_000, "");
        PluginConfig {
            max_component_bytes: to_usize(max_component_bytes),
            fuel,
            memory_bytes: to_usize(memory_bytes),
            call_timeout: Duration::from_millis(call_timeout_ms),
        }
    }

    /// The `[stripe]` section; a section without a key is a problem.
    fn stripe(&mut self, section: StripeSection) -> StripeSettings {
        let before = self.0.len();
        let key_wrong_type = section.secret_key.is_invalid();
        let key = self
            .secret("stripe.secret_key", section.secret_key, "a string")
            .map(|key| key.trim().to_string())
            .unwrap_or_default();
        let api_base = self
            .text("stripe.api_base", section.api_base)
            .map(|url| url.trim().to_string())
            .filter(|url| !url.is_empty());
        if key.is_empty() {
            if !key_wrong_type {
                self.push(
                    "stripe.secret_key is missing; set the account's secret key (sk_…) in the file or AUTOBILL_STRIPE_SECRET_KEY, or remove [stripe] to use the sandbox gateway",
                );
            }
        } else if !(key.starts_with("sk_") || key.starts_with("rk_")) {
            self.push(
                "stripe.secret_key is not a Stripe secret key; it starts with sk_ (or rk_ for a restricted key), never pk_",
            );
        }
        if let Some(url) = &api_base
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            self.push(format!(
                "stripe.api_base `{url}` is not an http(s) URL, e.g. http://127.0.0.1:8420 for a local Stripe peer"
            ));
        }
        let max_requests_per_second = self.number(
            "stripe.max_requests_per_second",
            section.max_requests_per_second,
            u64::from(crate::payments::default_rate(&key)),
            1..=1000,
            " (Stripe allows about 100 requests a second in live mode and 25 in test mode)",
        );
        let webhook_secret = self
            .secret("stripe.webhook_secret", section.webhook_secret, "a string")
            .map(|secret| secret.trim().to_string())
            .filter(|secret| !secret.is_empty());
        if webhook_secret.as_ref().is_some_and(|secret| !secret.starts_with("whsec_")) {
            self.push(
                "stripe.webhook_secret is not a webhook signing secret; it starts with whsec_ (the webhook endpoint's signing secret in the Stripe dashboard)",
            );
        }
        let webhook_tolerance = self.seconds(
            "stripe.webhook_tolerance_seconds",
            section.webhook_tolerance_seconds,
            300,
            " (a longer window lets a captured event be replayed for longer)",
        );
        let settings = StripeSettings {
            secret_key: SecretKey::new(key),
            api_base,
            max_requests_per_second: u32::try_from(max_requests_per_second).unwrap_or(u32::MAX),
            webhook_secret: webhook_secret.map(Secret::new),
            webhook_tolerance,
        };
        if self.0.len() == before
            && let Err(error) = settings.gateway()
        {
            self.push(format!("[stripe]: {error}"));
        }
        settings
    }

    /// The `[smtp]` section; a section without a host is a problem.
    fn smtp(&mut self, section: SmtpSection) -> SmtpSettings {
        let before = self.0.len();
        let host_wrong_type = section.host.is_invalid();
        let host = self.text("smtp.host", section.host).map(|host| host.trim().to_string()).unwrap_or_default();
        if host.is_empty() && !host_wrong_type {
            self.push(
                "smtp.host is missing; set the SMTP server's host (AUTOBILL_SMTP_HOST), or remove [smtp] to write emails to the outbox folder",
            );
        }
        let port = self
            .typed("smtp.port", section.port, "a port from 1 to 65535 (usually 587)")
            .map_or(587, |port| port.get());
        let security = self.text("smtp.security", section.security).unwrap_or_else(|| "starttls".into());
        let security = security.parse::<SmtpSecurity>().unwrap_or_else(|problem| {
            self.push(format!("smtp.security: {problem}"));
            SmtpSecurity::StartTls
        });
        let username = self.text("smtp.username", section.username).filter(|user| !user.is_empty());
        let password =
            self.secret("smtp.password", section.password, "a string").filter(|password| !password.is_empty());
        let from =
            self.text("smtp.from", section.from).map(|from| from.trim().to_string()).filter(|from| !from.is_empty());
        if let Some(from) = &from
            && from.parse::<lettre::Address>().is_err()
        {
            self.push(format!(
                "smtp.from `{from}` is not an email address; use an address such as billing@example.com (emails show the practice's name with it)"
            ));
        }
        let connections = self.number(
            "smtp.connections",
            section.connections,
            DEFAULT_SMTP_CONNECTIONS as u64,
            1..=64,
            " (mail servers limit the connections one client may open)",
        );
        let settings =
            SmtpSettings { host, port, security, username, password, from, connections: to_usize(connections) };
        if self.0.len() == before
            && let Err(error) = settings.check()
        {
            self.push(format!("[smtp]: {error}"));
        }
        settings
    }

    fn console(&mut self, section: ConsoleSection) -> ConsoleConfig {
        ConsoleConfig { secure_cookies: self.flag("console.secure_cookies", section.secure_cookies) }
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

fn to_usize(value: u64) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}
