//! What the API and the console read, every read scoped to a practice: a row of another practice
//! is [`StoreError::NotFound`], exactly like a row that does not exist. The rows serialize as the
//! API answers them.

use super::{PageRequest, Store, StoreError, instant, parse};
use crate::domain::{
    AppointmentId, AppointmentStatus, AttemptId, AttemptStatus, BillId, BillStatus, ClientId, DisputeStatus,
    DocumentKind, LineId, PaymentId, PracticeId, ProductId, RunId, RunKind, RunStatus, ServiceId, ShareId, ShareStatus,
    SuperbillId,
};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use utoipa::ToSchema;

/// A service a practice offers.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ServiceRow {
    /// The service's id.
    #[schema(value_type = i64)]
    pub id: ServiceId,
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
    #[schema(value_type = i64)]
    pub id: LineId,
    /// The appointment's id.
    #[schema(value_type = i64)]
    pub appointment_id: AppointmentId,
    /// The service's code.
    pub service: String,
    /// Practice-local date of service, `YYYY-MM-DD`.
    pub date: String,
    /// Fee in minor units.
    pub fee: i64,
    /// Paid against it, in minor units.
    pub paid: i64,
    /// The bill it is on, if any.
    #[schema(value_type = Option<i64>)]
    pub bill_id: Option<BillId>,
    /// The superbill it is on, if any.
    #[schema(value_type = Option<i64>)]
    pub superbill_id: Option<SuperbillId>,
}

/// An appointment with its service lines.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AppointmentRow {
    /// The appointment's id.
    #[schema(value_type = i64)]
    pub id: AppointmentId,
    /// The practice's own reference.
    pub reference: String,
    /// The client's id.
    #[schema(value_type = i64)]
    pub client_id: ClientId,
    /// When it starts, RFC 3339.
    pub starts_at: String,
    /// Practice-local date, `YYYY-MM-DD`.
    pub date: String,
    /// scheduled, completed, cancelled or no_show.
    #[schema(value_type = String)]
    pub status: AppointmentStatus,
    /// The services delivered.
    pub lines: Vec<LineRow>,
}

/// A bill.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BillRow {
    /// The bill's id.
    #[schema(value_type = i64)]
    pub id: BillId,
    /// The client's id.
    #[schema(value_type = i64)]
    pub client_id: ClientId,
    /// pended, open, paid, void or refunded.
    #[schema(value_type = String)]
    pub status: BillStatus,
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
    #[schema(value_type = i64)]
    pub id: ProductId,
    /// Its name.
    pub name: String,
    /// Its amount in minor units.
    pub amount: i64,
    /// When it was added, RFC 3339.
    pub added_at: String,
}

/// A bill with its lines, products, payment attempts and payments.
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
    /// Payments taken on it, each with its dispute and refund state.
    pub payments: Vec<PaymentRow>,
}

/// A superbill.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SuperbillRow {
    /// The superbill's id.
    #[schema(value_type = i64)]
    pub id: SuperbillId,
    /// The client's id.
    #[schema(value_type = i64)]
    pub client_id: ClientId,
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
    #[schema(value_type = i64)]
    pub id: AttemptId,
    /// The bill charged.
    #[schema(value_type = i64)]
    pub bill_id: BillId,
    /// The client's id.
    #[schema(value_type = i64)]
    pub client_id: ClientId,
    /// 1, 2, 3… for the bill.
    pub attempt: i64,
    /// The idempotency key sent to the provider.
    pub idempotency_key: String,
    /// Amount in minor units.
    pub amount: i64,
    /// pending, succeeded or failed.
    #[schema(value_type = String)]
    pub status: AttemptStatus,
    /// Why it failed, if it did.
    pub reason: Option<String>,
    /// Whether a failure is retried another night.
    pub retryable: bool,
    /// When it was made, RFC 3339.
    pub created_at: String,
    /// The payment provider's reference once the attempt reached an outcome it names.
    pub provider_reference: Option<String>,
}

