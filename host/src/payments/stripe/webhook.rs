//! Stripe's webhook deliveries: checking that a delivery really comes from Stripe and is fresh,
//! then reading the few fields autobill acts on into a [`ProviderEvent`].
//!
//! Stripe signs each delivery with the endpoint's signing secret (`whsec_…`): the
//! `Stripe-Signature` header reads `t=TIMESTAMP,v1=SIGNATURE[,v1=…]`, each `v1` the hex
//! HMAC-SHA256 of `TIMESTAMP.BODY`. While a secret is being rolled, Stripe signs with the old and
//! the new one, so any `v1` that matches is enough. Signatures are compared in constant time
//! ([`Mac::verify_slice`]), and a timestamp further than the tolerance (5 minutes by default) from
//! the injected clock's "now" is refused, so a captured delivery cannot be replayed later.
//!
//! async-stripe's own webhook crate is not used: it keeps only the last `v1` of the header (a
//! delivery signed during a secret's rotation can fail), its tolerance is fixed at 300 seconds,
//! `construct_event` reads the system clock, and it parses every event into the full typed
//! objects of the API areas it is built with. Here only the fields used are read.
//!
//! The events read: `charge.dispute.created` and `charge.dispute.closed` (a Dispute object),
//! `charge.refunded` (a Charge), `payment_intent.succeeded` and `payment_intent.payment_failed`
//! (a PaymentIntent). Disputes and charges name their PaymentIntent (`payment_intent: "pi_…"`),
//! which is the reference autobill stores on each payment and attempt. Any other event is
//! [`ProviderEventKind::Other`].

use super::mapping::{self, ErrorFacts};
use crate::domain::DisputeStatus;
use crate::payments::{ChargeOutcome, ProviderEvent, ProviderEventKind};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

/// The metadata key of a PaymentIntent that carries the attempt's idempotency key, so its
/// events find the attempt even when the answer to the charge never came back.
pub const ATTEMPT_METADATA_KEY: &str = "autobill_attempt";

/// Stripe's default tolerance for a signature's timestamp.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// Why a delivery is refused. Each refusal changes nothing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// No `Stripe-Signature` header, one that does not read `t=…,v1=…`, or no `v1` that matches.
    #[error("{0}")]
    BadSignature(String),
    /// A good signature whose timestamp is outside the tolerance.
    #[error(
        "the signature's timestamp is {seconds} s away from this server's time, beyond the {tolerance} s tolerance; a delivery is taken only while fresh (check this server's clock; Stripe retries with a new signature)"
    )]
    Stale {
        /// How far the timestamp is from now, in seconds.
        seconds: i64,
        /// The tolerance, in seconds.
        tolerance: u64,
    },
    /// A signed body that is not a Stripe event.
    #[error("the body is not a Stripe event ({0}); send Stripe's event JSON exactly as it was signed")]
    Unreadable(String),
}

/// Checks Stripe's signatures with an endpoint's signing secret. `Debug` hides the secret.
#[derive(Clone)]
pub struct WebhookVerifier {
    secret: String,
    tolerance: Duration,
}

impl fmt::Debug for WebhookVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookVerifier").field("secret", &"whsec_***").field("tolerance", &self.tolerance).finish()
    }
}

impl WebhookVerifier {
    /// A verifier for the endpoint signing secret `secret`, taking timestamps at most
    /// `tolerance` away from now.
    pub fn new(secret: impl Into<String>, tolerance: Duration) -> Self {
        WebhookVerifier { secret: secret.into(), tolerance }
    }

