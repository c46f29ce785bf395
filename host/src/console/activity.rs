//! What happened and what needs a person: shares (unknown, held and skipped ones with their
//! reasons), payments (failed attempts, disputes and refunds) and runs (with a failed run's
//! error, the plugin's message included).

use super::clients::share_table;
use super::layout::{csrf, page};
use super::session::{CsrfForm, Staff};
use super::{Answer, local_optional, local_text, money, practice_for, see_other};
use crate::api::AppState;
use crate::api::error::Path;
use crate::api::page::Page;
use crate::domain::{Currency, PracticeId, RunStatus, ShareId, ShareStatus};
use crate::store::PageRequest;
use crate::store::views::PaymentRow;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use maud::html;
use serde::Deserialize;

/// Rows each section shows.
const ROWS: u32 = 50;

/// `?after=…` on a list.
#[derive(Deserialize)]
pub struct After {
    after: Option<i64>,
}

/// A payment's dispute and refund, for people, in the practice's currency.
pub fn dispute_text(currency: Currency, payment: &PaymentRow) -> String {
    let mut parts = vec![];
    if let Some(status) = payment.dispute_status {
        parts.push(format!(
            "disputed ({}), {}",
            status.as_str().replace('_', " "),
            currency.format(payment.disputed_amount)
        ));
    }
    if payment.refunded > 0 {
        parts.push(format!("refunded {}", currency.format(payment.refunded)));
    }
    if parts.is_empty() { "—".to_string() } else { parts.join("; ") }
}

/// `GET …/shares`.
pub async fn shares(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<PracticeId>,
    Query(after): Query<After>,
) -> Answer {
    let practice = practice_for(&state, &staff, id).await?;
    let unknown = state.store().shares_with_status(id, ShareStatus::Unknown, i64::from(ROWS)).await?;
    let held = state.store().shares_with_status(id, ShareStatus::Held, i64::from(ROWS)).await?;
    let skipped = state.store().shares_with_status(id, ShareStatus::Skipped, i64::from(ROWS)).await?;
    let all = state.store().shares(id, PageRequest { after: after.after, limit: ROWS }).await?;
    let all = Page::of(all, ROWS, |row| row.id);
    let names =
        super::clients::ClientNames::of(&state, id, unknown.iter().map(|share| share.client_id).collect()).await?;
    let base = format!("/console/practices/{id}");
    let body = html! {
        h2 { "Outcome unknown" }
        @if unknown.is_empty() { p { "None." } } @else {
            p { "The host stopped while sending these. Check the mail log for each document; resend only those that did not go out." }
            table {
                thead { tr { th scope="col" { "Document" } th scope="col" { "Client" } th scope="col" { "Reason" } th scope="col" { "Action" } } }
                tbody { @for share in &unknown { tr {
                    td { (share.document_kind.as_str()) " " (share.document_id) }
                    td { (names.link(id, share.client_id)) }
                    td { (share.reason.as_deref().unwrap_or("")) }
                    td {
                        form method="post" action={ (base) "/shares/" (share.id) "/resend" } {
                            (csrf(&staff))
                            button type="submit" { "Resend after checking the mail log" }
                        }
                    }
                } } }
            }
        }
        h2 { "Held" }
        (share_table(&practice, &held))
        h2 { "Skipped" }
        (share_table(&practice, &skipped))
        h2 { "All shares" }
        (share_table(&practice, &all.data))
        @if let Some(next) = &all.next {
            p { a href={ (base) "/shares?after=" (next) } { "Older shares" } }
        }
    };
    Ok(page(&staff, Some(&practice), "Shares", body).into_response())
}

/// `POST …/shares/{share}/resend`: sends an `unknown` share again, once a person found in the
/// mail log that it did not go out.
pub async fn resend(
    State(state): State<AppState>,
    Path((id, share)): Path<(PracticeId, ShareId)>,
    form: CsrfForm<super::layout::NoFields>,
) -> Answer {
    practice_for(&state, &form.staff, id).await?;
    state.store().practice_share(id, share).await?;
    state.engine().resend_share(share, state.now()).await?;
    Ok(see_other(&format!("/console/practices/{id}/shares")))
}