/// A payment taken.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PaymentRow {
    /// The payment's id.
    #[schema(value_type = i64)]
    pub id: PaymentId,
    /// The bill paid.
    #[schema(value_type = i64)]
    pub bill_id: BillId,
    /// The attempt that took it.
    #[schema(value_type = i64)]
    pub attempt_id: AttemptId,
    /// Amount in minor units.
    pub amount: i64,
    /// When, RFC 3339.
    pub created_at: String,
    /// The payment provider's reference (`pi_…` on Stripe, `sandbox_…` in the sandbox); none for
    /// payments taken before references were kept.
    pub provider_reference: Option<String>,
    /// Where the client's dispute of it stands (Stripe's names: needs_response, under_review,
    /// won, lost…); none when it was never disputed.
    #[schema(value_type = Option<String>)]
    pub dispute_status: Option<DisputeStatus>,
    /// The amount disputed, in minor units (0 without a dispute).
    pub disputed_amount: i64,
    /// Refunded of it at the provider so far, in minor units.
    pub refunded: i64,
}

/// A share: one document's email, sent, pending or skipped with a reason.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ShareRow {
    /// The share's id.
    #[schema(value_type = i64)]
    pub id: ShareId,
    /// bill or superbill.
    #[schema(value_type = String)]
    pub document_kind: DocumentKind,
    /// The document's id.
    pub document_id: i64,
    /// The client's id.
    #[schema(value_type = i64)]
    pub client_id: ClientId,
    /// pending, sending, sent, skipped, unknown or held.
    #[schema(value_type = String)]
    pub status: ShareStatus,
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
    #[schema(value_type = i64)]
    pub id: RunId,
    /// bill, superbill or autopay.
    #[schema(value_type = String)]
    pub kind: RunKind,
    /// Practice-local date, `YYYY-MM-DD`.
    pub date: String,
    /// When it was due, RFC 3339.
    pub due_at: String,
    /// The outcome: pending, running, done or failed.
    #[schema(value_type = String)]
    pub outcome: RunStatus,
    /// How many times it was claimed.
    pub attempts: i64,
    /// Why it failed, if it did.
    pub error: Option<String>,
    /// When it finished.
    pub finished_at: Option<String>,
}

pub(super) fn time(at: i64) -> String {
    instant(at).to_rfc3339()
}

pub(super) fn optional_time(at: Option<i64>) -> Option<String> {
    at.map(time)
}

macro_rules! select_line {
    () => {
        "SELECT l.id, l.appointment_id, s.code, l.local_date, l.fee, l.paid, l.bill_id, l.superbill_id FROM service_lines l JOIN services s ON s.id = l.service_id"
    };
}

fn line(row: &AnyRow) -> Result<LineRow, StoreError> {
    Ok(LineRow {
        id: LineId::new(row.try_get(0)?),
        appointment_id: AppointmentId::new(row.try_get(1)?),
        service: row.try_get(2)?,
        date: row.try_get(3)?,
        fee: row.try_get(4)?,
        paid: row.try_get(5)?,
        bill_id: row.try_get::<Option<i64>, _>(6)?.map(BillId::new),
        superbill_id: row.try_get::<Option<i64>, _>(7)?.map(SuperbillId::new),
    })
}

macro_rules! select_bill {
    () => {
        "SELECT id, client_id, status, total, paid, created_at, opened_at, paid_at, voided_at FROM bills"
    };
}

fn bill(row: &AnyRow) -> Result<BillRow, StoreError> {
    let (total, paid): (i64, i64) = (row.try_get(3)?, row.try_get(4)?);
    let status: String = row.try_get(2)?;
    Ok(BillRow {
        id: BillId::new(row.try_get(0)?),
        client_id: ClientId::new(row.try_get(1)?),
        status: parse("bill status", &status)?,
        total,
        paid,
        balance: total - paid,
        created_at: time(row.try_get(5)?),
        opened_at: optional_time(row.try_get(6)?),
        paid_at: optional_time(row.try_get(7)?),
        voided_at: optional_time(row.try_get(8)?),
    })
}

