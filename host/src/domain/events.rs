//! The practice's event log: what the engine did, in time order, as `simulate` prints it and the
//! API shows it. Events are stored as their JSON, so their shape is part of the product.

use super::{AttemptStatus, BillId, BillStatus, DisputeStatus, DocumentKind, SuperbillId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One thing that happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// A bill run created a bill.
    BillCreated {
        /// The bill's id.
        bill: BillId,
        /// The client's reference.
        client: String,
        /// `pended` or `open`.
        status: BillStatus,
        /// Total in minor units.
        total: i64,
        /// Its lines, as `APPOINTMENT:SERVICE`.
        lines: Vec<String>,
    },
    /// A person opened a pended bill.
    BillOpened {
        /// The bill's id.
        bill: BillId,
        /// The client's reference.
        client: String,
    },
    /// A person voided a bill: it is not collected, and its lines are not billed again.
    BillVoided {
        /// The bill's id.
        bill: BillId,
        /// The client's reference.
        client: String,
    },
    /// A person added a product to a bill.
    ProductAdded {
        /// The bill's id.
        bill: BillId,
        /// The product's name.
        name: String,
        /// Its amount in minor units.
        amount: i64,
    },
    /// A superbill run created a superbill.
    SuperbillCreated {
        /// The superbill's id.
        superbill: SuperbillId,
        /// The client's reference.
        client: String,
        /// Total fees in minor units.
        total: i64,
        /// Paid against its lines, in minor units.
        paid: i64,
        /// Its lines, as `APPOINTMENT:SERVICE`.
        lines: Vec<String>,
    },
    /// A document was emailed.
    DocumentShared {
        /// The document's id.
        document: i64,
        /// `bill` or `superbill`.
        kind: DocumentKind,
        /// The client's reference.
        client: String,
        /// The address it went to.
        to: String,
    },
    /// A document was not emailed.
    ShareSkipped {
        /// The document's id.
        document: i64,
        /// `bill` or `superbill`.
        kind: DocumentKind,
        /// The client's reference.
        client: String,
        /// Why not.
        reason: String,
    },
    /// Autopay took a payment.
    PaymentSucceeded {
        /// The bill's id.
        bill: BillId,
        /// The client's reference.
        client: String,
        /// Amount in minor units.
        amount: i64,
    },
    /// Autopay failed to take a payment.
    PaymentFailed {
        /// The bill's id.
        bill: BillId,
        /// The client's reference.
        client: String,
        /// Amount in minor units.
        amount: i64,
        /// Why.
        reason: String,
    },
    /// The client disputed a payment with their bank, or the dispute moved on (closed won or lost).
    PaymentDisputed {
        /// The bill the payment paid.
        bill: BillId,
        /// The client's reference.
        client: String,
        /// The disputed amount in minor units.
        amount: i64,
        /// Where the dispute stands.
        status: DisputeStatus,
    },
    /// A payment was (partly) refunded at the payment provider.
    PaymentRefunded {
        /// The bill the payment paid.
        bill: BillId,
        /// The client's reference.
        client: String,
        /// Refunded now, in minor units.
        amount: i64,
        /// Refunded of the payment in all, in minor units.
        refunded: i64,
    },
    /// The practice's autopay policy left an open bill uncharged tonight.
    AutopaySkipped {
        /// The bill's id.
        bill: BillId,
        /// The client's reference.
        client: String,
        /// The bill's balance, in minor units.
        balance: i64,
        /// The policy's reason.
        reason: String,
    },
    /// An autopay attempt whose outcome was still pending was settled from the provider's event.
    PaymentSettled {
        /// The bill charged.
        bill: BillId,
        /// The client's reference.
        client: String,
        /// The attempt's idempotency key.
        key: String,
        /// The attempt's outcome: `succeeded` or `failed`.
        status: AttemptStatus,
    },
    /// Advice about the practice's settings, or something a person should look at.
    Warning {
        /// The advice.
        message: String,
    },
    /// A run failed; nothing it decided was applied.
    RunFailed {
        /// Which run, as `KIND:DATE`.
        run: String,
        /// Why.
        reason: String,
    },
}

impl EventKind {
    /// The event's name: the `event` field of its JSON, e.g. `bill_created`.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::BillCreated { .. } => "bill_created",
            EventKind::BillOpened { .. } => "bill_opened",
            EventKind::BillVoided { .. } => "bill_voided",
            EventKind::ProductAdded { .. } => "product_added",
            EventKind::SuperbillCreated { .. } => "superbill_created",
            EventKind::DocumentShared { .. } => "document_shared",
            EventKind::ShareSkipped { .. } => "share_skipped",
            EventKind::PaymentSucceeded { .. } => "payment_succeeded",
            EventKind::PaymentFailed { .. } => "payment_failed",
            EventKind::PaymentDisputed { .. } => "payment_disputed",
            EventKind::PaymentRefunded { .. } => "payment_refunded",
            EventKind::AutopaySkipped { .. } => "autopay_skipped",
            EventKind::PaymentSettled { .. } => "payment_settled",
            EventKind::Warning { .. } => "warning",
            EventKind::RunFailed { .. } => "run_failed",
        }
    }
}

/// An event with its time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// What happened.
    pub kind: EventKind,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One event of every kind.
    fn one_of_each() -> Vec<EventKind> {
        let (bill, client, text) = (BillId::new(1), String::from("ana"), String::from("x"));
        vec![
            EventKind::BillCreated { bill, client: client.clone(), status: BillStatus::Open, total: 1, lines: vec![] },
            EventKind::BillOpened { bill, client: client.clone() },
            EventKind::BillVoided { bill, client: client.clone() },
            EventKind::ProductAdded { bill, name: text.clone(), amount: 1 },
            EventKind::SuperbillCreated {
                superbill: SuperbillId::new(1),
                client: client.clone(),
                total: 1,
                paid: 0,
                lines: vec![],
            },
            EventKind::DocumentShared {
                document: 1,
                kind: DocumentKind::Bill,
                client: client.clone(),
                to: text.clone(),
            },
            EventKind::ShareSkipped {
                document: 1,
                kind: DocumentKind::Bill,
                client: client.clone(),
                reason: text.clone(),
            },
            EventKind::PaymentSucceeded { bill, client: client.clone(), amount: 1 },
            EventKind::PaymentFailed { bill, client: client.clone(), amount: 1, reason: text.clone() },
            EventKind::PaymentDisputed { bill, client: client.clone(), amount: 1, status: DisputeStatus::Lost },
            EventKind::PaymentRefunded { bill, client: client.clone(), amount: 1, refunded: 1 },
            EventKind::AutopaySkipped { bill, client: client.clone(), balance: 1, reason: text.clone() },
            EventKind::PaymentSettled { bill, client, key: text.clone(), status: AttemptStatus::Succeeded },
            EventKind::Warning { message: text.clone() },
            EventKind::RunFailed { run: text.clone(), reason: text },
        ]
    }

    #[test]
    fn an_events_name_is_the_event_field_of_its_json() {
        for event in one_of_each() {
            let json = serde_json::to_value(&event).unwrap_or_default();
            assert_eq!(json.get("event").and_then(|name| name.as_str()), Some(event.name()));
        }
    }
}
