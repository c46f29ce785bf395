//! The contract checks (from how loading went) and the invariants every policy must keep on
//! fixed inputs: it accepts the configuration it is tested under, rejects malformed ones with a
//! reason, and answers empty input, one line and 10,000 lines within its limits, every answer
//! passing the host's validation.

use super::calls::{self, fixed_at, show_input};
use super::generate::{self, Rng};
use super::json::{BillCreation, Call, Catalog, Client, Day, Document, DocumentKind, DocumentStatus, Line, Practice};
use super::json::{Candidate, Request, Service};
use super::report::{Failure, Outcome};
use super::{Session, SlotCheck};
use crate::plugin::{LoadError, Plugin, PolicyProblem, Slot};
use chrono::NaiveDate;

/// The contract checks, by name, with what each checks.
pub const CONTRACT: [(&str, &str); 4] = [
    ("contract/valid-component", "the file is a WebAssembly component, within the host's size limit"),
    ("contract/version-served", "it was built for a contract version this host serves"),
    (
        "contract/fills-a-policy-slot",
        "it exports at least one policy: bill-cadence, superbill-inclusion, share-filter or autopay-selection",
    ),
    ("contract/imports-only-what-the-host-gives", "it imports nothing beyond the sandbox's empty WASI"),
];

/// The contract check a load error fails.
pub fn failed_contract_check(error: &LoadError) -> &'static str {
    match error {
        LoadError::TooLarge { .. } | LoadError::NotAComponent(_) | LoadError::Engine(_) => CONTRACT[0].0,
        LoadError::UnsupportedContract { .. } | LoadError::MixedContracts(_) => CONTRACT[1].0,
        LoadError::NoPolicy { .. } => CONTRACT[2].0,
        LoadError::UnsatisfiedImport(_) => CONTRACT[3].0,
    }
}

/// The contract checks' outcomes for how loading went.
pub fn contract_outcomes(load: &Result<Plugin, LoadError>, file: &str) -> Vec<(&'static str, &'static str, Outcome)> {
    CONTRACT
        .iter()
        .map(|&(name, description)| {
            let outcome = match load {
                Ok(_) => Outcome::Passed,
                Err(error) if failed_contract_check(error) == name => {
                    Outcome::Failed(Failure::new(error.to_string()).with_input(file))
                }
                Err(_) => Outcome::Skipped { reason: "not checked: the component could not be loaded".into() },
            };
            (name, description, outcome)
        })
        .collect()
}

/// The invariant checks of a slot, with what each checks.
pub fn invariant_checks(slot: Slot) -> Vec<SlotCheck> {
    let (one, many, unit) = match slot {
        Slot::ShareFilter => ("one-request", "10000-requests", "requests"),
        Slot::AutopaySelection => ("one-candidate", "10000-candidates", "bills"),
        Slot::BillCadence | Slot::SuperbillInclusion => ("one-line", "10000-lines", "lines"),
    };
    vec![
        SlotCheck::new(
            slot,
            "config-accepted",
            "check-config accepts the configuration the kit runs under",
            config_accepted,
        ),
        SlotCheck::new(
            slot,
            "malformed-config-rejected",
            "a malformed configuration (\"{\", \"[1]\", 20 KB) is rejected with a reason, not a crash",
            malformed_config_rejected,
        ),
        SlotCheck::new(slot, "empty-input", "no lines or requests at all: a valid (empty) answer", empty_input),
        SlotCheck::new(slot, one, "a single line or request: a valid answer", one_line),
        SlotCheck::new(
            slot,
            many,
            format!("10,000 {unit}: a valid answer within the instruction budget and memory limit"),
            ten_thousand,
        ),
    ]
}

/// The configuration the kit runs under (empty unless `--config` says otherwise) is accepted.
fn config_accepted(session: &Session, slot: Slot) -> Outcome {
    match session.plugin.check_config(slot, &session.options.config) {
        Ok(()) => Outcome::Passed,
        Err(error) => Outcome::Failed(
            Failure::new(error.to_string()).with_input(format!("configuration {:?}", session.options.config)),
        ),
    }
}

/// The malformed configurations every policy must refuse.
fn malformed_configs() -> [(String, String); 3] {
    let padding = "x".repeat(20 * 1024 - 16);
    [
        ("{".to_string(), "the configuration \"{\"".to_string()),
        ("[1]".to_string(), "the configuration \"[1]\"".to_string()),
        (format!("{{\"padding\": \"{padding}\"}}"), "a 20 KB configuration {\"padding\": \"xxx…\"}".to_string()),
    ]
}

