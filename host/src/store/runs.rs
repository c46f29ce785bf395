//! Scheduled runs: recorded once per (practice, kind, local date), claimed under a lease so each
//! runs exactly once across hosts, and finished or failed with the reason.

use super::{Store, StoreError, Tx, date_text, instant, parse, parse_date, seconds};
use crate::domain::{PracticeId, RunId, RunKind, RunStatus};
use crate::schedule::DueRun;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Row;

/// A run this host holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimedRun {
    /// The run.
    pub id: RunId,
    /// Its practice.
    pub practice: PracticeId,
    /// What it does.
    pub kind: RunKind,
    /// The practice-local date it belongs to.
    pub local_date: NaiveDate,
    /// When it was due.
    pub at: DateTime<Utc>,
}

impl ClaimedRun {
    /// The run as events and logs name it: `KIND:DATE`.
    pub fn name(&self) -> String {
        format!("{}:{}", self.kind, self.local_date)
    }
}

impl Store {
    /// Records runs that came due; a run already recorded (by this or another host) stays as it is.
    pub async fn record_due_runs(&self, tx: &mut Tx, practice: PracticeId, runs: &[DueRun]) -> Result<(), StoreError> {
        for run in runs {
            sqlx::query(
                "INSERT INTO runs (practice_id, kind, local_date, due_at, status) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (practice_id, kind, local_date) DO NOTHING",
            )
            .bind(practice.get())
            .bind(run.kind.as_str())
            .bind(date_text(run.local_date))
            .bind(seconds(run.at))
            .bind(RunStatus::Pending.as_str())
            .execute(tx.conn())
            .await?;
        }
        Ok(())
    }

    /// Claims the earliest run due by `now` that no live host holds, for `lease_until`. A
    /// practice's runs go one at a time and in order, so two hosts never run the same practice's
    /// runs at once.
    pub async fn claim_next_run(
        &self,
        host: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<ClaimedRun>, StoreError> {
        let (pending, running) = (RunStatus::Pending.as_str(), RunStatus::Running.as_str());
        loop {
            let candidate = sqlx::query(
                "SELECT id, practice_id, kind, local_date, due_at FROM runs r
                 WHERE due_at <= $1 AND (status = $2 OR (status = $3 AND lease_until < $1))
                   AND NOT EXISTS (
                     SELECT 1 FROM runs e WHERE e.practice_id = r.practice_id AND e.id <> r.id
                       AND (e.status = $2 OR e.status = $3)
                       AND (e.due_at < r.due_at OR (e.due_at = r.due_at AND e.id < r.id) OR (e.status = $3 AND e.lease_until >= $1)))
                 ORDER BY due_at, id LIMIT 1",
            )
            .bind(seconds(now))
            .bind(pending)
            .bind(running)
            .fetch_optional(&self.pool)
            .await?;
            let Some(row) = candidate else { return Ok(None) };
            let id: i64 = row.try_get(0)?;
            let claimed = sqlx::query(
                "UPDATE runs SET status = $1, claimed_by = $2, lease_until = $3, attempts = attempts + 1
                 WHERE id = $4 AND (status = $5 OR (status = $1 AND lease_until < $6))",
            )
            .bind(running)
            .bind(host)
            .bind(seconds(lease_until))
            .bind(id)
            .bind(pending)
            .bind(seconds(now))
            .execute(&self.pool)
            .await?
            .rows_affected()
                == 1;
            if !claimed {
                continue; // another host took it first
            }
            let kind: String = row.try_get(2)?;
            let local_date: String = row.try_get(3)?;
            return Ok(Some(ClaimedRun {
                id: RunId::new(id),
                practice: PracticeId::new(row.try_get(1)?),
                kind: parse("run kind", &kind)?,
                local_date: parse_date(&local_date)?,
                at: instant(row.try_get(4)?),
            }));
        }
    }

    /// Marks a claimed run done inside its transaction; `false` when the claim was lost
    /// meanwhile (another host took the run over), and then nothing may be committed.
    pub async fn finish_run(&self, tx: &mut Tx, run: &ClaimedRun, host: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE runs SET status = $1, finished_at = $2, error = NULL WHERE id = $3 AND claimed_by = $4 AND status = $5",
        )
        .bind(RunStatus::Done.as_str())
        .bind(seconds(run.at))
        .bind(run.id.get())
        .bind(host)
        .bind(RunStatus::Running.as_str())
        .execute(tx.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks a run failed with its reason.
    pub async fn fail_run(&self, tx: &mut Tx, run: RunId, reason: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query("UPDATE runs SET status = $1, error = $2, finished_at = $3 WHERE id = $4")
            .bind(RunStatus::Failed.as_str())
            .bind(reason)
            .bind(seconds(now))
            .bind(run.get())
            .execute(tx.conn())
            .await?;
        Ok(())
    }
}
