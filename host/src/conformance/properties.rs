//! Property checks: each slot function over generated inputs (64 by default), every answer
//! passing the host's validation — only lines it was given, no line on two documents, no empty
//! document, days that exist, run dates in their window and in order, one bounded decision per
//! request — and the same answer from two separate runtimes.
//!
//! Inputs come from the kit's seed, one stream per property and case, and grow with the case
//! number, so the first failing case is usually small. A failure prints its input in the form of
//! a case's `input.json`.

use super::calls::{self, default_at, show_input};
use super::generate::{self, Rng};
use super::json::{Call, Client, Day};
use super::report::{Failure, Outcome};
use super::{Session, SlotCheck};
use crate::plugin::{PolicyProblem, Slot};
use chrono::Days;

/// The property checks of a slot, with what each checks.
pub fn property_checks(slot: Slot) -> Vec<SlotCheck> {
    let mut checks = match slot {
        Slot::BillCadence => vec![
            SlotCheck::new(
                slot,
                "valid-run-dates",
                "bill-run-dates over generated windows: dates in the window, strictly increasing",
                |session, slot| valid(session, slot, "valid-run-dates"),
            ),
            SlotCheck::new(
                slot,
                "valid-bills",
                "group-lines over generated lines: only given lines, each on one bill of its own client, no empty bill",
                |session, slot| valid(session, slot, "valid-bills"),
            ),
        ],
        Slot::SuperbillInclusion => vec![
            SlotCheck::new(
                slot,
                "valid-run-day",
                "superbill-run-day over generated months and settings: a day that exists in the month",
                |session, slot| valid(session, slot, "valid-run-day"),
            ),
            SlotCheck::new(
                slot,
                "valid-superbills",
                "select-lines over generated lines: only given lines, each once, of the superbill's client",
                |session, slot| valid(session, slot, "valid-superbills"),
            ),
        ],
        Slot::ShareFilter => vec![SlotCheck::new(
            slot,
            "valid-decisions",
            "decide-shares over generated requests: one decision each, delays 0 to 10,080 minutes, skips explained",
            |session, slot| valid(session, slot, "valid-decisions"),
        )],
        Slot::AutopaySelection => vec![SlotCheck::new(
            slot,
            "valid-charges",
            "select-charges over generated bills: one decision each, charges more than 0 and at most the balance, skips explained",
            |session, slot| valid(session, slot, "valid-charges"),
        )],
    };
    checks.push(SlotCheck::new(
        slot,
        "deterministic",
        "the same generated input gives the same answer in two separate runtimes",
        deterministic,
    ));
    checks
}

/// The generated input of one case of a property: `property` names the function's property
/// (`valid-bills`, …), `stream` the random stream it is drawn from.
pub fn generated_call(seed: u64, stream: &str, property: &str, case: u32, cases: u32, config: &str) -> Call {
    let mut rng = Rng::for_label(seed, &format!("{stream}#{case}"));
    let practice = generate::practice(&mut rng, config);
    let run_date = generate::date(&mut rng);
    let lines_and_clients = |rng: &mut Rng| {
        let count = generate::size(case, cases, 200) as usize;
        let catalog = generate::catalog(rng);
        let clients = rng.between(1, 12) as usize;
        let client_ids = generate::ids(rng, clients);
        let lines = generate::lines(rng, count, &client_ids, &catalog, run_date);
        (catalog, client_ids, lines)
    };
    match property {
        "valid-run-dates" => {
            let last = run_date + Days::new(rng.below(generate::size(case, cases, 120)));
            Call::BillRunDates { practice, first: Day(run_date), last: Day(last) }
        }
        "valid-bills" => {
            let (catalog, _, lines) = lines_and_clients(&mut rng);
            Call::GroupLines { practice, run_date: Day(run_date), catalog, lines }
        }
        "valid-run-day" => {
            use chrono::Datelike;
            Call::SuperbillRunDay { practice, year: run_date.year(), month: run_date.month() as u8 }
        }
        "valid-superbills" => {
            let (catalog, client_ids, lines) = lines_and_clients(&mut rng);
            // Now and then a client of the lines is missing from the clients given.
            let mut clients: Vec<Client> = vec![];
            for &client_id in &client_ids {
                if !rng.chance(1, 10) {
                    clients.push(generate::client(&mut rng, client_id));
                }
            }
            Call::SelectLines { practice, run_date: Day(run_date), clients, catalog, lines }
        }
        "valid-charges" => {
            let count = rng.between(1, 12) as usize;
            let clients = generate::ids(&mut rng, count);
            let count = generate::size(case, cases, 200) as usize;
            Call::SelectCharges { practice, candidates: generate::candidates(&mut rng, count, &clients) }
        }
        _ => {
            let count = rng.between(1, 12) as usize;
            let client_ids = generate::ids(&mut rng, count);
            let clients: Vec<Client> = client_ids.iter().map(|&id| generate::client(&mut rng, id)).collect();
            let count = generate::size(case, cases, 200) as usize;
            Call::DecideShares { practice, requests: generate::requests(&mut rng, count, &clients) }
        }
    }
}