macro_rules! select_attempt {
    () => {
        "SELECT id, bill_id, client_id, attempt, idempotency_key, amount, status, reason, retryable, created_at, provider_reference FROM payment_attempts"
    };
}

fn attempt(row: &AnyRow) -> Result<AttemptRow, StoreError> {
    let status: String = row.try_get(6)?;
    Ok(AttemptRow {
        id: AttemptId::new(row.try_get(0)?),
        bill_id: BillId::new(row.try_get(1)?),
        client_id: ClientId::new(row.try_get(2)?),
        attempt: row.try_get(3)?,
        idempotency_key: row.try_get(4)?,
        amount: row.try_get(5)?,
        status: parse("attempt status", &status)?,
        reason: row.try_get(7)?,
        retryable: row.try_get::<i64, _>(8)? != 0,
        created_at: time(row.try_get(9)?),
        provider_reference: row.try_get(10)?,
    })
}

macro_rules! select_payment {
    () => {
        "SELECT id, bill_id, attempt_id, amount, created_at, provider_reference, dispute_status, disputed_amount, refunded FROM payments"
    };
}

fn payment(row: &AnyRow) -> Result<PaymentRow, StoreError> {
    let dispute: Option<String> = row.try_get(6)?;
    Ok(PaymentRow {
        id: PaymentId::new(row.try_get(0)?),
        bill_id: BillId::new(row.try_get(1)?),
        attempt_id: AttemptId::new(row.try_get(2)?),
        amount: row.try_get(3)?,
        created_at: time(row.try_get(4)?),
        provider_reference: row.try_get(5)?,
        dispute_status: dispute.map(|text| parse("dispute status", &text)).transpose()?,
        disputed_amount: row.try_get(7)?,
        refunded: row.try_get(8)?,
    })
}

macro_rules! select_share {
    () => {
        "SELECT id, document_kind, document_id, client_id, status, due_at, reason, sent_at FROM shares"
    };
}

fn share(row: &AnyRow) -> Result<ShareRow, StoreError> {
    let kind: String = row.try_get(1)?;
    let status: String = row.try_get(4)?;
    Ok(ShareRow {
        id: ShareId::new(row.try_get(0)?),
        document_kind: parse("document kind", &kind)?,
        document_id: row.try_get(2)?,
        client_id: ClientId::new(row.try_get(3)?),
        status: parse("share status", &status)?,
        due_at: optional_time(row.try_get(5)?),
        reason: row.try_get(6)?,
        sent_at: optional_time(row.try_get(7)?),
    })
}

macro_rules! select_appointment {
    () => {
        "SELECT id, reference, client_id, starts_at, local_date, status FROM appointments"
    };
}

fn appointment(row: &AnyRow, lines: Vec<LineRow>) -> Result<AppointmentRow, StoreError> {
    let status: String = row.try_get(5)?;
    Ok(AppointmentRow {
        id: AppointmentId::new(row.try_get(0)?),
        reference: row.try_get(1)?,
        client_id: ClientId::new(row.try_get(2)?),
        starts_at: time(row.try_get(3)?),
        date: row.try_get(4)?,
        status: parse("appointment status", &status)?,
        lines,
    })
}

