//! The HTTP JSON API under `/v1` (axum), its bearer-token auth and its OpenAPI document at
//! `/openapi.json` (generated from the handlers by utoipa).
//!
//! Stripe's webhook deliveries (`POST /v1/stripe/events`) carry no token: each proves itself with
//! its signature, checked with the endpoint's signing secret.
//!
//! Two kinds of token: the operator's (from the configuration, platform-wide) and per-practice
//! tokens (made by the operator, stored as SHA-256 only), which see only their practice: anything
//! of another practice answers 404, exactly as if it did not exist. Errors come in one shape,
//! [`error::ErrorBody`]; bad input is a 4xx and changes nothing.

pub mod error;
pub(crate) mod page;
pub(crate) mod plugins;
pub(crate) mod practices;
pub(crate) mod records;
pub(crate) mod reports;
mod stripe_events;
pub(crate) mod tokens;

use crate::app::App;
use crate::clock::Clock;
use crate::config::Config;
use crate::domain::{PracticeId, token_hash};
use crate::engine::{Engine, TickReport};
use crate::payments::stripe::webhook::WebhookVerifier;
use crate::plugin::PluginRuntime;
use crate::store::Store;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use error::{ApiError, Body, ErrorBody};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tower_http::map_request_body::MapRequestBodyLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// A request to the scheduler to tick at a given instant now and report (the test clock's way
/// of moving time).
pub(crate) struct TickRequest {
    pub(crate) at: DateTime<Utc>,
    pub(crate) reply: oneshot::Sender<Result<TickReport, String>>,
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    engine: Arc<Engine>,
    runtime: Arc<PluginRuntime>,
    clock: Arc<dyn Clock>,
    /// The hashes of the operator's tokens: any of them is the operator.
    operator_hashes: Vec<String>,
    ticks: Option<mpsc::Sender<TickRequest>>,
    /// Checks Stripe's webhook deliveries; `None` without a webhook secret.
    webhooks: Option<WebhookVerifier>,
}

impl AppState {
    /// The state of a server over `app`; `ticks` is the scheduler's request channel, given only
    /// when the test clock is on.
    pub(crate) fn new(app: &App, ticks: Option<mpsc::Sender<TickRequest>>) -> Self {
        let operator_hashes =
            app.config.server.operator_tokens.iter().map(|token| token_hash(token.expose())).collect();
        let webhooks = app.config.stripe.as_ref().and_then(|stripe| {
            let secret = stripe.webhook_secret.as_ref()?;
            Some(WebhookVerifier::new(secret.expose(), stripe.webhook_tolerance))
        });
        AppState {
            inner: Arc::new(Inner {
                store: app.store.clone(),
                engine: app.engine.clone(),
                runtime: app.runtime.clone(),
                clock: app.clock.clone(),
                operator_hashes,
                ticks,
                webhooks,
            }),
        }
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The engine the handlers act through.
    pub(crate) fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The plugin runtime uploads are checked with.
    pub(crate) fn runtime(&self) -> &PluginRuntime {
        &self.inner.runtime
    }

    /// The time now, on the application's clock.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    /// Who a token's SHA-256 belongs to: the operator, or a practice whose token is neither
    /// unknown, revoked nor expired (401 with the reason otherwise). The bearer header and the
    /// console's sessions both come here, so a revoked token ends its console sessions too.
    pub(crate) async fn caller_for_hash(&self, hash: &str) -> Result<Caller, ApiError> {
        let unauthorized = |message: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message);
        if self.inner.operator_hashes.iter().any(|operator| operator == hash) {
            return Ok(Caller::Operator);
        }
        let Some(token) = self.store().api_token(hash).await? else {
            return Err(unauthorized("this token is not known; ask the operator for a practice token"));
        };
        let now = self.now();
        token.usable(now).map_err(|reason| unauthorized(&reason))?;
        if token.use_worth_recording(now) {
            self.store().record_token_use(token.id, now).await?;
        }
        Ok(Caller::Practice(token.practice))
    }
}

/// Who is calling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    /// The platform operator.
    Operator,
    /// A practice's own system.
    Practice(PracticeId),
}

impl Caller {
    /// Refuses practice tokens.
    pub fn operator(self) -> Result<(), ApiError> {
        match self {
            Caller::Operator => Ok(()),
            Caller::Practice(_) => {
                Err(ApiError::forbidden("this call is for the platform operator; a practice token cannot make it"))
            }
        }
    }

