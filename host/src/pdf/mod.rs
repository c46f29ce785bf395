//! Billing documents as PDF: a bill for the client and a superbill for the client's insurer.
//!
//! [`document_pdf`] loads a document from the store and renders it. Loading ([`load_document`])
//! and rendering ([`Document::render`]) are separate, so the layouts are tested without a
//! database. Pages are US Letter and use the PDF's built-in Helvetica faces (nothing is
//! embedded), so files stay small and their text can be extracted and searched.
//!
//! A superbill carries what an insurer needs to reimburse the client: the patient's name and date
//! of birth; the rendering provider's name, credentials and individual NPI; the practice's NPI,
//! tax id, address and phone; and per line the date of service, place-of-service code, CPT code
//! and modifiers, units, the ICD-10 codes linked to the line, the fee and what has been paid.

mod layout;
mod render;

use crate::domain::{BillStatus, DocumentKind};
use crate::store::{self, Client, Practice, Store, StoreError};
use chrono::NaiveDate;
use sqlx::Row;

/// Why a document could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// The document or something it refers to could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for PdfError {
    fn from(error: sqlx::Error) -> Self {
        PdfError::Store(StoreError::Database(error))
    }
}

/// A bill as its PDF shows it.
#[derive(Clone, Debug)]
pub struct BillDocument {
    /// The bill's id, its number on the page.
    pub id: i64,
    /// The practice that issued it.
    pub practice: Practice,
    /// The client it bills.
    pub client: Client,
    /// Its status.
    pub status: BillStatus,
    /// The practice-local date it was opened (created, while pended).
    pub issued: NaiveDate,
    /// Services delivered, by date of service.
    pub lines: Vec<BillLine>,
    /// Products a person added.
    pub products: Vec<BillProduct>,
    /// Payments received.
    pub payments: Vec<BillPayment>,
    /// Services plus products, in minor units.
    pub total: i64,
    /// Paid so far, in minor units.
    pub paid: i64,
}

/// One service on a bill.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BillLine {
    /// The practice-local date of service.
    pub date: NaiveDate,
    /// The service's name.
    pub service: String,
    /// The practice's code for the service.
    pub code: String,
    /// The fee, in minor units.
    pub fee: i64,
}

/// A product on a bill, e.g. a card fee.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BillProduct {
    /// Its name.
    pub name: String,
    /// Its amount, in minor units.
    pub amount: i64,
}

/// A payment against a bill.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BillPayment {
    /// The practice-local date it was taken.
    pub date: NaiveDate,
    /// How, e.g. `Card (autopay)`.
    pub method: String,
    /// The amount, in minor units.
    pub amount: i64,
}

impl BillDocument {
    /// The status as the bill states it: Paid, Open, Pended or Void.
    pub fn status_label(&self) -> &'static str {
        match self.status {
            BillStatus::Paid => "Paid",
            BillStatus::Open => "Open",
            BillStatus::Pended => "Pended",
            BillStatus::Void => "Void",
        }
    }
}

/// A superbill as its PDF shows it.
#[derive(Clone, Debug)]
pub struct SuperbillDocument {
    /// The superbill's id, its number on the page.
    pub id: i64,
    /// The practice, with its NPI, tax id and rendering provider.
    pub practice: Practice,
    /// The patient.
    pub client: Client,
    /// The practice-local date it was created.
    pub issued: NaiveDate,
    /// The services, by date of service.
    pub lines: Vec<SuperbillLine>,
}

/// One service on a superbill.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SuperbillLine {
    /// The practice-local date of service.
    pub date: NaiveDate,
    /// The place-of-service code, e.g. `11` office or `10` telehealth in the patient's home.
    pub place_of_service: String,
    /// The CPT code.
    pub cpt: String,
    /// CPT modifiers, e.g. `95`.
    pub modifiers: Vec<String>,
    /// Units of service.
    pub units: u32,
    /// The ICD-10 codes linked to the line.
    pub diagnoses: Vec<String>,
    /// The service's name.
    pub description: String,
    /// The fee charged, in minor units.
    pub fee: i64,
    /// What has been paid against the line, in minor units.
    pub paid: i64,
}