fn malformed_config_rejected(session: &Session, slot: Slot) -> Outcome {
    for (config, shown) in malformed_configs() {
        match session.plugin.check_config(slot, &config) {
            Err(error)
                if matches!(error.problem, PolicyProblem::Reported(_) | PolicyProblem::ConfigTooLarge { .. }) => {}
            Ok(()) => {
                return Outcome::Failed(
                    Failure::new(format!("check-config accepted {shown}; it must say what is wrong with it"))
                        .with_input(shown),
                );
            }
            Err(error) => {
                return Outcome::Failed(
                    Failure::new(format!("check-config must reject {shown} with a reason, but {error}"))
                        .with_input(shown),
                );
            }
        }
    }
    // A call made under a malformed configuration reports the problem (or copes); it does not crash.
    let call = with_config(one_line_calls(slot).remove(0), "{");
    match calls::run(&session.plugin, slot, &call, fixed_at()) {
        Ok(_) => Outcome::Passed,
        Err(error) if matches!(error.problem, PolicyProblem::Reported(_)) => Outcome::Passed,
        Err(error) => Outcome::Failed(
            Failure::new(format!("a call under the configuration \"{{\" must report the problem, but {error}"))
                .with_input(show_input(&call, fixed_at())),
        ),
    }
}

fn with_config(mut call: Call, config: &str) -> Call {
    if let Call::BillRunDates { practice, .. }
    | Call::GroupLines { practice, .. }
    | Call::SuperbillRunDay { practice, .. }
    | Call::SelectLines { practice, .. }
    | Call::DecideShares { practice, .. }
    | Call::SelectCharges { practice, .. } = &mut call
    {
        practice.config = config.to_string();
    }
    call
}

/// The run date of the fixed inputs: 2026-03-01.
fn run_date() -> Day {
    Day(NaiveDate::from_ymd_opt(2026, 3, 1).unwrap_or(NaiveDate::MIN))
}

fn practice(bill_creation: BillCreation) -> Practice {
    let mut practice = Practice::default();
    practice.automation.bill_creation = bill_creation;
    practice.automation.share_delay_minutes = 60;
    practice.automation.share_by_default = true;
    practice
}

const MODES: [BillCreation; 3] = [BillCreation::Daily, BillCreation::Monthly, BillCreation::Manual];

/// One CPT-coded service and one without a code.
fn small_catalog() -> Catalog {
    Catalog {
        services: vec![
            Service { code: "90837".into(), cpt_code: Some("90837".into()) },
            Service { code: "FEE".into(), cpt_code: None },
        ],
        diagnosis_sets: vec![vec!["F41.1".into()]],
    }
}

fn client(client_id: u64) -> Client {
    Client {
        client_id,
        email_on_file: true,
        email_allowed: true,
        auto_superbills: true,
        auto_share: true,
        autopay: false,
        card_on_file: false,
    }
}

/// The slot's main calls on no input at all.
fn empty_calls(slot: Slot) -> Vec<Call> {
    match slot {
        Slot::BillCadence => MODES
            .iter()
            .map(|&mode| Call::GroupLines {
                practice: practice(mode),
                run_date: run_date(),
                catalog: small_catalog(),
                lines: vec![],
            })
            .collect(),
        Slot::SuperbillInclusion => vec![Call::SelectLines {
            practice: practice(BillCreation::Daily),
            run_date: run_date(),
            clients: vec![],
            catalog: small_catalog(),
            lines: vec![],
        }],
        Slot::ShareFilter => vec![Call::DecideShares { practice: practice(BillCreation::Daily), requests: vec![] }],
        Slot::AutopaySelection => {
            vec![Call::SelectCharges { practice: practice(BillCreation::Monthly), candidates: vec![] }]
        }
    }
}

