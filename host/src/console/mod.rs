//! The console: billing automation in a browser for practice staff and the operator, served by
//! `autobill serve` beside the API on the same listener.
//!
//! Pages are rendered on the server as HTML (maud templates, compiled into the binary) and work
//! without JavaScript. Every change goes through the API's own handlers, so the console and the
//! API share one set of checks, the same error messages and the same cross-practice rule: a
//! practice's staff see their practice only, anything else answers 404. Sign-in, sessions and
//! CSRF tokens are in [`session`]; every answer carries a Content-Security-Policy of
//! `default-src 'self'` (the stylesheet is a route of its own, no inline script or style).

mod activity;
mod bills;
mod clients;
mod layout;
mod operator;
pub mod session;
mod settings;

use crate::api::AppState;
use crate::api::error::ApiError;
use crate::config::Config;
use crate::domain::Practice;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use session::Sessions;

/// The Content-Security-Policy of every console answer.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";

/// The console's routes: `/login`, `/logout` and everything under `/console`.
pub fn router(config: &Config) -> Router<AppState> {
    let sessions = Sessions::new(config.console.secure_cookies);
    let practice = Router::new()
        .route("/billing-settings", get(settings::show).post(settings::save))
        .route("/clients", get(clients::list))
        .route("/clients/{client}", get(clients::page_of).post(clients::save))
        .route("/clients/{client}/resume-autopay", post(clients::resume_autopay))
        .route("/bills", get(bills::list))
        .route("/bills/{bill}", get(bills::page_of))
        .route("/bills/{bill}/open", post(bills::open))
        .route("/bills/{bill}/products", post(bills::add_product))
        .route("/bills/{bill}/void", post(bills::void))
        .route("/bills/{bill}/pdf", get(bills::pdf))
        .route("/superbills", get(bills::superbills))
        .route("/superbills/{superbill}/pdf", get(bills::superbill_pdf))
        .route("/shares", get(activity::shares))
        .route("/shares/{share}/resend", post(activity::resend))
        .route("/payments", get(activity::payments))
        .route("/runs", get(activity::runs))
        .route("/plugins", get(operator::assignments).post(operator::assign_or_dry_run))
        .route("/tokens", post(operator::make_token));
    Router::new()
        .route("/login", get(layout::sign_in_page).post(layout::sign_in))
        .route("/logout", post(layout::sign_out))
        .route("/console", get(layout::home))
        .route("/console/style.css", get(layout::stylesheet))
        .route("/console/practices", get(operator::practices).post(operator::create_practice))
        .route(
            "/console/plugins",
            get(operator::plugins)
                .post(operator::upload)
                .layer(DefaultBodyLimit::max(config.plugins.max_component_bytes + session::MAX_FORM_BYTES)),
        )
        .nest("/console/practices/{practice}", practice)
        .layer(axum::Extension(sessions))
        .layer(axum::middleware::map_response(security_headers))
}

/// Headers on every console answer: the Content-Security-Policy, no sniffing, no referrer, no
/// caching of pages that show billing data, and no framing.
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// An API error shown as a console page with the API's status and message.
pub struct Failure(pub ApiError);

impl From<ApiError> for Failure {
    fn from(error: ApiError) -> Self {
        Failure(error)
    }
}

impl From<crate::store::StoreError> for Failure {
    fn from(error: crate::store::StoreError) -> Self {
        Failure(error.into())
    }
}

impl From<crate::engine::EngineError> for Failure {
    fn from(error: crate::engine::EngineError) -> Self {
        Failure(error.into())
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let title = match self.0.status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::FORBIDDEN => "Not allowed",
            StatusCode::UNAUTHORIZED => "Not signed in",
            status if status.is_client_error() => "Not done",
            _ => "Something went wrong",
        };
        let body = layout::bare(
            title,
            maud::html! {
                p role="alert" { (self.0.message) }
                p { a href="/console" { "Back to the console" } }
            },
        );
        (self.0.status, body).into_response()
    }
}

