//! Charging cards through Stripe with async-stripe (1.0 line).
//!
//! [`StripeGateway`] creates one confirmed, off-session PaymentIntent per [`ChargeRequest`] for
//! the request's amount and currency, on the client's saved card, and sends the request's
//! idempotency key as Stripe's `Idempotency-Key` header and in the PaymentIntent's metadata
//! (`autobill_attempt`, so its webhook events find the attempt). The engine writes that key to
//! the store before calling the gateway, so a restart after a crash sends the same key and Stripe
//! answers with the charge it already made instead of making a second one.
//!
//! Stripe's answer becomes a [`ChargeOutcome`] (see [`mapping`], which is pure and unit-tested):
//! `succeeded` is paid; hard declines (stolen or lost card, do-not-honor, expired…) are not
//! retryable; soft ones (insufficient funds, generic decline, processing error…) are;
//! `authentication_required` and `requires_action` ask for the client on-session. A 429 is waited
//! out with exponential backoff ([`Backoff`]) and the same key; when it does not clear, or the
//! network or Stripe fails, the gateway returns a [`PaymentError`]: the outcome is unknown, the
//! engine leaves the attempt pending and the next run sends the same key again.
//!
//! The secret key lives in a [`SecretKey`], which prints as `sk_***`, and is removed from every
//! error message the gateway builds.
//!
//! The card reference a client has on file is `cus_…/pm_…` (a PaymentMethod attached to a
//! Customer, as Stripe keeps cards saved for off-session use) or a bare `pm_…`; anything else is
//! declined as `invalid_card_reference` without calling Stripe.

pub mod mapping;
pub mod webhook;

use super::{BoxFuture, ChargeOutcome, ChargeRequest, PaymentError, PaymentGateway};
use ::stripe::{ApiErrors, Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use mapping::{CardReference, Classified, ErrorFacts};
use std::fmt;
use std::time::Duration;
use stripe_core::PaymentIntent;
use stripe_core::payment_intent::{CreatePaymentIntent, CreatePaymentIntentOffSession};
use stripe_types::Currency;

/// A Stripe secret key. It is only ever sent to Stripe: `Debug` and `Display` print `sk_***`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(String);

impl SecretKey {
    /// Wraps a secret key (`sk_live_…`, `sk_test_…` or a restricted `rk_…` key).
    pub fn new(key: impl Into<String>) -> Self {
        SecretKey(key.into())
    }

    fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sk_***")
    }
}

impl fmt::Display for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sk_***")
    }
}

/// How rate-limited requests (HTTP 429) are retried: up to `attempts` sends in all, waiting
/// `first_delay`, then twice as long each time, never more than `max_delay`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// Sends in all, the first included (at least 1).
    pub attempts: u32,
    /// The wait after the first 429.
    pub first_delay: Duration,
    /// The longest wait.
    pub max_delay: Duration,
}

impl Default for Backoff {
    /// 5 sends, waiting 200 ms, 400 ms, 800 ms and 1.6 s between them.
    fn default() -> Self {
        Backoff { attempts: 5, first_delay: Duration::from_millis(200), max_delay: Duration::from_secs(10) }
    }
}

