//! Shares: one row per document's email, moving `pending` → `sending` (claimed and committed
//! before the mail server is called) → `sent`, or `skipped` with the reason, or back to `pending`
//! with a later due time after a failed send. A row still `sending` after the lease becomes
//! `unknown`: sent at most once.

use super::batch::{self, Value};
use super::{Dialect, Store, StoreError, Tx, instant, parse, seconds};
use crate::domain::{ClientId, DocumentId, DocumentToShare, NewShare, PracticeId, ShareId, ShareStatus};
use chrono::{DateTime, Utc};
use sqlx::Row;

/// A claimed share: which document goes to which client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimedShare {
    /// The share.
    pub id: ShareId,
    /// Its practice.
    pub practice: PracticeId,
    /// The document to send.
    pub document: DocumentId,
    /// The client it goes to.
    pub client: ClientId,
    /// How many times it has been tried, this one included.
    pub attempts: i64,
    /// Whether it was still waiting for tonight's autopay charge's outcome when its bound passed.
    pub autopay_unsettled: bool,
}

/// A share a stopped host left `sending`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterruptedShare {
    /// The share.
    pub id: ShareId,
    /// Its practice.
    pub practice: PracticeId,
    /// The document.
    pub document: DocumentId,
    /// The client's reference.
    pub client: String,
}

/// Due shares claimed in one statement, earliest first; a share waiting for tonight's autopay
/// charge is due once the charge has an outcome or its bound has passed by `$6`. On PostgreSQL rows
/// another host is claiming are skipped rather than waited for, so several hosts split a night's
/// shares.
const CLAIM_DUE_SQLITE: &str =
    "UPDATE shares SET status = $1, claimed_at = $2, attempts = attempts + 1, claimed_by = $5
 WHERE id IN (SELECT id FROM shares WHERE status = $3 AND due_at <= $2 AND (awaiting_autopay = 0 OR hold_until <= $6)
              ORDER BY due_at, id LIMIT $4)
 RETURNING id, practice_id, document_kind, document_id, client_id, attempts, due_at, awaiting_autopay";

const CLAIM_DUE_POSTGRES: &str =
    "UPDATE shares SET status = $1, claimed_at = $2, attempts = attempts + 1, claimed_by = $5
 WHERE id IN (SELECT id FROM shares WHERE status = $3 AND due_at <= $2 AND (awaiting_autopay = 0 OR hold_until <= $6)
              ORDER BY due_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
 RETURNING id, practice_id, document_kind, document_id, client_id, attempts, due_at, awaiting_autopay";

/// A share held because the share filter failed when its document was made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldShare {
    /// The share.
    pub id: ShareId,
    /// The document.
    pub document: DocumentToShare,
}

impl Store {
    /// Records the share rows a run decided; a document that already has one keeps it.
    pub async fn insert_shares(
        &self,
        tx: &mut Tx,
        practice: PracticeId,
        shares: &[NewShare],
    ) -> Result<(), StoreError> {
        let rows: Vec<Vec<Value>> = shares
            .iter()
            .map(|share| {
                vec![
                    practice.get().into(),
                    share.document.kind().into(),
                    share.document.get().into(),
                    share.client.get().into(),
                    share.status.into(),
                    share.due_at.map(seconds).into(),
                    share.reason.as_deref().into(),
                    i64::from(share.awaits_autopay.is_some()).into(),
                    share.awaits_autopay.map(seconds).into(),
                ]
            })
            .collect();
        batch::execute(
            tx,
            "INSERT INTO shares (practice_id, document_kind, document_id, client_id, status, due_at, reason, awaiting_autopay, hold_until)",
            "ON CONFLICT (document_kind, document_id) DO NOTHING",
            &rows,
        )
        .await?;
        Ok(())
    }

