//! The practice's world as the host stores it: settings, clients, services, appointments and the
//! documents the engine makes. Money is integer minor units of the practice's currency.

use crate::plugin::policy;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How the practice creates bills.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BillCreation {
    /// Every day at 12:00 am practice-local time.
    Daily,
    /// At 12:00 am on the 1st.
    Monthly,
    /// Pended bills that a person opens.
    Manual,
}

impl BillCreation {
    /// The setting's name in storage and scenarios.
    pub fn as_str(self) -> &'static str {
        match self {
            BillCreation::Daily => "daily",
            BillCreation::Monthly => "monthly",
            BillCreation::Manual => "manual",
        }
    }

    /// The contract's form of the setting.
    pub fn to_policy(self) -> policy::BillCreation {
        match self {
            BillCreation::Daily => policy::BillCreation::Daily,
            BillCreation::Monthly => policy::BillCreation::Monthly,
            BillCreation::Manual => policy::BillCreation::Manual,
        }
    }
}

impl FromStr for BillCreation {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "daily" => Ok(BillCreation::Daily),
            "monthly" => Ok(BillCreation::Monthly),
            "manual" => Ok(BillCreation::Manual),
            other => Err(format!("unknown bill creation `{other}`: use daily, monthly or manual")),
        }
    }
}

/// The practice's "Billing Automation" settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutomationSettings {
    /// How bills are created.
    pub bills: BillCreation,
    /// The day of the month superbills are created (1–31; clamped to short months).
    pub superbill_day: u8,
    /// Whether new clients start with automatic sharing on.
    pub share: bool,
    /// Minutes between a document's creation and its email.
    pub share_delay_minutes: u32,
    /// Whether open bills are charged to default cards nightly.
    pub autopay: bool,
}

impl Default for AutomationSettings {
    fn default() -> Self {
        AutomationSettings {
            bills: BillCreation::Daily,
            superbill_day: 1,
            share: false,
            share_delay_minutes: 0,
            autopay: false,
        }
    }
}

/// The longest share delay a practice may set: one week.
pub const MAX_SHARE_DELAY_MINUTES: u32 = 10_080;

/// The share delay under which autopay and automatic bills deserve a warning.
pub const AUTOPAY_SHARE_DELAY_WARNING_MINUTES: u32 = 60;

impl AutomationSettings {
    /// Problems that make the settings unusable, each saying how to fix it.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = vec![];
        if !(1..=31).contains(&self.superbill_day) {
            problems.push(format!("superbill_day is {}; choose a day from 1 to 31", self.superbill_day));
        }
        if self.share_delay_minutes > MAX_SHARE_DELAY_MINUTES {
            problems.push(format!(
                "share_delay_minutes is {}; choose 0 to {MAX_SHARE_DELAY_MINUTES} (one week)",
                self.share_delay_minutes
            ));
        }
        problems
    }

    /// Advice about settings that work but may surprise the practice.
    pub fn warnings(&self) -> Vec<String> {
        let automatic = self.bills != BillCreation::Manual;
        if self.autopay && automatic && self.share && self.share_delay_minutes < AUTOPAY_SHARE_DELAY_WARNING_MINUTES {
            return vec![format!(
                "autopay charges at 12:30 am but bills are shared {} minutes after 12:00 am: set the share delay to at least {AUTOPAY_SHARE_DELAY_WARNING_MINUTES} minutes so the shared bill shows the payment",
                self.share_delay_minutes
            )];
        }
        vec![]
    }
}

/// The status of an appointment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppointmentStatus {
    /// Booked, not yet held.
    Scheduled,
    /// Held; its services are billable.
    Completed,
    /// Cancelled.
    Cancelled,
    /// The client did not come.
    NoShow,
}

impl AppointmentStatus {
    /// The status's name in storage and scenarios.
    pub fn as_str(self) -> &'static str {
        match self {
            AppointmentStatus::Scheduled => "scheduled",
            AppointmentStatus::Completed => "completed",
            AppointmentStatus::Cancelled => "cancelled",
            AppointmentStatus::NoShow => "no_show",
        }
    }
}

/// The status of a bill.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BillStatus {
    /// Waiting for a person to review and open it.
    Pended,
    /// Final, with a balance.
    Open,
    /// Paid in full.
    Paid,
    /// Voided.
    Void,
}

impl BillStatus {
    /// The status's name in storage and events.
    pub fn as_str(self) -> &'static str {
        match self {
            BillStatus::Pended => "pended",
            BillStatus::Open => "open",
            BillStatus::Paid => "paid",
            BillStatus::Void => "void",
        }
    }

    /// The status read back from storage.
    pub fn parse(text: &str) -> Option<Self> {
        [BillStatus::Pended, BillStatus::Open, BillStatus::Paid, BillStatus::Void]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// Bill or superbill.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocumentKind {
    /// A bill (invoice).
    Bill,
    /// A superbill.
    Superbill,
}

impl DocumentKind {
    /// The kind's name in storage and events.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Bill => "bill",
            DocumentKind::Superbill => "superbill",
        }
    }

    /// The kind read back from storage.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "bill" => Some(DocumentKind::Bill),
            "superbill" => Some(DocumentKind::Superbill),
            _ => None,
        }
    }
}

impl fmt::Display for DocumentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Amounts in minor units, formatted for people: `12345` in USD is `USD 123.45`.
pub fn format_money(amount: i64, currency: &str) -> String {
    let sign = if amount < 0 { "-" } else { "" };
    let amount = amount.unsigned_abs();
    format!("{currency} {sign}{}.{:02}", amount / 100, amount % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn autopay_with_a_short_share_delay_is_warned_about() {
        let mut settings =
            AutomationSettings { share: true, autopay: true, share_delay_minutes: 30, ..Default::default() };
        assert_eq!(settings.warnings().len(), 1);
        assert!(settings.warnings()[0].contains("at least 60 minutes"));
        settings.share_delay_minutes = 60;
        assert!(settings.warnings().is_empty());
        settings.share_delay_minutes = 0;
        settings.bills = BillCreation::Manual;
        assert!(settings.warnings().is_empty(), "manual bills are shared only once a person opens them");
    }

    #[test]
    fn out_of_range_settings_say_how_to_fix_them() {
        let settings = AutomationSettings { superbill_day: 32, share_delay_minutes: 20_000, ..Default::default() };
        let problems = settings.problems();
        assert_eq!(problems.len(), 2);
        assert!(problems[0].contains("1 to 31"));
        assert!(problems[1].contains("0 to 10080"));
    }

    #[test]
    fn money_is_shown_in_major_units() {
        assert_eq!(format_money(12_345, "USD"), "USD 123.45");
        assert_eq!(format_money(-5, "EUR"), "EUR -0.05");
    }
}
