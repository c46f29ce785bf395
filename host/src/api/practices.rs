//! Practices (their details, the rendering provider superbills name, the sender address of their
//! emails), their "Billing Automation" settings, and practice tokens.

use super::error::{ApiError, Body, ErrorBody, Path};
use super::page::{Page, PageQuery, Paging};
use super::{AppState, Caller};
use crate::domain::{
    AutomationChange, AutomationSettings, Currency, DEFAULT_PLACE_OF_SERVICE, NewPractice, Practice, PracticeId,
    Provider, is_place_of_service, parse_timezone, practice_name,
};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The "Billing Automation" settings; in a change, keys left out keep their value.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AutomationInput {
    /// daily, monthly or manual.
    pub bills: Option<String>,
    /// 1–31 (29–31 run on the last day of shorter months).
    pub superbill_day: Option<i64>,
    /// Whether new clients start with automatic sharing on.
    pub share: Option<bool>,
    /// 0–10,080 minutes between a document's creation and its email.
    pub share_delay_minutes: Option<i64>,
    /// Whether open bills are charged to default cards nightly.
    pub autopay: Option<bool>,
}

impl AutomationInput {
    /// The change this input asks for.
    pub fn change(&self) -> AutomationChange {
        AutomationChange {
            bills: self.bills.clone(),
            superbill_day: self.superbill_day,
            share: self.share,
            share_delay_minutes: self.share_delay_minutes,
            autopay: self.autopay,
        }
    }
}

/// The settings in force.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AutomationView {
    /// daily, monthly or manual.
    pub bills: String,
    /// 1–31.
    pub superbill_day: u8,
    /// Whether new clients start with automatic sharing on.
    pub share: bool,
    /// Minutes between a document's creation and its email.
    pub share_delay_minutes: u32,
    /// Whether autopay is on.
    pub autopay: bool,
}

/// The settings and advice about them.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AutomationAnswer {
    /// The settings in force.
    pub automation: AutomationView,
    /// Settings that work but may surprise, e.g. autopay with a short share delay.
    pub warnings: Vec<String>,
}

/// The rendering provider superbills name; in a change, keys left out keep their value.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderInput {
    /// The provider's name, e.g. Dana Reyes.
    pub name: Option<String>,
    /// Credentials, e.g. LCSW.
    pub credentials: Option<String>,
    /// The provider's individual NPI: 10 digits; empty for none.
    pub npi: Option<String>,
}

/// The rendering provider superbills name.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ProviderView {
    /// The provider's name.
    pub name: String,
    /// Credentials.
    pub credentials: String,
    /// The provider's individual NPI.
    pub npi: String,
}

/// A change to a practice's details; keys left out keep their value, an empty text removes it
/// (except `name` and `place_of_service`, which a practice always has). The time zone and the
/// currency stay as created; automation settings change at `/automation`.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PracticePatch {
    /// Its name.
    pub name: Option<String>,
    /// Organisation NPI.
    pub npi: Option<String>,
    /// Tax id.
    pub tax_id: Option<String>,
    /// Address.
    pub address: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// The address its billing emails come from; empty for the host's placeholder.
    pub email: Option<String>,
    /// The rendering provider superbills name.
    pub provider: Option<ProviderInput>,
    /// The CMS place-of-service code of its visits: two digits, e.g. 11 office, 02 or 10 telehealth.
    pub place_of_service: Option<String>,
}

/// A new practice.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PracticeInput {
    /// Its name.
    pub name: String,
    /// IANA time zone, e.g. America/New_York.
    pub timezone: String,
    /// ISO 4217 currency (default USD).
    pub currency: Option<String>,
    /// Organisation NPI.
    pub npi: Option<String>,
    /// Tax id.
    pub tax_id: Option<String>,
    /// Address.
    pub address: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// The address its billing emails come from (default: the host's placeholder).
    pub email: Option<String>,
    /// The rendering provider superbills name.
    pub provider: Option<ProviderInput>,
    /// The CMS place-of-service code of its visits: two digits (default 11, office; 02 or 10
    /// for telehealth).
    pub place_of_service: Option<String>,
    /// Automation settings (defaults: daily bills, superbill day 1, no sharing, no autopay).
    pub automation: Option<AutomationInput>,
}

/// A practice.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PracticeView {
    /// Its id.
    #[schema(value_type = i64)]
    pub id: PracticeId,
    /// Its name.
    pub name: String,
    /// IANA time zone.
    pub timezone: String,
    /// ISO 4217 currency.
    pub currency: String,
    /// Organisation NPI.
    pub npi: String,
    /// Tax id.
    pub tax_id: String,
    /// Address.
    pub address: String,
    /// Phone.
    pub phone: String,
    /// The address its billing emails come from; empty for the host's placeholder.
    pub email: String,
    /// The rendering provider superbills name.
    pub provider: ProviderView,
    /// The CMS place-of-service code of its visits.
    pub place_of_service: String,
    /// Automation settings.
    pub automation: AutomationView,
    /// Advice about the settings.
    pub warnings: Vec<String>,
}