    /// Refuses a practice token of another practice, answering as if the practice did not exist.
    pub fn practice(self, id: PracticeId) -> Result<(), ApiError> {
        match self {
            Caller::Practice(own) if own != id => Err(ApiError::not_found(format!(
                "practice {id} does not exist for this token; a practice token sees only its own practice"
            ))),
            _ => Ok(()),
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let unauthorized = |message: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message);
        let header = parts.headers.get(axum::http::header::AUTHORIZATION).ok_or_else(|| {
            unauthorized("send `Authorization: Bearer TOKEN` with the operator's or a practice's token")
        })?;
        let token = header
            .to_str()
            .ok()
            .and_then(|value| value.split_once(' '))
            // RFC 9110: the scheme is case-insensitive (`bearer`, `BEARER`).
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .filter(|token| !token.is_empty())
            .ok_or_else(|| unauthorized("the Authorization header must be `Bearer TOKEN`"))?;
        state.caller_for_hash(&token_hash(token)).await
    }
}

/// The routes, with body limits (`max_body_bytes` for JSON, the plugin limit for uploads), a
/// body-read timeout and a deadline for each request (408 when either runs out).
pub fn router(state: AppState, config: &Config) -> Router {
    let upload_limit = config.plugins.max_component_bytes;
    let v1 = Router::new()
        .route("/practices", post(practices::create).get(practices::list))
        .route("/practices/{practice}", get(practices::read).patch(practices::update))
        .route("/practices/{practice}/automation", get(practices::automation).patch(practices::update_automation))
        .route("/practices/{practice}/tokens", post(tokens::create).get(tokens::list))
        .route("/practices/{practice}/tokens/{token}", axum::routing::delete(tokens::revoke))
        .route("/practices/{practice}/services", post(records::create_service).get(records::services))
        .route("/practices/{practice}/clients", post(records::create_client).get(records::clients))
        .route("/practices/{practice}/clients/{client}", get(records::client).patch(records::update_client))
        .route("/practices/{practice}/appointments", post(records::create_appointment).get(records::appointments))
        .route("/practices/{practice}/appointments/{appointment}", get(records::appointment))
        .route("/practices/{practice}/appointments/{appointment}/complete", post(records::complete_appointment))
        .route("/practices/{practice}/appointments/{appointment}/cancel", post(records::cancel_appointment))
        .route("/practices/{practice}/bills", get(reports::bills))
        .route("/practices/{practice}/bills/{bill}", get(reports::bill))
        .route("/practices/{practice}/bills/{bill}/pdf", get(reports::bill_pdf))
        .route("/practices/{practice}/bills/{bill}/open", post(reports::open_bill))
        .route("/practices/{practice}/bills/{bill}/products", post(reports::add_product))
        .route("/practices/{practice}/bills/{bill}/void", post(reports::void_bill))
        .route("/practices/{practice}/superbills", get(reports::superbills))
        .route("/practices/{practice}/superbills/{superbill}", get(reports::superbill))
        .route("/practices/{practice}/superbills/{superbill}/pdf", get(reports::superbill_pdf))
        .route("/practices/{practice}/payments", get(reports::payments))
        .route("/practices/{practice}/payment-attempts", get(reports::attempts))
        .route("/practices/{practice}/shares", get(reports::shares))
        .route("/practices/{practice}/runs", get(reports::runs))
        .route("/practices/{practice}/events", get(reports::events))
        .route("/practices/{practice}/plugins", get(plugins::assignments))
        .route("/practices/{practice}/plugins/{slot}", axum::routing::put(plugins::assign))
        .route("/practices/{practice}/plugins/{slot}/dry-run", post(plugins::dry_run))
        .route("/plugins", post(plugins::upload).layer(DefaultBodyLimit::max(upload_limit)).get(plugins::list))
        .route("/stripe/events", post(stripe_events::receive))
        .route("/test/clock", post(set_clock));
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/healthz", get(health))
        .nest("/v1", v1)
        .merge(crate::console::router(config))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(config.server.max_body_bytes))
        .layer(MapRequestBodyLayer::new(axum::body::Body::new))
        .layer(RequestBodyTimeoutLayer::new(config.server.body_read_timeout))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, config.server.request_timeout))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route; the routes are listed in /openapi.json")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method; /openapi.json lists each route's methods",
    )
}

/// The server is up.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: String,
}

#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Health)))]
async fn health() -> axum::Json<Health> {
    axum::Json(Health { status: "ok".into() })
}

async fn openapi() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}

/// Moves the simulated clock (test servers only).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockInput {
    /// The new time, RFC 3339; never before the current one.
    pub now: String,
}

/// What the tick at the new time did.
#[derive(Serialize, ToSchema)]
pub struct ClockReport {
    /// The clock's time, RFC 3339.
    pub now: String,
    /// Runs done.
    pub runs_done: usize,
    /// Runs failed.
    pub runs_failed: usize,
    /// Shares sent or skipped.
    pub shares_handled: usize,
    /// Charges whose outcome was recorded.
    pub charges_settled: usize,
    /// Charges that could not reach the payment provider (sent again later with the same key).
    pub charges_deferred: usize,
}

