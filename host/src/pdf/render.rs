//! The layouts: a bill for the client, a superbill for the client's insurer.

use super::fonts::Fonts;
use super::layout::{Element, MARGIN, PAGE_WIDTH, Style, TOP, Writer, bold, regular};
use crate::domain::{BillDocument, Practice, SuperbillDocument};
use chrono::NaiveDate;

const RIGHT: f32 = PAGE_WIDTH - MARGIN;
const BODY: f32 = 9.0;
const LEADING: f32 = 12.0;

fn date(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// The document's title and facts on the right, the practice's name and contact details on the
/// left, then a rule; leaves `w.y` under the rule.
fn header(w: &mut Writer, practice: &Practice, title: &str, facts: &[(&str, String)]) {
    let top = TOP;
    w.open_heading(1, title);
    w.text_right(RIGHT, top, bold(18.0), title);
    w.close();
    w.text(MARGIN, top, bold(16.0), &practice.name);
    let mut left = top - 18.0;
    w.open(Element::Paragraph);
    for line in w.wrap(&practice.address, regular(BODY), 280.0) {
        w.text(MARGIN, left, regular(BODY), &line);
        left -= LEADING;
    }
    w.close();
    if !practice.phone.is_empty() {
        w.text(MARGIN, left, regular(BODY), &format!("Phone: {}", practice.phone));
        left -= LEADING;
    }
    if !practice.email.is_empty() {
        w.text(MARGIN, left, regular(BODY), &format!("Email: {}", practice.email));
        left -= LEADING;
    }
    let mut right = top - 18.0;
    // Labels end a gap before the widest value, and no further right than 110 points from the edge.
    let widest = facts.iter().map(|(_, value)| w.width(value, bold(BODY))).fold(98.0, f32::max);
    let labels = RIGHT - widest - 12.0;
    w.open(Element::Table);
    for (label, value) in facts {
        w.open(Element::Row);
        cell(w, Element::RowHeader, |w| w.text_right(labels, right, regular(BODY), label));
        cell(w, Element::Cell, |w| w.text_right(RIGHT, right, bold(BODY), value));
        w.close();
        right -= LEADING;
    }
    w.close();
    let y = left.min(right) - 4.0;
    w.rule(MARGIN, RIGHT, y, 0.8);
    w.y = y - 20.0;
}

/// What `draw` draws, as one `element` (a cell) of the structure.
fn cell(w: &mut Writer, element: Element, draw: impl FnOnce(&mut Writer)) {
    w.open(element);
    draw(w);
    w.close();
}

/// A label and amount pair in the totals table at the bottom right.
fn total_row(w: &mut Writer, label: &str, value: &str, style: Style) {
    if !w.fits(LEADING) {
        w.new_page();
    }
    w.open(Element::Row);
    cell(w, Element::RowHeader, |w| w.text_right(RIGHT - 110.0, w.y, style, label));
    cell(w, Element::Cell, |w| w.text_right(RIGHT, w.y, style, value));
    w.close();
    w.y -= LEADING + 2.0;
}

/// A section title (a heading) with room for `room` points under it on the same page.
fn section(w: &mut Writer, title: &str, room: f32) {
    if !w.fits(room + 2.0 * LEADING) {
        w.new_page();
    }
    w.open_heading(2, title);
    w.text(MARGIN, w.y, bold(10.5), title);
    w.close();
    w.y -= LEADING + 2.0;
}

/// A table's row of column headings and a rule; `columns` are (x, heading, right-aligned).
fn table_head(w: &mut Writer, columns: &[(f32, &str, bool)], size: f32) {
    w.open(Element::Row);
    for (x, heading, right) in columns {
        if *right {
            cell(w, Element::ColumnHeader, |w| w.text_right(*x, w.y, bold(size), heading));
        } else {
            cell(w, Element::ColumnHeader, |w| w.text(*x, w.y, bold(size), heading));
        }
    }
    w.close();
    w.rule(MARGIN, RIGHT, w.y - 4.0, 0.5);
    w.y -= LEADING + 4.0;
}

/// The table's head again at the top of a new page; shown, but not a row of the table.
fn next_page_of_table(w: &mut Writer, columns: &[(f32, &str, bool)], size: f32) {
    w.new_page();
    w.repeating(true);
    table_head(w, columns, size);
    w.repeating(false);
}

/// A bill for the client: what was delivered, added, paid and is still owed.
pub(super) fn bill<'f>(doc: &BillDocument, fonts: &'f Fonts) -> Writer<'f> {
    let money = |amount: i64| doc.practice.currency.format(amount);
    let title = format!("Bill #{} - {}", doc.id, doc.practice.name);
    let mut w = Writer::new(fonts, format!("{} - Bill #{}", doc.practice.name, doc.id), title, doc.issued);
    let facts = [
        ("Bill #", doc.id.to_string()),
        ("Date", date(doc.issued)),
        ("Status", doc.status_label().to_string()),
        ("Balance due", money(doc.total - doc.paid)),
    ];
    header(&mut w, &doc.practice, "BILL", &facts);

    w.open_heading(2, "Bill to");
    w.text(MARGIN, w.y, bold(10.0), "Bill to");
    w.close();
    w.y -= LEADING + 1.0;
    w.text(MARGIN, w.y, regular(10.0), &doc.client.name);
    w.y -= LEADING;
    if let Some(email) = doc.client.email.as_deref().filter(|email| !email.trim().is_empty()) {
        w.text(MARGIN, w.y, regular(BODY), email);
        w.y -= LEADING;
    }
    w.y -= 10.0;

    let columns =
        [(MARGIN, "Date", false), (MARGIN + 72.0, "Service", false), (390.0, "Code", false), (RIGHT, "Fee", true)];
    section(&mut w, "Services", LEADING);
    if doc.lines.is_empty() {
        w.text(MARGIN, w.y, regular(BODY), "No services.");
        w.y -= LEADING;
    } else {
        w.open(Element::Table);
        table_head(&mut w, &columns, BODY);
        for line in &doc.lines {
            let names = w.wrap(&line.service, regular(BODY), 300.0);
            let height = LEADING * names.len() as f32;
            if !w.fits(height) {
                next_page_of_table(&mut w, &columns, BODY);
            }
            w.open(Element::Row);
            cell(&mut w, Element::Cell, |w| w.text(MARGIN, w.y, regular(BODY), &date(line.date)));
            cell(&mut w, Element::Cell, |w| {
                w.wrapped(MARGIN + 72.0, w.y, regular(BODY), LEADING, 300.0, &line.service);
            });
            cell(&mut w, Element::Cell, |w| w.text(390.0, w.y, regular(BODY), &line.code));
            cell(&mut w, Element::Cell, |w| w.text_right(RIGHT, w.y, regular(BODY), &money(line.fee)));
            w.close();
            w.y -= height;
        }
        w.close();
    }
    w.y -= 8.0;

    if !doc.products.is_empty() {
        let columns = [(MARGIN, "Product", false), (RIGHT, "Amount", true)];
        section(&mut w, "Products", LEADING);
        w.open(Element::Table);
        table_head(&mut w, &columns, BODY);
        for product in &doc.products {
            let names = w.wrap(&product.name, regular(BODY), 380.0);
            let height = LEADING * names.len() as f32;
            if !w.fits(height) {
                next_page_of_table(&mut w, &columns, BODY);
            }
            w.open(Element::Row);
            cell(&mut w, Element::Cell, |w| {
                w.wrapped(MARGIN, w.y, regular(BODY), LEADING, 380.0, &product.name);
            });
            cell(&mut w, Element::Cell, |w| w.text_right(RIGHT, w.y, regular(BODY), &money(product.amount)));
            w.close();
            w.y -= height;
        }
        w.close();
        w.y -= 8.0;
    }

    if !doc.payments.is_empty() {
        let columns = [
            (MARGIN, "Date", false),
            (MARGIN + 72.0, "Method", false),
            (MARGIN + 180.0, "Reference", false),
            (RIGHT, "Amount", true),
        ];
        section(&mut w, "Payments", LEADING);
        w.open(Element::Table);
        table_head(&mut w, &columns, BODY);
        for payment in &doc.payments {
            if !w.fits(LEADING) {
                next_page_of_table(&mut w, &columns, BODY);
            }
            w.open(Element::Row);
            cell(&mut w, Element::Cell, |w| w.text(MARGIN, w.y, regular(BODY), &date(payment.date)));
            cell(&mut w, Element::Cell, |w| w.text(MARGIN + 72.0, w.y, regular(BODY), &payment.method));
            cell(&mut w, Element::Cell, |w| {
                if let Some(reference) = &payment.reference {
                    w.text(MARGIN + 180.0, w.y, regular(BODY), reference);
                }
            });
            cell(&mut w, Element::Cell, |w| w.text_right(RIGHT, w.y, regular(BODY), &money(payment.amount)));
            w.close();
            w.y -= LEADING;
            if let Some(note) = payment.note(doc.practice.currency) {
                if !w.fits(LEADING) {
                    next_page_of_table(&mut w, &columns, BODY);
                }
                // A row of its own, under the method: what became of the payment since.
                w.open(Element::Row);
                cell(&mut w, Element::Cell, |w| w.text(MARGIN + 72.0, w.y, regular(BODY), &note));
                w.close();
                w.y -= LEADING;
            }
        }
        w.close();
        w.y -= 8.0;
    }

    if !w.fits(6.0 * LEADING) {
        w.new_page();
    }
    w.rule(RIGHT - 220.0, RIGHT, w.y + 6.0, 0.5);
    w.y -= 8.0;
    let services: i64 = doc.lines.iter().map(|line| line.fee).sum();
    w.open(Element::Table);
    total_row(&mut w, "Services", &money(services), regular(BODY));
    if !doc.products.is_empty() {
        let products: i64 = doc.products.iter().map(|product| product.amount).sum();
        total_row(&mut w, "Products", &money(products), regular(BODY));
    }
    total_row(&mut w, "Total", &money(doc.total), bold(10.0));
    total_row(&mut w, "Paid", &money(doc.paid), regular(BODY));
    total_row(&mut w, "Balance due", &money(doc.total - doc.paid), bold(10.0));
    total_row(&mut w, "Status", doc.status_label(), bold(10.0));
    w.close();
    w
}

