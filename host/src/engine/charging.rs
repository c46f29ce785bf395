//! Executing charges. A charge leaves the database, so it cannot share a run's transaction: its
//! attempt is written (with its idempotency key) and committed before the gateway is called, and
//! its outcome is recorded after. A restart finds the attempt still pending and sends the same key
//! again, so the provider answers with the one charge it made.

use super::decide;
use super::{Engine, EngineError};
use crate::domain::{Charge, Practice};
use crate::payments::{ChargeOutcome, ChargeRequest};
use chrono::{DateTime, Utc};

impl Engine {
    /// Sends each charge and records its outcome as of `at`, the autopay run's time; gives, for
    /// people, the charges that could not reach the provider (they stay pending, to be sent again
    /// with the same key).
    pub(super) async fn charge_all(
        &self,
        practice: &Practice,
        charges: &[Charge],
        at: DateTime<Utc>,
    ) -> Result<Vec<String>, EngineError> {
        let mut unreachable = vec![];
        for charge in charges {
            let request = ChargeRequest {
                idempotency_key: charge.key.clone(),
                card: charge.card.clone(),
                amount: charge.amount,
                currency: practice.currency,
            };
            match self.gateway.charge(&request).await {
                Ok(outcome) => self.record_outcome(practice, charge, &outcome, at).await?,
                Err(error) => unreachable.push(format!("bill {}: {error}", charge.bill)),
            }
        }
        Ok(unreachable)
    }

    /// Records a charge's outcome, its payment and its events in one transaction; nothing when
    /// another host recorded it first.
    async fn record_outcome(
        &self,
        practice: &Practice,
        charge: &Charge,
        outcome: &ChargeOutcome,
        at: DateTime<Utc>,
    ) -> Result<(), EngineError> {
        let (settlement, events) = decide::autopay::settlement(charge, outcome, self.max_autopay_attempts);
        let mut tx = self.store.begin().await?;
        if self.store.settle_attempt(&mut tx, practice.id, charge, &settlement, at).await? {
            self.store.record_events(&mut tx, practice.id, at, &events).await?;
            tx.commit().await?;
        }
        Ok(())
    }
}
