//! `autobill serve` over HTTP: a month driven through the API on a simulated clock, bad input
//! (always a 4xx in the one error shape, never a 500, never a partial write), and every route
//! called with another practice's token.

mod support;

use autobill::app::App;
use autobill::clock::SimulatedClock;
use autobill::config::{Config, Use};
use autobill::serve;
use chrono::{DateTime, Duration, Utc};
use hyper::body::Bytes;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

const OPERATOR: &str = "operator-token-for-tests-0123456789abcdef";
/// The token `OPERATOR` replaces: the server takes both, as during a rotation.
const OLD_OPERATOR: &str = "old-operator-token-for-tests-0123456789";
const MAX_BODY: usize = 64 * 1024;

/// A running server and what stops it.
struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), serve::ServeError>>,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start(start: DateTime<Utc>) -> Server {
        Server::start_with(start, "").await
    }

    /// A server with more `[server]` settings, e.g. its timeouts.
    async fn start_with(start: DateTime<Utc>, server_settings: &str) -> Server {
        Server::start_with_sections(start, server_settings, "").await
    }

    /// A server with more `[server]` settings and more sections (e.g. `[stripe]`).
    async fn start_with_sections(start: DateTime<Utc>, server_settings: &str, sections: &str) -> Server {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let database = format!("sqlite://{}", dir.path().join("autobill.db").display());
        Server::start_on(start, server_settings, sections, dir, database).await
    }

    async fn start_on(
        start: DateTime<Utc>,
        server_settings: &str,
        sections: &str,
        dir: tempfile::TempDir,
        database: String,
    ) -> Server {
        let text = format!(
            "[server]\nlisten = \"127.0.0.1:0\"\noperator_token = [\"{OPERATOR}\", \"{OLD_OPERATOR}\"]\nmax_body_bytes = {MAX_BODY}\n{server_settings}\n\
             [database]\nurl = \"{database}\"\n[outbox]\ndir = \"{}\"\n[scheduler]\ntick_interval_seconds = 3600\n\
             [testing]\nsimulated_clock = true\n{sections}",
            dir.path().join("outbox").display()
        );
        let config = Config::from_table(&text.parse().expect("TOML"), Use::Serve).expect("a good configuration");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let addr = listener.local_addr().expect("an address");
        let (stop, stopped) = oneshot::channel::<()>();
        let clock = Arc::new(SimulatedClock::new(start));
        let app = App::start(config, clock).await.expect("the application starts");
        let task = tokio::spawn(serve::run(listener, app, async {
            let _ = stopped.await;
        }));
        let server = Server { addr, stop: Some(stop), task, _dir: dir };
        for _ in 0..200 {
            if TcpStream::connect(addr).await.is_ok() {
                let (status, _) = server.call("GET", "/healthz", None, None).await;
                if status == 200 {
                    return server;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("the server did not start");
    }

    /// Sends a request; answers its status, content type and body bytes.
    async fn exchange(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        kind: &str,
        body: Vec<u8>,
    ) -> (u16, String, Bytes) {
        let authorization = token.map(|token| format!("Bearer {token}"));
        self.exchange_raw(method, path, authorization.as_deref(), kind, &[], body).await
    }

    /// A bodiless request with the `Authorization` header given whole.
    async fn exchange_with_authorization(&self, method: &str, path: &str, authorization: &str) -> (u16, String, Bytes) {
        self.exchange_raw(method, path, Some(authorization), "", &[], vec![]).await
    }

    async fn exchange_raw(
        &self,
        method: &str,
        path: &str,
        authorization: Option<&str>,
        kind: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (u16, String, Bytes) {
        let mut all = vec![];
        if let Some(authorization) = authorization {
            all.push(("authorization", authorization));
        }
        if !kind.is_empty() {
            all.push(("content-type", kind));
        }
        all.extend_from_slice(headers);
        support::http_request(self.addr, method, path, &all, body).await
    }

    /// Sends a request; every answer is JSON, and never a 500.
    async fn send(&self, method: &str, path: &str, token: Option<&str>, kind: &str, body: Vec<u8>) -> (u16, Value) {
        let (status, _, bytes) = self.exchange(method, path, token, kind, body).await;
        let value: Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("{method} {path}: not JSON: {}", String::from_utf8_lossy(&bytes)));
        assert_ne!(status, 500, "{method} {path} answered 500: {value}");
        if status >= 400 {
            let message = value["error"]["message"].as_str().unwrap_or_default();
            assert!(
                value["error"]["code"].is_string() && message.len() > 10,
                "{method} {path}: errors have a code and a message: {value}"
            );
        }
        (status, value)
    }

    async fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
        match body {
            Some(body) => self.send(method, path, token, "application/json", body.to_string().into_bytes()).await,
            None => self.send(method, path, token, "", vec![]).await,
        }
    }

    /// A call that must succeed.
    async fn ok(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Value {
        let (status, value) = self.call(method, path, Some(token), body).await;
        assert!((200..300).contains(&status), "{method} {path}: {status} {value}");
        value
    }

    /// Every row of a list, page after page: `{"data": [...], "next": …}`, with `next` passed
    /// back as `?after=` until it is null.
    async fn list(&self, path: &str, token: &str) -> Value {
        let mut rows = vec![];
        let mut after: Option<String> = None;
        loop {
            let page_path = match &after {
                Some(after) => format!("{path}?limit=2&after={after}"),
                None => format!("{path}?limit=2"),
            };
            let page = self.ok("GET", &page_path, token, None).await;
            let data = page["data"].as_array().unwrap_or_else(|| panic!("GET {page_path}: not a page: {page}"));
            assert!(data.len() <= 2, "GET {page_path}: more rows than the limit: {page}");
            rows.extend(data.iter().cloned());
            match page["next"].as_str() {
                Some(next) => after = Some(next.to_string()),
                None => return Value::Array(rows),
            }
        }
    }

    /// A document's PDF, which must come as `application/pdf`; answers its text as `pdftotext`
    /// (poppler-utils; `tests/run.sh` installs it) reads it.
    async fn pdf(&self, path: &str, token: &str) -> String {
        let (status, content_type, bytes) = self.exchange("GET", path, Some(token), "", vec![]).await;
        assert_eq!(status, 200, "GET {path}: {}", String::from_utf8_lossy(&bytes));
        assert_eq!(content_type, "application/pdf", "GET {path}");
        assert!(bytes.starts_with(b"%PDF-"), "GET {path}: not a PDF");
        assert!(bytes.trim_ascii_end().ends_with(b"%%EOF"), "GET {path}: a PDF ends with %%EOF");
        let dir = tempfile::tempdir().expect("a temporary folder");
        let file = dir.path().join("document.pdf");
        std::fs::write(&file, &bytes).expect("the PDF is written");
        let output = std::process::Command::new("pdftotext").arg(&file).arg("-").output().unwrap_or_else(|error| {
            panic!("pdftotext (poppler-utils) reads the PDFs back: `apt-get install poppler-utils`: {error}")
        });
        assert!(output.status.success(), "pdftotext: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    async fn set_clock(&self, at: DateTime<Utc>) -> Value {
        self.ok("POST", "/v1/test/clock", OPERATOR, Some(json!({ "now": at.to_rfc3339() }))).await
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.await.expect("the server task").expect("a clean shutdown");
    }
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).expect("a time").with_timezone(&Utc)
}

fn id(value: &Value) -> i64 {
    value["id"].as_i64().unwrap_or_else(|| panic!("no id in {value}"))
}

/// A practice with a token, a CPT service and clients.
async fn practice(server: &Server, name: &str, bills: &str) -> (i64, String) {
    let automation =
        json!({ "bills": bills, "superbill_day": 1, "share": true, "share_delay_minutes": 60, "autopay": true });
    let practice = server
        .ok(
            "POST",
            "/v1/practices",
            OPERATOR,
            Some(json!({ "name": name, "timezone": "America/New_York", "automation": automation })),
        )
        .await;
    let pid = id(&practice);
    let token = server.ok("POST", &format!("/v1/practices/{pid}/tokens"), OPERATOR, None).await;
    (pid, token["token"].as_str().expect("a token").to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_month_through_the_api_on_a_simulated_clock() {
    let server = Server::start(at("2026-01-04T12:00:00Z")).await;
    let (pa, ta) = practice(&server, "Lakeside", "daily").await;
    let (pb, tb) = practice(&server, "Hillside", "manual").await;
    let base = format!("/v1/practices/{pa}");
    let openapi = server.call("GET", "/openapi.json", None, None).await.1;
    assert!(openapi["paths"]["/v1/practices/{practice}/bills/{bill}/products"]["post"].is_object());

    for (p, t) in [(pa, &ta), (pb, &tb)] {
        let service =
            json!({ "code": "90837", "name": "Psychotherapy, 60 minutes", "fee": 16000, "cpt_code": "90837" });
        server.ok("POST", &format!("/v1/practices/{p}/services"), t, Some(service)).await;
    }
    let client = |reference: &str, email: Option<&str>, card: &str| {
        json!({ "reference": reference, "name": format!("Client {reference}"), "email": email, "auto_superbills": true,
                "autopay": true, "card": card, "diagnosis": ["F41.1"] })
    };
    let ana = id(&server
        .ok("POST", &format!("{base}/clients"), &ta, Some(client("ana", Some("ana@example.com"), "visa")))
        .await);
    let ben = id(&server
        .ok("POST", &format!("{base}/clients"), &ta, Some(client("ben", Some("ben@example.com"), "insufficient_funds")))
        .await);
    let cy = id(&server.ok("POST", &format!("{base}/clients"), &ta, Some(client("cy", None, "visa"))).await);
    let bea = id(&server
        .ok("POST", &format!("/v1/practices/{pb}/clients"), &tb, Some(client("bea", Some("bea@example.com"), "visa")))
        .await);
    let appointment = |reference: &str, client: i64, start: &str, status: &str| json!({ "reference": reference, "client_id": client, "starts_at": start, "status": status, "services": ["90837"] });
    server
        .ok("POST", &format!("{base}/appointments"), &ta, Some(appointment("a1", ana, "2026-01-05T10:00", "completed")))
        .await;
    server
        .ok("POST", &format!("{base}/appointments"), &ta, Some(appointment("b1", ben, "2026-01-05T11:00", "completed")))
        .await;
    let c1 = id(&server
        .ok("POST", &format!("{base}/appointments"), &ta, Some(appointment("c1", cy, "2026-01-06T09:00", "scheduled")))
        .await);
    let a2 = id(&server
        .ok("POST", &format!("{base}/appointments"), &ta, Some(appointment("a2", ana, "2026-01-07T09:00", "scheduled")))
        .await);
    server
        .ok(
            "POST",
            &format!("/v1/practices/{pb}/appointments"),
            &tb,
            Some(appointment("x1", bea, "2026-01-05T10:00", "completed")),
        )
        .await;
    // The details a superbill needs: the rendering provider, the place of service, the date of birth.
    let details = json!({ "provider": { "name": "Dana Reyes", "credentials": "LCSW", "npi": "1679576722" },
                          "place_of_service": "10", "email": "billing@lakeside.example" });
    server.ok("PATCH", &base, &ta, Some(details)).await;
    server.ok("PATCH", &format!("{base}/clients/{ana}"), &ta, Some(json!({ "birth_date": "1990-04-12" }))).await;
    server.ok("POST", &format!("{base}/appointments/{c1}/complete"), &ta, None).await;
    let cancelled = server.ok("POST", &format!("{base}/appointments/{a2}/cancel"), &ta, None).await;
    assert_eq!(cancelled["status"], "cancelled");

    // Day by day, at 02:00 New York time: the midnight bill run, the 12:30 autopay, the 01:00 shares.
    let mut now = at("2026-01-05T07:00:00Z");
    let mut runs_done = 0;
    while now <= at("2026-02-02T07:00:00Z") {
        runs_done += server.set_clock(now).await["runs_done"].as_u64().expect("a count");
        if now == at("2026-01-06T07:00:00Z") {
            // A pended bill at the manual practice is opened by a person.
            let bills = server.list(&format!("/v1/practices/{pb}/bills"), &tb).await;
            let pended =
                bills.as_array().expect("bills").iter().find(|b| b["status"] == "pended").expect("a pended bill");
            let opened = server.ok("POST", &format!("/v1/practices/{pb}/bills/{}/open", id(pended)), &tb, None).await;
            assert_eq!(opened["status"], "open");
            // A card fee on ben's unpaid open bill.
            let bills = server.list(&format!("{base}/bills"), &ta).await;
            let bens =
                bills.as_array().expect("bills").iter().find(|b| b["client_id"] == ben).expect("ben's bill").clone();
            let fee = json!({ "name": "Card processing fee", "amount": 350 });
            let with_fee =
                server.ok("POST", &format!("{base}/bills/{}/products", id(&bens)), &ta, Some(fee.clone())).await;
            assert_eq!(with_fee["total"], 16350);
            assert_eq!(with_fee["products"][0]["name"], "Card processing fee");
            // ana's bill is paid: no products on it.
            let anas =
                bills.as_array().expect("bills").iter().find(|b| b["client_id"] == ana).expect("ana's bill").clone();
            assert_eq!(anas["status"], "paid", "{anas}");
            let (status, error) =
                server.call("POST", &format!("{base}/bills/{}/products", id(&anas)), Some(&ta), Some(fee)).await;
            assert_eq!(status, 409, "{error}");
            assert!(error["error"]["message"].as_str().unwrap_or_default().contains("unpaid open"));
        }
        now += Duration::days(1);
    }
    assert!(runs_done >= 50, "about 29 bill runs and 29 autopay runs and a superbill run: {runs_done}");

    let bills = server.list(&format!("{base}/bills"), &ta).await;
    let bills = bills.as_array().expect("bills");
    assert_eq!(bills.len(), 3, "{bills:?}");
    let cys = bills.iter().find(|b| b["client_id"] == cy).expect("cy's bill");
    let detail = server.ok("GET", &format!("{base}/bills/{}", id(cys)), &ta, None).await;
    assert_eq!(detail["lines"][0]["service"], "90837");
    assert_eq!(detail["status"], "paid");
    let (status, _) = server.call("POST", &format!("{base}/bills/{}/void", id(cys)), Some(&ta), None).await;
    assert_eq!(status, 409, "a paid bill is not voided");
    let bens = bills.iter().find(|b| b["client_id"] == ben).expect("ben's bill");
    let voided = server.ok("POST", &format!("{base}/bills/{}/void", id(bens)), &ta, None).await;
    assert_eq!(voided["status"], "void");
    assert_eq!(voided["attempts"].as_array().map(Vec::len), Some(3));
    let (status, _) = server.call("POST", &format!("{base}/bills/{}/void", id(bens)), Some(&ta), None).await;
    assert_eq!(status, 409, "a void bill is not voided twice");

    let payments = server.list(&format!("{base}/payments"), &ta).await;
    assert!(payments.as_array().expect("payments").len() >= 2, "ana's and cy's bills were paid: {payments}");
    for payment in payments.as_array().expect("payments") {
        let reference = payment["provider_reference"].as_str().unwrap_or_default();
        assert!(reference.starts_with("sandbox_autobill-bill-"), "the provider's reference: {payment}");
    }
    let attempts = server.list(&format!("{base}/payment-attempts"), &ta).await;
    let declined: Vec<&Value> =
        attempts.as_array().expect("attempts").iter().filter(|a| a["status"] == "failed").collect();
    assert_eq!(declined.len(), 3, "ben's soft decline is tried three nights: {attempts}");
    assert!(declined[0]["reason"].as_str().unwrap_or_default().contains("insufficient_funds"));
    let ben_view = server.ok("GET", &format!("{base}/clients/{ben}"), &ta, None).await;
    assert!(ben_view["autopay_paused"].as_str().unwrap_or_default().contains("paused"), "{ben_view}");

    let shares = server.list(&format!("{base}/shares"), &ta).await;
    let shares = shares.as_array().expect("shares");
    assert!(shares.iter().any(|s| s["status"] == "sent" && s["client_id"] == ana));
    let skipped = shares.iter().find(|s| s["client_id"] == cy && s["status"] == "skipped").expect("cy's skip");
    assert_eq!(skipped["reason"], "no email address on file");

    let superbills = server.list(&format!("{base}/superbills"), &ta).await;
    let superbills = superbills.as_array().expect("superbills");
    assert_eq!(superbills.len(), 3, "one per client on February 1: {superbills:?}");
    let anas = superbills.iter().find(|s| s["client_id"] == ana).expect("ana's superbill");
    let detail = server.ok("GET", &format!("{base}/superbills/{}", id(anas)), &ta, None).await;
    assert_eq!(detail["paid"], 16000);
    assert_eq!(detail["lines"].as_array().map(Vec::len), Some(1));

    // Each document as the PDF the client gets: its number, its total and its state.
    let ben_pdf = server.pdf(&format!("{base}/bills/{}/pdf", id(bens)), &ta).await;
    assert!(ben_pdf.contains(&format!("Lakeside - Bill #{} - page 1 of 1", id(bens))), "the bill's number");
    assert!(ben_pdf.contains("USD 163.50"), "the total with the card fee");
    assert!(ben_pdf.contains("Card processing fee") && ben_pdf.contains("Void"), "its product and status");
    let superbill_pdf = server.pdf(&format!("{base}/superbills/{}/pdf", id(anas)), &ta).await;
    assert!(superbill_pdf.contains(&format!("Lakeside - Superbill #{} - page 1 of 1", id(anas))));
    assert!(superbill_pdf.contains("USD 160.00") && superbill_pdf.contains("F41.1"), "fee and diagnosis");
    assert!(superbill_pdf.contains("Dana Reyes, LCSW") && superbill_pdf.contains("1679576722"), "the provider");
    assert!(superbill_pdf.contains("1990-04-12"), "the client's date of birth");
    let openapi = server.call("GET", "/openapi.json", None, None).await.1;
    for path in ["/v1/practices/{practice}/bills/{bill}/pdf", "/v1/practices/{practice}/superbills/{superbill}/pdf"] {
        assert!(openapi["paths"][path]["get"]["responses"]["200"]["content"]["application/pdf"].is_object(), "{path}");
    }

    let runs = server.list(&format!("{base}/runs"), &ta).await;
    let runs = runs.as_array().expect("runs");
    assert!(runs.iter().all(|r| r["outcome"] == "done"), "{runs:?}");
    assert!(runs.iter().any(|r| r["kind"] == "superbill" && r["date"] == "2026-02-01"));
    let events = server.list(&format!("{base}/events"), &ta).await;
    let events = events.as_array().expect("events");
    assert!(events.iter().any(|e| e["event"]["event"] == "payment_failed"));
    let voids: Vec<&Value> = events.iter().filter(|e| e["event"]["event"] == "bill_voided").collect();
    assert_eq!(voids.len(), 1, "one void, refused voids are not events: {events:?}");
    assert_eq!(voids[0]["event"], json!({ "event": "bill_voided", "bill": id(bens), "client": "ben" }));
    assert!(voids[0]["at"].as_str().unwrap_or_default().starts_with("2026-02-02T02:00:00"), "{}", voids[0]);

    // The other practice saw its own month: its opened bill was paid and shared.
    let theirs = server.list(&format!("/v1/practices/{pb}/bills"), &tb).await;
    assert_eq!(theirs[0]["status"], "paid", "{theirs}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_a_4xx_with_a_message_and_changes_nothing() {
    let server = Server::start(at("2026-01-04T12:00:00Z")).await;
    let (pa, ta) = practice(&server, "Lakeside", "daily").await;
    let base = format!("/v1/practices/{pa}");
    let cases: Vec<(&str, String, Option<Value>, u16, &str)> = vec![
        ("POST", "/v1/practices".into(), Some(json!({ "name": 5, "timezone": "UTC" })), 422, "name"),
        ("POST", "/v1/practices".into(), Some(json!({ "name": "X", "timezone": "Mars/Base" })), 422, "IANA"),
        (
            "POST",
            "/v1/practices".into(),
            Some(json!({ "name": "X", "timezone": "UTC", "colour": "red" })),
            422,
            "colour",
        ),
        (
            "POST",
            "/v1/practices".into(),
            Some(
                json!({ "name": "X", "timezone": "UTC", "automation": { "superbill_day": 40, "share_delay_minutes": 20000 } }),
            ),
            422,
            "1 to 31",
        ),
        ("PATCH", format!("{base}/automation"), Some(json!({ "share_delay_minutes": -1 })), 422, "0 to 10080"),
        ("PATCH", format!("{base}/automation"), Some(json!({ "bills": "weekly" })), 422, "daily, monthly or manual"),
        ("POST", format!("{base}/services"), Some(json!({ "code": "X", "name": "X", "fee": -5 })), 422, "fee"),
        ("POST", format!("{base}/services"), Some(json!({ "code": "X", "name": "X", "fee": "ten" })), 422, "fee"),
        ("POST", format!("{base}/services"), Some(json!(["x", "y", 100, null])), 422, "JSON object"),
        ("POST", "/v1/practices".into(), Some(json!("Lakeside")), 422, "JSON object"),
        (
            "POST",
            format!("{base}/clients"),
            Some(json!({ "reference": "r", "name": "N", "email": "nope" })),
            422,
            "email",
        ),
        ("GET", format!("{base}/clients/999"), None, 404, "client 999"),
        ("GET", format!("{base}/bills/999"), None, 404, "bill 999"),
        ("POST", format!("{base}/bills/999/open"), None, 404, "bill 999"),
        ("POST", format!("{base}/bills/999/void"), None, 404, "bill 999"),
        ("GET", format!("{base}/superbills/999"), None, 404, "superbill 999"),
        ("GET", format!("{base}/bills/999/pdf"), None, 404, "bill 999"),
        ("GET", format!("{base}/superbills/999/pdf"), None, 404, "superbill 999"),
        ("POST", format!("{base}/appointments/999/complete"), None, 404, "appointment 999"),
        ("GET", "/v1/practices/999".into(), None, 404, "practice 999"),
        ("GET", "/v1/practices/abc".into(), None, 400, "whole numbers"),
        ("GET", "/v1/nowhere".into(), None, 404, "openapi.json"),
        ("DELETE", format!("{base}/bills"), None, 405, "method"),
        ("PUT", format!("{base}/plugins/no_such_slot"), Some(json!({ "plugin_id": "x" })), 404, "bill_cadence"),
        ("PUT", format!("{base}/plugins/share_filter"), Some(json!({ "plugin_id": "abc" })), 404, "plugin abc"),
        ("POST", format!("{base}/plugins/share_filter/dry-run"), Some(json!({ "config": "{}" })), 422, "plugin_id"),
        ("POST", "/v1/test/clock".into(), Some(json!({ "now": "yesterday" })), 422, "RFC 3339"),
        ("POST", "/v1/test/clock".into(), Some(json!({ "now": "2020-01-01T00:00:00Z" })), 409, "forward"),
    ];
    for (method, path, body, expected, hint) in cases {
        let token = if path.starts_with("/v1/practices/") { &ta } else { OPERATOR };
        let (status, value) = server.call(method, &path, Some(token), body).await;
        assert_eq!(status, expected, "{method} {path}: {value}");
        let message = value["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(hint), "{method} {path}: `{hint}` not in `{message}`");
    }
    // Malformed JSON, a missing content type, an oversized body, no token, a wrong token.
    let (status, _) =
        server.send("POST", "/v1/practices", Some(OPERATOR), "application/json", b"{\"name\":".to_vec()).await;
    assert_eq!(status, 400);
    let (status, _) = server.send("POST", "/v1/practices", Some(OPERATOR), "", b"{}".to_vec()).await;
    assert_eq!(status, 415);
    let big = json!({ "name": "x".repeat(MAX_BODY), "timezone": "UTC" }).to_string().into_bytes();
    let (status, _) = server.send("POST", "/v1/practices", Some(OPERATOR), "application/json", big).await;
    assert_eq!(status, 413);
    assert_eq!(server.call("GET", "/v1/practices", None, None).await.0, 401);
    assert_eq!(server.call("GET", "/v1/practices", Some("not-a-token"), None).await.0, 401);

    // Plugins: not wasm, a core module, the wrong contract, one that fails the kit's invariants;
    // a real one is accepted and tried.
    for (bytes, code, hint) in [
        (b"hello".to_vec(), "invalid_plugin", "not WebAssembly"),
        (b"\0asm\x01\0\0\0".to_vec(), "invalid_plugin", "core WebAssembly module"),
        (
            std::fs::read(autobill::plugin::artifacts::WRONG_CONTRACT).expect("fixture"),
            "invalid_plugin",
            "this host serves",
        ),
        (
            std::fs::read(autobill::plugin::artifacts::TRAP).expect("fixture"),
            "failed_conformance",
            "FAIL  share_filter/empty-input",
        ),
    ] {
        let (status, value) = server.send("POST", "/v1/plugins", Some(OPERATOR), "application/wasm", bytes).await;
        assert_eq!(status, 422, "{value}");
        assert_eq!(value["error"]["code"], code, "{value}");
        assert!(value["error"]["message"].as_str().unwrap_or_default().contains(hint), "{value}");
    }
    let plugin = std::fs::read(autobill::plugin::artifacts::SHARE_SUPERBILLS_ONLY).expect("example plugin");
    let (status, uploaded) = server.send("POST", "/v1/plugins", Some(OPERATOR), "application/wasm", plugin).await;
    assert_eq!(status, 201, "{uploaded}");
    let plugin_id = uploaded["id"].as_str().expect("an id").to_string();
    assert_eq!(server.list("/v1/plugins", OPERATOR).await.as_array().map(Vec::len), Some(1));
    let (status, value) = server
        .call("PUT", &format!("{base}/plugins/bill_cadence"), Some(&ta), Some(json!({ "plugin_id": plugin_id })))
        .await;
    assert_eq!(status, 422, "it fills only share_filter: {value}");
    let assigned = server
        .ok("PUT", &format!("{base}/plugins/share_filter"), &ta, Some(json!({ "plugin_id": plugin_id, "config": "" })))
        .await;
    assert_eq!(assigned["plugin_id"], plugin_id);
    let dry = server.ok("POST", &format!("{base}/plugins/bill_cadence/dry-run"), &ta, Some(json!({}))).await;
    assert!(dry["bill_run_dates"].as_array().is_some_and(|dates| dates.len() >= 30), "{dry}");

    // Nothing above wrote anything.
    let practices = server.list("/v1/practices", OPERATOR).await;
    assert_eq!(practices.as_array().map(Vec::len), Some(1));
    let automation = server.ok("GET", &format!("{base}/automation"), &ta, None).await;
    assert_eq!(automation["automation"]["share_delay_minutes"], 60);
    assert_eq!(automation["automation"]["bills"], "daily");
    assert_eq!(server.list(&format!("{base}/services"), &ta).await, json!([]));
    assert_eq!(server.list(&format!("{base}/clients"), &ta).await, json!([]));
    // An appointment with an unknown service and client is refused whole.
    let (status, value) = server
        .call(
            "POST",
            &format!("{base}/appointments"),
            Some(&ta),
            Some(json!({ "reference": "a", "client_id": 77, "starts_at": "2026-01-05T10:00", "services": ["NOPE"] })),
        )
        .await;
    assert_eq!(status, 422);
    let message = value["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("service `NOPE`") && message.contains("client 77"), "{message}");
    assert_eq!(server.list(&format!("{base}/appointments"), &ta).await, json!([]));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_practice_token_sees_only_its_own_practice() {
    let server = Server::start(at("2026-01-04T12:00:00Z")).await;
    let (pa, ta) = practice(&server, "Lakeside", "daily").await;
    let (pb, tb) = practice(&server, "Hillside", "daily").await;
    // Practice B has one of everything.
    let b = format!("/v1/practices/{pb}");
    server.ok("POST", &format!("{b}/services"), &tb, Some(json!({ "code": "S", "name": "S", "fee": 100 }))).await;
    let client = id(&server
        .ok(
            "POST",
            &format!("{b}/clients"),
            &tb,
            Some(json!({ "reference": "c", "name": "C", "autopay": true, "card": "visa" })),
        )
        .await);
    let appointment = json!({ "reference": "a", "client_id": client, "starts_at": "2026-01-05T10:00", "status": "completed", "services": ["S"] });
    let appointment = id(&server.ok("POST", &format!("{b}/appointments"), &tb, Some(appointment)).await);
    server.set_clock(at("2026-01-06T07:00:00Z")).await;
    let bill = id(&server.list(&format!("{b}/bills"), &tb).await[0]);
    let token = id(&server.list(&format!("{b}/tokens"), &tb).await[0]);

    let practice_routes: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", String::new(), None),
        ("PATCH", String::new(), Some(json!({ "place_of_service": "02" }))),
        ("GET", "/automation".into(), None),
        ("PATCH", "/automation".into(), Some(json!({ "autopay": false }))),
        ("GET", "/services".into(), None),
        ("POST", "/services".into(), Some(json!({ "code": "T", "name": "T", "fee": 1 }))),
        ("GET", "/clients".into(), None),
        ("POST", "/clients".into(), Some(json!({ "reference": "x", "name": "X" }))),
        ("GET", format!("/clients/{client}"), None),
        ("PATCH", format!("/clients/{client}"), Some(json!({ "autopay": false }))),
        ("GET", "/appointments".into(), None),
        (
            "POST",
            "/appointments".into(),
            Some(json!({ "reference": "z", "client_id": client, "starts_at": "2026-01-07T10:00", "services": ["S"] })),
        ),
        ("GET", format!("/appointments/{appointment}"), None),
        ("POST", format!("/appointments/{appointment}/complete"), None),
        ("POST", format!("/appointments/{appointment}/cancel"), None),
        ("GET", "/bills".into(), None),
        ("GET", format!("/bills/{bill}"), None),
        ("POST", format!("/bills/{bill}/open"), None),
        ("POST", format!("/bills/{bill}/products"), Some(json!({ "name": "Fee", "amount": 1 }))),
        ("POST", format!("/bills/{bill}/void"), None),
        ("GET", "/superbills".into(), None),
        ("GET", format!("/bills/{bill}/pdf"), None),
        ("GET", "/superbills/1".into(), None),
        ("GET", "/superbills/1/pdf".into(), None),
        ("GET", "/payments".into(), None),
        ("GET", "/payment-attempts".into(), None),
        ("GET", "/shares".into(), None),
        ("GET", "/runs".into(), None),
        ("GET", "/events".into(), None),
        ("GET", "/plugins".into(), None),
        ("PUT", "/plugins/share_filter".into(), Some(json!({ "plugin_id": "x" }))),
        ("POST", "/plugins/share_filter/dry-run".into(), Some(json!({}))),
        ("GET", "/tokens".into(), None),
        ("DELETE", format!("/tokens/{token}"), None),
    ];
    for (method, rest, body) in &practice_routes {
        // A's token on B's practice: as if it did not exist.
        let (status, value) = server.call(method, &format!("{b}{rest}"), Some(&ta), body.clone()).await;
        assert_eq!(status, 404, "{method} {b}{rest} with another practice's token: {value}");
        // A's token on A's practice, naming B's rows: not found either.
        if rest.contains(&client.to_string())
            || rest.contains(&format!("/{bill}"))
            || rest.contains(&format!("/{appointment}"))
        {
            let (status, value) =
                server.call(method, &format!("/v1/practices/{pa}{rest}"), Some(&ta), body.clone()).await;
            assert_eq!(status, 404, "{method} /v1/practices/{pa}{rest}: {value}");
        }
    }
    for (method, path) in [
        ("POST", "/v1/practices".to_string()),
        ("POST", format!("/v1/practices/{pa}/tokens")),
        ("POST", "/v1/plugins".into()),
        ("GET", "/v1/plugins".into()),
        ("POST", "/v1/test/clock".into()),
    ] {
        let body = if path.ends_with("clock") {
            Some(json!({ "now": "2026-02-01T00:00:00Z" }))
        } else if method == "POST" && path == "/v1/practices" {
            Some(json!({ "name": "Z", "timezone": "UTC" }))
        } else {
            None
        };
        let (status, value) = server.call(method, &path, Some(&ta), body).await;
        assert_eq!(status, 403, "{method} {path} is the operator's: {value}");
    }
    let (status, value) = server.call("DELETE", &format!("/v1/practices/{pa}/tokens/{token}"), Some(&ta), None).await;
    assert_eq!(status, 404, "A cannot revoke B's token through its own practice: {value}");
    server.list(&format!("{b}/tokens"), &tb).await;
    // A practice token lists only its own practice, and B's data is untouched.
    let listed = server.list("/v1/practices", &ta).await;
    assert_eq!(listed.as_array().map(|p| p.iter().map(id).collect::<Vec<_>>()), Some(vec![pa]));
    let bills = server.list(&format!("{b}/bills"), &tb).await;
    assert_eq!(bills.as_array().map(Vec::len), Some(1));
    assert_eq!(bills[0]["total"], 100);
    assert_eq!(server.ok("GET", &format!("{b}/automation"), &tb, None).await["automation"]["autopay"], true);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn practice_details_and_birth_dates_are_checked_on_create_and_change() {
    let server = Server::start(at("2026-01-04T12:00:00Z")).await;
    let practice = json!({
        "name": "Lakeside", "timezone": "America/New_York", "email": "billing@lakeside.example",
        "provider": { "name": "Dana Reyes", "credentials": "LCSW", "npi": "1679576722" }, "place_of_service": "10",
    });
    let created = server.ok("POST", "/v1/practices", OPERATOR, Some(practice)).await;
    assert_eq!(created["email"], "billing@lakeside.example");
    assert_eq!(created["provider"], json!({ "name": "Dana Reyes", "credentials": "LCSW", "npi": "1679576722" }));
    assert_eq!(created["place_of_service"], "10");
    let pid = id(&created);
    let base = format!("/v1/practices/{pid}");
    let token = server.ok("POST", &format!("{base}/tokens"), OPERATOR, None).await["token"]
        .as_str()
        .expect("a token")
        .to_string();
    let plain = server.ok("POST", "/v1/practices", OPERATOR, Some(json!({ "name": "Plain", "timezone": "UTC" }))).await;
    assert_eq!((&plain["place_of_service"], &plain["email"]), (&json!("11"), &json!("")), "office, no sender");

    // Every problem at once, each with what to do, and nothing written.
    let bad = json!({
        "name": "Bad", "timezone": "UTC", "email": "billing@", "place_of_service": "office",
        "provider": { "npi": "123" },
    });
    let (status, value) = server.call("POST", "/v1/practices", Some(OPERATOR), Some(bad)).await;
    assert_eq!(status, 422, "{value}");
    let message = value["error"]["message"].as_str().unwrap_or_default();
    for hint in
        ["email `billing@` is not an email address", "place_of_service `office`", "11 (office)", "provider.npi `123`"]
    {
        assert!(message.contains(hint), "`{hint}` not in `{message}`");
    }
    assert_eq!(server.list("/v1/practices", OPERATOR).await.as_array().map(Vec::len), Some(2));

    // A change keeps what it leaves out; a bad change changes nothing, not even its good keys.
    let changed = server
        .ok("PATCH", &base, &token, Some(json!({ "place_of_service": "02", "provider": { "name": "Sam Lee" } })))
        .await;
    assert_eq!(changed["place_of_service"], "02");
    assert_eq!(changed["provider"], json!({ "name": "Sam Lee", "credentials": "LCSW", "npi": "1679576722" }));
    assert_eq!(changed["timezone"], "America/New_York");
    let (status, value) =
        server.call("PATCH", &base, Some(&token), Some(json!({ "name": "Renamed", "place_of_service": "2" }))).await;
    assert_eq!(status, 422, "{value}");
    assert!(value["error"]["message"].as_str().unwrap_or_default().contains("place_of_service `2`"), "{value}");
    let (status, value) = server.call("PATCH", &base, Some(&token), Some(json!({ "timezone": "UTC" }))).await;
    assert_eq!(status, 422, "the time zone stays as created: {value}");
    let read = server.ok("GET", &base, &token, None).await;
    assert_eq!((&read["name"], &read["place_of_service"]), (&json!("Lakeside"), &json!("02")));
    let removed = server.ok("PATCH", &base, &token, Some(json!({ "email": "" }))).await;
    assert_eq!(removed["email"], "", "an empty email goes back to the host's placeholder sender");

    // A client's date of birth: ISO, not in the future (the practice's today is 2026-01-04).
    let client = |birth: &str| json!({ "reference": format!("c{birth}"), "name": "Ana", "birth_date": birth });
    let ana = server.ok("POST", &format!("{base}/clients"), &token, Some(client("1990-04-12"))).await;
    assert_eq!(ana["birth_date"], "1990-04-12");
    for (birth, hint) in [
        ("12/04/1990", "not a date in the form YYYY-MM-DD"),
        ("1990-02-30", "not a date in the form YYYY-MM-DD"),
        ("2026-01-05", "in the future"),
        ("1019-04-12", "check the year"),
    ] {
        let (status, value) = server.call("POST", &format!("{base}/clients"), Some(&token), Some(client(birth))).await;
        assert_eq!(status, 422, "{birth}: {value}");
        assert!(value["error"]["message"].as_str().unwrap_or_default().contains(hint), "{birth}: {value}");
    }
    let path = format!("{base}/clients/{}", id(&ana));
    let (status, _) = server
        .call("PATCH", &path, Some(&token), Some(json!({ "name": "Ana Alvarez", "birth_date": "2030-01-01" })))
        .await;
    assert_eq!(status, 422);
    let kept = server.ok("GET", &path, &token, None).await;
    assert_eq!((&kept["name"], &kept["birth_date"]), (&json!("Ana"), &json!("1990-04-12")), "nothing changed");
    let today = server.ok("PATCH", &path, &token, Some(json!({ "birth_date": "2026-01-04" }))).await;
    assert_eq!(today["birth_date"], "2026-01-04", "born today is not the future");
    let removed = server.ok("PATCH", &path, &token, Some(json!({ "birth_date": "" }))).await;
    assert_eq!(removed["birth_date"], Value::Null);
    assert_eq!(server.list(&format!("{base}/clients"), &token).await.as_array().map(Vec::len), Some(1));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_token_being_replaced_works_until_it_is_removed() {
    let server = Server::start(at("2026-01-04T12:00:00Z")).await;
    for token in [OPERATOR, OLD_OPERATOR] {
        let practice = server
            .ok("POST", "/v1/practices", token, Some(json!({ "name": "Lakeside", "timezone": "America/New_York" })))
            .await;
        server.ok("POST", &format!("/v1/practices/{}/tokens", id(&practice)), token, None).await;
    }
    let (status, _) = server.call("GET", "/v1/plugins", Some("not-the-operator-token-0123456789abcdef"), None).await;
    assert_eq!(status, 401, "a token that is neither the new nor the old one");
    server.stop().await;
}

/// Opens a connection and sends `bytes`, the start of a request it never finishes.
async fn stalled(addr: SocketAddr, bytes: &[u8]) -> TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(bytes).await.expect("a partial request");
    stream
}

/// Reads until the server closes the connection or `within` runs out; gives what was read, or
/// `None` when the connection was still open.
async fn read_until_closed(stream: &mut TcpStream, within: std::time::Duration) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut answer = vec![];
    let closed = tokio::time::timeout(within, async {
        let mut buffer = [0u8; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    closed.ok().map(|()| String::from_utf8_lossy(&answer).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let server = Server::start_with(at("2026-01-04T12:00:00Z"), "header_read_timeout_seconds = 1").await;
    let mut stream = stalled(server.addr, b"GET /healthz HTTP/1.1\r\nHost: autobill.test\r\n").await;
    let answer = read_until_closed(&mut stream, std::time::Duration::from_secs(10)).await;
    assert!(answer.is_some(), "the connection is closed once the header-read timeout runs out");
    let (status, _) = server.call("GET", "/healthz", None, None).await;
    assert_eq!(status, 200, "other clients are served meanwhile");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_stops_arriving_is_refused_with_a_message() {
    let server = Server::start_with(at("2026-01-04T12:00:00Z"), "body_read_timeout_seconds = 1").await;
    let head = format!(
        "POST /v1/practices HTTP/1.1\r\nHost: autobill.test\r\nAuthorization: Bearer {OPERATOR}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"name\": \"Lake"
    );
    let mut stream = stalled(server.addr, head.as_bytes()).await;
    let answer = read_until_closed(&mut stream, std::time::Duration::from_secs(10)).await.unwrap_or_default();
    let status_line = answer.lines().next().unwrap_or_default();
    assert!(status_line.starts_with("HTTP/1.1 408"), "a 408 once the body-read timeout runs out: {answer:?}");
    assert!(answer.contains("body-read timeout"), "the answer says the body timed out: {answer:?}");
    let practices = server.list("/v1/practices", OPERATOR).await;
    assert_eq!(practices.as_array().map(Vec::len), Some(0), "nothing was made: {practices}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_stops_by_its_shutdown_deadline_while_clients_stall() {
    let server = Server::start_with(
        at("2026-01-04T12:00:00Z"),
        "shutdown_timeout_seconds = 2\nheader_read_timeout_seconds = 600\nbody_read_timeout_seconds = 600\nrequest_timeout_seconds = 600",
    )
    .await;
    let mut clients = vec![];
    for _ in 0..50 {
        clients.push(stalled(server.addr, b"GET /healthz HTTP/1.1\r\nHost: autobill.test\r\n").await);
    }
    let head = format!(
        "POST /v1/practices HTTP/1.1\r\nHost: autobill.test\r\nAuthorization: Bearer {OPERATOR}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"name\""
    );
    clients.push(stalled(server.addr, head.as_bytes()).await);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let asked = std::time::Instant::now();
    server.stop().await;
    let took = asked.elapsed();
    assert!(
        took < std::time::Duration::from_secs(3),
        "serve stops within its 2 s shutdown deadline + 1 s with 51 stalled clients; it took {took:?}"
    );
    for client in &mut clients {
        let closed = read_until_closed(client, std::time::Duration::from_secs(1)).await;
        assert!(closed.is_some(), "every stalled connection was closed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_wait_until_one_closes() {
    let server =
        Server::start_with(at("2026-01-04T12:00:00Z"), "max_connections = 2\nheader_read_timeout_seconds = 600").await;
    let first = stalled(server.addr, b"GET /healthz HTTP/1.1\r\n").await;
    let second = stalled(server.addr, b"GET /healthz HTTP/1.1\r\n").await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let waiting = tokio::spawn({
        let addr = server.addr;
        async move {
            let mut third =
                stalled(addr, b"GET /healthz HTTP/1.1\r\nHost: autobill.test\r\nConnection: close\r\n\r\n").await;
            read_until_closed(&mut third, std::time::Duration::from_secs(30)).await
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(!waiting.is_finished(), "a third connection is not served while two are open");
    drop(first);
    let answer = waiting.await.expect("the third client").unwrap_or_default();
    assert!(answer.starts_with("HTTP/1.1 200"), "it is served once a connection closes: {answer:?}");
    drop(second);
    server.stop().await;
}

/// Text with a control character, and times outside the years a service can be, are refused with
/// a message naming the problem; on PostgreSQL too, which refuses NUL in text itself.
async fn text_and_dates_out_of_bounds_are_refused(server: Server) {
    let (pa, ta) = practice(&server, "Lakeside", "daily").await;
    let base = format!("/v1/practices/{pa}");
    server
        .ok("POST", &format!("{base}/services"), &ta, Some(json!({ "code": "T", "name": "Therapy", "fee": 100 })))
        .await;
    let client =
        server.ok("POST", &format!("{base}/clients"), &ta, Some(json!({ "reference": "r", "name": "Ana" }))).await;
    let cases: Vec<(&str, String, Value, &str)> = vec![
        ("POST", "/v1/practices".into(), json!({ "name": "a\u{0}b", "timezone": "UTC" }), "U+0000"),
        ("POST", format!("{base}/clients"), json!({ "reference": "r2", "name": "a\u{0}b" }), "U+0000"),
        ("POST", format!("{base}/services"), json!({ "code": "X", "name": "line\nbreak", "fee": 1 }), "U+000A"),
        (
            "POST",
            format!("{base}/appointments"),
            json!({ "reference": "old", "client_id": id(&client), "starts_at": "0001-01-01T00:00", "services": ["T"] }),
            "1900 to 2100",
        ),
        (
            "POST",
            format!("{base}/appointments"),
            json!({ "reference": "far", "client_id": id(&client), "starts_at": "9999-12-31T23:59", "services": ["T"] }),
            "1900 to 2100",
        ),
    ];
    for (method, path, body, hint) in cases {
        let token = if path.starts_with("/v1/practices/") { &ta } else { OPERATOR };
        let (status, value) = server.call(method, &path, Some(token), Some(body)).await;
        assert_eq!(status, 422, "{method} {path}: {value}");
        let message = value["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(hint), "{method} {path}: `{hint}` not in `{message}`");
    }
    let appointments = server.list(&format!("{base}/appointments"), &ta).await;
    assert_eq!(appointments.as_array().map(Vec::len), Some(0), "nothing was stored: {appointments}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_and_dates_out_of_bounds_are_refused_on_sqlite() {
    text_and_dates_out_of_bounds_are_refused(Server::start(at("2026-01-04T12:00:00Z")).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_and_dates_out_of_bounds_are_refused_on_postgres() {
    let admin = support::postgres_admin_url();
    let database = support::fresh_postgres_database(&admin, "api_bounds").await;
    let dir = tempfile::tempdir().expect("a temporary folder");
    text_and_dates_out_of_bounds_are_refused(
        Server::start_on(at("2026-01-04T12:00:00Z"), "", "", dir, database.clone()).await,
    )
    .await;
    support::drop_postgres_database(&admin, &database).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_authorization_scheme_is_case_insensitive() {
    let server = Server::start(at("2026-01-04T12:00:00Z")).await;
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let (status, _, _) =
            server.exchange_with_authorization("GET", "/v1/practices", &format!("{scheme} {OPERATOR}")).await;
        assert_eq!(status, 200, "`{scheme}` is the bearer scheme");
    }
    let (status, _, _) = server.exchange_with_authorization("GET", "/v1/practices", &format!("Basic {OPERATOR}")).await;
    assert_eq!(status, 401, "another scheme is not");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn practice_tokens_are_listed_without_the_secret_and_refused_once_revoked_or_expired() {
    let server = Server::start(at("2026-01-04T12:00:00Z")).await;
    let practice = server
        .ok("POST", "/v1/practices", OPERATOR, Some(json!({ "name": "Lakeside", "timezone": "America/New_York" })))
        .await;
    let tokens = format!("/v1/practices/{}/tokens", id(&practice));
    let desk = server.ok("POST", &tokens, OPERATOR, Some(json!({ "name": "front desk" }))).await;
    let brief = server.ok("POST", &tokens, OPERATOR, Some(json!({ "expires_in_days": 1 }))).await;
    let (desk_secret, brief_secret) =
        (desk["token"].as_str().unwrap_or_default(), brief["token"].as_str().unwrap_or_default());
    assert_eq!(brief["expires_at"], "2026-01-05T12:00:00+00:00", "{brief}");

    let listed = server.list(&tokens, desk_secret).await;
    let text = listed.to_string();
    assert!(!text.contains(desk_secret) && !text.contains(brief_secret), "a list never shows a token: {text}");
    let rows = listed.as_array().expect("a list");
    assert_eq!(rows.len(), 2);
    let desk_row = rows.iter().find(|row| row["id"] == desk["id"]).expect("the desk token");
    assert_eq!(
        (desk_row["name"].as_str(), desk_row["prefix"].as_str()),
        (Some("front desk"), Some(&desk_secret[..12]))
    );
    assert!(desk_row["last_used_at"].is_string(), "the list call used it: {desk_row}");

    for (body, hint) in [(json!({ "expires_in_days": 0 }), "1 to 3650"), (json!({ "colour": "red" }), "colour")] {
        let (status, value) = server.call("POST", &tokens, Some(OPERATOR), Some(body)).await;
        assert_eq!(status, 422, "{value}");
        assert!(value["error"]["message"].as_str().unwrap_or_default().contains(hint), "{value}");
    }
    let (status, _) = server.call("POST", &tokens, Some(desk_secret), None).await;
    assert_eq!(status, 403, "only the operator makes tokens");

    let (status, _, body) =
        server.exchange("DELETE", &format!("{tokens}/{}", id(&desk)), Some(desk_secret), "", vec![]).await;
    assert_eq!((status, body.len()), (204, 0), "a practice may revoke its own token");
    let (status, value) = server.call("GET", &tokens, Some(desk_secret), None).await;
    assert_eq!(status, 401, "a revoked token is refused on the next request");
    assert!(value["error"]["message"].as_str().unwrap_or_default().contains("revoked"), "{value}");
    let (status, _) = server.call("DELETE", &format!("{tokens}/{}", id(&desk)), Some(OPERATOR), None).await;
    assert_eq!(status, 404, "a token is revoked once");

    server.list(&tokens, brief_secret).await;
    server.set_clock(at("2026-01-05T12:00:00Z")).await;
    let (status, value) = server.call("GET", &tokens, Some(brief_secret), None).await;
    assert_eq!(status, 401, "an expired token is refused");
    assert!(
        value["error"]["message"].as_str().unwrap_or_default().contains("expired at 2026-01-05T12:00:00"),
        "{value}"
    );
    server.stop().await;
}

/// The webhook endpoint's signing secret in the Stripe events test.
const WEBHOOK_SECRET: &str = "whsec_api_test_5b1e0c9d";

/// A `Stripe-Signature` header for `body` at `timestamp`, signed as Stripe documents it.
fn stripe_signature(secret: &str, timestamp: i64, body: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{timestamp}.{body}").as_bytes());
    format!("t={timestamp},v1={}", hex::encode(mac.finalize().into_bytes()))
}

impl Server {
    /// Delivers a Stripe event as Stripe does: no token, the body as signed, the signature header.
    async fn deliver(&self, body: &str, signature: Option<&str>) -> (u16, Value) {
        let headers: Vec<(&str, &str)> = signature.map(|value| ("stripe-signature", value)).into_iter().collect();
        let (status, _, bytes) = self
            .exchange_raw("POST", "/v1/stripe/events", None, "application/json", &headers, body.as_bytes().to_vec())
            .await;
        let value: Value = serde_json::from_slice(&bytes).expect("a JSON answer");
        assert_ne!(status, 500, "{value}");
        (status, value)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_events_are_verified_answered_and_recorded_once() {
    let now = at("2026-01-06T17:00:00Z");
    let body = json!({
        "id": "evt_1QxYz2eZvKYlo2C",
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": now.timestamp(),
        "type": "charge.refunded",
        "livemode": false,
        "pending_webhooks": 1,
        "data": { "object": {
            "id": "ch_3QxYz2eZvKYlo2C", "object": "charge", "amount": 15000, "amount_refunded": 15000,
            "currency": "usd", "payment_intent": "pi_3QxYz2eZvKYlo2C", "refunded": true, "status": "succeeded"
        }}
    })
    .to_string();
    let good = stripe_signature(WEBHOOK_SECRET, now.timestamp(), &body);

    let without = Server::start(now).await;
    let (status, answer) = without.deliver(&body, Some(&good)).await;
    assert_eq!(status, 404, "no webhook secret, no endpoint: {answer}");
    assert!(answer["error"]["message"].as_str().unwrap_or_default().contains("webhook_secret"), "{answer}");
    without.stop().await;

    let stripe = format!(
        "[stripe]\nsecret_key = \"sk_test_api_webhooks\"\napi_base = \"http://127.0.0.1:9\"\nwebhook_secret = \"{WEBHOOK_SECRET}\"\n"
    );
    let server = Server::start_with_sections(now, "", &stripe).await;
    let refused = |answer: &Value| answer["error"]["code"].as_str().unwrap_or_default().to_string();
    let (status, answer) = server.deliver(&body, None).await;
    assert_eq!((status, refused(&answer).as_str()), (400, "bad_signature"), "unsigned: {answer}");
    let wrong = stripe_signature("whsec_another_endpoint", now.timestamp(), &body);
    let (status, answer) = server.deliver(&body, Some(&wrong)).await;
    assert_eq!((status, refused(&answer).as_str()), (400, "bad_signature"), "wrong secret: {answer}");
    assert!(answer["error"]["message"].as_str().unwrap_or_default().contains("AUTOBILL_STRIPE_WEBHOOK_SECRET"));
    let stale = stripe_signature(WEBHOOK_SECRET, now.timestamp() - 301, &body);
    let (status, answer) = server.deliver(&body, Some(&stale)).await;
    assert_eq!((status, refused(&answer).as_str()), (400, "stale"), "older than the tolerance: {answer}");
    let unreadable = "{\"not\": \"an event\"}";
    let signed = stripe_signature(WEBHOOK_SECRET, now.timestamp(), unreadable);
    let (status, answer) = server.deliver(unreadable, Some(&signed)).await;
    assert_eq!((status, refused(&answer).as_str()), (400, "unreadable"), "{answer}");

    let (status, answer) = server.deliver(&body, Some(&good)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!((answer["event"].as_str(), answer["outcome"].as_str()), (Some("evt_1QxYz2eZvKYlo2C"), Some("ignored")));
    assert!(answer["reason"].as_str().unwrap_or_default().contains("pi_3QxYz2eZvKYlo2C"), "{answer}");
    let (status, answer) = server.deliver(&body, Some(&good)).await;
    assert_eq!((status, answer["outcome"].as_str()), (200, Some("duplicate")), "a retried delivery: {answer}");

    let (_, document) = server.call("GET", "/openapi.json", None, None).await;
    assert!(document["paths"]["/v1/stripe/events"]["post"].is_object(), "the endpoint is in the OpenAPI document");
    server.stop().await;
}

/// The served OpenAPI document is valid, as `openapi-spec-validator` (PyPI, installed by
/// `tests/run.sh`) checks it: unique operation ids, a description on every response.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_is_valid() {
    let server = Server::start(at("2026-01-04T12:00:00Z")).await;
    let (_, _, document) = server.exchange("GET", "/openapi.json", None, "", vec![]).await;
    server.stop().await;
    let parsed: Value = serde_json::from_slice(&document).expect("JSON");
    let mut ids = std::collections::HashSet::new();
    for (path, item) in parsed["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            let id = operation["operationId"].as_str().unwrap_or_default().to_string();
            assert!(ids.insert(id.clone()), "{method} {path}: operationId `{id}` is used twice");
            for (status, response) in operation["responses"].as_object().expect("responses") {
                let description = response["description"].as_str().unwrap_or_default();
                assert!(!description.is_empty(), "{method} {path} {status}: a response without a description");
            }
        }
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, &document).expect("the document is written");
    let checked = std::process::Command::new("openapi-spec-validator").arg(&file).output().unwrap_or_else(|error| {
        panic!(
            "openapi-spec-validator could not run ({error}); `pip install openapi-spec-validator`, as tests/run.sh does"
        )
    });
    let said = String::from_utf8_lossy(&checked.stdout).into_owned() + &String::from_utf8_lossy(&checked.stderr);
    assert!(checked.status.success(), "openapi-spec-validator refuses the document:\n{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_come_a_page_at_a_time_in_a_stable_order() {
    let server = Server::start(at("2026-01-04T12:00:00Z")).await;
    let (pa, ta) = practice(&server, "Lakeside", "daily").await;
    let services = format!("/v1/practices/{pa}/services");
    for n in 0..5 {
        server
            .ok("POST", &services, &ta, Some(json!({ "code": format!("S{n}"), "name": "Service", "fee": 100 })))
            .await;
    }
    let first = server.ok("GET", &format!("{services}?limit=2"), &ta, None).await;
    assert_eq!(first["data"].as_array().map(Vec::len), Some(2), "{first}");
    let next = first["next"].as_str().expect("a cursor to the next page");
    let second = server.ok("GET", &format!("{services}?limit=2&after={next}"), &ta, None).await;
    let codes: Vec<&str> = first["data"]
        .as_array()
        .into_iter()
        .chain(second["data"].as_array())
        .flatten()
        .filter_map(|service| service["code"].as_str())
        .collect();
    assert_eq!(codes, ["S0", "S1", "S2", "S3"], "pages follow one another in id order");
    let everything = server.ok("GET", &services, &ta, None).await;
    assert_eq!(everything["data"].as_array().map(Vec::len), Some(5), "the default page holds 50");
    assert_eq!(everything["next"], Value::Null, "the last page has no cursor");

    for (query, status, hint) in [
        ("?limit=0", 422, "give 1 to 500"),
        ("?limit=501", 422, "give 1 to 500"),
        ("?after=yesterday", 422, "not a cursor"),
        ("?limit=ten", 400, "?limit=1..500"),
        ("?colour=red", 400, "?limit=1..500"),
    ] {
        let (answer, value) = server.call("GET", &format!("{services}{query}"), Some(&ta), None).await;
        assert_eq!(answer, status, "{query}: {value}");
        assert!(value["error"]["message"].as_str().unwrap_or_default().contains(hint), "{query}: {value}");
    }
    server.stop().await;
}

/// A dry run of each slot with the practice's own policies answers at once (the share filter's
/// once waited on the database connection its own read held, until the request timed out).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_of_each_slot_with_the_practices_own_policy_answers() {
    let server = Server::start(at("2026-01-04T12:00:00Z")).await;
    let (pa, ta) = practice(&server, "Lakeside", "daily").await;
    for (slot, field) in
        [("bill_cadence", "bill_run_dates"), ("superbill_inclusion", "superbill_day"), ("share_filter", "shares")]
    {
        let path = format!("/v1/practices/{pa}/plugins/{slot}/dry-run");
        let answer =
            tokio::time::timeout(std::time::Duration::from_secs(10), server.ok("POST", &path, &ta, Some(json!({}))))
                .await
                .unwrap_or_else(|_| panic!("POST {path} did not answer within 10 s"));
        assert!(!answer[field].is_null(), "{slot}: {answer}");
    }
    server.stop().await;
}

/// schemathesis, pinned by `tests/run.sh` in a virtual environment under `target/`
/// (`AUTOBILL_SCHEMATHESIS` names another).
fn schemathesis() -> std::path::PathBuf {
    if let Ok(path) = std::env::var("AUTOBILL_SCHEMATHESIS") {
        return path.into();
    }
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace");
    let path = workspace.join("target/schemathesis/venv/bin/schemathesis");
    assert!(path.exists(), "schemathesis is not at {}; run tests/run.sh, which installs it", path.display());
    path
}

/// schemathesis runs every check against a live `serve` on SQLite with a practice token, bounded
/// in examples and time, and finds no 5xx and no answer the OpenAPI document does not allow.
/// Left out, each for its reason:
/// - `POST /v1/plugins` takes a WebAssembly component, which no generator makes valid; its own
///   cases are in `bad_input_is_a_4xx_with_a_message_and_changes_nothing`;
/// - `POST /v1/stripe/events` answers only deliveries signed with the webhook secret, which a
///   generator cannot sign; `stripe_events_are_verified_answered_and_recorded_once` covers it.
///
/// - the coverage phase: on this machine's Python 3.11, hypothesis describing one of that
///   phase's filters intermittently trips a CPython bug (`SystemError: AST constructor recursion
///   depth mismatch`), a crash of the tool rather than a finding; the examples, fuzzing and
///   stateful phases still test every operation.
///
/// Revoking a token is run on a second token of the practice's (revoking the one the run sends
/// would end it). The `positive_data_acceptance` check takes, besides 2xx: 403 and 404 for
/// operations the practice token may not call (the operator's) or ids that are not the
/// practice's, by design; 409 for a change the current state refuses; and 422 for what JSON
/// Schema does not express (an email address, an IANA time zone, a service code the practice
/// has, text without control characters), each refused with a message naming it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_and_no_answer_outside_the_document() {
    let server = Server::start(at("2026-01-04T12:00:00Z")).await;
    let (practice, token) = practice(&server, "Contract", "daily").await;
    let spare = server.ok("POST", &format!("/v1/practices/{practice}/tokens"), OPERATOR, None).await;
    let base = format!("/v1/practices/{practice}");
    server
        .ok("POST", &format!("{base}/services"), &token, Some(json!({ "code": "T", "name": "Therapy", "fee": 100 })))
        .await;
    // No client is made up front: the configuration pins `practice` to the practice's id, which
    // turns a negative case whose only fault is `practice` into a valid request, and a client
    // found by such a request would be reported as schema-violating data accepted.
    let dir = tempfile::tempdir().expect("a temporary folder");
    let config = dir.path().join("schemathesis.toml");
    std::fs::write(
        &config,
        format!(
            "headers = {{ Authorization = \"Bearer {token}\" }}\n\
             [parameters]\n\"path.practice\" = {practice}\n\"path.token\" = {}\n\
             [checks.positive_data_acceptance]\nexpected-statuses = [\"2XX\", \"403\", \"404\", \"409\", \"422\"]\n",
            id(&spare)
        ),
    )
    .expect("the configuration is written");
    let url = format!("http://{}/openapi.json", server.addr);
    let program = schemathesis();
    let run = tokio::task::spawn_blocking(move || {
        std::process::Command::new(program)
            .arg("--config-file")
            .arg(&config)
            .args(["run", &url, "--checks", "all", "--max-examples", "60", "--max-time", "120", "--seed", "1"])
            .args(["--phases", "examples,fuzzing,stateful"])
            .args(["--exclude-operation-id", "post_plugins", "--exclude-operation-id", "post_stripe_events"])
            .args(["--workers", "2", "--no-color"])
            .output()
    })
    .await
    .expect("the run")
    .expect("schemathesis runs");
    server.stop().await;
    let said = String::from_utf8_lossy(&run.stdout).into_owned() + &String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "schemathesis found problems:\n{said}");
}
