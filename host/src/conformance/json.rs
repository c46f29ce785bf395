//! The JSON form of the contract's types: what a case's `input.json` and `expected.json` hold,
//! and how the kit prints a generated input or a plugin's answer.
//!
//! The host's own types are generated from the WIT by wasmtime and carry no serde; these mirror
//! them field for field (snake_case names, dates as `"YYYY-MM-DD"`) and convert both ways. Fields
//! a case rarely needs have defaults, so a case states only what it is about.

use crate::plugin::policy as host;
use crate::plugin::{Slot, to_policy_date};
use chrono::NaiveDate;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A practice-local date, written `"YYYY-MM-DD"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub NaiveDate);

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0.format("%Y-%m-%d"))
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        NaiveDate::parse_from_str(&text, "%Y-%m-%d")
            .map(Day)
            .map_err(|error| D::Error::custom(format!("{text:?} is not a date in the form YYYY-MM-DD ({error})")))
    }
}

impl Day {
    /// The contract's form of the date.
    pub fn to_policy(self) -> host::Date {
        to_policy_date(self.0)
    }
}

/// How the practice creates bills.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BillCreation {
    /// Every day at 12:00 am.
    #[default]
    Daily,
    /// On the 1st of every month.
    Monthly,
    /// Pended bills a person opens.
    Manual,
}

/// The practice's billing automation settings. Defaults: daily bills, superbill day 1, sharing
/// off for new clients, no share delay, no autopay.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Automation {
    /// How bills are created.
    pub bill_creation: BillCreation,
    /// The day of the month superbills are made, 1 to 31.
    pub superbill_day: u8,
    /// Whether new clients start with automatic sharing on.
    pub share_by_default: bool,
    /// Minutes between a document's creation and its email.
    pub share_delay_minutes: u32,
    /// Whether open bills are charged nightly.
    pub autopay: bool,
}

impl Default for Automation {
    fn default() -> Self {
        Automation {
            bill_creation: BillCreation::Daily,
            superbill_day: 1,
            share_by_default: false,
            share_delay_minutes: 0,
            autopay: false,
        }
    }
}

/// What a call is told about its practice. Defaults: practice 1 in America/New_York, USD, the
/// default [`Automation`], and an empty plugin configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Practice {
    /// The practice's id.
    pub practice_id: u64,
    /// The IANA time zone.
    pub timezone: String,
    /// The ISO 4217 currency code.
    pub currency: String,
    /// The automation settings.
    pub automation: Automation,
    /// The practice's configuration for the plugin (a JSON document as a string, or "").
    pub config: String,
}

impl Default for Practice {
    fn default() -> Self {
        Practice {
            practice_id: 1,
            timezone: "America/New_York".into(),
            currency: "USD".into(),
            automation: Automation::default(),
            config: String::new(),
        }
    }
}

/// A service of the catalog.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// The practice's code for the service.
    pub code: String,
    /// The CPT code, if the service is insurance-eligible.
    #[serde(default)]
    pub cpt_code: Option<String>,
}

/// The services and diagnosis sets lines refer to by index.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Catalog {
    /// Services; a line's `service` indexes this list.
    pub services: Vec<Service>,
    /// Sets of ICD-10 codes; a line's `diagnoses` indexes this list.
    pub diagnosis_sets: Vec<Vec<String>>,
}

/// One service delivered at one appointment. `appointment_id` defaults to the line's id (one
/// line per appointment), `service` and `diagnoses` to 0, `fee` to 15000 and `paid` to 0.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Line {
    /// The line's id.
    pub line_id: u64,
    /// The appointment's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appointment_id: Option<u64>,
    /// The client's id.
    pub client_id: u64,
    /// The date of service.
    pub date: Day,
    /// Index into the catalog's services.
    #[serde(default)]
    pub service: u32,
    /// Index into the catalog's diagnosis sets.
    #[serde(default)]
    pub diagnoses: u32,
    /// The fee, in minor units.
    #[serde(default = "default_fee")]
    pub fee: i64,
    /// What has been paid, in minor units.
    #[serde(default)]
    pub paid: i64,
}

fn default_fee() -> i64 {
    15_000
}

fn yes() -> bool {
    true
}

/// A client's billing settings. Every switch defaults to what lets documents flow: email on
/// file and allowed, automatic superbills and sharing on; autopay and a card default to off.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Client {
    /// The client's id.
    pub client_id: u64,
    /// Whether an email address is on file.
    #[serde(default = "yes")]
    pub email_on_file: bool,
    /// Whether communication preferences allow billing email.
    #[serde(default = "yes")]
    pub email_allowed: bool,
    /// "Automatically create superbills".
    #[serde(default = "yes")]
    pub auto_superbills: bool,
    /// The client's automatic sharing switch.
    #[serde(default = "yes")]
    pub auto_share: bool,
    /// Whether open bills are charged to the client's card.
    #[serde(default)]
    pub autopay: bool,
    /// Whether a default card is on file.
    #[serde(default)]
    pub card_on_file: bool,
}

/// The kind of a billing document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocumentKind {
    /// A bill.
    Bill,
    /// A superbill.
    Superbill,
}

/// The status of a billing document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocumentStatus {
    /// A bill waiting for a person.
    Pended,
    /// An open bill.
    Open,
    /// A bill paid in full.
    Paid,
    /// A voided document.
    Void,
    /// An issued superbill.
    Issued,
}

/// A billing document about to be shared. `client_id` defaults to the request's client,
/// `total` to 15000 and `paid` to 0.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// The document's id.
    pub document_id: u64,
    /// Bill or superbill.
    pub kind: DocumentKind,
    /// The client it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<u64>,
    /// The total, in minor units.
    #[serde(default = "default_fee")]
    pub total: i64,
    /// What has been paid, in minor units.
    #[serde(default)]
    pub paid: i64,
    /// The document's status.
    pub status: DocumentStatus,
}

/// One document to decide on, with its client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// The document.
    pub document: Document,
    /// The client it would be emailed to.
    pub client: Client,
}

/// The status a new bill is created in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BillStatus {
    /// Waiting for a person.
    Pended,
    /// Final.
    Open,
}

/// A bill a cadence policy asks for.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bill {
    /// The client billed.
    pub client_id: u64,
    /// The lines on the bill.
    pub lines: Vec<u64>,
    /// The status it is created in.
    pub status: BillStatus,
}

/// A superbill an inclusion policy asks for.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Superbill {
    /// The client it is for.
    pub client_id: u64,
    /// The lines on it.
    pub lines: Vec<u64>,
}

/// What to do with one document: `{"send": MINUTES}` or `{"skip": "REASON"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// Email it after this many minutes.
    Send(u32),
    /// Do not email it, for this reason.
    Skip(String),
}

