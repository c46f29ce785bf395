//! Scenario files: a practice, its services, clients, appointments and the actions people take,
//! as TOML. `autobill simulate` and `autobill demo` run the real engine over them.
//!
//! ```toml
//! [practice]
//! name = "Lakeside Therapy"
//! timezone = "America/New_York"
//! currency = "USD"
//! npi = "1234567893"         # optional, like tax_id, address, phone and email (the sender)
//! place_of_service = "11"    # default 11 (office); e.g. 02 or 10 for telehealth
//!
//! [practice.provider]        # optional: the rendering provider superbills name
//! name = "Dana Reyes"
//! credentials = "LCSW"
//! npi = "1679576722"         # individual NPI
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
//! modifiers = ["95"]         # optional CPT modifiers, at most 4 (default none)
//! units = 1                  # default 1
//!
//! [[client]]
//! id = "ana"
//! name = "Ana Alvarez"
//! email = "ana@example.com"
//! birth_date = "1990-04-12"  # optional; superbills show it
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

pub use crate::domain::is_place_of_service;
use crate::domain::{AppointmentStatus, AutomationChange, AutomationSettings, Currency, Slot};
use chrono::{NaiveDate, NaiveDateTime};
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};
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
    pub service: Vec<Spanned<ServiceSpec>>,
    /// Its clients.
    #[serde(default)]
    pub client: Vec<Spanned<ClientSpec>>,
    /// Appointments, created at the start of the simulation.
    #[serde(default)]
    pub appointment: Vec<Spanned<AppointmentSpec>>,
    /// What people do, at practice-local times.
    #[serde(default)]
    pub action: Vec<Spanned<ActionSpec>>,
    /// `[plugins.<slot>]`: plugins for the practice's slots.
    #[serde(default)]
    pub plugins: std::collections::BTreeMap<String, Spanned<PluginSpec>>,
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
    pub currency: Spanned<String>,
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
    /// The address billing emails come from (default: a placeholder).
    #[serde(default)]
    pub email: String,
    /// Default place-of-service code of visits (default `11`, office).
    #[serde(default)]
    pub place_of_service: Option<Spanned<String>>,
    /// `[practice.provider]`: the rendering provider.
    #[serde(default)]
    pub provider: ProviderSpec,
    /// `[practice.automation]`.
    #[serde(default)]
    pub automation: Option<Spanned<AutomationSpec>>,
}

fn usd() -> Spanned<String> {
    Spanned::new(0..0, "USD".into())
}

/// `[practice.provider]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSpec {
    /// The provider's name.
    #[serde(default)]
    pub name: String,
    /// Credentials, e.g. `LCSW`.
    #[serde(default)]
    pub credentials: String,
    /// Individual NPI.
    #[serde(default)]
    pub npi: String,
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
    pub superbill_day: Option<i64>,
    /// Sharing default for new clients.
    #[serde(default)]
    pub share: Option<bool>,
    /// Minutes before a document is emailed.
    #[serde(default)]
    pub share_delay_minutes: Option<i64>,
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
    /// CPT modifiers (at most 4, two letters or digits each).
    #[serde(default)]
    pub modifiers: Vec<String>,
    /// Units per line (default 1).
    #[serde(default = "one")]
    pub units: u32,
}

fn one() -> u32 {
    1
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
    /// Date of birth, `YYYY-MM-DD`.
    #[serde(default)]
    pub birth_date: Option<String>,
}

