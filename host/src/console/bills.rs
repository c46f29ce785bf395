//! Bills (filtered by status, a page at a time), a bill with everything on it and what a person
//! does to it (open, add a product, void), its PDF as emailed, and superbills.

use super::clients::{ClientNames, bill_table};
use super::layout::{csrf, field_errors, page};
use super::session::{CsrfForm, Staff};
use super::{Answer, Failure, FieldErrors, local_optional, local_text, money, practice_for, see_other};
use crate::api::AppState;
use crate::api::error::{Body, Path};
use crate::api::page::Page;
use crate::api::reports::{self, ProductInput};
use crate::domain::{BillId, BillStatus, DocumentKind, Practice, PracticeId, SuperbillId};
use crate::store::PageRequest;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use maud::{Markup, html};
use serde::Deserialize;

/// Rows a page of bills or superbills holds.
const PAGE_ROWS: u32 = 25;

/// `?status=…&after=…`.
#[derive(Deserialize)]
pub struct BillFilter {
    status: Option<String>,
    after: Option<i64>,
}

const STATUSES: [BillStatus; 5] =
    [BillStatus::Pended, BillStatus::Open, BillStatus::Paid, BillStatus::Void, BillStatus::Refunded];

/// `GET …/bills`.
pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<PracticeId>,
    Query(filter): Query<BillFilter>,
) -> Answer {
    let practice = practice_for(&state, &staff, id).await?;
    let status = match filter.status.as_deref().filter(|status| !status.is_empty()) {
        None => None,
        Some(text) => Some(
            text.parse::<BillStatus>()
                .map_err(|error| Failure(crate::api::error::ApiError::invalid(error.to_string())))?,
        ),
    };
    let rows =
        state.store().bills_with_status(id, status, PageRequest { after: filter.after, limit: PAGE_ROWS }).await?;
    let page_of = Page::of(rows, PAGE_ROWS, |row| row.id);
    let status_text = status.map(BillStatus::as_str).unwrap_or_default();
    let names = ClientNames::of(&state, id, page_of.data.iter().map(|row| row.client_id).collect()).await?;
    let body = html! {
        form method="get" action={ "/console/practices/" (id) "/bills" } {
            div.field {
                label for="status" { "Status" }
                select #status name="status" {
                    option value="" selected[status.is_none()] { "All" }
                    @for choice in STATUSES {
                        option value=(choice.as_str()) selected[status == Some(choice)] { (choice.label()) }
                    }
                }
                " " button type="submit" { "Show" }
            }
        }
        (bill_table(&practice, &page_of.data, &names))
        @if let Some(next) = &page_of.next {
            p { a href={ "/console/practices/" (id) "/bills?status=" (status_text) "&after=" (next) } { "Older bills" } }
        }
    };
    Ok(page(&staff, Some(&practice), "Bills", body).into_response())
}

/// `GET …/bills/{bill}`.
pub async fn page_of(
    State(state): State<AppState>,
    staff: Staff,
    Path((id, bill)): Path<(PracticeId, BillId)>,
) -> Answer {
    let practice = practice_for(&state, &staff, id).await?;
    let body = bill_page(&state, &staff, &practice, bill, &FieldErrors::none(), None).await?;
    Ok(page(&staff, Some(&practice), &format!("Bill {bill}"), body).into_response())
}

/// The product form as posted: the amount in the currency's units, e.g. `3.50`.
#[derive(Deserialize)]
pub struct ProductForm {
    name: Option<String>,
    amount: Option<String>,
}

