use super::*;
use autobill_guest::{AutomationSettings, BillCreation, Document, DocumentKind, DocumentStatus};
use std::collections::HashSet;

fn practice(fault: &str) -> PracticeContext {
    PracticeContext {
        practice_id: 1,
        timezone: "America/New_York".into(),
        currency: "USD".into(),
        automation: AutomationSettings {
            bill_creation: BillCreation::Daily,
            superbill_day: 1,
            share_by_default: true,
            share_delay_minutes: 60,
            autopay: false,
        },
        config: if fault.is_empty() { String::new() } else { format!(r#"{{"fault": "{fault}"}}"#) },
    }
}

/// One CPT-coded service.
fn catalog() -> Catalog {
    Catalog {
        services: vec![autobill_guest::Service { code: "90837".into(), cpt_code: Some("90837".into()) }],
        diagnosis_sets: vec![vec![]],
    }
}

fn d(year: i32, month: u8, day: u8) -> Date {
    Date { year, month, day }
}

fn line(line_id: u64, client_id: u64) -> ServiceLine {
    ServiceLine {
        line_id,
        appointment_id: line_id,
        client_id,
        date: d(2026, 3, 5),
        service: 0,
        diagnoses: 0,
        fee: 15_000,
        paid: 0,
    }
}

fn client(client_id: u64) -> ClientBilling {
    ClientBilling {
        client_id,
        email_on_file: true,
        email_allowed: true,
        auto_superbills: true,
        auto_share: true,
        autopay: false,
        card_on_file: false,
    }
}

fn requests() -> Vec<ShareRequest> {
    (1..=2)
        .map(|id| ShareRequest {
            document: Document {
                document_id: id,
                kind: DocumentKind::Bill,
                client_id: 7,
                total: 1,
                paid: 0,
                status: DocumentStatus::Open,
            },
            client: client(7),
        })
        .collect()
}

const LINES: [u64; 3] = [1, 2, 3];

fn bills(fault: &str) -> Vec<BillPlan> {
    let lines: Vec<_> = LINES.iter().map(|&id| line(id, if id == 3 { 8 } else { 7 })).collect();
    InvalidOutputs::group_lines(&practice(fault), d(2026, 3, 6), &catalog(), &lines).unwrap()
}

fn run_dates(fault: &str) -> Vec<Date> {
    InvalidOutputs::bill_run_dates(&practice(fault), d(2026, 3, 1), d(2026, 3, 3)).unwrap()
}

fn decisions(fault: &str) -> Vec<ShareDecision> {
    InvalidOutputs::decide_shares(&practice(fault), &requests()).unwrap()
}

#[test]
fn no_fault_gives_valid_answers() {
    assert_eq!(
        bills(""),
        vec![
            BillPlan { client_id: 7, lines: vec![1, 2], status: BillStatus::Open },
            BillPlan { client_id: 8, lines: vec![3], status: BillStatus::Open },
        ]
    );
    assert_eq!(run_dates(""), vec![d(2026, 3, 1), d(2026, 3, 2), d(2026, 3, 3)]);
    assert_eq!(InvalidOutputs::superbill_run_day(&practice(""), 2026, 4), Ok(1));
    assert_eq!(decisions(""), vec![ShareDecision::Send(60), ShareDecision::Send(60)]);
    // A fault of another slot leaves this slot's answers correct.
    assert_eq!(bills("charge-above-balance"), bills(""));
    assert_eq!(decisions("foreign-line"), decisions(""));
}

#[test]
fn bill_faults() {
    let all_lines: HashSet<u64> = LINES.into();
    assert!(bills("foreign-line").iter().flat_map(|b| &b.lines).any(|id| !all_lines.contains(id)));
    let duplicated = bills("duplicate-line");
    assert_eq!(duplicated.iter().map(|b| b.lines.len()).sum::<usize>(), LINES.len() + 1);
    assert!(bills("empty-bill").iter().any(|b| b.lines.is_empty()));
    assert_eq!(bills("wrong-client")[0].client_id, 9);
}

#[test]
fn run_date_faults() {
    assert_eq!(run_dates("run-date-outside-window").last(), Some(&d(2026, 3, 4)));
    assert_eq!(run_dates("unordered-run-dates"), vec![d(2026, 3, 2), d(2026, 3, 1), d(2026, 3, 3)]);
}

#[test]
fn superbill_faults() {
    assert_eq!(InvalidOutputs::superbill_run_day(&practice("day-out-of-range"), 2026, 1), Ok(32));
    assert_eq!(InvalidOutputs::superbill_run_day(&practice("day-past-month-end"), 2026, 4), Ok(31));
    assert_eq!(InvalidOutputs::superbill_run_day(&practice("day-past-month-end"), 2027, 2), Ok(29));
    let lines = [line(1, 7)];
    let superbills = InvalidOutputs::select_lines(
        &practice("superbill-foreign-line"),
        d(2026, 4, 1),
        &[client(7)],
        &catalog(),
        &lines,
    )
    .unwrap();
    assert_eq!(superbills, vec![SuperbillPlan { client_id: 7, lines: vec![1, 2] }]);
}

#[test]
fn share_faults() {
    assert_eq!(decisions("excessive-delay")[0], ShareDecision::Send(10_081));
    assert_eq!(decisions("decision-count").len(), 1);
    assert_eq!(decisions("empty-skip-reason")[0], ShareDecision::Skip(String::new()));
}

#[test]
fn unknown_faults_are_refused_everywhere() {
    let error = <InvalidOutputs as BillCadence>::check_config(r#"{"fault": "gremlins"}"#).unwrap_err();
    assert!(error.starts_with("unknown fault \"gremlins\""), "{error}");
    assert!(<InvalidOutputs as ShareFilter>::check_config(r#"{"fault": "gremlins"}"#).is_err());
    assert!(InvalidOutputs::superbill_run_day(&practice("gremlins"), 2026, 4).unwrap_err().contains("unknown fault"));
    assert!(InvalidOutputs::decide_shares(&practice("gremlins"), &requests()).is_err());
    for (name, _) in FAULTS {
        assert_eq!(<InvalidOutputs as SuperbillInclusion>::check_config(&practice(name).config), Ok(()));
    }
    assert_eq!(<InvalidOutputs as BillCadence>::check_config(""), Ok(()));
}

#[test]
fn autopay_faults() {
    let candidate = AutopayCandidate {
        bill_id: 4,
        client_id: 7,
        balance: 300,
        age_days: 0,
        attempts: 0,
        last_decline_code: None,
        client_disputed: false,
    };
    let charges = |config| InvalidOutputs::select_charges(&practice(config), std::slice::from_ref(&candidate)).unwrap();
    assert_eq!(charges(""), vec![AutopayDecision::Charge(300)]);
    assert_eq!(charges("charge-above-balance"), vec![AutopayDecision::Charge(301)]);
}
