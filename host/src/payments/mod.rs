//! Taking payments. The engine charges through [`PaymentGateway`]; [`SandboxGateway`] is the
//! embedded default, with deterministic outcomes per card reference, for demos and simulations,
//! and [`stripe::StripeGateway`] charges real cards through Stripe. What the provider learns
//! afterwards (disputes, refunds, late outcomes) comes back as [`ProviderEvent`]s, read from
//! Stripe's signed webhook deliveries by [`stripe::webhook`].

pub mod stripe;

use crate::domain::{Currency, DisputeStatus};
use std::future::Future;
use std::pin::Pin;

/// A boxed future, so gateways can be chosen at run time.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One off-session charge of a client's default card.
#[derive(Clone, Debug)]
pub struct ChargeRequest {
    /// Written to the store before the call; the same key always means the same charge.
    pub idempotency_key: String,
    /// The card's reference at the provider.
    pub card: String,
    /// Amount in minor units.
    pub amount: i64,
    /// The currency, whose minor units `amount` counts.
    pub currency: Currency,
}

/// How a charge ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChargeOutcome {
    /// The money was taken.
    Succeeded {
        /// The provider's reference for the payment.
        reference: String,
    },
    /// The card was declined.
    Declined {
        /// The provider's decline code, e.g. `insufficient_funds`.
        code: String,
        /// Whether trying again another night may succeed.
        retryable: bool,
    },
    /// The bank wants the client present; off-session charges cannot succeed.
    AuthenticationRequired,
}

/// Something the payment provider tells about a payment after the fact, with the provider's id
/// for the event (the same id on every delivery of it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderEvent {
    /// The provider's event id, e.g. `evt_…`.
    pub id: String,
    /// The provider's name for the kind of event, e.g. `charge.refunded`.
    pub name: String,
    /// What it says.
    pub kind: ProviderEventKind,
}

/// What a provider event says, about the payment with the provider's reference `payment`
/// (`pi_…` on Stripe, as payments and attempts store it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProviderEventKind {
    /// The client disputed the payment with their bank, or the dispute moved on.
    Disputed {
        /// The payment's reference.
        payment: String,
        /// The disputed amount in minor units.
        amount: i64,
        /// Where the dispute stands.
        status: DisputeStatus,
    },
    /// The payment was refunded, in full or in part.
    Refunded {
        /// The payment's reference.
        payment: String,
        /// Refunded of the payment in all so far, in minor units.
        amount_refunded: i64,
    },
    /// A charge reached its outcome.
    Charged {
        /// The payment's reference.
        payment: String,
        /// The idempotency key of the attempt that made it, when the charge carried it.
        attempt_key: Option<String>,
        /// The outcome.
        outcome: ChargeOutcome,
    },
    /// Nothing autobill acts on, with the reason, for the log.
    Other(String),
}

/// A failure to reach the provider or to understand it (not a decline).
#[derive(Debug, thiserror::Error)]
#[error("payment provider error: {0}")]
pub struct PaymentError(pub String);

/// Charges cards.
pub trait PaymentGateway: Send + Sync {
    /// Charges a card off-session. Must be idempotent on `request.idempotency_key`.
    fn charge<'a>(&'a self, request: &'a ChargeRequest) -> BoxFuture<'a, Result<ChargeOutcome, PaymentError>>;
}

/// A sandbox gateway that charges nobody: the outcome depends only on the card reference.
/// `declined`, `insufficient_funds` and `authentication_required` fail as named; any other
/// reference (e.g. `visa`) succeeds.
#[derive(Clone, Debug, Default)]
pub struct SandboxGateway;

impl PaymentGateway for SandboxGateway {
    fn charge<'a>(&'a self, request: &'a ChargeRequest) -> BoxFuture<'a, Result<ChargeOutcome, PaymentError>> {
        Box::pin(async move {
            Ok(match request.card.as_str() {
                "declined" => ChargeOutcome::Declined { code: "card_declined".into(), retryable: false },
                "insufficient_funds" => ChargeOutcome::Declined { code: "insufficient_funds".into(), retryable: true },
                "authentication_required" => ChargeOutcome::AuthenticationRequired,
                _ => ChargeOutcome::Succeeded { reference: format!("sandbox_{}", request.idempotency_key) },
            })
        })
    }
}
