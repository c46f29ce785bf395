//! Scenario files: a practice, its services, clients, appointments and the actions people take,
//! as TOML. `autobill simulate` and `autobill demo` run the real engine over them.
//!
//! ```toml
//! [practice]
//! name = "Lakeside Therapy"
//! timezone = "America/New_York"
//! currency = "USD"
//!
//! [practice.automation]
//! bills = "daily"            # daily | monthly | manual
//! superbill_day = 1          # 1–31, clamped to short months
//! share = true               # the default for new clients
//! share_delay_minutes = 60
//! autopay = true
//!
//! [[service]]
//! code = "90837"
//! name = "Psychotherapy, 60 min"
//! fee = 15000                # minor units
//! cpt = "90837"
//!
//! [[client]]
//! id = "ana"
//! name = "Ana Alvarez"
//! email = "ana@example.com"
//! auto_superbills = true
//! autopay = true
//! card = "visa"              # visa | declined | insufficient_funds | authentication_required
//!
//! [[appointment]]
//! id = "a1"
//! client = "ana"
//! start = "2026-01-05T10:00"
//! status = "completed"       # completed | scheduled | cancelled | no_show
//! services = ["90837"]
//!
//! [[action]]
//! at = "2026-01-06T09:00"
//! kind = "open_pended_bills" # | add_product | set_client | set_practice | complete_appointment
//! ```

use crate::domain::{AppointmentStatus, AutomationSettings, BillCreation};
use chrono::NaiveDateTime;
use serde::Deserialize;
use std::fmt;
use std::path::Path;
use toml::Spanned;

/// A scenario that could not be read, with where and what.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct ScenarioError {
    /// The scenario file.
    pub file: String,
    /// The 1-based line of the problem (0 when the file could not be read).
    pub line: usize,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// A whole scenario.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The practice.
    pub practice: PracticeSpec,
    /// The services it offers.
    #[serde(default)]
    pub service: Vec<ServiceSpec>,
    /// Its clients.
    #[serde(default)]
    pub client: Vec<Spanned<ClientSpec>>,
    /// Appointments, created at the start of the simulation.
    #[serde(default)]
    pub appointment: Vec<Spanned<AppointmentSpec>>,
    /// What people do, at practice-local times.
    #[serde(default)]
    pub action: Vec<Spanned<ActionSpec>>,
}

/// `[practice]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PracticeSpec {
    /// Name.
    pub name: String,
    /// IANA time zone.
    pub timezone: Spanned<String>,
    /// ISO 4217 currency (default USD).
    #[serde(default = "usd")]
    pub currency: String,
    /// Organisation NPI.
    #[serde(default)]
    pub npi: String,
    /// Tax id.
    #[serde(default)]
    pub tax_id: String,
    /// Address.
    #[serde(default)]
    pub address: String,
    /// Phone.
    #[serde(default)]
    pub phone: String,
    /// `[practice.automation]`.
    #[serde(default)]
    pub automation: Option<Spanned<AutomationSpec>>,
}

fn usd() -> String {
    "USD".into()
}

/// `[practice.automation]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutomationSpec {
    /// daily | monthly | manual.
    #[serde(default)]
    pub bills: Option<String>,
    /// 1–31.
    #[serde(default)]
    pub superbill_day: Option<u8>,
    /// Sharing default for new clients.
    #[serde(default)]
    pub share: Option<bool>,
    /// Minutes before a document is emailed.
    #[serde(default)]
    pub share_delay_minutes: Option<u32>,
    /// Nightly autopay.
    #[serde(default)]
    pub autopay: Option<bool>,
}

/// `[[service]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    /// The practice's code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Fee in minor units.
    pub fee: i64,
    /// CPT code, for insurance-eligible services.
    #[serde(default)]
    pub cpt: Option<String>,
}

/// `[[client]]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSpec {
    /// The scenario's id for the client.
    pub id: String,
    /// Name.
    pub name: String,
    /// Email on file.
    #[serde(default)]
    pub email: Option<String>,
    /// Email allowed by communication preferences (default true).
    #[serde(default = "yes")]
    pub email_enabled: bool,
    /// Automatically create superbills (default false).
    #[serde(default)]
    pub auto_superbills: bool,
    /// Automatic sharing (default: the practice's setting when the client is created).
    #[serde(default)]
    pub auto_share: Option<bool>,
    /// Autopay (default false).
    #[serde(default)]
    pub autopay: bool,
    /// Default card: visa | declined | insufficient_funds | authentication_required.
    #[serde(default)]
    pub card: Option<String>,
    /// ICD-10 codes.
    #[serde(default)]
    pub diagnosis: Vec<String>,
}

fn yes() -> bool {
    true
}

/// `[[appointment]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppointmentSpec {
    /// The scenario's id for the appointment.
    pub id: String,
    /// The client's id.
    pub client: String,
    /// Practice-local start, e.g. `2026-01-05T10:00`.
    pub start: String,
    /// completed | scheduled | cancelled | no_show.
    pub status: String,
    /// Service codes.
    pub services: Vec<String>,
}

