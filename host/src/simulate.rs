//! Runs the real engine on a simulated clock over a scenario: the way to see, test and trust
//! behaviour over time. The clock jumps from one due moment (a run, a share, an action) to the
//! next, so a month takes a fraction of a second.

use crate::domain::{
    AppointmentStatus, DEFAULT_PLACE_OF_SERVICE, Event, EventKind, NewAppointment, NewClient, NewPractice, NewService,
    PracticeId, Provider,
};
use crate::engine::{Engine, EngineError};
use crate::scenario::{Action, LoadedScenario, PluginChoice};
use crate::schedule::local_instant;
use crate::store::StoreError;
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};

/// How a simulation runs.
#[derive(Clone, Debug)]
pub struct SimulationOptions {
    /// The first practice-local day simulated (its 12:00 am runs included).
    pub from: NaiveDate,
    /// The last practice-local day simulated, to its end.
    pub until: NaiveDate,
    /// Plugins for slots, with their configuration; they override the scenario's `[plugins]`.
    pub plugins: Vec<PluginChoice>,
}

/// Why a simulation could not run, or stopped.
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
    /// A plugin file could not be read or loaded, or refused its configuration.
    #[error("plugin {path}: {reason}")]
    Plugin {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A scenario action could not be applied; the simulation stopped there.
    #[error("action at {at}: {reason}")]
    Action {
        /// When.
        at: NaiveDateTime,
        /// Why, with the failed run that explains it, if one does.
        reason: String,
        /// Everything that happened before, in time order.
        events: Vec<Event>,
    },
    /// No scenario was given.
    #[error("no scenario to simulate: name at least one scenario file")]
    NoScenario,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// The outcome of a simulation, for one practice.
#[derive(Debug)]
pub struct Simulation {
    /// The practice's name.
    pub practice: String,
    /// The practice's time zone, for showing times.
    pub timezone: chrono_tz::Tz,
    /// Everything that happened, in time order.
    pub events: Vec<Event>,
}

/// How far a simulation has come, in practice-local days of its window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// The days simulated to their end.
    pub days_done: u64,
    /// The days in the window.
    pub days: u64,
}

/// Runs `scenario` on `engine` (its store, its plugin runtime, its gateway and mailer) from
/// `options.from` to the end of `options.until`.
pub async fn run(
    loaded: &LoadedScenario,
    options: &SimulationOptions,
    engine: &Engine,
) -> Result<Simulation, SimulateError> {
    run_with_progress(loaded, options, engine, &mut |_| {}).await
}

