//! `autobill plugin`: test a plugin with the conformance kit, and add, list and assign stored
//! plugins, with the same checks as the API.

use super::{load_config, output};
use anyhow::{Context, bail};
use autobill::config::{Config, Overrides, Use};
use autobill::conformance::{self, report};
use autobill::domain::{PracticeId, Slot};
use autobill::plugin::PluginRuntime;
use autobill::registry::{self, RegistryError};
use autobill::scaffold::{self, Language};
use autobill::store::{Store, StoreError};
use chrono::Utc;
use clap::{Args, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Subcommand)]
pub enum PluginCommand {
    /// Make a ready plugin project: each slot it fills implemented as the documented behaviour,
    /// native unit tests, a conformance/ folder with a case of its own and an overrides template,
    /// and a README with the build, kit, simulate and install commands.
    New(NewArgs),
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
        /// The practice's id, as `autobill practice list` prints it.
        #[arg(long)]
        practice: PracticeId,
        /// bill_cadence, superbill_inclusion, share_filter or autopay_selection.
        #[arg(long, value_parser = parse_slot)]
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

fn parse_slot(text: &str) -> Result<Slot, String> {
    Slot::parse(text).map_err(|error| error.to_string())
}

/// The database the plugin and practice commands work on; pending migrations are applied first.
/// The rest of their configuration (the plugin limits) comes from the `AUTOBILL_*` variables.
#[derive(Args)]
pub struct DatabaseArg {
    /// sqlite://PATH or postgres://USER@HOST:PORT/DB.
    #[arg(long, env = "AUTOBILL_DATABASE_URL", default_value = "sqlite://autobill.db")]
    database_url: String,
}

impl DatabaseArg {
    /// The configuration, on this database.
    pub fn config(&self) -> anyhow::Result<Config> {
        let overrides = Overrides { database_url: Some(self.database_url.clone()), ..Default::default() };
        load_config(None, &overrides, Use::Batch)
    }

