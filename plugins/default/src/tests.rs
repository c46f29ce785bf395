use super::*;
use autobill_guest::{AutomationSettings, Document, DocumentKind, Service};

/// Service 0 is CPT-coded, service 1 is not; every line is linked to F41.1.
fn catalog() -> Catalog {
    Catalog {
        services: vec![
            Service { code: "90837".into(), cpt_code: Some("90837".into()) },
            Service { code: "WORKSHOP".into(), cpt_code: None },
        ],
        diagnosis_sets: vec![vec!["F41.1".into()]],
    }
}

fn practice(bill_creation: BillCreation, superbill_day: u8) -> PracticeContext {
    PracticeContext {
        practice_id: 1,
        timezone: "America/New_York".into(),
        currency: "USD".into(),
        automation: AutomationSettings {
            bill_creation,
            superbill_day,
            share_by_default: true,
            share_delay_minutes: 60,
            autopay: false,
        },
        config: String::new(),
    }
}

fn d(year: i32, month: u8, day: u8) -> Date {
    Date { year, month, day }
}

fn line(line_id: u64, appointment_id: u64, client_id: u64, date: Date, cpt: Option<&str>) -> ServiceLine {
    ServiceLine {
        line_id,
        appointment_id,
        client_id,
        date,
        service: if cpt.is_some() { 0 } else { 1 },
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

#[test]
fn daily_runs_every_day_and_monthly_only_on_the_first() {
    let daily =
        DefaultPolicy::bill_run_dates(&practice(BillCreation::Daily, 1), d(2026, 1, 30), d(2026, 2, 2)).unwrap();
    assert_eq!(daily, vec![d(2026, 1, 30), d(2026, 1, 31), d(2026, 2, 1), d(2026, 2, 2)]);
    let monthly =
        DefaultPolicy::bill_run_dates(&practice(BillCreation::Monthly, 1), d(2026, 1, 2), d(2026, 3, 1)).unwrap();
    assert_eq!(monthly, vec![d(2026, 2, 1), d(2026, 3, 1)]);
}

#[test]
fn daily_bills_group_per_client_and_date_of_service() {
    let lines = [
        line(1, 10, 7, d(2026, 1, 5), None),
        line(2, 10, 7, d(2026, 1, 5), None),
        line(3, 11, 7, d(2026, 1, 6), None),
        line(4, 12, 8, d(2026, 1, 5), None),
    ];
    let bills =
        DefaultPolicy::group_lines(&practice(BillCreation::Daily, 1), d(2026, 1, 7), &catalog(), &lines).unwrap();
    assert_eq!(bills.len(), 3);
    assert!(bills.iter().all(|bill| bill.status == BillStatus::Open));
    assert_eq!(bills[0], BillPlan { client_id: 7, lines: vec![1, 2], status: BillStatus::Open });
}

#[test]
fn monthly_bills_hold_all_of_a_clients_lines() {
    let lines = [
        line(1, 10, 7, d(2026, 1, 5), None),
        line(2, 11, 7, d(2026, 1, 20), None),
        line(3, 12, 8, d(2026, 1, 9), None),
    ];
    let bills =
        DefaultPolicy::group_lines(&practice(BillCreation::Monthly, 1), d(2026, 2, 1), &catalog(), &lines).unwrap();
    assert_eq!(
        bills,
        vec![
            BillPlan { client_id: 7, lines: vec![1, 2], status: BillStatus::Open },
            BillPlan { client_id: 8, lines: vec![3], status: BillStatus::Open },
        ]
    );
}

#[test]
fn manual_mode_makes_one_pended_bill_per_appointment() {
    let lines = [line(1, 10, 7, d(2026, 1, 5), None), line(2, 11, 7, d(2026, 1, 5), None)];
    let bills =
        DefaultPolicy::group_lines(&practice(BillCreation::Manual, 1), d(2026, 1, 6), &catalog(), &lines).unwrap();
    assert_eq!(bills.len(), 2);
    assert!(bills.iter().all(|bill| bill.status == BillStatus::Pended && bill.lines.len() == 1));
}

#[test]
fn superbill_day_31_runs_on_the_last_day_of_short_months() {
    let p = practice(BillCreation::Daily, 31);
    assert_eq!(DefaultPolicy::superbill_run_day(&p, 2027, 2).unwrap(), 28);
    assert_eq!(DefaultPolicy::superbill_run_day(&p, 2028, 2).unwrap(), 29);
    assert_eq!(DefaultPolicy::superbill_run_day(&p, 2026, 4).unwrap(), 30);
    assert_eq!(DefaultPolicy::superbill_run_day(&practice(BillCreation::Daily, 1), 2026, 4).unwrap(), 1);
    assert!(DefaultPolicy::superbill_run_day(&practice(BillCreation::Daily, 0), 2026, 4).is_err());
}

#[test]
fn superbills_hold_cpt_coded_lines_from_earlier_months_of_opted_in_clients() {
    let mut opted_out = client(8);
    opted_out.auto_superbills = false;
    let lines = [
        line(1, 10, 7, d(2026, 1, 31), Some("90837")),
        line(2, 11, 7, d(2025, 12, 3), Some("90834")),
        line(3, 12, 7, d(2026, 2, 1), Some("90837")),
        line(4, 13, 7, d(2026, 1, 10), None),
        line(5, 14, 8, d(2026, 1, 10), Some("90837")),
    ];
    let superbills = DefaultPolicy::select_lines(
        &practice(BillCreation::Daily, 1),
        d(2026, 2, 1),
        &[client(7), opted_out],
        &catalog(),
        &lines,
    )
    .unwrap();
    assert_eq!(superbills, vec![SuperbillPlan { client_id: 7, lines: vec![1, 2] }]);
}

#[test]
fn sharing_needs_the_clients_switch_an_email_and_email_allowed() {
    let document = Document {
        document_id: 1,
        kind: DocumentKind::Bill,
        client_id: 7,
        total: 100,
        paid: 0,
        status: DocumentStatus::Open,
    };
    let request = |change: fn(&mut ClientBilling)| {
        let mut c = client(7);
        change(&mut c);
        ShareRequest { document, client: c }
    };
    let requests = [
        request(|_| {}),
        request(|c| c.auto_share = false),
        request(|c| c.email_on_file = false),
        request(|c| c.email_allowed = false),
    ];
    let decisions = DefaultPolicy::decide_shares(&practice(BillCreation::Daily, 1), &requests).unwrap();
    assert_eq!(
        decisions,
        vec![
            ShareDecision::Send(60),
            ShareDecision::Skip(skip_reason::SHARING_OFF.into()),
            ShareDecision::Skip(skip_reason::NO_EMAIL.into()),
            ShareDecision::Skip(skip_reason::EMAIL_OFF.into()),
        ]
    );
}

#[test]
fn void_documents_are_never_shared() {
    let document = Document {
        document_id: 1,
        kind: DocumentKind::Superbill,
        client_id: 7,
        total: 100,
        paid: 0,
        status: DocumentStatus::Void,
    };
    let decisions = DefaultPolicy::decide_shares(
        &practice(BillCreation::Daily, 1),
        &[ShareRequest { document, client: client(7) }],
    )
    .unwrap();
    assert_eq!(decisions, vec![ShareDecision::Skip(skip_reason::VOID.into())]);
}

#[test]
fn autopay_charges_every_open_balance_in_full() {
    let candidate = |bill_id, balance| AutopayCandidate {
        bill_id,
        client_id: 7,
        balance,
        age_days: 0,
        attempts: 0,
        last_decline_code: None,
        client_disputed: false,
    };
    let decisions =
        DefaultPolicy::select_charges(&practice(BillCreation::Monthly, 1), &[candidate(1, 300), candidate(2, 15_000)])
            .unwrap();
    assert_eq!(decisions, vec![AutopayDecision::Charge(300), AutopayDecision::Charge(15_000)]);
}
