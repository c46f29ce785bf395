//! Bills (and what people do to them), superbills, the PDF of either, payments and attempts,
//! shares, runs and events.

use super::error::{ApiError, Body, ErrorBody, Path};
use super::page::{Page, PageQuery, Paging};
use super::{AppState, Caller};
use crate::domain::{BillId, DocumentId, EventId, PracticeId, SuperbillId};
use crate::pdf;
use crate::store::views::{AttemptRow, BillDetail, BillRow, PaymentRow, RunRow, ShareRow, SuperbillRow};
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A product to add to a bill, e.g. a card processing fee.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductInput {
    /// Its name.
    pub name: String,
    /// Its amount in minor units (above 0).
    pub amount: i64,
}

/// One event of the practice's log.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EventView {
    /// Its id, in the order events were recorded.
    #[schema(value_type = i64)]
    pub id: EventId,
    /// When, RFC 3339 in the practice's offset.
    pub at: String,
    /// What happened: `{"event": "bill_created", …}`.
    #[schema(value_type = Object)]
    pub event: serde_json::Value,
}

async fn check(state: &AppState, caller: Caller, practice: PracticeId) -> Result<(), ApiError> {
    caller.practice(practice)?;
    state.store().practice(practice).await?;
    Ok(())
}

/// Lists the practice's bills, newest first.
#[utoipa::path(get, path = "/v1/practices/{practice}/bills", params(("practice" = i64, Path, description = "practice id"), PageQuery),
    responses((status = 200, body = Page<BillRow>), (status = "4XX", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn bills(
    State(state): State<AppState>,
    caller: Caller,
    paging: Paging,
    Path(practice): Path<PracticeId>,
) -> Result<Json<Page<BillRow>>, ApiError> {
    check(&state, caller, practice).await?;
    let rows = state.store().bills(practice, paging.by_id()?).await?;
    Ok(Json(Page::of(rows, paging.limit, |row| row.id)))
}

/// Reads a bill with its lines, products and payment attempts.
#[utoipa::path(get, path = "/v1/practices/{practice}/bills/{bill}",
    params(("practice" = i64, Path, description = "practice id"), ("bill" = i64, Path, description = "bill id")),
    responses((status = 200, body = BillDetail), (status = "4XX", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn bill(
    State(state): State<AppState>,
    caller: Caller,
    Path((practice, bill)): Path<(PracticeId, BillId)>,
) -> Result<Json<BillDetail>, ApiError> {
    check(&state, caller, practice).await?;
    Ok(Json(state.store().bill_detail(practice, bill).await?))
}

/// Opens a pended bill; it is then shared as the practice's share policy says.
#[utoipa::path(post, path = "/v1/practices/{practice}/bills/{bill}/open",
    params(("practice" = i64, Path, description = "practice id"), ("bill" = i64, Path, description = "bill id")),
    responses((status = 200, body = BillDetail), (status = "4XX", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn open_bill(
    State(state): State<AppState>,
    caller: Caller,
    Path((practice, bill)): Path<(PracticeId, BillId)>,
) -> Result<Json<BillDetail>, ApiError> {
    check(&state, caller, practice).await?;
    state.inner.engine.open_bill(practice, bill, state.inner.clock.now()).await?;
    Ok(Json(state.store().bill_detail(practice, bill).await?))
}

/// Adds a product to a pended or unpaid open bill.
#[utoipa::path(post, path = "/v1/practices/{practice}/bills/{bill}/products",
    params(("practice" = i64, Path, description = "practice id"), ("bill" = i64, Path, description = "bill id")),
    request_body = ProductInput,
    responses((status = 200, body = BillDetail), (status = "4XX", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn add_product(
    State(state): State<AppState>,
    caller: Caller,
    Path((practice, bill)): Path<(PracticeId, BillId)>,
    Body(input): Body<ProductInput>,
) -> Result<Json<BillDetail>, ApiError> {
    check(&state, caller, practice).await?;
    if input.name.chars().count() > 200 {
        return Err(ApiError::invalid("name is longer than 200 characters"));
    }
    state
        .inner
        .engine
        .add_product_to_bill(practice, bill, input.name.trim(), input.amount, state.inner.clock.now())
        .await?;
    Ok(Json(state.store().bill_detail(practice, bill).await?))
}

/// Voids a pended or unpaid open bill; its lines are not billed again, and a pending email of
/// it is skipped.
#[utoipa::path(post, path = "/v1/practices/{practice}/bills/{bill}/void",
    params(("practice" = i64, Path, description = "practice id"), ("bill" = i64, Path, description = "bill id")),
    responses((status = 200, body = BillDetail), (status = "4XX", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn void_bill(
    State(state): State<AppState>,
    caller: Caller,
    Path((practice, bill)): Path<(PracticeId, BillId)>,
) -> Result<Json<BillDetail>, ApiError> {
    check(&state, caller, practice).await?;
    state.inner.engine.void_bill(practice, bill, state.inner.clock.now()).await?;
    Ok(Json(state.store().bill_detail(practice, bill).await?))
}

/// A document of the practice as a PDF; another practice's document is not found, exactly like
/// one that does not exist.
async fn document_pdf(
    state: &AppState,
    caller: Caller,
    practice: PracticeId,
    id: DocumentId,
) -> Result<Response, ApiError> {
    check(state, caller, practice).await?;
    let document = state.store().practice_document(practice, id).await?;
    let disposition = format!("inline; filename=\"{}\"", document.file_name());
    let bytes = tokio::task::spawn_blocking(move || pdf::render(&document))
        .await
        .map_err(|error| ApiError::internal(format!("rendering the PDF: {error}")))?
        .map_err(|error| ApiError::internal(format!("rendering the PDF: {error}")))?;
    Ok(([(header::CONTENT_TYPE, "application/pdf".to_string()), (header::CONTENT_DISPOSITION, disposition)], bytes)
        .into_response())
}

/// The bill as a PDF, as it is emailed to the client.
#[utoipa::path(get, path = "/v1/practices/{practice}/bills/{bill}/pdf",
    params(("practice" = i64, Path, description = "practice id"), ("bill" = i64, Path, description = "bill id")),
    responses((status = 200, description = "the bill's PDF", body = Vec<u8>, content_type = "application/pdf"),
        (status = "4XX", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn bill_pdf(
    State(state): State<AppState>,
    caller: Caller,
    Path((practice, bill)): Path<(PracticeId, BillId)>,
) -> Result<Response, ApiError> {
    document_pdf(&state, caller, practice, DocumentId::Bill(bill)).await
}

/// Lists the practice's superbills, newest first.
#[utoipa::path(get, path = "/v1/practices/{practice}/superbills", params(("practice" = i64, Path, description = "practice id"), PageQuery),
    responses((status = 200, body = Page<SuperbillRow>), (status = "4XX", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn superbills(
    State(state): State<AppState>,
    caller: Caller,
    paging: Paging,
    Path(practice): Path<PracticeId>,
) -> Result<Json<Page<SuperbillRow>>, ApiError> {
    check(&state, caller, practice).await?;
    let rows = state.store().superbills(practice, paging.by_id()?).await?;
    Ok(Json(Page::of(rows, paging.limit, |row| row.id)))
}

/// Reads a superbill with its lines.
#[utoipa::path(get, path = "/v1/practices/{practice}/superbills/{superbill}",
    params(("practice" = i64, Path, description = "practice id"), ("superbill" = i64, Path, description = "superbill id")),
    responses((status = 200, body = SuperbillRow), (status = "4XX", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn superbill(
    State(state): State<AppState>,
    caller: Caller,
    Path((practice, superbill)): Path<(PracticeId, SuperbillId)>,
) -> Result<Json<SuperbillRow>, ApiError> {
    check(&state, caller, practice).await?;
    Ok(Json(state.store().superbill(practice, superbill).await?))
}

/// The superbill as a PDF, for the client's insurer.
#[utoipa::path(get, path = "/v1/practices/{practice}/superbills/{superbill}/pdf",
    params(("practice" = i64, Path, description = "practice id"), ("superbill" = i64, Path, description = "superbill id")),
    responses((status = 200, description = "the superbill's PDF", body = Vec<u8>, content_type = "application/pdf"),
        (status = "4XX", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn superbill_pdf(
    State(state): State<AppState>,
    caller: Caller,
    Path((practice, superbill)): Path<(PracticeId, SuperbillId)>,
) -> Result<Response, ApiError> {
    document_pdf(&state, caller, practice, DocumentId::Superbill(superbill)).await
}

/// Lists the payments taken, newest first.
#[utoipa::path(get, path = "/v1/practices/{practice}/payments", params(("practice" = i64, Path, description = "practice id"), PageQuery),
    responses((status = 200, body = Page<PaymentRow>), (status = "4XX", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn payments(
    State(state): State<AppState>,
    caller: Caller,
    paging: Paging,
    Path(practice): Path<PracticeId>,
) -> Result<Json<Page<PaymentRow>>, ApiError> {
    check(&state, caller, practice).await?;
    let rows = state.store().payments(practice, paging.by_id()?).await?;
    Ok(Json(Page::of(rows, paging.limit, |row| row.id)))
}

/// Lists autopay attempts with their outcome and reason, newest first.
#[utoipa::path(get, path = "/v1/practices/{practice}/payment-attempts", params(("practice" = i64, Path, description = "practice id"), PageQuery),
    responses((status = 200, body = Page<AttemptRow>), (status = "4XX", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn attempts(
    State(state): State<AppState>,
    caller: Caller,
    paging: Paging,
    Path(practice): Path<PracticeId>,
) -> Result<Json<Page<AttemptRow>>, ApiError> {
    check(&state, caller, practice).await?;
    let rows = state.store().attempts(practice, paging.by_id()?).await?;
    Ok(Json(Page::of(rows, paging.limit, |row| row.id)))
}

/// Lists share rows with their status or skip reason, newest first.
#[utoipa::path(get, path = "/v1/practices/{practice}/shares", params(("practice" = i64, Path, description = "practice id"), PageQuery),
    responses((status = 200, body = Page<ShareRow>), (status = "4XX", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn shares(
    State(state): State<AppState>,
    caller: Caller,
    paging: Paging,
    Path(practice): Path<PracticeId>,
) -> Result<Json<Page<ShareRow>>, ApiError> {
    check(&state, caller, practice).await?;
    let rows = state.store().shares(practice, paging.by_id()?).await?;
    Ok(Json(Page::of(rows, paging.limit, |row| row.id)))
}

/// Lists the practice's runs with their outcome and error, newest first.
#[utoipa::path(get, path = "/v1/practices/{practice}/runs", params(("practice" = i64, Path, description = "practice id"), PageQuery),
    responses((status = 200, body = Page<RunRow>), (status = "4XX", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn runs(
    State(state): State<AppState>,
    caller: Caller,
    paging: Paging,
    Path(practice): Path<PracticeId>,
) -> Result<Json<Page<RunRow>>, ApiError> {
    check(&state, caller, practice).await?;
    let rows = state.store().runs(practice, paging.by_id()?).await?;
    Ok(Json(Page::of(rows, paging.limit, |row| row.id)))
}

/// Lists the practice's events in the order they were recorded.
#[utoipa::path(get, path = "/v1/practices/{practice}/events", params(("practice" = i64, Path, description = "practice id"), PageQuery),
    responses((status = 200, body = Page<EventView>), (status = "4XX", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn events(
    State(state): State<AppState>,
    caller: Caller,
    paging: Paging,
    Path(practice): Path<PracticeId>,
) -> Result<Json<Page<EventView>>, ApiError> {
    check(&state, caller, practice).await?;
    let tz = state.store().practice(practice).await?.timezone;
    let events = state.store().events_page(practice, paging.by_id()?).await?;
    let mut views = vec![];
    for (id, event) in events {
        let value = serde_json::to_value(&event.kind)
            .map_err(|error| ApiError::from(crate::store::StoreError::Corrupt(error.to_string())))?;
        views.push(EventView { id, at: event.at.with_timezone(&tz).to_rfc3339(), event: value });
    }
    Ok(Json(Page::of(views, paging.limit, |view| view.id)))
}