/// `amount` in the currency's major units (`3.50`) as minor units (`350`); `None` when it is
/// not such a number.
fn minor_units(text: &str, exponent: u32) -> Option<i64> {
    let text = text.trim().replace(',', "");
    let (whole, fraction) = text.split_once('.').unwrap_or((text.as_str(), ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty())
        || !digits(whole)
        || !digits(fraction)
        || fraction.len() > exponent as usize
    {
        return None;
    }
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let padded = format!("{fraction:0<width$}", width = exponent as usize);
    let fraction: i64 = if padded.is_empty() { 0 } else { padded.parse().ok()? };
    whole.checked_mul(10i64.checked_pow(exponent)?)?.checked_add(fraction)
}

/// `POST …/bills/{bill}/products`.
pub async fn add_product(
    State(state): State<AppState>,
    Path((id, bill)): Path<(PracticeId, BillId)>,
    form: CsrfForm<ProductForm>,
) -> Answer {
    let CsrfForm { staff, form } = form;
    let practice = practice_for(&state, &staff, id).await?;
    let amount_text = form.amount.clone().unwrap_or_default();
    let exponent = practice.currency.exponent();
    let message = match minor_units(&amount_text, exponent) {
        None => format!(
            "amount `{}` is not an amount in {} such as {}",
            amount_text.trim(),
            practice.currency.code(),
            if exponent == 0 { "5".to_string() } else { format!("3.{}", "5".repeat(exponent as usize)) }
        ),
        Some(amount) => {
            let input = ProductInput { name: form.name.clone().unwrap_or_default(), amount };
            match reports::add_product(State(state.clone()), staff.caller, Path((id, bill)), Body(input)).await {
                Ok(_) => return Ok(see_other(&format!("/console/practices/{id}/bills/{bill}"))),
                Err(error) if error.status.is_client_error() && error.status != StatusCode::NOT_FOUND => error.message,
                Err(error) => return Err(error.into()),
            }
        }
    };
    let errors = FieldErrors::of(&message, &["amount", "name"]);
    let body = bill_page(&state, &staff, &practice, bill, &errors, Some(&form)).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page(&staff, Some(&practice), &format!("Bill {bill}"), body)).into_response())
}

/// `POST …/bills/{bill}/open`.
pub async fn open(
    State(state): State<AppState>,
    Path((id, bill)): Path<(PracticeId, BillId)>,
    form: CsrfForm<super::layout::NoFields>,
) -> Answer {
    let result = reports::open_bill(State(state.clone()), form.staff.caller, Path((id, bill))).await.map(|_| ());
    acted(&state, &form.staff, id, bill, result).await
}

/// `POST …/bills/{bill}/void`.
pub async fn void(
    State(state): State<AppState>,
    Path((id, bill)): Path<(PracticeId, BillId)>,
    form: CsrfForm<super::layout::NoFields>,
) -> Answer {
    let result = reports::void_bill(State(state.clone()), form.staff.caller, Path((id, bill))).await.map(|_| ());
    acted(&state, &form.staff, id, bill, result).await
}

/// After an action: back to the bill, or the bill with the API's reason for refusing.
async fn acted(
    state: &AppState,
    staff: &Staff,
    id: PracticeId,
    bill: BillId,
    result: Result<(), crate::api::error::ApiError>,
) -> Answer {
    match result {
        Ok(()) => Ok(see_other(&format!("/console/practices/{id}/bills/{bill}"))),
        Err(error) if error.status.is_client_error() && error.status != StatusCode::NOT_FOUND => {
            let practice = practice_for(state, staff, id).await?;
            let errors = FieldErrors::of(&error.message, &[]);
            let body = bill_page(state, staff, &practice, bill, &errors, None).await?;
            Ok((error.status, page(staff, Some(&practice), &format!("Bill {bill}"), body)).into_response())
        }
        Err(error) => Err(error.into()),
    }
}

/// `GET …/bills/{bill}/pdf`: the PDF as emailed.
pub async fn pdf(State(state): State<AppState>, staff: Staff, Path((id, bill)): Path<(PracticeId, BillId)>) -> Answer {
    Ok(reports::bill_pdf(State(state), staff.caller, Path((id, bill))).await?)
}

/// `GET …/superbills/{superbill}/pdf`.
pub async fn superbill_pdf(
    State(state): State<AppState>,
    staff: Staff,
    Path((id, superbill)): Path<(PracticeId, SuperbillId)>,
) -> Answer {
    Ok(reports::superbill_pdf(State(state), staff.caller, Path((id, superbill))).await?)
}

