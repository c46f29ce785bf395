//! Autopay: which of tonight's candidate bills get a charge, with which attempt and key, and what
//! a charge's outcome changes.

use crate::domain::{AttemptStatus, AutopayAnswer, AutopayCandidate, BillId, Charge, EventKind, Settlement};
use crate::payments::ChargeOutcome;
use chrono::{DateTime, Utc};

/// How many nightly attempts a bill gets after soft declines before the client's autopay pauses.
pub const MAX_ATTEMPTS: i64 = 3;

/// The idempotency key of a bill's `number`-th attempt: the same key always means the same charge.
pub fn attempt_key(bill: BillId, number: i64) -> String {
    format!("autobill-bill-{bill}-attempt-{number}")
}

/// Tonight's new charges: for each candidate, a new attempt, or none when an attempt of it is
/// still pending (it is being sent, or is sent again with its own key after the provider could
/// not be reached), it was tried tonight already, or, in the client's current series, it was
/// declined in a way retrying cannot fix or has been declined `max_attempts` times. Attempts of an
/// earlier series (before staff saved a new card or resumed autopay) only carry the numbering on,
/// so each new attempt has a new key.
pub fn charges(night: DateTime<Utc>, candidates: &[AutopayCandidate], max_attempts: i64) -> Vec<Charge> {
    due(night, candidates, max_attempts).into_iter().map(|(_, charge)| charge).collect()
}

/// [`charges`], each beside the candidate it charges, for the autopay policy to be asked about.
pub fn due(
    night: DateTime<Utc>,
    candidates: &[AutopayCandidate],
    max_attempts: i64,
) -> Vec<(&AutopayCandidate, Charge)> {
    candidates.iter().filter_map(|candidate| Some((candidate, charge(night, candidate, max_attempts)?))).collect()
}

fn charge(night: DateTime<Utc>, candidate: &AutopayCandidate, max_attempts: i64) -> Option<Charge> {
    let (mut last, mut in_series) = (0, 0);
    for attempt in &candidate.attempts {
        if attempt.status == AttemptStatus::Pending || attempt.created_at == night {
            return None;
        }
        last = last.max(attempt.number);
        // Only declines count towards the pause: a bill an autopay policy charged in part is
        // charged again another night.
        if attempt.series < candidate.series || attempt.status == AttemptStatus::Succeeded {
            continue;
        }
        if !attempt.retryable {
            return None;
        }
        in_series += 1;
    }
    if in_series >= max_attempts {
        return None;
    }
    let number = last + 1;
    Some(Charge {
        attempt: None,
        bill: candidate.bill,
        client: candidate.client,
        client_reference: candidate.client_reference.clone(),
        number,
        key: attempt_key(candidate.bill, number),
        amount: candidate.balance,
        card: candidate.card.clone(),
        night,
        series: candidate.series,
        in_series: in_series + 1,
    })
}

/// Tonight's charges as the practice's autopay policy chose them: `due` (from [`charges`]) with
/// `answers` in the same order. A charge takes the amount its answer names; a skipped bill is not
/// charged tonight and gets an `autopay_skipped` event with the policy's reason.
pub fn selected(due: Vec<Charge>, answers: Vec<AutopayAnswer>) -> (Vec<Charge>, Vec<EventKind>) {
    let mut charges = Vec::with_capacity(due.len());
    let mut events = vec![];
    for (mut charge, answer) in due.into_iter().zip(answers) {
        match answer {
            AutopayAnswer::Charge(amount) => {
                charge.amount = amount;
                charges.push(charge);
            }
            AutopayAnswer::Skip(reason) => events.push(EventKind::AutopaySkipped {
                bill: charge.bill,
                client: charge.client_reference,
                balance: charge.amount,
                reason,
            }),
        }
    }
    (charges, events)
}

