//! Runs the real engine on a simulated clock over a scenario: the way to see, test and trust
//! behaviour over time. The clock jumps from one due moment (a run, a share, an action) to the
//! next, so a month takes a fraction of a second.

use crate::engine::{Engine, EngineError, Event};
use crate::mail::{FileOutbox, Mailer};
use crate::payments::SandboxGateway;
use crate::plugin::{PluginRuntime, Slot};
use crate::scenario::{Action, LoadedScenario};
use crate::schedule::local_instant;
use crate::store::{self, NewAppointment, NewClient, NewPractice, NewService, Provider, Store, StoreError};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use std::path::PathBuf;
use std::sync::Arc;

/// How a simulation runs.
#[derive(Clone, Debug)]
pub struct SimulationOptions {
    /// The first practice-local day simulated (its 12:00 am runs included).
    pub from: NaiveDate,
    /// The last practice-local day simulated, to its end.
    pub until: NaiveDate,
    /// The database; a fresh SQLite file in `work_dir` when `None`.
    pub database_url: Option<String>,
    /// Plugins for slots, as component files.
    pub plugins: Vec<(Slot, PathBuf)>,
    /// Where the SQLite file and the outbox go.
    pub work_dir: PathBuf,
}

/// Why a simulation could not run.
#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    /// The window is empty.
    #[error("--until ({until}) is before --from ({from})")]
    EmptyWindow {
        /// From.
        from: NaiveDate,
        /// Until.
        until: NaiveDate,
    },
    /// A plugin file could not be read or loaded.
    #[error("plugin {path}: {reason}")]
    Plugin {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A scenario action could not be applied.
    #[error("action at {at}: {reason}")]
    Action {
        /// When.
        at: NaiveDateTime,
        /// Why.
        reason: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// The outcome of a simulation.
#[derive(Debug)]
pub struct Simulation {
    /// The practice's time zone, for showing times.
    pub timezone: chrono_tz::Tz,
    /// Everything that happened, in time order.
    pub events: Vec<Event>,
    /// Where the file outbox wrote emails (empty when another mailer sent them).
    pub outbox: PathBuf,
}

/// How far a simulation has come, in practice-local days of its window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// The days simulated to their end.
    pub days_done: u64,
    /// The days in the window.
    pub days: u64,
}

/// Runs `scenario` from `options.from` to the end of `options.until`, writing emails to the file
/// outbox in `options.work_dir/outbox`.
pub async fn run(
    loaded: &LoadedScenario,
    options: &SimulationOptions,
    runtime: Arc<PluginRuntime>,
) -> Result<Simulation, SimulateError> {
    run_with_progress(loaded, options, runtime, None, &mut |_| {}).await
}

/// Runs `scenario` as [`run`] does, sending emails through `mailer` (e.g. an
/// [`SmtpMailer`](crate::mail::SmtpMailer)).
pub async fn run_with_mailer(
    loaded: &LoadedScenario,
    options: &SimulationOptions,
    runtime: Arc<PluginRuntime>,
    mailer: Arc<dyn Mailer>,
) -> Result<Simulation, SimulateError> {
    run_with_progress(loaded, options, runtime, Some(mailer), &mut |_| {}).await
}

/// Runs `scenario` as [`run`] does (or through `mailer` when one is given, as
/// [`run_with_mailer`] does), telling `progress` how far it has come after every step.
pub async fn run_with_progress(
    loaded: &LoadedScenario,
    options: &SimulationOptions,
    runtime: Arc<PluginRuntime>,
    mailer: Option<Arc<dyn Mailer>>,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<Simulation, SimulateError> {
    let outbox = options.work_dir.join("outbox");
    let (mailer, outbox) = match mailer {
        Some(mailer) => (mailer, PathBuf::new()),
        None => (Arc::new(FileOutbox::new(&outbox)) as Arc<dyn Mailer>, outbox),
    };
    if options.until < options.from {
        return Err(SimulateError::EmptyWindow { from: options.from, until: options.until });
    }
    let tz = loaded.timezone;
    let at = |local: NaiveDateTime| local_instant(tz, local.date(), local.time());
    let start = local_instant(tz, options.from, NaiveTime::MIN) - Duration::seconds(1);
    let end = local_instant(tz, options.until + Duration::days(1), NaiveTime::MIN) - Duration::seconds(1);
    let days_before = |instant: DateTime<Utc>| {
        u64::try_from((instant.with_timezone(&tz).date_naive() - options.from).num_days()).unwrap_or(0)
    };
    let days = days_before(end) + 1;

    std::fs::create_dir_all(&options.work_dir)
        .map_err(|error| SimulateError::Action { at: start.naive_utc(), reason: error.to_string() })?;
    let url = options
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", options.work_dir.join("autobill.db").display()));
    let store = Store::connect(&url).await?;
    let engine = Engine::new(store.clone(), runtime.clone(), Arc::new(SandboxGateway), mailer, "simulate")?;

    let spec = &loaded.scenario;
    let practice = store
        .create_practice(
            &NewPractice {
                name: spec.practice.name.clone(),
                timezone: tz,
                currency: spec.practice.currency.clone(),
                npi: spec.practice.npi.clone(),
                tax_id: spec.practice.tax_id.clone(),
                address: spec.practice.address.clone(),
                phone: spec.practice.phone.clone(),
                email: spec.practice.email.clone(),
                provider: Provider {
                    name: spec.practice.provider.name.clone(),
                    credentials: spec.practice.provider.credentials.clone(),
                    npi: spec.practice.provider.npi.clone(),
                },
                place_of_service: spec
                    .practice
                    .place_of_service
                    .as_ref()
                    .map_or(store::DEFAULT_PLACE_OF_SERVICE.to_string(), |code| code.get_ref().clone()),
                automation: loaded.automation.clone(),
            },
            start,
        )
        .await?;
    for (slot, path) in &options.plugins {
        let failed = |reason: String| SimulateError::Plugin { path: path.display().to_string(), reason };
        let bytes = std::fs::read(path).map_err(|error| failed(error.to_string()))?;
        let name = path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
        let plugin = runtime.load(&name, &bytes).map_err(|error| failed(error.to_string()))?;
        if !plugin.fills(*slot) {
            return Err(failed(format!("it does not fill the {slot} slot (it fills: {:?})", plugin.slots())));
        }
        store.save_plugin(&plugin.id().to_hex(), &name, &bytes, start).await?;
        store.assign_plugin(practice, *slot, &plugin.id().to_hex(), "").await?;
    }
    for service in &spec.service {
        let service = service.get_ref();
        let new = NewService {
            code: service.code.clone(),
            name: service.name.clone(),
            fee: service.fee,
            cpt: service.cpt.clone(),
            modifiers: service.modifiers.clone(),
            units: service.units,
        };
        store.create_service_with(practice, &new).await?;
    }
    for client in &spec.client {
        let c = client.get_ref();
        let new = NewClient {
            reference: c.id.clone(),
            name: c.name.clone(),
            email: c.email.clone(),
            email_enabled: c.email_enabled,
            auto_superbills: c.auto_superbills,
            auto_share: c.auto_share,
            autopay: c.autopay,
            card: c.card.clone(),
            diagnosis: c.diagnosis.clone(),
            birth_date: c.birth_date(),
        };
        store.create_client(practice, &new).await?;
    }
    for (appointment, (start_local, status)) in spec.appointment.iter().zip(&loaded.appointments) {
        let a = appointment.get_ref();
        let client = store.client_by_reference(practice, &a.client).await?;
        let mut services = vec![];
        for code in &a.services {
            services.push(store.service_by_code(practice, code).await?);
        }
        let appointment = NewAppointment {
            practice,
            client: client.id,
            reference: &a.id,
            starts_at: at(*start_local),
            local_date: start_local.date(),
            status: *status,
            services: &services,
        };
        store.create_appointment(&appointment).await?;
    }
    for warning in loaded.automation.warnings() {
        engine.warn(practice, warning, start).await?;
    }

    let mut actions = loaded.actions.iter().peekable();
    let mut now = start;
    loop {
        let next_run = engine.next_due(now).await?;
        let next_action = actions.peek().map(|action| at(action.at));
        let next = match (next_run, next_action) {
            (Some(run), Some(action)) => run.min(action),
            (Some(run), None) => run,
            (None, Some(action)) => action,
            (None, None) => now + Duration::days(2),
        };
        if next > end {
            break;
        }
        while let Some(action) = actions.next_if(|action| at(action.at) <= next) {
            apply(&engine, practice, action.at, &action.action, at(action.at)).await?;
        }
        engine.tick(next).await?;
        now = next;
        progress(Progress { days_done: days_before(next).min(days), days });
    }
    progress(Progress { days_done: days, days });
    Ok(Simulation { timezone: tz, events: engine.events(practice).await?, outbox })
}

async fn apply(
    engine: &Engine,
    practice: i64,
    local: NaiveDateTime,
    action: &Action,
    now: DateTime<Utc>,
) -> Result<(), SimulateError> {
    let failed = |reason: String| SimulateError::Action { at: local, reason };
    let store = engine.store();
    match action {
        Action::OpenPendedBills => {
            engine.open_pended_bills(practice, now).await?;
        }
        Action::AddProduct { appointment, name, amount } => {
            engine
                .add_product(practice, appointment, name, *amount, now)
                .await
                .map_err(|error| failed(error.to_string()))?;
        }
        Action::CompleteAppointment { id } => {
            store
                .set_appointment_status(practice, id, crate::domain::AppointmentStatus::Completed)
                .await
                .map_err(|error| failed(error.to_string()))?;
        }
        Action::SetClient { id, changes } => {
            let mut client = store.client_by_reference(practice, id).await?;
            for (key, value) in changes {
                let flag =
                    || value.as_bool().ok_or_else(|| failed(format!("set_client `{key}` must be true or false")));
                match key.as_str() {
                    "name" => client.name = value.as_str().unwrap_or_default().to_string(),
                    "email" => client.email = value.as_str().filter(|email| !email.is_empty()).map(str::to_string),
                    "email_enabled" => client.email_enabled = flag()?,
                    "auto_superbills" => client.auto_superbills = flag()?,
                    "auto_share" => client.auto_share = flag()?,
                    "autopay" => client.autopay = flag()?,
                    "card" => client.card = value.as_str().filter(|card| !card.is_empty()).map(str::to_string),
                    "birth_date" => {
                        let text = value.as_str().unwrap_or_default();
                        client.birth_date = match text {
                            "" => None,
                            text => Some(crate::scenario::parse_date(text).ok_or_else(|| {
                                failed(format!("set_client birth_date `{text}` is not a date like 1990-04-12"))
                            })?),
                        };
                    }
                    other => return Err(failed(format!("set_client cannot change `{other}`"))),
                }
            }
            store.update_client(&client).await?;
        }
        Action::SetPractice { changes } => {
            let mut automation = store.practice(practice).await?.automation;
            for (key, value) in changes {
                let number =
                    || value.as_integer().ok_or_else(|| failed(format!("set_practice `{key}` must be a number")));
                let flag =
                    || value.as_bool().ok_or_else(|| failed(format!("set_practice `{key}` must be true or false")));
                match key.as_str() {
                    "bills" => automation.bills = value.as_str().unwrap_or_default().parse().map_err(failed)?,
                    "superbill_day" => {
                        automation.superbill_day =
                            u8::try_from(number()?).map_err(|_| failed("superbill_day must be 1 to 31".into()))?
                    }
                    "share" => automation.share = flag()?,
                    "share_delay_minutes" => {
                        automation.share_delay_minutes = u32::try_from(number()?)
                            .map_err(|_| failed("share_delay_minutes must be 0 to 10080".into()))?
                    }
                    "autopay" => automation.autopay = flag()?,
                    other => return Err(failed(format!("set_practice cannot change `{other}`"))),
                }
            }
            if let Some(problem) = automation.problems().first() {
                return Err(failed(problem.clone()));
            }
            store.update_automation(practice, &automation).await?;
            for warning in automation.warnings() {
                engine.warn(practice, warning, now).await?;
            }
        }
    }
    Ok(())
}
