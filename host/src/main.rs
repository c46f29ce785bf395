//! The `autobill` command: simulate scenarios, run the demo, manage the database, test plugins.

use anyhow::{Context, bail};
use autobill::config::SmtpSettings;
use autobill::conformance::{self, report};
use autobill::engine::{Engine, Event, EventKind};
use autobill::mail::{FileOutbox, Mailer, SmtpSecurity};
use autobill::payments::SandboxGateway;
use autobill::plugin::registry::{self, RegistryError};
use autobill::plugin::{PluginLimits, PluginRuntime, Slot};
use autobill::progress::ProgressLine;
use autobill::simulate::{self, SimulationOptions};
use autobill::store::{Store, StoreError};
use autobill::{domain::format_money, scenario};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The demo practice's scenario.
const DEMO_SCENARIO: &str = include_str!("../demo/lakeside.toml");

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
    Simulate {
        /// The scenario (TOML; see the README for the format).
        scenario: PathBuf,
        /// The first practice-local day to simulate (YYYY-MM-DD); its 12:00 am runs are included.
        #[arg(long)]
        from: NaiveDate,
        /// The last practice-local day to simulate (YYYY-MM-DD), to its end.
        #[arg(long)]
        until: NaiveDate,
        /// Use a plugin for a policy slot: SLOT=FILE.wasm, with SLOT one of bill_cadence, superbill_inclusion, share_filter.
        #[arg(long = "plugin", value_parser = parse_plugin)]
        plugins: Vec<(Slot, PathBuf)>,
        /// jsonl: one JSON event a line; table: aligned columns for people.
        #[arg(long, value_enum, default_value_t = Format::Jsonl)]
        format: Format,
        /// Store in this database instead of a temporary SQLite file.
        #[arg(long)]
        database_url: Option<String>,
        #[command(flatten)]
        smtp: SmtpArgs,
    },
    /// Run the sample practice through a month (bills, autopay, declines, sharing, superbills) and summarise it.
    Demo {
        /// Where the database, emails and summary go; emptied of a previous demo first.
        #[arg(long, default_value = "autobill-demo")]
        out: PathBuf,
    },
    /// Do everything due by a moment (default: now): each practice's due runs, in its own time,
    /// then the shares whose delay has passed. Safe to run from cron and from several hosts at once.
    Tick {
        /// sqlite://PATH or postgres://USER@HOST:PORT/DB.
        #[arg(long, env = "AUTOBILL_DATABASE_URL")]
        database_url: String,
        /// The moment to run up to, RFC 3339 (e.g. 2026-01-06T05:00:00Z); catching up a night that was missed.
        #[arg(long)]
        at: Option<DateTime<Utc>>,
        /// Where emails are written when no SMTP server is configured (the file outbox).
        #[arg(long, default_value = "autobill-outbox")]
        outbox: PathBuf,
        /// This host's name in run claims (default: the process id).
        #[arg(long)]
        host: Option<String>,
        /// How many runs to execute at once (default: 1 on SQLite, 2 on PostgreSQL; at most 4).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=autobill::config::MAX_RUN_WORKERS))]
        run_workers: Option<u64>,
        #[command(flatten)]
        smtp: SmtpArgs,
    },
    /// Run the scheduler, the share dispatcher and the HTTP API in one process, until SIGTERM or
    /// Ctrl-C. Settings come from the TOML file, then AUTOBILL_* variables, then these flags;
    /// migrations are applied at start.
    Serve {
        /// The configuration file (TOML; see the README).
        #[arg(long)]
        config: Option<PathBuf>,
        /// The address to listen on, e.g. 127.0.0.1:8080.
        #[arg(long)]
        listen: Option<String>,
        /// sqlite://PATH or postgres://USER@HOST:PORT/DB.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Check the configuration `serve` would use and report every problem at once.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Apply pending database migrations.
    Migrate {
        /// sqlite://PATH or postgres://USER@HOST:PORT/DB.
        #[arg(long, env = "AUTOBILL_DATABASE_URL")]
        database_url: String,
    },
    /// Work with policy plugins.
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
}

