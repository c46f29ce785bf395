//! A practice's services, clients (billing settings and communication preferences) and
//! appointments.

use super::error::{ApiError, Body, ErrorBody, Path};
use super::page::{Page, PageQuery, Paging};
use super::practices::{email, text};
use super::{AppState, Caller};
use crate::domain::{
    AppointmentId, AppointmentStatus, Client, ClientChange, ClientId, NewAppointment, NewClient, Practice, PracticeId,
};
use crate::schedule::local_instant;
use crate::store::records::StatusChange;
use crate::store::views::{AppointmentRow, ServiceRow};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The highest fee accepted, in minor units.
pub const MAX_FEE: i64 = 1_000_000_000_000;

/// A new service.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceInput {
    /// The practice's code, unique in the practice.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Fee in minor units (0 for services that are never billed).
    pub fee: i64,
    /// CPT code, when insurance-eligible (makes its lines go on superbills).
    pub cpt_code: Option<String>,
}

/// A new client.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientInput {
    /// The practice's own reference, unique in the practice.
    pub reference: String,
    /// The client's name.
    pub name: String,
    /// Email address for billing documents.
    pub email: Option<String>,
    /// Communication preferences: whether billing email may be sent (default true).
    pub email_enabled: Option<bool>,
    /// "Automatically create superbills" (default false).
    pub auto_superbills: Option<bool>,
    /// Automatic sharing (default: the practice's share setting now).
    pub auto_share: Option<bool>,
    /// Autopay of open bills (default false).
    pub autopay: Option<bool>,
    /// The default card's reference at the payment provider (never card numbers).
    pub card: Option<String>,
    /// ICD-10 diagnosis codes.
    pub diagnosis: Option<Vec<String>>,
    /// Date of birth, `YYYY-MM-DD`, which superbills show.
    pub birth_date: Option<String>,
}

/// A change to a client: billing settings and communication preferences. Keys left out keep
/// their value; an empty `email`, `card` or `birth_date` removes it. Saving resumes autopay paused after declines.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientPatch {
    /// The client's name.
    pub name: Option<String>,
    /// Email address; empty to remove.
    pub email: Option<String>,
    /// Whether billing email may be sent.
    pub email_enabled: Option<bool>,
    /// "Automatically create superbills".
    pub auto_superbills: Option<bool>,
    /// Automatic sharing.
    pub auto_share: Option<bool>,
    /// Autopay of open bills.
    pub autopay: Option<bool>,
    /// Default card reference; empty to remove.
    pub card: Option<String>,
    /// ICD-10 diagnosis codes.
    pub diagnosis: Option<Vec<String>>,
    /// Date of birth, `YYYY-MM-DD`; empty to remove.
    pub birth_date: Option<String>,
}

/// A client.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ClientView {
    /// Its id.
    #[schema(value_type = i64)]
    pub id: ClientId,
    /// The practice's reference.
    pub reference: String,
    /// Name.
    pub name: String,
    /// Email address, if any.
    pub email: Option<String>,
    /// Whether billing email may be sent.
    pub email_enabled: bool,
    /// "Automatically create superbills".
    pub auto_superbills: bool,
    /// Automatic sharing.
    pub auto_share: bool,
    /// Autopay.
    pub autopay: bool,
    /// Default card reference.
    pub card: Option<String>,
    /// ICD-10 codes.
    pub diagnosis: Vec<String>,
    /// Date of birth, `YYYY-MM-DD`, if known.
    pub birth_date: Option<String>,
    /// Why autopay is paused, if it is (cleared by saving the client).
    pub autopay_paused: Option<String>,
}

/// A new appointment.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppointmentInput {
    /// The practice's own reference, unique in the practice.
    pub reference: String,
    /// The client's id.
    #[schema(value_type = i64)]
    pub client_id: ClientId,
    /// Start: practice-local `YYYY-MM-DDTHH:MM`, or RFC 3339 with an offset.
    pub starts_at: String,
    /// scheduled (default), completed, cancelled or no_show.
    pub status: Option<String>,
    /// Service codes delivered (1 to 20).
    pub services: Vec<String>,
}