/// What a charge's outcome changes, and the events that tell it. The last soft decline of a bill
/// pauses the client's autopay with a reason staff can see.
pub fn settlement(charge: &Charge, outcome: &ChargeOutcome, max_attempts: i64) -> (Settlement, Vec<EventKind>) {
    let failed = |reason: String, retryable: bool, decline_code: Option<String>| Settlement {
        status: AttemptStatus::Failed,
        reason: Some(reason),
        retryable,
        paid: None,
        reference: None,
        pause: None,
        decline_code,
    };
    let mut settlement = match outcome {
        ChargeOutcome::Succeeded { reference } => Settlement {
            status: AttemptStatus::Succeeded,
            reason: None,
            retryable: false,
            paid: Some(charge.amount),
            reference: Some(reference.clone()),
            pause: None,
            decline_code: None,
        },
        ChargeOutcome::Declined { code, retryable } => {
            failed(format!("the card was declined ({code})"), *retryable, Some(code.clone()))
        }
        ChargeOutcome::AuthenticationRequired => failed(
            "the bank requires the client to authenticate; ask them to pay on-session".to_string(),
            false,
            Some("authentication_required".to_string()),
        ),
    };
    let mut events = vec![];
    match &settlement.reason {
        None => events.push(EventKind::PaymentSucceeded {
            bill: charge.bill,
            client: charge.client_reference.clone(),
            amount: charge.amount,
        }),
        Some(reason) => {
            events.push(EventKind::PaymentFailed {
                bill: charge.bill,
                client: charge.client_reference.clone(),
                amount: charge.amount,
                reason: reason.clone(),
            });
            if settlement.retryable && charge.in_series >= max_attempts {
                let paused = format!(
                    "autopay paused for client {} after {} declined attempts on bill {} ({reason}); update the card or the client's settings to resume it",
                    charge.client_reference, charge.in_series, charge.bill
                );
                events.push(EventKind::Warning { message: paused.clone() });
                settlement.pause = Some(paused);
            }
        }
    }
    (settlement, events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AttemptId, ClientId, PastAttempt};
    use chrono::Duration;

    fn night(n: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::days(n)
    }

    fn candidate(attempts: Vec<PastAttempt>) -> AutopayCandidate {
        AutopayCandidate {
            bill: BillId::new(9),
            client: ClientId::new(7),
            client_reference: "ana".into(),
            balance: 15_000,
            card: "visa-new".into(),
            attempts,
            series: 0,
            made_at: night(0),
            client_disputed: false,
        }
    }

    fn past(number: i64, status: AttemptStatus, retryable: bool, on: i64) -> PastAttempt {
        PastAttempt {
            id: AttemptId::new(number),
            number,
            key: attempt_key(BillId::new(9), number),
            amount: 15_000,
            status,
            retryable,
            card: "visa-old".into(),
            created_at: night(on),
            series: 0,
            decline_code: None,
        }
    }

    #[test]
    fn a_first_night_makes_attempt_one_with_its_key() {
        let charges = charges(night(1), &[candidate(vec![])], MAX_ATTEMPTS);
        assert_eq!(charges.len(), 1);
        assert_eq!((charges[0].number, charges[0].key.as_str()), (1, "autobill-bill-9-attempt-1"));
        assert_eq!((charges[0].amount, charges[0].attempt), (15_000, None));
    }

    #[test]
    fn a_pending_attempt_gets_no_second_attempt() {
        assert!(
            charges(night(2), &[candidate(vec![past(1, AttemptStatus::Pending, false, 1)])], MAX_ATTEMPTS).is_empty()
        );
    }

    #[test]
    fn a_new_card_or_resume_starts_a_new_series_with_new_keys() {
        let soft = |n, on| past(n, AttemptStatus::Failed, true, on);
        let paused = vec![soft(1, 1), soft(2, 2), soft(3, 3)];
        let resumed = AutopayCandidate { series: 1, ..candidate(paused) };
        let charge = charges(night(5), &[resumed], MAX_ATTEMPTS).remove(0);
        assert_eq!((charge.number, charge.in_series), (4, 1));
        assert_eq!(charge.key, "autobill-bill-9-attempt-4");

        let hard = AutopayCandidate { series: 1, ..candidate(vec![past(1, AttemptStatus::Failed, false, 1)]) };
        assert_eq!(charges(night(5), &[hard], MAX_ATTEMPTS)[0].number, 2, "the old card's hard decline does not block");
    }

    #[test]
    fn soft_declines_retry_nightly_up_to_three_attempts() {
        let soft = |n, on| past(n, AttemptStatus::Failed, true, on);
        assert_eq!(charges(night(2), &[candidate(vec![soft(1, 1)])], MAX_ATTEMPTS)[0].number, 2);
        assert!(charges(night(2), &[candidate(vec![soft(1, 2)])], MAX_ATTEMPTS).is_empty(), "once a night");
        assert!(
            charges(night(4), &[candidate(vec![soft(1, 1), soft(2, 2), soft(3, 3)])], MAX_ATTEMPTS).is_empty(),
            "three attempts at most"
        );
    }

    #[test]
    fn hard_declines_and_authentication_are_not_retried() {
        let hard = past(1, AttemptStatus::Failed, false, 1);
        assert!(charges(night(2), &[candidate(vec![hard])], MAX_ATTEMPTS).is_empty());
        let charge = charges(night(1), &[candidate(vec![])], MAX_ATTEMPTS).remove(0);
        let (settlement, _) = settlement(&charge, &ChargeOutcome::AuthenticationRequired, MAX_ATTEMPTS);
        assert!(!settlement.retryable);
    }

    #[test]
    fn the_third_soft_decline_pauses_autopay_with_a_reason_staff_can_see() {
        let mut charge = charges(night(1), &[candidate(vec![])], MAX_ATTEMPTS).remove(0);
        let declined = ChargeOutcome::Declined { code: "insufficient_funds".into(), retryable: true };
        let (settlement_two, events_two) = {
            charge.in_series = 2;
            settlement(&charge, &declined, MAX_ATTEMPTS)
        };
        assert_eq!(settlement_two.pause, None);
        assert_eq!(events_two.len(), 1);
        charge.in_series = 3;
        let (paused, events) = settlement(&charge, &declined, MAX_ATTEMPTS);
        let reason = paused.pause.unwrap_or_default();
        assert!(reason.contains("after 3 declined attempts on bill 9"), "{reason}");
        assert!(matches!(events.last(), Some(EventKind::Warning { .. })));
    }

    #[test]
    fn the_policy_chooses_each_amount_and_a_skipped_bill_is_told_with_its_reason() {
        let other = AutopayCandidate { bill: BillId::new(10), balance: 300, ..candidate(vec![]) };
        let due = charges(night(1), &[candidate(vec![]), other], MAX_ATTEMPTS);
        let answers = vec![AutopayAnswer::Charge(5_000), AutopayAnswer::Skip("balance under $5.00".into())];
        let (charges, events) = selected(due, answers);
        assert_eq!(
            charges.iter().map(|charge| (charge.bill, charge.amount)).collect::<Vec<_>>(),
            [(BillId::new(9), 5_000)]
        );
        assert_eq!(
            events,
            [EventKind::AutopaySkipped {
                bill: BillId::new(10),
                client: "ana".into(),
                balance: 300,
                reason: "balance under $5.00".into()
            }]
        );
    }

    #[test]
    fn a_bill_charged_in_part_is_charged_again_the_next_night() {
        let paid_part = past(1, AttemptStatus::Succeeded, false, 1);
        let soft = |n, on| past(n, AttemptStatus::Failed, true, on);
        let charge = charges(night(2), &[candidate(vec![paid_part.clone()])], MAX_ATTEMPTS).remove(0);
        assert_eq!((charge.number, charge.in_series), (2, 1));
        let after_declines = candidate(vec![paid_part, soft(2, 2), soft(3, 3)]);
        assert_eq!(charges(night(4), &[after_declines], MAX_ATTEMPTS)[0].in_series, 3, "successes do not count");
    }

    #[test]
    fn a_decline_keeps_its_code_for_the_policy_to_see_next_night() {
        let charge = charges(night(1), &[candidate(vec![])], MAX_ATTEMPTS).remove(0);
        let declined = ChargeOutcome::Declined { code: "insufficient_funds".into(), retryable: true };
        assert_eq!(settlement(&charge, &declined, MAX_ATTEMPTS).0.decline_code.as_deref(), Some("insufficient_funds"));
    }

    #[test]
    fn a_success_pays_the_amount_charged() {
        let charge = charges(night(1), &[candidate(vec![])], MAX_ATTEMPTS).remove(0);
        let outcome = ChargeOutcome::Succeeded { reference: "pi_1".into() };
        let (settlement, events) = settlement(&charge, &outcome, MAX_ATTEMPTS);
        assert_eq!((settlement.status, settlement.paid), (AttemptStatus::Succeeded, Some(15_000)));
        assert_eq!(
            events,
            [EventKind::PaymentSucceeded { bill: BillId::new(9), client: "ana".into(), amount: 15_000 }]
        );
    }
}
