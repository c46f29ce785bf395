//! Practice tokens: made by the operator, listed and revoked by the operator or the practice.
//! A token is shown once, when it is made; lists show its prefix, never the token.

use super::error::{ApiError, ErrorBody, OptionalBody, Path};
use super::page::{Page, PageQuery, Paging};
use super::{AppState, Caller};
use crate::domain::{MAX_TOKEN_NAME_CHARS, NewToken, PracticeId, TokenId, expiry};
use crate::store::tokens::{NewApiToken, TokenRow};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a new token is called and how long it lives; both optional.
#[derive(Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    /// A name to tell it apart, e.g. `front desk` (up to 100 characters).
    #[serde(default)]
    pub name: String,
    /// Days until it expires, 1 to 3650; left out, it does not expire.
    pub expires_in_days: Option<u32>,
}

/// A new practice token: shown once, stored only as a hash.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TokenView {
    /// Its id, for listing and revoking.
    #[schema(value_type = i64)]
    pub id: TokenId,
    /// The practice it belongs to.
    #[schema(value_type = i64)]
    pub practice_id: PracticeId,
    /// The token; send it as `Authorization: Bearer TOKEN`. It is not shown again.
    pub token: String,
    /// Its name.
    pub name: String,
    /// Its first characters, as lists show them.
    pub prefix: String,
    /// When it expires, RFC 3339; none: it does not.
    pub expires_at: Option<String>,
}

/// Makes a new token for a practice (operator only). The token is in this answer only.
#[utoipa::path(post, path = "/v1/practices/{practice}/tokens", params(("practice" = i64, Path, description = "practice id")),
    request_body(content = Option<TokenInput>, description = "optional: a name and a life in days"),
    responses((status = 201, description = "the new token, shown once", body = TokenView),
        (status = "4XX", description = "refused, with the reason", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(practice): Path<PracticeId>,
    OptionalBody(input): OptionalBody<TokenInput>,
) -> Result<(StatusCode, Json<TokenView>), ApiError> {
    caller.operator()?;
    state.store().practice(practice).await?;
    let input = input.unwrap_or_default();
    let mut problems = vec![];
    super::practices::text(&mut problems, "name", &input.name, false, MAX_TOKEN_NAME_CHARS);
    let now = state.inner.clock.now();
    let expires_at = expiry(now, input.expires_in_days).map_err(|problem| problems.push(problem)).ok().flatten();
    if !problems.is_empty() {
        return Err(ApiError::invalid(problems.join("; ")));
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|error| {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "no_randomness", format!("no random source: {error}"))
    })?;
    let token = NewToken::from_random(bytes);
    let name = input.name.trim();
    let new = NewApiToken { practice, hash: &token.hash, prefix: &token.prefix, name, expires_at };
    let id = state.store().save_api_token(&new, now).await?;
    tracing::info!(practice = practice.get(), token = id.get(), "practice token created");
    Ok((
        StatusCode::CREATED,
        Json(TokenView {
            id,
            practice_id: practice,
            token: token.secret,
            name: name.to_string(),
            prefix: token.prefix,
            expires_at: expires_at.map(|at| at.to_rfc3339()),
        }),
    ))
}

/// A practice's tokens, newest first, revoked ones included; never the tokens themselves.
#[utoipa::path(get, path = "/v1/practices/{practice}/tokens", params(("practice" = i64, Path, description = "practice id"), PageQuery),
    responses((status = 200, description = "the practice's tokens", body = Page<TokenRow>),
        (status = "4XX", description = "refused, with the reason", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    paging: Paging,
    Path(practice): Path<PracticeId>,
) -> Result<Json<Page<TokenRow>>, ApiError> {
    caller.practice(practice)?;
    state.store().practice(practice).await?;
    let rows = state.store().api_tokens(practice, paging.by_id()?).await?;
    Ok(Json(Page::of(rows, paging.limit, |row| row.id)))
}

/// Revokes a practice token: it is refused from the next request on.
#[utoipa::path(delete, path = "/v1/practices/{practice}/tokens/{token}",
    params(("practice" = i64, Path, description = "practice id"), ("token" = i64, Path, description = "token id")),
    responses((status = 204, description = "revoked"),
        (status = "4XX", description = "refused, with the reason", body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path((practice, token)): Path<(PracticeId, TokenId)>,
) -> Result<StatusCode, ApiError> {
    caller.practice(practice)?;
    state.store().practice(practice).await?;
    if state.store().revoke_api_token(practice, token, state.inner.clock.now()).await? {
        tracing::info!(practice = practice.get(), token = token.get(), "practice token revoked");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!(
            "token {token} is not an unrevoked token of practice {practice}; GET …/tokens lists them"
        )))
    }
}
