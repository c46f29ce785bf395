use super::*;
use autobill_guest::{AutomationSettings, BillCreation};

fn practice(config: &str) -> PracticeContext {
    PracticeContext {
        practice_id: 1,
        timezone: "America/New_York".into(),
        currency: "USD".into(),
        automation: AutomationSettings {
            bill_creation: BillCreation::Monthly,
            superbill_day: 1,
            share_by_default: true,
            share_delay_minutes: 60,
            autopay: true,
        },
        config: config.into(),
    }
}

fn bill(bill_id: u64, client_id: u64, balance: i64) -> AutopayCandidate {
    AutopayCandidate {
        bill_id,
        client_id,
        balance,
        age_days: 5,
        attempts: 0,
        last_decline_code: None,
        client_disputed: false,
    }
}

fn skipped_for(decision: &AutopayDecision, words: &str) -> bool {
    matches!(decision, AutopayDecision::Skip(reason) if reason.contains(words))
}

#[test]
fn a_balance_under_the_minimum_is_skipped_and_the_others_are_charged_in_full() {
    let decisions =
        AutopayRules::select_charges(&practice(r#"{"min_balance": 500}"#), &[bill(1, 7, 300), bill(2, 8, 15_000)])
            .unwrap();
    assert!(skipped_for(&decisions[0], "the balance of 3.00 USD is under the minimum of 5.00 USD"), "{decisions:?}");
    assert_eq!(decisions[1], AutopayDecision::Charge(15_000));
}

#[test]
fn a_bill_younger_than_the_minimum_age_waits() {
    let young = AutopayCandidate { age_days: 1, ..bill(1, 7, 15_000) };
    let decisions = AutopayRules::select_charges(&practice(r#"{"min_age_days": 3}"#), &[young]).unwrap();
    assert!(skipped_for(&decisions[0], "1 days old; autopay charges bills from 3 days"), "{decisions:?}");
}

#[test]
fn the_nightly_cap_holds_per_client_with_a_partial_charge() {
    let decisions = AutopayRules::select_charges(
        &practice(r#"{"nightly_cap": 20000}"#),
        &[bill(1, 7, 15_000), bill(2, 7, 15_000), bill(3, 7, 1_000), bill(4, 8, 15_000)],
    )
    .unwrap();
    assert_eq!(decisions[0], AutopayDecision::Charge(15_000));
    assert_eq!(decisions[1], AutopayDecision::Charge(5_000), "what is left under the cap");
    assert!(skipped_for(&decisions[2], "nightly cap of 200.00 USD"), "{decisions:?}");
    assert_eq!(decisions[3], AutopayDecision::Charge(15_000), "another client has a cap of their own");
}

#[test]
fn clients_who_disputed_a_payment_are_not_charged_unless_configured() {
    let disputed = AutopayCandidate { client_disputed: true, ..bill(1, 7, 15_000) };
    let skipped = AutopayRules::select_charges(&practice(""), std::slice::from_ref(&disputed)).unwrap();
    assert!(skipped_for(&skipped[0], "disputed a payment"), "{skipped:?}");
    let charged = AutopayRules::select_charges(&practice(r#"{"charge_disputed_clients": true}"#), &[disputed]).unwrap();
    assert_eq!(charged, [AutopayDecision::Charge(15_000)]);
}

#[test]
fn bad_configurations_are_refused_with_the_reason() {
    assert!(AutopayRules::check_config("").is_ok());
    assert!(AutopayRules::check_config(r#"{"min_balance": 500, "min_age_days": 3, "nightly_cap": 50000}"#).is_ok());
    assert!(AutopayRules::check_config(r#"{"min_balance": -1}"#).unwrap_err().contains("0 or more"));
    assert!(AutopayRules::check_config(r#"{"nightly_cap": 0}"#).unwrap_err().contains("more than 0"));
    assert!(AutopayRules::check_config("[500]").is_err());
    assert!(AutopayRules::check_config(r#"{"minimum": 5}"#).is_err());
}

#[test]
fn amounts_are_shown_in_the_currencys_own_units() {
    assert_eq!(show_amount(300, "USD"), "3.00 USD");
    assert_eq!(show_amount(500, "JPY"), "500 JPY");
    assert_eq!(show_amount(123_456, "EUR"), "1234.56 EUR");
}
