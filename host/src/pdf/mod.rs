//! Billing documents as PDF: a bill for the client and a superbill for the client's insurer.
//!
//! [`render`] renders a [`Document`] the store loaded; it reads nothing itself, so the layouts
//! are tested without a database. Pages are US Letter, set in embedded, subsetted Unicode fonts
//! (see [`Fonts`]), so names in any script print, right-to-left ones in order, and their text can
//! be extracted and searched. The PDF is tagged (headings, paragraphs, tables), carries a title
//! and its language, and is PDF/A-2a whenever the fonts cover every character.
//!
//! A superbill carries what an insurer needs to reimburse the client: the patient's name and date
//! of birth; the rendering provider's name, credentials and individual NPI; the practice's NPI,
//! tax id, address and phone; and per line the date of service, place-of-service code, CPT code
//! and modifiers, units, the ICD-10 codes linked to the line, the fee and what has been paid.

mod fonts;
mod layout;
mod render;

pub use fonts::Fonts;

use crate::domain::Document;

/// Why a document could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The layout asked for something that cannot be drawn.
    #[error("the document's layout cannot be drawn: {0}")]
    Layout(&'static str),
    /// The PDF writer refused the document.
    #[error("the PDF could not be written: {0}")]
    Pdf(String),
}

impl From<krilla::error::KrillaError> for RenderError {
    fn from(error: krilla::error::KrillaError) -> Self {
        use krilla::error::KrillaError;
        RenderError::Pdf(match error {
            KrillaError::Font(_, reason) => format!("a font could not be embedded: {reason}"),
            KrillaError::Validation(errors) => format!("it does not meet PDF/A-2a: {errors:?}"),
            other => format!("{other:?}"),
        })
    }
}

/// The document as PDF, set in this machine's fonts ([`Fonts::system`]).
pub fn render(document: &Document) -> Result<Vec<u8>, RenderError> {
    render_with(document, Fonts::system())
}