impl Backoff {
    /// The wait before retry number `retry` (0 for the first retry).
    pub fn delay(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry).unwrap_or(u32::MAX);
        self.first_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// How to reach Stripe.
#[derive(Clone, Debug)]
pub struct StripeConfig {
    /// The account's secret key.
    pub secret_key: SecretKey,
    /// Another API base URL, e.g. a local Stripe double for tests; `None` is Stripe itself.
    pub api_base: Option<String>,
    /// The longest one HTTP attempt may take; an attempt that times out has an unknown outcome
    /// and is sent again, with its key, by the next run.
    pub timeout: Duration,
    /// How 429 answers are retried.
    pub backoff: Backoff,
}

impl StripeConfig {
    /// Stripe itself with `secret_key`, a 60 s timeout and the default [`Backoff`].
    pub fn new(secret_key: SecretKey) -> Self {
        StripeConfig { secret_key, api_base: None, timeout: Duration::from_secs(60), backoff: Backoff::default() }
    }
}

/// A [`StripeConfig`] that cannot make a client.
#[derive(Debug, thiserror::Error)]
pub enum StripeConfigError {
    /// The API base URL does not parse.
    #[error("the Stripe API base URL `{url}` is not usable: {reason}")]
    ApiBase {
        /// The URL as given.
        url: String,
        /// Why.
        reason: String,
    },
    /// The secret key is empty or holds characters an HTTP header cannot carry.
    #[error("the Stripe secret key (sk_***) is empty or not usable in an HTTP header")]
    SecretKey,
}

/// Charges cards with confirmed off-session PaymentIntents (see the module docs).
pub struct StripeGateway {
    client: Client,
    secret: SecretKey,
    api_base: Option<String>,
    backoff: Backoff,
}

impl fmt::Debug for StripeGateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripeGateway")
            .field("secret_key", &self.secret)
            .field("api_base", &self.api_base)
            .field("backoff", &self.backoff)
            .finish()
    }
}

impl StripeGateway {
    /// A gateway for `config`.
    pub fn new(config: StripeConfig) -> Result<Self, StripeConfigError> {
        let key = config.secret_key.expose();
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(StripeConfigError::SecretKey);
        }
        let mut builder = ClientBuilder::new(key).timeout(config.timeout);
        let api_base = config.api_base.map(|url| if url.ends_with('/') { url } else { format!("{url}/") });
        if let Some(url) = &api_base {
            builder = builder.url(url.clone());
        }
        let client = builder.build().map_err(|error| match error {
            StripeError::ConfigError(reason) => StripeConfigError::ApiBase {
                url: api_base.clone().unwrap_or_default(),
                reason: mapping::redact(&reason, key),
            },
            _ => StripeConfigError::SecretKey,
        })?;
        Ok(StripeGateway { client, secret: config.secret_key, api_base, backoff: config.backoff })
    }

    async fn charge_card(&self, request: &ChargeRequest) -> Result<ChargeOutcome, PaymentError> {
        let Some(card) = CardReference::parse(&request.card) else {
            return Ok(ChargeOutcome::Declined { code: "invalid_card_reference".into(), retryable: false });
        };
        if request.amount <= 0 {
            return Err(PaymentError(format!("cannot charge a non-positive amount ({})", request.amount)));
        }
        let key = IdempotencyKey::new(&request.idempotency_key)
            .map_err(|error| PaymentError(format!("idempotency key `{}`: {error}", request.idempotency_key)))?;
        let currency: Currency =
            request.currency.code().to_ascii_lowercase().parse().unwrap_or_else(|never| match never {});
        let mut create = CreatePaymentIntent::new(request.amount, currency)
            .confirm(true)
            .off_session(CreatePaymentIntentOffSession::Bool(true))
            .payment_method(card.payment_method)
            .metadata([(webhook::ATTEMPT_METADATA_KEY.to_string(), request.idempotency_key.clone())]);
        if let Some(customer) = card.customer {
            create = create.customer(customer);
        }
        let attempts = self.backoff.attempts.max(1);
        let mut sent = 0;
        loop {
            sent += 1;
            let answer =
                create.customize().request_strategy(RequestStrategy::Idempotent(key.clone())).send(&self.client).await;
            let failure = match answer {
                Ok(intent) => return self.intent_outcome(&intent),
                Err(StripeError::Stripe(error, status)) => match mapping::classify_error(&facts(&error, status)) {
                    Classified::Outcome(outcome) => return Ok(outcome),
                    Classified::Failed(reason) => return Err(self.error(reason)),
                    Classified::RateLimited => format!("Stripe answered HTTP {status} (rate limited)"),
                },
                Err(StripeError::JSONDeserialize(reason)) => {
                    return Err(self.error(format!("Stripe's answer could not be read: {reason}")));
                }
                Err(StripeError::Timeout) => return Err(self.error("Stripe did not answer in time".into())),
                Err(error) => return Err(self.error(format!("could not reach Stripe: {error}"))),
            };
            if sent >= attempts {
                return Err(self.error(format!("{failure} {sent} times; giving up for now")));
            }
            let delay = self.backoff.delay(sent - 1);
            tracing::warn!(key = %request.idempotency_key, sent, ?delay, "{failure}; backing off");
            tokio::time::sleep(delay).await;
        }
    }

    fn intent_outcome(&self, intent: &PaymentIntent) -> Result<ChargeOutcome, PaymentError> {
        let last = intent.last_payment_error.as_deref().map(|error| facts(error, 402));
        mapping::classify_intent(intent.id.as_str(), intent.status.as_str(), last.as_ref())
            .map_err(|reason| self.error(reason))
    }

    fn error(&self, reason: String) -> PaymentError {
        PaymentError(mapping::redact(&reason, self.secret.expose()))
    }
}

