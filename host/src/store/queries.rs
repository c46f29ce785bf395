//! Reads and small writes the HTTP API needs, every one scoped to a practice: a row of another
//! practice is [`StoreError::NotFound`], exactly like a row that does not exist.

use super::{CLIENT_COLUMNS, Client, Store, StoreError, client_from_row, instant, seconds};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use utoipa::ToSchema;

/// A service a practice offers.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ServiceRow {
    /// The service's id.
    pub id: i64,
    /// The practice's code for it.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Its fee in minor units.
    pub fee: i64,
    /// Its CPT code, when it is insurance-eligible.
    pub cpt_code: Option<String>,
}

/// One service delivered at an appointment, and the documents it is on.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LineRow {
    /// The line's id.
    pub id: i64,
    /// The appointment's id.
    pub appointment_id: i64,
    /// The service's code.
    pub service: String,
    /// Practice-local date of service, `YYYY-MM-DD`.
    pub date: String,
    /// Fee in minor units.
    pub fee: i64,
    /// Paid against it, in minor units.
    pub paid: i64,
    /// The bill it is on, if any.
    pub bill_id: Option<i64>,
    /// The superbill it is on, if any.
    pub superbill_id: Option<i64>,
}

/// An appointment with its service lines.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AppointmentRow {
    /// The appointment's id.
    pub id: i64,
    /// The practice's own reference.
    pub reference: String,
    /// The client's id.
    pub client_id: i64,
    /// When it starts, RFC 3339.
    pub starts_at: String,
    /// Practice-local date, `YYYY-MM-DD`.
    pub date: String,
    /// scheduled, completed, cancelled or no_show.
    pub status: String,
    /// The services delivered.
    pub lines: Vec<LineRow>,
}

/// A bill.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BillRow {
    /// The bill's id.
    pub id: i64,
    /// The client's id.
    pub client_id: i64,
    /// pended, open, paid or void.
    pub status: String,
    /// Total in minor units.
    pub total: i64,
    /// Paid in minor units.
    pub paid: i64,
    /// Total less paid.
    pub balance: i64,
    /// When it was created, RFC 3339.
    pub created_at: String,
    /// When it was opened, if it was.
    pub opened_at: Option<String>,
    /// When it was paid in full, if it was.
    pub paid_at: Option<String>,
    /// When it was voided, if it was.
    pub voided_at: Option<String>,
}

/// A product a person added to a bill.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ProductRow {
    /// The product's id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its amount in minor units.
    pub amount: i64,
    /// When it was added, RFC 3339.
    pub added_at: String,
}

/// A bill with its lines, products and payment attempts.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BillDetail {
    /// The bill.
    #[serde(flatten)]
    pub bill: BillRow,
    /// Its service lines.
    pub lines: Vec<LineRow>,
    /// Products added by people.
    pub products: Vec<ProductRow>,
    /// Autopay attempts on it.
    pub attempts: Vec<AttemptRow>,
}

/// A superbill.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SuperbillRow {
    /// The superbill's id.
    pub id: i64,
    /// The client's id.
    pub client_id: i64,
    /// Total fees in minor units.
    pub total: i64,
    /// Paid against its lines, in minor units.
    pub paid: i64,
    /// When it was created, RFC 3339.
    pub created_at: String,
    /// Its service lines (empty in lists).
    pub lines: Vec<LineRow>,
}

/// One autopay attempt.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AttemptRow {
    /// The attempt's id.
    pub id: i64,
    /// The bill charged.
    pub bill_id: i64,
    /// The client's id.
    pub client_id: i64,
    /// 1, 2, 3… for the bill.
    pub attempt: i64,
    /// The idempotency key sent to the provider.
    pub idempotency_key: String,
    /// Amount in minor units.
    pub amount: i64,
    /// pending, succeeded or failed.
    pub status: String,
    /// Why it failed, if it did.
    pub reason: Option<String>,
    /// Whether a failure is retried another night.
    pub retryable: bool,
    /// When it was made, RFC 3339.
    pub created_at: String,
}

/// A payment taken.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PaymentRow {
    /// The payment's id.
    pub id: i64,
    /// The bill paid.
    pub bill_id: i64,
    /// The attempt that took it.
    pub attempt_id: i64,
    /// Amount in minor units.
    pub amount: i64,
    /// When, RFC 3339.
    pub created_at: String,
}