/// `[[action]]`: `at` and `kind`, plus the kind's own keys.
#[derive(Debug, Deserialize)]
pub struct ActionSpec {
    /// Practice-local time.
    pub at: String,
    /// What is done.
    pub kind: String,
    /// The kind's own keys.
    #[serde(flatten)]
    pub fields: toml::Table,
}

/// Card references the sandbox gateway knows.
pub const CARDS: [&str; 4] = ["visa", "declined", "insufficient_funds", "authentication_required"];

/// An action, checked.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Every pended bill is opened.
    OpenPendedBills,
    /// A product goes on the bill holding an appointment's lines.
    AddProduct {
        /// The appointment's id.
        appointment: String,
        /// Product name.
        name: String,
        /// Amount in minor units.
        amount: i64,
    },
    /// A client's settings change; the table holds `[[client]]` keys.
    SetClient {
        /// The client's id.
        id: String,
        /// The keys to change.
        changes: toml::Table,
    },
    /// The practice's automation settings change.
    SetPractice {
        /// The keys to change.
        changes: toml::Table,
    },
    /// A scheduled appointment is completed.
    CompleteAppointment {
        /// The appointment's id.
        id: String,
    },
}

/// A checked action with its practice-local time.
#[derive(Clone, Debug, PartialEq)]
pub struct TimedAction {
    /// When, practice-local.
    pub at: NaiveDateTime,
    /// What.
    pub action: Action,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

/// Reads a practice-local date-time: `2026-01-05T10:00` or with seconds.
pub fn parse_local(text: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        .ok()
}

/// Reads an appointment status.
pub fn parse_status(text: &str) -> Option<AppointmentStatus> {
    match text {
        "completed" => Some(AppointmentStatus::Completed),
        "scheduled" => Some(AppointmentStatus::Scheduled),
        "cancelled" => Some(AppointmentStatus::Cancelled),
        "no_show" => Some(AppointmentStatus::NoShow),
        _ => None,
    }
}

impl AutomationSpec {
    /// The settings, from defaults changed by these keys.
    pub fn apply(&self, mut settings: AutomationSettings) -> Result<AutomationSettings, String> {
        if let Some(bills) = &self.bills {
            settings.bills = bills.parse::<BillCreation>()?;
        }
        if let Some(day) = self.superbill_day {
            settings.superbill_day = day;
        }
        if let Some(share) = self.share {
            settings.share = share;
        }
        if let Some(delay) = self.share_delay_minutes {
            settings.share_delay_minutes = delay;
        }
        if let Some(autopay) = self.autopay {
            settings.autopay = autopay;
        }
        match settings.problems().first() {
            Some(problem) => Err(problem.clone()),
            None => Ok(settings),
        }
    }
}

/// A read, checked scenario.
#[derive(Debug)]
pub struct LoadedScenario {
    /// The file it came from.
    pub file: String,
    /// Its contents.
    pub scenario: Scenario,
    /// The practice's time zone.
    pub timezone: chrono_tz::Tz,
    /// The practice's settings.
    pub automation: AutomationSettings,
    /// Appointments' practice-local starts and statuses, in file order.
    pub appointments: Vec<(NaiveDateTime, AppointmentStatus)>,
    /// Actions in time order (file order for equal times).
    pub actions: Vec<TimedAction>,
}

/// Reads and checks a scenario file.
pub fn load(path: &Path) -> Result<LoadedScenario, ScenarioError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|error| ScenarioError {
        file: file.clone(),
        line: 0,
        message: format!("cannot read the scenario: {error}"),
    })?;
    parse(&file, &text)
}

