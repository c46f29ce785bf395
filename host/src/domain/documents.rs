//! Bills and superbills as their documents show them: loaded by the store, rendered by
//! [`pdf`](crate::pdf) and summarised in the emails that share them.

use super::{BillId, BillStatus, Client, Currency, DisputeStatus, DocumentId, DocumentKind, Practice, SuperbillId};
use chrono::NaiveDate;

/// A bill as its PDF shows it.
#[derive(Clone, Debug)]
pub struct BillDocument {
    /// The bill's id, its number on the page.
    pub id: BillId,
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
    /// The payment provider's reference, for matching with the provider's records.
    pub reference: Option<String>,
    /// Refunded of it at the provider, in minor units.
    pub refunded: i64,
    /// Where the client's dispute of it stands, if they disputed it.
    pub dispute: Option<DisputeStatus>,
}

impl BillPayment {
    /// What happened to the payment since, for people: `Refunded USD 40.00`, `Disputed (lost)`,
    /// both, or nothing.
    pub fn note(&self, currency: Currency) -> Option<String> {
        let refund = (self.refunded > 0).then(|| format!("Refunded {}", currency.format(self.refunded)));
        let dispute = self.dispute.map(|status| format!("Disputed ({})", status.as_str().replace('_', " ")));
        match (refund, dispute) {
            (Some(refund), Some(dispute)) => Some(format!("{refund}; {dispute}")),
            (one, other) => one.or(other),
        }
    }
}

impl BillDocument {
    /// The status as the bill states it: Paid, Open, Pended, Void or Refunded.
    pub fn status_label(&self) -> &'static str {
        self.status.label()
    }
}

/// A superbill as its PDF shows it.
#[derive(Clone, Debug)]
pub struct SuperbillDocument {
    /// The superbill's id, its number on the page.
    pub id: SuperbillId,
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
    pub fn id(&self) -> DocumentId {
        match self {
            Document::Bill(bill) => DocumentId::Bill(bill.id),
            Document::Superbill(superbill) => DocumentId::Superbill(superbill.id),
        }
    }

    /// The client it is for.
    pub fn client(&self) -> &Client {
        match self {
            Document::Bill(bill) => &bill.client,
            Document::Superbill(superbill) => &superbill.client,
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

    /// Its status for people: a bill's Paid, Open, Pended, Void or Refunded; a superbill is Issued.
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
        format!("{}-{}.pdf", self.kind().as_str(), self.id().get())
    }
}
