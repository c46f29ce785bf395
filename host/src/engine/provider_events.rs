//! The payment provider's news about payments autobill made, applied at most once. Each event
//! is one transaction: its id is recorded (a retried delivery finds it and changes nothing), the
//! payment or attempt its references name is found, and the change is applied with its events in
//! the practice's log. An event about a payment autobill did not make changes nothing.

use super::decide;
use super::{Engine, EngineError};
use crate::domain::{AttemptStatus, EventKind};
use crate::payments::{ProviderEvent, ProviderEventKind};
use chrono::{DateTime, Utc};

/// How many times an event is applied again when its payment changed under it (another delivery
/// about the same payment committed first).
const TRIES: usize = 3;

/// What became of a provider event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProviderEventOutcome {
    /// It changed a payment, an attempt or a bill; its events are in the practice's log.
    Applied,
    /// Its id was recorded before: a retried delivery, which changes nothing.
    Duplicate,
    /// It changes nothing, for this reason (e.g. a payment autobill did not make).
    Ignored(String),
}

impl Engine {
    /// Applies a verified provider event, received at `at`, at most once.
    pub async fn receive_provider_event(
        &self,
        event: &ProviderEvent,
        at: DateTime<Utc>,
    ) -> Result<ProviderEventOutcome, EngineError> {
        for _ in 0..TRIES {
            if let Some(outcome) = self.apply_provider_event(event, at).await? {
                if let ProviderEventOutcome::Ignored(reason) = &outcome {
                    tracing::debug!(event = %event.id, kind = %event.name, "provider event ignored: {reason}");
                }
                return Ok(outcome);
            }
        }
        Err(EngineError::Conflict(format!(
            "payment data changed {TRIES} times while event {} was applied; deliver it again",
            event.id
        )))
    }

    /// One try in one transaction; `None`, with nothing written, when the payment or attempt
    /// changed between reading and writing it.
    async fn apply_provider_event(
        &self,
        event: &ProviderEvent,
        at: DateTime<Utc>,
    ) -> Result<Option<ProviderEventOutcome>, EngineError> {
        let mut tx = self.store.begin().await?;
        if !self.store.record_provider_event(&mut tx, &event.id, &event.name, at).await? {
            return Ok(Some(ProviderEventOutcome::Duplicate));
        }
        let outcome = match &event.kind {
            ProviderEventKind::Disputed { payment, .. } | ProviderEventKind::Refunded { payment, .. } => {
                match self.store.taken_payment(&mut tx, payment).await? {
                    None => {
                        ProviderEventOutcome::Ignored(format!("autobill made no payment with the reference {payment}"))
                    }
                    Some((practice, taken)) => match decide::provider_events::payment_change(&taken, &event.kind) {
                        None => ProviderEventOutcome::Ignored(format!("payment {} already shows this", taken.id)),
                        Some(change) => {
                            if !self.store.apply_payment_change(&mut tx, &taken, &change).await? {
                                return Ok(None);
                            }
                            self.store.record_events(&mut tx, practice, at, &change.events).await?;
                            ProviderEventOutcome::Applied
                        }
                    },
                }
            }
            ProviderEventKind::Charged { payment, attempt_key, outcome } => {
                match self.store.attempt_for_event(&mut tx, attempt_key.as_deref(), payment).await? {
                    None => {
                        ProviderEventOutcome::Ignored(format!("autobill made no charge with the reference {payment}"))
                    }
                    Some((_, charge, status)) if status != AttemptStatus::Pending => {
                        ProviderEventOutcome::Ignored(format!("attempt {} was settled already ({status})", charge.key))
                    }
                    Some((practice, charge, _)) => {
                        let (settlement, events) =
                            decide::autopay::settlement(&charge, outcome, self.max_autopay_attempts);
                        if !self.store.settle_attempt(&mut tx, practice, &charge, &settlement, at).await? {
                            return Ok(None);
                        }
                        let settled = EventKind::PaymentSettled {
                            bill: charge.bill,
                            client: charge.client_reference.clone(),
                            key: charge.key.clone(),
                            status: settlement.status,
                        };
                        let events: Vec<EventKind> = std::iter::once(settled).chain(events).collect();
                        self.store.record_events(&mut tx, practice, at, &events).await?;
                        ProviderEventOutcome::Applied
                    }
                }
            }
            ProviderEventKind::Other(reason) => ProviderEventOutcome::Ignored(reason.clone()),
        };
        tx.commit().await?;
        Ok(Some(outcome))
    }
}
