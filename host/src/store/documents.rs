//! Bills and superbills: the lines a run may put on them, creating them in bulk, the changes
//! people make to bills (each one conditional write, so concurrent requests cannot both win),
//! and a document with everything its PDF shows.

use super::batch::{self, Value};
use super::records::{client, select_client};
use super::{Dialect, Store, StoreError, Tx, date_text, instant, parse, parse_date, seconds};
use crate::domain::{
    AppointmentId, BILLABLE_APPOINTMENT_STATUS, BillDocument, BillId, BillLine, BillPayment, BillProduct, BillStatus,
    CandidateLine, Candidates, Client, ClientId, Document, DocumentId, DocumentKind, DocumentToShare, LineId,
    MIN_BILLABLE_FEE, NewBill, NewSuperbill, PracticeId, ServiceCodes, ServiceId, SuperbillDocument, SuperbillId,
    SuperbillLine,
};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Row;
use std::collections::HashMap;

/// A person's change to a bill that its state did not allow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    /// The bill's status when the change was refused.
    pub status: BillStatus,
    /// What had been paid on it, in minor units.
    pub paid: i64,
}

/// A bill a person opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opened {
    /// The bill, as the share policy is asked about it.
    pub bill: DocumentToShare,
    /// Its client.
    pub client: Client,
}

/// The lines a bill run may bill, with everything they refer to. See [`Store::candidate_lines`].
const BILL_CANDIDATES: &str = "SELECT a.id, a.reference, a.status, l.client_id, l.local_date,
        string_agg(l.id || ' ' || l.service_id || ' ' || l.fee || ' ' || l.paid, ' ')
 FROM service_lines l
 JOIN appointments a ON a.id = l.appointment_id AND a.practice_id = l.practice_id
 WHERE l.practice_id = $1 AND l.bill_id IS NULL AND a.status = $2 AND l.fee >= $3 AND l.local_date < $4
 GROUP BY a.id, a.reference, a.status, l.client_id, l.local_date";

/// The lines a superbill run may put on superbills.
const SUPERBILL_CANDIDATES: &str = "SELECT a.id, a.reference, a.status, l.client_id, l.local_date,
        string_agg(l.id || ' ' || l.service_id || ' ' || l.fee || ' ' || l.paid, ' ')
 FROM service_lines l
 JOIN appointments a ON a.id = l.appointment_id AND a.practice_id = l.practice_id
 WHERE l.practice_id = $1 AND l.superbill_id IS NULL AND a.status = $2 AND l.fee >= $3 AND l.local_date < $4
 GROUP BY a.id, a.reference, a.status, l.client_id, l.local_date";

/// On PostgreSQL, the appointments a bill run is about to bill, locked until it commits: a
/// concurrent cancel (which locks its appointment first) waits, then finds the lines billed and is
/// refused; a cancel that committed first is seen by the candidates' read, a statement of its own.
/// SQLite needs no lock: `BEGIN IMMEDIATE` holds every other writer off.
const LOCK_BILL_CANDIDATES_POSTGRES: &str = "SELECT a.id FROM appointments a
 WHERE a.practice_id = $1 AND a.status = $2
   AND EXISTS (SELECT 1 FROM service_lines l WHERE l.appointment_id = a.id AND l.practice_id = $1
               AND l.bill_id IS NULL AND l.fee >= $3 AND l.local_date < $4)
 FOR UPDATE OF a";

/// [`LOCK_BILL_CANDIDATES_POSTGRES`] for a superbill run.
const LOCK_SUPERBILL_CANDIDATES_POSTGRES: &str = "SELECT a.id FROM appointments a
 WHERE a.practice_id = $1 AND a.status = $2
   AND EXISTS (SELECT 1 FROM service_lines l WHERE l.appointment_id = a.id AND l.practice_id = $1
               AND l.superbill_id IS NULL AND l.fee >= $3 AND l.local_date < $4)
 FOR UPDATE OF a";

/// Reads an appointment's packed lines: whole numbers, four a line (`id service fee paid`).
fn packed_lines(packed: &str) -> Result<Vec<[i64; 4]>, StoreError> {
    let corrupt = || StoreError::Corrupt(format!("packed service lines `{packed}`"));
    let numbers = packed.split(' ').map(|n| n.parse::<i64>().map_err(|_| corrupt())).collect::<Result<Vec<_>, _>>()?;
    numbers.chunks(4).map(|chunk| <[i64; 4]>::try_from(chunk).map_err(|_| corrupt())).collect()
}

