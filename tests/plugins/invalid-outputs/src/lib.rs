//! Test fixture for the host's fault tests: a plugin that fills all four slots and, when its
//! configuration says `{"fault": "<name>"}`, returns exactly one kind of invalid answer from the
//! slot that fault belongs to (see [`Fault`]); every other answer is a plain valid one (`correct.rs`),
//! as are all answers with no or an empty configuration. An unknown fault name is refused by
//! `check_config` and by every call.

use autobill_guest::date::{add_days, days_in_month};
use autobill_guest::{
    AutopayCandidate, AutopayDecision, AutopaySelection, BillCadence, BillPlan, BillStatus, Catalog, ClientBilling,
    Date, PracticeContext, ServiceLine, ShareDecision, ShareFilter, ShareRequest, SuperbillInclusion, SuperbillPlan,
    config,
};
use correct::Correct;
use serde::Deserialize;

mod correct;

/// The fixture policy.
pub struct InvalidOutputs;

/// The invalid answers this fixture can give; [`FAULTS`] has their names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// `group_lines`: a bill holds a line id it was not given.
    ForeignLine,
    /// `group_lines`: one line is on two bills.
    DuplicateLine,
    /// `group_lines`: a bill has no lines.
    EmptyBill,
    /// `group_lines`: a bill's client is not its lines' client.
    WrongClient,
    /// `bill_run_dates`: a date after `last`.
    RunDateOutsideWindow,
    /// `bill_run_dates`: dates not in increasing order.
    UnorderedRunDates,
    /// `superbill_run_day`: day 32.
    DayOutOfRange,
    /// `superbill_run_day`: the day after the month's last, at most 31 (invalid in every month
    /// shorter than 31 days, e.g. 31 for April).
    DayPastMonthEnd,
    /// `select_lines`: a superbill holds a line id it was not given.
    SuperbillForeignLine,
    /// `select_charges`: the first decision charges one more than the balance.
    ChargeAboveBalance,
    /// `decide_shares`: the first decision is `send(10081)`.
    ExcessiveDelay,
    /// `decide_shares`: one decision fewer than requests (one extra when there are none).
    DecisionCount,
    /// `decide_shares`: the first decision is `skip("")`.
    EmptySkipReason,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default)]
    fault: Option<String>,
}

/// Every fault by the name the configuration gives it.
pub const FAULTS: [(&str, Fault); 13] = [
    ("foreign-line", Fault::ForeignLine),
    ("duplicate-line", Fault::DuplicateLine),
    ("empty-bill", Fault::EmptyBill),
    ("wrong-client", Fault::WrongClient),
    ("run-date-outside-window", Fault::RunDateOutsideWindow),
    ("unordered-run-dates", Fault::UnorderedRunDates),
    ("day-out-of-range", Fault::DayOutOfRange),
    ("day-past-month-end", Fault::DayPastMonthEnd),
    ("superbill-foreign-line", Fault::SuperbillForeignLine),
    ("charge-above-balance", Fault::ChargeAboveBalance),
    ("excessive-delay", Fault::ExcessiveDelay),
    ("decision-count", Fault::DecisionCount),
    ("empty-skip-reason", Fault::EmptySkipReason),
];

/// The fault the configuration asks for, if any.
pub fn fault(config: &str) -> Result<Option<Fault>, String> {
    let Config { fault } = config::parse(config)?;
    let Some(name) = fault else { return Ok(None) };
    match FAULTS.iter().find(|(known, _)| *known == name) {
        Some((_, fault)) => Ok(Some(*fault)),
        None => {
            let known: Vec<&str> = FAULTS.iter().map(|(known, _)| *known).collect();
            Err(format!("unknown fault {name:?}; known faults: {}", known.join(", ")))
        }
    }
}

fn foreign_id(lines: &[ServiceLine]) -> u64 {
    lines.iter().map(|line| line.line_id).max().unwrap_or(0) + 1
}

impl BillCadence for InvalidOutputs {
    fn check_config(config: &str) -> Result<(), String> {
        fault(config).map(|_| ())
    }

    fn bill_run_dates(practice: &PracticeContext, first: Date, last: Date) -> Result<Vec<Date>, String> {
        let mut dates = Correct::bill_run_dates(practice, first, last)?;
        match fault(&practice.config)? {
            Some(Fault::RunDateOutsideWindow) => dates.push(add_days(&last, 1)),
            Some(Fault::UnorderedRunDates) if dates.len() >= 2 => dates.swap(0, 1),
            Some(Fault::UnorderedRunDates) => dates = vec![first, first],
            _ => {}
        }
        Ok(dates)
    }