/// One open bill tonight's autopay may charge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Candidate {
    /// The bill.
    pub bill_id: u64,
    /// The bill's client.
    pub client_id: u64,
    /// What is left to pay, in minor units.
    pub balance: i64,
    /// Whole days since the bill was made.
    #[serde(default)]
    pub age_days: u32,
    /// The charges attempted on the bill so far.
    #[serde(default)]
    pub attempts: u32,
    /// The decline code of the bill's last declined attempt.
    #[serde(default)]
    pub last_decline_code: Option<String>,
    /// Whether the client has disputed a payment.
    #[serde(default)]
    pub client_disputed: bool,
}

/// What to do with one autopay candidate: `{"charge": AMOUNT}` or `{"skip": "REASON"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChargeDecision {
    /// Charge this amount, in minor units.
    Charge(i64),
    /// Do not charge the bill tonight, for this reason.
    Skip(String),
}

/// One policy call: the function, by its WIT name in `"function"`, and its arguments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "function", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Call {
    /// `check-config`, of the slot the case's folder names.
    CheckConfig {
        /// The configuration to check.
        config: String,
    },
    /// `bill-cadence.bill-run-dates`.
    BillRunDates {
        /// The practice.
        #[serde(default)]
        practice: Practice,
        /// The window's first day.
        first: Day,
        /// The window's last day.
        last: Day,
    },
    /// `bill-cadence.group-lines`.
    GroupLines {
        /// The practice.
        #[serde(default)]
        practice: Practice,
        /// The run's date.
        run_date: Day,
        /// The services and diagnoses the lines refer to.
        #[serde(default)]
        catalog: Catalog,
        /// The unbilled lines.
        #[serde(default)]
        lines: Vec<Line>,
    },
    /// `superbill-inclusion.superbill-run-day`.
    SuperbillRunDay {
        /// The practice.
        #[serde(default)]
        practice: Practice,
        /// The year.
        year: i32,
        /// The month, 1 to 12.
        month: u8,
    },
    /// `superbill-inclusion.select-lines`.
    SelectLines {
        /// The practice.
        #[serde(default)]
        practice: Practice,
        /// The run's date.
        run_date: Day,
        /// The clients of the lines.
        #[serde(default)]
        clients: Vec<Client>,
        /// The services and diagnoses the lines refer to.
        #[serde(default)]
        catalog: Catalog,
        /// The lines on no superbill yet.
        #[serde(default)]
        lines: Vec<Line>,
    },
    /// `share-filter.decide-shares`.
    DecideShares {
        /// The practice.
        #[serde(default)]
        practice: Practice,
        /// The documents to decide on.
        #[serde(default)]
        requests: Vec<Request>,
    },
    /// `autopay-selection.select-charges`.
    SelectCharges {
        /// The practice.
        #[serde(default)]
        practice: Practice,
        /// The open bills tonight's autopay may charge.
        #[serde(default)]
        candidates: Vec<Candidate>,
    },
}