impl Store {
    /// The billable lines of a practice dated before `before` that are on no document of `kind`
    /// yet, ordered by date and line, with their services' codes, their appointments'
    /// references and the practice's clients.
    ///
    /// A practice's month end reads a thousand lines or more, and every row costs a hand-over
    /// from the database, so the lines come one row per appointment and date, their numbers
    /// packed into one text. The join names the practice too: PostgreSQL then reads only the
    /// practice's appointments rather than scanning the whole table once per practice.
    pub async fn candidate_lines(
        &self,
        tx: &mut Tx,
        practice: PracticeId,
        kind: DocumentKind,
        before: NaiveDate,
    ) -> Result<Candidates, StoreError> {
        let (sql, lock) = match kind {
            DocumentKind::Bill => (BILL_CANDIDATES, LOCK_BILL_CANDIDATES_POSTGRES),
            DocumentKind::Superbill => (SUPERBILL_CANDIDATES, LOCK_SUPERBILL_CANDIDATES_POSTGRES),
        };
        if self.dialect == Dialect::Postgres {
            sqlx::query(lock)
                .bind(practice.get())
                .bind(BILLABLE_APPOINTMENT_STATUS.as_str())
                .bind(MIN_BILLABLE_FEE)
                .bind(date_text(before))
                .fetch_all(tx.conn())
                .await?;
        }
        let rows = sqlx::query(sql)
            .bind(practice.get())
            .bind(BILLABLE_APPOINTMENT_STATUS.as_str())
            .bind(MIN_BILLABLE_FEE)
            .bind(date_text(before))
            .fetch_all(tx.conn())
            .await?;
        let mut candidates = Candidates::default();
        if rows.is_empty() {
            return Ok(candidates);
        }
        let services = sqlx::query("SELECT id, code, cpt_code FROM services WHERE practice_id = $1")
            .bind(practice.get())
            .fetch_all(tx.conn())
            .await?;
        for row in &services {
            let codes = ServiceCodes { code: row.try_get(1)?, cpt: row.try_get(2)? };
            candidates.services.insert(ServiceId::new(row.try_get(0)?), codes);
        }
        candidates.clients = clients_in(tx, practice).await?.into_iter().map(|client| (client.id, client)).collect();
        candidates.appointments.reserve(rows.len());
        for row in &rows {
            let appointment = AppointmentId::new(row.try_get(0)?);
            let status: String = row.try_get(2)?;
            let status = parse("appointment status", &status)?;
            let client = ClientId::new(row.try_get(3)?);
            let date = parse_date(&row.try_get::<String, _>(4)?)?;
            let packed: String = row.try_get(5)?;
            candidates.appointments.insert(appointment, row.try_get(1)?);
            for [id, service, fee, paid] in packed_lines(&packed)? {
                let service = ServiceId::new(service);
                if !candidates.services.contains_key(&service) {
                    return Err(StoreError::not_found("service", service));
                }
                candidates.lines.push(CandidateLine {
                    id: LineId::new(id),
                    appointment,
                    status,
                    client,
                    date,
                    service,
                    fee,
                    paid,
                });
            }
        }
        candidates.lines.sort_unstable_by_key(|line| (line.date, line.id));
        Ok(candidates)
    }

