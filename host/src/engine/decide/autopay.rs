//! Autopay: which of tonight's candidate bills get a charge, with which attempt and key, and what
//! a charge's outcome changes.

use crate::domain::{AttemptStatus, AutopayCandidate, BillId, Charge, EventKind, Settlement};
use crate::payments::ChargeOutcome;
use chrono::{DateTime, Utc};

/// How many nightly attempts a bill gets after soft declines before the client's autopay pauses.
pub const MAX_ATTEMPTS: i64 = 3;

/// The idempotency key of a bill's `number`-th attempt: the same key always means the same charge.
pub fn attempt_key(bill: BillId, number: i64) -> String {
    format!("autobill-bill-{bill}-attempt-{number}")
}

/// Tonight's charges: for each candidate, an attempt a crash left pending (resent exactly as
/// first sent: the same key with another card would be refused), or a new attempt, or none when
/// the bill was tried tonight already, was declined in a way retrying cannot fix, or has had
/// `max_attempts` attempts.
pub fn charges(night: DateTime<Utc>, candidates: &[AutopayCandidate], max_attempts: i64) -> Vec<Charge> {
    candidates.iter().filter_map(|candidate| charge(night, candidate, max_attempts)).collect()
}

fn charge(night: DateTime<Utc>, candidate: &AutopayCandidate, max_attempts: i64) -> Option<Charge> {
    let mut last = 0;
    for attempt in &candidate.attempts {
        if attempt.status == AttemptStatus::Pending {
            let card = if attempt.card.is_empty() { candidate.card.clone() } else { attempt.card.clone() };
            return Some(Charge {
                attempt: Some(attempt.id),
                bill: candidate.bill,
                client: candidate.client,
                client_reference: candidate.client_reference.clone(),
                number: attempt.number,
                key: attempt.key.clone(),
                amount: attempt.amount,
                card,
                night: attempt.created_at,
            });
        }
        let hard_decline = attempt.status == AttemptStatus::Failed && !attempt.retryable;
        if attempt.created_at == night || hard_decline {
            return None;
        }
        last = last.max(attempt.number);
    }
    if last >= max_attempts {
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
    })
}

/// What a charge's outcome changes, and the events that tell it. The last soft decline of a bill
/// pauses the client's autopay with a reason staff can see.
pub fn settlement(charge: &Charge, outcome: &ChargeOutcome, max_attempts: i64) -> (Settlement, Vec<EventKind>) {
    let failed = |reason: String, retryable: bool| Settlement {
        status: AttemptStatus::Failed,
        reason: Some(reason),
        retryable,
        paid: None,
        reference: None,
        pause: None,
    };
    let mut settlement = match outcome {
        ChargeOutcome::Succeeded { reference } => Settlement {
            status: AttemptStatus::Succeeded,
            reason: None,
            retryable: false,
            paid: Some(charge.amount),
            reference: Some(reference.clone()),
            pause: None,
        },
        ChargeOutcome::Declined { code, retryable } => failed(format!("the card was declined ({code})"), *retryable),
        ChargeOutcome::AuthenticationRequired => {
            failed("the bank requires the client to authenticate; ask them to pay on-session".to_string(), false)
        }
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
            if settlement.retryable && charge.number >= max_attempts {
                let paused = format!(
                    "autopay paused for client {} after {} declined attempts on bill {} ({reason}); update the card or the client's settings to resume it",
                    charge.client_reference, charge.number, charge.bill
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
    fn a_pending_attempt_is_resent_with_its_key_and_card() {
        let charges = charges(night(2), &[candidate(vec![past(1, AttemptStatus::Pending, false, 1)])], MAX_ATTEMPTS);
        assert_eq!(charges[0].attempt, Some(AttemptId::new(1)));
        assert_eq!((charges[0].key.as_str(), charges[0].card.as_str()), ("autobill-bill-9-attempt-1", "visa-old"));
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
            charge.number = 2;
            settlement(&charge, &declined, MAX_ATTEMPTS)
        };
        assert_eq!(settlement_two.pause, None);
        assert_eq!(events_two.len(), 1);
        charge.number = 3;
        let (paused, events) = settlement(&charge, &declined, MAX_ATTEMPTS);
        let reason = paused.pause.unwrap_or_default();
        assert!(reason.contains("after 3 declined attempts on bill 9"), "{reason}");
        assert!(matches!(events.last(), Some(EventKind::Warning { .. })));
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