/// A share: one document's email, sent, pending or skipped with a reason.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ShareRow {
    /// The share's id.
    pub id: i64,
    /// bill or superbill.
    pub document_kind: String,
    /// The document's id.
    pub document_id: i64,
    /// The client's id.
    pub client_id: i64,
    /// pending, sending, sent or skipped.
    pub status: String,
    /// When it is (or was) due, RFC 3339.
    pub due_at: Option<String>,
    /// Why it was skipped, or the last sending error.
    pub reason: Option<String>,
    /// When it was sent.
    pub sent_at: Option<String>,
}

/// One run of a practice's schedule.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RunRow {
    /// The run's id.
    pub id: i64,
    /// bill, superbill or autopay.
    pub kind: String,
    /// Practice-local date, `YYYY-MM-DD`.
    pub date: String,
    /// When it was due, RFC 3339.
    pub due_at: String,
    /// The outcome: pending, running, done or failed.
    pub outcome: String,
    /// How many times it was claimed.
    pub attempts: i64,
    /// Why it failed, if it did.
    pub error: Option<String>,
    /// When it finished.
    pub finished_at: Option<String>,
}

/// A stored plugin.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PluginRow {
    /// The SHA-256 of its bytes, hex.
    pub id: String,
    /// The name it was uploaded under.
    pub name: String,
    /// Its size in bytes.
    pub size: i64,
    /// When it was uploaded, RFC 3339.
    pub created_at: String,
}

fn time(at: i64) -> String {
    instant(at).to_rfc3339()
}

fn optional_time(at: Option<i64>) -> Option<String> {
    at.map(time)
}

fn not_found(what: &'static str, id: impl ToString) -> StoreError {
    StoreError::NotFound { what, id: id.to_string() }
}

const LINE_COLUMNS: &str = "SELECT l.id, l.appointment_id, s.code, l.local_date, l.fee, l.paid, l.bill_id, l.superbill_id FROM service_lines l JOIN services s ON s.id = l.service_id";

fn line(row: &AnyRow) -> Result<LineRow, StoreError> {
    Ok(LineRow {
        id: row.try_get(0)?,
        appointment_id: row.try_get(1)?,
        service: row.try_get(2)?,
        date: row.try_get(3)?,
        fee: row.try_get(4)?,
        paid: row.try_get(5)?,
        bill_id: row.try_get(6)?,
        superbill_id: row.try_get(7)?,
    })
}

const BILL_COLUMNS: &str =
    "SELECT id, client_id, status, total, paid, created_at, opened_at, paid_at, voided_at FROM bills";

fn bill(row: &AnyRow) -> Result<BillRow, StoreError> {
    let (total, paid): (i64, i64) = (row.try_get(3)?, row.try_get(4)?);
    Ok(BillRow {
        id: row.try_get(0)?,
        client_id: row.try_get(1)?,
        status: row.try_get(2)?,
        total,
        paid,
        balance: total - paid,
        created_at: time(row.try_get(5)?),
        opened_at: optional_time(row.try_get(6)?),
        paid_at: optional_time(row.try_get(7)?),
        voided_at: optional_time(row.try_get(8)?),
    })
}

const ATTEMPT_COLUMNS: &str = "SELECT id, bill_id, client_id, attempt, idempotency_key, amount, status, reason, retryable, created_at FROM payment_attempts";

fn attempt(row: &AnyRow) -> Result<AttemptRow, StoreError> {
    Ok(AttemptRow {
        id: row.try_get(0)?,
        bill_id: row.try_get(1)?,
        client_id: row.try_get(2)?,
        attempt: row.try_get(3)?,
        idempotency_key: row.try_get(4)?,
        amount: row.try_get(5)?,
        status: row.try_get(6)?,
        reason: row.try_get(7)?,
        retryable: row.try_get::<i64, _>(8)? != 0,
        created_at: time(row.try_get(9)?),
    })
}

