//! A bill cadence that runs a bill run **every other week** on a chosen weekday, at 12:00 am
//! practice-local time. Each run makes one open bill per client, holding all of the client's
//! unbilled lines.
//!
//! The configuration names the weekday and an anchor date that fixes which weeks are "on":
//!
//! ```json
//! {"weekday": "friday", "anchor": "2026-01-02"}
//! ```
//!
//! The first run is on the first chosen weekday on or after the anchor, and then every 14 days.
//! `weekday` defaults to `"monday"` and `anchor` to `"1970-01-05"` (a Monday); an empty
//! configuration therefore runs on the Mondays of even-numbered weeks since 1970-01-05.

use autobill_guest::date::{Weekday, add_days, from_days, to_days, weekday};
use autobill_guest::{BillCadence, BillPlan, BillStatus, Catalog, Date, PracticeContext, ServiceLine, config};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The policy; see the crate docs.
pub struct BiweeklyBills;

/// The anchor used when the configuration names none: Monday, 1970-01-05.
pub const DEFAULT_ANCHOR: Date = Date { year: 1970, month: 1, day: 5 };

/// The configuration as written by the practice.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    weekday: Option<String>,
    #[serde(default)]
    anchor: Option<String>,
}

/// When bill runs are due: every 14 days from `first_run`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// The weekday runs happen on.
    pub weekday: Weekday,
    /// The first run: the first `weekday` on or after the anchor.
    pub first_run: Date,
}

impl Schedule {
    /// Reads the schedule from the plugin configuration; an error says what is wrong.
    pub fn from_config(config: &str) -> Result<Schedule, String> {
        // serde reads a struct from a JSON array too (`["friday"]`); accept objects only.
        let text = config.trim();
        if !(text.is_empty() || text.starts_with('{')) {
            return Err("the plugin configuration must be a JSON object, e.g. {\"weekday\": \"friday\"}".to_string());
        }
        let raw: RawConfig = config::parse(config)?;
        let weekday = match raw.weekday.as_deref() {
            None => Weekday::Monday,
            Some(name) => parse_weekday(name)?,
        };
        let anchor = match raw.anchor.as_deref() {
            None => DEFAULT_ANCHOR,
            Some(text) => parse_date(text)?,
        };
        Ok(Schedule::new(weekday, anchor))
    }

    /// Runs on `weekday` every other week, starting with the first `weekday` on or after `anchor`.
    pub fn new(weekday: Weekday, anchor: Date) -> Schedule {
        let offset = (0..7)
            .find(|&days| self::weekday(&add_days(&anchor, days)) == weekday)
            .expect("every weekday occurs within seven days");
        Schedule { weekday, first_run: add_days(&anchor, offset) }
    }

    /// Whether a bill run is due on `date`.
    pub fn is_due(&self, date: &Date) -> bool {
        let since_first = to_days(date) - to_days(&self.first_run);
        since_first >= 0 && since_first % 14 == 0
    }

    /// The due dates from `first` to `last`, inclusive, in order.
    pub fn due_dates(&self, first: Date, last: Date) -> Vec<Date> {
        let (first, last, start) = (to_days(&first), to_days(&last), to_days(&self.first_run));
        // The first due day on or after `first`: `start`, moved on by whole fortnights.
        let from = if first <= start { start } else { start + (first - start + 13) / 14 * 14 };
        (from..=last).step_by(14).map(from_days).collect()
    }
}

/// Reads a weekday name: the full English name or its three-letter form, in any case.
fn parse_weekday(name: &str) -> Result<Weekday, String> {
    Weekday::parse(name)
        .ok_or_else(|| format!("weekday {name:?} is not a day of the week: use a name such as \"friday\" or \"fri\""))
}

/// Reads an ISO date, `YYYY-MM-DD`.
fn parse_date(text: &str) -> Result<Date, String> {
    let not_iso = || format!("anchor {text:?} is not a date in the form YYYY-MM-DD, e.g. \"2026-01-02\"");
    let parts: Vec<&str> = text.trim().split('-').collect();
    let [year, month, day] = parts[..] else {
        return Err(not_iso());
    };
    let digits = |part: &str, len: usize| part.len() == len && part.bytes().all(|b| b.is_ascii_digit());
    if !(digits(year, 4) && digits(month, 2) && digits(day, 2)) {
        return Err(not_iso());
    }
    let (year, month, day) = (
        year.parse().map_err(|_| not_iso())?,
        month.parse().map_err(|_| not_iso())?,
        day.parse().map_err(|_| not_iso())?,
    );
    autobill_guest::date::date(year, month, day).ok_or_else(|| format!("anchor {text:?} is not a real date"))
}

impl BillCadence for BiweeklyBills {
    fn check_config(config: &str) -> Result<(), String> {
        Schedule::from_config(config).map(|_| ())
    }

    fn bill_run_dates(practice: &PracticeContext, first: Date, last: Date) -> Result<Vec<Date>, String> {
        Ok(Schedule::from_config(&practice.config)?.due_dates(first, last))
    }

    fn group_lines(
        practice: &PracticeContext,
        _run_date: Date,
        _catalog: &Catalog,
        lines: &[ServiceLine],
    ) -> Result<Vec<BillPlan>, String> {
        Schedule::from_config(&practice.config)?;
        let mut bills: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
        for line in lines {
            bills.entry(line.client_id).or_default().push(line.line_id);
        }
        Ok(bills
            .into_iter()
            .map(|(client_id, lines)| BillPlan { client_id, lines, status: BillStatus::Open })
            .collect())
    }
}

#[cfg(target_arch = "wasm32")]
autobill_guest::export_policy!(BiweeklyBills: bill_cadence);

#[cfg(test)]
mod tests;