fn view_automation(a: &AutomationSettings) -> AutomationView {
    AutomationView {
        bills: a.bills.as_str().into(),
        superbill_day: a.superbill_day,
        share: a.share,
        share_delay_minutes: a.share_delay_minutes,
        autopay: a.autopay,
    }
}

fn view(practice: &Practice) -> PracticeView {
    PracticeView {
        id: practice.id,
        name: practice.name.clone(),
        timezone: practice.timezone.name().into(),
        currency: practice.currency.code().to_string(),
        npi: practice.npi.clone(),
        tax_id: practice.tax_id.clone(),
        address: practice.address.clone(),
        phone: practice.phone.clone(),
        email: practice.email.clone(),
        provider: ProviderView {
            name: practice.provider.name.clone(),
            credentials: practice.provider.credentials.clone(),
            npi: practice.provider.npi.clone(),
        },
        place_of_service: practice.place_of_service.clone(),
        automation: view_automation(&practice.automation),
        warnings: practice.automation.warnings(),
    }
}

fn checked(problems: Vec<String>) -> Result<(), ApiError> {
    if problems.is_empty() { Ok(()) } else { Err(ApiError::invalid(problems.join("; "))) }
}

/// A text field of at most `limit` characters, without control characters.
pub(super) fn text(problems: &mut Vec<String>, name: &str, value: &str, required: bool, limit: usize) {
    if required && value.trim().is_empty() {
        problems.push(format!("{name} is empty; give it a value"));
    }
    if value.chars().count() > limit {
        problems.push(format!("{name} is longer than {limit} characters"));
    }
    if let Err(problem) = crate::domain::plain_text(name, value) {
        problems.push(problem);
    }
}

/// An email address (empty passes: it removes the address), in a shape mail servers accept.
pub(super) fn email(problems: &mut Vec<String>, name: &str, value: &str) {
    let valid = value.len() <= 254
        && !value.chars().any(char::is_whitespace)
        && value.split_once('@').is_some_and(|(user, domain)| !user.is_empty() && domain.contains('.'))
        && value.parse::<lettre::Address>().is_ok();
    if !value.is_empty() && !valid {
        problems.push(format!("{name} `{}` is not an email address such as name@example.com", value.escape_debug()));
    }
}

/// Checks the details a create or a change gives, collecting every problem.
fn check_details(problems: &mut Vec<String>, details: &PracticePatch) {
    if let Some(name) = &details.name
        && let Err(problem) = practice_name(name)
    {
        problems.push(problem);
    }
    for (name, value) in
        [("npi", &details.npi), ("tax_id", &details.tax_id), ("address", &details.address), ("phone", &details.phone)]
    {
        text(problems, name, value.as_deref().unwrap_or_default(), false, 300);
    }
    email(problems, "email", details.email.as_deref().unwrap_or_default());
    if let Some(provider) = &details.provider {
        text(problems, "provider.name", provider.name.as_deref().unwrap_or_default(), false, 200);
        text(problems, "provider.credentials", provider.credentials.as_deref().unwrap_or_default(), false, 50);
        let npi = provider.npi.as_deref().unwrap_or_default();
        let is_npi = npi.len() == 10 && npi.bytes().all(|b| b.is_ascii_digit());
        if !npi.is_empty() && !is_npi {
            problems.push(format!("provider.npi `{npi}` is not an individual NPI: 10 digits such as 1679576722"));
        }
    }
    if let Some(code) = &details.place_of_service
        && !is_place_of_service(code)
    {
        problems.push(format!(
            "place_of_service `{code}` is not a CMS place-of-service code: two digits such as 11 (office), 02 or 10 (telehealth)"
        ));
    }
}

/// The provider with a change applied.
fn provider(mut provider: Provider, change: Option<ProviderInput>) -> Provider {
    let change = change.unwrap_or_default();
    provider.name = change.name.map_or(provider.name, |name| name.trim().to_string());
    provider.credentials =
        change.credentials.map_or(provider.credentials, |credentials| credentials.trim().to_string());
    provider.npi = change.npi.unwrap_or(provider.npi);
    provider
}