impl Store {
    /// A page of a practice's services, by id.
    pub async fn services(&self, practice: PracticeId, page: PageRequest) -> Result<Vec<ServiceRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, code, name, fee, cpt_code FROM services WHERE practice_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(practice.get())
        .bind(page.above())
        .bind(page.rows())
        .fetch_all(&self.reads)
        .await?;
        rows.iter().map(service).collect()
    }

    /// One service of a practice.
    pub async fn service(&self, practice: PracticeId, id: ServiceId) -> Result<ServiceRow, StoreError> {
        let row = sqlx::query("SELECT id, code, name, fee, cpt_code FROM services WHERE practice_id = $1 AND id = $2")
            .bind(practice.get())
            .bind(id.get())
            .fetch_optional(&self.reads)
            .await?
            .ok_or_else(|| StoreError::not_found("service", id))?;
        service(&row)
    }

    /// A page of a practice's appointments with their lines, by id (the order they were made).
    pub async fn appointments(
        &self,
        practice: PracticeId,
        page: PageRequest,
    ) -> Result<Vec<AppointmentRow>, StoreError> {
        let rows =
            sqlx::query(concat!(select_appointment!(), " WHERE practice_id = $1 AND id > $2 ORDER BY id LIMIT $3"))
                .bind(practice.get())
                .bind(page.above())
                .bind(page.rows())
                .fetch_all(&self.reads)
                .await?;
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else { return Ok(vec![]) };
        // The page's appointments are exactly the practice's with ids in its range.
        let lines = sqlx::query(concat!(
            select_line!(),
            " WHERE l.practice_id = $1 AND l.appointment_id BETWEEN $2 AND $3 ORDER BY l.id"
        ))
        .bind(practice.get())
        .bind(first.try_get::<i64, _>(0)?)
        .bind(last.try_get::<i64, _>(0)?)
        .fetch_all(&self.reads)
        .await?;
        let mut by_appointment: std::collections::HashMap<AppointmentId, Vec<LineRow>> = Default::default();
        for row in &lines {
            let line = line(row)?;
            by_appointment.entry(line.appointment_id).or_default().push(line);
        }
        rows.iter()
            .map(|row| {
                let id = AppointmentId::new(row.try_get(0)?);
                appointment(row, by_appointment.remove(&id).unwrap_or_default())
            })
            .collect()
    }

    /// One appointment of a practice, with its lines.
    pub async fn appointment(&self, practice: PracticeId, id: AppointmentId) -> Result<AppointmentRow, StoreError> {
        let row = sqlx::query(concat!(select_appointment!(), " WHERE practice_id = $1 AND id = $2"))
            .bind(practice.get())
            .bind(id.get())
            .fetch_optional(&self.reads)
            .await?
            .ok_or_else(|| StoreError::not_found("appointment", id))?;
        let lines = sqlx::query(concat!(select_line!(), " WHERE l.appointment_id = $1 ORDER BY l.id"))
            .bind(id.get())
            .fetch_all(&self.reads)
            .await?;
        appointment(&row, lines.iter().map(line).collect::<Result<_, _>>()?)
    }

    /// A page of a practice's bills, newest first.
    pub async fn bills(&self, practice: PracticeId, page: PageRequest) -> Result<Vec<BillRow>, StoreError> {
        let rows =
            sqlx::query(concat!(select_bill!(), " WHERE practice_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"))
                .bind(practice.get())
                .bind(page.below())
                .bind(page.rows())
                .fetch_all(&self.reads)
                .await?;
        rows.iter().map(bill).collect()
    }

    /// One bill of a practice.
    pub async fn bill(&self, practice: PracticeId, id: BillId) -> Result<BillRow, StoreError> {
        let row = sqlx::query(concat!(select_bill!(), " WHERE practice_id = $1 AND id = $2"))
            .bind(practice.get())
            .bind(id.get())
            .fetch_optional(&self.reads)
            .await?
            .ok_or_else(|| StoreError::not_found("bill", id))?;
        bill(&row)
    }

    /// One bill of a practice with its lines, products and attempts.
    pub async fn bill_detail(&self, practice: PracticeId, id: BillId) -> Result<BillDetail, StoreError> {
        let bill = self.bill(practice, id).await?;
        let lines = sqlx::query(concat!(select_line!(), " WHERE l.bill_id = $1 ORDER BY l.id"))
            .bind(id.get())
            .fetch_all(&self.reads)
            .await?;
        let products =
            sqlx::query("SELECT id, name, amount, added_at FROM bill_products WHERE bill_id = $1 ORDER BY id")
                .bind(id.get())
                .fetch_all(&self.reads)
                .await?;
        let attempts = sqlx::query(concat!(select_attempt!(), " WHERE bill_id = $1 ORDER BY attempt"))
            .bind(id.get())
            .fetch_all(&self.reads)
            .await?;
        let payments = sqlx::query(concat!(select_payment!(), " WHERE bill_id = $1 ORDER BY id"))
            .bind(id.get())
            .fetch_all(&self.reads)
            .await?;
        Ok(BillDetail {
            bill,
            lines: lines.iter().map(line).collect::<Result<_, _>>()?,
            products: products
                .iter()
                .map(|row| {
                    Ok(ProductRow {
                        id: ProductId::new(row.try_get(0)?),
                        name: row.try_get(1)?,
                        amount: row.try_get(2)?,
                        added_at: time(row.try_get(3)?),
                    })
                })
                .collect::<Result<_, StoreError>>()?,
            attempts: attempts.iter().map(attempt).collect::<Result<_, _>>()?,
            payments: payments.iter().map(payment).collect::<Result<_, _>>()?,
        })
    }

    /// A page of a practice's superbills, newest first, without their lines.
    pub async fn superbills(&self, practice: PracticeId, page: PageRequest) -> Result<Vec<SuperbillRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, client_id, total, paid, created_at FROM superbills WHERE practice_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(practice.get())
        .bind(page.below())
        .bind(page.rows())
        .fetch_all(&self.reads)
        .await?;
        rows.iter().map(superbill).collect()
    }

    /// One superbill of a practice with its lines.
    pub async fn superbill(&self, practice: PracticeId, id: SuperbillId) -> Result<SuperbillRow, StoreError> {
        let row = sqlx::query(
            "SELECT id, client_id, total, paid, created_at FROM superbills WHERE practice_id = $1 AND id = $2",
        )
        .bind(practice.get())
        .bind(id.get())
        .fetch_optional(&self.reads)
        .await?
        .ok_or_else(|| StoreError::not_found("superbill", id))?;
        let mut superbill = superbill(&row)?;
        let lines = sqlx::query(concat!(select_line!(), " WHERE l.superbill_id = $1 ORDER BY l.id"))
            .bind(id.get())
            .fetch_all(&self.reads)
            .await?;
        superbill.lines = lines.iter().map(line).collect::<Result<_, _>>()?;
        Ok(superbill)
    }

    /// A page of a practice's autopay attempts, newest first.
    pub async fn attempts(&self, practice: PracticeId, page: PageRequest) -> Result<Vec<AttemptRow>, StoreError> {
        let rows =
            sqlx::query(concat!(select_attempt!(), " WHERE practice_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"))
                .bind(practice.get())
                .bind(page.below())
                .bind(page.rows())
                .fetch_all(&self.reads)
                .await?;
        rows.iter().map(attempt).collect()
    }

    /// A page of a practice's payments, newest first.
    pub async fn payments(&self, practice: PracticeId, page: PageRequest) -> Result<Vec<PaymentRow>, StoreError> {
        let rows =
            sqlx::query(concat!(select_payment!(), " WHERE practice_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"))
                .bind(practice.get())
                .bind(page.below())
                .bind(page.rows())
                .fetch_all(&self.reads)
                .await?;
        rows.iter().map(payment).collect()
    }

    /// A page of a practice's shares, newest first.
    pub async fn shares(&self, practice: PracticeId, page: PageRequest) -> Result<Vec<ShareRow>, StoreError> {
        let rows =
            sqlx::query(concat!(select_share!(), " WHERE practice_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"))
                .bind(practice.get())
                .bind(page.below())
                .bind(page.rows())
                .fetch_all(&self.reads)
                .await?;
        rows.iter().map(share).collect()
    }

    /// A page of a practice's runs, newest first (by when they were scheduled).
    pub async fn runs(&self, practice: PracticeId, page: PageRequest) -> Result<Vec<RunRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, kind, local_date, due_at, status, attempts, error, finished_at FROM runs WHERE practice_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(practice.get())
        .bind(page.below())
        .bind(page.rows())
        .fetch_all(&self.reads)
        .await?;
        rows.iter()
            .map(|row| {
                let kind: String = row.try_get(1)?;
                let status: String = row.try_get(4)?;
                Ok(RunRow {
                    id: RunId::new(row.try_get(0)?),
                    kind: parse("run kind", &kind)?,
                    date: row.try_get(2)?,
                    due_at: time(row.try_get(3)?),
                    outcome: parse("run status", &status)?,
                    attempts: row.try_get(5)?,
                    error: row.try_get(6)?,
                    finished_at: optional_time(row.try_get(7)?),
                })
            })
            .collect()
    }
}