/// The slot's main calls on one line (client 7, CPT-coded, last month) or one open bill.
fn one_line_calls(slot: Slot) -> Vec<Call> {
    let line = Line {
        line_id: 1,
        appointment_id: Some(1),
        client_id: 7,
        date: Day(NaiveDate::from_ymd_opt(2026, 2, 10).unwrap_or(NaiveDate::MIN)),
        service: 0,
        diagnoses: 0,
        fee: 15_000,
        paid: 0,
    };
    match slot {
        Slot::BillCadence => MODES
            .iter()
            .map(|&mode| Call::GroupLines {
                practice: practice(mode),
                run_date: run_date(),
                catalog: small_catalog(),
                lines: vec![line.clone()],
            })
            .collect(),
        Slot::SuperbillInclusion => vec![Call::SelectLines {
            practice: practice(BillCreation::Daily),
            run_date: run_date(),
            clients: vec![client(7)],
            catalog: small_catalog(),
            lines: vec![line],
        }],
        Slot::ShareFilter => vec![Call::DecideShares {
            practice: practice(BillCreation::Daily),
            requests: vec![Request {
                document: Document {
                    document_id: 1,
                    kind: DocumentKind::Bill,
                    client_id: None,
                    total: 15_000,
                    paid: 0,
                    status: DocumentStatus::Open,
                },
                client: client(7),
            }],
        }],
        Slot::AutopaySelection => vec![Call::SelectCharges {
            practice: practice(BillCreation::Monthly),
            candidates: vec![Candidate {
                bill_id: 1,
                client_id: 7,
                balance: 15_000,
                age_days: 0,
                attempts: 0,
                last_decline_code: None,
                client_disputed: false,
            }],
        }],
    }
}

/// Runs fixed calls in turn; the first one that fails fails the check. `shown` describes a call
/// too large to print.
fn all_answer(session: &Session, slot: Slot, calls: Vec<Call>, shown: impl Fn(&Call) -> Option<String>) -> Outcome {
    let config = &session.options.config;
    for call in calls {
        let call = with_config(call, config);
        if let Err(error) = calls::run(&session.plugin, slot, &call, fixed_at()) {
            let input = shown(&call).unwrap_or_else(|| show_input(&call, fixed_at()));
            return Outcome::Failed(Failure::new(error.to_string()).with_input(input));
        }
    }
    Outcome::Passed
}

fn empty_input(session: &Session, slot: Slot) -> Outcome {
    all_answer(session, slot, empty_calls(slot), |_| None)
}

fn one_line(session: &Session, slot: Slot) -> Outcome {
    all_answer(session, slot, one_line_calls(slot), |_| None)
}

/// How many lines (or requests) the large input has, and over how many clients.
const MANY: usize = 10_000;
const MANY_CLIENTS: usize = 40;

fn ten_thousand(session: &Session, slot: Slot) -> Outcome {
    let seed = session.options.seed;
    let mut rng = Rng::for_label(seed, &format!("{slot}/10000"));
    let catalog = generate::catalog(&mut rng);
    let client_ids = generate::ids(&mut rng, MANY_CLIENTS);
    let clients: Vec<Client> = client_ids.iter().map(|&id| generate::client(&mut rng, id)).collect();
    let lines = generate::lines(&mut rng, MANY, &client_ids, &catalog, run_date().0);
    let calls = match slot {
        Slot::BillCadence => MODES
            .iter()
            .map(|&mode| Call::GroupLines {
                practice: practice(mode),
                run_date: run_date(),
                catalog: catalog.clone(),
                lines: lines.clone(),
            })
            .collect(),
        Slot::SuperbillInclusion => vec![Call::SelectLines {
            practice: practice(BillCreation::Daily),
            run_date: run_date(),
            clients: clients.clone(),
            catalog,
            lines,
        }],
        Slot::ShareFilter => vec![Call::DecideShares {
            practice: practice(BillCreation::Daily),
            requests: generate::requests(&mut rng, MANY, &clients),
        }],
        Slot::AutopaySelection => vec![Call::SelectCharges {
            practice: practice(BillCreation::Monthly),
            candidates: generate::candidates(&mut rng, MANY, &client_ids),
        }],
    };
    all_answer(session, slot, calls, |call| {
        let what = match call {
            Call::DecideShares { .. } => "requests",
            Call::SelectCharges { .. } => "bills",
            _ => "lines",
        };
        let mode = match call {
            Call::GroupLines { practice, .. } => format!(", bills {:?}", practice.automation.bill_creation),
            _ => String::new(),
        };
        Some(format!(
            "{} with 10,000 generated {what} of {MANY_CLIENTS} clients (seed {seed}){}, run date {}",
            call.function(),
            mode.to_lowercase(),
            run_date().0
        ))
    })
}