impl Call {
    /// The slot whose function this is; `None` for `check-config`, which every slot has.
    pub fn slot(&self) -> Option<Slot> {
        match self {
            Call::CheckConfig { .. } => None,
            Call::BillRunDates { .. } | Call::GroupLines { .. } => Some(Slot::BillCadence),
            Call::SuperbillRunDay { .. } | Call::SelectLines { .. } => Some(Slot::SuperbillInclusion),
            Call::DecideShares { .. } => Some(Slot::ShareFilter),
            Call::SelectCharges { .. } => Some(Slot::AutopaySelection),
        }
    }

    /// The function's WIT name, e.g. `group-lines`.
    pub fn function(&self) -> &'static str {
        match self {
            Call::CheckConfig { .. } => "check-config",
            Call::BillRunDates { .. } => "bill-run-dates",
            Call::GroupLines { .. } => "group-lines",
            Call::SuperbillRunDay { .. } => "superbill-run-day",
            Call::SelectLines { .. } => "select-lines",
            Call::DecideShares { .. } => "decide-shares",
            Call::SelectCharges { .. } => "select-charges",
        }
    }

    /// The practice the call is about, if it has one.
    pub fn practice(&self) -> Option<&Practice> {
        match self {
            Call::CheckConfig { .. } => None,
            Call::BillRunDates { practice, .. }
            | Call::GroupLines { practice, .. }
            | Call::SuperbillRunDay { practice, .. }
            | Call::SelectLines { practice, .. }
            | Call::DecideShares { practice, .. }
            | Call::SelectCharges { practice, .. } => Some(practice),
        }
    }
}

/// What a call answered, in the form `expected.json` is written in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Answer {
    /// `check-config` accepted the configuration (`null`).
    Accepted(()),
    /// Bill run dates.
    RunDates(Vec<Day>),
    /// Bills to create.
    Bills(Vec<Bill>),
    /// The superbill day of the month.
    RunDay(u8),
    /// Superbills to create.
    Superbills(Vec<Superbill>),
    /// One decision per request.
    Decisions(Vec<Decision>),
    /// One decision per autopay candidate.
    Charges(Vec<ChargeDecision>),
}

// ---------------------------------------------------------------------------------------------
// Into the host's types.
// ---------------------------------------------------------------------------------------------