/// Creates a practice (operator only).
#[utoipa::path(post, path = "/v1/practices", request_body = PracticeInput,
    responses((status = 201, body = PracticeView), (status = "4XX", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(input): Body<PracticeInput>,
) -> Result<(StatusCode, Json<PracticeView>), ApiError> {
    caller.operator()?;
    let mut problems = vec![];
    check_details(
        &mut problems,
        &PracticePatch {
            name: Some(input.name.clone()),
            npi: input.npi.clone(),
            tax_id: input.tax_id.clone(),
            address: input.address.clone(),
            phone: input.phone.clone(),
            email: input.email.clone(),
            provider: input.provider.clone(),
            place_of_service: input.place_of_service.clone(),
        },
    );
    let timezone =
        parse_timezone(&input.timezone).map_err(|problem| problems.push(format!("timezone: {problem}"))).ok();
    let currency = match &input.currency {
        None => Some(Currency::USD),
        Some(code) => code.parse::<Currency>().map_err(|error| problems.push(error.to_string())).ok(),
    };
    let change = input.automation.as_ref().map(AutomationInput::change).unwrap_or_default();
    let automation = change.applied_to(&AutomationSettings::default()).map_err(|found| problems.extend(found)).ok();
    checked(problems)?;
    let (Some(currency), Some(automation)) = (currency, automation) else {
        return Err(ApiError::invalid("the practice is incomplete"));
    };
    let new = NewPractice {
        name: input.name.trim().to_string(),
        timezone: timezone.unwrap_or(chrono_tz::UTC),
        currency,
        npi: input.npi.unwrap_or_default(),
        tax_id: input.tax_id.unwrap_or_default(),
        address: input.address.unwrap_or_default(),
        phone: input.phone.unwrap_or_default(),
        email: input.email.unwrap_or_default(),
        provider: provider(Provider::default(), input.provider),
        place_of_service: input.place_of_service.unwrap_or_else(|| DEFAULT_PLACE_OF_SERVICE.into()),
        automation,
    };
    let id = state.store().create_practice(&new, state.inner.clock.now()).await?;
    tracing::info!(practice = id.get(), "practice created");
    Ok((StatusCode::CREATED, Json(view(&state.store().practice(id).await?))))
}

/// Lists practices: every one for the operator, its own for a practice token.
#[utoipa::path(get, path = "/v1/practices", params(PageQuery),
    responses((status = 200, body = Page<PracticeView>), (status = "4XX", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    paging: Paging,
) -> Result<Json<Page<PracticeView>>, ApiError> {
    let page = paging.by_id()?;
    let practices = match caller {
        Caller::Operator => state.store().practices_page(page).await?,
        Caller::Practice(own) if page.after.is_none_or(|after| after < own.get()) => {
            vec![state.store().practice(own).await?]
        }
        Caller::Practice(_) => vec![],
    };
    Ok(Json(Page::of(practices.iter().map(view).collect(), paging.limit, |row: &PracticeView| row.id)))
}

/// Reads a practice.
#[utoipa::path(get, path = "/v1/practices/{practice}", params(("practice" = i64, Path, description = "practice id")),
    responses((status = 200, body = PracticeView), (status = "4XX", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path(practice): Path<PracticeId>,
) -> Result<Json<PracticeView>, ApiError> {
    caller.practice(practice)?;
    Ok(Json(view(&state.store().practice(practice).await?)))
}

/// Changes a practice's details: name, NPI, tax id, address, phone, sender email, rendering
/// provider and place of service. Keys left out keep their value; bad input changes nothing.
#[utoipa::path(patch, path = "/v1/practices/{practice}", params(("practice" = i64, Path, description = "practice id")),
    request_body = PracticePatch,
    responses((status = 200, body = PracticeView), (status = "4XX", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<PracticeId>,
    Body(input): Body<PracticePatch>,
) -> Result<Json<PracticeView>, ApiError> {
    caller.practice(id)?;
    let mut problems = vec![];
    check_details(&mut problems, &input);
    checked(problems)?;
    let keep = |value: Option<String>, old: String| value.map_or(old, |value| value.trim().to_string());
    let changed = state
        .store()
        .change_practice_details(id, |practice| Practice {
            name: keep(input.name, practice.name),
            npi: keep(input.npi, practice.npi),
            tax_id: keep(input.tax_id, practice.tax_id),
            address: keep(input.address, practice.address),
            phone: keep(input.phone, practice.phone),
            email: keep(input.email, practice.email),
            provider: provider(practice.provider, input.provider),
            place_of_service: input.place_of_service.unwrap_or(practice.place_of_service),
            ..practice
        })
        .await?;
    tracing::info!(practice = id.get(), "practice details changed");
    Ok(Json(view(&changed)))
}

/// Reads the practice's automation settings and the warnings about them.
#[utoipa::path(get, path = "/v1/practices/{practice}/automation", params(("practice" = i64, Path, description = "practice id")),
    responses((status = 200, body = AutomationAnswer), (status = "4XX", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn automation(
    State(state): State<AppState>,
    caller: Caller,
    Path(practice): Path<PracticeId>,
) -> Result<Json<AutomationAnswer>, ApiError> {
    caller.practice(practice)?;
    let practice = state.store().practice(practice).await?;
    Ok(Json(AutomationAnswer {
        automation: view_automation(&practice.automation),
        warnings: practice.automation.warnings(),
    }))
}

/// Changes the practice's automation settings (keys left out keep their value); answers with the
/// settings in force and warnings. Existing clients keep their own switches.
#[utoipa::path(patch, path = "/v1/practices/{practice}/automation", params(("practice" = i64, Path, description = "practice id")),
    request_body = AutomationInput,
    responses((status = 200, body = AutomationAnswer), (status = "4XX", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn update_automation(
    State(state): State<AppState>,
    caller: Caller,
    Path(practice): Path<PracticeId>,
    Body(input): Body<AutomationInput>,
) -> Result<Json<AutomationAnswer>, ApiError> {
    caller.practice(practice)?;
    let changed = state.inner.engine.change_automation(practice, &input.change(), state.inner.clock.now()).await?;
    Ok(Json(AutomationAnswer { automation: view_automation(&changed.settings), warnings: changed.warnings }))
}
