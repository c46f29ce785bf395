//! A payment as the payment provider's later events change it: disputes and refunds.

use super::{BillId, BillStatus, ClientId, DisputeStatus, EventKind, PaymentId};

/// A payment autopay took, with what has happened to it since, and its bill.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TakenPayment {
    /// The payment.
    pub id: PaymentId,
    /// The bill it paid.
    pub bill: BillId,
    /// The bill's client.
    pub client: ClientId,
    /// The client's reference, for events.
    pub client_reference: String,
    /// The amount taken, in minor units.
    pub amount: i64,
    /// Refunded of it so far, in minor units.
    pub refunded: i64,
    /// Where a dispute of it stands, if the client disputed it.
    pub dispute: Option<DisputeStatus>,
    /// The amount disputed, in minor units (0 without a dispute).
    pub disputed_amount: i64,
    /// The bill's status.
    pub bill_status: BillStatus,
    /// The bill's paid amount, in minor units.
    pub bill_paid: i64,
}

/// What a provider event changes on a payment, its bill and its client, in one transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentChange {
    /// The payment.
    pub payment: PaymentId,
    /// Its bill.
    pub bill: BillId,
    /// The bill's client.
    pub client: ClientId,
    /// The payment's dispute status from now on.
    pub dispute: Option<DisputeStatus>,
    /// The payment's disputed amount from now on.
    pub disputed_amount: i64,
    /// The payment's refunded amount from now on.
    pub refunded: i64,
    /// How much the bill's paid amount (and its lines', last line first) drops.
    pub paid_back: i64,
    /// The bill's status from now on.
    pub bill_status: BillStatus,
    /// The reason the client's autopay pauses, when it does.
    pub pause: Option<String>,
    /// The events that tell it.
    pub events: Vec<EventKind>,
}