/// What a console handler answers.
pub type Answer = Result<Response, Failure>;

/// A redirect after a form was handled (303: the browser follows with a GET).
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// An instant on the practice's wall clock with its zone's abbreviation, e.g. `Jan 6, 2026,
/// 12:00 AM EST`.
pub fn local_time(tz: Tz, at: DateTime<Utc>) -> String {
    at.with_timezone(&tz).format("%b %-d, %Y, %-I:%M %p %Z").to_string()
}

/// An RFC 3339 time as [`local_time`] shows it; the text as given when it is not one.
pub fn local_text(tz: Tz, at: &str) -> String {
    DateTime::parse_from_rfc3339(at).map_or_else(|_| at.to_string(), |at| local_time(tz, at.with_timezone(&Utc)))
}

/// An optional RFC 3339 time, or an em dash.
pub fn local_optional(tz: Tz, at: Option<&str>) -> String {
    at.map_or_else(|| "—".to_string(), |at| local_text(tz, at))
}

/// An amount in the practice's currency, e.g. `USD 1,234.50`.
pub fn money(practice: &Practice, amount: i64) -> String {
    practice.currency.format(amount)
}

/// The API's message for a refused form, split into the parts about each field (a part that
/// names the field) and the rest, so each shows next to its field.
pub struct FieldErrors {
    by_field: Vec<(&'static str, String)>,
    /// Parts about no one field.
    pub general: Vec<String>,
}

impl FieldErrors {
    /// No errors.
    pub fn none() -> Self {
        FieldErrors { by_field: vec![], general: vec![] }
    }

    /// The parts of `message` for `fields`. The API joins problems with `; `, and a problem's own
    /// text may hold `; ` too, so a new part starts only where `; ` is followed by a field's name;
    /// a part is about the first field it names, the rest are general.
    pub fn of(message: &str, fields: &[&'static str]) -> Self {
        let mut parts = vec![];
        let mut start = 0;
        for (at, _) in message.match_indices("; ") {
            let next = &message[at + 2..];
            if fields.iter().any(|field| next.starts_with(field)) {
                parts.push(&message[start..at]);
                start = at + 2;
            }
        }
        parts.push(&message[start..]);
        let mut errors = FieldErrors::none();
        for part in parts.into_iter().filter(|part| !part.is_empty()) {
            match fields.iter().find(|field| part.contains(**field)) {
                Some(field) => errors.by_field.push((field, part.to_string())),
                None => errors.general.push(part.to_string()),
            }
        }
        errors
    }

    /// The messages about `field`.
    pub fn on(&self, field: &str) -> Vec<&str> {
        self.by_field.iter().filter(|(name, _)| *name == field).map(|(_, message)| message.as_str()).collect()
    }
}

/// The practice a page is about, once the signed-in person may see it: another practice's
/// staff get the API's 404, as if it did not exist.
pub async fn practice_for(
    state: &AppState,
    staff: &session::Staff,
    id: crate::domain::PracticeId,
) -> Result<Practice, Failure> {
    staff.caller.practice(id)?;
    Ok(state.store().practice(id).await?)
}

#[cfg(test)]
mod tests {
    use super::FieldErrors;

    #[test]
    fn each_problem_of_an_api_message_goes_to_its_field() {
        let message =
            "superbill_day is 40; choose a day from 1 to 31; share_delay_minutes is -1; choose 0 to 10080 (one week)";
        let errors = FieldErrors::of(message, &["share_delay_minutes", "superbill_day"]);
        assert_eq!(errors.on("superbill_day"), ["superbill_day is 40; choose a day from 1 to 31"]);
        assert_eq!(errors.on("share_delay_minutes"), ["share_delay_minutes is -1; choose 0 to 10080 (one week)"]);
        assert!(errors.general.is_empty());
        let errors = FieldErrors::of("bill 3 is paid; products go only on pended bills", &["amount"]);
        assert_eq!(errors.general, ["bill 3 is paid; products go only on pended bills"]);
    }
}