fn service(row: &AnyRow) -> Result<ServiceRow, StoreError> {
    Ok(ServiceRow {
        id: ServiceId::new(row.try_get(0)?),
        code: row.try_get(1)?,
        name: row.try_get(2)?,
        fee: row.try_get(3)?,
        cpt_code: row.try_get(4)?,
    })
}

fn superbill(row: &AnyRow) -> Result<SuperbillRow, StoreError> {
    Ok(SuperbillRow {
        id: SuperbillId::new(row.try_get(0)?),
        client_id: ClientId::new(row.try_get(1)?),
        total: row.try_get(2)?,
        paid: row.try_get(3)?,
        created_at: time(row.try_get(4)?),
        lines: vec![],
    })
}

/// What the console reads beyond the API's lists: a client's own documents, bills by status,
/// shares and attempts that need a person, and client search. Every read is scoped to a practice.
impl Store {
    /// A page of a practice's bills with `status` (every status when `None`), newest first.
    pub async fn bills_with_status(
        &self,
        practice: PracticeId,
        status: Option<BillStatus>,
        page: PageRequest,
    ) -> Result<Vec<BillRow>, StoreError> {
        let Some(status) = status else { return self.bills(practice, page).await };
        let rows = sqlx::query(concat!(
            select_bill!(),
            " WHERE practice_id = $1 AND status = $2 AND id < $3 ORDER BY id DESC LIMIT $4"
        ))
        .bind(practice.get())
        .bind(status.as_str())
        .bind(page.below())
        .bind(page.rows())
        .fetch_all(&self.reads)
        .await?;
        rows.iter().map(bill).collect()
    }

