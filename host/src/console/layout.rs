//! The page frame (header, navigation, sign-out), the stylesheet, and signing in and out.

use super::session::{self, CsrfForm, LOGIN_COOKIE, SESSION_COOKIE, Sessions, Staff, cookie_value, same_secret};
use super::{Answer, Failure, see_other};
use crate::api::{AppState, Caller};
use crate::domain::{Practice, token_hash};
use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use std::sync::Arc;

const STYLESHEET: &str = include_str!("style.css");

/// How long the sign-in form's CSRF cookie lives, in seconds.
const LOGIN_COOKIE_SECONDS: u64 = 30 * 60;

/// The console's stylesheet (a file of its own, as the Content-Security-Policy allows no inline
/// style).
pub async fn stylesheet() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=300")], STYLESHEET)
        .into_response()
}

fn document(title: &str, header: Markup, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · autobill" }
                link rel="stylesheet" href="/console/style.css";
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top { (header) }
                main #main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// A page without navigation (sign-in, errors).
pub fn bare(title: &str, body: Markup) -> Markup {
    document(title, html! { p.brand { "autobill" } }, body)
}

/// The hidden CSRF field every form carries.
pub fn csrf(staff: &Staff) -> Markup {
    html! { input type="hidden" name="csrf" value=(staff.csrf); }
}

/// The errors about one field, shown under it and tied to it by `aria-describedby` (`ID-error`).
pub fn field_errors(id: &str, errors: &[&str]) -> Markup {
    html! {
        @if !errors.is_empty() {
            p.error id={ (id) "-error" } role="alert" {
                @for (n, error) in errors.iter().enumerate() {
                    @if n > 0 { br; }
                    (error)
                }
            }
        }
    }
}

/// A page for a signed-in person: the navigation of their practice (or the operator's, with the
/// practice's pages when one is shown), a sign-out button, and the body.
pub fn page(staff: &Staff, practice: Option<&Practice>, title: &str, body: Markup) -> Markup {
    let header = html! {
        p.brand { a href=(staff.home()) { "autobill" } }
        @if let Some(practice) = practice {
            p.practice { (practice.name) " · " (practice.timezone.name()) " · " (practice.currency.code()) }
            nav aria-label="Practice" {
                ul {
                    @for (path, label) in [
                        ("billing-settings", "Billing settings"), ("clients", "Clients"), ("bills", "Bills"),
                        ("superbills", "Superbills"), ("shares", "Shares"), ("payments", "Payments"), ("runs", "Runs"),
                    ] {
                        li { a href={ "/console/practices/" (practice.id) "/" (path) } { (label) } }
                    }
                    @if staff.caller == Caller::Operator {
                        li { a href={ "/console/practices/" (practice.id) "/plugins" } { "Plugins" } }
                    }
                }
            }
        }
        @if staff.caller == Caller::Operator {
            nav aria-label="Operator" {
                ul {
                    li { a href="/console/practices" { "Practices" } }
                    li { a href="/console/plugins" { "Plugin library" } }
                }
            }
        }
        form.signout method="post" action="/logout" {
            (csrf(staff))
            button type="submit" { "Sign out" }
        }
    };
    document(title, header, body)
}

fn sign_in_form(csrf: &str, error: Option<&str>) -> Markup {
    bare(
        "Sign in",
        html! {
            p { "Sign in with your practice's token, or the operator's token." }
            form method="post" action="/login" {
                input type="hidden" name="csrf" value=(csrf);
                div.field {
                    label for="token" { "Token" }
                    @if error.is_some() {
                        input #token type="password" name="token" autocomplete="off" required
                            aria-invalid="true" aria-describedby="token-error";
                    } @else {
                        input #token type="password" name="token" autocomplete="off" required;
                    }
                    (field_errors("token", error.as_slice()))
                }
                button type="submit" { "Sign in" }
            }
        },
    )
}

/// The sign-in form, with a fresh CSRF value in its field and in a cookie.
fn sign_in_answer(state: &Sessions, status: StatusCode, error: Option<&str>) -> Answer {
    let csrf = session::random_text()?;
    let cookie = state.cookie(LOGIN_COOKIE, &csrf, LOGIN_COOKIE_SECONDS);
    Ok((status, [(header::SET_COOKIE, cookie)], sign_in_form(&csrf, error)).into_response())
}

/// `GET /login`.
pub async fn sign_in_page(Extension(sessions): Extension<Arc<Sessions>>) -> Answer {
    sign_in_answer(&sessions, StatusCode::OK, None)
}

/// The sign-in form's fields.
#[derive(serde::Deserialize)]
struct SignInForm {
    token: Option<String>,
    csrf: Option<String>,
}

/// `POST /login`: a practice's token or the operator's starts a session; the token goes no
/// further than this request.
pub async fn sign_in(
    State(state): State<AppState>,
    Extension(sessions): Extension<Arc<Sessions>>,
    headers: HeaderMap,
    bytes: axum::body::Bytes,
) -> Answer {
    let form: SignInForm = serde_urlencoded::from_bytes(&bytes).unwrap_or(SignInForm { token: None, csrf: None });
    let expected = cookie_value(&headers, LOGIN_COOKIE);
    let matches = matches!((&form.csrf, &expected), (Some(sent), Some(expected)) if same_secret(sent, expected));
    if !matches {
        return Ok(session::csrf_refused());
    }
    let token = form.token.unwrap_or_default();
    let token = token.trim();
    if token.is_empty() {
        return sign_in_answer(&sessions, StatusCode::UNPROCESSABLE_ENTITY, Some("token is empty; paste your token"));
    }
    let hash = token_hash(token);
    let caller = match state.caller_for_hash(&hash).await {
        Ok(caller) => caller,
        Err(error) if error.status == StatusCode::UNAUTHORIZED => {
            return sign_in_answer(&sessions, StatusCode::UNAUTHORIZED, Some(&error.message));
        }
        Err(error) => return Err(Failure(error)),
    };
    let id = sessions.start(hash)?;
    let staff = Staff { caller, csrf: String::new(), session: id.clone() };
    let mut response = see_other(&staff.home());
    let headers = response.headers_mut();
    let max_age = super::session::IDLE_TIMEOUT.as_secs();
    for cookie in [sessions.cookie(SESSION_COOKIE, &id, max_age), sessions.cookie(LOGIN_COOKIE, "", 0)] {
        if let Ok(value) = cookie.parse() {
            headers.append(header::SET_COOKIE, value);
        }
    }
    Ok(response)
}

/// `POST /logout`: ends the session on the server and clears the cookie.
pub async fn sign_out(Extension(sessions): Extension<Arc<Sessions>>, form: CsrfForm<NoFields>) -> Response {
    sessions.end(&form.staff.session);
    let mut response = see_other("/login");
    if let Ok(value) = sessions.cookie(SESSION_COOKIE, "", 0).parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// A form with no fields but its CSRF token.
#[derive(serde::Deserialize)]
pub struct NoFields {}

/// `GET /console`: the signed-in person's home.
pub async fn home(staff: Staff) -> Response {
    see_other(&staff.home())
}
