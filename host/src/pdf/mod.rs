//! Billing documents as PDF: a bill for the client and a superbill for the client's insurer.
//!
//! [`render`] renders a [`Document`] the store loaded; it reads nothing itself, so the layouts
//! are tested without a database. Pages are US Letter and use the PDF's built-in Helvetica faces (nothing is
//! embedded), so files stay small and their text can be extracted and searched.
//!
//! A superbill carries what an insurer needs to reimburse the client: the patient's name and date
//! of birth; the rendering provider's name, credentials and individual NPI; the practice's NPI,
//! tax id, address and phone; and per line the date of service, place-of-service code, CPT code
//! and modifiers, units, the ICD-10 codes linked to the line, the fee and what has been paid.

mod layout;
mod render;

use crate::domain::Document;

/// The document as PDF.
pub fn render(document: &Document) -> Vec<u8> {
    match document {
        Document::Bill(bill) => render::bill(bill),
        Document::Superbill(superbill) => render::superbill(superbill),
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
        let pdf = render(&bill);
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
        let text = shown(&render(&bill));
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
        let text = shown(&render(&superbill));
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
        let text = shown(&render(&bill));
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
        let pdf = render(&superbill);
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/Count 3") || text.contains("/Count 2"), "more than one page");
        assert!(shown(&pdf).contains("page 2 of"));
    }
}