impl SuperbillDocument {
    /// The sum of the lines' fees.
    pub fn total(&self) -> i64 {
        self.lines.iter().map(|line| line.fee).sum()
    }

    /// The sum of what has been paid against the lines.
    pub fn paid(&self) -> i64 {
        self.lines.iter().map(|line| line.paid).sum()
    }

    /// Every ICD-10 code on the superbill, in first-seen order.
    pub fn diagnoses(&self) -> Vec<String> {
        let mut codes: Vec<String> = vec![];
        for code in self.lines.iter().flat_map(|line| &line.diagnoses) {
            if !codes.contains(code) {
                codes.push(code.clone());
            }
        }
        codes
    }
}

/// A bill or a superbill, loaded and ready to render.
#[derive(Clone, Debug)]
pub enum Document {
    /// A bill.
    Bill(BillDocument),
    /// A superbill.
    Superbill(SuperbillDocument),
}

impl Document {
    /// Bill or superbill.
    pub fn kind(&self) -> DocumentKind {
        match self {
            Document::Bill(_) => DocumentKind::Bill,
            Document::Superbill(_) => DocumentKind::Superbill,
        }
    }

    /// The document's id.
    pub fn id(&self) -> i64 {
        match self {
            Document::Bill(bill) => bill.id,
            Document::Superbill(superbill) => superbill.id,
        }
    }

    /// The practice that issued it.
    pub fn practice(&self) -> &Practice {
        match self {
            Document::Bill(bill) => &bill.practice,
            Document::Superbill(superbill) => &superbill.practice,
        }
    }

    /// Its total, in minor units.
    pub fn total(&self) -> i64 {
        match self {
            Document::Bill(bill) => bill.total,
            Document::Superbill(superbill) => superbill.total(),
        }
    }

    /// What has been paid, in minor units.
    pub fn paid(&self) -> i64 {
        match self {
            Document::Bill(bill) => bill.paid,
            Document::Superbill(superbill) => superbill.paid(),
        }
    }

    /// Its status for people: a bill's Paid, Open, Pended or Void; a superbill is Issued.
    pub fn status_label(&self) -> &'static str {
        match self {
            Document::Bill(bill) => bill.status_label(),
            Document::Superbill(_) => "Issued",
        }
    }

    /// Whether it was voided (a void document is never sent).
    pub fn is_void(&self) -> bool {
        matches!(self, Document::Bill(BillDocument { status: BillStatus::Void, .. }))
    }

    /// The attachment's file name: `bill-N.pdf` or `superbill-N.pdf`.
    pub fn file_name(&self) -> String {
        format!("{}-{}.pdf", self.kind().as_str(), self.id())
    }

    /// The PDF.
    pub fn render(&self) -> Vec<u8> {
        match self {
            Document::Bill(bill) => render::bill(bill),
            Document::Superbill(superbill) => render::superbill(superbill),
        }
    }
}

/// Loads a document and renders it as PDF.
pub async fn document_pdf(store: &Store, kind: DocumentKind, id: i64) -> Result<Vec<u8>, PdfError> {
    Ok(load_document(store, kind, id).await?.render())
}

/// Loads everything a document's PDF shows.
pub async fn load_document(store: &Store, kind: DocumentKind, id: i64) -> Result<Document, PdfError> {
    match kind {
        DocumentKind::Bill => load_bill(store, id).await.map(Document::Bill),
        DocumentKind::Superbill => load_superbill(store, id).await.map(Document::Superbill),
    }
}

fn local_date(practice: &Practice, seconds: i64) -> NaiveDate {
    store::instant(seconds).with_timezone(&practice.timezone).date_naive()
}

