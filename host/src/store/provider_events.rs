//! What the payment provider tells afterwards: each event's id, recorded once, and the payments
//! and attempts its references find, changed inside the transaction that records the event.

use super::{Store, StoreError, Tx, instant, parse, seconds};
use crate::domain::{
    AttemptId, AttemptStatus, BillId, Charge, ClientId, DisputeStatus, LineId, PaymentChange, PaymentId, PracticeId,
    TakenPayment, spread_payment,
};
use chrono::{DateTime, Utc};
use sqlx::Row;

impl Store {
    /// Records a provider event's id inside `tx`; `false` when it was recorded before (a retried
    /// delivery), which the caller then ignores.
    pub async fn record_provider_event(
        &self,
        tx: &mut Tx,
        id: &str,
        name: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO provider_events (event_id, kind, received_at) VALUES ($1, $2, $3) ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(id)
        .bind(name)
        .bind(seconds(at))
        .execute(tx.conn())
        .await?;
        Ok(inserted.rows_affected() == 1)
    }

    /// The payment with the provider's reference `reference`, with its bill and client, and its
    /// practice; `None` when no payment has it.
    pub async fn taken_payment(
        &self,
        tx: &mut Tx,
        reference: &str,
    ) -> Result<Option<(PracticeId, TakenPayment)>, StoreError> {
        let row = sqlx::query(
            "SELECT p.practice_id, p.id, p.bill_id, b.client_id, c.reference, p.amount, p.refunded, p.dispute_status,
                    p.disputed_amount, b.status, b.paid
             FROM payments p JOIN bills b ON b.id = p.bill_id JOIN clients c ON c.id = b.client_id
             WHERE p.provider_reference = $1 ORDER BY p.id LIMIT 1",
        )
        .bind(reference)
        .fetch_optional(tx.conn())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let dispute: Option<String> = row.try_get(7)?;
        let status: String = row.try_get(9)?;
        let payment = TakenPayment {
            id: PaymentId::new(row.try_get(1)?),
            bill: BillId::new(row.try_get(2)?),
            client: ClientId::new(row.try_get(3)?),
            client_reference: row.try_get(4)?,
            amount: row.try_get(5)?,
            refunded: row.try_get(6)?,
            dispute: dispute.map(|text| parse::<DisputeStatus>("dispute status", &text)).transpose()?,
            disputed_amount: row.try_get(8)?,
            bill_status: parse("bill status", &status)?,
            bill_paid: row.try_get(10)?,
        };
        Ok(Some((PracticeId::new(row.try_get(0)?), payment)))
    }

    /// Applies `change` to the payment read as `before`, its bill, the bill's lines (taking back
    /// from the last line first) and its client, inside `tx`. `false`, changing nothing, when the
    /// payment changed since it was read (another delivery got there first): the caller reads it
    /// again.
    pub async fn apply_payment_change(
        &self,
        tx: &mut Tx,
        before: &TakenPayment,
        change: &PaymentChange,
    ) -> Result<bool, StoreError> {
        let updated = sqlx::query(
            "UPDATE payments SET dispute_status = $1, disputed_amount = $2, refunded = $3
             WHERE id = $4 AND refunded = $5 AND disputed_amount = $6 AND COALESCE(dispute_status, '') = $7",
        )
        .bind(change.dispute.map(DisputeStatus::as_str))
        .bind(change.disputed_amount)
        .bind(change.refunded)
        .bind(change.payment.get())
        .bind(before.refunded)
        .bind(before.disputed_amount)
        .bind(before.dispute.map_or("", DisputeStatus::as_str))
        .execute(tx.conn())
        .await?;
        if updated.rows_affected() == 0 {
            return Ok(false);
        }
        if change.paid_back > 0 {
            sqlx::query("UPDATE bills SET paid = paid - $1 WHERE id = $2")
                .bind(change.paid_back)
                .bind(change.bill.get())
                .execute(tx.conn())
                .await?;
            let rows =
                sqlx::query("SELECT id, paid FROM service_lines WHERE bill_id = $1 AND paid > 0 ORDER BY id DESC")
                    .bind(change.bill.get())
                    .fetch_all(tx.conn())
                    .await?;
            let paid = rows
                .iter()
                .map(|row| Ok((LineId::new(row.try_get(0)?), row.try_get(1)?)))
                .collect::<Result<Vec<_>, StoreError>>()?;
            for (line, back) in spread_payment(&paid, change.paid_back) {
                sqlx::query("UPDATE service_lines SET paid = paid - $1 WHERE id = $2")
                    .bind(back)
                    .bind(line.get())
                    .execute(tx.conn())
                    .await?;
            }
        }
        if change.bill_status != before.bill_status {
            sqlx::query("UPDATE bills SET status = $1 WHERE id = $2")
                .bind(change.bill_status.as_str())
                .bind(change.bill.get())
                .execute(tx.conn())
                .await?;
        }
        if let Some(reason) = &change.pause {
            sqlx::query("UPDATE clients SET autopay_paused = $1 WHERE id = $2")
                .bind(reason)
                .bind(change.client.get())
                .execute(tx.conn())
                .await?;
        }
        Ok(true)
    }

    /// The autopay attempt a provider event names, by the idempotency key the charge carried or
    /// else by the provider's reference: the charge it made, its practice and its status.
    pub async fn attempt_for_event(
        &self,
        tx: &mut Tx,
        key: Option<&str>,
        reference: &str,
    ) -> Result<Option<(PracticeId, Charge, AttemptStatus)>, StoreError> {
        let row = sqlx::query(
            "SELECT a.practice_id, a.id, a.bill_id, a.client_id, c.reference, a.attempt, a.idempotency_key, a.amount,
                    a.card, a.created_at, a.status
             FROM payment_attempts a JOIN clients c ON c.id = a.client_id
             WHERE a.idempotency_key = $1 OR a.provider_reference = $2 ORDER BY a.id LIMIT 1",
        )
        .bind(key.unwrap_or_default())
        .bind(reference)
        .fetch_optional(tx.conn())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let status: String = row.try_get(10)?;
        let charge = Charge {
            attempt: Some(AttemptId::new(row.try_get(1)?)),
            bill: BillId::new(row.try_get(2)?),
            client: ClientId::new(row.try_get(3)?),
            client_reference: row.try_get(4)?,
            number: row.try_get(5)?,
            key: row.try_get(6)?,
            amount: row.try_get(7)?,
            card: row.try_get(8)?,
            night: instant(row.try_get(9)?),
        };
        Ok(Some((PracticeId::new(row.try_get(0)?), charge, parse("attempt status", &status)?)))
    }
}
