//! The practice's "Billing Automation" settings, and the one way they change: every caller (the
//! API, the console, scenarios and `simulate`) describes a change as an [`AutomationChange`] and
//! gets the same checks, the same messages and the same warnings.

use super::BillCreation;
use serde::{Deserialize, Serialize};

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
    /// Advice about settings that work but may surprise the practice.
    pub fn warnings(&self) -> Vec<String> {
        let automatic = self.bills != BillCreation::Manual;
        if self.autopay && automatic && self.share && self.share_delay_minutes < AUTOPAY_SHARE_DELAY_WARNING_MINUTES {
            return vec![format!(
                "bills are shared {} minutes after 12:00 am, before autopay charges at 12:30 am: a bill autopay will charge still waits for the charge's outcome, so its email shows the payment, but should the payment provider be unreachable it goes at 6:00 am without it; a share delay of at least {AUTOPAY_SHARE_DELAY_WARNING_MINUTES} minutes sends the other bills after the charges too",
                self.share_delay_minutes
            )];
        }
        vec![]
    }
}

/// A change to the settings: keys left `None` keep their value. Values are taken as given (the
/// bill creation as text, numbers as wide integers) so that every out-of-range value gets the
/// same message wherever it came from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AutomationChange {
    /// `daily`, `monthly` or `manual`.
    pub bills: Option<String>,
    /// 1–31.
    pub superbill_day: Option<i64>,
    /// Whether new clients start with automatic sharing on.
    pub share: Option<bool>,
    /// 0–10,080 minutes.
    pub share_delay_minutes: Option<i64>,
    /// Whether autopay is on.
    pub autopay: Option<bool>,
}

impl AutomationChange {
    /// The settings after the change, or every problem with it, each saying how to fix it.
    pub fn applied_to(&self, current: &AutomationSettings) -> Result<AutomationSettings, Vec<String>> {
        let mut settings = current.clone();
        let mut problems = vec![];
        if let Some(bills) = &self.bills {
            match bills.parse::<BillCreation>() {
                Ok(bills) => settings.bills = bills,
                Err(problem) => problems.push(problem.to_string()),
            }
        }
        if let Some(day) = self.superbill_day {
            match u8::try_from(day).ok().filter(|day| (1..=31).contains(day)) {
                Some(day) => settings.superbill_day = day,
                None => problems.push(format!("superbill_day is {day}; choose a day from 1 to 31")),
            }
        }
        if let Some(delay) = self.share_delay_minutes {
            match u32::try_from(delay).ok().filter(|delay| *delay <= MAX_SHARE_DELAY_MINUTES) {
                Some(delay) => settings.share_delay_minutes = delay,
                None => problems
                    .push(format!("share_delay_minutes is {delay}; choose 0 to {MAX_SHARE_DELAY_MINUTES} (one week)")),
            }
        }
        if let Some(share) = self.share {
            settings.share = share;
        }
        if let Some(autopay) = self.autopay {
            settings.autopay = autopay;
        }
        if problems.is_empty() { Ok(settings) } else { Err(problems) }
    }
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
        assert!(settings.warnings()[0].contains("waits for the charge's outcome"));
        settings.share_delay_minutes = 60;
        assert!(settings.warnings().is_empty());
        settings.share_delay_minutes = 0;
        settings.bills = BillCreation::Manual;
        assert!(settings.warnings().is_empty(), "manual bills are shared only once a person opens them");
    }

    #[test]
    fn every_out_of_range_setting_is_reported_with_how_to_fix_it() {
        let change = AutomationChange {
            bills: Some("weekly".into()),
            superbill_day: Some(32),
            share_delay_minutes: Some(20_000),
            ..Default::default()
        };
        let problems = change.applied_to(&AutomationSettings::default()).err().unwrap_or_default();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("daily, monthly or manual"));
        assert!(problems[1].contains("1 to 31"));
        assert!(problems[2].contains("0 to 10080"));
        let huge = AutomationChange { superbill_day: Some(i64::MAX), ..Default::default() };
        assert!(huge.applied_to(&AutomationSettings::default()).is_err(), "no wrap-around into range");
    }

    #[test]
    fn keys_left_out_keep_their_value() {
        let current = AutomationSettings { bills: BillCreation::Monthly, superbill_day: 15, ..Default::default() };
        let change = AutomationChange { autopay: Some(true), ..Default::default() };
        let changed = change.applied_to(&current).unwrap_or_default();
        assert_eq!(changed, AutomationSettings { autopay: true, ..current });
    }
}