async fn load_bill(store: &Store, id: i64) -> Result<BillDocument, PdfError> {
    let pool = store.pool();
    let row = sqlx::query(
        "SELECT practice_id, client_id, status, total, paid, created_at, opened_at FROM bills WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?
    .ok_or(StoreError::NotFound { what: "bill", id: id.to_string() })?;
    let practice = store.practice(row.try_get(0)?).await?;
    let client = store.client(row.try_get(1)?).await?;
    let status: String = row.try_get(2)?;
    let status = BillStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("bill status `{status}`")))?;
    let opened: Option<i64> = row.try_get(6)?;
    let issued = local_date(&practice, opened.unwrap_or(row.try_get(5)?));

    let rows = sqlx::query(
        "SELECT l.local_date, s.name, s.code, l.fee FROM service_lines l JOIN services s ON s.id = l.service_id
         WHERE l.bill_id = $1 ORDER BY l.local_date, l.id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let mut lines = Vec::with_capacity(rows.len());
    for row in &rows {
        let date: String = row.try_get(0)?;
        lines.push(BillLine {
            date: store::parse_date(&date)?,
            service: row.try_get(1)?,
            code: row.try_get(2)?,
            fee: row.try_get(3)?,
        });
    }
    let rows = sqlx::query("SELECT name, amount FROM bill_products WHERE bill_id = $1 ORDER BY id")
        .bind(id)
        .fetch_all(pool)
        .await?;
    let products = rows
        .iter()
        .map(|row| Ok(BillProduct { name: row.try_get(0)?, amount: row.try_get(1)? }))
        .collect::<Result<_, sqlx::Error>>()?;
    let rows = sqlx::query("SELECT created_at, amount FROM payments WHERE bill_id = $1 ORDER BY created_at, id")
        .bind(id)
        .fetch_all(pool)
        .await?;
    let payments = rows
        .iter()
        .map(|row| {
            Ok(BillPayment {
                date: local_date(&practice, row.try_get(0)?),
                method: "Card (autopay)".to_string(),
                amount: row.try_get(1)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(BillDocument {
        id,
        status,
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

async fn load_superbill(store: &Store, id: i64) -> Result<SuperbillDocument, PdfError> {
    let pool = store.pool();
    let row = sqlx::query("SELECT practice_id, client_id, created_at FROM superbills WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound { what: "superbill", id: id.to_string() })?;
    let practice = store.practice(row.try_get(0)?).await?;
    let client = store.client(row.try_get(1)?).await?;
    let issued = local_date(&practice, row.try_get(2)?);
    let rows = sqlx::query(
        "SELECT l.local_date, s.name, s.cpt_code, s.modifiers, s.units, l.fee, l.paid
         FROM service_lines l JOIN services s ON s.id = l.service_id
         WHERE l.superbill_id = $1 ORDER BY l.local_date, l.id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let mut lines = Vec::with_capacity(rows.len());
    for row in &rows {
        let date: String = row.try_get(0)?;
        let cpt: Option<String> = row.try_get(2)?;
        let modifiers: String = row.try_get(3)?;
        let units: i64 = row.try_get(4)?;
        lines.push(SuperbillLine {
            date: store::parse_date(&date)?,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AutomationSettings;
    use crate::store::Provider;

    fn practice() -> Practice {
        Practice {
            id: 1,
            name: "Lakeside Therapy".into(),
            timezone: chrono_tz::America::New_York,
            currency: "USD".into(),
            npi: "1234567893".into(),
            tax_id: "12-3456789".into(),
            address: "12 Lake Street, Burlington, VT 05401".into(),
            phone: "+1 802 555 0100".into(),
            email: "billing@lakeside.example".into(),
            provider: Provider { name: "Dana Reyes".into(), credentials: "LCSW".into(), npi: "1679576722".into() },
            place_of_service: "11".into(),
            automation: AutomationSettings::default(),
            scheduled_until: chrono::DateTime::UNIX_EPOCH,
        }
    }

    fn client() -> Client {
        Client {
            id: 7,
            reference: "ana".into(),
            name: "Ana Alvarez".into(),
            email: Some("ana@example.com".into()),
            email_enabled: true,
            auto_superbills: true,
            auto_share: true,
            autopay: true,
            card: Some("visa".into()),
            diagnosis: vec!["F41.1".into(), "F32.9".into()],
            birth_date: NaiveDate::from_ymd_opt(1990, 4, 12),
        }
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, d).unwrap_or_default()
    }

    /// Every literal string in the file (the text shown on the pages among them), one a line.
    fn shown(pdf: &[u8]) -> String {
        let mut out = String::new();
        let mut depth = 0;
        let mut escaped = false;
        for &byte in pdf {
            match (depth, byte) {
                (0, b'(') => depth = 1,
                (0, _) => {}
                _ if escaped => {
                    out.push(char::from(byte));
                    escaped = false;
                }
                (_, b'\\') => escaped = true,
                (1, b')') => {
                    depth = 0;
                    out.push('\n');
                }
                (_, b'(') => {
                    depth += 1;
                    out.push('(');
                }
                (_, b')') => {
                    depth -= 1;
                    out.push(')');
                }
                _ => out.push(char::from(byte)),
            }
        }
        out
    }

    #[test]
    fn a_paid_bill_shows_its_lines_products_payments_and_status() {
        let bill = Document::Bill(BillDocument {
            id: 12,
            practice: practice(),
            client: client(),
            status: BillStatus::Paid,
            issued: day(6),
            lines: vec![BillLine {
                date: day(5),
                service: "Psychotherapy, 60 minutes".into(),
                code: "90837".into(),
                fee: 16_000,
            }],
            products: vec![BillProduct { name: "Card processing fee".into(), amount: 350 }],
            payments: vec![BillPayment { date: day(6), method: "Card (autopay)".into(), amount: 16_350 }],
            total: 16_350,
            paid: 16_350,
        });
        assert_eq!(bill.file_name(), "bill-12.pdf");
        let pdf = bill.render();
        assert!(pdf.starts_with(b"%PDF-"), "a PDF header");
        assert!(pdf.ends_with(b"%%EOF") || pdf.ends_with(b"%%EOF\n"), "a PDF trailer");
        let text = shown(&pdf);
        for expected in [
            "Lakeside Therapy",
            "12 Lake Street, Burlington, VT 05401",
            "Phone: +1 802 555 0100",
            "BILL",
            "Ana Alvarez",
            "2026-01-05",
            "Psychotherapy, 60 minutes",
            "90837",
            "USD 160.00",
            "Card processing fee",
            "USD 3.50",
            "Card (autopay)",
            "USD 163.50",
            "Balance due",
            "USD 0.00",
            "Paid",
        ] {
            assert!(text.contains(expected), "`{expected}` is missing from:\n{text}");
        }
    }

    #[test]
    fn a_superbill_shows_what_an_insurer_needs() {
        let line = |d: u32, paid: i64| SuperbillLine {
            date: day(d),
            place_of_service: "10".into(),
            cpt: "90837".into(),
            modifiers: vec!["95".into()],
            units: 1,
            diagnoses: vec!["F41.1".into(), "F32.9".into()],
            description: "Psychotherapy, 60 minutes".into(),
            fee: 16_000,
            paid,
        };
        let superbill = Document::Superbill(SuperbillDocument {
            id: 3,
            practice: practice(),
            client: client(),
            issued: day(31),
            lines: vec![line(5, 16_000), line(12, 0)],
        });
        assert_eq!((superbill.total(), superbill.paid(), superbill.status_label()), (32_000, 16_000, "Issued"));
        assert_eq!(superbill.file_name(), "superbill-3.pdf");
        let text = shown(&superbill.render());
        for expected in [
            "SUPERBILL",
            "Ana Alvarez",
            "1990-04-12",
            "Dana Reyes, LCSW",
            "1679576722",
            "1234567893",
            "12-3456789",
            "+1 802 555 0100",
            "2026-01-05",
            "2026-01-12",
            "10",
            "90837",
            "95",
            "F41.1, F32.9",
            "USD 160.00",
            "USD 320.00",
            "USD 0.00",
        ] {
            assert!(text.contains(expected), "`{expected}` is missing from:\n{text}");
        }
    }

    #[test]
    fn a_long_superbill_flows_onto_more_pages() {
        let lines = (0..80)
            .map(|n| SuperbillLine {
                date: day(1 + n % 28),
                place_of_service: "11".into(),
                cpt: "90834".into(),
                modifiers: vec![],
                units: 1,
                diagnoses: vec!["F41.1".into()],
                description: "Psychotherapy, 45 minutes".into(),
                fee: 12_000,
                paid: 0,
            })
            .collect();
        let superbill = Document::Superbill(SuperbillDocument {
            id: 4,
            practice: practice(),
            client: client(),
            issued: day(31),
            lines,
        });
        let pdf = superbill.render();
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/Count 3") || text.contains("/Count 2"), "more than one page");
        assert!(shown(&pdf).contains("page 2 of"));
    }
}
