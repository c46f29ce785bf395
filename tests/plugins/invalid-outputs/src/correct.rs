//! Plain, valid answers for every slot, which the faults then spoil one at a time.

use autobill_guest::date::{clamp_day, each_day};
use autobill_guest::{
    AutopayCandidate, AutopayDecision, AutopaySelection, BillCadence, BillPlan, BillStatus, Catalog, ClientBilling,
    Date, PracticeContext, ServiceLine, ShareDecision, ShareFilter, ShareRequest, SuperbillInclusion, SuperbillPlan,
};
use std::collections::BTreeMap;

pub(crate) struct Correct;

/// The lines' ids per client, in client order.
fn per_client<'a>(lines: impl Iterator<Item = &'a ServiceLine>) -> BTreeMap<u64, Vec<u64>> {
    let mut clients: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for line in lines {
        clients.entry(line.client_id).or_default().push(line.line_id);
    }
    clients
}

impl BillCadence for Correct {
    fn bill_run_dates(_: &PracticeContext, first: Date, last: Date) -> Result<Vec<Date>, String> {
        Ok(each_day(first, last).collect())
    }

    fn group_lines(_: &PracticeContext, _: Date, _: &Catalog, lines: &[ServiceLine]) -> Result<Vec<BillPlan>, String> {
        Ok(per_client(lines.iter())
            .into_iter()
            .map(|(client_id, lines)| BillPlan { client_id, lines, status: BillStatus::Open })
            .collect())
    }
}

impl SuperbillInclusion for Correct {
    fn superbill_run_day(practice: &PracticeContext, year: i32, month: u8) -> Result<u8, String> {
        Ok(clamp_day(year, month, practice.automation.superbill_day))
    }

    fn select_lines(
        _: &PracticeContext,
        _: Date,
        _: &[ClientBilling],
        catalog: &Catalog,
        lines: &[ServiceLine],
    ) -> Result<Vec<SuperbillPlan>, String> {
        Ok(per_client(lines.iter().filter(|line| catalog.cpt_code(line).is_some()))
            .into_iter()
            .map(|(client_id, lines)| SuperbillPlan { client_id, lines })
            .collect())
    }
}

impl ShareFilter for Correct {
    fn decide_shares(practice: &PracticeContext, requests: &[ShareRequest]) -> Result<Vec<ShareDecision>, String> {
        let delay = practice.automation.share_delay_minutes;
        Ok(requests.iter().map(|_| ShareDecision::Send(delay)).collect())
    }
}

impl AutopaySelection for Correct {
    fn select_charges(_: &PracticeContext, candidates: &[AutopayCandidate]) -> Result<Vec<AutopayDecision>, String> {
        Ok(candidates.iter().map(|candidate| AutopayDecision::Charge(candidate.balance)).collect())
    }
}
