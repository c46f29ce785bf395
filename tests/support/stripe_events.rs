//! Stripe webhook deliveries as Stripe makes them: event payloads in the shapes of Stripe's
//! documented examples (a Dispute, a Charge, a PaymentIntent under `data.object`), signed with a
//! test endpoint secret the way Stripe signs them (`t=…,v1=HMAC-SHA256(secret, "t.body")`). The
//! signing here is written from Stripe's documentation, apart from the code under test.

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// The test endpoint's signing secret.
pub const SECRET: &str = "whsec_test_3f9a1c7be04d4b1f8e2a";

/// The `Stripe-Signature` header for `body` signed at `timestamp` with `secret`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{timestamp}.{body}").as_bytes());
    format!("t={timestamp},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// An event envelope around `object`, as Stripe delivers it.
fn event(id: &str, kind: &str, object: Value, created: i64) -> String {
    json!({
        "id": id,
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": created,
        "data": { "object": object },
        "livemode": false,
        "pending_webhooks": 1,
        "request": { "id": null, "idempotency_key": null },
        "type": kind,
    })
    .to_string()
}

/// `charge.dispute.created` (or `.closed` when `status` is final) about the PaymentIntent
/// `payment_intent`, disputing `amount`.
pub fn dispute(id: &str, payment_intent: &str, amount: i64, status: &str, created: i64) -> String {
    let closed = matches!(status, "won" | "lost" | "warning_closed" | "prevented");
    let object = json!({
        "id": format!("dp_{id}"),
        "object": "dispute",
        "amount": amount,
        "balance_transactions": [],
        "charge": format!("ch_{payment_intent}"),
        "created": created,
        "currency": "usd",
        "evidence_details": { "due_by": created + 7 * 86_400, "has_evidence": false, "past_due": false, "submission_count": 0 },
        "is_charge_refundable": false,
        "livemode": false,
        "metadata": {},
        "payment_intent": payment_intent,
        "reason": "fraudulent",
        "status": status,
    });
    let kind = if closed { "charge.dispute.closed" } else { "charge.dispute.created" };
    event(id, kind, object, created)
}

/// `charge.refunded` for the charge of `payment_intent`, of `amount`, refunded `amount_refunded`
/// so far.
pub fn refund(id: &str, payment_intent: &str, amount: i64, amount_refunded: i64, created: i64) -> String {
    let object = json!({
        "id": format!("ch_{payment_intent}"),
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": amount_refunded,
        "captured": true,
        "created": created,
        "currency": "usd",
        "disputed": false,
        "livemode": false,
        "metadata": {},
        "paid": true,
        "payment_intent": payment_intent,
        "refunded": amount_refunded == amount,
        "status": "succeeded",
    });
    event(id, "charge.refunded", object, created)
}

/// `payment_intent.succeeded` (`decline` `None`) or `payment_intent.payment_failed` with that
/// decline code, for the PaymentIntent `payment_intent` that carries the attempt key `key` in its
/// metadata.
pub fn intent(id: &str, payment_intent: &str, key: &str, amount: i64, decline: Option<&str>, created: i64) -> String {
    let (kind, status, error) = match decline {
        None => ("payment_intent.succeeded", "succeeded", Value::Null),
        Some(code) => (
            "payment_intent.payment_failed",
            "requires_payment_method",
            json!({
                "type": "card_error",
                "code": "card_declined",
                "decline_code": code,
                "message": "Your card was declined.",
            }),
        ),
    };
    let object = json!({
        "id": payment_intent,
        "object": "payment_intent",
        "amount": amount,
        "amount_received": if decline.is_none() { amount } else { 0 },
        "capture_method": "automatic",
        "confirmation_method": "automatic",
        "created": created,
        "currency": "usd",
        "last_payment_error": error,
        "livemode": false,
        "metadata": { "autobill_attempt": key },
        "off_session": true,
        "payment_method_types": ["card"],
        "status": status,
    });
    event(id, kind, object, created)
}