    /// A client's newest bills, at most `limit`.
    pub async fn client_bills(
        &self,
        practice: PracticeId,
        client: ClientId,
        limit: i64,
    ) -> Result<Vec<BillRow>, StoreError> {
        let rows = sqlx::query(concat!(
            select_bill!(),
            " WHERE practice_id = $1 AND client_id = $2 ORDER BY id DESC LIMIT $3"
        ))
        .bind(practice.get())
        .bind(client.get())
        .bind(limit)
        .fetch_all(&self.reads)
        .await?;
        rows.iter().map(bill).collect()
    }

    /// A client's newest superbills (without lines), at most `limit`.
    pub async fn client_superbills(
        &self,
        practice: PracticeId,
        client: ClientId,
        limit: i64,
    ) -> Result<Vec<SuperbillRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, client_id, total, paid, created_at FROM superbills WHERE practice_id = $1 AND client_id = $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(practice.get())
        .bind(client.get())
        .bind(limit)
        .fetch_all(&self.reads)
        .await?;
        rows.iter().map(superbill).collect()
    }

    /// A client's newest shares, at most `limit`.
    pub async fn client_shares(
        &self,
        practice: PracticeId,
        client: ClientId,
        limit: i64,
    ) -> Result<Vec<ShareRow>, StoreError> {
        let rows = sqlx::query(concat!(
            select_share!(),
            " WHERE practice_id = $1 AND client_id = $2 ORDER BY id DESC LIMIT $3"
        ))
        .bind(practice.get())
        .bind(client.get())
        .bind(limit)
        .fetch_all(&self.reads)
        .await?;
        rows.iter().map(share).collect()
    }

    /// Payments on a client's bills, newest first, at most `limit`.
    pub async fn client_payments(
        &self,
        practice: PracticeId,
        client: ClientId,
        limit: i64,
    ) -> Result<Vec<PaymentRow>, StoreError> {
        let rows = sqlx::query(concat!(
            select_payment!(),
            " WHERE practice_id = $1 AND bill_id IN (SELECT id FROM bills WHERE practice_id = $1 AND client_id = $2) ORDER BY id DESC LIMIT $3"
        ))
        .bind(practice.get())
        .bind(client.get())
        .bind(limit)
        .fetch_all(&self.reads)
        .await?;
        rows.iter().map(payment).collect()
    }

    /// The share of one document, if it has one.
    pub async fn document_share(
        &self,
        practice: PracticeId,
        kind: DocumentKind,
        document: i64,
    ) -> Result<Option<ShareRow>, StoreError> {
        let row = sqlx::query(concat!(
            select_share!(),
            " WHERE practice_id = $1 AND document_kind = $2 AND document_id = $3"
        ))
        .bind(practice.get())
        .bind(kind.as_str())
        .bind(document)
        .fetch_optional(&self.reads)
        .await?;
        row.as_ref().map(share).transpose()
    }

    /// One share of a practice.
    pub async fn practice_share(&self, practice: PracticeId, id: ShareId) -> Result<ShareRow, StoreError> {
        let row = sqlx::query(concat!(select_share!(), " WHERE practice_id = $1 AND id = $2"))
            .bind(practice.get())
            .bind(id.get())
            .fetch_optional(&self.reads)
            .await?
            .ok_or_else(|| StoreError::not_found("share", id))?;
        share(&row)
    }

    /// A practice's newest shares with `status`, at most `limit`.
    pub async fn shares_with_status(
        &self,
        practice: PracticeId,
        status: ShareStatus,
        limit: i64,
    ) -> Result<Vec<ShareRow>, StoreError> {
        let rows =
            sqlx::query(concat!(select_share!(), " WHERE practice_id = $1 AND status = $2 ORDER BY id DESC LIMIT $3"))
                .bind(practice.get())
                .bind(status.as_str())
                .bind(limit)
                .fetch_all(&self.reads)
                .await?;
        rows.iter().map(share).collect()
    }

    /// A practice's newest failed autopay attempts, at most `limit`.
    pub async fn failed_attempts(&self, practice: PracticeId, limit: i64) -> Result<Vec<AttemptRow>, StoreError> {
        let rows = sqlx::query(concat!(
            select_attempt!(),
            " WHERE practice_id = $1 AND status = $2 ORDER BY id DESC LIMIT $3"
        ))
        .bind(practice.get())
        .bind(AttemptStatus::Failed.as_str())
        .bind(limit)
        .fetch_all(&self.reads)
        .await?;
        rows.iter().map(attempt).collect()
    }

    /// A practice's clients whose name or reference contains `text` (ignoring case), by id, at
    /// most `limit`. `%` and `_` in the text match themselves.
    pub async fn search_clients(
        &self,
        practice: PracticeId,
        text: &str,
        limit: i64,
    ) -> Result<Vec<crate::domain::Client>, StoreError> {
        let escaped = text.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        let pattern = format!("%{escaped}%");
        let rows = sqlx::query(concat!(
            super::records::select_client!(),
            " WHERE practice_id = $1 AND (LOWER(name) LIKE $2 ESCAPE '\\' OR LOWER(reference) LIKE $2 ESCAPE '\\') ORDER BY id LIMIT $3"
        ))
        .bind(practice.get())
        .bind(pattern)
        .bind(limit)
        .fetch_all(&self.reads)
        .await?;
        rows.iter().map(super::records::client).collect()
    }
}
