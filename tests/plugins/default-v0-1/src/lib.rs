//! Test fixture for the host's contract versions: a plugin as it was built before contract 0.2,
//! against `wit/since_v0.1.0` with wit-bindgen directly (no SDK, no stamp: the host knows it by
//! its exports' names). It fills the three 0.1 slots with the documented behaviour, written against
//! 0.1's own types, so the host must serve it unchanged beside 0.2 plugins.
//!
//! Its share filter takes an optional configuration `{"delay": MINUTES}`, a signed number as 0.1's
//! `send(s32)` allowed, which replaces the practice's share delay: a negative one is what 0.2 can no
//! longer carry, and the host must refuse it as an invalid decision.

#![allow(missing_docs, unsafe_code)]

wit_bindgen::generate!({
    path: "../../../wit/since_v0.1.0",
    world: "all-policies",
});

use autobill::policy::types::{
    BillCreation, BillPlan, BillStatus, Catalog, ClientBilling, Date, DocumentStatus, PracticeContext, ServiceLine,
    ShareDecision, ShareRequest, SuperbillPlan,
};
use exports::autobill::policy::{bill_cadence, share_filter, superbill_inclusion};
use std::collections::{BTreeMap, HashSet};

struct DefaultV01;

/// What lines share a bill: client, date of service (daily, manual) and appointment (manual).
type GroupKey = (u64, (i32, u8, u8), u64);

/// Days from `first` to `last` inclusive, in order.
fn each_day(first: &Date, last: &Date) -> Vec<Date> {
    let mut days = vec![];
    let (mut year, mut month, mut day) = (first.year, first.month, first.day);
    while (year, month, day) <= (last.year, last.month, last.day) {
        days.push(Date { year, month, day });
        if day < days_in_month(year, month) {
            day += 1;
        } else if month < 12 {
            (month, day) = (month + 1, 1);
        } else {
            (year, month, day) = (year + 1, 1, 1);
        }
    }
    days
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `{}`-or-empty, or `{"delay": MINUTES}`; the delay, if given.
fn configured_delay(config: &str) -> Result<Option<i64>, String> {
    if config.trim().is_empty() {
        return Ok(None);
    }
    let value: serde_json::Value =
        serde_json::from_str(config).map_err(|error| format!("the configuration is not JSON: {error}"))?;
    let object = value.as_object().ok_or("the configuration must be a JSON object")?;
    match (object.len(), object.get("delay")) {
        (0, _) => Ok(None),
        (1, Some(delay)) => delay.as_i64().map(Some).ok_or_else(|| "delay must be a whole number of minutes".into()),
        _ => Err("the only setting is delay".into()),
    }
}

fn expect_empty(config: &str) -> Result<(), String> {
    match configured_delay(config)? {
        None => Ok(()),
        Some(_) => Err("this slot takes no configuration".into()),
    }
}

impl bill_cadence::Guest for DefaultV01 {
    fn check_config(config: String) -> Result<(), String> {
        expect_empty(&config)
    }

    fn bill_run_dates(practice: PracticeContext, first: Date, last: Date) -> Result<Vec<Date>, String> {
        let monthly = practice.automation.bill_creation == BillCreation::Monthly;
        Ok(each_day(&first, &last).into_iter().filter(|date| !monthly || date.day == 1).collect())
    }

    fn group_lines(
        practice: PracticeContext,
        _run_date: Date,
        _catalog: Catalog,
        lines: Vec<ServiceLine>,
    ) -> Result<Vec<BillPlan>, String> {
        let creation = practice.automation.bill_creation;
        let status = if creation == BillCreation::Manual { BillStatus::Pended } else { BillStatus::Open };
        let mut bills: BTreeMap<GroupKey, Vec<u64>> = BTreeMap::new();
        for line in &lines {
            let date = (line.date.year, line.date.month, line.date.day);
            let key = match creation {
                BillCreation::Daily => (line.client_id, date, 0),
                BillCreation::Monthly => (line.client_id, (0, 0, 0), 0),
                BillCreation::Manual => (line.client_id, date, line.appointment_id),
            };
            bills.entry(key).or_default().push(line.line_id);
        }
        Ok(bills.into_iter().map(|((client_id, _, _), lines)| BillPlan { client_id, lines, status }).collect())
    }
}

impl superbill_inclusion::Guest for DefaultV01 {
    fn check_config(config: String) -> Result<(), String> {
        expect_empty(&config)
    }

    fn superbill_run_day(practice: PracticeContext, year: i32, month: u8) -> Result<u8, String> {
        let day = practice.automation.superbill_day;
        if !(1..=31).contains(&day) {
            return Err(format!("the practice's superbill day is {day}; it must be 1 to 31"));
        }
        Ok(day.min(days_in_month(year, month)))
    }

    fn select_lines(
        _practice: PracticeContext,
        run_date: Date,
        clients: Vec<ClientBilling>,
        catalog: Catalog,
        lines: Vec<ServiceLine>,
    ) -> Result<Vec<SuperbillPlan>, String> {
        let automatic: HashSet<u64> =
            clients.iter().filter(|client| client.auto_superbills).map(|client| client.client_id).collect();
        let mut superbills: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
        for line in &lines {
            let coded = catalog
                .services
                .get(line.service as usize)
                .and_then(|service| service.cpt_code.as_deref())
                .is_some_and(|code| !code.trim().is_empty());
            let earlier_month = (line.date.year, line.date.month) < (run_date.year, run_date.month);
            if coded && earlier_month && automatic.contains(&line.client_id) {
                superbills.entry(line.client_id).or_default().push(line.line_id);
            }
        }
        Ok(superbills.into_iter().map(|(client_id, lines)| SuperbillPlan { client_id, lines }).collect())
    }
}

impl share_filter::Guest for DefaultV01 {
    fn check_config(config: String) -> Result<(), String> {
        configured_delay(&config).map(|_| ())
    }

    fn decide_shares(practice: PracticeContext, requests: Vec<ShareRequest>) -> Result<Vec<ShareDecision>, String> {
        let delay = match configured_delay(&practice.config)? {
            Some(minutes) => i32::try_from(minutes).map_err(|_| "delay is out of range".to_string())?,
            None => i32::try_from(practice.automation.share_delay_minutes).map_err(|_| "the delay is too large")?,
        };
        Ok(requests
            .iter()
            .map(|request| {
                let client = &request.client;
                let reason = match request.document.status {
                    DocumentStatus::Void => "the document is void",
                    DocumentStatus::Pended => "the bill is pended: it is shared once a person opens it",
                    _ if !client.auto_share => "automatic sharing is off for this client",
                    _ if !client.email_on_file => "no email address on file",
                    _ if !client.email_allowed => "email is turned off in the client's communication preferences",
                    _ => return ShareDecision::Send(delay),
                };
                ShareDecision::Skip(reason.to_string())
            })
            .collect())
    }
}

// Exported only in the component: a native build (e.g. `cargo run` over the workspace) cannot link
// the contract's export names.
#[cfg(target_arch = "wasm32")]
export!(DefaultV01);