fn view(client: Client) -> ClientView {
    ClientView {
        id: client.id,
        reference: client.reference,
        name: client.name,
        email: client.email,
        email_enabled: client.email_enabled,
        auto_superbills: client.auto_superbills,
        auto_share: client.auto_share,
        autopay: client.autopay,
        card: client.card,
        diagnosis: client.diagnosis,
        birth_date: client.birth_date.map(|date| date.format("%Y-%m-%d").to_string()),
        autopay_paused: client.autopay_paused,
    }
}

/// The earliest date of birth accepted: earlier ones are typos of the year.
const EARLIEST_BIRTH_DATE: NaiveDate = NaiveDate::from_ymd_opt(1900, 1, 1).expect("a date");

/// A date of birth, `YYYY-MM-DD`, not after `today`; empty is none (it removes the date).
fn birth_date(problems: &mut Vec<String>, value: &str, today: NaiveDate) -> Option<NaiveDate> {
    if value.is_empty() {
        return None;
    }
    match NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        Ok(date) if date > today => {
            problems.push(format!(
                "birth_date {value} is in the future (today is {today}); give the client's date of birth"
            ));
            None
        }
        Ok(date) if date < EARLIEST_BIRTH_DATE => {
            problems.push(format!("birth_date {value} is before {EARLIEST_BIRTH_DATE}; check the year"));
            None
        }
        Ok(date) => Some(date),
        Err(_) => {
            problems.push(format!("birth_date `{value}` is not a date in the form YYYY-MM-DD, e.g. 1990-04-12"));
            None
        }
    }
}

/// Today in the practice's time zone.
fn today(state: &AppState, practice: &Practice) -> NaiveDate {
    state.inner.clock.now().with_timezone(&practice.timezone).date_naive()
}

fn diagnosis(problems: &mut Vec<String>, codes: &[String]) {
    if codes.len() > 12 {
        problems.push("diagnosis holds at most 12 codes".into());
    }
    for code in codes {
        if code.is_empty() || code.len() > 10 || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '.') {
            problems.push(format!("diagnosis code `{code}` is not an ICD-10 code such as F41.1"));
        }
    }
}

fn checked(problems: Vec<String>) -> Result<(), ApiError> {
    if problems.is_empty() { Ok(()) } else { Err(ApiError::invalid(problems.join("; "))) }
}

async fn practice(state: &AppState, caller: Caller, id: PracticeId) -> Result<Practice, ApiError> {
    caller.practice(id)?;
    Ok(state.store().practice(id).await?)
}