    /// Claims up to `limit` shares due by `now` for `host`, earliest first, committing the claim
    /// before any is sent: a row left `sending` tells the next host that its send was interrupted.
    /// A share waiting for its autopay charge's outcome is claimed only if its bound is at or
    /// before `bound_by`.
    pub async fn claim_due_shares(
        &self,
        host: &str,
        now: DateTime<Utc>,
        bound_by: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<ClaimedShare>, StoreError> {
        let sql = match self.dialect {
            Dialect::Sqlite => CLAIM_DUE_SQLITE,
            Dialect::Postgres => CLAIM_DUE_POSTGRES,
        };
        let rows = sqlx::query(sql)
            .bind(ShareStatus::Sending.as_str())
            .bind(seconds(now))
            .bind(ShareStatus::Pending.as_str())
            .bind(limit)
            .bind(host)
            .bind(seconds(bound_by))
            .fetch_all(&self.pool)
            .await?;
        let mut claimed = rows
            .iter()
            .map(|row| {
                let kind: String = row.try_get(2)?;
                let share = ClaimedShare {
                    id: ShareId::new(row.try_get(0)?),
                    practice: PracticeId::new(row.try_get(1)?),
                    document: DocumentId::of(parse("document kind", &kind)?, row.try_get(3)?),
                    client: ClientId::new(row.try_get(4)?),
                    attempts: row.try_get(5)?,
                    autopay_unsettled: row.try_get::<i64, _>(7)? != 0,
                };
                Ok((row.try_get::<Option<i64>, _>(6)?, share))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        claimed.sort_by_key(|(due_at, share)| (*due_at, share.id));
        Ok(claimed.into_iter().map(|(_, share)| share).collect())
    }

    /// Records a claimed share as sent to `to`; `false` if it was no longer this host's to send.
    pub async fn mark_share_sent(
        &self,
        tx: &mut Tx,
        share: ShareId,
        to: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE shares SET status = $1, recipient = $2, sent_at = $3, reason = NULL WHERE id = $4 AND status = $5",
        )
        .bind(ShareStatus::Sent.as_str())
        .bind(to)
        .bind(seconds(now))
        .bind(share.get())
        .bind(ShareStatus::Sending.as_str())
        .execute(tx.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a claimed share as skipped with the reason.
    pub async fn mark_share_skipped(&self, tx: &mut Tx, share: ShareId, reason: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE shares SET status = $1, reason = $2 WHERE id = $3 AND status = $4")
            .bind(ShareStatus::Skipped.as_str())
            .bind(reason)
            .bind(share.get())
            .bind(ShareStatus::Sending.as_str())
            .execute(tx.conn())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Puts a claimed share back to `pending`, due again at `due_at`, with the failure as its reason.
    pub async fn retry_share(&self, share: ShareId, due_at: DateTime<Utc>, reason: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE shares SET status = $1, due_at = $2, reason = $3 WHERE id = $4 AND status = $5")
            .bind(ShareStatus::Pending.as_str())
            .bind(seconds(due_at))
            .bind(reason)
            .bind(share.get())
            .bind(ShareStatus::Sending.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Shares claimed before `claimed_before` and still `sending`: their hosts stopped mid-send.
    pub async fn interrupted_shares(&self, claimed_before: DateTime<Utc>) -> Result<Vec<InterruptedShare>, StoreError> {
        let rows = sqlx::query(
            "SELECT s.id, s.practice_id, s.document_kind, s.document_id, c.reference FROM shares s JOIN clients c ON c.id = s.client_id
             WHERE s.status = $1 AND (s.claimed_at IS NULL OR s.claimed_at < $2) ORDER BY s.id",
        )
        .bind(ShareStatus::Sending.as_str())
        .bind(seconds(claimed_before))
        .fetch_all(&self.reads)
        .await?;
        rows.iter()
            .map(|row| {
                let kind: String = row.try_get(2)?;
                Ok(InterruptedShare {
                    id: ShareId::new(row.try_get(0)?),
                    practice: PracticeId::new(row.try_get(1)?),
                    document: DocumentId::of(parse("document kind", &kind)?, row.try_get(3)?),
                    client: row.try_get(4)?,
                })
            })
            .collect()
    }

    /// Marks an interrupted share `unknown` with `reason`; `false` if another host settled it first.
    pub async fn mark_share_unknown(
        &self,
        tx: &mut Tx,
        share: ShareId,
        claimed_before: DateTime<Utc>,
        reason: &str,
    ) -> Result<bool, StoreError> {
        let marked = sqlx::query(
            "UPDATE shares SET status = $1, reason = $2 WHERE id = $3 AND status = $4 AND (claimed_at IS NULL OR claimed_at < $5)",
        )
        .bind(ShareStatus::Unknown.as_str())
        .bind(reason)
        .bind(share.get())
        .bind(ShareStatus::Sending.as_str())
        .bind(seconds(claimed_before))
        .execute(tx.conn())
        .await?;
        Ok(marked.rows_affected() == 1)
    }

    /// Queues a share whose outcome is unknown to be sent at `now`; gives the share's status
    /// when it is not unknown (`None` when it does not exist).
    pub async fn resend_share(
        &self,
        share: ShareId,
        now: DateTime<Utc>,
    ) -> Result<Result<(), Option<ShareStatus>>, StoreError> {
        let done = sqlx::query(
            "UPDATE shares SET status = $1, due_at = $2, reason = NULL, claimed_at = NULL WHERE id = $3 AND status = $4",
        )
        .bind(ShareStatus::Pending.as_str())
        .bind(seconds(now))
        .bind(share.get())
        .bind(ShareStatus::Unknown.as_str())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 1 {
            return Ok(Ok(()));
        }
        let status: Option<String> = sqlx::query("SELECT status FROM shares WHERE id = $1")
            .bind(share.get())
            .fetch_optional(&self.pool)
            .await?
            .map(|row| row.try_get(0))
            .transpose()?;
        Ok(Err(status.map(|status| parse("share status", &status)).transpose()?))
    }

    /// Up to `limit` shares of a practice held because its share filter failed, oldest first,
    /// each with its document as it stands now.
    pub async fn held_shares(&self, practice: PracticeId, limit: i64) -> Result<Vec<HeldShare>, StoreError> {
        let rows = sqlx::query(
            "SELECT s.id, s.document_kind, s.document_id, s.client_id, b.total, b.paid, b.status, sb.total, sb.paid
             FROM shares s
             LEFT JOIN bills b ON s.document_kind = $1 AND b.id = s.document_id
             LEFT JOIN superbills sb ON s.document_kind = $2 AND sb.id = s.document_id
             WHERE s.practice_id = $3 AND s.status = $4 ORDER BY s.id LIMIT $5",
        )
        .bind(crate::domain::DocumentKind::Bill.as_str())
        .bind(crate::domain::DocumentKind::Superbill.as_str())
        .bind(practice.get())
        .bind(ShareStatus::Held.as_str())
        .bind(limit)
        .fetch_all(&self.reads)
        .await?;
        rows.iter()
            .map(|row| {
                let kind: String = row.try_get(1)?;
                let id = DocumentId::of(parse("document kind", &kind)?, row.try_get(2)?);
                let (total, paid, status) = match id {
                    DocumentId::Bill(_) => {
                        let status: String = row.try_get(6)?;
                        (row.try_get(4)?, row.try_get(5)?, Some(parse("bill status", &status)?))
                    }
                    DocumentId::Superbill(_) => (row.try_get(7)?, row.try_get(8)?, None),
                };
                Ok(HeldShare {
                    id: ShareId::new(row.try_get(0)?),
                    document: DocumentToShare { id, client: ClientId::new(row.try_get(3)?), total, paid, status },
                })
            })
            .collect()
    }

    /// The practices with shares held because their share filter failed.
    pub async fn practices_with_held_shares(&self) -> Result<Vec<PracticeId>, StoreError> {
        let rows = sqlx::query("SELECT DISTINCT practice_id FROM shares WHERE status = $1 ORDER BY practice_id")
            .bind(ShareStatus::Held.as_str())
            .fetch_all(&self.reads)
            .await?;
        rows.iter().map(|row| Ok(PracticeId::new(row.try_get(0)?))).collect()
    }

    /// Records the decision about a held share: pending with its due time, or skipped with its
    /// reason; `false` if it was no longer held.
    pub async fn decide_held_share(&self, tx: &mut Tx, share: ShareId, decided: &NewShare) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE shares SET status = $1, due_at = $2, reason = $3 WHERE id = $4 AND status = $5")
            .bind(decided.status.as_str())
            .bind(decided.due_at.map(seconds))
            .bind(decided.reason.as_deref())
            .bind(share.get())
            .bind(ShareStatus::Held.as_str())
            .execute(tx.conn())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The earliest due time after `after` of a pending share: for one waiting for tonight's
    /// autopay, its bound, should the charge not have an outcome by then.
    pub async fn next_share_due(&self, after: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, StoreError> {
        let row = sqlx::query(
            "SELECT MIN(t.due) FROM (SELECT CASE WHEN awaiting_autopay = 1 AND hold_until > due_at THEN hold_until ELSE due_at END AS due
             FROM shares WHERE status = $1) t WHERE t.due > $2",
        )
            .bind(ShareStatus::Pending.as_str())
            .bind(seconds(after))
            .fetch_one(&self.reads)
            .await?;
        Ok(row.try_get::<Option<i64>, _>(0)?.map(instant))
    }
}