/// Sets the simulated clock and runs a tick at that time; only on a server whose configuration
/// turns `testing.simulated_clock` on (404 otherwise). Operator only.
#[utoipa::path(post, path = "/v1/test/clock", request_body = ClockInput,
    responses((status = 200, body = ClockReport), (status = "4XX", body = ErrorBody)), security(("bearer" = [])))]
async fn set_clock(
    State(state): State<AppState>,
    caller: Caller,
    Body(input): Body<ClockInput>,
) -> Result<axum::Json<ClockReport>, ApiError> {
    let (Some(ticks), Some(clock)) = (&state.inner.ticks, state.inner.clock.simulated()) else {
        return Err(not_found().await);
    };
    caller.operator()?;
    let now = chrono::DateTime::parse_from_rfc3339(&input.now)
        .map_err(|_| {
            ApiError::invalid(format!("now `{}` is not an RFC 3339 time, e.g. 2026-01-06T05:00:00Z", input.now))
        })?
        .with_timezone(&chrono::Utc);
    if now < clock.now() {
        return Err(ApiError::conflict(format!("the clock shows {}; it only moves forward", clock.now().to_rfc3339())));
    }
    clock.set(now);
    let (reply, answer) = oneshot::channel();
    let stopped = || ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "shutting_down", "the scheduler is stopping");
    ticks.send(TickRequest { at: now, reply }).await.map_err(|_| stopped())?;
    let report = answer
        .await
        .map_err(|_| stopped())?
        .map_err(|error| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "tick_failed", error))?;
    Ok(axum::Json(ClockReport {
        now: now.to_rfc3339(),
        runs_done: report.runs_done,
        runs_failed: report.runs_failed,
        shares_handled: report.shares_handled,
        charges_settled: report.charges_settled,
        charges_deferred: report.charges_deferred,
    }))
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// Gives every operation an id made of its method and path (`get_practices_practice_bills_bill`),
/// unique where handler names repeat across modules, and every response a description (its
/// status's reason phrase where the handler gave none), as OpenAPI requires.
struct OperationIdsAndDescriptions;

impl Modify for OperationIdsAndDescriptions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [
                ("get", &mut item.get),
                ("put", &mut item.put),
                ("post", &mut item.post),
                ("delete", &mut item.delete),
                ("patch", &mut item.patch),
            ];
            for (method, operation) in operations {
                let Some(operation) = operation else { continue };
                let words: Vec<&str> = path
                    .split(|c: char| !c.is_ascii_alphanumeric())
                    .filter(|word| !word.is_empty() && *word != "v1")
                    .collect();
                operation.operation_id = Some(format!("{method}_{}", words.join("_")));
                for (status, response) in operation.responses.responses.iter_mut() {
                    if let utoipa::openapi::RefOr::T(response) = response
                        && response.description.is_empty()
                    {
                        response.description = status_description(status);
                    }
                }
            }
        }
    }
}

/// The description of a response documented only by its status (`200`, `4XX`).
fn status_description(status: &str) -> String {
    match status.parse::<u16>().ok().and_then(|code| StatusCode::from_u16(code).ok()) {
        Some(code) => code.canonical_reason().unwrap_or("the answer").to_string(),
        None if status.starts_with('4') => "refused, with the reason in the error body".to_string(),
        None => format!("a {status} answer"),
    }
}

/// The OpenAPI document, generated from the handlers.
#[derive(OpenApi)]
#[openapi(
    info(title = "autobill", description = "Billing automation for health and therapy practices: the operator's and practices' API."),
    modifiers(&BearerAuth, &OperationIdsAndDescriptions),
    components(schemas(ErrorBody)),
    paths(
        health, set_clock,
        practices::create, practices::list, practices::read, practices::update, practices::automation, practices::update_automation,
        tokens::create, tokens::list, tokens::revoke,
        records::create_service, records::services, records::create_client, records::clients, records::client,
        records::update_client, records::create_appointment, records::appointments, records::appointment,
        records::complete_appointment, records::cancel_appointment,
        reports::bills, reports::bill, reports::bill_pdf, reports::open_bill, reports::add_product, reports::void_bill,
        reports::superbills, reports::superbill, reports::superbill_pdf, reports::payments, reports::attempts, reports::shares,
        reports::runs, reports::events,
        plugins::upload, plugins::list, plugins::assignments, plugins::assign, plugins::dry_run,
        stripe_events::receive,
    )
)]
pub struct ApiDoc;
