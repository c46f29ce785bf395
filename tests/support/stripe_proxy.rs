//! **Test shim, not product code.** An HTTP proxy between autobill's Stripe gateway and
//! localstripe that makes localstripe answer the way Stripe does where the tests depend on it.
//! The production gateway talks to Stripe directly and contains no trace of this.
//!
//! What it bridges:
//! - **Missing fields.** localstripe's PaymentIntents lack fields that async-stripe 1.0's strict
//!   types require (`amount_capturable`, `amount_received`, `confirmation_method`,
//!   `payment_method_types`); the proxy fills them with the values Stripe would send
//!   (`amount_received` is the amount once the intent succeeded). localstripe also expands
//!   `latest_charge` into a whole (and, for the strict types, incomplete) Charge where Stripe
//!   sends the charge's id unless asked to expand it: the proxy puts the id back.
//! - **The error's `type`.** localstripe calls every error `invalid_request_error` (or leaves the
//!   type out); Stripe calls a declined card (HTTP 402) a `card_error`. The proxy sets the type a
//!   402 would have, and fills a missing one.
//! - **Idempotency.** localstripe ignores `Idempotency-Key`. The proxy keeps Stripe's promise:
//!   the first POST with a key is forwarded and its answer stored; a later POST with the same key
//!   and the same body gets the stored answer back (with `Idempotent-Replayed: true`) without
//!   reaching localstripe, and one with a different body gets Stripe's `idempotency_error`.
//!   Answers Stripe does not store (429 and 5xx) are not stored. Requests with keys go one at a
//!   time, so two sends of one key cannot both reach localstripe.
//! - **Answers on demand.** [`StripeProxy::answer_next`] makes the next requests get a canned
//!   answer (e.g. 429 three times) before anything is forwarded, for the cases localstripe cannot
//!   produce. Canned answers are neither forwarded nor stored.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A canned answer.
#[derive(Clone, Debug)]
pub struct Canned {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: Value,
}

/// What the proxy has done so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProxyStats {
    /// Requests received.
    pub received: usize,
    /// Requests answered with a canned answer.
    pub canned: usize,
    /// Requests forwarded to localstripe.
    pub forwarded: usize,
    /// Requests answered from the idempotency store.
    pub replayed: usize,
}

#[derive(Clone)]
struct Stored {
    request: Bytes,
    status: u16,
    body: Bytes,
}

struct State {
    upstream: SocketAddr,
    canned: Mutex<VecDeque<Canned>>,
    keys: tokio::sync::Mutex<HashMap<String, Stored>>,
    received: AtomicUsize,
    answered_canned: AtomicUsize,
    forwarded: AtomicUsize,
    replayed: AtomicUsize,
}

/// The proxy, listening on 127.0.0.1 until dropped.
pub struct StripeProxy {
    addr: SocketAddr,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl StripeProxy {
    /// A proxy in front of the localstripe at `upstream`.
    pub async fn start(upstream: SocketAddr) -> StripeProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port for the proxy");
        let addr = listener.local_addr().expect("the proxy's address");
        let state = Arc::new(State {
            upstream,
            canned: Mutex::new(VecDeque::new()),
            keys: tokio::sync::Mutex::new(HashMap::new()),
            received: AtomicUsize::new(0),
            answered_canned: AtomicUsize::new(0),
            forwarded: AtomicUsize::new(0),
            replayed: AtomicUsize::new(0),
        });
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| handle(state.clone(), request));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        StripeProxy { addr, state, task }
    }

    /// The API base URL to give the gateway.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// The next `times` requests get `status` with `body`, without reaching localstripe.
    pub fn answer_next(&self, times: usize, status: u16, body: Value) {
        let mut canned = self.state.canned.lock().expect("the canned answers");
        canned.extend(std::iter::repeat_n(Canned { status, body }, times));
    }

    /// The next `times` requests get Stripe's 429 answer.
    pub fn rate_limit_next(&self, times: usize) {
        let body = json!({"error": {
            "type": "invalid_request_error",
            "code": "rate_limit",
            "message": "Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.",
        }});
        self.answer_next(times, 429, body);
    }

    /// What the proxy has done so far.
    pub fn stats(&self) -> ProxyStats {
        ProxyStats {
            received: self.state.received.load(Ordering::SeqCst),
            canned: self.state.answered_canned.load(Ordering::SeqCst),
            forwarded: self.state.forwarded.load(Ordering::SeqCst),
            replayed: self.state.replayed.load(Ordering::SeqCst),
        }
    }
}