async fn bill_page(
    state: &AppState,
    staff: &Staff,
    practice: &Practice,
    bill: BillId,
    errors: &FieldErrors,
    product: Option<&ProductForm>,
) -> Result<Markup, Failure> {
    let id = practice.id;
    let tz = practice.timezone;
    let detail = state.store().bill_detail(id, bill).await?;
    let client = state.store().practice_client(id, detail.bill.client_id).await?;
    let share = state.store().document_share(id, DocumentKind::Bill, bill.get()).await?;
    let base = format!("/console/practices/{id}/bills/{bill}");
    let status = detail.bill.status;
    let unpaid_open = status == BillStatus::Open && detail.bill.paid == 0;
    let name_errors = errors.on("name");
    let amount_errors = errors.on("amount");
    Ok(html! {
        @for error in &errors.general { p.error role="alert" { (error) } }
        section.panel aria-labelledby="bill-summary" {
            h2 #bill-summary { "Summary" }
            dl {
                dt { "Client" } dd { a href={ "/console/practices/" (id) "/clients/" (client.id) } { (client.name) } }
                dt { "Status" } dd #bill-status { (status.label()) }
                dt { "Created" } dd { (local_text(tz, &detail.bill.created_at)) }
                dt { "Total" } dd { (money(practice, detail.bill.total)) }
                dt { "Paid" } dd { (money(practice, detail.bill.paid)) }
                dt { "Balance" } dd { (money(practice, detail.bill.balance)) }
                dt { "Email" } dd {
                    @match &share {
                        None => { "not shared" }
                        Some(share) => {
                            (share.status.as_str())
                            @if let Some(reason) = &share.reason { ": " (reason) }
                        }
                    }
                }
            }
            p { a href={ (base) "/pdf" } { "PDF of bill " (bill) ", as emailed" } }
        }
        h2 { "Lines" }
        table {
            thead { tr { th scope="col" { "Date of service" } th scope="col" { "Service" } th scope="col" class="amount" { "Fee" } th scope="col" class="amount" { "Paid" } } }
            tbody { @for line in &detail.lines { tr {
                td { (line.date) } td { (line.service) } td.amount { (money(practice, line.fee)) } td.amount { (money(practice, line.paid)) }
            } } }
        }
        h2 { "Products" }
        @if detail.products.is_empty() { p { "None." } } @else {
            table {
                thead { tr { th scope="col" { "Product" } th scope="col" { "Added" } th scope="col" class="amount" { "Amount" } } }
                tbody { @for row in &detail.products { tr {
                    td { (row.name) } td { (local_text(tz, &row.added_at)) } td.amount { (money(practice, row.amount)) }
                } } }
            }
        }
        h2 { "Payments" }
        @if detail.payments.is_empty() { p { "None." } } @else {
            table {
                thead { tr { th scope="col" { "Taken" } th scope="col" class="amount" { "Amount" } th scope="col" { "Reference" } th scope="col" { "Dispute / refund" } } }
                tbody { @for row in &detail.payments { tr {
                    td { (local_text(tz, &row.created_at)) } td.amount { (money(practice, row.amount)) }
                    td { (row.provider_reference.as_deref().unwrap_or("—")) }
                    td { (super::activity::dispute_text(practice.currency, row)) }
                } } }
            }
        }
        h2 { "Autopay attempts" }
        @if detail.attempts.is_empty() { p { "None." } } @else {
            table {
                thead { tr { th scope="col" { "Attempt" } th scope="col" { "When" } th scope="col" class="amount" { "Amount" } th scope="col" { "Outcome" } th scope="col" { "Decline reason" } } }
                tbody { @for row in &detail.attempts { tr {
                    td { (row.attempt) } td { (local_text(tz, &row.created_at)) } td.amount { (money(practice, row.amount)) }
                    td { (row.status.as_str()) }
                    td { (row.reason.as_deref().unwrap_or("")) @if row.status == crate::domain::AttemptStatus::Failed { @if row.retryable { " (retried)" } @else { " (not retried)" } } }
                } } }
            }
        }
        @if matches!(status, BillStatus::Pended) || unpaid_open {
            h2 { "Actions" }
            div.actions {
                @if status == BillStatus::Pended {
                    form method="post" action={ (base) "/open" } {
                        (csrf(staff))
                        button type="submit" { "Open bill" }
                    }
                }
                form method="post" action={ (base) "/void" } {
                    (csrf(staff))
                    button.danger type="submit" { "Void bill" }
                }
            }
            section.card aria-labelledby="add-product" {
                h3 #add-product { "Add a product" }
                form method="post" action={ (base) "/products" } novalidate {
                    (csrf(staff))
                    div.field {
                        label for="product-name" { "Name" }
                        input #product-name type="text" name="name" value=(product.and_then(|p| p.name.clone()).unwrap_or_default())
                            aria-invalid=[(!name_errors.is_empty()).then_some("true")]
                            aria-describedby=[(!name_errors.is_empty()).then_some("product-name-error")];
                        (field_errors("product-name", &name_errors))
                    }
                    div.field {
                        label for="product-amount" { "Amount (" (practice.currency.code()) ")" }
                        input #product-amount type="text" inputmode="decimal" name="amount"
                            value=(product.and_then(|p| p.amount.clone()).unwrap_or_default())
                            aria-invalid=[(!amount_errors.is_empty()).then_some("true")]
                            aria-describedby=[(!amount_errors.is_empty()).then_some("product-amount-error")];
                        (field_errors("product-amount", &amount_errors))
                    }
                    button type="submit" { "Add product" }
                }
            }
        }
        p.hint { "Opened " (local_optional(tz, detail.bill.opened_at.as_deref())) "; paid " (local_optional(tz, detail.bill.paid_at.as_deref())) "; voided " (local_optional(tz, detail.bill.voided_at.as_deref())) "." }
    })
}

