//! Autopay: the bills a night may charge with the attempts made on them, attempts written before
//! the provider is called, and outcomes recorded after.

use super::batch::{self, Value};
use super::{Store, StoreError, Tx, instant, parse, seconds};
use crate::domain::{
    AttemptId, AttemptStatus, AutopayCandidate, BillId, BillStatus, Charge, ClientId, LineId, PastAttempt, PracticeId,
    Settlement, spread_payment,
};
use chrono::{DateTime, Utc};
use sqlx::Row;
use std::collections::HashMap;

impl Store {
    /// The open bills with a balance, made by `night`, of a practice's clients whose autopay is
    /// on, not paused, with a card on file; each with its attempts so far. In bill order.
    pub async fn autopay_candidates(
        &self,
        practice: PracticeId,
        night: DateTime<Utc>,
    ) -> Result<Vec<AutopayCandidate>, StoreError> {
        let bills = sqlx::query(
            "SELECT b.id, b.client_id, c.reference, b.total - b.paid, c.card FROM bills b JOIN clients c ON c.id = b.client_id
             WHERE b.practice_id = $1 AND b.status = $2 AND b.total > b.paid AND c.autopay = 1 AND c.autopay_paused IS NULL
               AND c.card IS NOT NULL AND b.created_at <= $3
             ORDER BY b.id",
        )
        .bind(practice.get())
        .bind(BillStatus::Open.as_str())
        .bind(seconds(night))
        .fetch_all(&self.pool)
        .await?;
        if bills.is_empty() {
            return Ok(vec![]);
        }
        let rows = sqlx::query(
            "SELECT a.bill_id, a.id, a.attempt, a.idempotency_key, a.amount, a.status, a.retryable, a.card, a.created_at
             FROM payment_attempts a JOIN bills b ON b.id = a.bill_id
             WHERE b.practice_id = $1 AND b.status = $2 ORDER BY a.bill_id, a.attempt",
        )
        .bind(practice.get())
        .bind(BillStatus::Open.as_str())
        .fetch_all(&self.pool)
        .await?;
        let mut attempts: HashMap<BillId, Vec<PastAttempt>> = HashMap::new();
        for row in &rows {
            let status: String = row.try_get(5)?;
            attempts.entry(BillId::new(row.try_get(0)?)).or_default().push(PastAttempt {
                id: AttemptId::new(row.try_get(1)?),
                number: row.try_get(2)?,
                key: row.try_get(3)?,
                amount: row.try_get(4)?,
                status: parse("attempt status", &status)?,
                retryable: row.try_get::<i64, _>(6)? != 0,
                card: row.try_get(7)?,
                created_at: instant(row.try_get(8)?),
            });
        }
        bills
            .iter()
            .map(|row| {
                let bill = BillId::new(row.try_get(0)?);
                Ok(AutopayCandidate {
                    bill,
                    client: ClientId::new(row.try_get(1)?),
                    client_reference: row.try_get(2)?,
                    balance: row.try_get(3)?,
                    card: row.try_get(4)?,
                    attempts: attempts.remove(&bill).unwrap_or_default(),
                })
            })
            .collect()
    }

    /// Writes new attempts, `pending`, with their idempotency keys; gives their ids in order. They
    /// must be committed before the provider is called.
    pub async fn insert_attempts(
        &self,
        tx: &mut Tx,
        practice: PracticeId,
        charges: &[Charge],
    ) -> Result<Vec<AttemptId>, StoreError> {
        let rows: Vec<Vec<Value>> = charges
            .iter()
            .map(|charge| {
                vec![
                    practice.get().into(),
                    charge.bill.get().into(),
                    charge.client.get().into(),
                    charge.number.into(),
                    Value::Text(&charge.key),
                    charge.amount.into(),
                    Value::Name(AttemptStatus::Pending.as_str()),
                    seconds(charge.night).into(),
                    Value::Text(&charge.card),
                ]
            })
            .collect();
        let ids = batch::insert_returning_ids(
            tx,
            "INSERT INTO payment_attempts (practice_id, bill_id, client_id, attempt, idempotency_key, amount, status, created_at, card)",
            &rows,
        )
        .await?;
        Ok(ids.into_iter().map(AttemptId::new).collect())
    }

    /// Records a charge's outcome as of `at` inside `tx`: the attempt's status; for a success, the payment,
    /// the bill's paid amount (Paid when paid in full) and each line's share of it; a pause of the
    /// client's autopay. `false`, changing nothing, when the attempt was no longer pending (another
    /// host recorded it).
    pub async fn settle_attempt(
        &self,
        tx: &mut Tx,
        practice: PracticeId,
        charge: &Charge,
        settlement: &Settlement,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let Some(attempt) = charge.attempt else {
            return Err(StoreError::Corrupt(format!("the charge of bill {} was never written", charge.bill)));
        };
        let updated = sqlx::query(
            "UPDATE payment_attempts SET status = $1, reason = $2, retryable = $3, provider_reference = $4
             WHERE id = $5 AND status = $6",
        )
        .bind(settlement.status.as_str())
        .bind(settlement.reason.as_deref())
        .bind(i64::from(settlement.retryable))
        .bind(settlement.reference.as_deref())
        .bind(attempt.get())
        .bind(AttemptStatus::Pending.as_str())
        .execute(tx.conn())
        .await?;
        if updated.rows_affected() == 0 {
            return Ok(false);
        }
        if let Some(amount) = settlement.paid {
            let at = seconds(at);
            sqlx::query(
                "INSERT INTO payments (practice_id, bill_id, attempt_id, amount, created_at, provider_reference)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(practice.get())
            .bind(charge.bill.get())
            .bind(attempt.get())
            .bind(amount)
            .bind(at)
            .bind(settlement.reference.as_deref())
            .execute(tx.conn())
            .await?;
            sqlx::query("UPDATE bills SET paid = paid + $1 WHERE id = $2")
                .bind(amount)
                .bind(charge.bill.get())
                .execute(tx.conn())
                .await?;
            sqlx::query("UPDATE bills SET status = $1, paid_at = $2 WHERE id = $3 AND paid >= total")
                .bind(BillStatus::Paid.as_str())
                .bind(at)
                .bind(charge.bill.get())
                .execute(tx.conn())
                .await?;
            let rows =
                sqlx::query("SELECT id, fee - paid FROM service_lines WHERE bill_id = $1 AND fee > paid ORDER BY id")
                    .bind(charge.bill.get())
                    .fetch_all(tx.conn())
                    .await?;
            let owed = rows
                .iter()
                .map(|row| Ok((LineId::new(row.try_get(0)?), row.try_get(1)?)))
                .collect::<Result<Vec<_>, StoreError>>()?;
            for (line, paid) in spread_payment(&owed, amount) {
                sqlx::query("UPDATE service_lines SET paid = paid + $1 WHERE id = $2")
                    .bind(paid)
                    .bind(line.get())
                    .execute(tx.conn())
                    .await?;
            }
        }
        if let Some(reason) = &settlement.pause {
            sqlx::query("UPDATE clients SET autopay_paused = $1 WHERE id = $2")
                .bind(reason)
                .bind(charge.client.get())
                .execute(tx.conn())
                .await?;
        }
        Ok(true)
    }
}
