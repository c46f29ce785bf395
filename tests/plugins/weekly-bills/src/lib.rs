//! Test fixture for plugin configuration in `simulate`: a bill cadence with a bill run every week
//! on the weekday its configuration names (`{"weekday": "friday"}`; Monday when it names none).
//! Each run makes one open bill per client with all of the client's unbilled lines.

use autobill_guest::date::{Weekday, each_day, weekday};
use autobill_guest::{BillCadence, BillPlan, BillStatus, Catalog, Date, PracticeContext, ServiceLine, config};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The fixture policy.
pub struct WeeklyBills;

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    weekday: Option<String>,
}

/// The weekday bill runs fall on, from the configuration.
pub fn run_weekday(text: &str) -> Result<Weekday, String> {
    let config: Config = config::parse(text)?;
    match config.weekday.as_deref() {
        None => Ok(Weekday::Monday),
        Some(name) => Weekday::parse(name)
            .ok_or_else(|| format!("weekday {name:?} is not a day of the week: use a name such as \"friday\"")),
    }
}

impl BillCadence for WeeklyBills {
    fn check_config(config: &str) -> Result<(), String> {
        run_weekday(config).map(|_| ())
    }

    fn bill_run_dates(practice: &PracticeContext, first: Date, last: Date) -> Result<Vec<Date>, String> {
        let day = run_weekday(&practice.config)?;
        Ok(each_day(first, last).filter(|date| weekday(date) == day).collect())
    }

    fn group_lines(_: &PracticeContext, _: Date, _: &Catalog, lines: &[ServiceLine]) -> Result<Vec<BillPlan>, String> {
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
autobill_guest::export_policy!(WeeklyBills: bill_cadence);
