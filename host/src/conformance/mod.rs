//! The plugin conformance kit: everything a policy plugin must do before a practice trusts it
//! with its billing, checked through the real runtime (limits and answer validation included).
//!
//! [`run`] loads a component and runs four suites over it:
//! - **contract** ([`checks::CONTRACT`]): a valid component, built for a contract version this
//!   host serves, filling at least one policy slot, importing only what the sandbox gives;
//! - **invariants**, per slot it fills: it accepts the configuration it is tested under and
//!   rejects malformed ones with a reason; it answers no input, one line and 10,000 lines within
//!   its instruction budget and memory limit, every answer accepted by the host's validation;
//! - **properties**, per slot: the same over generated inputs ([`Options::cases_per_property`] per
//!   function, reproducible from [`Options::seed`]), and the same answer from two runtimes;
//! - **cases**: data-driven behaviour cases ([`cases`]) — the built-in ones, which the default
//!   policy passes, plus the plugin's own; a plugin that changes behaviour on purpose names the
//!   built-in cases it overrides, each with its own case that replaces it.
//!
//! The outcome is a [`Report`], rendered by [`report::human`], [`report::junit`] or
//! [`report::json`]. A failing plugin is a report with failed checks, not an error: [`KitError`]
//! is for the kit's own inputs (an unreadable case folder, an override naming no case).

pub mod calls;
pub mod cases;
pub mod checks;
pub mod generate;
pub mod json;
pub mod properties;
pub mod report;

pub use report::{Check, Failure, Outcome, Report, Suite};

use crate::plugin::{LoadError, Plugin, PluginId, PluginLimits, PluginRuntime, Slot};
use cases::{Case, Expectation};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// How many generated inputs each property check tries by default.
pub const DEFAULT_CASES_PER_PROPERTY: u32 = 64;

/// What the kit runs with.
#[derive(Clone, Debug)]
pub struct Options {
    /// Folders of the plugin's own cases, each laid out `<policy>/<case>/`.
    pub case_dirs: Vec<PathBuf>,
    /// The built-in cases the plugin deliberately changes, each with its own case that replaces it.
    pub overrides: Vec<cases::Override>,
    /// The file those names were read from, which the re-run command passes again.
    pub overrides_file: Option<PathBuf>,
    /// The seed of every generated input.
    pub seed: u64,
    /// How many generated inputs each property check tries.
    pub cases_per_property: u32,
    /// The plugin configuration the invariant and property checks run under (cases carry their
    /// own). Empty by default: what a practice that has not configured the plugin sends.
    pub config: String,
    /// The limits every call runs within: the production limits by default.
    pub limits: PluginLimits,
}

impl Options {
    /// The defaults, with generated inputs drawn from `seed`.
    pub fn new(seed: u64) -> Self {
        Options {
            case_dirs: vec![],
            overrides: vec![],
            overrides_file: None,
            seed,
            cases_per_property: DEFAULT_CASES_PER_PROPERTY,
            config: String::new(),
            limits: PluginLimits::default(),
        }
    }
}

/// A problem with the kit's own inputs, which stops it before it tests anything.
#[derive(Debug, thiserror::Error)]
pub enum KitError {
    /// A file or folder could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// A case folder is malformed.
    #[error("{path}: {message}")]
    Case {
        /// The case's folder.
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// Two cases have one name.
    #[error(
        "the case {name} is defined twice, in {first} and in {second}; to replace a built-in case, write `{name} -> {name}` in the overrides"
    )]
    DuplicateCase {
        /// The name, `<policy>/<case>`.
        name: String,
        /// Where it is first defined.
        first: String,
        /// Where it is defined again.
        second: String,
    },
    /// An override names no built-in case.
    #[error(
        "the overrides name `{name}`, which is no built-in case; a case is named <policy>/<case>, e.g. share_filter/bills_are_shared (`autobill plugin test --list-cases` lists them)"
    )]
    UnknownOverride {
        /// The name given.
        name: String,
    },
    /// An override's replacement is not one of the plugin's own cases of the same policy.
    #[error(
        "the override of `{case}` names `{replacement}` as its replacement, which is none of the plugin's own {slot} cases; put the case in a folder given with --cases, as {slot}/<case>/"
    )]
    UnknownReplacement {
        /// The built-in case overridden.
        case: String,
        /// The replacement named.
        replacement: String,
        /// The policy both must be in.
        slot: Slot,
    },
    /// The WebAssembly engine could not be set up.
    #[error(transparent)]
    Engine(#[from] LoadError),
}