    /// The store and a plugin runtime with the configuration's plugin limits.
    async fn open(&self) -> anyhow::Result<(Store, PluginRuntime)> {
        let config = self.config()?;
        let store = Store::connect(&config.database_url).await?;
        Ok((store, PluginRuntime::new(config.plugin_limits())?))
    }
}

#[derive(Args)]
pub struct NewArgs {
    /// The project's name, a package name such as weekly-bills.
    name: String,
    /// The slots it fills, comma-separated: bill_cadence, superbill_inclusion, share_filter, autopay_selection.
    #[arg(long = "slot", value_name = "SLOT[,SLOT]", value_delimiter = ',', required = true, value_parser = parse_slot)]
    slots: Vec<Slot>,
    /// Its language: rust (on the autobill-guest SDK), js (jco) or python (componentize-py).
    #[arg(long, value_enum, default_value_t = Language::Rust)]
    lang: Language,
    /// The folder to make it in (default: ./NAME); it must not exist or be empty.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// For Rust: the autobill-guest SDK folder to depend on by path. Default: the SDK of the
    /// autobill checkout the command runs in, or else the published crate by version.
    #[arg(long, value_name = "PATH")]
    sdk: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
}

#[derive(Args)]
pub struct TestArgs {
    /// The plugin component (.wasm).
    #[arg(required_unless_present = "list_cases")]
    file: Option<PathBuf>,
    /// Print the built-in behaviour cases by slot, with what each checks, and exit: the names an
    /// overrides file uses.
    #[arg(long, conflicts_with_all = ["cases", "overrides", "seed", "config", "format"])]
    list_cases: bool,
    /// A folder of the plugin's own cases, laid out <policy>/<case>/ (may be given more than once).
    #[arg(long = "cases", value_name = "DIR")]
    cases: Vec<PathBuf>,
    /// A file naming the built-in cases the plugin changes on purpose, each with its own case that
    /// replaces it: one `<policy>/<case> -> <own case>` a line.
    #[arg(long, value_name = "FILE")]
    overrides: Option<PathBuf>,
    /// The seed of the generated inputs (default: a new one each run, printed in the report).
    #[arg(long)]
    seed: Option<u64>,
    /// The plugin configuration (JSON) the invariant and property checks run under; default empty.
    #[arg(long, default_value = "")]
    config: String,
    /// The time one plugin call may take, in milliseconds (100 to 60000), as
    /// `[plugins] call_timeout_ms` sets it for the engine. A call that takes longer fails its check.
    #[arg(long, value_name = "MS", default_value_t = report::default_call_timeout_ms(), value_parser = clap::value_parser!(u64).range(100..=60_000))]
    call_timeout_ms: u64,
    /// human: a readable report; junit: JUnit XML for CI; json: the whole report as JSON.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    format: ReportFormat,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ReportFormat {
    Human,
    Junit,
    Json,
}

pub async fn run(command: PluginCommand) -> anyhow::Result<()> {
    match command {
        PluginCommand::Test(args) => {
            // Off the async worker: a guest writing to stderr (a panic message) makes WASI block on
            // the runtime, which tokio refuses on a thread that drives async tasks.
            let code = match tokio::task::spawn_blocking(move || test(args)).await? {
                Ok(true) => 0,
                Ok(false) => 1,
                Err(error) if error.is::<super::Closed>() => 0,
                Err(error) => {
                    super::report_error(&error);
                    2
                }
            };
            std::process::exit(code);
        }
        PluginCommand::New(args) => fail_on_error(new(args)),
        PluginCommand::Add { file, name, database } => fail_on_error(add(&file, name, &database).await),
        PluginCommand::List { format, database } => fail_on_error(list(format, &database).await),
        PluginCommand::Assign { practice, slot, plugin, config, config_json, database } => {
            let assigned = async {
                let config = match (config, config_json) {
                    (Some(path), _) => std::fs::read_to_string(&path)
                        .with_context(|| format!("reading the configuration file {}", path.display()))?,
                    (None, text) => text.unwrap_or_default(),
                };
                assign(practice, slot, &plugin, &config, &database).await
            };
            fail_on_error(assigned.await)
        }
    }
}

/// Prints a failed command's error and exits with status 1.
fn fail_on_error(result: anyhow::Result<()>) -> anyhow::Result<()> {
    match result {
        Err(error) if !error.is::<super::Closed>() => {
            super::report_error(&error);
            std::process::exit(1);
        }
        _ => Ok(()),
    }
}

/// Writes a new plugin project and says what to do next.
fn new(args: NewArgs) -> anyhow::Result<()> {
    let dir = args.dir.unwrap_or_else(|| PathBuf::from(&args.name));
    if std::fs::read_dir(&dir).is_ok_and(|mut entries| entries.next().is_some()) {
        bail!("{} is not empty; choose another folder with --dir, or another name", dir.display());
    }
    let sdk = match (args.sdk, args.lang) {
        (Some(path), _) => Some(
            std::fs::canonicalize(&path).ok().filter(|path| path.join("Cargo.toml").is_file()).with_context(|| {
                format!(
                    "--sdk {}: no Cargo.toml there; give the guest-sdk folder of an autobill checkout",
                    path.display()
                )
            })?,
        ),
        (None, Language::Rust) => {
            scaffold::enclosing_checkout(&std::env::current_dir()?).map(|checkout| checkout.join("guest-sdk"))
        }
        (None, _) => None,
    };
    let spec = scaffold::spec(&args.name, &args.slots, args.lang, sdk)?;
    for (path, text) in scaffold::files(&spec) {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("making {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    output::line(format_args!("made {} in {}", spec.name, dir.display()))?;
    match (&spec.language, &spec.sdk) {
        (Language::Rust, Some(sdk)) => output::line(format_args!("it depends on the SDK at {}", sdk.display()))?,
        (Language::Rust, None) => output::line(format_args!(
            "it depends on autobill-guest {} from crates.io; give --sdk PATH to use an SDK folder instead",
            scaffold::SDK_VERSION
        ))?,
        _ => {}
    }
    output::line(format_args!("Next: {}/README.md has the build, test, simulate and install commands.", dir.display()))
}

/// Checks and stores a plugin, then prints what it is.
async fn add(file: &Path, name: Option<String>, database: &DatabaseArg) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let name = name.unwrap_or_else(|| {
        file.file_stem().map_or_else(|| "plugin".to_string(), |stem| stem.to_string_lossy().into_owned())
    });
    let (store, runtime) = database.open().await?;
    let summary = registry::add(&store, &runtime, &name, &bytes, Utc::now())
        .await
        .with_context(|| format!("{} was not added", file.display()))?;
    output::line(format_args!("added plugin `{}`", summary.name))?;
    output::line(format_args!("id        {}", summary.id))?;
    output::line(format_args!("slots     {}", slot_names(&summary.slots)))?;
    output::line(format_args!("contract  {}", summary.contract_version.as_deref().unwrap_or("-")))?;
    output::line(format_args!("size      {} bytes", summary.size))?;
    output::line(format_args!(
        "Assign it with `autobill plugin assign --practice ID --slot SLOT --plugin {}`.",
        summary.id
    ))
}

/// Prints the stored plugins as a table or JSON.
async fn list(format: ListFormat, database: &DatabaseArg) -> anyhow::Result<()> {
    let (store, runtime) = database.open().await?;
    let plugins = registry::list(&store, &runtime).await?;
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
            output::line(serde_json::to_string_pretty(&rows)?)
        }
        ListFormat::Table if plugins.is_empty() => {
            output::line("No plugins are stored; add one with `autobill plugin add FILE.wasm`.")
        }
        ListFormat::Table => {
            let width = plugins.iter().map(|stored| stored.summary.name.chars().count()).max().unwrap_or(0).max(4);
            output::line(format_args!(
                "{:<64}  {:<width$}  {:<8}  {:<40}  {:>10}",
                "ID", "NAME", "CONTRACT", "SLOTS", "SIZE"
            ))?;
            for stored in &plugins {
                let summary = &stored.summary;
                let slots = match &stored.problem {
                    Some(problem) => format!("(does not load: {problem})"),
                    None => slot_names(&summary.slots),
                };
                output::line(format_args!(
                    "{:<64}  {:<width$}  {:<8}  {:<40}  {:>10}",
                    summary.id,
                    summary.name,
                    summary.contract_version.as_deref().unwrap_or("-"),
                    slots,
                    summary.size
                ))?;
            }
            Ok(())
        }
    }
}

