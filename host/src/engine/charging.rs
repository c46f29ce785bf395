//! Executing charges. A charge leaves the database, so it cannot share a run's transaction: the
//! autopay run writes its attempt (with its idempotency key) and commits it before the gateway is
//! called, and its outcome is recorded after. Pending attempts are claimed in batches, practices
//! taking turns, and sent concurrently within the engine's cap on calls in flight (and the
//! gateway's rate limit). One that cannot reach the provider stays pending and is sent again,
//! with the same key and card, after a backoff; a restart finds a claimed attempt whose lease
//! passed and sends it again too, so the provider answers with the one charge it made.

use super::decide;
use super::{Engine, EngineError};
use crate::domain::{Charge, PracticeId};
use crate::payments::{ChargeOutcome, ChargeRequest};
use crate::store::payments::ClaimedCharge;
use chrono::{DateTime, Duration, Utc};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The wait before an attempt that could not reach the provider is sent again, after its
/// `tries`-th try: 1, 2, 4, 8, 16, then 30 minutes.
pub fn resend_delay(tries: i64) -> Duration {
    let doublings = u32::try_from(tries.saturating_sub(1).clamp(0, 16)).unwrap_or(16);
    Duration::minutes(1i64.checked_shl(doublings).unwrap_or(i64::MAX).min(30))
}

impl Engine {
    /// Sends every pending charge due by `now` and records each outcome; gives how many were
    /// settled and how many could not reach the provider (sent again later). A charge sent for
    /// the first time is recorded as of its night (the autopay run's time, also when a host
    /// catches up after downtime); one sent again, as of `now`.
    pub(super) async fn charge_due(&self, now: DateTime<Utc>) -> Result<(usize, usize), EngineError> {
        let (settled, deferred) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let lease_until = now + self.lease;
        self.charges
            .run(
                |limit| async move { Ok(self.store.claim_due_charges(&self.host_id, now, lease_until, limit).await?) },
                |claimed| {
                    let (settled, deferred) = (&settled, &deferred);
                    async move {
                        if self.send_charge(&claimed, now).await? {
                            settled.fetch_add(1, Ordering::Relaxed);
                        } else {
                            deferred.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(())
                    }
                },
            )
            .await?;
        Ok((settled.into_inner(), deferred.into_inner()))
    }

    /// Sends one claimed charge and records its outcome; `false` when the provider could not be
    /// reached and the attempt was put back, pending, for a later try with the same key.
    async fn send_charge(&self, claimed: &ClaimedCharge, now: DateTime<Utc>) -> Result<bool, EngineError> {
        let charge = &claimed.charge;
        let request = ChargeRequest {
            idempotency_key: charge.key.clone(),
            card: charge.card.clone(),
            amount: charge.amount,
            currency: claimed.currency,
        };
        let answer = {
            let _turn = self.charges.call().await;
            self.gateway.charge(&request).await
        };
        match answer {
            Ok(outcome) => {
                let at = if claimed.tries <= 1 { charge.night } else { now };
                self.record_outcome(claimed.practice, charge, &outcome, at).await?;
                Ok(true)
            }
            Err(error) => {
                self.defer_charge(claimed, &error.to_string(), now).await?;
                Ok(false)
            }
        }
    }

    /// Puts back a charge that could not reach the provider, due again after the backoff for its
    /// tries; its first deferral tells staff with a warning.
    async fn defer_charge(&self, claimed: &ClaimedCharge, reason: &str, now: DateTime<Utc>) -> Result<(), EngineError> {
        let charge = &claimed.charge;
        let again = now + resend_delay(claimed.tries);
        tracing::warn!(bill = charge.bill.get(), tries = claimed.tries, retry_at = %again, "charge not sent: {reason}");
        let attempt = charge.attempt.ok_or_else(|| {
            crate::store::StoreError::Corrupt(format!("the charge of bill {} was never written", charge.bill))
        })?;
        self.store.defer_charge(attempt, again, reason).await?;
        if claimed.tries == 1 {
            let message = format!(
                "the charge of bill {} for client {} could not reach the payment provider ({reason}); it stays pending and is sent again with the same idempotency key",
                charge.bill, charge.client_reference
            );
            self.warn(claimed.practice, message, now).await?;
        }
        Ok(())
    }

    /// Records a charge's outcome, its payment and its events in one transaction, and lets the
    /// bill's email go; nothing when another host recorded it first.
    async fn record_outcome(
        &self,
        practice: PracticeId,
        charge: &Charge,
        outcome: &ChargeOutcome,
        at: DateTime<Utc>,
    ) -> Result<(), EngineError> {
        let (settlement, events) = decide::autopay::settlement(charge, outcome, self.max_autopay_attempts);
        let mut tx = self.store.begin().await?;
        if self.store.settle_attempt(&mut tx, practice, charge, &settlement, at).await? {
            self.store.record_events(&mut tx, practice, at, &events).await?;
            tx.commit().await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_provider_is_tried_again_after_1_2_4_up_to_30_minutes() {
        let minutes: Vec<i64> = (1..=8).map(|tries| resend_delay(tries).num_minutes()).collect();
        assert_eq!(minutes, [1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(resend_delay(0).num_minutes(), 1);
        assert_eq!(resend_delay(i64::MAX).num_minutes(), 30);
    }
}
