//! Console sessions: a practice's token or the operator's starts one at `POST /login`; the
//! browser then holds only a random session id in an `HttpOnly`, `SameSite=Strict` cookie
//! (`Secure` with `[console] secure_cookies`). Sessions live in this process's memory, bounded in
//! number and idle time, and keyed by the id's SHA-256; signing out removes the session here, so
//! its cookie is worthless from then on. Each request checks the token behind the session again,
//! so a revoked or expired practice token ends its sessions.
//!
//! Every form carries the session's CSRF token in a field named `csrf`; a POST whose field is
//! missing or wrong is refused (403) before anything else is read. The sign-in form, which comes
//! before a session, pairs its field with a short-lived cookie of the same random value.

use crate::api::error::ApiError;
use crate::api::{AppState, Caller};
use crate::domain::token_hash;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "autobill_session";

/// The sign-in form's CSRF cookie, set with the form and checked with it.
pub const LOGIN_COOKIE: &str = "autobill_login";

/// The most sessions kept at once; past it, signing in ends the least recently used one.
pub const MAX_SESSIONS: usize = 10_000;

/// How long a session lasts without a request.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(8 * 60 * 60);

/// The largest console form read (a plugin upload has its own limit).
pub const MAX_FORM_BYTES: usize = 64 * 1024;

#[derive(Clone)]
struct Session {
    /// The SHA-256 of the token that started it.
    token_hash: String,
    csrf: String,
    last_used: Instant,
}

/// The console's sessions and cookie settings, shared by its handlers.
pub struct Sessions {
    sessions: Mutex<HashMap<String, Session>>,
    secure_cookies: bool,
}

impl Sessions {
    /// No sessions yet; cookies carry `Secure` when `secure_cookies`.
    pub fn new(secure_cookies: bool) -> Arc<Sessions> {
        Arc::new(Sessions { sessions: Mutex::new(HashMap::new()), secure_cookies })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.sessions.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts a session for the holder of the token whose hash is `token_hash`; answers the
    /// session id for the cookie.
    pub fn start(&self, token_hash: String) -> Result<String, ApiError> {
        let id = random_text()?;
        let csrf = random_text()?;
        let now = Instant::now();
        let mut sessions = self.lock();
        sessions.retain(|_, session| now.duration_since(session.last_used) < IDLE_TIMEOUT);
        if sessions.len() >= MAX_SESSIONS
            && let Some(oldest) =
                sessions.iter().min_by_key(|(_, session)| session.last_used).map(|(key, _)| key.clone())
        {
            sessions.remove(&oldest);
        }
        sessions.insert(crate::domain::token_hash(&id), Session { token_hash, csrf, last_used: now });
        Ok(id)
    }

    /// Ends the session with this id, if there is one.
    pub fn end(&self, id: &str) {
        self.lock().remove(&token_hash(id));
    }

    /// The live session with this id, touched; `None` when unknown or idle too long.
    fn find(&self, id: &str) -> Option<Session> {
        let key = token_hash(id);
        let mut sessions = self.lock();
        let now = Instant::now();
        let session = sessions.get_mut(&key)?;
        if now.duration_since(session.last_used) >= IDLE_TIMEOUT {
            sessions.remove(&key);
            return None;
        }
        session.last_used = now;
        Some(session.clone())
    }

    /// The `Set-Cookie` value for a cookie of this console.
    pub fn cookie(&self, name: &str, value: &str, max_age_seconds: u64) -> String {
        let secure = if self.secure_cookies { "; Secure" } else { "" };
        format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_seconds}{secure}")
    }
}

/// 32 random bytes as hex.
pub fn random_text() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|error| {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "no_randomness", format!("no random source: {error}"))
    })?;
    Ok(hex::encode(bytes))
}

/// A cookie's value from the request's `Cookie` headers. The console sets two cookies of its own,
/// both hex; reading `name=value` pairs needs no cookie library.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string())
}

/// Compares two secrets in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// A signed-in person: who they are to the API's checks, and their session's CSRF token.
#[derive(Clone)]
pub struct Staff {
    /// The operator, or a practice.
    pub caller: Caller,
    /// The token every form of theirs carries.
    pub csrf: String,
    /// The session id, to end it.
    pub session: String,
}

impl Staff {
    /// The operator's or the practice's home page.
    pub fn home(&self) -> String {
        match self.caller {
            Caller::Operator => "/console/practices".to_string(),
            Caller::Practice(id) => format!("/console/practices/{id}/billing-settings"),
        }
    }
}

/// Sends a person without a live session to the sign-in page.
pub struct SignIn;

impl IntoResponse for SignIn {
    fn into_response(self) -> Response {
        Redirect::to("/login").into_response()
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let sessions = parts.extensions.get::<Arc<Sessions>>().cloned().ok_or_else(|| {
            super::Failure(ApiError::internal("the console's sessions are missing from the request")).into_response()
        })?;
        let id = cookie_value(&parts.headers, SESSION_COOKIE).ok_or_else(|| SignIn.into_response())?;
        let session = sessions.find(&id).ok_or_else(|| SignIn.into_response())?;
        match state.caller_for_hash(&session.token_hash).await {
            Ok(caller) => Ok(Staff { caller, csrf: session.csrf, session: id }),
            Err(error) if error.status == StatusCode::UNAUTHORIZED => {
                sessions.end(&id);
                Err(SignIn.into_response())
            }
            Err(error) => Err(super::Failure(error).into_response()),
        }
    }
}

/// A form posted by a signed-in person, whose `csrf` field matched their session's: the person
/// and the form's other fields as `T`.
pub struct CsrfForm<T> {
    /// Who posted it.
    pub staff: Staff,
    /// The form's fields.
    pub form: T,
}

/// The refusal of a POST without the session's CSRF token.
pub fn csrf_refused() -> Response {
    super::Failure(ApiError::forbidden(
        "this form is missing its security token or it is out of date; reload the page and send the form again",
    ))
    .into_response()
}

impl<T: DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let staff = Staff::from_request_parts(&mut parts, state).await?;
        let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES).await.map_err(|_| {
            super::Failure(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("the form is larger than {MAX_FORM_BYTES} bytes; send less"),
            ))
            .into_response()
        })?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
        let sent = pairs.iter().find(|(name, _)| name == "csrf").map(|(_, value)| value.as_str());
        if !sent.is_some_and(|sent| same_secret(sent, &staff.csrf)) {
            return Err(csrf_refused());
        }
        let form = serde_urlencoded::from_bytes(&bytes).map_err(|error| {
            super::Failure(ApiError::invalid(format!("the form could not be read: {error}"))).into_response()
        })?;
        Ok(CsrfForm { staff, form })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_out_session_is_gone_and_the_oldest_makes_room() {
        let sessions = Sessions::new(false);
        let id = sessions.start("hash".into()).unwrap_or_default();
        assert!(sessions.find(&id).is_some());
        sessions.end(&id);
        assert!(sessions.find(&id).is_none(), "signing out ends the session on the server");
        for _ in 0..MAX_SESSIONS + 5 {
            sessions.start("hash".into()).unwrap_or_default();
        }
        assert_eq!(sessions.lock().len(), MAX_SESSIONS, "sessions are bounded");
    }

    #[test]
    fn cookies_are_http_only_strict_and_secure_when_asked() {
        assert_eq!(
            Sessions::new(false).cookie(SESSION_COOKIE, "ab", 60),
            "autobill_session=ab; Path=/; HttpOnly; SameSite=Strict; Max-Age=60"
        );
        assert!(Sessions::new(true).cookie(SESSION_COOKIE, "ab", 60).ends_with("; Secure"));
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
    }
}
