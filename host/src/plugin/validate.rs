//! What a policy may decide. Every answer is checked here before the host acts on it; the first
//! problem found is reported in words an integrator can act on.

use super::from_policy_date;
use super::policy::{AutopayCandidate, AutopayDecision, BillPlan, Date, ServiceLine, ShareDecision, SuperbillPlan};
use chrono::NaiveDate;
use std::collections::{HashMap, HashSet};

/// The longest share delay a policy may ask for: one week, in minutes.
pub const MAX_SHARE_DELAY_MINUTES: u32 = 10_080;

/// The longest skip reason a policy may give, in bytes.
pub const MAX_REASON_BYTES: usize = 500;

fn key(date: &Date) -> (i32, u8, u8) {
    (date.year, date.month, date.day)
}

fn show(date: &Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year, date.month, date.day)
}

/// Run dates must be real days in `first..=last`, in increasing order; gives them as dates.
pub fn run_dates(first: &Date, last: &Date, dates: &[Date]) -> Result<Vec<NaiveDate>, String> {
    let mut previous: Option<&Date> = None;
    for date in dates {
        if key(date) < key(first) || key(date) > key(last) {
            return Err(format!("run date {} is outside the window {} to {}", show(date), show(first), show(last)));
        }
        if previous.is_some_and(|previous| key(previous) >= key(date)) {
            return Err(format!(
                "run dates must be strictly increasing, but {} follows {}",
                show(date),
                show(previous.unwrap_or(date))
            ));
        }
        previous = Some(date);
    }
    dates.iter().map(|date| from_policy_date(date).ok_or_else(|| format!("{date:?} is not a date"))).collect()
}

/// A superbill day must be a day of the given month.
pub fn superbill_day(year: i32, month: u8, day: u8) -> Result<(), String> {
    let last = days_in_month(year, month);
    if day == 0 || day > 31 {
        return Err(format!("superbill day {day} is outside 1–31"));
    }
    if day > last {
        return Err(format!("superbill day {day} does not exist in {year:04}-{month:02}, which has {last} days"));
    }
    Ok(())
}

/// The number of days in a month (0 for a month outside 1–12).
pub fn days_in_month(year: i32, month: u8) -> u8 {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => 0,
    }
}

/// Checks that every planned document holds at least one line, only lines it was given, each
/// line at most once across the whole answer, and only lines of the document's client.
fn plans<'a>(what: &str, lines: &[ServiceLine], plans: impl Iterator<Item = (u64, &'a [u64])>) -> Result<(), String> {
    let clients: HashMap<u64, u64> = lines.iter().map(|line| (line.line_id, line.client_id)).collect();
    let mut placed = HashSet::new();
    for (index, (client_id, plan_lines)) in plans.enumerate() {
        if plan_lines.is_empty() {
            return Err(format!("{what} #{} for client {client_id} has no lines", index + 1));
        }
        for line in plan_lines {
            match clients.get(line) {
                None => return Err(format!("{what} #{} holds line {line}, which the policy was not given", index + 1)),
                Some(owner) if *owner != client_id => {
                    return Err(format!(
                        "{what} #{} is for client {client_id} but holds line {line} of client {owner}",
                        index + 1
                    ));
                }
                Some(_) => {}
            }
            if !placed.insert(*line) {
                return Err(format!("line {line} is on more than one {what}"));
            }
        }
    }
    Ok(())
}

/// Bills may only hold lines they were given, each once, of their own client, and never none.
pub fn bill_plans(lines: &[ServiceLine], bills: &[BillPlan]) -> Result<(), String> {
    plans("bill", lines, bills.iter().map(|bill| (bill.client_id, bill.lines.as_slice())))
}

/// Superbills follow the same rules as bills.
pub fn superbill_plans(lines: &[ServiceLine], superbills: &[SuperbillPlan]) -> Result<(), String> {
    plans("superbill", lines, superbills.iter().map(|plan| (plan.client_id, plan.lines.as_slice())))
}

/// One decision per request; delays within 0 to one week; skip reasons present and short.
pub fn share_decisions(requests: usize, decisions: &[ShareDecision]) -> Result<(), String> {
    if decisions.len() != requests {
        return Err(format!(
            "{} decisions were returned for {requests} documents; one per document is required",
            decisions.len()
        ));
    }
    for (index, decision) in decisions.iter().enumerate() {
        match decision {
            ShareDecision::Send(delay) if *delay > MAX_SHARE_DELAY_MINUTES => {
                return Err(format!(
                    "decision #{} asks for a delay of {delay} minutes; it must be 0 to {MAX_SHARE_DELAY_MINUTES}",
                    index + 1
                ));
            }
            ShareDecision::Skip(reason) => skip_reason(index, reason)?,
            ShareDecision::Send(_) => {}
        }
    }
    Ok(())
}

