//! The practice's world as the host keeps it: the practice with its details and settings, its
//! clients, services and appointments.

use super::{AppointmentStatus, AutomationSettings, ClientId, Currency, PracticeId, ServiceId};
use chrono::{DateTime, NaiveDate, Utc};

/// A practice.
#[derive(Clone, Debug)]
pub struct Practice {
    /// The practice's id.
    pub id: PracticeId,
    /// Its name.
    pub name: String,
    /// Its IANA time zone.
    pub timezone: chrono_tz::Tz,
    /// The currency it bills in.
    pub currency: Currency,
    /// Its organisation NPI.
    pub npi: String,
    /// Its tax id.
    pub tax_id: String,
    /// Its address.
    pub address: String,
    /// Its phone number.
    pub phone: String,
    /// The address its billing emails come from; empty for the host's placeholder.
    pub email: String,
    /// The rendering provider superbills name.
    pub provider: Provider,
    /// The default place-of-service code of its visits, e.g. `11` office, `02`/`10` telehealth.
    pub place_of_service: String,
    /// Its automation settings.
    pub automation: AutomationSettings,
    /// The instant up to which its due runs have been recorded.
    pub scheduled_until: DateTime<Utc>,
}

/// The rendering provider a superbill names, as an insurer needs them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Provider {
    /// The provider's name, e.g. `Dana Reyes`.
    pub name: String,
    /// Credentials, e.g. `LCSW`.
    pub credentials: String,
    /// The provider's individual (type 1) NPI.
    pub npi: String,
}

/// The place-of-service code a practice starts with: `11`, office.
pub const DEFAULT_PLACE_OF_SERVICE: &str = "11";

/// Whether `code` is a CMS place-of-service code: two digits.
pub fn is_place_of_service(code: &str) -> bool {
    code.len() == 2 && code.bytes().all(|b| b.is_ascii_digit())
}

/// The time zone named `name`, or why it is none: an IANA name such as `America/New_York`.
pub fn parse_timezone(name: &str) -> Result<chrono_tz::Tz, String> {
    name.parse().map_err(|_| format!("unknown time zone `{name}`: use an IANA name such as America/New_York"))
}

/// Why a text field cannot be stored as given: it holds a control character (NUL, escape, a line
/// break…). PostgreSQL refuses NUL in text outright, and the others break documents and email
/// headers, so stored text holds none.
pub fn plain_text(field: &str, text: &str) -> Result<(), String> {
    match text.chars().find(|c| c.is_control()) {
        Some(c) => Err(format!("{field} holds the control character U+{:04X}; remove it", u32::from(c))),
        None => Ok(()),
    }
}

/// The years a date of service may fall in.
pub const SERVICE_YEARS: std::ops::RangeInclusive<i32> = 1900..=2100;

/// Why a date of service cannot be one: it falls outside [`SERVICE_YEARS`].
pub fn service_date(field: &str, date: NaiveDate) -> Result<(), String> {
    use chrono::Datelike;
    if SERVICE_YEARS.contains(&date.year()) {
        Ok(())
    } else {
        Err(format!(
            "{field} {date} is outside the years {} to {}; check the year",
            SERVICE_YEARS.start(),
            SERVICE_YEARS.end()
        ))
    }
}

/// The longest practice name, in characters.
pub const MAX_PRACTICE_NAME_CHARS: usize = 200;

/// A practice name, trimmed, or why it cannot be one.
pub fn practice_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("name is empty; give the practice's name".into());
    }
    if name.chars().count() > MAX_PRACTICE_NAME_CHARS {
        return Err(format!("name is longer than {MAX_PRACTICE_NAME_CHARS} characters"));
    }
    plain_text("name", name)?;
    Ok(name.to_string())
}

/// A new practice.
#[derive(Clone, Debug)]
pub struct NewPractice {
    /// Its name.
    pub name: String,
    /// Its IANA time zone.
    pub timezone: chrono_tz::Tz,
    /// The currency it bills in.
    pub currency: Currency,
    /// Its organisation NPI.
    pub npi: String,
    /// Its tax id.
    pub tax_id: String,
    /// Its address.
    pub address: String,
    /// Its phone number.
    pub phone: String,
    /// The address its billing emails come from; empty for the host's placeholder.
    pub email: String,
    /// The rendering provider superbills name.
    pub provider: Provider,
    /// The default place-of-service code of its visits.
    pub place_of_service: String,
    /// Its automation settings.
    pub automation: AutomationSettings,
}

impl Default for NewPractice {
    /// A practice in UTC paying in USD, with empty details, office visits and default automation.
    fn default() -> Self {
        NewPractice {
            name: String::new(),
            timezone: chrono_tz::UTC,
            currency: Currency::USD,
            npi: String::new(),
            tax_id: String::new(),
            address: String::new(),
            phone: String::new(),
            email: String::new(),
            provider: Provider::default(),
            place_of_service: DEFAULT_PLACE_OF_SERVICE.into(),
            automation: AutomationSettings::default(),
        }
    }
}

/// A service a practice offers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewService {
    /// The practice's code for it.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Its fee in minor units.
    pub fee: i64,
    /// The CPT code, for insurance-eligible services.
    pub cpt: Option<String>,
    /// CPT modifiers, e.g. `95` for synchronous telehealth.
    pub modifiers: Vec<String>,
    /// Units billed per line (at least 1).
    pub units: u32,
}

