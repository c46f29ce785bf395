//! What the payment provider's later news changes about a payment autopay took. A dispute pauses
//! the client's autopay (a person resumes it); a lost dispute takes the disputed amount off the
//! bill's paid amount and opens the bill again; a refund takes the refunded amount off and marks
//! the bill refunded, which autopay never charges. Events that change nothing give no change, so
//! a retried or reordered delivery is harmless.

use crate::domain::{BillStatus, DisputeStatus, EventKind, PaymentChange, TakenPayment};
use crate::payments::ProviderEventKind;

/// Why a client's autopay pauses when one of their payments is disputed.
pub const DISPUTE_PAUSE: &str = "a payment is disputed; resolve the dispute before charging again";

/// What `event` changes about `payment`; `None` when it changes nothing (the same dispute status
/// again, a refund total already recorded, or an event that is not about a taken payment).
pub fn payment_change(payment: &TakenPayment, event: &ProviderEventKind) -> Option<PaymentChange> {
    match event {
        ProviderEventKind::Disputed { amount, status, .. } => dispute(payment, *amount, *status),
        ProviderEventKind::Refunded { amount_refunded, .. } => refund(payment, *amount_refunded),
        ProviderEventKind::Charged { .. } | ProviderEventKind::Other(_) => None,
    }
}

fn unchanged(payment: &TakenPayment) -> PaymentChange {
    PaymentChange {
        payment: payment.id,
        bill: payment.bill,
        client: payment.client,
        dispute: payment.dispute,
        disputed_amount: payment.disputed_amount,
        refunded: payment.refunded,
        paid_back: 0,
        bill_status: payment.bill_status,
        pause: None,
        events: vec![],
    }
}

fn dispute(payment: &TakenPayment, amount: i64, status: DisputeStatus) -> Option<PaymentChange> {
    if payment.dispute == Some(status) {
        return None;
    }
    let mut change = unchanged(payment);
    change.dispute = Some(status);
    change.disputed_amount = amount;
    if status == DisputeStatus::Lost {
        let kept = payment.amount - payment.refunded;
        change.paid_back = amount.min(kept).min(payment.bill_paid).max(0);
        change.bill_status = BillStatus::Open;
    }
    // A dispute that ends well leaves autopay as it is: paused, if the dispute paused it, until a
    // person resumes it. One that is open or lost pauses it (also when its opening was missed).
    let ended_well = matches!(status, DisputeStatus::Won | DisputeStatus::WarningClosed | DisputeStatus::Prevented);
    if !ended_well {
        change.pause = Some(DISPUTE_PAUSE.to_string());
    }
    change.events.push(EventKind::PaymentDisputed {
        bill: payment.bill,
        client: payment.client_reference.clone(),
        amount,
        status,
    });
    Some(change)
}

fn refund(payment: &TakenPayment, amount_refunded: i64) -> Option<PaymentChange> {
    let now = amount_refunded - payment.refunded;
    if now <= 0 {
        return None;
    }
    let mut change = unchanged(payment);
    change.refunded = amount_refunded;
    change.paid_back = now.min(payment.bill_paid);
    change.bill_status = BillStatus::Refunded;
    change.events.push(EventKind::PaymentRefunded {
        bill: payment.bill,
        client: payment.client_reference.clone(),
        amount: now,
        refunded: amount_refunded,
    });
    Some(change)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{BillId, ClientId, PaymentId};

    fn paid() -> TakenPayment {
        TakenPayment {
            id: PaymentId::new(3),
            bill: BillId::new(9),
            client: ClientId::new(7),
            client_reference: "ana".into(),
            amount: 15_000,
            refunded: 0,
            dispute: None,
            disputed_amount: 0,
            bill_status: BillStatus::Paid,
            bill_paid: 15_000,
        }
    }

    fn disputed(amount: i64, status: DisputeStatus) -> ProviderEventKind {
        ProviderEventKind::Disputed { payment: "pi_1".into(), amount, status }
    }

    fn refunded(amount_refunded: i64) -> ProviderEventKind {
        ProviderEventKind::Refunded { payment: "pi_1".into(), amount_refunded }
    }

    #[test]
    fn a_new_dispute_pauses_autopay_and_leaves_the_bill_paid() {
        let change = payment_change(&paid(), &disputed(15_000, DisputeStatus::NeedsResponse)).expect("a change");
        assert_eq!(change.pause.as_deref(), Some(DISPUTE_PAUSE));
        assert_eq!((change.paid_back, change.bill_status), (0, BillStatus::Paid));
        assert_eq!((change.dispute, change.disputed_amount), (Some(DisputeStatus::NeedsResponse), 15_000));
        assert_eq!(
            change.events,
            [EventKind::PaymentDisputed {
                bill: BillId::new(9),
                client: "ana".into(),
                amount: 15_000,
                status: DisputeStatus::NeedsResponse
            }]
        );
    }

    #[test]
    fn the_same_dispute_status_again_changes_nothing() {
        let mut payment = paid();
        payment.dispute = Some(DisputeStatus::NeedsResponse);
        assert_eq!(payment_change(&payment, &disputed(15_000, DisputeStatus::NeedsResponse)), None);
    }

    #[test]
    fn a_lost_dispute_takes_the_amount_off_and_opens_the_bill() {
        let mut payment = paid();
        payment.dispute = Some(DisputeStatus::UnderReview);
        let change = payment_change(&payment, &disputed(10_000, DisputeStatus::Lost)).expect("a change");
        assert_eq!((change.paid_back, change.bill_status), (10_000, BillStatus::Open));
        assert_eq!(change.pause.as_deref(), Some(DISPUTE_PAUSE), "stays paused until a person resumes it");
    }

    #[test]
    fn a_won_dispute_records_the_end_and_does_not_resume_autopay() {
        let mut payment = paid();
        payment.dispute = Some(DisputeStatus::UnderReview);
        let change = payment_change(&payment, &disputed(15_000, DisputeStatus::Won)).expect("a change");
        assert_eq!((change.paid_back, change.bill_status, change.pause), (0, BillStatus::Paid, None));
        assert_eq!(change.dispute, Some(DisputeStatus::Won));
    }

    #[test]
    fn a_lost_dispute_never_takes_back_more_than_was_kept() {
        let mut payment = paid();
        payment.refunded = 12_000;
        payment.bill_paid = 3_000;
        let change = payment_change(&payment, &disputed(15_000, DisputeStatus::Lost)).expect("a change");
        assert_eq!(change.paid_back, 3_000);
    }

    #[test]
    fn refunds_take_off_what_is_new_and_mark_the_bill_refunded() {
        let change = payment_change(&paid(), &refunded(5_000)).expect("a partial refund");
        assert_eq!((change.paid_back, change.refunded, change.bill_status), (5_000, 5_000, BillStatus::Refunded));
        assert_eq!(change.pause, None);
        let mut payment = paid();
        payment.refunded = 5_000;
        payment.bill_paid = 10_000;
        payment.bill_status = BillStatus::Refunded;
        let change = payment_change(&payment, &refunded(15_000)).expect("the rest");
        assert_eq!((change.paid_back, change.refunded), (10_000, 15_000));
        assert_eq!(
            change.events,
            [EventKind::PaymentRefunded {
                bill: BillId::new(9),
                client: "ana".into(),
                amount: 10_000,
                refunded: 15_000
            }]
        );
        assert_eq!(payment_change(&payment, &refunded(5_000)), None, "a refund total already recorded");
    }
}