impl Drop for StripeProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(state: Arc<State>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map(|collected| collected.to_bytes()).unwrap_or_default();
    state.received.fetch_add(1, Ordering::SeqCst);
    let canned = state.canned.lock().expect("the canned answers").pop_front();
    if let Some(canned) = canned {
        state.answered_canned.fetch_add(1, Ordering::SeqCst);
        return Ok(respond(canned.status, Bytes::from(canned.body.to_string()), false));
    }
    let key = (parts.method == hyper::Method::POST)
        .then(|| parts.headers.get("idempotency-key").and_then(|key| key.to_str().ok()).map(str::to_string))
        .flatten();
    let Some(key) = key else {
        let (status, answer) = forward(&state, &parts, body).await;
        return Ok(respond(status, answer, false));
    };
    let mut keys = state.keys.lock().await; // one keyed request at a time, as Stripe locks a key
    if let Some(stored) = keys.get(&key) {
        state.replayed.fetch_add(1, Ordering::SeqCst);
        if stored.request != body {
            let error = json!({"error": {
                "type": "idempotency_error",
                "message": format!("Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{key}' if you meant to execute a different request."),
            }});
            return Ok(respond(400, Bytes::from(error.to_string()), false));
        }
        return Ok(respond(stored.status, stored.body.clone(), true));
    }
    let (status, answer) = forward(&state, &parts, body.clone()).await;
    if status != 429 && status < 500 {
        keys.insert(key, Stored { request: body, status, body: answer.clone() });
    }
    Ok(respond(status, answer, false))
}

fn respond(status: u16, body: Bytes, replayed: bool) -> Response<Full<Bytes>> {
    let mut response = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json");
    if replayed {
        response = response.header("idempotent-replayed", "true");
    }
    response.body(Full::new(body)).unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

/// Sends the request on to localstripe and completes its JSON answer; a failure to reach it is
/// a 502 `api_error`.
async fn forward(state: &State, parts: &hyper::http::request::Parts, body: Bytes) -> (u16, Bytes) {
    state.forwarded.fetch_add(1, Ordering::SeqCst);
    match send(state.upstream, parts, body).await {
        Ok((status, answer)) => match serde_json::from_slice::<Value>(&answer) {
            Ok(mut value) => {
                complete(&mut value, status);
                (status, Bytes::from(value.to_string()))
            }
            Err(_) => (status, answer),
        },
        Err(error) => {
            let body = json!({"error": {"type": "api_error", "message": format!("localstripe: {error}")}});
            (502, Bytes::from(body.to_string()))
        }
    }
}

async fn send(
    upstream: SocketAddr,
    parts: &hyper::http::request::Parts,
    body: Bytes,
) -> Result<(u16, Bytes), Box<dyn std::error::Error + Send + Sync>> {
    let stream = tokio::net::TcpStream::connect(upstream).await?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let mut request = Request::builder()
        .method(parts.method.clone())
        .uri(parts.uri.path_and_query().map_or_else(|| parts.uri.path().to_string(), |path| path.as_str().to_string()));
    for (name, value) in &parts.headers {
        if name != hyper::header::HOST {
            request = request.header(name, value);
        }
    }
    let request = request.header(hyper::header::HOST, upstream.to_string()).body(Full::new(body))?;
    let response = sender.send_request(request).await?;
    let status = response.status().as_u16();
    Ok((status, response.into_body().collect().await?.to_bytes()))
}

/// Fills in what localstripe leaves out of an answer (see the module docs).
pub fn complete(value: &mut Value, status: u16) {
    if let Some(error) = value.get_mut("error").and_then(Value::as_object_mut) {
        let kind = error.get("type").and_then(Value::as_str).unwrap_or_default();
        let fixed = match (status, kind) {
            (402, "" | "invalid_request_error") => Some("card_error"),
            (500.., "") => Some("api_error"),
            (_, "") => Some("invalid_request_error"),
            _ => None,
        };
        if let Some(fixed) = fixed {
            error.insert("type".into(), Value::from(fixed));
        }
    }
    complete_objects(value);
}

fn complete_objects(value: &mut Value) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(complete_objects),
        Value::Object(map) => {
            if map.get("object").and_then(Value::as_str) == Some("payment_intent") {
                let amount = map.get("amount").cloned().unwrap_or(Value::from(0));
                let succeeded = map.get("status").and_then(Value::as_str) == Some("succeeded");
                let defaults = [
                    ("amount_capturable", Value::from(0)),
                    ("amount_received", if succeeded { amount } else { Value::from(0) }),
                    ("confirmation_method", Value::from("automatic")),
                    ("payment_method_types", json!(["card"])),
                    ("capture_method", Value::from("automatic")),
                    ("livemode", Value::from(false)),
                    ("metadata", json!({})),
                ];
                for (field, default) in defaults {
                    map.entry(field).or_insert(default);
                }
                let charge = map.get("latest_charge").and_then(|charge| charge.get("id")).cloned();
                if let Some(id) = charge {
                    map.insert("latest_charge".into(), id);
                }
            }
            map.values_mut().for_each(complete_objects);
        }
        _ => {}
    }
}