impl Default for NewService {
    fn default() -> Self {
        NewService { code: String::new(), name: String::new(), fee: 0, cpt: None, modifiers: vec![], units: 1 }
    }
}

/// A new appointment and the services delivered at it.
#[derive(Clone, Copy, Debug)]
pub struct NewAppointment<'a> {
    /// The practice.
    pub practice: PracticeId,
    /// The client.
    pub client: ClientId,
    /// The practice's own reference for the appointment.
    pub reference: &'a str,
    /// When it starts.
    pub starts_at: DateTime<Utc>,
    /// Its practice-local date.
    pub local_date: NaiveDate,
    /// Its status.
    pub status: AppointmentStatus,
    /// Service id and fee of each service delivered.
    pub services: &'a [(ServiceId, i64)],
}

/// A client's stored settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    /// The client's id.
    pub id: ClientId,
    /// The practice's own reference for the client.
    pub reference: String,
    /// The client's name.
    pub name: String,
    /// Email address on file, if any.
    pub email: Option<String>,
    /// Whether communication preferences allow billing email.
    pub email_enabled: bool,
    /// "Automatically create superbills".
    pub auto_superbills: bool,
    /// Automatic sharing of billing documents.
    pub auto_share: bool,
    /// Autopay of open bills.
    pub autopay: bool,
    /// The default card's reference at the payment provider, if any.
    pub card: Option<String>,
    /// ICD-10 diagnosis codes.
    pub diagnosis: Vec<String>,
    /// Date of birth, which superbills show.
    pub birth_date: Option<NaiveDate>,
    /// Why autopay is paused, if it is (cleared when the client is saved).
    pub autopay_paused: Option<String>,
}

impl Client {
    /// Whether an email address is on file (a blank one is none).
    pub fn has_email(&self) -> bool {
        self.email.as_deref().is_some_and(|email| !email.trim().is_empty())
    }
}

/// A change to a client's settings: each field left `None` keeps its value; for `email`, `card`
/// and `birth_date`, `Some(None)` removes it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientChange {
    /// The client's name.
    pub name: Option<String>,
    /// Email address on file.
    pub email: Option<Option<String>>,
    /// Whether communication preferences allow billing email.
    pub email_enabled: Option<bool>,
    /// "Automatically create superbills".
    pub auto_superbills: Option<bool>,
    /// Automatic sharing of billing documents.
    pub auto_share: Option<bool>,
    /// Autopay of open bills.
    pub autopay: Option<bool>,
    /// The default card's reference at the payment provider.
    pub card: Option<Option<String>>,
    /// ICD-10 diagnosis codes.
    pub diagnosis: Option<Vec<String>>,
    /// Date of birth.
    pub birth_date: Option<Option<NaiveDate>>,
}

impl ClientChange {
    /// The client with this change applied.
    pub fn applied_to(self, client: Client) -> Client {
        Client {
            name: self.name.unwrap_or(client.name),
            email: self.email.unwrap_or(client.email),
            email_enabled: self.email_enabled.unwrap_or(client.email_enabled),
            auto_superbills: self.auto_superbills.unwrap_or(client.auto_superbills),
            auto_share: self.auto_share.unwrap_or(client.auto_share),
            autopay: self.autopay.unwrap_or(client.autopay),
            card: self.card.unwrap_or(client.card),
            diagnosis: self.diagnosis.unwrap_or(client.diagnosis),
            birth_date: self.birth_date.unwrap_or(client.birth_date),
            ..client
        }
    }
}

/// A new client; `auto_share` left `None` takes the practice's share setting at this moment.
#[derive(Clone, Debug, Default)]
pub struct NewClient {
    /// The practice's own reference for the client.
    pub reference: String,
    /// The client's name.
    pub name: String,
    /// Email address on file, if any.
    pub email: Option<String>,
    /// Whether communication preferences allow billing email.
    pub email_enabled: bool,
    /// "Automatically create superbills".
    pub auto_superbills: bool,
    /// Automatic sharing; `None` for the practice's default.
    pub auto_share: Option<bool>,
    /// Autopay of open bills.
    pub autopay: bool,
    /// The default card's reference, if any.
    pub card: Option<String>,
    /// ICD-10 diagnosis codes.
    pub diagnosis: Vec<String>,
    /// Date of birth, which superbills show.
    pub birth_date: Option<NaiveDate>,
}

impl NewClient {
    /// The client's automatic sharing: its own switch when given, else the practice's setting
    /// at the moment the client is created (later changes to the practice setting never touch
    /// existing clients).
    pub fn auto_share_or(&self, practice_default: bool) -> bool {
        self.auto_share.unwrap_or(practice_default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_practice_share_setting_is_the_default_for_new_clients_only() {
        let unset = NewClient::default();
        assert!(unset.auto_share_or(true), "a new client starts from the practice setting");
        assert!(!unset.auto_share_or(false));
        let own = NewClient { auto_share: Some(false), ..NewClient::default() };
        assert!(!own.auto_share_or(true), "a client's own switch wins");
    }
}
