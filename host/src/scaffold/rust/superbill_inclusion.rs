//! The superbill-inclusion slot: on which day of a month superbills are made, and which lines they
//! hold.
//!
//! As autobill does by default: superbills are made on the practice's superbill day, clamped to
//! the month's last day. For each client whose automatic superbills setting is on, one superbill
//! holds every CPT-coded line from the previous month or earlier.

use crate::{{Type}};
use autobill_guest::date::{clamp_day, is_earlier_month};
use autobill_guest::{Catalog, ClientBilling, Date, PracticeContext, ServiceLine, SuperbillInclusion, SuperbillPlan};
use std::collections::{BTreeMap, BTreeSet};

impl SuperbillInclusion for {{Type}} {
    fn check_config(config: &str) -> Result<(), String> {
        autobill_guest::config::expect_empty(config)
    }

    fn superbill_run_day(practice: &PracticeContext, year: i32, month: u8) -> Result<u8, String> {
        let day = practice.automation.superbill_day;
        if !(1..=31).contains(&day) {
            return Err(format!("the practice's superbill day is {day}; it must be 1 to 31"));
        }
        Ok(clamp_day(year, month, day))
    }

    fn select_lines(
        _practice: &PracticeContext,
        run_date: Date,
        clients: &[ClientBilling],
        catalog: &Catalog,
        lines: &[ServiceLine],
    ) -> Result<Vec<SuperbillPlan>, String> {
        let automatic: BTreeSet<u64> =
            clients.iter().filter(|client| client.auto_superbills).map(|client| client.client_id).collect();
        let mut superbills: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
        for line in lines {
            let insurance_eligible = catalog.cpt_code(line).is_some();
            if insurance_eligible && automatic.contains(&line.client_id) && is_earlier_month(&line.date, &run_date) {
                superbills.entry(line.client_id).or_default().push(line.line_id);
            }
        }
        Ok(superbills.into_iter().map(|(client_id, lines)| SuperbillPlan { client_id, lines }).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use autobill_guest::{AutomationSettings, BillCreation};

    fn practice(superbill_day: u8) -> PracticeContext {
        PracticeContext {
            practice_id: 1,
            timezone: "America/New_York".into(),
            currency: "USD".into(),
            automation: AutomationSettings {
                bill_creation: BillCreation::Daily,
                superbill_day,
                share_by_default: false,
                share_delay_minutes: 0,
                autopay: false,
            },
            config: String::new(),
        }
    }

    #[test]
    fn superbill_day_31_runs_on_the_last_day_of_shorter_months() {
        assert_eq!({{Type}}::superbill_run_day(&practice(31), 2027, 2), Ok(28));
        assert_eq!({{Type}}::superbill_run_day(&practice(31), 2028, 2), Ok(29));
        assert_eq!({{Type}}::superbill_run_day(&practice(31), 2026, 4), Ok(30));
    }

    #[test]
    fn a_superbill_day_outside_1_to_31_is_refused_with_a_reason() {
        assert!({{Type}}::superbill_run_day(&practice(40), 2026, 1).unwrap_err().contains("1 to 31"));
    }
}
