//! The default policy's answers, copied from `plugins/default` (see the crate docs for why).

use autobill_guest::date::{clamp_day, each_day, is_earlier_month};
use autobill_guest::{
    BillCadence, BillCreation, BillPlan, BillStatus, ClientBilling, Date, DocumentStatus, PracticeContext, ServiceLine,
    ShareDecision, ShareFilter, ShareRequest, SuperbillInclusion, SuperbillPlan,
};
use std::collections::{BTreeMap, HashSet};

pub(crate) struct Correct;

/// What a bill groups its lines by: client, date of service, appointment.
type BillKey = (u64, Date, u64);

impl BillCadence for Correct {
    fn bill_run_dates(practice: &PracticeContext, first: Date, last: Date) -> Result<Vec<Date>, String> {
        let monthly = practice.automation.bill_creation == BillCreation::Monthly;
        Ok(each_day(first, last).filter(|date| !monthly || date.day == 1).collect())
    }

    fn group_lines(practice: &PracticeContext, _: Date, lines: &[ServiceLine]) -> Result<Vec<BillPlan>, String> {
        let (status, key): (BillStatus, fn(&ServiceLine) -> BillKey) = match practice.automation.bill_creation {
            BillCreation::Daily => (BillStatus::Open, |line| (line.client_id, line.date, 0)),
            BillCreation::Monthly => (BillStatus::Open, |line| (line.client_id, Date { year: 0, month: 0, day: 0 }, 0)),
            BillCreation::Manual => (BillStatus::Pended, |line| (line.client_id, line.date, line.appointment_id)),
        };
        let mut bills: BTreeMap<BillKey, Vec<u64>> = BTreeMap::new();
        for line in lines {
            bills.entry(key(line)).or_default().push(line.line_id);
        }
        Ok(bills.into_iter().map(|((client_id, _, _), lines)| BillPlan { client_id, lines, status }).collect())
    }
}

impl SuperbillInclusion for Correct {
    fn superbill_run_day(practice: &PracticeContext, year: i32, month: u8) -> Result<u8, String> {
        let day = practice.automation.superbill_day;
        if !(1..=31).contains(&day) {
            return Err(format!("the practice's superbill day is {day}; it must be 1 to 31"));
        }
        Ok(clamp_day(year, month, day))
    }

    fn select_lines(
        _: &PracticeContext,
        run_date: Date,
        clients: &[ClientBilling],
        lines: &[ServiceLine],
    ) -> Result<Vec<SuperbillPlan>, String> {
        let automatic: HashSet<u64> = clients.iter().filter(|c| c.auto_superbills).map(|c| c.client_id).collect();
        let mut superbills: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
        for line in lines {
            let eligible = line.cpt_code.as_deref().is_some_and(|code| !code.trim().is_empty());
            if eligible && automatic.contains(&line.client_id) && is_earlier_month(&line.date, &run_date) {
                superbills.entry(line.client_id).or_default().push(line.line_id);
            }
        }
        Ok(superbills.into_iter().map(|(client_id, lines)| SuperbillPlan { client_id, lines }).collect())
    }
}

impl ShareFilter for Correct {
    fn decide_shares(practice: &PracticeContext, requests: &[ShareRequest]) -> Result<Vec<ShareDecision>, String> {
        let delay = i32::try_from(practice.automation.share_delay_minutes)
            .map_err(|_| "the practice's share delay is too large".to_string())?;
        Ok(requests
            .iter()
            .map(|request| {
                let reason = match (&request.client, request.document.status) {
                    (_, DocumentStatus::Void) => "the document is void",
                    (_, DocumentStatus::Pended) => "the bill is pended: it is shared once a person opens it",
                    (client, _) if !client.auto_share => "automatic sharing is off for this client",
                    (client, _) if !client.email_on_file => "no email address on file",
                    (client, _) if !client.email_allowed => {
                        "email is turned off in the client's communication preferences"
                    }
                    _ => return ShareDecision::Send(delay),
                };
                ShareDecision::Skip(reason.to_string())
            })
            .collect())
    }
}