/// Adds a service to the practice.
#[utoipa::path(post, path = "/v1/practices/{practice}/services", params(("practice" = i64, Path, description = "practice id")),
    request_body = ServiceInput,
    responses((status = 201, body = ServiceRow), (status = "4XX", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn create_service(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<PracticeId>,
    Body(input): Body<ServiceInput>,
) -> Result<(StatusCode, Json<ServiceRow>), ApiError> {
    practice(&state, caller, id).await?;
    let mut problems = vec![];
    text(&mut problems, "code", &input.code, true, 40);
    text(&mut problems, "name", &input.name, true, 200);
    text(&mut problems, "cpt_code", input.cpt_code.as_deref().unwrap_or_default(), false, 10);
    if !(0..=MAX_FEE).contains(&input.fee) {
        problems.push(format!("fee is {}; give minor units from 0 to {MAX_FEE}", input.fee));
    }
    checked(problems)?;
    let cpt = input.cpt_code.as_deref().filter(|code| !code.trim().is_empty());
    let service = state.store().create_service(id, input.code.trim(), &input.name, input.fee, cpt).await?;
    Ok((StatusCode::CREATED, Json(state.store().service(id, service).await?)))
}

/// Lists the practice's services.
#[utoipa::path(get, path = "/v1/practices/{practice}/services", params(("practice" = i64, Path, description = "practice id"), PageQuery),
    responses((status = 200, body = Page<ServiceRow>), (status = "4XX", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn services(
    State(state): State<AppState>,
    caller: Caller,
    paging: Paging,
    Path(id): Path<PracticeId>,
) -> Result<Json<Page<ServiceRow>>, ApiError> {
    practice(&state, caller, id).await?;
    let rows = state.store().services(id, paging.by_id()?).await?;
    Ok(Json(Page::of(rows, paging.limit, |row| row.id)))
}

/// Adds a client to the practice.
#[utoipa::path(post, path = "/v1/practices/{practice}/clients", params(("practice" = i64, Path, description = "practice id")),
    request_body = ClientInput,
    responses((status = 201, body = ClientView), (status = "4XX", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn create_client(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<PracticeId>,
    Body(input): Body<ClientInput>,
) -> Result<(StatusCode, Json<ClientView>), ApiError> {
    let practice = practice(&state, caller, id).await?;
    let mut problems = vec![];
    text(&mut problems, "reference", &input.reference, true, 100);
    text(&mut problems, "name", &input.name, true, 200);
    email(&mut problems, "email", input.email.as_deref().unwrap_or_default());
    text(&mut problems, "card", input.card.as_deref().unwrap_or_default(), false, 200);
    diagnosis(&mut problems, input.diagnosis.as_deref().unwrap_or_default());
    let born = birth_date(&mut problems, input.birth_date.as_deref().unwrap_or_default(), today(&state, &practice));
    checked(problems)?;
    let new = NewClient {
        reference: input.reference.trim().to_string(),
        name: input.name,
        email: input.email.filter(|email| !email.is_empty()),
        email_enabled: input.email_enabled.unwrap_or(true),
        auto_superbills: input.auto_superbills.unwrap_or(false),
        auto_share: input.auto_share,
        autopay: input.autopay.unwrap_or(false),
        card: input.card.filter(|card| !card.is_empty()),
        diagnosis: input.diagnosis.unwrap_or_default(),
        birth_date: born,
    };
    let client = state.store().create_client(id, &new).await?;
    tracing::info!(practice = id.get(), client = client.get(), "client created");
    Ok((StatusCode::CREATED, Json(view(state.store().practice_client(id, client).await?))))
}

/// Lists the practice's clients.
#[utoipa::path(get, path = "/v1/practices/{practice}/clients", params(("practice" = i64, Path, description = "practice id"), PageQuery),
    responses((status = 200, body = Page<ClientView>), (status = "4XX", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn clients(
    State(state): State<AppState>,
    caller: Caller,
    paging: Paging,
    Path(id): Path<PracticeId>,
) -> Result<Json<Page<ClientView>>, ApiError> {
    practice(&state, caller, id).await?;
    let rows = state.store().clients_page(id, paging.by_id()?).await?;
    Ok(Json(Page::of(rows.into_iter().map(view).collect(), paging.limit, |row: &ClientView| row.id)))
}

/// Reads a client.
#[utoipa::path(get, path = "/v1/practices/{practice}/clients/{client}",
    params(("practice" = i64, Path, description = "practice id"), ("client" = i64, Path, description = "client id")),
    responses((status = 200, body = ClientView), (status = "4XX", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn client(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, client)): Path<(PracticeId, ClientId)>,
) -> Result<Json<ClientView>, ApiError> {
    practice(&state, caller, id).await?;
    Ok(Json(view(state.store().practice_client(id, client).await?)))
}

/// Changes a client's billing settings and communication preferences.
#[utoipa::path(patch, path = "/v1/practices/{practice}/clients/{client}",
    params(("practice" = i64, Path, description = "practice id"), ("client" = i64, Path, description = "client id")),
    request_body = ClientPatch,
    responses((status = 200, body = ClientView), (status = "4XX", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn update_client(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, client)): Path<(PracticeId, ClientId)>,
    Body(input): Body<ClientPatch>,
) -> Result<Json<ClientView>, ApiError> {
    let practice = practice(&state, caller, id).await?;
    let mut problems = vec![];
    if let Some(name) = &input.name {
        text(&mut problems, "name", name, true, 200);
    }
    email(&mut problems, "email", input.email.as_deref().unwrap_or_default());
    text(&mut problems, "card", input.card.as_deref().unwrap_or_default(), false, 200);
    diagnosis(&mut problems, input.diagnosis.as_deref().unwrap_or_default());
    let born = input.birth_date.as_deref().map(|date| birth_date(&mut problems, date, today(&state, &practice)));
    checked(problems)?;
    let removable = |value: Option<String>| value.map(|value| Some(value).filter(|value| !value.is_empty()));
    let change = ClientChange {
        name: input.name,
        email: removable(input.email),
        email_enabled: input.email_enabled,
        auto_superbills: input.auto_superbills,
        auto_share: input.auto_share,
        autopay: input.autopay,
        card: removable(input.card),
        diagnosis: input.diagnosis,
        birth_date: born,
    };
    let saved = state.store().change_client(id, client, change).await?;
    tracing::info!(practice = id.get(), client = client.get(), "client settings changed");
    Ok(Json(view(saved)))
}

/// Books an appointment with its services.
#[utoipa::path(post, path = "/v1/practices/{practice}/appointments", params(("practice" = i64, Path, description = "practice id")),
    request_body = AppointmentInput,
    responses((status = 201, body = AppointmentRow), (status = "4XX", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn create_appointment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<PracticeId>,
    Body(input): Body<AppointmentInput>,
) -> Result<(StatusCode, Json<AppointmentRow>), ApiError> {
    let practice = practice(&state, caller, id).await?;
    let mut problems = vec![];
    text(&mut problems, "reference", &input.reference, true, 100);
    let status = input
        .status
        .as_deref()
        .unwrap_or(AppointmentStatus::Scheduled.as_str())
        .parse::<AppointmentStatus>()
        .map_err(|problem| problems.push(format!("status: {problem}")))
        .ok();
    let starts_at: Option<DateTime<Utc>> = match DateTime::parse_from_rfc3339(&input.starts_at) {
        Ok(at) => Some(at.with_timezone(&Utc)),
        Err(_) => ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
            .iter()
            .find_map(|format| NaiveDateTime::parse_from_str(&input.starts_at, format).ok())
            .map(|local| local_instant(practice.timezone, local.date(), local.time())),
    };
    match starts_at {
        None => problems.push(format!(
            "starts_at `{}` is not a time; use practice-local YYYY-MM-DDTHH:MM or RFC 3339",
            input.starts_at
        )),
        Some(at) => {
            let local = at.with_timezone(&practice.timezone).date_naive();
            if let Err(problem) = crate::domain::service_date("starts_at", local) {
                problems.push(problem);
            }
        }
    }
    if input.services.is_empty() || input.services.len() > 20 {
        problems.push("services lists 1 to 20 service codes".into());
    }
    let mut services = vec![];
    for code in input.services.iter().take(20) {
        match state.store().service_by_code(id, code).await {
            Ok(service) => services.push(service),
            Err(crate::store::StoreError::NotFound { .. }) => {
                problems.push(format!("service `{code}` does not exist in this practice; add it under /services first"))
            }
            Err(other) => return Err(other.into()),
        }
    }
    let client = match state.store().practice_client(id, input.client_id).await {
        Ok(client) => Some(client),
        Err(crate::store::StoreError::NotFound { .. }) => {
            problems.push(format!("client {} does not exist in this practice", input.client_id));
            None
        }
        Err(other) => return Err(other.into()),
    };
    checked(problems)?;
    let (Some(status), Some(starts_at), Some(client)) = (status, starts_at, client) else {
        return Err(ApiError::invalid("the appointment is incomplete"));
    };
    let new = NewAppointment {
        practice: id,
        client: client.id,
        reference: input.reference.trim(),
        starts_at,
        local_date: starts_at.with_timezone(&practice.timezone).date_naive(),
        status,
        services: &services,
    };
    let appointment = state.store().create_appointment(&new).await?;
    tracing::info!(practice = id.get(), appointment = appointment.get(), "appointment booked");
    Ok((StatusCode::CREATED, Json(state.store().appointment(id, appointment).await?)))
}

/// Lists the practice's appointments with their lines.
#[utoipa::path(get, path = "/v1/practices/{practice}/appointments", params(("practice" = i64, Path, description = "practice id"), PageQuery),
    responses((status = 200, body = Page<AppointmentRow>), (status = "4XX", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn appointments(
    State(state): State<AppState>,
    caller: Caller,
    paging: Paging,
    Path(id): Path<PracticeId>,
) -> Result<Json<Page<AppointmentRow>>, ApiError> {
    practice(&state, caller, id).await?;
    let rows = state.store().appointments(id, paging.by_id()?).await?;
    Ok(Json(Page::of(rows, paging.limit, |row| row.id)))
}

/// Reads an appointment.
#[utoipa::path(get, path = "/v1/practices/{practice}/appointments/{appointment}",
    params(("practice" = i64, Path, description = "practice id"), ("appointment" = i64, Path, description = "appointment id")),
    responses((status = 200, body = AppointmentRow), (status = "4XX", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn appointment(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, appointment)): Path<(PracticeId, AppointmentId)>,
) -> Result<Json<AppointmentRow>, ApiError> {
    practice(&state, caller, id).await?;
    Ok(Json(state.store().appointment(id, appointment).await?))
}

async fn set_status(
    state: &AppState,
    caller: Caller,
    id: PracticeId,
    appointment: AppointmentId,
    status: AppointmentStatus,
) -> Result<Json<AppointmentRow>, ApiError> {
    practice(state, caller, id).await?;
    match state.store().set_appointment_status_by_id(id, appointment, status).await? {
        StatusChange::Changed => {}
        StatusChange::Already(current) => {
            return Err(ApiError::conflict(format!("appointment {appointment} is already {current}")));
        }
        StatusChange::AlreadyOn(reason) => return Err(ApiError::conflict(reason)),
    }
    tracing::info!(
        practice = id.get(),
        appointment = appointment.get(),
        status = status.as_str(),
        "appointment status changed"
    );
    Ok(Json(state.store().appointment(id, appointment).await?))
}

/// Marks an appointment completed: its services become billable.
#[utoipa::path(post, path = "/v1/practices/{practice}/appointments/{appointment}/complete",
    params(("practice" = i64, Path, description = "practice id"), ("appointment" = i64, Path, description = "appointment id")),
    responses((status = 200, body = AppointmentRow), (status = "4XX", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn complete_appointment(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, appointment)): Path<(PracticeId, AppointmentId)>,
) -> Result<Json<AppointmentRow>, ApiError> {
    set_status(&state, caller, id, appointment, AppointmentStatus::Completed).await
}

/// Cancels an appointment that is on no bill or superbill yet.
#[utoipa::path(post, path = "/v1/practices/{practice}/appointments/{appointment}/cancel",
    params(("practice" = i64, Path, description = "practice id"), ("appointment" = i64, Path, description = "appointment id")),
    responses((status = 200, body = AppointmentRow), (status = "4XX", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn cancel_appointment(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, appointment)): Path<(PracticeId, AppointmentId)>,
) -> Result<Json<AppointmentRow>, ApiError> {
    set_status(&state, caller, id, appointment, AppointmentStatus::Cancelled).await
}