impl From<&Practice> for host::PracticeContext {
    fn from(practice: &Practice) -> Self {
        let automation = &practice.automation;
        host::PracticeContext {
            practice_id: practice.practice_id,
            timezone: practice.timezone.clone(),
            currency: practice.currency.clone(),
            automation: host::AutomationSettings {
                bill_creation: match automation.bill_creation {
                    BillCreation::Daily => host::BillCreation::Daily,
                    BillCreation::Monthly => host::BillCreation::Monthly,
                    BillCreation::Manual => host::BillCreation::Manual,
                },
                superbill_day: automation.superbill_day,
                share_by_default: automation.share_by_default,
                share_delay_minutes: automation.share_delay_minutes,
                autopay: automation.autopay,
            },
            config: practice.config.clone(),
        }
    }
}

impl From<&Catalog> for host::Catalog {
    fn from(catalog: &Catalog) -> Self {
        host::Catalog {
            services: catalog
                .services
                .iter()
                .map(|service| host::Service { code: service.code.clone(), cpt_code: service.cpt_code.clone() })
                .collect(),
            diagnosis_sets: catalog.diagnosis_sets.clone(),
        }
    }
}

impl From<&Line> for host::ServiceLine {
    fn from(line: &Line) -> Self {
        host::ServiceLine {
            line_id: line.line_id,
            appointment_id: line.appointment_id.unwrap_or(line.line_id),
            client_id: line.client_id,
            date: line.date.to_policy(),
            service: line.service,
            diagnoses: line.diagnoses,
            fee: line.fee,
            paid: line.paid,
        }
    }
}

impl From<&Client> for host::ClientBilling {
    fn from(client: &Client) -> Self {
        host::ClientBilling {
            client_id: client.client_id,
            email_on_file: client.email_on_file,
            email_allowed: client.email_allowed,
            auto_superbills: client.auto_superbills,
            auto_share: client.auto_share,
            autopay: client.autopay,
            card_on_file: client.card_on_file,
        }
    }
}

impl From<&Request> for host::ShareRequest {
    fn from(request: &Request) -> Self {
        let document = &request.document;
        host::ShareRequest {
            document: host::Document {
                document_id: document.document_id,
                kind: match document.kind {
                    DocumentKind::Bill => host::DocumentKind::Bill,
                    DocumentKind::Superbill => host::DocumentKind::Superbill,
                },
                client_id: document.client_id.unwrap_or(request.client.client_id),
                total: document.total,
                paid: document.paid,
                status: match document.status {
                    DocumentStatus::Pended => host::DocumentStatus::Pended,
                    DocumentStatus::Open => host::DocumentStatus::Open,
                    DocumentStatus::Paid => host::DocumentStatus::Paid,
                    DocumentStatus::Void => host::DocumentStatus::Void,
                    DocumentStatus::Issued => host::DocumentStatus::Issued,
                },
            },
            client: (&request.client).into(),
        }
    }
}

impl From<&Candidate> for host::AutopayCandidate {
    fn from(candidate: &Candidate) -> Self {
        host::AutopayCandidate {
            bill_id: candidate.bill_id,
            client_id: candidate.client_id,
            balance: candidate.balance,
            age_days: candidate.age_days,
            attempts: candidate.attempts,
            last_decline_code: candidate.last_decline_code.clone(),
            client_disputed: candidate.client_disputed,
        }
    }
}

/// Converts each element of a list into the host's type.
pub fn to_host<'a, T: 'a, H: From<&'a T>>(items: &'a [T]) -> Vec<H> {
    items.iter().map(H::from).collect()
}

// ---------------------------------------------------------------------------------------------
// From the host's types.
// ---------------------------------------------------------------------------------------------

impl From<&host::BillPlan> for Bill {
    fn from(bill: &host::BillPlan) -> Self {
        Bill {
            client_id: bill.client_id,
            lines: bill.lines.clone(),
            status: match bill.status {
                host::BillStatus::Pended => BillStatus::Pended,
                host::BillStatus::Open => BillStatus::Open,
            },
        }
    }
}

impl From<&host::SuperbillPlan> for Superbill {
    fn from(plan: &host::SuperbillPlan) -> Self {
        Superbill { client_id: plan.client_id, lines: plan.lines.clone() }
    }
}