/// `?after=…` on superbills.
#[derive(Deserialize)]
pub struct After {
    after: Option<i64>,
}

/// `GET …/superbills`.
pub async fn superbills(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<PracticeId>,
    Query(after): Query<After>,
) -> Answer {
    let practice = practice_for(&state, &staff, id).await?;
    let rows = state.store().superbills(id, PageRequest { after: after.after, limit: PAGE_ROWS }).await?;
    let page_of = Page::of(rows, PAGE_ROWS, |row| row.id);
    let names = ClientNames::of(&state, id, page_of.data.iter().map(|row| row.client_id).collect()).await?;
    let base = format!("/console/practices/{id}");
    let body = html! {
        @if page_of.data.is_empty() { p { "No superbills yet." } } @else {
            table {
                thead { tr { th scope="col" { "Superbill" } th scope="col" { "Client" } th scope="col" { "Created" } th scope="col" class="amount" { "Total" } th scope="col" class="amount" { "Paid" } } }
                tbody { @for row in &page_of.data { tr {
                    td { a href={ (base) "/superbills/" (row.id) "/pdf" } { "Superbill " (row.id) " (PDF)" } }
                    td { (names.link(id, row.client_id)) }
                    td { (local_text(practice.timezone, &row.created_at)) }
                    td.amount { (money(&practice, row.total)) } td.amount { (money(&practice, row.paid)) }
                } } }
            }
        }
        @if let Some(next) = &page_of.next {
            p { a href={ (base) "/superbills?after=" (next) } { "Older superbills" } }
        }
    };
    Ok(page(&staff, Some(&practice), "Superbills", body).into_response())
}

#[cfg(test)]
mod tests {
    use super::minor_units;

    #[test]
    fn amounts_are_read_in_the_currencys_units() {
        assert_eq!(minor_units("3.50", 2), Some(350));
        assert_eq!(minor_units("3.5", 2), Some(350));
        assert_eq!(minor_units("1,000", 0), Some(1000));
        assert_eq!(minor_units("1.500", 3), Some(1500));
        assert_eq!(minor_units("3.505", 2), None, "more decimals than the currency has");
        assert_eq!(minor_units("abc", 2), None);
        assert_eq!(minor_units("", 2), None);
        assert_eq!(minor_units("99999999999999999999", 2), None, "no overflow");
    }
}