    /// Checks `body` against the `Stripe-Signature` header as of `now`, then reads the event.
    pub fn verify(&self, body: &[u8], header: Option<&str>, now: DateTime<Utc>) -> Result<ProviderEvent, WebhookError> {
        let header = header.ok_or_else(|| {
            WebhookError::BadSignature(
                "the request has no Stripe-Signature header; only deliveries signed by a Stripe webhook endpoint are taken".into(),
            )
        })?;
        let (timestamp, signatures) = parse_header(header)?;
        let mut mac = Hmac::<Sha256>::new_from_slice(self.secret.as_bytes())
            .map_err(|_| WebhookError::BadSignature("the signing secret cannot key an HMAC".into()))?;
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        let signed = signatures.iter().any(|signature| mac.clone().verify_slice(signature).is_ok());
        if !signed {
            return Err(WebhookError::BadSignature(
                "no v1 signature matches this endpoint's signing secret; set stripe.webhook_secret (or AUTOBILL_STRIPE_WEBHOOK_SECRET) to the whsec_ secret of the endpoint that sends here".into(),
            ));
        }
        let seconds = now.timestamp().saturating_sub(timestamp).saturating_abs();
        if u64::try_from(seconds).unwrap_or(u64::MAX) > self.tolerance.as_secs() {
            return Err(WebhookError::Stale { seconds, tolerance: self.tolerance.as_secs() });
        }
        read_event(body)
    }
}

/// The header's timestamp and its `v1` signatures, decoded. Other schemes (`v0`) are skipped.
fn parse_header(header: &str) -> Result<(i64, Vec<Vec<u8>>), WebhookError> {
    let malformed = || {
        WebhookError::BadSignature(
            "the Stripe-Signature header does not read t=TIMESTAMP,v1=SIGNATURE; send it as Stripe does".into(),
        )
    };
    let mut timestamp = None;
    let mut signatures = vec![];
    for part in header.split(',') {
        let (key, value) = part.trim().split_once('=').ok_or_else(malformed)?;
        match key {
            "t" => timestamp = Some(value.parse::<i64>().map_err(|_| malformed())?),
            "v1" => {
                if let Ok(bytes) = hex::decode(value) {
                    signatures.push(bytes);
                }
            }
            _ => {}
        }
    }
    match timestamp {
        Some(timestamp) if !signatures.is_empty() => Ok((timestamp, signatures)),
        _ => Err(malformed()),
    }
}

/// The parts of an event autobill reads.
#[derive(Deserialize)]
struct Envelope {
    id: String,
    #[serde(rename = "type")]
    name: String,
    data: Data,
}

#[derive(Deserialize)]
struct Data {
    object: serde_json::Value,
}

/// A Dispute object's fields used.
#[derive(Deserialize)]
struct Dispute {
    amount: i64,
    payment_intent: Option<String>,
    status: String,
}

/// A Charge object's fields used.
#[derive(Deserialize)]
struct Charge {
    amount_refunded: i64,
    payment_intent: Option<String>,
}

/// A PaymentIntent object's fields used.
#[derive(Deserialize)]
struct Intent {
    id: String,
    status: String,
    #[serde(default)]
    metadata: HashMap<String, String>,
    last_payment_error: Option<IntentError>,
}

/// A PaymentIntent's `last_payment_error`.
#[derive(Deserialize)]
struct IntentError {
    #[serde(rename = "type", default)]
    kind: String,
    code: Option<String>,
    decline_code: Option<String>,
    advice_code: Option<String>,
    message: Option<String>,
}

/// Reads a verified body into an event.
fn read_event(body: &[u8]) -> Result<ProviderEvent, WebhookError> {
    let unreadable = |error: serde_json::Error| WebhookError::Unreadable(error.to_string());
    let envelope: Envelope = serde_json::from_slice(body).map_err(unreadable)?;
    let object = envelope.data.object;
    let not_ours = |what: &str| ProviderEventKind::Other(format!("the {what} was not made through a PaymentIntent"));
    let kind = match envelope.name.as_str() {
        "charge.dispute.created" | "charge.dispute.closed" => {
            let dispute: Dispute = serde_json::from_value(object).map_err(unreadable)?;
            let created = envelope.name == "charge.dispute.created";
            match (dispute.payment_intent, dispute.status.parse::<DisputeStatus>()) {
                (None, _) => not_ours("disputed charge"),
                (Some(payment), Ok(status)) => ProviderEventKind::Disputed { payment, amount: dispute.amount, status },
                // A status Stripe added later: a new dispute still stops autopay.
                (Some(payment), Err(_)) if created => ProviderEventKind::Disputed {
                    payment,
                    amount: dispute.amount,
                    status: DisputeStatus::NeedsResponse,
                },
                (Some(_), Err(_)) => ProviderEventKind::Other(format!("unknown dispute status `{}`", dispute.status)),
            }
        }
        "charge.refunded" => {
            let charge: Charge = serde_json::from_value(object).map_err(unreadable)?;
            match charge.payment_intent {
                Some(payment) => ProviderEventKind::Refunded { payment, amount_refunded: charge.amount_refunded },
                None => not_ours("refunded charge"),
            }
        }
        "payment_intent.succeeded" | "payment_intent.payment_failed" => {
            let intent: Intent = serde_json::from_value(object).map_err(unreadable)?;
            let outcome = intent_outcome(&intent);
            ProviderEventKind::Charged {
                attempt_key: intent.metadata.get(ATTEMPT_METADATA_KEY).cloned(),
                payment: intent.id,
                outcome,
            }
        }
        other => ProviderEventKind::Other(format!("autobill does not act on `{other}` events")),
    };
    Ok(ProviderEvent { id: envelope.id, name: envelope.name, kind })
}