/// Superbill table columns: x of each column's left edge (right edge for amounts).
const SB_DATE: f32 = MARGIN;
const SB_POS: f32 = 112.0;
const SB_CPT: f32 = 140.0;
const SB_MODIFIERS: f32 = 178.0;
const SB_UNITS: f32 = 222.0;
const SB_ICD: f32 = 250.0;
const SB_ICD_WIDTH: f32 = 66.0;
const SB_DESCRIPTION: f32 = 320.0;
const SB_DESCRIPTION_WIDTH: f32 = 112.0;
const SB_FEE: f32 = 498.0;
const SB_PAID: f32 = RIGHT;
const SB_SIZE: f32 = 8.0;
const SB_LEADING: f32 = 10.5;

/// A superbill for the client's insurer: who provided what, where, when, for which diagnoses,
/// at what fee, and what the client has paid.
pub(super) fn superbill<'f>(doc: &SuperbillDocument, fonts: &'f Fonts) -> Writer<'f> {
    let money = |amount: i64| doc.practice.currency.format(amount);
    let practice = &doc.practice;
    let title = format!("Superbill #{} - {}", doc.id, practice.name);
    let mut w = Writer::new(fonts, format!("{} - Superbill #{}", practice.name, doc.id), title, doc.issued);
    let period = match (doc.lines.first(), doc.lines.last()) {
        (Some(first), Some(last)) if first.date != last.date => format!("{} to {}", date(first.date), date(last.date)),
        (Some(first), _) => date(first.date),
        _ => String::new(),
    };
    let facts = [
        ("Superbill #", doc.id.to_string()),
        ("Date issued", date(doc.issued)),
        ("Dates of service", period),
        ("Total paid", money(doc.paid())),
    ];
    header(&mut w, practice, "SUPERBILL", &facts);

    // Provider and practice identifiers on the left, the patient on the right.
    let top = w.y;
    let not_given = |value: &str| if value.trim().is_empty() { "not given".to_string() } else { value.to_string() };
    let provider = match (practice.provider.name.trim(), practice.provider.credentials.trim()) {
        ("", _) => "not given".to_string(),
        (name, "") => name.to_string(),
        (name, credentials) => format!("{name}, {credentials}"),
    };
    let left: [(&str, String); 5] = [
        ("Rendering provider", provider),
        ("Individual NPI", not_given(&practice.provider.npi)),
        ("Practice (group) NPI", not_given(&practice.npi)),
        ("Tax ID (EIN)", not_given(&practice.tax_id)),
        ("Place of service", place_of_service_label(&practice.place_of_service)),
    ];
    w.open_heading(2, "Provider");
    w.text(MARGIN, top, bold(10.0), "Provider");
    w.close();
    let mut y = top - LEADING - 1.0;
    w.open(Element::Table);
    for (label, value) in &left {
        w.open(Element::Row);
        cell(&mut w, Element::RowHeader, |w| w.text(MARGIN, y, regular(BODY), &format!("{label}:")));
        cell(&mut w, Element::Cell, |w| w.text(MARGIN + 100.0, y, regular(BODY), value));
        w.close();
        y -= LEADING;
    }
    w.close();
    let patient_x = 340.0;
    w.open_heading(2, "Patient");
    w.text(patient_x, top, bold(10.0), "Patient");
    w.close();
    let mut py = top - LEADING - 1.0;
    let birth = doc.client.birth_date.map(date).unwrap_or_else(|| "not given".to_string());
    let mut right: Vec<(&str, String)> = vec![("Name", doc.client.name.clone()), ("Date of birth", birth)];
    if let Some(email) = doc.client.email.as_deref().filter(|email| !email.trim().is_empty()) {
        right.push(("Email", email.to_string()));
    }
    w.open(Element::Table);
    for (label, value) in &right {
        w.open(Element::Row);
        cell(&mut w, Element::RowHeader, |w| w.text(patient_x, py, regular(BODY), &format!("{label}:")));
        w.open(Element::Cell);
        let lines = w.wrapped(patient_x + 70.0, py, regular(BODY), LEADING, RIGHT - patient_x - 70.0, value);
        w.close();
        w.close();
        py -= LEADING * lines as f32;
    }
    w.close();
    w.y = y.min(py) - 6.0;
    let diagnoses = doc.diagnoses();
    let codes = if diagnoses.is_empty() { "none recorded".to_string() } else { diagnoses.join(", ") };
    w.text(MARGIN, w.y, regular(BODY), "Diagnosis codes (ICD-10):");
    w.open(Element::Paragraph);
    let lines = w.wrapped(MARGIN + 120.0, w.y, bold(BODY), LEADING, RIGHT - MARGIN - 120.0, &codes);
    w.close();
    w.y -= LEADING * lines as f32 + 14.0;

    let columns = [
        (SB_DATE, "Date of service", false),
        (SB_POS, "POS", false),
        (SB_CPT, "CPT", false),
        (SB_MODIFIERS, "Modifiers", false),
        (SB_UNITS, "Units", false),
        (SB_ICD, "ICD-10", false),
        (SB_DESCRIPTION, "Description", false),
        (SB_FEE, "Fee", true),
        (SB_PAID, "Paid", true),
    ];
    section(&mut w, "Services", SB_LEADING);
    let style = regular(SB_SIZE);
    if doc.lines.is_empty() {
        w.text(MARGIN, w.y, style, "No services.");
        w.y -= SB_LEADING;
    } else {
        w.open(Element::Table);
        table_head(&mut w, &columns, SB_SIZE);
    }
    for line in &doc.lines {
        let icd = w.wrap(&line.diagnoses.join(", "), style, SB_ICD_WIDTH);
        let description = w.wrap(&line.description, style, SB_DESCRIPTION_WIDTH);
        let height = SB_LEADING * icd.len().max(description.len()) as f32;
        if !w.fits(height) {
            next_page_of_table(&mut w, &columns, SB_SIZE);
        }
        w.open(Element::Row);
        cell(&mut w, Element::Cell, |w| w.text(SB_DATE, w.y, style, &date(line.date)));
        cell(&mut w, Element::Cell, |w| w.text(SB_POS, w.y, style, &line.place_of_service));
        cell(&mut w, Element::Cell, |w| w.text(SB_CPT, w.y, style, &line.cpt));
        cell(&mut w, Element::Cell, |w| w.text(SB_MODIFIERS, w.y, style, &line.modifiers.join(" ")));
        cell(&mut w, Element::Cell, |w| w.text(SB_UNITS, w.y, style, &line.units.to_string()));
        cell(&mut w, Element::Cell, |w| {
            w.wrapped(SB_ICD, w.y, style, SB_LEADING, SB_ICD_WIDTH, &line.diagnoses.join(", "));
        });
        cell(&mut w, Element::Cell, |w| {
            w.wrapped(SB_DESCRIPTION, w.y, style, SB_LEADING, SB_DESCRIPTION_WIDTH, &line.description);
        });
        cell(&mut w, Element::Cell, |w| w.text_right(SB_FEE, w.y, style, &money(line.fee)));
        cell(&mut w, Element::Cell, |w| w.text_right(SB_PAID, w.y, style, &money(line.paid)));
        w.close();
        w.y -= height + 2.0;
    }
    if !doc.lines.is_empty() {
        w.close();
    }
    w.y -= 8.0;
    if !w.fits(5.0 * LEADING) {
        w.new_page();
    }
    w.rule(RIGHT - 220.0, RIGHT, w.y + 6.0, 0.5);
    w.y -= 8.0;
    w.open(Element::Table);
    total_row(&mut w, "Total charges", &money(doc.total()), bold(10.0));
    total_row(&mut w, "Total paid", &money(doc.paid()), regular(BODY));
    total_row(&mut w, "Balance", &money(doc.total() - doc.paid()), regular(BODY));
    w.close();
    w.y -= 10.0;
    let note = "This superbill is a statement of services for the patient to submit to their insurer for reimbursement. \
                Amounts paid were paid to the provider by the patient.";
    if !w.fits(3.0 * LEADING) {
        w.new_page();
    }
    w.open(Element::Paragraph);
    w.wrapped(MARGIN, w.y, regular(8.0), 10.0, RIGHT - MARGIN, note);
    w.close();
    w
}

/// A place-of-service code with its CMS name when it is a common one.
fn place_of_service_label(code: &str) -> String {
    let name = match code {
        "02" => "telehealth, not in the patient's home",
        "10" => "telehealth in the patient's home",
        "11" => "office",
        "12" => "home",
        "22" => "on-campus outpatient hospital",
        "53" => "community mental health center",
        _ => "",
    };
    match (code.trim(), name) {
        ("", _) => "not given".to_string(),
        (code, "") => code.to_string(),
        (code, name) => format!("{code} ({name})"),
    }
}