/// `GET …/payments`.
pub async fn payments(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<PracticeId>,
    Query(after): Query<After>,
) -> Answer {
    let practice = practice_for(&state, &staff, id).await?;
    let tz = practice.timezone;
    let failed = state.store().failed_attempts(id, i64::from(ROWS)).await?;
    let rows = state.store().payments(id, PageRequest { after: after.after, limit: ROWS }).await?;
    let payments = Page::of(rows, ROWS, |row| row.id);
    let base = format!("/console/practices/{id}");
    let body = html! {
        h2 { "Failed payments" }
        @if failed.is_empty() { p { "None." } } @else {
            table {
                thead { tr { th scope="col" { "Bill" } th scope="col" { "When" } th scope="col" class="amount" { "Amount" } th scope="col" { "Reason" } } }
                tbody { @for row in &failed { tr {
                    td { a href={ (base) "/bills/" (row.bill_id) } { "Bill " (row.bill_id) } }
                    td { (local_text(tz, &row.created_at)) }
                    td.amount { (money(&practice, row.amount)) }
                    td { (row.reason.as_deref().unwrap_or("")) @if row.retryable { " (retried)" } @else { " (not retried)" } }
                } } }
            }
        }
        h2 { "Payments taken" }
        @if payments.data.is_empty() { p { "None." } } @else {
            table {
                thead { tr { th scope="col" { "Bill" } th scope="col" { "Taken" } th scope="col" class="amount" { "Amount" } th scope="col" { "Reference" } th scope="col" { "Dispute / refund" } } }
                tbody { @for row in &payments.data { tr {
                    td { a href={ (base) "/bills/" (row.bill_id) } { "Bill " (row.bill_id) } }
                    td { (local_text(tz, &row.created_at)) }
                    td.amount { (money(&practice, row.amount)) }
                    td { (row.provider_reference.as_deref().unwrap_or("—")) }
                    td { (dispute_text(practice.currency, row)) }
                } } }
            }
        }
        @if let Some(next) = &payments.next {
            p { a href={ (base) "/payments?after=" (next) } { "Older payments" } }
        }
    };
    Ok(page(&staff, Some(&practice), "Payments", body).into_response())
}

/// `GET …/runs`.
pub async fn runs(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<PracticeId>,
    Query(after): Query<After>,
) -> Answer {
    let practice = practice_for(&state, &staff, id).await?;
    let tz = practice.timezone;
    let rows = state.store().runs(id, PageRequest { after: after.after, limit: ROWS }).await?;
    let runs = Page::of(rows, ROWS, |row| row.id);
    let body = html! {
        @if runs.data.is_empty() { p { "No runs yet." } } @else {
            table {
                thead { tr { th scope="col" { "Kind" } th scope="col" { "Local date" } th scope="col" { "Due" } th scope="col" { "Status" } th scope="col" { "Finished" } th scope="col" { "Error" } } }
                tbody { @for row in &runs.data { tr {
                    td { (row.kind.as_str()) }
                    td { (row.date) }
                    td { (local_text(tz, &row.due_at)) }
                    td { @if row.outcome == RunStatus::Failed { strong { "failed" } } @else { (row.outcome.as_str()) } }
                    td { (local_optional(tz, row.finished_at.as_deref())) }
                    td { (row.error.as_deref().unwrap_or("")) }
                } } }
            }
        }
        @if let Some(next) = &runs.next {
            p { a href={ "/console/practices/" (id) "/runs?after=" (next) } { "Older runs" } }
        }
    };
    Ok(page(&staff, Some(&practice), "Runs", body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AttemptId, BillId, DisputeStatus, PaymentId};

    #[test]
    fn a_payment_shows_its_dispute_and_refund_in_the_practices_currency() {
        let mut payment = PaymentRow {
            id: PaymentId::new(1),
            bill_id: BillId::new(2),
            attempt_id: AttemptId::new(3),
            amount: 16000,
            created_at: "2026-01-06T05:30:00+00:00".into(),
            provider_reference: Some("pi_1".into()),
            dispute_status: None,
            disputed_amount: 0,
            refunded: 0,
        };
        assert_eq!(dispute_text(Currency::USD, &payment), "—");
        payment.dispute_status = Some(DisputeStatus::NeedsResponse);
        payment.disputed_amount = 16000;
        payment.refunded = 500;
        assert_eq!(dispute_text(Currency::USD, &payment), "disputed (needs response), USD 160.00; refunded USD 5.00");
    }
}