#[derive(Subcommand)]
enum PluginCommand {
    /// Run the conformance kit over a plugin: contract, invariants, generated properties and
    /// behaviour cases. Exit status 0 only if every check passed (1: a check failed; 2: the kit
    /// could not run, e.g. a malformed case folder).
    Test(TestArgs),
    /// Check a plugin component and store it in the database, ready to assign. It must be a
    /// WebAssembly component built for a contract version this host serves, within the size
    /// limit. Prints its id (the SHA-256 of its bytes) and the slots it fills. Adding the same
    /// file again changes nothing.
    Add {
        /// The plugin component (.wasm), e.g. built with `cargo build --release --target wasm32-wasip2`.
        file: PathBuf,
        /// A name for people (default: the file name without `.wasm`).
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// List the stored plugins: id, name, contract version, slots and size.
    List {
        /// table: aligned columns for people; json: an array of objects for scripts.
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Use a stored plugin for one of a practice's policy slots, with its configuration. The
    /// plugin must fill the slot and accept the configuration (its own check-config); nothing
    /// changes otherwise.
    Assign {
        /// The practice's id.
        #[arg(long)]
        practice: i64,
        /// bill_cadence, superbill_inclusion or share_filter.
        #[arg(long)]
        slot: Slot,
        /// The plugin's id, as `autobill plugin add` or `autobill plugin list` print it.
        #[arg(long = "plugin", value_name = "ID")]
        plugin: String,
        /// A file holding the configuration the plugin reads (default: empty, its defaults).
        #[arg(long, value_name = "FILE", conflicts_with = "config_json")]
        config: Option<PathBuf>,
        /// The configuration as text, e.g. '{"weekday": "friday"}'.
        #[arg(long, value_name = "TEXT")]
        config_json: Option<String>,
        #[command(flatten)]
        database: DatabaseArg,
    },
}

/// The database the plugin commands work on; pending migrations are applied first.
#[derive(Args)]
struct DatabaseArg {
    /// sqlite://PATH or postgres://USER@HOST:PORT/DB.
    #[arg(long, env = "AUTOBILL_DATABASE_URL", default_value = "sqlite://autobill.db")]
    database_url: String,
}

#[derive(Clone, Copy, ValueEnum)]
enum ListFormat {
    Table,
    Json,
}

#[derive(clap::Args)]
struct TestArgs {
    /// The plugin component (.wasm).
    file: PathBuf,
    /// A folder of the plugin's own cases, laid out <policy>/<case>/ (may be given more than once).
    #[arg(long = "cases", value_name = "DIR")]
    cases: Vec<PathBuf>,
    /// A file naming the built-in cases the plugin changes on purpose: one <policy>/<case> a line.
    #[arg(long, value_name = "FILE")]
    overrides: Option<PathBuf>,
    /// The seed of the generated inputs (default: a new one each run, printed in the report).
    #[arg(long)]
    seed: Option<u64>,
    /// The plugin configuration (JSON) the invariant and property checks run under; default empty.
    #[arg(long, default_value = "")]
    config: String,
    /// human: a readable report; junit: JUnit XML for CI; json: the whole report as JSON.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    format: ReportFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum ReportFormat {
    Human,
    Junit,
    Json,
}

/// Where emails go: an SMTP server when `--smtp-host` is given, otherwise the file outbox.
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
    /// The SMTP mailer, when a server is configured.
    fn mailer(&self) -> anyhow::Result<Option<Arc<dyn Mailer>>> {
        let Some(host) = &self.smtp_host else { return Ok(None) };
        let settings = SmtpSettings {
            host: host.clone(),
            port: self.smtp_port,
            security: self.smtp_security,
            username: self.smtp_username.clone(),
            password: std::env::var("AUTOBILL_SMTP_PASSWORD").ok().filter(|password| !password.is_empty()),
            from: None,
            connections: autobill::config::DEFAULT_SMTP_CONNECTIONS,
        };
        Ok(Some(Arc::new(settings.mailer()?)))
    }
}

fn parse_security(text: &str) -> Result<SmtpSecurity, String> {
    text.parse()
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Read the file and the AUTOBILL_* variables and list every problem (exit 1 if any).
    Check {
        /// The configuration file (TOML).
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Jsonl,
    Table,
}

fn parse_plugin(text: &str) -> Result<(Slot, PathBuf), String> {
    let (slot, file) = text.split_once('=').ok_or("expected SLOT=FILE.wasm, e.g. share_filter=plugin.wasm")?;
    Ok((slot.parse().map_err(|error| format!("{error}"))?, PathBuf::from(file)))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Simulate { scenario, from, until, plugins, format, database_url, smtp } => {
            let loaded = scenario::load(&scenario)?;
            let work = tempfile::tempdir().context("creating a temporary folder for the simulation")?;
            let options = SimulationOptions { from, until, database_url, plugins, work_dir: work.path().to_path_buf() };
            let simulation = simulate_with_progress(&loaded, &options, smtp.mailer()?).await?;
            print_events(&simulation.events, simulation.timezone, format)?;
        }
        Command::Demo { out } => demo(&out).await?,
        Command::Tick { database_url, at, outbox, host, run_workers, smtp } => {
            let store = Store::connect(&database_url).await?;
            let host = host.unwrap_or_else(|| format!("autobill-{}", std::process::id()));
            let mailer = match smtp.mailer()? {
                Some(mailer) => mailer,
                None => Arc::new(FileOutbox::new(outbox)),
            };
            let mut engine = Engine::new(store, runtime()?, Arc::new(SandboxGateway), mailer, host)?;
            if let Some(workers) = run_workers {
                engine.set_run_workers(usize::try_from(workers)?);
            }
            let report = engine.tick(at.unwrap_or_else(Utc::now)).await?;
            println!(
                "{} runs done, {} failed, {} shares handled",
                report.runs_done, report.runs_failed, report.shares_handled
            );
        }
        Command::Serve { config, listen, database_url } => {
            let overrides = autobill::config::Overrides { listen, database_url };
            let config = autobill::config::Config::load(
                config.as_deref(),
                |name| std::env::var(name).ok(),
                &overrides,
                autobill::config::Use::Serve,
            )?;
            let listener = tokio::net::TcpListener::bind(config.server.listen)
                .await
                .with_context(|| format!("listening on {}", config.server.listen))?;
            // The test clock stands at the start time until POST /v1/test/clock moves it on.
            let clock: Arc<dyn autobill::serve::Clock> = if config.testing.simulated_clock {
                Arc::new(autobill::serve::SimulatedClock::new(Utc::now()))
            } else {
                Arc::new(autobill::serve::SystemClock)
            };
            autobill::serve::run(listener, config, clock, shutdown_signal()).await?;
        }
        Command::Config(ConfigCommand::Check { config }) => {
            let env = |name: &str| std::env::var(name).ok();
            match autobill::config::Config::load(
                config.as_deref(),
                env,
                &Default::default(),
                autobill::config::Use::Serve,
            ) {
                Ok(config) => {
                    let payments = match &config.stripe {
                        Some(stripe) => format!("Stripe ({})", stripe.api_base.as_deref().unwrap_or("api.stripe.com")),
                        None => "the sandbox gateway".into(),
                    };
                    let emails = match &config.smtp {
                        Some(smtp) => format!("SMTP {}:{}", smtp.host, smtp.port),
                        None => format!("the outbox folder {}", config.outbox_dir.display()),
                    };
                    println!(
                        "the configuration is good: listening on {}, database {}, ticking every {} s, payments to {payments}, emails to {emails}",
                        config.server.listen,
                        config.database_url.split('@').next_back().unwrap_or_default(),
                        config.scheduler.tick_interval_seconds
                    )
                }
                Err(error) => {
                    eprintln!("{error}");
                    std::process::exit(1);
                }
            }
        }
        Command::Migrate { database_url } => {
            Store::connect(&database_url).await?;
            println!("the database is up to date");
        }
        Command::Plugin { command: PluginCommand::Add { file, name, database } } => {
            fail_on_error(plugin_add(&file, name, &database.database_url).await)
        }
        Command::Plugin { command: PluginCommand::List { format, database } } => {
            fail_on_error(plugin_list(format, &database.database_url).await)
        }
        Command::Plugin {
            command: PluginCommand::Assign { practice, slot, plugin, config, config_json, database },
        } => {
            let assigned = async {
                let config = match (config, config_json) {
                    (Some(path), _) => std::fs::read_to_string(&path)
                        .with_context(|| format!("reading the configuration file {}", path.display()))?,
                    (None, text) => text.unwrap_or_default(),
                };
                plugin_assign(practice, slot, &plugin, &config, &database.database_url).await
            };
            fail_on_error(assigned.await)
        }
        Command::Plugin { command: PluginCommand::Test(args) } => {
            // Off the async worker: a guest writing to stderr (a panic message) makes WASI block on
            // the runtime, which tokio refuses on a thread that drives async tasks.
            let code = match tokio::task::spawn_blocking(move || plugin_test(args)).await? {
                Ok(true) => 0,
                Ok(false) => 1,
                Err(error) => {
                    eprintln!("error: {error:#}");
                    2
                }
            };
            std::io::Write::flush(&mut std::io::stdout())?;
            std::process::exit(code);
        }
    }
    Ok(())
}

/// Prints a failed command's error and exits with status 1.
fn fail_on_error(result: anyhow::Result<()>) {
    if let Err(error) = result {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}

/// Checks and stores a plugin, then prints what it is.
async fn plugin_add(file: &Path, name: Option<String>, database_url: &str) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let name = name.unwrap_or_else(|| {
        file.file_stem().map_or_else(|| "plugin".to_string(), |stem| stem.to_string_lossy().into_owned())
    });
    let store = Store::connect(database_url).await?;
    let summary = registry::add(&store, &*runtime()?, &name, &bytes, Utc::now())
        .await
        .with_context(|| format!("{} was not added", file.display()))?;
    println!("added plugin `{}`", summary.name);
    println!("id        {}", summary.id);
    println!("slots     {}", slot_names(&summary.slots));
    println!("contract  {}", summary.contract_version.as_deref().unwrap_or("-"));
    println!("size      {} bytes", summary.size);
    println!("Assign it with `autobill plugin assign --practice ID --slot SLOT --plugin {}`.", summary.id);
    Ok(())
}

/// Prints the stored plugins as a table or JSON.
async fn plugin_list(format: ListFormat, database_url: &str) -> anyhow::Result<()> {
    let store = Store::connect(database_url).await?;
    let plugins = registry::list(&store, &*runtime()?).await?;
    match format {
        ListFormat::Json => {
            let rows: Vec<serde_json::Value> = plugins
                .iter()
                .map(|stored| {
                    serde_json::json!({
                        "id": stored.summary.id,
                        "name": stored.summary.name,
                        "contract_version": stored.summary.contract_version,
                        "slots": stored.summary.slots.iter().map(|slot| slot.as_str()).collect::<Vec<_>>(),
                        "size": stored.summary.size,
                        "created_at": stored.created_at.to_rfc3339(),
                        "problem": stored.problem,
                    })
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&rows)?);
        }
        ListFormat::Table if plugins.is_empty() => {
            println!("No plugins are stored; add one with `autobill plugin add FILE.wasm`.");
        }
        ListFormat::Table => {
            let width = plugins.iter().map(|stored| stored.summary.name.chars().count()).max().unwrap_or(0).max(4);
            println!("{:<64}  {:<width$}  {:<8}  {:<40}  {:>10}", "ID", "NAME", "CONTRACT", "SLOTS", "SIZE");
            for stored in &plugins {
                let summary = &stored.summary;
                let slots = match &stored.problem {
                    Some(problem) => format!("(does not load: {problem})"),
                    None => slot_names(&summary.slots),
                };
                println!(
                    "{:<64}  {:<width$}  {:<8}  {:<40}  {:>10}",
                    summary.id,
                    summary.name,
                    summary.contract_version.as_deref().unwrap_or("-"),
                    slots,
                    summary.size
                );
            }
        }
    }
    Ok(())
}

/// Assigns a stored plugin to a practice's slot, after the checks the API makes.
async fn plugin_assign(practice: i64, slot: Slot, id: &str, config: &str, database_url: &str) -> anyhow::Result<()> {
    let store = Store::connect(database_url).await?;
    match registry::assign(&store, &*runtime()?, practice, slot, id, config).await {
        Ok(()) => {
            println!("practice {practice} now uses plugin {id} for {slot}");
            Ok(())
        }
        Err(error @ RegistryError::UnknownPlugin(_)) => {
            bail!("{error}; `autobill plugin list` shows the stored plugins, `autobill plugin add FILE.wasm` adds one")
        }
        Err(error @ RegistryError::Store(StoreError::NotFound { what: "practice", .. })) => {
            bail!("{error}; practices are created through the API (POST /v1/practices), which answers their ids")
        }
        Err(error @ RegistryError::WrongSlot { .. }) => {
            bail!("{error}; assign it to a slot it fills, or choose a plugin for {slot}")
        }
        Err(error) => Err(error.into()),
    }
}

fn slot_names(slots: &[Slot]) -> String {
    if slots.is_empty() {
        return "-".to_string();
    }
    slots.iter().map(|slot| slot.as_str()).collect::<Vec<_>>().join(", ")
}

/// Runs the conformance kit and prints its report; `Ok(false)` when a check failed.
fn plugin_test(args: TestArgs) -> anyhow::Result<bool> {
    let bytes = std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let mut options = conformance::Options::new(args.seed.unwrap_or_else(conformance::random_seed));
    options.case_dirs = args.cases;
    options.config = args.config;
    if let Some(path) = &args.overrides {
        options.overrides = conformance::cases::read_overrides(path)?;
    }
    let report = conformance::run(&args.file.display().to_string(), &bytes, &options)?;
    let text = match args.format {
        ReportFormat::Human => report::human(&report),
        ReportFormat::Junit => report::junit(&report),
        ReportFormat::Json => report::json(&report),
    };
    print!("{text}");
    Ok(report.passed())
}

/// Completes on SIGTERM or Ctrl-C (SIGINT).
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
}

