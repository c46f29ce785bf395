use super::*;
use autobill_guest::{AutomationSettings, BillCreation, ClientBilling, Document};

fn practice(config: &str) -> PracticeContext {
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
        config: config.into(),
    }
}

fn client() -> ClientBilling {
    ClientBilling {
        client_id: 7,
        email_on_file: true,
        email_allowed: true,
        auto_superbills: true,
        auto_share: true,
        autopay: false,
        card_on_file: false,
    }
}

fn request(kind: DocumentKind, status: DocumentStatus, change: fn(&mut ClientBilling)) -> ShareRequest {
    let mut client = client();
    change(&mut client);
    ShareRequest { document: Document { document_id: 1, kind, client_id: 7, total: 15_000, paid: 0, status }, client }
}

fn superbill(change: fn(&mut ClientBilling)) -> ShareRequest {
    request(DocumentKind::Superbill, DocumentStatus::Issued, change)
}

fn skip(reason: &str) -> ShareDecision {
    ShareDecision::Skip(reason.into())
}

#[test]
fn superbills_are_sent_after_the_practice_delay_and_bills_are_skipped() {
    let requests = [
        superbill(|_| {}),
        request(DocumentKind::Bill, DocumentStatus::Open, |_| {}),
        request(DocumentKind::Bill, DocumentStatus::Paid, |_| {}),
        request(DocumentKind::Bill, DocumentStatus::Pended, |_| {}),
    ];
    let decisions = SuperbillsOnly::decide_shares(&practice(""), &requests).unwrap();
    assert_eq!(
        decisions,
        vec![ShareDecision::Send(60), skip(skip_reason::BILL), skip(skip_reason::BILL), skip(skip_reason::BILL),]
    );
}

#[test]
fn superbills_need_the_clients_switch_an_email_and_email_allowed() {
    let requests = [
        superbill(|c| c.auto_share = false),
        superbill(|c| c.email_on_file = false),
        superbill(|c| c.email_allowed = false),
        request(DocumentKind::Superbill, DocumentStatus::Void, |_| {}),
    ];
    let decisions = SuperbillsOnly::decide_shares(&practice("{}"), &requests).unwrap();
    assert_eq!(
        decisions,
        vec![
            skip(skip_reason::SHARING_OFF),
            skip(skip_reason::NO_EMAIL),
            skip(skip_reason::EMAIL_OFF),
            skip(skip_reason::VOID),
        ]
    );
}

#[test]
fn a_bill_is_skipped_as_a_bill_even_when_the_client_could_not_be_emailed() {
    let requests = [request(DocumentKind::Bill, DocumentStatus::Void, |c| c.auto_share = false)];
    let decisions = SuperbillsOnly::decide_shares(&practice(""), &requests).unwrap();
    assert_eq!(decisions, vec![skip(skip_reason::BILL)]);
}

#[test]
fn the_configured_delay_overrides_the_practice_delay() {
    let requests = [superbill(|_| {}), request(DocumentKind::Bill, DocumentStatus::Open, |_| {})];
    for (config, delay) in
        [(r#"{"delay_minutes": 0}"#, 0), (r#"{"delay_minutes": 1440}"#, 1440), (r#"{"delay_minutes": 10080}"#, 10_080)]
    {
        let decisions = SuperbillsOnly::decide_shares(&practice(config), &requests).unwrap();
        assert_eq!(decisions, vec![ShareDecision::Send(delay), skip(skip_reason::BILL)], "{config}");
    }
}

#[test]
fn every_request_gets_one_decision_in_order() {
    assert_eq!(SuperbillsOnly::decide_shares(&practice(""), &[]).unwrap(), vec![]);
    let requests: Vec<_> = (0..5)
        .map(|i| if i % 2 == 0 { superbill(|_| {}) } else { request(DocumentKind::Bill, DocumentStatus::Open, |_| {}) })
        .collect();
    let decisions = SuperbillsOnly::decide_shares(&practice(""), &requests).unwrap();
    assert_eq!(decisions.len(), 5);
    assert!(decisions.iter().step_by(2).all(|d| *d == ShareDecision::Send(60)));
}

#[test]
fn valid_configurations_are_accepted() {
    for config in ["", "  ", "{}", r#"{"delay_minutes": 30}"#, r#"{"delay_minutes": null}"#] {
        assert_eq!(SuperbillsOnly::check_config(config), Ok(()), "{config}");
    }
}

#[test]
fn malformed_configurations_say_what_is_wrong() {
    let cases = [
        (r#"{"delay_minutes": -1}"#, "must be 0 to 10080"),
        (r#"{"delay_minutes": 10081}"#, "must be 0 to 10080"),
        (r#"{"delay_minutes": "soon"}"#, "not valid"),
        (r#"{"delay_minutes": 1.5}"#, "not valid"),
        (r#"{"delay": 5}"#, "unknown field `delay`"),
        ("[1]", "must be a JSON object"),
        ("5", "must be a JSON object"),
        ("{", "not valid"),
    ];
    for (config, expected) in cases {
        let error = SuperbillsOnly::check_config(config).unwrap_err();
        assert!(error.contains(expected), "{config}: {error}");
        let error = SuperbillsOnly::decide_shares(&practice(config), &[superbill(|_| {})]).unwrap_err();
        assert!(error.contains(expected), "{config}: {error}");
    }
}