/// Every generated input gets an answer the host accepts; the first that does not fails the
/// check, naming the case and printing its input.
fn valid(session: &Session, slot: Slot, property: &str) -> Outcome {
    let options = session.options;
    let cases = options.cases_per_property;
    for case in 0..cases {
        let stream = format!("{slot}/{property}");
        let call = generated_call(options.seed, &stream, property, case, cases, &options.config);
        let at = default_at(&call);
        if let Err(error) = calls::run(&session.plugin, slot, &call, at) {
            return Outcome::Failed(
                Failure::new(format!("generated case {} of {cases}: {error}", case + 1))
                    .with_input(show_input(&call, at)),
            );
        }
    }
    Outcome::Passed
}

/// The generated calls of one determinism case: both functions of the slot.
fn determinism_calls(session: &Session, slot: Slot, case: u32) -> Vec<Call> {
    let options = session.options;
    let properties: &[&str] = match slot {
        Slot::BillCadence => &["valid-run-dates", "valid-bills"],
        Slot::SuperbillInclusion => &["valid-run-day", "valid-superbills"],
        Slot::ShareFilter => &["valid-decisions"],
        Slot::AutopaySelection => &["valid-charges"],
    };
    properties
        .iter()
        .map(|property| {
            let stream = format!("{slot}/deterministic/{property}");
            generated_call(options.seed, &stream, property, case, options.cases_per_property, &options.config)
        })
        .collect()
}

/// Two runtimes, one input, one answer (or one reported error). A call that crashes or runs into
/// a limit is not repeated: that failure is the other checks' to report, and repeating it only
/// takes time.
fn deterministic(session: &Session, slot: Slot) -> Outcome {
    let twin = match &session.twin {
        Ok(twin) => twin,
        Err(error) => {
            return Outcome::Failed(Failure::new(format!(
                "the plugin could not be loaded in a second runtime: {error}"
            )));
        }
    };
    let cases = session.options.cases_per_property;
    for case in 0..cases {
        for call in determinism_calls(session, slot, case) {
            let at = default_at(&call);
            let first = calls::run(&session.plugin, slot, &call, at);
            if let Err(error) = &first
                && matches!(
                    error.problem,
                    PolicyProblem::OutOfFuel(_)
                        | PolicyProblem::MemoryLimit(_)
                        | PolicyProblem::TimeLimit(_)
                        | PolicyProblem::Trap(_)
                )
            {
                return Outcome::Skipped { reason: format!("not checked: {error}") };
            }
            let second = calls::run(twin, slot, &call, at);
            let shown = |result: &Result<_, crate::plugin::PolicyError>| match result {
                Ok(answer) => calls::show_answer(answer),
                Err(error) => format!("error: {}", error.problem),
            };
            let (first, second) = (shown(&first), shown(&second));
            if first != second {
                return Outcome::Failed(
                    Failure::new(format!(
                        "generated case {} of {cases}: two runtimes gave different answers to {}",
                        case + 1,
                        call.function()
                    ))
                    .with_input(show_input(&call, at))
                    .with_difference(format!("first runtime:  {first}\nsecond runtime: {second}")),
                );
            }
        }
    }
    Outcome::Passed
}