    fn group_lines(
        practice: &PracticeContext,
        run_date: Date,
        catalog: &Catalog,
        lines: &[ServiceLine],
    ) -> Result<Vec<BillPlan>, String> {
        let mut bills = Correct::group_lines(practice, run_date, catalog, lines)?;
        let first_client = lines.first().map_or(0, |line| line.client_id);
        match fault(&practice.config)? {
            Some(Fault::ForeignLine) => match bills.first_mut() {
                Some(bill) => bill.lines.push(foreign_id(lines)),
                None => bills.push(BillPlan { client_id: 0, lines: vec![foreign_id(lines)], status: BillStatus::Open }),
            },
            Some(Fault::DuplicateLine) => {
                if let Some(bill) = bills.first() {
                    bills.push(BillPlan { lines: vec![bill.lines[0]], ..bill.clone() });
                }
            }
            Some(Fault::EmptyBill) => {
                bills.push(BillPlan { client_id: first_client, lines: vec![], status: BillStatus::Open })
            }
            Some(Fault::WrongClient) => {
                let stranger = lines.iter().map(|line| line.client_id).max().unwrap_or(0) + 1;
                if let Some(bill) = bills.first_mut() {
                    bill.client_id = stranger;
                }
            }
            _ => {}
        }
        Ok(bills)
    }
}

impl SuperbillInclusion for InvalidOutputs {
    fn check_config(config: &str) -> Result<(), String> {
        fault(config).map(|_| ())
    }

    fn superbill_run_day(practice: &PracticeContext, year: i32, month: u8) -> Result<u8, String> {
        match fault(&practice.config)? {
            Some(Fault::DayOutOfRange) => Ok(32),
            Some(Fault::DayPastMonthEnd) => Ok((days_in_month(year, month) + 1).min(31)),
            _ => Correct::superbill_run_day(practice, year, month),
        }
    }

    fn select_lines(
        practice: &PracticeContext,
        run_date: Date,
        clients: &[ClientBilling],
        catalog: &Catalog,
        lines: &[ServiceLine],
    ) -> Result<Vec<SuperbillPlan>, String> {
        let mut superbills = Correct::select_lines(practice, run_date, clients, catalog, lines)?;
        if fault(&practice.config)? == Some(Fault::SuperbillForeignLine) {
            match superbills.first_mut() {
                Some(superbill) => superbill.lines.push(foreign_id(lines)),
                None => {
                    let client_id = clients.first().map_or(0, |client| client.client_id);
                    superbills.push(SuperbillPlan { client_id, lines: vec![foreign_id(lines)] });
                }
            }
        }
        Ok(superbills)
    }
}

impl ShareFilter for InvalidOutputs {
    fn check_config(config: &str) -> Result<(), String> {
        fault(config).map(|_| ())
    }

    fn decide_shares(practice: &PracticeContext, requests: &[ShareRequest]) -> Result<Vec<ShareDecision>, String> {
        let mut decisions = Correct::decide_shares(practice, requests)?;
        let replacement = match fault(&practice.config)? {
            Some(Fault::ExcessiveDelay) => ShareDecision::Send(10_081),
            Some(Fault::EmptySkipReason) => ShareDecision::Skip(String::new()),
            Some(Fault::DecisionCount) => {
                if decisions.pop().is_none() {
                    decisions.push(ShareDecision::Skip("one decision too many".into()));
                }
                return Ok(decisions);
            }
            _ => return Ok(decisions),
        };
        if let Some(first) = decisions.first_mut() {
            *first = replacement;
        }
        Ok(decisions)
    }
}

#[cfg(target_arch = "wasm32")]
autobill_guest::export_policy!(InvalidOutputs: bill_cadence, superbill_inclusion, share_filter, autopay_selection);

#[cfg(test)]
mod tests;

impl AutopaySelection for InvalidOutputs {
    fn check_config(config: &str) -> Result<(), String> {
        fault(config).map(|_| ())
    }

    fn select_charges(
        practice: &PracticeContext,
        candidates: &[AutopayCandidate],
    ) -> Result<Vec<AutopayDecision>, String> {
        let mut decisions = Correct::select_charges(practice, candidates)?;
        if fault(&practice.config)? == Some(Fault::ChargeAboveBalance)
            && let (Some(first), Some(candidate)) = (decisions.first_mut(), candidates.first())
        {
            *first = AutopayDecision::Charge(candidate.balance + 1);
        }
        Ok(decisions)
    }
}