    /// Creates a run's bills and points their lines at them; gives the new bills' ids in order.
    /// A line already on a bill fails the whole run.
    pub async fn insert_bills(
        &self,
        tx: &mut Tx,
        practice: PracticeId,
        bills: &[NewBill],
        at: DateTime<Utc>,
    ) -> Result<Vec<BillId>, StoreError> {
        let at = seconds(at);
        let rows: Vec<Vec<Value>> = bills
            .iter()
            .map(|bill| {
                let opened_at = (bill.status == BillStatus::Open).then_some(at);
                vec![
                    practice.get().into(),
                    bill.client.get().into(),
                    bill.status.into(),
                    bill.total.into(),
                    at.into(),
                    opened_at.into(),
                ]
            })
            .collect();
        let ids = batch::insert_returning_ids(
            tx,
            "INSERT INTO bills (practice_id, client_id, status, total, created_at, opened_at)",
            &rows,
        )
        .await?;
        let links: Vec<Vec<Value>> = bills
            .iter()
            .zip(&ids)
            .flat_map(|(bill, id)| bill.lines.iter().map(move |line| vec![line.get().into(), (*id).into()]))
            .collect();
        // `column1` and `column2` are the names SQLite and PostgreSQL both give a VALUES list's columns.
        let linked = batch::execute(
            tx,
            "UPDATE service_lines SET bill_id = v.column2 FROM (",
            ") AS v WHERE service_lines.id = v.column1 AND service_lines.bill_id IS NULL",
            &links,
        )
        .await?;
        if linked != links.len() as u64 {
            return Err(StoreError::Corrupt(
                "a line was already on another bill while attaching lines to new bills".into(),
            ));
        }
        Ok(ids.into_iter().map(BillId::new).collect())
    }

    /// Creates a run's superbills and points their lines at them; gives their ids in order.
    pub async fn insert_superbills(
        &self,
        tx: &mut Tx,
        practice: PracticeId,
        superbills: &[NewSuperbill],
        at: DateTime<Utc>,
    ) -> Result<Vec<SuperbillId>, StoreError> {
        let at = seconds(at);
        let rows: Vec<Vec<Value>> = superbills
            .iter()
            .map(|superbill| {
                vec![
                    practice.get().into(),
                    superbill.client.get().into(),
                    superbill.total.into(),
                    superbill.paid.into(),
                    at.into(),
                ]
            })
            .collect();
        let ids = batch::insert_returning_ids(
            tx,
            "INSERT INTO superbills (practice_id, client_id, total, paid, created_at)",
            &rows,
        )
        .await?;
        let links: Vec<Vec<Value>> = superbills
            .iter()
            .zip(&ids)
            .flat_map(|(superbill, id)| superbill.lines.iter().map(move |line| vec![line.get().into(), (*id).into()]))
            .collect();
        let linked = batch::execute(
            tx,
            "UPDATE service_lines SET superbill_id = v.column2 FROM (",
            ") AS v WHERE service_lines.id = v.column1 AND service_lines.superbill_id IS NULL",
            &links,
        )
        .await?;
        if linked != links.len() as u64 {
            return Err(StoreError::Corrupt(
                "a line was already on another superbill while attaching lines to new superbills".into(),
            ));
        }
        Ok(ids.into_iter().map(SuperbillId::new).collect())
    }

    /// The bill holding an appointment's lines, by the practice's appointment reference.
    pub async fn bill_of_appointment(
        &self,
        practice: PracticeId,
        appointment: &str,
    ) -> Result<Option<BillId>, StoreError> {
        let row = sqlx::query(
            "SELECT l.bill_id FROM service_lines l JOIN appointments a ON a.id = l.appointment_id
             WHERE a.practice_id = $1 AND a.reference = $2 AND l.bill_id IS NOT NULL LIMIT 1",
        )
        .bind(practice.get())
        .bind(appointment)
        .fetch_optional(&self.reads)
        .await?;
        Ok(row.map(|row| row.try_get(0)).transpose()?.map(BillId::new))
    }

    /// Why a change to a bill was refused: its status and what was paid, or that it does not
    /// exist in the practice.
    async fn refused(tx: &mut Tx, practice: PracticeId, bill: BillId) -> Result<Refused, StoreError> {
        let row = sqlx::query("SELECT status, paid FROM bills WHERE practice_id = $1 AND id = $2")
            .bind(practice.get())
            .bind(bill.get())
            .fetch_optional(tx.conn())
            .await?
            .ok_or_else(|| StoreError::not_found("bill", bill))?;
        let status: String = row.try_get(0)?;
        Ok(Refused { status: parse("bill status", &status)?, paid: row.try_get(1)? })
    }

