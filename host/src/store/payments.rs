//! Autopay: the bills a night may charge with the attempts made on them, attempts written before
//! the provider is called, and outcomes recorded after.

use super::batch::{self, Value};
use super::{Dialect, Store, StoreError, Tx, instant, parse, seconds};
use crate::domain::{
    AttemptId, AttemptStatus, AutopayCandidate, BillId, BillStatus, Charge, ClientId, Currency, DocumentKind, LineId,
    PastAttempt, PracticeId, Settlement, ShareStatus, spread_payment,
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
            "SELECT b.id, b.client_id, c.reference, b.total - b.paid, c.card, c.autopay_series, b.created_at,
                    CAST(CASE WHEN EXISTS (SELECT 1 FROM payments p JOIN bills pb ON pb.id = p.bill_id
                                           WHERE pb.client_id = c.id AND p.dispute_status IS NOT NULL)
                         THEN 1 ELSE 0 END AS BIGINT)
             FROM bills b JOIN clients c ON c.id = b.client_id
             WHERE b.practice_id = $1 AND b.status = $2 AND b.total > b.paid AND c.autopay = 1 AND c.autopay_paused IS NULL
               AND c.card IS NOT NULL AND b.created_at <= $3
             ORDER BY b.id",
        )
        .bind(practice.get())
        .bind(BillStatus::Open.as_str())
        .bind(seconds(night))
        .fetch_all(&self.reads)
        .await?;
        if bills.is_empty() {
            return Ok(vec![]);
        }
        let rows = sqlx::query(
            "SELECT a.bill_id, a.id, a.attempt, a.idempotency_key, a.amount, a.status, a.retryable, a.card, a.created_at, a.series,
                    a.decline_code
             FROM payment_attempts a JOIN bills b ON b.id = a.bill_id
             WHERE b.practice_id = $1 AND b.status = $2 ORDER BY a.bill_id, a.attempt",
        )
        .bind(practice.get())
        .bind(BillStatus::Open.as_str())
        .fetch_all(&self.reads)
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
                series: row.try_get(9)?,
                decline_code: row.try_get(10)?,
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
                    series: row.try_get(5)?,
                    made_at: instant(row.try_get(6)?),
                    client_disputed: row.try_get::<i64, _>(7)? != 0,
                })
            })
            .collect()
    }

    /// Writes new attempts, `pending` and due at once, with their idempotency keys; gives their ids
    /// in order. They must be committed before the provider is called. Each takes its place in the
    /// practice's turn, so the charges of practices whose nights fall together interleave.
    pub async fn insert_attempts(
        &self,
        tx: &mut Tx,
        practice: PracticeId,
        charges: &[Charge],
    ) -> Result<Vec<AttemptId>, StoreError> {
        let rows: Vec<Vec<Value>> = charges
            .iter()
            .zip(0i64..)
            .map(|(charge, turn)| {
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
                    seconds(charge.night).into(),
                    turn.into(),
                    charge.series.into(),
                ]
            })
            .collect();
        let ids = batch::insert_returning_ids(
            tx,
            "INSERT INTO payment_attempts (practice_id, bill_id, client_id, attempt, idempotency_key, amount, status, created_at, card, next_try_at, turn, series)",
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
            "UPDATE payment_attempts SET status = $1, reason = $2, retryable = $3, provider_reference = $4, decline_code = $7
             WHERE id = $5 AND status = $6",
        )
        .bind(settlement.status.as_str())
        .bind(settlement.reason.as_deref())
        .bind(i64::from(settlement.retryable))
        .bind(settlement.reference.as_deref())
        .bind(attempt.get())
        .bind(AttemptStatus::Pending.as_str())
        .bind(settlement.decline_code.as_deref())
        .execute(tx.conn())
        .await?;
        if updated.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE shares SET awaiting_autopay = 0 WHERE document_kind = $1 AND document_id = $2 AND awaiting_autopay = 1",
        )
        .bind(DocumentKind::Bill.as_str())
        .bind(charge.bill.get())
        .execute(tx.conn())
        .await?;
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

    /// Stops the shares of a practice's bills that wait for tonight's autopay from waiting when
    /// autopay made no charge of their bill (none is pending), with `reason`.
    pub async fn release_uncharged_shares(
        &self,
        tx: &mut Tx,
        practice: PracticeId,
        reason: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE shares SET awaiting_autopay = 0, reason = $1
             WHERE practice_id = $2 AND awaiting_autopay = 1 AND document_kind = $3 AND status = $4
               AND NOT EXISTS (SELECT 1 FROM payment_attempts a WHERE a.bill_id = shares.document_id AND a.status = $5)",
        )
        .bind(reason)
        .bind(practice.get())
        .bind(DocumentKind::Bill.as_str())
        .bind(ShareStatus::Pending.as_str())
        .bind(AttemptStatus::Pending.as_str())
        .execute(tx.conn())
        .await?;
        Ok(())
    }

    /// Claims up to `limit` pending attempts due by `now` for `host` until `lease_until`,
    /// practices taking turns, and commits the claim before any is sent. On PostgreSQL rows
    /// another host is claiming are skipped, so several hosts split a night's charges; a claim
    /// whose host stopped is taken again once its lease has passed.
    pub async fn claim_due_charges(
        &self,
        host: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<ClaimedCharge>, StoreError> {
        let sql = match self.dialect {
            Dialect::Sqlite => CLAIM_CHARGES_SQLITE,
            Dialect::Postgres => CLAIM_CHARGES_POSTGRES,
        };
        let rows = sqlx::query(sql)
            .bind(host)
            .bind(seconds(lease_until))
            .bind(AttemptStatus::Pending.as_str())
            .bind(seconds(now))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        let mut claimed = rows
            .iter()
            .map(|row| {
                let currency: String = row.try_get(10)?;
                let claimed = ClaimedCharge {
                    practice: PracticeId::new(row.try_get(1)?),
                    currency: parse("currency", &currency)?,
                    tries: row.try_get(13)?,
                    charge: Charge {
                        attempt: Some(AttemptId::new(row.try_get(0)?)),
                        bill: BillId::new(row.try_get(2)?),
                        client: ClientId::new(row.try_get(3)?),
                        client_reference: row.try_get(9)?,
                        number: row.try_get(4)?,
                        key: row.try_get(5)?,
                        amount: row.try_get(6)?,
                        card: row.try_get(7)?,
                        night: instant(row.try_get(8)?),
                        series: row.try_get(12)?,
                        in_series: row.try_get(11)?,
                    },
                };
                Ok((row.try_get::<i64, _>(14)?, claimed))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        claimed.sort_by_key(|(turn, claimed)| (*turn, claimed.practice, claimed.charge.attempt));
        Ok(claimed.into_iter().map(|(_, claimed)| claimed).collect())
    }

    /// Puts a claimed attempt whose charge could not reach the provider back, due again at
    /// `next_try_at`, with the failure as its reason; it stays pending with its key.
    pub async fn defer_charge(
        &self,
        attempt: AttemptId,
        next_try_at: DateTime<Utc>,
        reason: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE payment_attempts SET next_try_at = $1, claimed_until = NULL, reason = $2 WHERE id = $3 AND status = $4",
        )
        .bind(seconds(next_try_at))
        .bind(reason)
        .bind(attempt.get())
        .bind(AttemptStatus::Pending.as_str())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The earliest time after `after` at which a pending attempt is due to be sent again.
    pub async fn next_charge_due(&self, after: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, StoreError> {
        let row = sqlx::query("SELECT MIN(next_try_at) FROM payment_attempts WHERE status = $1 AND next_try_at > $2")
            .bind(AttemptStatus::Pending.as_str())
            .bind(seconds(after))
            .fetch_one(&self.reads)
            .await?;
        Ok(row.try_get::<Option<i64>, _>(0)?.map(instant))
    }
}

/// A pending attempt claimed to be sent: the charge, with what the provider needs besides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimedCharge {
    /// The bill's practice.
    pub practice: PracticeId,
    /// The practice's currency.
    pub currency: Currency,
    /// How many times it has been claimed, this one included.
    pub tries: i64,
    /// The charge, as written before it was first sent.
    pub charge: Charge,
}

/// The claim of due attempts, practices interleaved by each attempt's turn within its practice's
/// night. The card is the one the attempt was written with (the client's for attempts written
/// before cards were recorded), and `in_series` its place in the client's series.
const CLAIM_CHARGES_SQLITE: &str = "UPDATE payment_attempts SET claimed_by = $1, claimed_until = $2, tries = tries + 1
 WHERE id IN (SELECT id FROM payment_attempts WHERE status = $3 AND next_try_at <= $4 AND (claimed_until IS NULL OR claimed_until <= $4)
              ORDER BY next_try_at, turn, practice_id, id LIMIT $5)
 RETURNING id, practice_id, bill_id, client_id, attempt, idempotency_key, amount,
   COALESCE(CASE WHEN card = '' THEN (SELECT c.card FROM clients c WHERE c.id = payment_attempts.client_id) ELSE card END, ''), created_at,
   (SELECT c.reference FROM clients c WHERE c.id = payment_attempts.client_id),
   (SELECT p.currency FROM practices p WHERE p.id = payment_attempts.practice_id),
   (SELECT COUNT(*) FROM payment_attempts s WHERE s.bill_id = payment_attempts.bill_id AND s.series = payment_attempts.series AND s.attempt <= payment_attempts.attempt),
   series, tries, turn";

const CLAIM_CHARGES_POSTGRES: &str = "UPDATE payment_attempts SET claimed_by = $1, claimed_until = $2, tries = tries + 1
 WHERE id IN (SELECT id FROM payment_attempts WHERE status = $3 AND next_try_at <= $4 AND (claimed_until IS NULL OR claimed_until <= $4)
              ORDER BY next_try_at, turn, practice_id, id LIMIT $5 FOR UPDATE SKIP LOCKED)
 RETURNING id, practice_id, bill_id, client_id, attempt, idempotency_key, amount,
   COALESCE(CASE WHEN card = '' THEN (SELECT c.card FROM clients c WHERE c.id = payment_attempts.client_id) ELSE card END, ''), created_at,
   (SELECT c.reference FROM clients c WHERE c.id = payment_attempts.client_id),
   (SELECT p.currency FROM practices p WHERE p.id = payment_attempts.practice_id),
   (SELECT COUNT(*) FROM payment_attempts s WHERE s.bill_id = payment_attempts.bill_id AND s.series = payment_attempts.series AND s.attempt <= payment_attempts.attempt),
   series, tries, turn";
