//! The API's one error shape, `{"error": {"code", "message"}}`, and extractors whose rejections
//! (malformed JSON, wrong types, bad path ids, oversized bodies) answer in that shape.

use crate::engine::EngineError;
use crate::store::StoreError;
use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

/// Every error the API answers: `{"error": {"code": …, "message": …}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable, machine-readable code, e.g. `not_found` or `invalid_input`.
    pub code: String,
    /// What went wrong and what to do about it, for people.
    pub message: String,
}

/// An error answer: a status, a code and a message a person can act on.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The machine-readable code.
    pub code: &'static str,
    /// The message.
    pub message: String,
}

impl ApiError {
    /// An error with the given parts.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into() }
    }

    /// 422: the request is well-formed but its values are not acceptable.
    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", message)
    }

    /// 404: no such thing (or not visible to this token).
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 409: the thing is in a state that does not allow the change.
    pub fn conflict(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::CONFLICT, "conflict", message)
    }

    /// 403: the token may not do this.
    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 500: the server failed; the details go to the log, not to the caller.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!("request failed: {error}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server could not complete the request; nothing was changed by its failed step, and the server log has the details",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error: ErrorDetail { code: self.code.to_string(), message: self.message } };
        (self.status, Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound { what, id } => ApiError::not_found(format!("{what} {id} does not exist")),
            error if error.is_unique_violation() => {
                ApiError::conflict("that already exists: references and codes are unique within a practice")
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> Self {
        match error {
            EngineError::Store(store) => store.into(),
            EngineError::Invalid(message) => ApiError::invalid(message),
            EngineError::Conflict(message) => ApiError::conflict(message),
            EngineError::Policy(policy) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "policy_failed", policy.to_string())
            }
            EngineError::Plugin { id, reason } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "plugin_failed",
                format!("plugin {id} could not be loaded: {reason}"),
            ),
        }
    }
}

/// Turns an axum rejection into the one error shape, keeping its status and its explanation; a
/// body that stopped arriving within the body-read timeout is a 408.
fn rejection(error: &(dyn std::error::Error + 'static), status: StatusCode, text: String) -> ApiError {
    let mut cause = Some(error);
    while let Some(current) = cause {
        if current.is::<tower_http::timeout::TimeoutError>() {
            return ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                "the request body did not arrive within the server's body-read timeout; send the whole body at once",
            );
        }
        cause = current.source();
    }
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid_input",
        _ => "bad_request",
    };
    let hint = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "; send a smaller body",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "; send `Content-Type: application/json`",
        _ => "",
    };
    ApiError::new(status, code, format!("{text}{hint}"))
}

/// A JSON body whose problems answer in the API's error shape.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        object(json(request, state).await?).map(Body)
    }
}

/// The request's body as JSON.
async fn json<S: Send + Sync>(request: Request, state: &S) -> Result<serde_json::Value, ApiError> {
    match Json::<serde_json::Value>::from_request(request, state).await {
        Ok(Json(value)) => Ok(value),
        Err(error) => Err(rejection(&error, error.status(), error.body_text())),
    }
}

/// A JSON object read as `T`, naming the field a problem is in.
fn object<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    // serde reads a struct from an array too (`["x", 100]`); the API takes objects only.
    if !value.is_object() {
        return Err(ApiError::invalid(
            "the body must be a JSON object, e.g. {\"name\": \"…\"}; /openapi.json describes each body",
        ));
    }
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let place = if path == "." { String::new() } else { format!("{path}: ") };
        ApiError::invalid(format!("{place}{}", error.into_inner()))
    })
}

/// A JSON body that may be left out: `None` for a request with neither a body nor a
/// `Content-Type`, or with the body `null`.
pub struct OptionalBody<T>(pub Option<T>);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for OptionalBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
        let headers = request.headers();
        let bodiless =
            headers.get(CONTENT_TYPE).is_none() && headers.get(CONTENT_LENGTH).is_none_or(|length| length == "0");
        if bodiless {
            return Ok(OptionalBody(None));
        }
        match json(request, state).await? {
            serde_json::Value::Null => Ok(OptionalBody(None)),
            value => object(value).map(|value| OptionalBody(Some(value))),
        }
    }
}

/// Raw body bytes (a plugin upload) whose problems answer in the API's error shape.
pub struct RawBody(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::body::Bytes::from_request(request, state).await {
            Ok(bytes) => Ok(RawBody(bytes)),
            Err(error) => Err(rejection(&error, error.status(), error.body_text())),
        }
    }
}

/// Path parameters whose problems (e.g. `abc` for an id) answer in the API's error shape.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(error) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_path",
                format!("{}; ids in paths are whole numbers, e.g. /v1/practices/1", error.body_text()),
            )),
        }
    }
}