/// One decision per candidate; a charge more than zero and at most the bill's balance; skip
/// reasons present and short.
pub fn autopay_decisions(candidates: &[AutopayCandidate], decisions: &[AutopayDecision]) -> Result<(), String> {
    if decisions.len() != candidates.len() {
        return Err(format!(
            "{} decisions were returned for {} bills; one per bill is required",
            decisions.len(),
            candidates.len()
        ));
    }
    for (index, (candidate, decision)) in candidates.iter().zip(decisions).enumerate() {
        match decision {
            AutopayDecision::Charge(amount) if *amount <= 0 || *amount > candidate.balance => {
                return Err(format!(
                    "decision #{} charges {amount} on bill {} whose balance is {}; a charge must be more than 0 and at most the balance",
                    index + 1,
                    candidate.bill_id,
                    candidate.balance
                ));
            }
            AutopayDecision::Skip(reason) => skip_reason(index, reason)?,
            AutopayDecision::Charge(_) => {}
        }
    }
    Ok(())
}

/// A skip reason staff can read: present, and at most [`MAX_REASON_BYTES`].
fn skip_reason(index: usize, reason: &str) -> Result<(), String> {
    if reason.trim().is_empty() {
        return Err(format!("decision #{} skips without a reason", index + 1));
    }
    if reason.len() > MAX_REASON_BYTES {
        return Err(format!(
            "decision #{} gives a skip reason of {} bytes; the limit is {MAX_REASON_BYTES}",
            index + 1,
            reason.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::policy::BillStatus;

    fn line(line_id: u64, client_id: u64) -> ServiceLine {
        ServiceLine {
            line_id,
            appointment_id: line_id,
            client_id,
            date: Date { year: 2026, month: 1, day: 5 },
            service: 0,
            diagnoses: 0,
            fee: 100,
            paid: 0,
        }
    }

    fn bill(client_id: u64, lines: &[u64]) -> BillPlan {
        BillPlan { client_id, lines: lines.to_vec(), status: BillStatus::Open }
    }

    #[test]
    fn bills_may_hold_only_given_lines_each_once() {
        let lines = [line(1, 7), line(2, 7), line(3, 8)];
        assert!(bill_plans(&lines, &[bill(7, &[1, 2]), bill(8, &[3])]).is_ok());
        assert!(bill_plans(&lines, &[bill(7, &[1])]).is_ok(), "lines may be left for later");
        assert!(bill_plans(&lines, &[bill(7, &[9])]).unwrap_err().contains("not given"));
        assert!(bill_plans(&lines, &[bill(7, &[1]), bill(7, &[1])]).unwrap_err().contains("more than one bill"));
        assert!(bill_plans(&lines, &[bill(7, &[])]).unwrap_err().contains("no lines"));
        assert!(bill_plans(&lines, &[bill(7, &[3])]).unwrap_err().contains("of client 8"));
    }

    #[test]
    fn run_dates_stay_in_the_window_and_in_order() {
        let d = |day| Date { year: 2026, month: 1, day };
        assert!(run_dates(&d(1), &d(3), &[d(1), d(3)]).is_ok());
        assert!(run_dates(&d(1), &d(3), &[d(4)]).unwrap_err().contains("outside"));
        assert!(run_dates(&d(1), &d(3), &[d(2), d(2)]).unwrap_err().contains("increasing"));
    }

    #[test]
    fn superbill_days_must_exist_in_their_month() {
        assert!(superbill_day(2028, 2, 29).is_ok());
        assert!(superbill_day(2027, 2, 29).unwrap_err().contains("has 28 days"));
        assert!(superbill_day(2026, 4, 0).unwrap_err().contains("1–31"));
        assert!(superbill_day(2026, 4, 32).unwrap_err().contains("1–31"));
    }

    #[test]
    fn share_delays_are_bounded_and_skips_explained() {
        assert!(share_decisions(2, &[ShareDecision::Send(0), ShareDecision::Skip("no email".into())]).is_ok());
        assert!(share_decisions(1, &[ShareDecision::Send(10_081)]).is_err());
        assert!(share_decisions(1, &[ShareDecision::Skip(" ".into())]).unwrap_err().contains("without a reason"));
        assert!(share_decisions(2, &[ShareDecision::Send(0)]).unwrap_err().contains("one per document"));
    }

    #[test]
    fn autopay_charges_stay_within_the_balance_and_skips_are_explained() {
        let candidate = AutopayCandidate {
            bill_id: 4,
            client_id: 2,
            balance: 300,
            age_days: 0,
            attempts: 0,
            last_decline_code: None,
            client_disputed: false,
        };
        let one = std::slice::from_ref(&candidate);
        assert!(autopay_decisions(one, &[AutopayDecision::Charge(300)]).is_ok());
        assert!(autopay_decisions(one, &[AutopayDecision::Charge(120)]).is_ok());
        assert!(autopay_decisions(one, &[AutopayDecision::Skip("under $5".into())]).is_ok());
        let over = autopay_decisions(one, &[AutopayDecision::Charge(301)]).unwrap_err();
        assert!(over.contains("bill 4 whose balance is 300"), "{over}");
        assert!(autopay_decisions(one, &[AutopayDecision::Charge(0)]).is_err());
        assert!(autopay_decisions(one, &[AutopayDecision::Skip("".into())]).unwrap_err().contains("without a reason"));
        assert!(autopay_decisions(one, &[]).unwrap_err().contains("one per bill"));
    }
}