/// Runs `scenario` as [`run`] does, telling `progress` how far it has come after every step.
pub async fn run_with_progress(
    loaded: &LoadedScenario,
    options: &SimulationOptions,
    engine: &Engine,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<Simulation, SimulateError> {
    let mut simulations = run_together(std::slice::from_ref(loaded), options, engine, progress).await?;
    simulations.pop().ok_or(SimulateError::NoScenario)
}

/// Runs several scenarios side by side on one engine, each its own practice with its own
/// policies (its `[plugins]`, and `options.plugins` in every practice), from `options.from` to
/// the end of `options.until` in each practice's own time zone; progress counts the first
/// scenario's days. Gives each practice's simulation, in the order given.
pub async fn run_together(
    scenarios: &[LoadedScenario],
    options: &SimulationOptions,
    engine: &Engine,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<Vec<Simulation>, SimulateError> {
    if options.until < options.from {
        return Err(SimulateError::EmptyWindow { from: options.from, until: options.until });
    }
    let first = scenarios.first().ok_or(SimulateError::NoScenario)?;
    let window = |tz: chrono_tz::Tz| {
        let start = local_instant(tz, options.from, NaiveTime::MIN) - Duration::seconds(1);
        let end = local_instant(tz, options.until + Duration::days(1), NaiveTime::MIN) - Duration::seconds(1);
        (start, end)
    };
    let start = scenarios.iter().map(|loaded| window(loaded.timezone).0).min().unwrap_or(window(first.timezone).0);
    let end = scenarios.iter().map(|loaded| window(loaded.timezone).1).max().unwrap_or(window(first.timezone).1);
    let days_before = |instant: DateTime<Utc>| {
        u64::try_from((instant.with_timezone(&first.timezone).date_naive() - options.from).num_days()).unwrap_or(0)
    };
    let days = days_before(window(first.timezone).1) + 1;
    let mut practices = Vec::with_capacity(scenarios.len());
    for loaded in scenarios {
        practices.push(set_up(loaded, options, engine, start).await?);
    }

    // Every scenario's actions, in time order (a scenario's own order kept among equal times).
    let mut actions: Vec<(DateTime<Utc>, usize, &crate::scenario::TimedAction)> = scenarios
        .iter()
        .enumerate()
        .flat_map(|(index, loaded)| {
            let tz = loaded.timezone;
            loaded
                .actions
                .iter()
                .map(move |action| (local_instant(tz, action.at.date(), action.at.time()), index, action))
        })
        .collect();
    actions.sort_by_key(|(at, index, _)| (*at, *index));
    let mut actions = actions.into_iter().peekable();
    let mut now = start;
    loop {
        let next_run = engine.next_due(now).await?;
        let next_action = actions.peek().map(|(at, _, _)| *at);
        let next = match (next_run, next_action) {
            (Some(run), Some(action)) => run.min(action),
            (Some(run), None) => run,
            (None, Some(action)) => action,
            (None, None) => now + Duration::days(2),
        };
        if next > end {
            // Nothing is due before the end, as far as the policies said: a last tick records
            // what they failed to say (a cadence that errs or runs out of time), as `serve` would.
            engine.tick(end).await?;
            break;
        }
        while let Some((at, index, action)) = actions.next_if(|(at, _, _)| *at <= next) {
            if let Err(reason) = apply(engine, practices[index], &action.action, at).await {
                let events = engine.events(practices[index]).await?;
                let reason = explained(reason, &events);
                return Err(SimulateError::Action { at: action.at, reason, events });
            }
        }
        engine.tick(next).await?;
        now = next;
        progress(Progress { days_done: days_before(next).min(days), days });
    }
    progress(Progress { days_done: days, days });
    let mut simulations = Vec::with_capacity(scenarios.len());
    for (loaded, practice) in scenarios.iter().zip(practices) {
        simulations.push(Simulation {
            practice: loaded.scenario.practice.name.clone(),
            timezone: loaded.timezone,
            events: engine.events(practice).await?,
        });
    }
    Ok(simulations)
}

/// Creates the scenario's practice, plugins, services, clients and appointments; gives the practice.
async fn set_up(
    loaded: &LoadedScenario,
    options: &SimulationOptions,
    engine: &Engine,
    start: DateTime<Utc>,
) -> Result<PracticeId, SimulateError> {
    let store = engine.store();
    let spec = &loaded.scenario;
    let tz = loaded.timezone;
    let practice = store
        .create_practice(
            &NewPractice {
                name: spec.practice.name.clone(),
                timezone: tz,
                currency: loaded.currency,
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
                    .map_or(DEFAULT_PLACE_OF_SERVICE.to_string(), |code| code.get_ref().clone()),
                automation: loaded.automation.clone(),
            },
            start,
        )
        .await?;
    let chosen = loaded
        .plugins
        .iter()
        .filter(|choice| !options.plugins.iter().any(|given| given.slot == choice.slot))
        .chain(&options.plugins);
    for choice in chosen {
        let failed = |reason: String| SimulateError::Plugin { path: choice.file.display().to_string(), reason };
        let bytes = std::fs::read(&choice.file).map_err(|error| failed(error.to_string()))?;
        let name = choice.file.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
        let plugin = engine.runtime().load(&name, &bytes).map_err(|error| failed(error.to_string()))?;
        if !plugin.fills(choice.slot) {
            return Err(failed(format!("it does not fill the {} slot (it fills: {:?})", choice.slot, plugin.slots())));
        }
        plugin
            .check_config(choice.slot, &choice.config)
            .map_err(|error| failed(format!("its configuration was refused: {error}")))?;
        store.save_plugin(&plugin.id().to_hex(), &name, &bytes, start).await?;
        store.assign_plugin(practice, choice.slot, &plugin.id().to_hex(), &choice.config).await?;
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
            starts_at: local_instant(tz, start_local.date(), start_local.time()),
            local_date: start_local.date(),
            status: *status,
            services: &services,
        };
        store.create_appointment(&appointment).await?;
    }
    for warning in loaded.automation.warnings() {
        engine.warn(practice, warning, start).await?;
    }
    Ok(practice)
}

/// A failed action's reason, with the failed run that explains it when there is one: an action
/// on a bill the bill run did not make because it failed.
fn explained(reason: String, events: &[Event]) -> String {
    let failed = events.iter().rev().find_map(|event| match &event.kind {
        EventKind::RunFailed { run, reason } => Some((run.clone(), reason.clone())),
        _ => None,
    });
    match failed {
        Some((run, why)) => match run.split_once(':') {
            Some((kind, date)) => format!("{reason} (the {kind} run of {date} failed: {why})"),
            None => format!("{reason} (the {run} failed: {why})"),
        },
        None => reason,
    }
}

/// Applies one action at `now`; the error says what went wrong for people.
async fn apply(engine: &Engine, practice: PracticeId, action: &Action, now: DateTime<Utc>) -> Result<(), String> {
    let store = engine.store();
    let text = |error: &dyn std::fmt::Display| error.to_string();
    match action {
        Action::OpenPendedBills => {
            engine.open_pended_bills(practice, now).await.map_err(|error| text(&error))?;
        }
        Action::AddProduct { appointment, name, amount } => {
            engine.add_product(practice, appointment, name, *amount, now).await.map_err(|error| text(&error))?;
        }
        Action::CompleteAppointment { id } => {
            store
                .set_appointment_status(practice, id, AppointmentStatus::Completed)
                .await
                .map_err(|error| text(&error))?;
        }
        Action::SetClient { id, changes } => {
            let mut client = store.client_by_reference(practice, id).await.map_err(|error| text(&error))?;
            for (key, value) in changes {
                let flag = || value.as_bool().ok_or_else(|| format!("set_client `{key}` must be true or false"));
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
                                format!("set_client birth_date `{text}` is not a date like 1990-04-12")
                            })?),
                        };
                    }
                    other => return Err(format!("set_client cannot change `{other}`")),
                }
            }
            store.update_client(&client).await.map_err(|error| text(&error))?;
        }
        Action::SetPractice { change } => {
            engine.change_automation(practice, change, now).await.map_err(|error| text(&error))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::BillId;

    #[test]
    fn an_action_that_fails_after_a_failed_run_names_the_run() {
        let events = [
            Event {
                at: DateTime::UNIX_EPOCH,
                kind: EventKind::BillOpened { bill: BillId::new(1), client: "a".into() },
            },
            Event {
                at: DateTime::UNIX_EPOCH,
                kind: EventKind::RunFailed { run: "bill:2026-01-07".into(), reason: "plugin `x` failed".into() },
            },
        ];
        assert_eq!(
            explained("appointment ben-1 is on no bill yet".into(), &events),
            "appointment ben-1 is on no bill yet (the bill run of 2026-01-07 failed: plugin `x` failed)"
        );
        assert_eq!(explained("no".into(), &events[..1]), "no");
        let schedule = [Event {
            at: DateTime::UNIX_EPOCH,
            kind: EventKind::RunFailed { run: "schedule".into(), reason: "plugin `x` failed".into() },
        }];
        assert_eq!(explained("no".into(), &schedule), "no (the schedule failed: plugin `x` failed)");
    }
}
