//! `POST /v1/stripe/events`: Stripe's webhook deliveries. Outside the bearer-token auth: a
//! delivery proves itself with its `Stripe-Signature`, checked with the endpoint's signing
//! secret (`stripe.webhook_secret`). Without a secret the route does not exist (404).

use super::AppState;
use super::error::{ApiError, RawBody};
use crate::engine::ProviderEventOutcome;
use crate::payments::stripe::webhook::WebhookError;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::Serialize;
use utoipa::ToSchema;

/// What autobill did with a delivered event.
#[derive(Serialize, ToSchema)]
pub struct StripeEventAnswer {
    /// Stripe's event id.
    pub event: String,
    /// `applied`; `duplicate` (delivered before, nothing changed); or `ignored` (nothing to do,
    /// e.g. a payment autobill did not make).
    pub outcome: String,
    /// Why it was ignored.
    pub reason: Option<String>,
}

/// Receives one Stripe event: verified, recorded once, applied in one transaction.
#[utoipa::path(post, path = "/v1/stripe/events",
    request_body(content = String, content_type = "application/json", description = "The Stripe event, exactly as Stripe signed it."),
    params(("Stripe-Signature" = String, Header, description = "Stripe's signature: t=TIMESTAMP,v1=SIGNATURE[,v1=…]")),
    responses(
        (status = 200, body = StripeEventAnswer),
        (status = 400, body = super::error::ErrorBody, description = "bad_signature, stale or unreadable; nothing changed"),
        (status = 404, body = super::error::ErrorBody, description = "no webhook secret is configured"),
    ))]
pub(super) async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<axum::Json<StripeEventAnswer>, ApiError> {
    let Some(verifier) = &state.inner.webhooks else {
        return Err(ApiError::not_found(
            "Stripe events are not received here: set stripe.webhook_secret (or AUTOBILL_STRIPE_WEBHOOK_SECRET) to the endpoint's signing secret",
        ));
    };
    let signature = headers.get("stripe-signature").map(|value| value.to_str().unwrap_or_default());
    let event = verifier.verify(&body, signature, state.inner.clock.now()).map_err(|error| {
        let code = match error {
            WebhookError::BadSignature(_) => "bad_signature",
            WebhookError::Stale { .. } => "stale",
            WebhookError::Unreadable(_) => "unreadable",
        };
        ApiError::new(StatusCode::BAD_REQUEST, code, error.to_string())
    })?;
    let outcome = state.inner.engine.receive_provider_event(&event, state.inner.clock.now()).await?;
    let (outcome, reason) = match outcome {
        ProviderEventOutcome::Applied => ("applied", None),
        ProviderEventOutcome::Duplicate => ("duplicate", None),
        ProviderEventOutcome::Ignored(reason) => ("ignored", Some(reason)),
    };
    Ok(axum::Json(StripeEventAnswer { event: event.id, outcome: outcome.into(), reason }))
}