/// A seed for a run that was given none: different on every run, and printed in the report.
pub fn random_seed() -> u64 {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |since| since.as_nanos() as u64);
    // Mixed so that runs close in time do not get close seeds; kept below 2^53 so JSON readers
    // that use doubles print it exactly.
    generate::Rng::new(nanos ^ u64::from(std::process::id())).next_u64() >> 11
}

/// One invariant or property check of a slot.
pub struct SlotCheck {
    /// `<slot>/<check>`.
    pub name: String,
    /// What it checks.
    pub description: String,
    run: fn(&Session, Slot) -> Outcome,
    slot: Slot,
}

impl SlotCheck {
    fn new(slot: Slot, check: &str, description: impl Into<String>, run: fn(&Session, Slot) -> Outcome) -> Self {
        SlotCheck { name: format!("{slot}/{check}"), description: description.into(), run, slot }
    }
}

/// A loaded plugin and what the checks need around it.
pub struct Session<'a> {
    plugin: Plugin,
    /// The same plugin, loaded by a second runtime, for the determinism checks.
    twin: Result<Plugin, String>,
    options: &'a Options,
    /// Per slot, the first check in which a call ran past the call time limit.
    out_of_time: HashMap<Slot, String>,
}

impl Session<'_> {
    /// How many calls, of the plugin and of its twin, ran past the call time limit so far.
    fn calls_out_of_time(&self) -> u64 {
        self.plugin.calls_out_of_time() + self.twin.as_ref().map_or(0, Plugin::calls_out_of_time)
    }

    /// Runs a check of `slot` named `name`, unless an earlier check of the slot ran out of time:
    /// a plugin that sleeps past the limit would do so in every check, and the kit would take
    /// minutes to say once more what it has said.
    fn check(&mut self, slot: Slot, name: &str, run: impl FnOnce(&Self) -> Outcome) -> Outcome {
        if !self.plugin.fills(slot) {
            return not_filled(slot);
        }
        if let Some(first) = self.out_of_time.get(&slot) {
            let limit = self.options.limits.call_timeout.as_millis();
            return Outcome::Skipped {
                reason: format!("not run: a call in {first} ran past the call time limit of {limit} ms"),
            };
        }
        let before = self.calls_out_of_time();
        let outcome = run(self);
        if self.calls_out_of_time() > before {
            self.out_of_time.insert(slot, name.to_string());
        }
        outcome
    }
}

/// The suites a plugin must pass before it is stored (`autobill plugin add`, `POST /v1/plugins`):
/// it is a component the host serves, and every slot it fills answers within its limits with
/// answers the host accepts. Properties and cases are for its author: what it should decide is
/// theirs to say, and generated inputs would make every upload wait.
pub const ADMISSION: [Suite; 2] = [Suite::Contract, Suite::Invariants];

/// Runs the kit over the component `bytes`, read from `file` (as shown in the report).
///
/// The plugin's own cases are read first: a malformed case folder or overrides list is a
/// [`KitError`] before anything runs. Everything the plugin does wrong is in the [`Report`].
pub fn run(file: &str, bytes: &[u8], options: &Options) -> Result<Report, KitError> {
    let mut own = vec![];
    for dir in &options.case_dirs {
        own.extend(cases::load_dir(dir)?);
    }
    let planned = cases::plan(cases::builtin()?, own, &options.overrides)?;

    let name = Path::new(file).file_stem().map_or_else(|| file.to_string(), |stem| stem.to_string_lossy().to_string());
    let runtime = PluginRuntime::new(options.limits.clone())?;
    let loading = Instant::now();
    let load = match runtime.load(&name, bytes) {
        Err(LoadError::Engine(message)) => return Err(KitError::Engine(LoadError::Engine(message))),
        load => load,
    };
    let mut report = new_report(file, load.as_ref().ok(), bytes, options);
    push_contract_checks(&mut report, &load, file, loading.elapsed().as_secs_f64());
    let Ok(plugin) = load else { return Ok(report) };

    let twin = PluginRuntime::new(options.limits.clone())
        .map_err(|error| error.to_string())
        .and_then(|runtime| runtime.load(&name, bytes).map_err(|error| error.to_string()));
    let mut session = Session { plugin, twin, options, out_of_time: HashMap::new() };
    run_slot_checks(&mut session, &mut report, &[Suite::Invariants, Suite::Properties]);
    for (case, decided) in planned {
        let started = Instant::now();
        let outcome = match decided {
            Some(outcome) => outcome,
            None => session.check(case.slot, &case.name, |session| run_case(&session.plugin, &case)),
        };
        let description =
            if case.description.is_empty() { format!("the case in {}", case.source) } else { case.description.clone() };
        report.checks.push(Check {
            name: case.name,
            suite: Suite::Cases,
            description,
            outcome,
            seconds: started.elapsed().as_secs_f64(),
        });
    }
    Ok(report)
}

