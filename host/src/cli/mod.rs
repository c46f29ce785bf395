//! The `autobill` command line: one file per command. Every command that runs the engine starts
//! the same [`App`](autobill::app::App) from its configuration.

mod config;
mod demo;
mod output;
mod plugin;
mod practice;
mod serve;
mod simulate;
mod tick;
mod token;

pub use output::Closed;

use autobill::config::{Config, Overrides, SmtpSettings, Use};
use autobill::mail::SmtpSecurity;
use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};

#[derive(Parser)]
#[command(
    name = "autobill",
    version,
    about = "Billing automation for health and therapy practices: bills, superbills, sharing and autopay, with policies as WebAssembly plugins."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the real engine on a simulated clock over a scenario file and print what happened, in time order.
    Simulate(simulate::SimulateArgs),
    /// Run the sample practice through a month (bills, autopay, declines, sharing, superbills) and summarise it.
    Demo(demo::DemoArgs),
    /// Do everything due by a moment (default: now): each practice's due runs, in its own time,
    /// then the shares whose delay has passed. Safe to run from cron and from several hosts at once.
    Tick(tick::TickArgs),
    /// Run the scheduler, the share dispatcher and the HTTP API in one process, until SIGTERM or
    /// Ctrl-C. Settings come from the TOML file, then AUTOBILL_* variables, then these flags;
    /// migrations are applied at start.
    Serve(serve::ServeArgs),
    /// Check the configuration `serve` would use and report every problem at once.
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Apply pending database migrations.
    Migrate {
        /// sqlite://PATH or postgres://USER@HOST:PORT/DB.
        #[arg(long, env = "AUTOBILL_DATABASE_URL")]
        database_url: String,
    },
    /// Work with policy plugins.
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
    /// Create and list practices.
    #[command(subcommand)]
    Practice(practice::PracticeCommand),
    /// Make, list and revoke practices' API tokens.
    #[command(subcommand)]
    Token(token::TokenCommand),
}

/// Runs the command the arguments name. Help, the version and argument errors are printed as
/// clap prints them, except that a reader that went away (`autobill --help | head -1`) is no error.
pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::try_parse().unwrap_or_else(|error| {
        let _ = error.print();
        std::process::exit(error.exit_code())
    });
    match cli.command {
        Command::Simulate(args) => simulate::run(args).await,
        Command::Demo(args) => demo::run(args).await,
        Command::Tick(args) => tick::run(args).await,
        Command::Serve(args) => serve::run(args).await,
        Command::Config(command) => config::run(command),
        Command::Migrate { database_url } => {
            autobill::store::Store::connect(&database_url).await?;
            output::line("the database is up to date")
        }
        Command::Plugin(command) => plugin::run(command).await,
        Command::Practice(command) => practice::run(command).await,
        Command::Token(command) => token::run(command).await,
    }
}

/// Prints a failed command's error, with its causes, to stderr.
pub fn report_error(error: &anyhow::Error) {
    output::note(format_args!("error: {error:#}"));
}

/// The configuration from `file` (if given), the `AUTOBILL_*` variables and `overrides`.
fn load_config(file: Option<&Path>, overrides: &Overrides, purpose: Use) -> anyhow::Result<Config> {
    Ok(Config::load(file, |name| std::env::var(name).ok(), overrides, purpose)?)
}

/// Where emails go: an SMTP server when `--smtp-host` is given, otherwise what the configuration says.
#[derive(Args)]
struct SmtpArgs {
    /// Send emails through this SMTP server instead of writing them to the file outbox.
    #[arg(long, env = "AUTOBILL_SMTP_HOST")]
    smtp_host: Option<String>,
    /// The SMTP server's port.
    #[arg(long, env = "AUTOBILL_SMTP_PORT", default_value_t = 587)]
    smtp_port: u16,
    /// starttls (required; for real relays) or plain (only for a server on this machine).
    #[arg(long, env = "AUTOBILL_SMTP_SECURITY", default_value = "starttls", value_parser = parse_security)]
    smtp_security: SmtpSecurity,
    /// The SMTP user, if the server wants credentials; the password is read from the
    /// AUTOBILL_SMTP_PASSWORD environment variable only, never from the command line.
    #[arg(long, env = "AUTOBILL_SMTP_USERNAME")]
    smtp_username: Option<String>,
}

impl SmtpArgs {
    /// Puts the server given on the command line, if any, in `config`.
    fn apply(&self, config: &mut Config) {
        let Some(host) = &self.smtp_host else { return };
        let from = config.smtp.as_ref().and_then(|smtp| smtp.from.clone());
        let connections =
            config.smtp.as_ref().map_or(autobill::config::DEFAULT_SMTP_CONNECTIONS, |smtp| smtp.connections);
        config.smtp = Some(SmtpSettings {
            host: host.clone(),
            port: self.smtp_port,
            security: self.smtp_security,
            username: self.smtp_username.clone(),
            password: std::env::var("AUTOBILL_SMTP_PASSWORD").ok().filter(|password| !password.is_empty()),
            from,
            connections,
        });
    }
}

fn parse_security(text: &str) -> Result<SmtpSecurity, String> {
    text.parse()
}

/// The configuration file option shared by the commands that read one.
#[derive(Args)]
struct ConfigFile {
    /// A configuration file (TOML; see the README); AUTOBILL_* variables apply with or without it.
    #[arg(long = "config")]
    path: Option<PathBuf>,
}
