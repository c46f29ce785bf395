//! The nightly autopay run. A charge leaves the database, so it cannot share the run's
//! transaction: each attempt is written (with its idempotency key) and committed before the
//! gateway is called, and its outcome is recorded after. A restart finds the attempt still
//! pending and sends the same key again, so the provider answers with the one charge it made.

use super::events::{self, EventKind};
use super::{ClaimedRun, Engine, EngineError};
use crate::payments::{ChargeOutcome, ChargeRequest};
use crate::store::{self, Practice};
use chrono::{DateTime, Utc};
use sqlx::Row;

/// An attempt written before the gateway is called.
struct Attempt {
    id: i64,
    bill: i64,
    client: String,
    key: String,
    amount: i64,
    card: String,
    number: i64,
}

impl Engine {
    /// Charges the open bills of clients with autopay on and a card on file, once a night each.
    pub(super) async fn autopay_run(
        &self,
        run: &ClaimedRun,
        practice: &Practice,
        _now: DateTime<Utc>,
    ) -> Result<(), EngineError> {
        let bills = sqlx::query(
            "SELECT b.id, b.total - b.paid, c.card, c.reference FROM bills b JOIN clients c ON c.id = b.client_id
             WHERE b.practice_id = $1 AND b.status = 'open' AND b.total > b.paid AND c.autopay = 1 AND c.autopay_paused IS NULL AND c.card IS NOT NULL AND b.created_at <= $2
             ORDER BY b.id",
        )
        .bind(practice.id)
        .bind(store::seconds(run.at))
        .fetch_all(self.store.pool())
        .await?;
        let mut unreachable = vec![];
        for row in bills {
            let (bill, balance, card, client): (i64, i64, String, String) =
                (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?);
            let Some(attempt) = self.prepare_attempt(run, bill, balance, card, client).await? else { continue };
            let request = ChargeRequest {
                idempotency_key: attempt.key.clone(),
                card: attempt.card.clone(),
                amount: attempt.amount,
                currency: practice.currency.clone(),
            };
            match self.gateway.charge(&request).await {
                Ok(outcome) => self.record_outcome(run, practice, &attempt, outcome).await?,
                // The attempt stays pending: the next run sends it again with the same key, so
                // the provider answers with the one charge it may already have made.
                Err(error) => unreachable.push(format!("bill {}: {error}", attempt.bill)),
            }
        }
        if !unreachable.is_empty() {
            return Err(EngineError::Invalid(format!(
                "{} charge(s) could not reach the payment provider and are sent again, with the same idempotency keys, on the next autopay run: {}",
                unreachable.len(),
                unreachable.join("; ")
            )));
        }
        let mut tx = self.store.begin().await?;
        self.finish_run(&mut tx, run).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The attempt to send for a bill tonight: one left pending by a crash, a new one, or none
    /// when tonight's attempt already has its outcome.
    async fn prepare_attempt(
        &self,
        run: &ClaimedRun,
        bill: i64,
        balance: i64,
        card: String,
        client: String,
    ) -> Result<Option<Attempt>, EngineError> {
        let mut tx = self.store.begin().await?;
        let rows = sqlx::query("SELECT id, attempt, idempotency_key, amount, status, created_at, retryable, card FROM payment_attempts WHERE bill_id = $1 ORDER BY attempt")
            .bind(bill)
            .fetch_all(&mut *tx)
            .await?;
        let mut last = 0;
        for row in &rows {
            let (id, number, key, amount, status, created_at): (i64, i64, String, i64, String, i64) =
                (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?, row.try_get(4)?, row.try_get(5)?);
            if status == "pending" {
                // Resent exactly as first sent: the same key with another card would be refused.
                let sent_card: String = row.try_get(7)?;
                let card = if sent_card.is_empty() { card } else { sent_card };
                return Ok(Some(Attempt { id, bill, client, key, amount, card, number }));
            }
            let retryable = row.try_get::<i64, _>(6)? != 0;
            if created_at == store::seconds(run.at) || (status == "failed" && !retryable) {
                return Ok(None); // tried tonight already, or a decline that retrying cannot fix
            }
            last = last.max(number);
        }
        if last >= self.max_autopay_attempts {
            return Ok(None);
        }
        let number = last + 1;
        let key = format!("autobill-bill-{bill}-attempt-{number}");
        let row = sqlx::query(
            "INSERT INTO payment_attempts (practice_id, bill_id, client_id, attempt, idempotency_key, amount, status, created_at, card)
             SELECT practice_id, id, client_id, $1, $2, $3, 'pending', $4, $5 FROM bills WHERE id = $6 RETURNING id",
        )
        .bind(number)
        .bind(&key)
        .bind(balance)
        .bind(store::seconds(run.at))
        .bind(&card)
        .bind(bill)
        .fetch_one(&mut *tx)
        .await?;
        let id = row.try_get(0)?;
        tx.commit().await?;
        Ok(Some(Attempt { id, bill, client, key, amount: balance, card, number }))
    }

    async fn record_outcome(
        &self,
        run: &ClaimedRun,
        practice: &Practice,
        attempt: &Attempt,
        outcome: ChargeOutcome,
    ) -> Result<(), EngineError> {
        let mut tx = self.store.begin().await?;
        let (status, reason, retryable) = match &outcome {
            ChargeOutcome::Succeeded { .. } => ("succeeded", None, false),
            ChargeOutcome::Declined { code, retryable } => {
                ("failed", Some(format!("the card was declined ({code})")), *retryable)
            }
            ChargeOutcome::AuthenticationRequired => (
                "failed",
                Some("the bank requires the client to authenticate; ask them to pay on-session".to_string()),
                false,
            ),
        };
        let updated = sqlx::query(
            "UPDATE payment_attempts SET status = $1, reason = $2, retryable = $3 WHERE id = $4 AND status = 'pending'",
        )
        .bind(status)
        .bind(reason.as_deref())
        .bind(i64::from(retryable))
        .bind(attempt.id)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Ok(()); // another host recorded it
        }
        match reason {
            None => {
                sqlx::query("INSERT INTO payments (practice_id, bill_id, attempt_id, amount, created_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(practice.id)
                    .bind(attempt.bill)
                    .bind(attempt.id)
                    .bind(attempt.amount)
                    .bind(store::seconds(run.at))
                    .execute(&mut *tx)
                    .await?;
                apply_payment(&mut tx, attempt.bill, attempt.amount, run.at).await?;
                let event = EventKind::PaymentSucceeded {
                    bill: attempt.bill,
                    client: attempt.client.clone(),
                    amount: attempt.amount,
                };
                events::record(&mut tx, practice.id, run.at, event).await?;
            }
            Some(reason) => {
                let event = EventKind::PaymentFailed {
                    bill: attempt.bill,
                    client: attempt.client.clone(),
                    amount: attempt.amount,
                    reason: reason.clone(),
                };
                events::record(&mut tx, practice.id, run.at, event).await?;
                if retryable && attempt.number >= self.max_autopay_attempts {
                    let paused = format!(
                        "autopay paused for client {} after {} declined attempts on bill {} ({reason}); update the card or the client's settings to resume it",
                        attempt.client, attempt.number, attempt.bill
                    );
                    sqlx::query(
                        "UPDATE clients SET autopay_paused = $1 WHERE id = (SELECT client_id FROM bills WHERE id = $2)",
                    )
                    .bind(&paused)
                    .bind(attempt.bill)
                    .execute(&mut *tx)
                    .await?;
                    events::record(&mut tx, practice.id, run.at, EventKind::Warning { message: paused }).await?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Adds a payment to a bill (paid in full makes it Paid) and spreads it over the bill's lines in
/// order, so superbills show what was paid against each service.
async fn apply_payment(
    tx: &mut sqlx::AnyConnection,
    bill: i64,
    amount: i64,
    at: DateTime<Utc>,
) -> Result<(), EngineError> {
    sqlx::query("UPDATE bills SET paid = paid + $1 WHERE id = $2").bind(amount).bind(bill).execute(&mut *tx).await?;
    sqlx::query("UPDATE bills SET status = 'paid', paid_at = $1 WHERE id = $2 AND paid >= total")
        .bind(store::seconds(at))
        .bind(bill)
        .execute(&mut *tx)
        .await?;
    let lines = sqlx::query("SELECT id, fee - paid FROM service_lines WHERE bill_id = $1 AND fee > paid ORDER BY id")
        .bind(bill)
        .fetch_all(&mut *tx)
        .await?;
    let mut left = amount;
    for line in lines {
        if left <= 0 {
            break;
        }
        let (id, owed): (i64, i64) = (line.try_get(0)?, line.try_get(1)?);
        let share = owed.min(left);
        sqlx::query("UPDATE service_lines SET paid = paid + $1 WHERE id = $2")
            .bind(share)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        left -= share;
    }
    Ok(())
}