    /// Opens a pended bill of a practice, if it is still pended.
    pub async fn open_bill(
        &self,
        tx: &mut Tx,
        practice: PracticeId,
        bill: BillId,
        now: DateTime<Utc>,
    ) -> Result<Result<Opened, Refused>, StoreError> {
        let row = sqlx::query(
            "UPDATE bills SET status = $1, opened_at = $2 WHERE practice_id = $3 AND id = $4 AND status = $5
             RETURNING id, client_id, total, paid",
        )
        .bind(BillStatus::Open.as_str())
        .bind(seconds(now))
        .bind(practice.get())
        .bind(bill.get())
        .bind(BillStatus::Pended.as_str())
        .fetch_optional(tx.conn())
        .await?;
        let Some(row) = row else { return Ok(Err(Self::refused(tx, practice, bill).await?)) };
        let opened = opened(&row)?;
        let client = client_in(tx, opened.client).await?;
        Ok(Ok(Opened { bill: opened, client }))
    }

    /// Opens every pended bill of a practice; gives them in id order.
    pub async fn open_pended_bills(
        &self,
        tx: &mut Tx,
        practice: PracticeId,
        now: DateTime<Utc>,
    ) -> Result<Vec<Opened>, StoreError> {
        let rows = sqlx::query(
            "UPDATE bills SET status = $1, opened_at = $2 WHERE practice_id = $3 AND status = $4
             RETURNING id, client_id, total, paid",
        )
        .bind(BillStatus::Open.as_str())
        .bind(seconds(now))
        .bind(practice.get())
        .bind(BillStatus::Pended.as_str())
        .fetch_all(tx.conn())
        .await?;
        let mut bills = rows.iter().map(opened).collect::<Result<Vec<_>, _>>()?;
        bills.sort_by_key(|bill| bill.id.get());
        if bills.is_empty() {
            return Ok(vec![]);
        }
        let clients: HashMap<ClientId, Client> =
            clients_in(tx, practice).await?.into_iter().map(|client| (client.id, client)).collect();
        bills
            .into_iter()
            .map(|bill| {
                let client =
                    clients.get(&bill.client).cloned().ok_or_else(|| StoreError::not_found("client", bill.client))?;
                Ok(Opened { bill, client })
            })
            .collect()
    }

    /// Adds a product to a pended or unpaid open bill of a practice, if it still is one; gives the
    /// client's reference.
    pub async fn add_product(
        &self,
        tx: &mut Tx,
        practice: PracticeId,
        bill: BillId,
        name: &str,
        amount: i64,
        now: DateTime<Utc>,
    ) -> Result<Result<(), Refused>, StoreError> {
        let updated = sqlx::query(
            "UPDATE bills SET total = total + $1 WHERE practice_id = $2 AND id = $3 AND (status = $4 OR (status = $5 AND paid = 0))",
        )
        .bind(amount)
        .bind(practice.get())
        .bind(bill.get())
        .bind(BillStatus::Pended.as_str())
        .bind(BillStatus::Open.as_str())
        .execute(tx.conn())
        .await?;
        if updated.rows_affected() == 0 {
            return Ok(Err(Self::refused(tx, practice, bill).await?));
        }
        sqlx::query("INSERT INTO bill_products (bill_id, name, amount, added_at) VALUES ($1, $2, $3, $4)")
            .bind(bill.get())
            .bind(name)
            .bind(amount)
            .bind(seconds(now))
            .execute(tx.conn())
            .await?;
        Ok(Ok(()))
    }

    /// Voids a pended or open bill of a practice with nothing paid on it, if it still is one;
    /// gives the client's reference.
    pub async fn void_bill(
        &self,
        tx: &mut Tx,
        practice: PracticeId,
        bill: BillId,
        now: DateTime<Utc>,
    ) -> Result<Result<String, Refused>, StoreError> {
        let row = sqlx::query(
            "UPDATE bills SET status = $1, voided_at = $2 WHERE practice_id = $3 AND id = $4 AND (status = $5 OR status = $6) AND paid = 0
             RETURNING client_id",
        )
        .bind(BillStatus::Void.as_str())
        .bind(seconds(now))
        .bind(practice.get())
        .bind(bill.get())
        .bind(BillStatus::Pended.as_str())
        .bind(BillStatus::Open.as_str())
        .fetch_optional(tx.conn())
        .await?;
        let Some(row) = row else { return Ok(Err(Self::refused(tx, practice, bill).await?)) };
        let client = client_in(tx, ClientId::new(row.try_get(0)?)).await?;
        Ok(Ok(client.reference))
    }