/// The document as PDF, set in `fonts`.
pub fn render_with(document: &Document, fonts: &Fonts) -> Result<Vec<u8>, RenderError> {
    match document {
        Document::Bill(bill) => render::bill(bill, fonts).finish(),
        Document::Superbill(superbill) => render::superbill(superbill, fonts).finish(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        AutomationSettings, BillDocument, BillId, BillLine, BillPayment, BillProduct, BillStatus, Client, ClientId,
        Currency, DisputeStatus, Practice, PracticeId, Provider, SuperbillDocument, SuperbillId, SuperbillLine,
    };
    use chrono::NaiveDate;

    fn practice() -> Practice {
        Practice {
            id: PracticeId::new(1),
            name: "Lakeside Therapy".into(),
            timezone: chrono_tz::America::New_York,
            currency: Currency::USD,
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
            id: ClientId::new(7),
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
            autopay_paused: None,
        }
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, d).unwrap_or_default()
    }

    /// The text the document's pages show, one drawn line a line (footers left out).
    fn shown(document: &Document) -> String {
        laid_out(document).texts().concat().join("\n")
    }

    fn laid_out(document: &Document) -> layout::Writer<'static> {
        match document {
            Document::Bill(bill) => render::bill(bill, Fonts::system()),
            Document::Superbill(superbill) => render::superbill(superbill, Fonts::system()),
        }
    }

    #[test]
    fn a_paid_bill_shows_its_lines_products_payments_and_status() {
        let bill = Document::Bill(BillDocument {
            id: BillId::new(12),
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
            payments: vec![BillPayment {
                date: day(6),
                method: "Card (autopay)".into(),
                amount: 16_350,
                reference: Some("pi_3QkLmN2eZvKYlo2C1a2b3c4d".into()),
                refunded: 0,
                dispute: None,
            }],
            total: 16_350,
            paid: 16_350,
        });
        assert_eq!(bill.file_name(), "bill-12.pdf");
        let pdf = render(&bill).expect("the bill renders");
        assert!(pdf.starts_with(b"%PDF-"), "a PDF header");
        assert!(pdf.ends_with(b"%%EOF") || pdf.ends_with(b"%%EOF\n"), "a PDF trailer");
        let text = shown(&bill);
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
            "pi_3QkLmN2eZvKYlo2C1a2b3c4d",
            "USD 163.50",
            "Balance due",
            "USD 0.00",
            "Paid",
        ] {
            assert!(text.contains(expected), "`{expected}` is missing from:\n{text}");
        }
    }

    #[test]
    fn a_refunded_bill_says_so_and_notes_the_refund_and_dispute_under_its_payment() {
        let bill = Document::Bill(BillDocument {
            id: BillId::new(13),
            practice: practice(),
            client: client(),
            status: BillStatus::Refunded,
            issued: day(6),
            lines: vec![BillLine {
                date: day(5),
                service: "Psychotherapy, 60 minutes".into(),
                code: "90837".into(),
                fee: 16_000,
            }],
            products: vec![],
            payments: vec![BillPayment {
                date: day(6),
                method: "Card (autopay)".into(),
                amount: 16_000,
                reference: Some("pi_3QkLmN2eZvKYlo2C9z8y7x6w".into()),
                refunded: 4_000,
                dispute: Some(DisputeStatus::UnderReview),
            }],
            total: 16_000,
            paid: 12_000,
        });
        let text = shown(&bill);
        for expected in ["Refunded USD 40.00; Disputed (under review)", "Refunded"] {
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
            id: SuperbillId::new(3),
            practice: practice(),
            client: client(),
            issued: day(31),
            lines: vec![line(5, 16_000), line(12, 0)],
        });
        assert_eq!((superbill.total(), superbill.paid(), superbill.status_label()), (32_000, 16_000, "Issued"));
        assert_eq!(superbill.file_name(), "superbill-3.pdf");
        let text = shown(&superbill);
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
    fn a_yen_bill_shows_whole_yen() {
        let yen: Currency = "JPY".parse().unwrap_or(Currency::USD);
        let bill = Document::Bill(BillDocument {
            id: BillId::new(5),
            practice: Practice { currency: yen, ..practice() },
            client: client(),
            status: BillStatus::Open,
            issued: day(6),
            lines: vec![BillLine { date: day(5), service: "Counselling".into(), code: "C1".into(), fee: 1_000 }],
            products: vec![],
            payments: vec![],
            total: 1_000,
            paid: 0,
        });
        let text = shown(&bill);
        assert!(text.contains("JPY 1,000"), "{text}");
        assert!(!text.contains("JPY 10.00"), "{text}");
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
            id: SuperbillId::new(4),
            practice: practice(),
            client: client(),
            issued: day(31),
            lines,
        });
        assert!(laid_out(&superbill).page_count() > 1, "more than one page");
        let pdf = render(&superbill).expect("the superbill renders");
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/Count 3") || text.contains("/Count 2"), "more than one page");
    }

    fn bill_for(name: &str) -> Document {
        Document::Bill(BillDocument {
            id: BillId::new(3),
            practice: Practice { name: "Bến Thành Counseling".into(), ..practice() },
            client: Client { name: name.into(), ..client() },
            status: BillStatus::Open,
            issued: day(6),
            lines: vec![BillLine { date: day(5), service: "Counselling".into(), code: "C1".into(), fee: 1_000 }],
            products: vec![],
            payments: vec![],
            total: 1_000,
            paid: 0,
        })
    }

    #[test]
    fn a_bill_in_every_script_is_tagged_pdf_a_with_its_title_and_language() {
        let name = "Nguyễn Thị Hằng 王小明 Αλέξανδρος Екатерина ليلى דוד";
        let pdf = render(&bill_for(name)).expect("written as PDF/A-2a, which krilla checks as it writes");
        let raw = String::from_utf8_lossy(&pdf);
        for marker in [
            "<pdfaid:part>2</pdfaid:part>",
            "<pdfaid:conformance>A</pdfaid:conformance>",
            "<dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">Bill #3 - Bến Thành Counseling</rdf:li>",
            "/Lang (en-US)",
            "/StructTreeRoot",
            "/ToUnicode",
        ] {
            assert!(raw.contains(marker), "`{marker}` is missing");
        }
        assert!(shown(&bill_for(name)).contains(name));
    }

    #[test]
    fn a_name_no_font_covers_still_renders_but_not_as_pdf_a() {
        let pdf = render_with(&bill_for("王小明"), &Fonts::built_in()).expect("a PDF all the same");
        let raw = String::from_utf8_lossy(&pdf);
        assert!(raw.starts_with("%PDF-") && raw.contains("/StructTreeRoot"), "a tagged PDF");
        assert!(!raw.contains("pdfaid"), "not claimed to be PDF/A");
    }

    #[test]
    fn header_labels_make_room_for_a_long_value() {
        let superbill = Document::Superbill(SuperbillDocument {
            id: SuperbillId::new(4),
            practice: practice(),
            client: client(),
            issued: day(31),
            lines: [5, 26]
                .into_iter()
                .map(|d| SuperbillLine {
                    date: day(d),
                    place_of_service: "11".into(),
                    cpt: "90834".into(),
                    modifiers: vec![],
                    units: 1,
                    diagnoses: vec!["F41.1".into()],
                    description: "Psychotherapy, 45 minutes".into(),
                    fee: 12_000,
                    paid: 0,
                })
                .collect(),
        });
        let mut w = laid_out(&superbill);
        let period = w.width("2026-01-05 to 2026-01-26", layout::bold(9.0));
        let label = w.width("Dates of service", layout::regular(9.0));
        let placed = w.placed("Dates of service").expect("the label is drawn");
        assert!(placed + label < layout::PAGE_WIDTH - layout::MARGIN - period, "the label ends before the period");
    }
}