/// Assigns a stored plugin to a practice's slot, after the checks the API makes.
async fn assign(
    practice: PracticeId,
    slot: Slot,
    id: &str,
    config: &str,
    database: &DatabaseArg,
) -> anyhow::Result<()> {
    let (store, runtime) = database.open().await?;
    match registry::assign(&store, &runtime, practice, slot, id, config).await {
        Ok(()) => output::line(format_args!("practice {practice} now uses plugin {id} for {slot}")),
        Err(error @ RegistryError::UnknownPlugin(_)) => {
            bail!("{error}; `autobill plugin list` shows the stored plugins, `autobill plugin add FILE.wasm` adds one")
        }
        Err(error @ RegistryError::Store(StoreError::NotFound { what: "practice", .. })) => {
            bail!(
                "{error}; `autobill practice list` shows the practices, and `autobill practice create` (or POST /v1/practices) makes one"
            )
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
fn test(args: TestArgs) -> anyhow::Result<bool> {
    let Some(file) = args.file.filter(|_| !args.list_cases) else {
        list_cases()?;
        return Ok(true);
    };
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let mut options = conformance::Options::new(args.seed.unwrap_or_else(conformance::random_seed));
    options.case_dirs = args.cases;
    options.config = args.config;
    options.limits.call_timeout = Duration::from_millis(args.call_timeout_ms);
    if let Some(path) = &args.overrides {
        options.overrides = conformance::cases::read_overrides(path)?;
        options.overrides_file = Some(path.clone());
    }
    let report = conformance::run(&file.display().to_string(), &bytes, &options)?;
    let text = match args.format {
        ReportFormat::Human => report::human(&report),
        ReportFormat::Junit => report::junit(&report),
        ReportFormat::Json => report::json(&report),
    };
    output::text(&text)?;
    Ok(report.passed())
}

/// Prints the built-in cases by slot, each with what it checks.
fn list_cases() -> anyhow::Result<()> {
    let cases = conformance::cases::builtin()?;
    for slot in Slot::ALL {
        output::line(slot)?;
        for case in cases.iter().filter(|case| case.slot == slot) {
            output::line(format_args!("  {}  {}", case.name, case.description))?;
        }
    }
    Ok(())
}
