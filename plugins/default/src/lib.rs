//! autobill's documented behaviour, as a plugin that fills every policy slot. The host ships it
//! inside its binary and uses it for every slot a practice leaves empty.
//!
//! - **Bill cadence.** Daily: a run at 12:00 am every day, one open bill per client and date of
//!   service. Monthly: a run at 12:00 am on the 1st, one open bill per client for everything
//!   unbilled. Manual: a run every day, one *pended* bill per appointment, which a person reviews
//!   and opens.
//! - **Superbill inclusion.** Runs on the practice's superbill day, clamped to the month's last day
//!   (day 31 runs on February 28th, or the 29th in leap years). For each client whose
//!   *Automatically create superbills* setting is on, one superbill holds every insurance-eligible
//!   (CPT-coded) line from the previous month or earlier that is on no superbill yet.
//! - **Share filter.** Bills and superbills are emailed after the practice's share delay, only when
//!   the client's own sharing switch is on, an email is on file and the client's communication
//!   preferences allow email. Void and pended documents are never sent.
//! - **Autopay selection.** Every open balance the nightly autopay may charge is charged in full.
//!
//! The policy takes no configuration.

use autobill_guest::date::{clamp_day, each_day, is_earlier_month};
use autobill_guest::{
    AutopayCandidate, AutopayDecision, AutopaySelection, BillCadence, BillCreation, BillPlan, BillStatus, Catalog,
    ClientBilling, Date, DocumentStatus, PracticeContext, ServiceLine, ShareDecision, ShareFilter, ShareRequest,
    SuperbillInclusion, SuperbillPlan,
};
use std::collections::{BTreeMap, HashSet};

/// What lines share a bill: client, date of service (daily, manual) and appointment (manual).
type GroupKey = (u64, Date, u64);

/// The documented behaviour; see the crate docs.
pub struct DefaultPolicy;

/// Why a document is not shared: the reasons staff see on a skipped share.
pub mod skip_reason {
    /// The client's own automatic sharing switch is off.
    pub const SHARING_OFF: &str = "automatic sharing is off for this client";
    /// The client has no email address on file.
    pub const NO_EMAIL: &str = "no email address on file";
    /// The client's communication preferences turn billing email off.
    pub const EMAIL_OFF: &str = "email is turned off in the client's communication preferences";
    /// The document was voided.
    pub const VOID: &str = "the document is void";
    /// The bill is still pended.
    pub const PENDED: &str = "the bill is pended: it is shared once a person opens it";
}

impl BillCadence for DefaultPolicy {
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
        let status = match practice.automation.bill_creation {
            BillCreation::Manual => BillStatus::Pended,
            BillCreation::Daily | BillCreation::Monthly => BillStatus::Open,
        };
        let key = |line: &ServiceLine| -> GroupKey {
            match practice.automation.bill_creation {
                BillCreation::Daily => (line.client_id, line.date, 0),
                BillCreation::Monthly => (line.client_id, Date { year: 0, month: 0, day: 0 }, 0),
                BillCreation::Manual => (line.client_id, line.date, line.appointment_id),
            }
        };
        let mut bills: BTreeMap<GroupKey, Vec<u64>> = BTreeMap::new();
        for line in lines {
            bills.entry(key(line)).or_default().push(line.line_id);
        }
        Ok(bills.into_iter().map(|((client_id, _, _), lines)| BillPlan { client_id, lines, status }).collect())
    }
}

impl SuperbillInclusion for DefaultPolicy {
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
        let automatic: HashSet<u64> =
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

impl ShareFilter for DefaultPolicy {
    fn decide_shares(practice: &PracticeContext, requests: &[ShareRequest]) -> Result<Vec<ShareDecision>, String> {
        let delay = practice.automation.share_delay_minutes;
        Ok(requests.iter().map(|request| decide(request, delay)).collect())
    }
}

fn decide(request: &ShareRequest, delay: u32) -> ShareDecision {
    let reason = match (&request.client, request.document.status) {
        (_, DocumentStatus::Void) => skip_reason::VOID,
        (_, DocumentStatus::Pended) => skip_reason::PENDED,
        (client, _) if !client.auto_share => skip_reason::SHARING_OFF,
        (client, _) if !client.email_on_file => skip_reason::NO_EMAIL,
        (client, _) if !client.email_allowed => skip_reason::EMAIL_OFF,
        _ => return ShareDecision::Send(delay),
    };
    ShareDecision::Skip(reason.to_string())
}

impl AutopaySelection for DefaultPolicy {
    fn select_charges(
        _practice: &PracticeContext,
        candidates: &[AutopayCandidate],
    ) -> Result<Vec<AutopayDecision>, String> {
        Ok(candidates.iter().map(|candidate| AutopayDecision::Charge(candidate.balance)).collect())
    }
}

#[cfg(target_arch = "wasm32")]
autobill_guest::export_policy!(DefaultPolicy: bill_cadence, superbill_inclusion, share_filter, autopay_selection);

#[cfg(test)]
mod tests;
