//! The bill-cadence slot: on which days bill runs happen, and how unbilled lines become bills.
//!
//! As autobill does by default: daily, a run every day with one open bill per client and date of
//! service; monthly, a run on the 1st with one open bill per client; manual, a run every day with
//! one pended bill per appointment, which a person reviews and opens.

use crate::{{Type}};
use autobill_guest::date::each_day;
use autobill_guest::{BillCadence, BillCreation, BillPlan, BillStatus, Catalog, Date, PracticeContext, ServiceLine};
use std::collections::BTreeMap;

impl BillCadence for {{Type}} {
    fn check_config(config: &str) -> Result<(), String> {
        autobill_guest::config::expect_empty(config)
    }

    fn bill_run_dates(practice: &PracticeContext, first: Date, last: Date) -> Result<Vec<Date>, String> {
        let monthly = practice.automation.bill_creation == BillCreation::Monthly;
        Ok(each_day(first, last).filter(|date| !monthly || date.day == 1).collect())
    }

    fn group_lines(
        practice: &PracticeContext,
        _run_date: Date,
        _catalog: &Catalog,
        lines: &[ServiceLine],
    ) -> Result<Vec<BillPlan>, String> {
        let creation = practice.automation.bill_creation;
        let status = if creation == BillCreation::Manual { BillStatus::Pended } else { BillStatus::Open };
        // What lines share a bill: the client, and the date of service and appointment as the
        // practice's setting says.
        let mut bills: BTreeMap<(u64, Option<Date>, Option<u64>), Vec<u64>> = BTreeMap::new();
        for line in lines {
            let key = match creation {
                BillCreation::Daily => (line.client_id, Some(line.date), None),
                BillCreation::Monthly => (line.client_id, None, None),
                BillCreation::Manual => (line.client_id, Some(line.date), Some(line.appointment_id)),
            };
            bills.entry(key).or_default().push(line.line_id);
        }
        Ok(bills.into_iter().map(|((client_id, _, _), lines)| BillPlan { client_id, lines, status }).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use autobill_guest::AutomationSettings;

    fn practice(bill_creation: BillCreation) -> PracticeContext {
        PracticeContext {
            practice_id: 1,
            timezone: "America/New_York".into(),
            currency: "USD".into(),
            automation: AutomationSettings {
                bill_creation,
                superbill_day: 1,
                share_by_default: false,
                share_delay_minutes: 0,
                autopay: false,
            },
            config: String::new(),
        }
    }

    fn d(year: i32, month: u8, day: u8) -> Date {
        Date { year, month, day }
    }

    #[test]
    fn monthly_practices_have_a_bill_run_on_the_first_only() {
        let dates = {{Type}}::bill_run_dates(&practice(BillCreation::Monthly), d(2026, 1, 15), d(2026, 3, 10)).unwrap();
        assert_eq!(dates, [d(2026, 2, 1), d(2026, 3, 1)]);
    }

    #[test]
    fn daily_bills_are_open_one_per_client_and_date_of_service() {
        let line = |line_id, client_id, day| ServiceLine {
            line_id,
            appointment_id: line_id,
            client_id,
            date: d(2026, 1, day),
            service: 0,
            diagnoses: 0,
            fee: 15_000,
            paid: 0,
        };
        let lines = [line(1, 7, 5), line(2, 7, 5), line(3, 7, 6), line(4, 8, 5)];
        let bills = {{Type}}::group_lines(&practice(BillCreation::Daily), d(2026, 1, 7), &Catalog::default(), &lines).unwrap();
        let grouped: Vec<(u64, Vec<u64>)> = bills.into_iter().map(|bill| (bill.client_id, bill.lines)).collect();
        assert_eq!(grouped, [(7, vec![1, 2]), (7, vec![3]), (8, vec![4])]);
    }
}