impl From<&host::ShareDecision> for Decision {
    fn from(decision: &host::ShareDecision) -> Self {
        match decision {
            host::ShareDecision::Send(delay) => Decision::Send(*delay),
            host::ShareDecision::Skip(reason) => Decision::Skip(reason.clone()),
        }
    }
}

impl From<&host::AutopayDecision> for ChargeDecision {
    fn from(decision: &host::AutopayDecision) -> Self {
        match decision {
            host::AutopayDecision::Charge(amount) => ChargeDecision::Charge(*amount),
            host::AutopayDecision::Skip(reason) => ChargeDecision::Skip(reason.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_reads_with_defaults_and_refuses_unknown_fields() {
        let call: Call = serde_json::from_str(
            r#"{"function": "group-lines", "run_date": "2026-01-07",
                "lines": [{"line_id": 1, "client_id": 7, "date": "2026-01-05"}]}"#,
        )
        .unwrap();
        let Call::GroupLines { practice, run_date, lines, .. } = &call else { panic!("{call:?}") };
        assert_eq!(practice, &Practice::default());
        assert_eq!(run_date.0, NaiveDate::from_ymd_opt(2026, 1, 7).unwrap());
        let line = host::ServiceLine::from(&lines[0]);
        assert_eq!((line.appointment_id, line.fee, line.paid), (1, 15_000, 0));

        let typo = serde_json::from_str::<Call>(
            r#"{"function": "decide-shares", "requests": [{"document": {"document_id": 1, "kind": "bill",
                "status": "open"}, "client": {"client_id": 7, "auto_shares": false}}]}"#,
        );
        assert!(typo.unwrap_err().to_string().contains("auto_shares"));
        let bad_date = serde_json::from_str::<Call>(r#"{"function": "group-lines", "run_date": "2026-02-30"}"#);
        assert!(bad_date.unwrap_err().to_string().contains("YYYY-MM-DD"));
        let unknown = serde_json::from_str::<Call>(r#"{"function": "group-line", "run_date": "2026-02-03"}"#);
        assert!(unknown.unwrap_err().to_string().contains("group-line"));
    }

    #[test]
    fn a_call_round_trips_through_json() {
        let call = Call::DecideShares {
            practice: Practice::default(),
            requests: vec![Request {
                document: Document {
                    document_id: 3,
                    kind: DocumentKind::Superbill,
                    client_id: None,
                    total: 100,
                    paid: 0,
                    status: DocumentStatus::Issued,
                },
                client: Client {
                    client_id: 7,
                    email_on_file: false,
                    email_allowed: true,
                    auto_superbills: true,
                    auto_share: true,
                    autopay: false,
                    card_on_file: false,
                },
            }],
        };
        let text = serde_json::to_string(&call).unwrap();
        assert!(text.starts_with(r#"{"function":"decide-shares""#), "{text}");
        assert_eq!(serde_json::from_str::<Call>(&text).unwrap(), call);
        let request = host::ShareRequest::from(&call_requests(&call)[0]);
        assert_eq!(request.document.client_id, 7, "a document's client defaults to the request's");
    }

    fn call_requests(call: &Call) -> &[Request] {
        match call {
            Call::DecideShares { requests, .. } => requests,
            _ => &[],
        }
    }

    #[test]
    fn answers_print_as_expected_json_is_written() {
        let shown = |answer: Answer| serde_json::to_string(&answer).unwrap();
        assert_eq!(shown(Answer::Accepted(())), "null");
        assert_eq!(shown(Answer::RunDay(28)), "28");
        assert_eq!(
            shown(Answer::Decisions(vec![Decision::Send(60), Decision::Skip("no email".into())])),
            r#"[{"send":60},{"skip":"no email"}]"#
        );
        assert_eq!(
            shown(Answer::Bills(vec![Bill { client_id: 7, lines: vec![1, 2], status: BillStatus::Pended }])),
            r#"[{"client_id":7,"lines":[1,2],"status":"pended"}]"#
        );
        let day = Day(NaiveDate::from_ymd_opt(2028, 2, 29).unwrap());
        assert_eq!(shown(Answer::RunDates(vec![day])), r#"["2028-02-29"]"#);
    }
}
