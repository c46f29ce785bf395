//! A localstripe server (PyPI `localstripe`, a fake but stateful Stripe) for one test, and a
//! minimal HTTP client to set it up and read back what it holds.
//!
//! localstripe's own command has no bind-address flag and listens on every interface, and it
//! writes its whole state to `/tmp/localstripe.pickle` after every request. The launcher below
//! runs localstripe's own aiohttp application on a socket bound to `127.0.0.1`, on a port the
//! kernel picks (printed on the first line of stdout, so tests running in parallel never race
//! for a port), and turns the pickle dump off, so every test gets a private, empty server.
//! The child is killed when the [`LocalStripe`] is dropped.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The secret key the tests use. localstripe accepts any `sk_…` key.
pub const SECRET_KEY: &str = "sk_test_autobill_local_secret";

/// A Stripe gateway talking to `url` (localstripe, or the proxy in front of it) with the test
/// key, retrying quickly.
pub fn stripe_gateway(url: String) -> autobill::payments::stripe::StripeGateway {
    use autobill::payments::stripe::{Backoff, SecretKey, StripeConfig, StripeGateway};
    let config = StripeConfig {
        secret_key: SecretKey::new(SECRET_KEY),
        api_base: Some(url),
        timeout: Duration::from_secs(20),
        backoff: Backoff { attempts: 5, first_delay: Duration::from_millis(5), max_delay: Duration::from_millis(40) },
    };
    StripeGateway::new(config).expect("a Stripe gateway")
}

const LAUNCHER: &str = r#"
import socket, sys
from aiohttp import web
from localstripe import resources
from localstripe.server import app
resources.Store.dump_to_disk = lambda self: None
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", 0))
print(sock.getsockname()[1], flush=True)
web.run_app(app, sock=sock, print=None, access_log=None)
"#;

const MISSING: &str = "localstripe is needed for the Stripe tests: pip install localstripe (tests/run.sh installs it)";

/// A running localstripe, killed on drop.
pub struct LocalStripe {
    child: Child,
    addr: SocketAddr,
}

impl LocalStripe {
    /// Starts localstripe on 127.0.0.1 and waits until it accepts connections.
    ///
    /// # Panics
    /// When python3 or localstripe is missing, or the server does not come up.
    pub async fn start() -> LocalStripe {
        let mut child = Command::new("python3")
            .args(["-c", LAUNCHER])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("{MISSING} (python3 could not be started: {error})"));
        let stdout = child.stdout.take().expect("the child's stdout");
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = sender.send(line);
        });
        let line =
            tokio::task::spawn_blocking(move || receiver.recv_timeout(Duration::from_secs(30)).unwrap_or_default())
                .await
                .unwrap_or_default();
        let Ok(port) = line.trim().parse::<u16>() else {
            let _ = child.kill();
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr);
            }
            let _ = child.wait();
            if stderr.contains("No module named") {
                panic!("{MISSING}\n{stderr}");
            }
            panic!("localstripe did not start: {stderr}");
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let server = LocalStripe { child, addr };
        for _ in 0..300 {
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("localstripe printed port {port} but does not accept connections on it");
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Creates a Customer with a card attached, as a practice does when a client saves a card,
    /// and returns the card reference autobill keeps: `cus_…/pm_…`.
    /// `card` is a Stripe test payment method such as `pm_card_visa`.
    pub async fn customer_with_card(&self, card: &str) -> String {
        let customer = self.post("/v1/customers", &[("email", "client@example.com")]).await;
        let customer = customer["id"].as_str().expect("a customer id").to_string();
        let method = self.post(&format!("/v1/payment_methods/{card}/attach"), &[("customer", &customer)]).await;
        let method = method["id"].as_str().expect("a payment method id");
        format!("{customer}/{method}")
    }

    /// A customer with a card of the given test number attached (e.g. `4000002760003184`, which
    /// asks for 3-D Secure on every charge).
    pub async fn customer_with_card_number(&self, number: &str) -> String {
        let method = self
            .post(
                "/v1/payment_methods",
                &[
                    ("type", "card"),
                    ("card[number]", number),
                    ("card[exp_month]", "12"),
                    ("card[exp_year]", "2030"),
                    ("card[cvc]", "123"),
                ],
            )
            .await;
        let method = method["id"].as_str().expect("a payment method id").to_string();
        self.customer_with_card(&method).await
    }

    /// Every PaymentIntent localstripe holds.
    pub async fn payment_intents(&self) -> Vec<serde_json::Value> {
        list(self.get("/v1/payment_intents?limit=100").await)
    }

    /// Every charge localstripe holds (declined ones included, with `status: failed`).
    pub async fn charges(&self) -> Vec<serde_json::Value> {
        list(self.get("/v1/charges?limit=100").await)
    }

    /// The charges that took money.
    pub async fn succeeded_charges(&self) -> Vec<serde_json::Value> {
        self.charges().await.into_iter().filter(|charge| charge["status"] == "succeeded").collect()
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> serde_json::Value {
        let body = form.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&");
        let (status, value) = request(self.addr, "POST", path, body).await;
        assert!(status < 300, "POST {path} answered {status}: {value}");
        value
    }

    async fn get(&self, path: &str) -> serde_json::Value {
        let (status, value) = request(self.addr, "GET", path, String::new()).await;
        assert!(status < 300, "GET {path} answered {status}: {value}");
        value
    }
}

impl Drop for LocalStripe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn list(value: serde_json::Value) -> Vec<serde_json::Value> {
    assert_eq!(value["has_more"], false, "more than one page");
    value["data"].as_array().cloned().unwrap_or_default()
}

/// Form-encodes a value (RFC 3986 unreserved characters pass, everything else is escaped).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One HTTP/1.1 request to `addr`, authenticated with [`SECRET_KEY`]; the status and JSON body.
pub async fn request(addr: SocketAddr, method: &str, path: &str, body: String) -> (u16, serde_json::Value) {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect to the server");
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.expect("an HTTP connection");
    tokio::spawn(connection);
    let request = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string())
        .header("authorization", format!("Bearer {SECRET_KEY}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(body)))
        .expect("a request");
    let response = sender.send_request(request).await.expect("a response");
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.expect("the body").to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
}