impl ClientSpec {
    /// The date of birth, when given and valid (checked when the scenario is read).
    pub fn birth_date(&self) -> Option<NaiveDate> {
        self.birth_date.as_deref().and_then(parse_date)
    }
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
        /// The change.
        change: AutomationChange,
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

/// A `set_practice` action's keys as a change to the automation settings.
fn automation_change(fields: &toml::Table) -> Result<AutomationChange, String> {
    let mut change = AutomationChange::default();
    for (key, value) in fields {
        let number = || value.as_integer().ok_or_else(|| format!("set_practice `{key}` must be a number"));
        let flag = || value.as_bool().ok_or_else(|| format!("set_practice `{key}` must be true or false"));
        match key.as_str() {
            "bills" => {
                change.bills =
                    Some(value.as_str().ok_or_else(|| "set_practice `bills` must be text".to_string())?.into())
            }
            "superbill_day" => change.superbill_day = Some(number()?),
            "share" => change.share = Some(flag()?),
            "share_delay_minutes" => change.share_delay_minutes = Some(number()?),
            "autopay" => change.autopay = Some(flag()?),
            other => return Err(format!("set_practice cannot change `{other}`")),
        }
    }
    Ok(change)
}

/// Reads a practice-local date-time: `2026-01-05T10:00` or with seconds.
pub fn parse_local(text: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        .ok()
}

/// Reads a date: `1990-04-12`.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// Reads an appointment status.
pub fn parse_status(text: &str) -> Option<AppointmentStatus> {
    text.parse().ok()
}

impl AutomationSpec {
    /// The change these keys make to the default settings.
    pub fn change(&self) -> AutomationChange {
        AutomationChange {
            bills: self.bills.clone(),
            superbill_day: self.superbill_day,
            share: self.share,
            share_delay_minutes: self.share_delay_minutes,
            autopay: self.autopay,
        }
    }
}

/// `[plugins.<slot>]`: a plugin for one of the practice's slots, with its configuration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginSpec {
    /// The component, relative to the scenario file.
    pub file: String,
    /// Its configuration, as a table (sent to the plugin as JSON).
    #[serde(default)]
    pub config: Option<toml::Table>,
}