/// Runs a simulation, with a line on stderr counting the simulated days when stderr is a terminal.
async fn simulate_with_progress(
    loaded: &scenario::LoadedScenario,
    options: &SimulationOptions,
    mailer: Option<Arc<dyn Mailer>>,
) -> anyhow::Result<simulate::Simulation> {
    let mut line = ProgressLine::stderr("simulated", "days");
    let simulation = simulate::run_with_progress(loaded, options, runtime()?, mailer, &mut |progress| {
        line.update(progress.days_done, progress.days)
    })
    .await;
    line.finish();
    Ok(simulation?)
}

fn runtime() -> anyhow::Result<Arc<PluginRuntime>> {
    Ok(Arc::new(PluginRuntime::new(PluginLimits::default())?))
}

fn print_events(events: &[Event], tz: chrono_tz::Tz, format: Format) -> anyhow::Result<()> {
    for event in events {
        let at = event.at.with_timezone(&tz);
        let mut json = serde_json::to_value(&event.kind)?;
        match format {
            Format::Jsonl => {
                if let Some(object) = json.as_object_mut() {
                    object.insert("at".into(), at.to_rfc3339().into());
                }
                println!("{json}");
            }
            Format::Table => {
                let name = json.get("event").and_then(|v| v.as_str()).unwrap_or_default().to_string();
                if let Some(object) = json.as_object_mut() {
                    object.remove("event");
                }
                let details: Vec<String> =
                    json.as_object().into_iter().flatten().map(|(k, v)| format!("{k}={v}")).collect();
                println!("{}  {name:<18} {}", at.format("%Y-%m-%d %H:%M %Z"), details.join(" "));
            }
        }
    }
    Ok(())
}

