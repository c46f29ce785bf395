//! Keeping charges within a payment account's rate limit.
//!
//! A token bucket ([`governor`]) spaces requests at the account's rate, whichever charge sends
//! them. When the provider still answers 429, the whole account is over its limit, not one
//! request: every sender waits out one shared pause, doubled on each further 429 and reset by the
//! next answer that is not one, and the refused request is sent again with its key.

use super::stripe::Backoff;
use super::{BoxFuture, ChargeOutcome, ChargeRequest, PaymentError, PaymentGateway};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::sync::Mutex;
use tokio::time::Instant;

/// The requests per second a Stripe account is held to when `[stripe] max_requests_per_second`
/// is not given: 25 for a test-mode key (`sk_test_…`, `rk_test_…`), 90 otherwise (Stripe allows
/// about 25 and 100).
pub fn default_rate(secret_key: &str) -> u32 {
    if secret_key.starts_with("sk_test_") || secret_key.starts_with("rk_test_") { 25 } else { 90 }
}

/// A gateway held to a rate: at most `rate` requests a second (none when `None`), and one pause
/// for every sender after a 429.
pub struct Throttled<G> {
    inner: G,
    limiter: Option<DefaultDirectRateLimiter>,
    backoff: Backoff,
    pause: Mutex<Pause>,
}

/// The shared pause after 429s.
#[derive(Default)]
struct Pause {
    /// No request is sent before this instant.
    until: Option<Instant>,
    /// 429s in a row, across all senders.
    strikes: u32,
}

impl<G> Throttled<G> {
    /// `inner` at most `rate` requests a second (`None`: no limit), retrying a 429 as `backoff`
    /// says, with the wait shared by every sender.
    pub fn new(inner: G, rate: Option<NonZeroU32>, backoff: Backoff) -> Self {
        // No burst: requests are spaced evenly, so no one-second window holds more than the rate.
        let limiter = rate.map(|rate| RateLimiter::direct(Quota::per_second(rate).allow_burst(NonZeroU32::MIN)));
        Throttled { inner, limiter, backoff, pause: Mutex::new(Pause::default()) }
    }

    /// The gateway inside.
    pub fn inner(&self) -> &G {
        &self.inner
    }

    fn paused_until(&self) -> Option<Instant> {
        self.pause.lock().map(|pause| pause.until).unwrap_or(None)
    }

    /// Records a 429: every sender pauses for the backoff of the strikes in a row so far.
    fn strike(&self) {
        if let Ok(mut pause) = self.pause.lock() {
            let delay = self.backoff.delay(pause.strikes);
            pause.strikes = pause.strikes.saturating_add(1);
            let until = Instant::now() + delay;
            pause.until = Some(pause.until.map_or(until, |current| current.max(until)));
            tracing::warn!(
                ?delay,
                strikes = pause.strikes,
                "the payment provider is rate limiting; every charge waits"
            );
        }
    }

    fn clear(&self) {
        if let Ok(mut pause) = self.pause.lock() {
            pause.strikes = 0;
        }
    }
}

impl<G: PaymentGateway> Throttled<G> {
    async fn send(&self, request: &ChargeRequest) -> Result<ChargeOutcome, PaymentError> {
        let mut sent = 0;
        loop {
            while let Some(until) = self.paused_until().filter(|until| *until > Instant::now()) {
                tokio::time::sleep_until(until).await;
            }
            if let Some(limiter) = &self.limiter {
                limiter.until_ready().await;
            }
            sent += 1;
            match self.inner.charge(request).await {
                Err(PaymentError::RateLimited(reason)) => {
                    self.strike();
                    if sent >= self.backoff.attempts.max(1) {
                        return Err(PaymentError::RateLimited(reason));
                    }
                }
                answer => {
                    self.clear();
                    return answer;
                }
            }
        }
    }
}

impl<G: PaymentGateway> PaymentGateway for Throttled<G> {
    fn charge<'a>(&'a self, request: &'a ChargeRequest) -> BoxFuture<'a, Result<ChargeOutcome, PaymentError>> {
        Box::pin(self.send(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Currency;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    /// A fake provider that refuses its first `refusals` requests with a 429.
    struct Refusing {
        refusals: u32,
        calls: AtomicU32,
    }

    impl PaymentGateway for Refusing {
        fn charge<'a>(&'a self, request: &'a ChargeRequest) -> BoxFuture<'a, Result<ChargeOutcome, PaymentError>> {
            Box::pin(async move {
                if self.calls.fetch_add(1, Ordering::SeqCst) < self.refusals {
                    return Err(PaymentError::RateLimited("HTTP 429".into()));
                }
                Ok(ChargeOutcome::Succeeded { reference: request.idempotency_key.clone() })
            })
        }
    }

    fn request(key: &str) -> ChargeRequest {
        ChargeRequest { idempotency_key: key.into(), card: "visa".into(), amount: 100, currency: Currency::USD }
    }

    fn backoff(attempts: u32) -> Backoff {
        Backoff { attempts, first_delay: Duration::from_millis(20), max_delay: Duration::from_secs(1) }
    }

    #[test]
    fn test_keys_get_stripes_test_mode_rate() {
        assert_eq!(default_rate("sk_test_abc"), 25);
        assert_eq!(default_rate("rk_test_abc"), 25);
        assert_eq!(default_rate("sk_live_abc"), 90);
    }

    #[tokio::test]
    async fn requests_are_spaced_at_the_rate() {
        let gateway =
            Throttled::new(Refusing { refusals: 0, calls: AtomicU32::new(0) }, NonZeroU32::new(20), backoff(1));
        let started = std::time::Instant::now();
        for n in 0..5 {
            gateway.charge(&request(&format!("k{n}"))).await.expect("charged");
        }
        // The first goes at once, each of the next four 50 ms after the one before.
        assert!(started.elapsed() >= Duration::from_millis(190), "{:?}", started.elapsed());
    }

    #[tokio::test]
    async fn a_429_pauses_every_sender_and_the_same_request_goes_again() {
        let gateway = Throttled::new(Refusing { refusals: 2, calls: AtomicU32::new(0) }, None, backoff(5));
        let started = Instant::now();
        let outcome = gateway.charge(&request("k")).await.expect("an answer after the 429s");
        assert_eq!(outcome, ChargeOutcome::Succeeded { reference: "k".into() });
        assert!(started.elapsed() >= Duration::from_millis(60), "20 ms, then 40 ms: {:?}", started.elapsed());
        assert_eq!(gateway.inner().calls.load(Ordering::SeqCst), 3);

        // Another sender arriving during a pause waits for it too.
        let gateway = Throttled::new(Refusing { refusals: 1, calls: AtomicU32::new(0) }, None, backoff(5));
        let first_request = request("a");
        let (first, second) = tokio::join!(gateway.charge(&first_request), async {
            tokio::task::yield_now().await;
            let at = Instant::now();
            gateway.charge(&request("b")).await.map(|outcome| (outcome, at.elapsed()))
        });
        assert!(first.is_ok());
        let (_, waited) = second.expect("charged");
        assert!(waited >= Duration::from_millis(15), "the second sender waited out the pause: {waited:?}");
    }

    #[tokio::test]
    async fn a_429_that_does_not_clear_is_given_back_as_rate_limited() {
        let gateway = Throttled::new(Refusing { refusals: 10, calls: AtomicU32::new(0) }, None, backoff(3));
        let error = gateway.charge(&request("k")).await.expect_err("still limited");
        assert!(matches!(error, PaymentError::RateLimited(_)), "{error}");
        assert_eq!(gateway.inner().calls.load(Ordering::SeqCst), 3);
    }
}