/// The outcome a PaymentIntent event reports, by the same rules as a charge's answer; a failure
/// without a reason Stripe names counts as a soft decline.
fn intent_outcome(intent: &Intent) -> ChargeOutcome {
    let error = intent.last_payment_error.as_ref().map(|error| ErrorFacts {
        status: 402,
        kind: &error.kind,
        code: error.code.as_deref(),
        decline_code: error.decline_code.as_deref(),
        advice_code: error.advice_code.as_deref(),
        message: error.message.as_deref(),
    });
    let status = if intent.status == "succeeded" { "succeeded" } else { "requires_payment_method" };
    mapping::classify_intent(&intent.id, status, error.as_ref())
        .unwrap_or(ChargeOutcome::Declined { code: "card_declined".into(), retryable: true })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default()
    }

    fn sign(secret: &str, timestamp: i64, body: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("a key");
        mac.update(format!("{timestamp}.{body}").as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    fn verifier() -> WebhookVerifier {
        WebhookVerifier::new(SECRET, DEFAULT_TOLERANCE)
    }

    const REFUND: &str = r#"{"id":"evt_1","object":"event","type":"charge.refunded","data":{"object":{"id":"ch_1","object":"charge","amount":15000,"amount_refunded":5000,"payment_intent":"pi_1","refunded":false}}}"#;

    #[test]
    fn a_good_signature_gives_the_event() {
        let t = now().timestamp();
        let header = format!("t={t},v1={}", sign(SECRET, t, REFUND));
        let event = verifier().verify(REFUND.as_bytes(), Some(&header), now()).expect("verified");
        assert_eq!(event.id, "evt_1");
        assert_eq!(event.kind, ProviderEventKind::Refunded { payment: "pi_1".into(), amount_refunded: 5000 });
    }

    #[test]
    fn any_v1_signature_may_match_during_a_secret_rotation() {
        let t = now().timestamp();
        let header = format!("t={t},v1={},v1={},v0=abc", sign("whsec_old", t, REFUND), sign(SECRET, t, REFUND));
        assert!(verifier().verify(REFUND.as_bytes(), Some(&header), now()).is_ok());
        let header = format!("t={t},v1={},v1={}", sign(SECRET, t, REFUND), sign("whsec_old", t, REFUND));
        assert!(verifier().verify(REFUND.as_bytes(), Some(&header), now()).is_ok());
    }

    #[test]
    fn unsigned_wrongly_signed_or_altered_deliveries_are_refused() {
        let t = now().timestamp();
        let bad = |header: Option<&str>, body: &str| {
            matches!(verifier().verify(body.as_bytes(), header, now()), Err(WebhookError::BadSignature(_)))
        };
        assert!(bad(None, REFUND));
        assert!(bad(Some("garbage"), REFUND));
        assert!(bad(Some(&format!("t={t}")), REFUND));
        assert!(bad(Some(&format!("t={t},v1=zz")), REFUND));
        assert!(bad(Some(&format!("t={t},v1={}", sign("whsec_other", t, REFUND))), REFUND));
        let altered = REFUND.replace("5000", "15000");
        assert!(bad(Some(&format!("t={t},v1={}", sign(SECRET, t, REFUND))), &altered));
        let later = t + 1;
        assert!(bad(Some(&format!("t={later},v1={}", sign(SECRET, t, REFUND))), REFUND), "the timestamp is signed");
    }

    #[test]
    fn a_timestamp_outside_the_tolerance_is_stale_either_way() {
        for t in [now().timestamp() - 301, now().timestamp() + 301] {
            let header = format!("t={t},v1={}", sign(SECRET, t, REFUND));
            let answer = verifier().verify(REFUND.as_bytes(), Some(&header), now());
            assert!(matches!(answer, Err(WebhookError::Stale { seconds: 301, tolerance: 300 })), "{answer:?}");
        }
        let t = now().timestamp() - 300;
        let header = format!("t={t},v1={}", sign(SECRET, t, REFUND));
        assert!(verifier().verify(REFUND.as_bytes(), Some(&header), now()).is_ok(), "300 s is still fresh");
    }

    #[test]
    fn a_signed_body_that_is_not_an_event_is_unreadable() {
        let t = now().timestamp();
        let body = r#"{"hello":"world"}"#;
        let header = format!("t={t},v1={}", sign(SECRET, t, body));
        assert!(matches!(verifier().verify(body.as_bytes(), Some(&header), now()), Err(WebhookError::Unreadable(_))));
    }

    #[test]
    fn events_are_read_from_stripes_shapes() {
        let dispute = r#"{"id":"evt_2","type":"charge.dispute.closed","data":{"object":{"id":"dp_1","object":"dispute","amount":15000,"charge":"ch_1","currency":"usd","payment_intent":"pi_1","reason":"fraudulent","status":"lost"}}}"#;
        assert_eq!(
            read_event(dispute.as_bytes()).map(|event| event.kind),
            Ok(ProviderEventKind::Disputed { payment: "pi_1".into(), amount: 15000, status: DisputeStatus::Lost })
        );
        let failed = r#"{"id":"evt_3","type":"payment_intent.payment_failed","data":{"object":{"id":"pi_2","object":"payment_intent","amount":15000,"status":"requires_payment_method","metadata":{"autobill_attempt":"autobill-bill-4-attempt-1"},"last_payment_error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"Your card has insufficient funds."}}}}"#;
        assert_eq!(
            read_event(failed.as_bytes()).map(|event| event.kind),
            Ok(ProviderEventKind::Charged {
                payment: "pi_2".into(),
                attempt_key: Some("autobill-bill-4-attempt-1".into()),
                outcome: ChargeOutcome::Declined { code: "insufficient_funds".into(), retryable: true },
            })
        );
        let succeeded = r#"{"id":"evt_4","type":"payment_intent.succeeded","data":{"object":{"id":"pi_3","status":"succeeded","metadata":{},"last_payment_error":null}}}"#;
        assert_eq!(
            read_event(succeeded.as_bytes()).map(|event| event.kind),
            Ok(ProviderEventKind::Charged {
                payment: "pi_3".into(),
                attempt_key: None,
                outcome: ChargeOutcome::Succeeded { reference: "pi_3".into() },
            })
        );
        let other = r#"{"id":"evt_5","type":"customer.created","data":{"object":{"id":"cus_1"}}}"#;
        assert!(matches!(read_event(other.as_bytes()).map(|event| event.kind), Ok(ProviderEventKind::Other(_))));
    }

    #[test]
    fn a_new_dispute_with_a_status_stripe_added_later_still_counts_as_a_dispute() {
        let dispute = |kind: &str| {
            format!(
                r#"{{"id":"evt_6","type":"{kind}","data":{{"object":{{"id":"dp_2","amount":900,"payment_intent":"pi_9","status":"escalated"}}}}}}"#
            )
        };
        assert_eq!(
            read_event(dispute("charge.dispute.created").as_bytes()).map(|event| event.kind),
            Ok(ProviderEventKind::Disputed {
                payment: "pi_9".into(),
                amount: 900,
                status: DisputeStatus::NeedsResponse
            })
        );
        let closed = read_event(dispute("charge.dispute.closed").as_bytes()).map(|event| event.kind);
        assert!(matches!(closed, Ok(ProviderEventKind::Other(_))), "an end autobill cannot read changes nothing");
    }

    #[test]
    fn the_secret_never_prints() {
        assert!(!format!("{:?}", verifier()).contains("test_secret"));
    }
}