async fn demo(out: &Path) -> anyhow::Result<()> {
    if out.exists() {
        let entries: Vec<_> = std::fs::read_dir(out)?
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().to_string())
            .collect();
        let ours = |name: &String| name.starts_with("autobill.db") || name == "outbox" || name == "events.jsonl";
        if let Some(stranger) = entries.iter().find(|name| !ours(name)) {
            bail!("{} holds `{stranger}`, which the demo did not write; choose another --out folder", out.display());
        }
        std::fs::remove_dir_all(out).with_context(|| format!("clearing the previous demo in {}", out.display()))?;
    }
    let loaded = scenario::parse("demo/lakeside.toml", DEMO_SCENARIO)?;
    let from = NaiveDate::from_ymd_opt(2026, 1, 1).context("demo start date")?;
    let until = NaiveDate::from_ymd_opt(2026, 2, 2).context("demo end date")?;
    let options = SimulationOptions { from, until, database_url: None, plugins: vec![], work_dir: out.to_path_buf() };
    println!(
        "Simulating {} from {from} to {until} (practice time, {})…",
        loaded.scenario.practice.name, loaded.timezone
    );
    let started = std::time::Instant::now();
    let simulation = simulate_with_progress(&loaded, &options, None).await?;
    let currency = &loaded.scenario.practice.currency;

    let mut counts: BTreeMap<&str, (usize, i64)> = BTreeMap::new();
    let mut skips: BTreeMap<String, usize> = BTreeMap::new();
    let mut declines: BTreeMap<String, usize> = BTreeMap::new();
    for event in &simulation.events {
        let (name, amount) = match &event.kind {
            EventKind::BillCreated { total, .. } => ("bills created", *total),
            EventKind::BillOpened { .. } => ("bills opened", 0),
            EventKind::BillVoided { .. } => ("bills voided", 0),
            EventKind::ProductAdded { amount, .. } => ("products added", *amount),
            EventKind::SuperbillCreated { total, .. } => ("superbills created", *total),
            EventKind::DocumentShared { .. } => ("documents shared", 0),
            EventKind::ShareSkipped { reason, .. } => {
                *skips.entry(reason.clone()).or_default() += 1;
                ("shares skipped", 0)
            }
            EventKind::PaymentSucceeded { amount, .. } => ("payments taken", *amount),
            EventKind::PaymentFailed { amount, reason, .. } => {
                *declines.entry(reason.clone()).or_default() += 1;
                ("payments failed", *amount)
            }
            EventKind::Warning { .. } => ("warnings", 0),
            EventKind::RunFailed { .. } => ("runs failed", 0),
        };
        let entry = counts.entry(name).or_default();
        entry.0 += 1;
        entry.1 += amount;
    }
    println!("\n{:<20} {:>6} {:>14}", "", "count", "amount");
    for (name, (count, amount)) in &counts {
        let amount = if *amount == 0 { String::new() } else { format_money(*amount, currency) };
        println!("{name:<20} {count:>6} {amount:>14}");
    }
    println!("\nShares skipped, by reason:");
    for (reason, count) in &skips {
        println!("  {count:>3}  {reason}");
    }
    println!("Payments failed, by reason:");
    for (reason, count) in &declines {
        println!("  {count:>3}  {reason}");
    }
    let mut log = String::new();
    for event in &simulation.events {
        let mut json = serde_json::to_value(&event.kind)?;
        if let Some(object) = json.as_object_mut() {
            object.insert("at".into(), event.at.with_timezone(&simulation.timezone).to_rfc3339().into());
        }
        log.push_str(&format!("{json}\n"));
    }
    std::fs::write(out.join("events.jsonl"), log)?;
    println!("\nEvery event:  {}", out.join("events.jsonl").display());
    println!("Emails:       {}", simulation.outbox.display());
    println!("Database:     {}", out.join("autobill.db").display());
    println!("Simulated {} events in {:.1} s.", simulation.events.len(), started.elapsed().as_secs_f64());
    Ok(())
}
