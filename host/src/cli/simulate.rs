//! `autobill simulate`: the real engine on a simulated clock over a scenario file.

use super::output::{self, EventFormat};
use super::{ConfigFile, SmtpArgs, load_config};
use anyhow::{Context, bail};
use autobill::app::App;
use autobill::clock::SimulatedClock;
use autobill::config::{Config, Overrides, Use};
use autobill::domain::Slot;
use autobill::progress::ProgressLine;
use autobill::scenario::{self, LoadedScenario, PluginChoice};
use autobill::simulate::{self, SimulateError, Simulation, SimulationOptions};
use chrono::NaiveDate;
use clap::Args;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Args)]
pub struct SimulateArgs {
    /// The scenario (TOML; see the README for the format). Several scenarios run side by side on
    /// one engine, each its own practice with its own plugins.
    #[arg(required = true)]
    scenarios: Vec<PathBuf>,
    /// The first practice-local day to simulate (YYYY-MM-DD); its 12:00 am runs are included.
    #[arg(long)]
    from: NaiveDate,
    /// The last practice-local day to simulate (YYYY-MM-DD), to its end.
    #[arg(long)]
    until: NaiveDate,
    /// Use a plugin for a policy slot: SLOT=FILE.wasm, with SLOT one of bill_cadence, superbill_inclusion, share_filter, autopay_selection.
    #[arg(long = "plugin", value_parser = parse_plugin)]
    plugins: Vec<(Slot, PathBuf)>,
    /// The configuration of a slot's plugin: SLOT=JSON, e.g. bill_cadence='{"weekday":"friday"}'.
    #[arg(long = "plugin-config", value_parser = parse_plugin_config)]
    plugin_configs: Vec<(Slot, String)>,
    /// jsonl: one JSON event a line; table: aligned columns for people.
    #[arg(long, value_enum, default_value_t = EventFormat::Jsonl)]
    format: EventFormat,
    /// Store in this database instead of a temporary SQLite file.
    #[arg(long)]
    database_url: Option<String>,
    #[command(flatten)]
    config: ConfigFile,
    #[command(flatten)]
    smtp: SmtpArgs,
}

fn parse_plugin(text: &str) -> Result<(Slot, PathBuf), String> {
    let (slot, file) = text.split_once('=').ok_or("expected SLOT=FILE.wasm, e.g. share_filter=plugin.wasm")?;
    Ok((Slot::parse(slot).map_err(|error| error.to_string())?, PathBuf::from(file)))
}

fn parse_plugin_config(text: &str) -> Result<(Slot, String), String> {
    let (slot, json) =
        text.split_once('=').ok_or("expected SLOT=JSON, e.g. bill_cadence='{\"weekday\":\"friday\"}'")?;
    Ok((Slot::parse(slot).map_err(|error| error.to_string())?, json.to_string()))
}

/// The plugins the command line chooses (for every practice), each with its configuration; a
/// configuration for a slot the command line gives no plugin for configures the scenario's plugin
/// there, which only one scenario can name.
fn plugin_choices(args: &SimulateArgs, loaded: &[LoadedScenario]) -> anyhow::Result<Vec<PluginChoice>> {
    let mut choices = vec![];
    for (slot, file) in &args.plugins {
        choices.push(PluginChoice { slot: *slot, file: file.clone(), config: String::new() });
    }
    for (slot, config) in &args.plugin_configs {
        match choices.iter_mut().find(|choice| choice.slot == *slot) {
            Some(choice) => choice.config = config.clone(),
            None => match loaded {
                [only] => match only.plugins.iter().find(|choice| choice.slot == *slot) {
                    Some(scenario) => choices.push(PluginChoice { config: config.clone(), ..scenario.clone() }),
                    None => {
                        bail!("--plugin-config {slot}=… names a slot with no plugin; add --plugin {slot}=FILE.wasm")
                    }
                },
                _ => bail!(
                    "--plugin-config {slot}=… without --plugin {slot}=FILE.wasm is for one scenario; with several, configure each scenario's plugin in its [plugins.{slot}] table"
                ),
            },
        }
    }
    Ok(choices)
}

pub async fn run(args: SimulateArgs) -> anyhow::Result<()> {
    let loaded = args.scenarios.iter().map(|path| scenario::load(path)).collect::<Result<Vec<_>, _>>()?;
    let work = tempfile::tempdir().context("creating a temporary folder for the simulation")?;
    let mut config = simulation_config(args.config.path.as_deref(), args.database_url.clone(), work.path())?;
    args.smtp.apply(&mut config);
    let options = SimulationOptions { from: args.from, until: args.until, plugins: plugin_choices(&args, &loaded)? };
    let several = loaded.len() > 1;
    match simulate_with_progress(&loaded, &options, config).await? {
        Ok(simulations) => {
            for simulation in &simulations {
                let practice = several.then_some(simulation.practice.as_str());
                output::events(&simulation.events, simulation.timezone, args.format, practice)?;
            }
            Ok(())
        }
        Err(SimulateError::Action { at, reason, events }) => {
            output::events(&events, loaded[0].timezone, args.format, None)?;
            bail!("action at {at}: {reason}")
        }
        Err(error) => Err(error.into()),
    }
}

/// The configuration a simulation runs with: the file and `AUTOBILL_*` variables, on `database_url`
/// (a SQLite file in `work_dir` by default), emails to `work_dir/outbox` unless SMTP is configured,
/// and always the sandbox gateway: a scenario's cards are sandbox references.
pub fn simulation_config(file: Option<&Path>, database_url: Option<String>, work_dir: &Path) -> anyhow::Result<Config> {
    let database_url = database_url.unwrap_or_else(|| format!("sqlite://{}", work_dir.join("autobill.db").display()));
    let overrides = Overrides { database_url: Some(database_url), ..Default::default() };
    let mut config = load_config(file, &overrides, Use::Batch)?;
    config.outbox_dir = work_dir.join("outbox");
    config.stripe = None;
    config.scheduler.host_id = "simulate".into();
    Ok(config)
}

/// Runs scenarios side by side, with a line on stderr counting the simulated days when stderr is
/// a terminal.
pub async fn simulate_with_progress(
    loaded: &[LoadedScenario],
    options: &SimulationOptions,
    config: Config,
) -> anyhow::Result<Result<Vec<Simulation>, SimulateError>> {
    let Some(first) = loaded.first() else { return Ok(Err(SimulateError::NoScenario)) };
    let start = autobill::schedule::local_instant(first.timezone, options.from, chrono::NaiveTime::MIN);
    let mut app = App::start(config, Arc::new(SimulatedClock::new(start))).await?;
    app.one_at_a_time();
    let mut line = ProgressLine::stderr("simulated", "days");
    let simulations = simulate::run_together(loaded, options, &app.engine, &mut |progress| {
        line.update(progress.days_done, progress.days)
    })
    .await;
    line.finish();
    Ok(simulations)
}