    /// A practice's documents made since `since`, newest first, at most `limit`: what a share
    /// filter's dry run asks about.
    pub async fn recent_documents(
        &self,
        practice: PracticeId,
        since: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<DocumentToShare>, StoreError> {
        let bills = sqlx::query(
            "SELECT id, client_id, total, paid, status FROM bills WHERE practice_id = $1 AND created_at >= $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(practice.get())
        .bind(seconds(since))
        .bind(limit)
        .fetch_all(&self.reads)
        .await?;
        let superbills = sqlx::query(
            "SELECT id, client_id, total, paid FROM superbills WHERE practice_id = $1 AND created_at >= $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(practice.get())
        .bind(seconds(since))
        .bind(limit)
        .fetch_all(&self.reads)
        .await?;
        let mut documents = vec![];
        for row in &bills {
            let status: String = row.try_get(4)?;
            documents.push(DocumentToShare {
                id: DocumentId::Bill(BillId::new(row.try_get(0)?)),
                client: ClientId::new(row.try_get(1)?),
                total: row.try_get(2)?,
                paid: row.try_get(3)?,
                status: Some(parse("bill status", &status)?),
            });
        }
        for row in &superbills {
            documents.push(DocumentToShare {
                id: DocumentId::Superbill(SuperbillId::new(row.try_get(0)?)),
                client: ClientId::new(row.try_get(1)?),
                total: row.try_get(2)?,
                paid: row.try_get(3)?,
                status: None,
            });
        }
        documents.sort_by_key(|document| std::cmp::Reverse(document.id.get()));
        documents.truncate(usize::try_from(limit).unwrap_or(0));
        Ok(documents)
    }

    /// A document with everything its PDF shows.
    pub async fn document(&self, id: DocumentId) -> Result<Document, StoreError> {
        match id {
            DocumentId::Bill(bill) => self.bill_document(bill).await.map(Document::Bill),
            DocumentId::Superbill(superbill) => self.superbill_document(superbill).await.map(Document::Superbill),
        }
    }

    /// A document of a practice; one of another practice is not found.
    pub async fn practice_document(&self, practice: PracticeId, id: DocumentId) -> Result<Document, StoreError> {
        let document = self.document(id).await?;
        if document.practice().id != practice {
            return Err(StoreError::not_found(id.kind().as_str(), id.get()));
        }
        Ok(document)
    }

    async fn bill_document(&self, id: BillId) -> Result<BillDocument, StoreError> {
        let row = sqlx::query(
            "SELECT practice_id, client_id, status, total, paid, created_at, opened_at FROM bills WHERE id = $1",
        )
        .bind(id.get())
        .fetch_optional(&self.reads)
        .await?
        .ok_or_else(|| StoreError::not_found("bill", id))?;
        let practice = self.practice(PracticeId::new(row.try_get(0)?)).await?;
        let client = self.client(ClientId::new(row.try_get(1)?)).await?;
        let status: String = row.try_get(2)?;
        let opened: Option<i64> = row.try_get(6)?;
        let local_date = |at: i64| instant(at).with_timezone(&practice.timezone).date_naive();
        let issued = local_date(opened.unwrap_or(row.try_get(5)?));
        let rows = sqlx::query(
            "SELECT l.local_date, s.name, s.code, l.fee FROM service_lines l JOIN services s ON s.id = l.service_id
             WHERE l.bill_id = $1 ORDER BY l.local_date, l.id",
        )
        .bind(id.get())
        .fetch_all(&self.reads)
        .await?;
        let lines = rows
            .iter()
            .map(|row| {
                Ok(BillLine {
                    date: parse_date(&row.try_get::<String, _>(0)?)?,
                    service: row.try_get(1)?,
                    code: row.try_get(2)?,
                    fee: row.try_get(3)?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        let rows = sqlx::query("SELECT name, amount FROM bill_products WHERE bill_id = $1 ORDER BY id")
            .bind(id.get())
            .fetch_all(&self.reads)
            .await?;
        let products = rows
            .iter()
            .map(|row| Ok(BillProduct { name: row.try_get(0)?, amount: row.try_get(1)? }))
            .collect::<Result<_, StoreError>>()?;
        let rows = sqlx::query(
            "SELECT created_at, amount, provider_reference, refunded, dispute_status FROM payments WHERE bill_id = $1
             ORDER BY created_at, id",
        )
        .bind(id.get())
        .fetch_all(&self.reads)
        .await?;
        let payments = rows
            .iter()
            .map(|row| {
                let dispute: Option<String> = row.try_get(4)?;
                Ok(BillPayment {
                    date: local_date(row.try_get(0)?),
                    method: "Card (autopay)".to_string(),
                    amount: row.try_get(1)?,
                    reference: row.try_get(2)?,
                    refunded: row.try_get(3)?,
                    dispute: dispute.map(|text| parse("dispute status", &text)).transpose()?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(BillDocument {
            id,
            status: parse("bill status", &status)?,
            issued,
            lines,
            products,
            payments,
            total: row.try_get(3)?,
            paid: row.try_get(4)?,
            practice,
            client,
        })
    }

    async fn superbill_document(&self, id: SuperbillId) -> Result<SuperbillDocument, StoreError> {
        let row = sqlx::query("SELECT practice_id, client_id, created_at FROM superbills WHERE id = $1")
            .bind(id.get())
            .fetch_optional(&self.reads)
            .await?
            .ok_or_else(|| StoreError::not_found("superbill", id))?;
        let practice = self.practice(PracticeId::new(row.try_get(0)?)).await?;
        let client = self.client(ClientId::new(row.try_get(1)?)).await?;
        let issued = instant(row.try_get(2)?).with_timezone(&practice.timezone).date_naive();
        let rows = sqlx::query(
            "SELECT l.local_date, s.name, s.cpt_code, s.modifiers, s.units, l.fee, l.paid
             FROM service_lines l JOIN services s ON s.id = l.service_id
             WHERE l.superbill_id = $1 ORDER BY l.local_date, l.id",
        )
        .bind(id.get())
        .fetch_all(&self.reads)
        .await?;
        let mut lines = Vec::with_capacity(rows.len());
        for row in &rows {
            let cpt: Option<String> = row.try_get(2)?;
            let modifiers: String = row.try_get(3)?;
            let units: i64 = row.try_get(4)?;
            lines.push(SuperbillLine {
                date: parse_date(&row.try_get::<String, _>(0)?)?,
                place_of_service: practice.place_of_service.clone(),
                cpt: cpt.unwrap_or_default(),
                modifiers: modifiers.split(',').filter(|m| !m.is_empty()).map(str::to_string).collect(),
                units: u32::try_from(units).map_err(|_| StoreError::Corrupt(format!("units `{units}`")))?,
                diagnoses: client.diagnosis.clone(),
                description: row.try_get(1)?,
                fee: row.try_get(5)?,
                paid: row.try_get(6)?,
            });
        }
        Ok(SuperbillDocument { id, issued, lines, practice, client })
    }
}

/// An opened bill from a `RETURNING id, client_id, total, paid` row.
fn opened(row: &sqlx::any::AnyRow) -> Result<DocumentToShare, StoreError> {
    Ok(DocumentToShare {
        id: DocumentId::Bill(BillId::new(row.try_get(0)?)),
        client: ClientId::new(row.try_get(1)?),
        total: row.try_get(2)?,
        paid: row.try_get(3)?,
        status: Some(BillStatus::Open),
    })
}

/// A practice's clients, read inside a transaction.
pub(super) async fn clients_in(tx: &mut Tx, practice: PracticeId) -> Result<Vec<Client>, StoreError> {
    let rows = sqlx::query(concat!(select_client!(), " WHERE practice_id = $1 ORDER BY id"))
        .bind(practice.get())
        .fetch_all(tx.conn())
        .await?;
    rows.iter().map(client).collect()
}

/// One client, read inside a transaction.
pub(super) async fn client_in(tx: &mut Tx, id: ClientId) -> Result<Client, StoreError> {
    let row = sqlx::query(concat!(select_client!(), " WHERE id = $1"))
        .bind(id.get())
        .fetch_optional(tx.conn())
        .await?
        .ok_or_else(|| StoreError::not_found("client", id))?;
    client(&row)
}
