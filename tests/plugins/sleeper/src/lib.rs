//! Test fixture for the host's time limit: a plugin that fills all three slots and sleeps 20 s
//! (`std::thread::sleep`, a WASI monotonic-clock wait that spends no instructions) before each
//! policy function answers, as a hostile or careless integrator might write. With
//! `{"only": "<function>"}` (e.g. `"decide-shares"`) it sleeps in that function only and answers
//! the others at once. `check_config` never sleeps, so the plugin can be assigned.
//!
//! Its answers, once awake: a bill run every day, one open bill per client, superbills on the 1st
//! but none made, and every document sent at once.

use autobill_guest::date::each_day;
use autobill_guest::{
    BillCadence, BillPlan, BillStatus, Catalog, ClientBilling, Date, PracticeContext, ServiceLine, ShareDecision,
    ShareFilter, ShareRequest, SuperbillInclusion, SuperbillPlan, config,
};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// The fixture policy.
pub struct Sleeper;

/// How long each policy function sleeps.
pub const SLEEP: Duration = Duration::from_secs(20);

/// The policy functions, by their WIT names.
pub const FUNCTIONS: [&str; 5] =
    ["bill-run-dates", "group-lines", "superbill-run-day", "select-lines", "decide-shares"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default)]
    only: Option<String>,
}

fn check(config: &str) -> Result<(), String> {
    match config::parse::<Config>(config)?.only {
        Some(only) if !FUNCTIONS.contains(&only.as_str()) => {
            Err(format!("`only` is {only:?}; name one of {}", FUNCTIONS.join(", ")))
        }
        _ => Ok(()),
    }
}

/// Sleeps if the configuration has `function` sleep.
fn nap(practice: &PracticeContext, function: &str) -> Result<(), String> {
    let Config { only } = config::parse(&practice.config)?;
    if only.is_none_or(|only| only == function) {
        std::thread::sleep(SLEEP);
    }
    Ok(())
}

impl BillCadence for Sleeper {
    fn check_config(config: &str) -> Result<(), String> {
        check(config)
    }

    fn bill_run_dates(practice: &PracticeContext, first: Date, last: Date) -> Result<Vec<Date>, String> {
        nap(practice, "bill-run-dates")?;
        Ok(each_day(first, last).collect())
    }

    fn group_lines(
        practice: &PracticeContext,
        _: Date,
        _: &Catalog,
        lines: &[ServiceLine],
    ) -> Result<Vec<BillPlan>, String> {
        nap(practice, "group-lines")?;
        let mut clients: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
        for line in lines {
            clients.entry(line.client_id).or_default().push(line.line_id);
        }
        Ok(clients
            .into_iter()
            .map(|(client_id, lines)| BillPlan { client_id, lines, status: BillStatus::Open })
            .collect())
    }
}

impl SuperbillInclusion for Sleeper {
    fn check_config(config: &str) -> Result<(), String> {
        check(config)
    }

    fn superbill_run_day(practice: &PracticeContext, _: i32, _: u8) -> Result<u8, String> {
        nap(practice, "superbill-run-day")?;
        Ok(1)
    }

    fn select_lines(
        practice: &PracticeContext,
        _: Date,
        _: &[ClientBilling],
        _: &Catalog,
        _: &[ServiceLine],
    ) -> Result<Vec<SuperbillPlan>, String> {
        nap(practice, "select-lines")?;
        Ok(Vec::new())
    }
}

impl ShareFilter for Sleeper {
    fn check_config(config: &str) -> Result<(), String> {
        check(config)
    }

    fn decide_shares(practice: &PracticeContext, requests: &[ShareRequest]) -> Result<Vec<ShareDecision>, String> {
        nap(practice, "decide-shares")?;
        Ok(requests.iter().map(|_| ShareDecision::Send(0)).collect())
    }
}

#[cfg(target_arch = "wasm32")]
autobill_guest::export_policy!(Sleeper: bill_cadence, superbill_inclusion, share_filter);