/// A plugin a scenario or the command line puts in a slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginChoice {
    /// The slot.
    pub slot: Slot,
    /// The component file.
    pub file: PathBuf,
    /// Its configuration (JSON text; empty for the plugin's defaults).
    pub config: String,
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
    /// The practice's currency.
    pub currency: Currency,
    /// The practice's settings.
    pub automation: AutomationSettings,
    /// Plugins the scenario puts in the practice's slots, files relative to the scenario.
    pub plugins: Vec<PluginChoice>,
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
    let timezone = crate::domain::parse_timezone(scenario.practice.timezone.get_ref())
        .map_err(|message| error(scenario.practice.timezone.span().start, message))?;
    let automation = match &scenario.practice.automation {
        Some(spec) => spec
            .get_ref()
            .change()
            .applied_to(&AutomationSettings::default())
            .map_err(|problems| error(spec.span().start, problems.join("; ")))?,
        None => AutomationSettings::default(),
    };
    let currency = scenario
        .practice
        .currency
        .get_ref()
        .parse::<Currency>()
        .map_err(|problem| error(scenario.practice.currency.span().start, problem.to_string()))?;
    let mut plugins = vec![];
    for (slot, spec) in &scenario.plugins {
        let at = spec.span().start;
        let slot = Slot::parse(slot).map_err(|problem| error(at, format!("[plugins.{slot}]: {problem}")))?;
        let spec = spec.get_ref();
        let config = match &spec.config {
            None => String::new(),
            Some(table) => serde_json::to_string(table)
                .map_err(|problem| error(at, format!("[plugins.{slot}] config cannot be JSON: {problem}")))?,
        };
        let base = std::path::Path::new(file).parent().unwrap_or(std::path::Path::new(""));
        plugins.push(PluginChoice { slot, file: base.join(&spec.file), config });
    }
    if let Some(code) = &scenario.practice.place_of_service
        && !is_place_of_service(code.get_ref())
    {
        return Err(error(
            code.span().start,
            format!(
                "place_of_service `{}` is not a two-digit code such as 11 (office) or 10 (telehealth)",
                code.get_ref()
            ),
        ));
    }
    for service in &scenario.service {
        let spec = service.get_ref();
        let at = service.span().start;
        if spec.units == 0 {
            return Err(error(at, format!("service `{}` has units = 0; use 1 or more", spec.code)));
        }
        if spec.modifiers.len() > 4 {
            return Err(error(
                at,
                format!("service `{}` has {} modifiers; a line takes at most 4", spec.code, spec.modifiers.len()),
            ));
        }
        if let Some(modifier) =
            spec.modifiers.iter().find(|m| m.len() != 2 || !m.bytes().all(|b| b.is_ascii_alphanumeric()))
        {
            return Err(error(
                at,
                format!(
                    "service `{}` has modifier `{modifier}`; a modifier is two letters or digits such as 95",
                    spec.code
                ),
            ));
        }
    }
    let codes: Vec<&str> = scenario.service.iter().map(|s| s.get_ref().code.as_str()).collect();
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
        if let Some(birth) = &spec.birth_date
            && parse_date(birth).is_none()
        {
            return Err(error(client.span().start, format!("birth_date `{birth}` is not a date like 1990-04-12")));
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
            "set_practice" => {
                let change = automation_change(&spec.fields).map_err(|message| error(offset, message))?;
                change
                    .applied_to(&AutomationSettings::default())
                    .map_err(|problems| error(offset, problems.join("; ")))?;
                Action::SetPractice { change }
            }
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
    Ok(LoadedScenario {
        file: file.to_string(),
        scenario,
        timezone,
        currency,
        automation,
        plugins,
        appointments,
        actions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "[practice]\nname = \"P\"\ntimezone = \"America/New_York\"\n";

    #[test]
    fn a_minimal_scenario_uses_the_documented_defaults() {
        let loaded = parse("s.toml", MINIMAL).unwrap();
        assert_eq!(loaded.automation, AutomationSettings::default());
        assert_eq!(loaded.currency, Currency::USD);
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

        let error = parse("s.toml", "[practice]\nname = \"P\"\ntimezone = \"UTC\"\ncurrency = \"XYZ\"\n").unwrap_err();
        assert_eq!(error.line, 4);
        assert!(error.message.contains("ISO 4217"), "{error}");

        let error = parse("s.toml", &format!("{MINIMAL}[practice.automation]\nsuperbill_day = 40\n")).unwrap_err();
        assert!(error.message.contains("1 to 31"), "{error}");

        let error = parse("s.toml", &format!("{MINIMAL}[[action]]\nat = \"2026-01-05T10:00\"\nkind = \"dance\"\n"))
            .unwrap_err();
        assert!(error.message.contains("unknown action `dance`"));
        assert_eq!(error.line, 4);
    }

    #[test]
    fn document_fields_have_defaults_and_are_checked() {
        let text = format!(
            "{MINIMAL}\n[[service]]\ncode = \"T\"\nname = \"Therapy\"\nfee = 100\n\n[[client]]\nid = \"c\"\nname = \"C\"\n"
        );
        let loaded = parse("s.toml", &text).unwrap();
        let service = loaded.scenario.service[0].get_ref();
        assert_eq!((service.units, service.modifiers.len()), (1, 0));
        assert!(loaded.scenario.practice.place_of_service.is_none());
        assert_eq!(loaded.scenario.client[0].get_ref().birth_date(), None);

        let text = r#"
[practice]
name = "P"
timezone = "UTC"
place_of_service = "10"

[practice.provider]
name = "Dana Reyes"
credentials = "LCSW"
npi = "1679576722"

[[service]]
code = "T"
name = "T"
fee = 1
modifiers = ["95"]
units = 2

[[client]]
id = "c"
name = "C"
birth_date = "1990-04-12"
"#;
        let loaded = parse("s.toml", text).unwrap();
        assert_eq!(loaded.scenario.practice.provider.credentials, "LCSW");
        assert_eq!(loaded.scenario.service[0].get_ref().units, 2);
        assert_eq!(loaded.scenario.client[0].get_ref().birth_date(), NaiveDate::from_ymd_opt(1990, 4, 12));

        let error = parse("s.toml", &format!("{MINIMAL}place_of_service = \"office\"\n")).unwrap_err();
        assert!(error.message.contains("two-digit"), "{error}");
        assert_eq!(error.line, 4);
        let error = parse("s.toml", &format!("{MINIMAL}[[service]]\ncode = \"T\"\nname = \"T\"\nfee = 1\nunits = 0\n"))
            .unwrap_err();
        assert!(error.message.contains("units = 0"), "{error}");
        let error = parse(
            "s.toml",
            &format!("{MINIMAL}[[service]]\ncode = \"T\"\nname = \"T\"\nfee = 1\nmodifiers = [\"telehealth\"]\n"),
        )
        .unwrap_err();
        assert!(error.message.contains("modifier `telehealth`"), "{error}");
        let error =
            parse("s.toml", &format!("{MINIMAL}[[client]]\nid = \"c\"\nname = \"C\"\nbirth_date = \"12/04/1990\"\n"))
                .unwrap_err();
        assert!(error.message.contains("birth_date `12/04/1990`"), "{error}");
        assert_eq!(error.line, 4);
    }

    #[test]
    fn unknown_keys_are_refused() {
        let error = parse("s.toml", &format!("{MINIMAL}colour = \"blue\"\n")).unwrap_err();
        assert!(error.message.contains("colour"), "{error}");
    }
}