/// Reads and checks scenario text; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<LoadedScenario, ScenarioError> {
    let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let error =
        |offset: usize, message: String| ScenarioError { file: file.to_string(), line: line_of(offset), message };
    let scenario: Scenario = toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |span| span.start);
        error(offset, e.message().to_string())
    })?;
    let timezone = scenario.practice.timezone.get_ref().parse::<chrono_tz::Tz>().map_err(|_| {
        error(
            scenario.practice.timezone.span().start,
            format!(
                "unknown time zone `{}`: use an IANA name such as America/New_York",
                scenario.practice.timezone.get_ref()
            ),
        )
    })?;
    let automation = match &scenario.practice.automation {
        Some(spec) => {
            spec.get_ref().apply(AutomationSettings::default()).map_err(|message| error(spec.span().start, message))?
        }
        None => AutomationSettings::default(),
    };
    let codes: Vec<&str> = scenario.service.iter().map(|s| s.code.as_str()).collect();
    let mut client_ids = vec![];
    for client in &scenario.client {
        let spec = client.get_ref();
        if client_ids.contains(&spec.id.as_str()) {
            return Err(error(client.span().start, format!("client id `{}` is used twice", spec.id)));
        }
        if let Some(card) = &spec.card
            && !CARDS.contains(&card.as_str())
        {
            return Err(error(client.span().start, format!("unknown card `{card}`: use one of {}", CARDS.join(", "))));
        }
        client_ids.push(spec.id.as_str());
    }
    let mut appointments = vec![];
    let mut appointment_ids = vec![];
    for appointment in &scenario.appointment {
        let spec = appointment.get_ref();
        let at = appointment.span().start;
        let start = parse_local(&spec.start).ok_or_else(|| {
            error(at, format!("start `{}` is not a local date-time like 2026-01-05T10:00", spec.start))
        })?;
        let status = parse_status(&spec.status).ok_or_else(|| {
            error(at, format!("unknown status `{}`: use completed, scheduled, cancelled or no_show", spec.status))
        })?;
        if !client_ids.contains(&spec.client.as_str()) {
            return Err(error(
                at,
                format!("appointment `{}` names client `{}`, which no [[client]] defines", spec.id, spec.client),
            ));
        }
        if let Some(code) = spec.services.iter().find(|code| !codes.contains(&code.as_str())) {
            return Err(error(
                at,
                format!("appointment `{}` names service `{code}`, which no [[service]] defines", spec.id),
            ));
        }
        if appointment_ids.contains(&spec.id.as_str()) {
            return Err(error(at, format!("appointment id `{}` is used twice", spec.id)));
        }
        appointment_ids.push(spec.id.as_str());
        appointments.push((start, status));
    }
    let mut actions = vec![];
    for action in &scenario.action {
        let spec = action.get_ref();
        let offset = action.span().start;
        let at = parse_local(&spec.at).ok_or_else(|| {
            error(offset, format!("action time `{}` is not a local date-time like 2026-01-05T10:00", spec.at))
        })?;
        let text_field = |key: &str| -> Result<String, ScenarioError> {
            spec.fields
                .get(key)
                .and_then(|v| v.as_str())
                .map(str::to_string)
                .ok_or_else(|| error(offset, format!("action `{}` needs a text `{key}`", spec.kind)))
        };
        let action = match spec.kind.as_str() {
            "open_pended_bills" => Action::OpenPendedBills,
            "add_product" => Action::AddProduct {
                appointment: text_field("appointment")?,
                name: text_field("name")?,
                amount: spec.fields.get("amount").and_then(|v| v.as_integer()).ok_or_else(|| {
                    error(offset, "action `add_product` needs an integer `amount` in minor units".into())
                })?,
            },
            "set_client" => {
                let id = text_field("id")?;
                if !client_ids.contains(&id.as_str()) {
                    return Err(error(offset, format!("set_client names client `{id}`, which no [[client]] defines")));
                }
                let mut changes = spec.fields.clone();
                changes.remove("id");
                Action::SetClient { id, changes }
            }
            "set_practice" => Action::SetPractice { changes: spec.fields.clone() },
            "complete_appointment" => Action::CompleteAppointment { id: text_field("id")? },
            other => {
                return Err(error(
                    offset,
                    format!(
                        "unknown action `{other}`: use open_pended_bills, add_product, set_client, set_practice or complete_appointment"
                    ),
                ));
            }
        };
        actions.push(TimedAction { at, action });
    }
    actions.sort_by_key(|action| action.at);
    Ok(LoadedScenario { file: file.to_string(), scenario, timezone, automation, appointments, actions })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "[practice]\nname = \"P\"\ntimezone = \"America/New_York\"\n";

    #[test]
    fn a_minimal_scenario_uses_the_documented_defaults() {
        let loaded = parse("s.toml", MINIMAL).unwrap();
        assert_eq!(loaded.automation, AutomationSettings::default());
        assert_eq!(loaded.scenario.practice.currency, "USD");
    }

    #[test]
    fn bad_input_names_the_file_line_and_problem() {
        let text = format!(
            "{MINIMAL}\n[[client]]\nid = \"c\"\nname = \"C\"\n\n[[appointment]]\nid = \"a\"\nclient = \"nobody\"\nstart = \"2026-01-05T10:00\"\nstatus = \"completed\"\nservices = []\n"
        );
        let error = parse("s.toml", &text).unwrap_err();
        assert_eq!(error.line, 9);
        assert!(error.to_string().starts_with("s.toml:9: appointment `a` names client `nobody`"), "{error}");

        let error = parse("s.toml", "[practice]\nname = \"P\"\ntimezone = \"Mars/Olympus\"\n").unwrap_err();
        assert_eq!(error.line, 3);
        assert!(error.message.contains("unknown time zone"));

        let error = parse("s.toml", &format!("{MINIMAL}[practice.automation]\nsuperbill_day = 40\n")).unwrap_err();
        assert!(error.message.contains("1 to 31"), "{error}");

        let error = parse("s.toml", &format!("{MINIMAL}[[action]]\nat = \"2026-01-05T10:00\"\nkind = \"dance\"\n"))
            .unwrap_err();
        assert!(error.message.contains("unknown action `dance`"));
        assert_eq!(error.line, 4);
    }

    #[test]
    fn unknown_keys_are_refused() {
        let error = parse("s.toml", &format!("{MINIMAL}colour = \"blue\"\n")).unwrap_err();
        assert!(error.message.contains("colour"), "{error}");
    }
}