impl Store {
    /// A practice's services.
    pub async fn services(&self, practice: i64) -> Result<Vec<ServiceRow>, StoreError> {
        let rows = sqlx::query("SELECT id, code, name, fee, cpt_code FROM services WHERE practice_id = $1 ORDER BY id")
            .bind(practice)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(ServiceRow {
                    id: row.try_get(0)?,
                    code: row.try_get(1)?,
                    name: row.try_get(2)?,
                    fee: row.try_get(3)?,
                    cpt_code: row.try_get(4)?,
                })
            })
            .collect()
    }

    /// A client of a practice, with why its autopay is paused (if it is).
    pub async fn practice_client(&self, practice: i64, id: i64) -> Result<(Client, Option<String>), StoreError> {
        let row = sqlx::query(&format!("{CLIENT_COLUMNS} WHERE practice_id = $1 AND id = $2"))
            .bind(practice)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| not_found("client", id))?;
        let client = client_from_row(&row)?;
        let paused = sqlx::query("SELECT autopay_paused FROM clients WHERE id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        Ok((client, paused))
    }

    /// A practice's appointments with their lines, oldest first.
    pub async fn appointments(&self, practice: i64) -> Result<Vec<AppointmentRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, reference, client_id, starts_at, local_date, status FROM appointments WHERE practice_id = $1 ORDER BY starts_at, id",
        )
        .bind(practice)
        .fetch_all(&self.pool)
        .await?;
        let lines = sqlx::query(&format!("{LINE_COLUMNS} WHERE l.practice_id = $1 ORDER BY l.id"))
            .bind(practice)
            .fetch_all(&self.pool)
            .await?;
        let lines = lines.iter().map(line).collect::<Result<Vec<_>, _>>()?;
        rows.iter()
            .map(|row| {
                let id: i64 = row.try_get(0)?;
                Ok(AppointmentRow {
                    id,
                    reference: row.try_get(1)?,
                    client_id: row.try_get(2)?,
                    starts_at: time(row.try_get(3)?),
                    date: row.try_get(4)?,
                    status: row.try_get(5)?,
                    lines: lines.iter().filter(|line| line.appointment_id == id).cloned().collect(),
                })
            })
            .collect()
    }

    /// One appointment of a practice.
    pub async fn appointment(&self, practice: i64, id: i64) -> Result<AppointmentRow, StoreError> {
        self.appointments(practice)
            .await?
            .into_iter()
            .find(|appointment| appointment.id == id)
            .ok_or_else(|| not_found("appointment", id))
    }

    /// Changes an appointment's status by id. An appointment whose lines are on a bill or a
    /// superbill keeps its status; the answer says why.
    pub async fn set_appointment_status_by_id(
        &self,
        practice: i64,
        id: i64,
        status: crate::domain::AppointmentStatus,
    ) -> Result<Result<(), String>, StoreError> {
        let mut tx = self.begin().await?;
        let exists = sqlx::query("SELECT id FROM appointments WHERE practice_id = $1 AND id = $2")
            .bind(practice)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(not_found("appointment", id));
        }
        let billed = sqlx::query(
            "SELECT bill_id, superbill_id FROM service_lines WHERE appointment_id = $1 AND (bill_id IS NOT NULL OR superbill_id IS NOT NULL) LIMIT 1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = billed {
            let (bill, superbill): (Option<i64>, Option<i64>) = (row.try_get(0)?, row.try_get(1)?);
            let on =
                bill.map_or_else(|| format!("superbill {}", superbill.unwrap_or_default()), |b| format!("bill {b}"));
            return Ok(Err(format!("appointment {id} is already on {on}; its status can no longer change")));
        }
        sqlx::query("UPDATE appointments SET status = $1 WHERE id = $2")
            .bind(status.as_str())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// A practice's bills, newest first.
    pub async fn bills(&self, practice: i64) -> Result<Vec<BillRow>, StoreError> {
        let rows = sqlx::query(&format!("{BILL_COLUMNS} WHERE practice_id = $1 ORDER BY id DESC"))
            .bind(practice)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(bill).collect()
    }

    /// One bill of a practice.
    pub async fn bill(&self, practice: i64, id: i64) -> Result<BillRow, StoreError> {
        let row = sqlx::query(&format!("{BILL_COLUMNS} WHERE practice_id = $1 AND id = $2"))
            .bind(practice)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| not_found("bill", id))?;
        bill(&row)
    }

    /// One bill of a practice with its lines, products and attempts.
    pub async fn bill_detail(&self, practice: i64, id: i64) -> Result<BillDetail, StoreError> {
        let bill = self.bill(practice, id).await?;
        let lines = sqlx::query(&format!("{LINE_COLUMNS} WHERE l.bill_id = $1 ORDER BY l.id"))
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        let products =
            sqlx::query("SELECT id, name, amount, added_at FROM bill_products WHERE bill_id = $1 ORDER BY id")
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        let attempts = sqlx::query(&format!("{ATTEMPT_COLUMNS} WHERE bill_id = $1 ORDER BY attempt"))
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        Ok(BillDetail {
            bill,
            lines: lines.iter().map(line).collect::<Result<_, _>>()?,
            products: products
                .iter()
                .map(|row| {
                    Ok(ProductRow {
                        id: row.try_get(0)?,
                        name: row.try_get(1)?,
                        amount: row.try_get(2)?,
                        added_at: time(row.try_get(3)?),
                    })
                })
                .collect::<Result<_, StoreError>>()?,
            attempts: attempts.iter().map(attempt).collect::<Result<_, _>>()?,
        })
    }

    /// A practice's superbills, newest first, without their lines.
    pub async fn superbills(&self, practice: i64) -> Result<Vec<SuperbillRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, client_id, total, paid, created_at FROM superbills WHERE practice_id = $1 ORDER BY id DESC",
        )
        .bind(practice)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SuperbillRow {
                    id: row.try_get(0)?,
                    client_id: row.try_get(1)?,
                    total: row.try_get(2)?,
                    paid: row.try_get(3)?,
                    created_at: time(row.try_get(4)?),
                    lines: vec![],
                })
            })
            .collect()
    }

    /// One superbill of a practice with its lines.
    pub async fn superbill(&self, practice: i64, id: i64) -> Result<SuperbillRow, StoreError> {
        let mut superbill = self
            .superbills(practice)
            .await?
            .into_iter()
            .find(|superbill| superbill.id == id)
            .ok_or_else(|| not_found("superbill", id))?;
        let lines = sqlx::query(&format!("{LINE_COLUMNS} WHERE l.superbill_id = $1 ORDER BY l.id"))
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        superbill.lines = lines.iter().map(line).collect::<Result<_, _>>()?;
        Ok(superbill)
    }

    /// A practice's autopay attempts, newest first.
    pub async fn attempts(&self, practice: i64) -> Result<Vec<AttemptRow>, StoreError> {
        let rows = sqlx::query(&format!("{ATTEMPT_COLUMNS} WHERE practice_id = $1 ORDER BY id DESC"))
            .bind(practice)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(attempt).collect()
    }

    /// A practice's payments, newest first.
    pub async fn payments(&self, practice: i64) -> Result<Vec<PaymentRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, bill_id, attempt_id, amount, created_at FROM payments WHERE practice_id = $1 ORDER BY id DESC",
        )
        .bind(practice)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(PaymentRow {
                    id: row.try_get(0)?,
                    bill_id: row.try_get(1)?,
                    attempt_id: row.try_get(2)?,
                    amount: row.try_get(3)?,
                    created_at: time(row.try_get(4)?),
                })
            })
            .collect()
    }

    /// A practice's shares, newest first.
    pub async fn shares(&self, practice: i64) -> Result<Vec<ShareRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, document_kind, document_id, client_id, status, due_at, reason, sent_at FROM shares WHERE practice_id = $1 ORDER BY id DESC",
        )
        .bind(practice)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ShareRow {
                    id: row.try_get(0)?,
                    document_kind: row.try_get(1)?,
                    document_id: row.try_get(2)?,
                    client_id: row.try_get(3)?,
                    status: row.try_get(4)?,
                    due_at: optional_time(row.try_get(5)?),
                    reason: row.try_get(6)?,
                    sent_at: optional_time(row.try_get(7)?),
                })
            })
            .collect()
    }

    /// A practice's runs, newest first.
    pub async fn runs(&self, practice: i64) -> Result<Vec<RunRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, kind, local_date, due_at, status, attempts, error, finished_at FROM runs WHERE practice_id = $1 ORDER BY due_at DESC, id DESC",
        )
        .bind(practice)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(RunRow {
                    id: row.try_get(0)?,
                    kind: row.try_get(1)?,
                    date: row.try_get(2)?,
                    due_at: time(row.try_get(3)?),
                    outcome: row.try_get(4)?,
                    attempts: row.try_get(5)?,
                    error: row.try_get(6)?,
                    finished_at: optional_time(row.try_get(7)?),
                })
            })
            .collect()
    }

    /// Every stored plugin, oldest first.
    pub async fn plugins(&self) -> Result<Vec<PluginRow>, StoreError> {
        let rows = sqlx::query("SELECT id, name, bytes, created_at FROM plugins ORDER BY created_at, id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let bytes: Vec<u8> = row.try_get(2)?;
                Ok(PluginRow {
                    id: row.try_get(0)?,
                    name: row.try_get(1)?,
                    size: i64::try_from(bytes.len()).unwrap_or(i64::MAX),
                    created_at: time(row.try_get(3)?),
                })
            })
            .collect()
    }

    /// Stores the SHA-256 (hex) of a new practice token.
    pub async fn save_api_token(&self, practice: i64, hash: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO api_tokens (token_hash, practice_id, created_at) VALUES ($1, $2, $3)")
            .bind(hash)
            .bind(practice)
            .bind(seconds(now))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The practice a token (by its SHA-256 hex) belongs to.
    pub async fn practice_for_token(&self, hash: &str) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query("SELECT practice_id FROM api_tokens WHERE token_hash = $1")
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| row.try_get(0)).transpose()?)
    }
}