/// Runs the [`ADMISSION`] suites over a plugin loaded already (by the runtime that will run it,
/// so it is compiled once), named `file` in the report. Its calls run within the plugin's runtime
/// limits, which `options.limits` should be.
pub fn admit(file: &str, plugin: Plugin, options: &Options) -> Report {
    let mut report = new_report(file, Some(&plugin), &[], options);
    push_contract_checks(&mut report, &Ok(plugin.clone()), file, 0.0);
    // The twin is for the determinism properties, which admission does not run.
    let twin = Err("not loaded: admission runs no properties".to_string());
    let mut session = Session { plugin, twin, options, out_of_time: HashMap::new() };
    run_slot_checks(&mut session, &mut report, &[Suite::Invariants]);
    report
}

/// A report with no checks yet, on the plugin `loaded` (or, if it did not load, on `bytes`).
fn new_report(file: &str, loaded: Option<&Plugin>, bytes: &[u8], options: &Options) -> Report {
    Report {
        file: file.to_string(),
        plugin_id: loaded.map_or_else(|| PluginId::of(bytes), Plugin::id).to_hex(),
        contract: loaded.and_then(|plugin| plugin.contract_version().map(str::to_string)),
        slots: loaded.map(|plugin| plugin.slots().iter().map(|slot| slot.to_string()).collect()).unwrap_or_default(),
        seed: options.seed,
        cases_per_property: options.cases_per_property,
        config: options.config.clone(),
        case_dirs: options.case_dirs.iter().map(|dir| dir.display().to_string()).collect(),
        overrides_file: options.overrides_file.as_ref().map(|file| file.display().to_string()),
        call_timeout_ms: options.limits.call_timeout.as_millis().try_into().unwrap_or(u64::MAX),
        checks: vec![],
    }
}

/// The contract checks, all answered by the one load, whose time the first of them shows.
fn push_contract_checks(report: &mut Report, load: &Result<Plugin, LoadError>, file: &str, load_seconds: f64) {
    let mut seconds = load_seconds;
    for (name, description, outcome) in checks::contract_outcomes(load, file) {
        report.checks.push(Check {
            name: name.into(),
            suite: Suite::Contract,
            description: description.into(),
            outcome,
            seconds: std::mem::take(&mut seconds),
        });
    }
}

/// Runs the invariant and property checks of every slot, in `suites` only.
fn run_slot_checks(session: &mut Session, report: &mut Report, suites: &[Suite]) {
    for suite in suites {
        let checks: Vec<SlotCheck> = match suite {
            Suite::Invariants => Slot::ALL.into_iter().flat_map(checks::invariant_checks).collect(),
            Suite::Properties => Slot::ALL.into_iter().flat_map(properties::property_checks).collect(),
            Suite::Contract | Suite::Cases => continue,
        };
        for check in checks {
            let started = Instant::now();
            let outcome = session.check(check.slot, &check.name, |session| (check.run)(session, check.slot));
            report.checks.push(Check {
                name: check.name,
                suite: *suite,
                description: check.description,
                outcome,
                seconds: started.elapsed().as_secs_f64(),
            });
        }
    }
}

fn not_filled(slot: Slot) -> Outcome {
    Outcome::Skipped { reason: format!("{} {slot} slot", report::NOT_FILLED) }
}

/// Runs one behaviour case and compares what the plugin did with what the case expects.
pub fn run_case(plugin: &Plugin, case: &Case) -> Outcome {
    let at = case.at.unwrap_or_else(|| calls::default_at(&case.call));
    let result = calls::run(plugin, case.slot, &case.call, at);
    let failed = |failure: Failure| Outcome::Failed(failure.with_input(case.source.clone()));
    match (&case.expect, result) {
        (Expectation::Answer(expected), Ok(answer)) => match cases::compare(expected, &answer) {
            Ok(()) => Outcome::Passed,
            Err(difference) => failed(
                Failure::new(format!("{} answered differently than the case expects", case.call.function()))
                    .with_difference(difference),
            ),
        },
        (Expectation::Answer(_), Err(error)) => failed(Failure::new(format!("expected an answer, but {error}"))),
        (Expectation::Error(part), Err(error)) if cases::error_matches(&error.to_string(), part) => Outcome::Passed,
        (Expectation::Error(part), Err(error)) => failed(
            Failure::new(format!("the call failed, but not as expected: {error}"))
                .with_difference(format!("expected an error mentioning {part:?}\nactual   {error}")),
        ),
        (Expectation::Error(part), Ok(answer)) => failed(
            Failure::new(format!("expected an error mentioning {part:?}, but the call answered"))
                .with_difference(format!("actual answer: {}", calls::show_answer(&answer))),
        ),
    }
}