/// The deciding parts of a Stripe error.
fn facts(error: &ApiErrors, status: u16) -> ErrorFacts<'_> {
    ErrorFacts {
        status,
        kind: error.type_.as_str(),
        code: error.code.as_ref().map(|code| code.as_str()),
        decline_code: error.decline_code.as_deref(),
        advice_code: error.advice_code.as_deref(),
        message: error.message.as_deref(),
    }
}

impl PaymentGateway for StripeGateway {
    fn charge<'a>(&'a self, request: &'a ChargeRequest) -> BoxFuture<'a, Result<ChargeOutcome, PaymentError>> {
        Box::pin(self.charge_card(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_key_never_prints() {
        let key = SecretKey::new("sk_test_supersecret");
        assert_eq!(format!("{key}"), "sk_***");
        assert_eq!(format!("{key:?}"), "sk_***");
        let config = StripeConfig::new(key.clone());
        assert!(!format!("{config:?}").contains("supersecret"));
        let gateway = StripeGateway::new(config).expect("a gateway");
        assert!(!format!("{gateway:?}").contains("supersecret"));
        assert_eq!(gateway.error("echo sk_test_supersecret".into()).to_string(), "payment provider error: echo sk_***");
    }

    #[test]
    fn unusable_configuration_is_refused_without_the_key() {
        let error = StripeGateway::new(StripeConfig::new(SecretKey::new("sk_test_a b"))).expect_err("a space");
        assert!(!error.to_string().contains("sk_test_a"), "{error}");
        let mut config = StripeConfig::new(SecretKey::new("sk_test_secret"));
        config.api_base = Some("not a url".into());
        let error = StripeGateway::new(config).expect_err("a bad URL");
        assert!(matches!(error, StripeConfigError::ApiBase { .. }), "{error}");
        assert!(!error.to_string().contains("sk_test_secret"), "{error}");
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let backoff = Backoff::default();
        let delays: Vec<u128> = (0..8).map(|n| backoff.delay(n).as_millis()).collect();
        assert_eq!(delays, [200, 400, 800, 1600, 3200, 6400, 10_000, 10_000]);
        assert_eq!(backoff.delay(40), Duration::from_secs(10));
    }

    #[tokio::test]
    async fn a_reference_that_is_not_a_stripe_card_is_declined_without_a_call() {
        let mut config = StripeConfig::new(SecretKey::new("sk_test_x"));
        config.api_base = Some("http://127.0.0.1:9".into());
        let gateway = StripeGateway::new(config).expect("a gateway");
        let request = ChargeRequest {
            idempotency_key: "k".into(),
            card: "visa".into(),
            amount: 100,
            currency: crate::domain::Currency::USD,
        };
        let outcome = gateway.charge(&request).await.expect("no call is made");
        assert_eq!(outcome, ChargeOutcome::Declined { code: "invalid_card_reference".into(), retryable: false });
    }
}
