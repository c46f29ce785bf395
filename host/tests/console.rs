//! The console in a real browser: headless Chromium driven over WebDriver (chromedriver, started
//! here on 127.0.0.1) against a live `serve` on a simulated clock. Each flow saves a screenshot
//! under `target/console-screenshots/` and runs axe-core (npm, installed by `tests/run.sh` into
//! `target/axe/`) on every page it shows: a violation of impact "serious" or "critical" fails.
//!
//! The session and CSRF rules (cookie flags, the Content-Security-Policy, signing out, another
//! practice's pages, a POST without its token) are also checked over plain HTTP, where status
//! codes and headers can be read.

mod support;

use autobill::app::App;
use autobill::clock::SimulatedClock;
use autobill::config::{Config, Use};
use autobill::serve;
use chrono::{DateTime, Utc};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

const OPERATOR: &str = "operator-token-for-console-tests-0123456789";

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).expect("an RFC 3339 time").with_timezone(&Utc)
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace").to_path_buf()
}

/// A running `serve` on a simulated clock.
struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), serve::ServeError>>,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start(start: DateTime<Utc>) -> Server {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let database = format!("sqlite://{}", dir.path().join("autobill.db").display());
        Server::start_on(start, dir, &database, "").await
    }

    /// A server on `database`, with more configuration `sections` (e.g. `[console]`).
    async fn start_on(start: DateTime<Utc>, dir: tempfile::TempDir, database: &str, sections: &str) -> Server {
        let text = format!(
            "[server]\nlisten = \"127.0.0.1:0\"\noperator_token = \"{OPERATOR}\"\n\
             [database]\nurl = \"{database}\"\n[outbox]\ndir = \"{}\"\n[scheduler]\ntick_interval_seconds = 3600\n\
             [testing]\nsimulated_clock = true\n{sections}",
            dir.path().join("outbox").display()
        );
        let config = Config::from_table(&text.parse().expect("TOML"), Use::Serve).expect("a good configuration");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let addr = listener.local_addr().expect("an address");
        let (stop, stopped) = oneshot::channel::<()>();
        let app = App::start(config, Arc::new(SimulatedClock::new(start))).await.expect("the application starts");
        let task = tokio::spawn(serve::run(listener, app, async {
            let _ = stopped.await;
        }));
        let server = Server { addr, stop: Some(stop), task, _dir: dir };
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the server did not start");
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// An API call that must succeed; answers its JSON.
    async fn api(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Value {
        let authorization = format!("Bearer {token}");
        let mut headers = vec![("authorization", authorization.as_str())];
        let bytes = match &body {
            Some(body) => {
                headers.push(("content-type", "application/json"));
                body.to_string().into_bytes()
            }
            None => vec![],
        };
        let (status, _, bytes) = support::http_request(self.addr, method, path, &headers, bytes).await;
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        assert!((200..300).contains(&status), "{method} {path}: {status} {value}");
        value
    }

    async fn set_clock(&self, now: &str) {
        self.api("POST", "/v1/test/clock", OPERATOR, Some(json!({ "now": now }))).await;
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.await.expect("the server task").expect("a clean shutdown");
    }
}

/// Two practices with a service, and for the first, clients with and without email.
struct World {
    practice: i64,
    other: i64,
    token: String,
    ana: i64,
    ben: i64,
}

async fn world(server: &Server) -> World {
    let mut ids = vec![];
    for name in ["Lakeside Therapy", "Hillcrest Counseling"] {
        let practice = server
            .api(
                "POST",
                "/v1/practices",
                OPERATOR,
                Some(json!({ "name": name, "timezone": "America/New_York", "automation": { "bills": "manual", "share": true } })),
            )
            .await;
        ids.push(practice["id"].as_i64().expect("an id"));
    }
    let (practice, other) = (ids[0], ids[1]);
    let token = server.api("POST", &format!("/v1/practices/{practice}/tokens"), OPERATOR, None).await["token"]
        .as_str()
        .expect("a token")
        .to_string();
    let base = format!("/v1/practices/{practice}");
    server
        .api(
            "POST",
            &format!("{base}/services"),
            &token,
            Some(json!({ "code": "90837", "name": "Psychotherapy, 60 minutes", "fee": 16000, "cpt_code": "90837" })),
        )
        .await;
    let ana = server
        .api("POST", &format!("{base}/clients"), &token, Some(json!({ "reference": "ana", "name": "Ana Alvarez", "email": "ana@example.com", "card": "pm_card_visa" })))
        .await["id"]
        .as_i64()
        .expect("an id");
    let ben = server
        .api("POST", &format!("{base}/clients"), &token, Some(json!({ "reference": "ben", "name": "Ben Okafor" })))
        .await["id"]
        .as_i64()
        .expect("an id");
    World { practice, other, token, ana, ben }
}

/// chromedriver on 127.0.0.1 and a free port, stopped when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_driver() -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("a port").local_addr().expect("an address").port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|error| {
            panic!("chromedriver could not be started ({error}): install Debian's chromium and chromium-driver (tests/run.sh does)")
        });
    let driver = Driver { child, port };
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return driver;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("chromedriver did not listen on 127.0.0.1:{port}");
}

async fn browser(driver: &Driver) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({ "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,800", "--lang=en-US"] }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .unwrap_or_else(|error| panic!("headless Chromium did not start through chromedriver: {error}"))
}

/// The browser, with the checks every flow makes.
struct Browser {
    client: Client,
    axe: String,
    shots: PathBuf,
}

impl Browser {
    async fn go(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|error| panic!("{url}: {error}"));
    }

    async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client.find(Locator::Css(css)).await.unwrap_or_else(|error| panic!("no `{css}` on the page: {error}"))
    }

    async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.expect("its text")
    }

    async fn fill(&self, css: &str, value: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("cleared");
        field.send_keys(value).await.expect("typed");
    }

    async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap_or_else(|error| panic!("clicking `{css}`: {error}"));
    }

    /// Clicks a button that submits a form or follows a link, and waits for the next page.
    async fn submit(&self, css: &str) {
        self.client.execute("window.autobillOldPage = true;", vec![]).await.expect("marked");
        self.click(css).await;
        self.next_page(css).await;
    }

    /// Types `text` and Enter into a field, as a keyboard user sends a form, and waits for the
    /// next page.
    async fn type_and_enter(&self, css: &str, text: &str) {
        self.client.execute("window.autobillOldPage = true;", vec![]).await.expect("marked");
        let field = self.find(css).await;
        field.clear().await.expect("cleared");
        field.send_keys(&format!("{text}{}", char::from(fantoccini::key::Key::Enter))).await.expect("typed");
        self.next_page(css).await;
    }

    /// Waits until the page marked before an action has been replaced by the next.
    async fn next_page(&self, css: &str) {
        for _ in 0..200 {
            let loaded = self
                .client
                .execute("return window.autobillOldPage === undefined && document.readyState === 'complete';", vec![])
                .await
                .expect("the page answers");
            if loaded == Value::Bool(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("`{css}` led to no new page");
    }

    async fn body(&self) -> String {
        self.text("body").await
    }

    async fn path(&self) -> String {
        self.client.current_url().await.expect("a URL").path().to_string()
    }

    /// Scrolls `css` into view, then [`Browser::check`]s the page.
    async fn check_at(&self, name: &str, css: &str) {
        self.find(css).await;
        self.client
            .execute("document.querySelector(arguments[0]).scrollIntoView({block: 'center'});", vec![json!(css)])
            .await
            .expect("scrolled");
        self.check(name).await;
    }

    /// Saves a screenshot and fails on any serious or critical axe-core violation.
    async fn check(&self, name: &str) {
        let png = self.client.screenshot().await.expect("a screenshot");
        std::fs::write(self.shots.join(format!("{name}.png")), png).expect("the screenshot is saved");
        self.client.execute(&self.axe, vec![]).await.expect("axe-core is injected");
        let result = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] })
                   .then(r => done({ passes: r.passes.length, violations: r.violations
                     .filter(v => v.impact === 'serious' || v.impact === 'critical')
                     .map(v => v.id + ' (' + v.impact + '): ' + v.help + ' at ' + v.nodes.map(n => n.target.join(' ')).join(', ')) }))
                   .catch(e => done({ passes: 0, violations: ['axe failed: ' + e] }));",
                vec![],
            )
            .await
            .expect("axe-core runs");
        assert!(
            result["passes"].as_u64().is_some_and(|passes| passes > 10),
            "{name}: axe-core checked the page: {result}"
        );
        let violations: Vec<String> = serde_json::from_value(result["violations"].clone()).expect("a list");
        assert!(
            violations.is_empty(),
            "{name} ({}): accessibility violations:\n{}",
            self.path().await,
            violations.join("\n")
        );
    }

    async fn sign_in(&self, server: &Server, token: &str) {
        self.go(&server.url("/login")).await;
        self.fill("#token", token).await;
        self.submit("main button[type=submit]").await;
    }
}

/// The flows of the issue, one after another in one browser.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_and_operator_flows_in_headless_chromium() {
    let axe_path = workspace().join("target/axe/node_modules/axe-core/axe.min.js");
    let axe = std::fs::read_to_string(&axe_path).unwrap_or_else(|error| {
        panic!("axe-core is not at {} ({error}): run tests/run.sh, which installs it from npm", axe_path.display())
    });
    let shots = workspace().join("target/console-screenshots");
    std::fs::create_dir_all(&shots).expect("the screenshot folder");
    let server = Server::start(at("2026-01-05T14:00:00Z")).await;
    let w = world(&server).await;
    let driver = start_driver().await;
    let b = Browser { client: browser(&driver).await, axe, shots };
    let settings = server.url(&format!("/console/practices/{}/billing-settings", w.practice));

    // Staff sign in: a wrong token is refused next to the field, the practice's token opens its
    // billing settings.
    b.go(&server.url("/login")).await;
    b.check("01-sign-in").await;
    b.fill("#token", "not-a-token").await;
    b.submit("main button[type=submit]").await;
    assert!(b.text("#token-error").await.contains("not known"), "{}", b.body().await);
    b.check("02-sign-in-refused").await;
    b.sign_in(&server, &w.token).await;
    assert_eq!(b.path().await, format!("/console/practices/{}/billing-settings", w.practice));
    assert!(b.text("#automation-title").await.contains("Billing automation"));
    let next = b.text("#next-runs").await;
    assert!(next.contains("bills Jan 6, 2026, 12:00 AM EST"), "{next}");
    assert!(next.contains("superbills Feb 1, 2026, 12:00 AM EST") && next.contains("autopay off"), "{next}");

    // Change the automation settings and see the warning; a day out of range is refused with the
    // API's message next to its field.
    b.click("#bills-daily").await;
    b.fill("#superbill_day", "40").await;
    b.submit("main form button[type=submit]").await;
    assert_eq!(b.text("#superbill_day-error").await, "superbill_day is 40; choose a day from 1 to 31");
    b.check_at("03-settings-refused", "#superbill_day-error").await;
    b.fill("#superbill_day", "31").await;
    b.fill("#share_delay_minutes", "30").await;
    b.click("#autopay").await;
    b.submit("main form button[type=submit]").await;
    let warning = b.text(".warning").await;
    assert!(warning.contains("before autopay charges at 12:30 am"), "{warning}");
    let next = b.text("#next-runs").await;
    assert!(next.contains("superbills Jan 31, 2026") && next.contains("autopay Jan 6, 2026, 12:30 AM EST"), "{next}");
    let automation = server.api("GET", &format!("/v1/practices/{}/automation", w.practice), &w.token, None).await;
    assert_eq!(automation["automation"]["superbill_day"], 31, "the change reached the API: {automation}");
    b.check_at("04-billing-automation", ".warning").await;
    b.client.set_window_size(1280, 1700).await.expect("a tall window");
    let panel = b.find("section.panel").await.screenshot().await.expect("the panel's screenshot");
    std::fs::write(b.shots.join("04-billing-automation-panel.png"), panel).expect("the screenshot is saved");
    b.client.set_window_size(1280, 800).await.expect("the window size");
    b.click("#bills-manual").await;
    b.click("#autopay").await;
    b.submit("main form button[type=submit]").await;
    assert!(b.body().await.contains("Saved."), "{}", b.body().await);
    assert!(b.client.find(Locator::Css(".warning")).await.is_err(), "manual bills: no warning: {}", b.body().await);

    // Complete an appointment, move the clock, and find the pended bill; open it and add a product.
    let base = format!("/v1/practices/{}", w.practice);
    for (reference, client) in [("ana-1", w.ana), ("ben-1", w.ben)] {
        let appointment = server
            .api("POST", &format!("{base}/appointments"), &w.token, Some(json!({ "reference": reference, "client_id": client, "starts_at": "2026-01-05T10:00", "services": ["90837"] })))
            .await;
        let id = appointment["id"].as_i64().expect("an id");
        server.api("POST", &format!("{base}/appointments/{id}/complete"), &w.token, None).await;
    }
    server.set_clock("2026-01-06T05:05:00Z").await;
    b.go(&server.url(&format!("/console/practices/{}/bills", w.practice))).await;
    b.find("#status").await.select_by_value("pended").await.expect("a status");
    b.submit("main form button[type=submit]").await;
    assert!(b.body().await.contains("Pended"));
    b.check("05-pended-bills").await;
    let bills = server.api("GET", &format!("{base}/bills"), &w.token, None).await;
    let bill_of = |client: i64| {
        bills["data"].as_array().and_then(|rows| rows.iter().find(|row| row["client_id"] == client)).expect("a bill")["id"]
            .as_i64()
            .expect("an id")
    };
    let (ana_bill, ben_bill) = (bill_of(w.ana), bill_of(w.ben));
    b.submit(&format!("a[href$='/bills/{ana_bill}']")).await;
    b.fill("#product-name", "Card processing fee").await;
    b.fill("#product-amount", "three").await;
    b.submit("section.card button[type=submit]").await;
    assert!(b.text("#product-amount-error").await.contains("not an amount in USD"), "{}", b.body().await);
    b.fill("#product-amount", "3.50").await;
    b.submit("section.card button[type=submit]").await;
    let page = b.body().await;
    assert!(page.contains("Card processing fee") && page.contains("USD 163.50"), "{page}");
    b.submit("form[action$='/open'] button").await;
    assert_eq!(b.text("#bill-status").await, "Open");
    b.check_at("06-bill-opened", "#bill-status").await;
    let bill = server.api("GET", &format!("{base}/bills/{ana_bill}"), &w.token, None).await;
    assert_eq!((bill["status"].as_str(), bill["total"].as_i64()), (Some("open"), Some(16350)), "{bill}");

    // A client's skipped share and its reason: Ben has no email on file.
    server.api("POST", &format!("{base}/bills/{ben_bill}/open"), &w.token, None).await;
    server.set_clock("2026-01-06T15:00:00Z").await;
    b.go(&server.url(&format!("/console/practices/{}/clients", w.practice))).await;
    b.fill("#q", "okaf").await;
    b.submit("main form button[type=submit]").await;
    b.submit(&format!("a[href$='/clients/{}']", w.ben)).await;
    let page = b.body().await;
    assert!(page.contains("skipped") && page.contains("no email address on file"), "{page}");
    b.check_at("07-client-skipped-share", "#client-shares").await;
    b.go(&server.url(&format!("/console/practices/{}/bills/{ben_bill}", w.practice))).await;
    b.submit("form[action$='/void'] button").await;
    assert_eq!(b.text("#bill-status").await, "Void");
    b.go(&server.url(&format!("/console/practices/{}/shares", w.practice))).await;
    b.check("08-shares").await;
    for page in ["runs", "payments", "superbills"] {
        b.go(&server.url(&format!("/console/practices/{}/{page}", w.practice))).await;
        b.check(&format!("09-{page}")).await;
    }

    // A practice token cannot see another practice's pages.
    b.go(&server.url(&format!("/console/practices/{}/billing-settings", w.other))).await;
    assert!(b.text("h1").await.contains("Not found"), "{}", b.body().await);
    b.check("10-other-practice-not-found").await;

    // A POST without the CSRF token is refused, and nothing changes.
    b.go(&settings).await;
    b.client.execute("document.querySelector('main form input[name=csrf]').remove()", vec![]).await.expect("removed");
    b.fill("#superbill_day", "12").await;
    b.submit("main form button[type=submit]").await;
    assert!(b.body().await.contains("security token"), "{}", b.body().await);
    b.check("11-csrf-refused").await;
    let automation = server.api("GET", &format!("/v1/practices/{}/automation", w.practice), &w.token, None).await;
    assert_eq!(automation["automation"]["superbill_day"], 31, "{automation}");

    // Sign out; the operator uploads a plugin, dry-runs it and assigns it.
    b.go(&settings).await;
    b.submit("form.signout button").await;
    assert_eq!(b.path().await, "/login");
    b.go(&server.url("/login")).await;
    b.type_and_enter("#token", OPERATOR).await;
    assert_eq!(b.path().await, "/console/practices", "signed in with the keyboard alone");
    b.check("12-practices").await;
    b.fill("#practice-name", "Brookside Counseling").await;
    b.fill("#practice-timezone", "Mars/Olympus").await;
    b.submit("form[action='/console/practices'] button").await;
    let error = b.text("#practice-timezone-error").await;
    assert_eq!(error, "timezone: unknown time zone `Mars/Olympus`: use an IANA name such as America/New_York");
    b.fill("#practice-timezone", "America/Chicago").await;
    b.submit("form[action='/console/practices'] button").await;
    assert!(b.text("#next-runs").await.contains("12:00 AM CST"), "{}", b.body().await);
    b.go(&server.url("/console/plugins")).await;
    let not_wasm = tempfile::NamedTempFile::new().expect("a file");
    std::fs::write(not_wasm.path(), "hello").expect("written");
    b.find("#plugin-file").await.send_keys(&not_wasm.path().display().to_string()).await.expect("a file");
    b.submit("form[enctype] button").await;
    assert!(b.text("#plugin-file-error").await.contains("not WebAssembly"), "{}", b.body().await);
    b.fill("#plugin-name", "Superbills only").await;
    b.find("#plugin-file").await.send_keys(autobill::plugin::artifacts::SHARE_SUPERBILLS_ONLY).await.expect("a file");
    b.submit("form[enctype] button").await;
    let page = b.body().await;
    assert!(page.contains("Superbills only") && page.contains("share_filter") && page.contains("0.2."), "{page}");
    b.check("13-plugin-library").await;
    b.go(&server.url(&format!("/console/practices/{}/plugins", w.practice))).await;
    b.find("#slot").await.select_by_value("share_filter").await.expect("a slot");
    b.submit("button[value=dry-run]").await;
    let table = b.text("#dry-run").await;
    assert!(table.contains("bill") && table.contains("skip"), "the share filter skips bills: {table}");
    assert!(table.contains("Ana Alvarez"), "clients by name: {table}");
    b.check_at("14-dry-run", "#dry-run").await;
    b.submit("button[value=assign]").await;
    let assigned = server.api("GET", &format!("{base}/plugins"), OPERATOR, None).await;
    let share_filter =
        assigned.as_array().and_then(|slots| slots.iter().find(|slot| slot["slot"] == "share_filter")).expect("a slot");
    assert_ne!(share_filter["plugin_id"], "default", "{assigned}");
    b.check("15-assigned").await;

    // The operator makes a practice token, shown once, and it signs staff in.
    b.fill("#token-name", "front desk").await;
    b.submit("form[action$='/tokens'] button").await;
    let token = b.text("#new-token").await;
    assert!(token.starts_with("abt_"), "{token}");
    b.check("16-token-shown-once").await;
    b.submit("form.signout button").await;
    b.sign_in(&server, &token).await;
    assert_eq!(b.path().await, format!("/console/practices/{}/billing-settings", w.practice));

    b.client.close().await.expect("the browser closes");
    drop(driver);
    server.stop().await;
}

/// Signs in over HTTP; answers the session cookie (`name=value`) and the sign-in answer's headers.
async fn http_sign_in(server: &Server, token: &str) -> (String, hyper::HeaderMap) {
    let (status, headers, body) = support::http_exchange(server.addr, "GET", "/login", &[], vec![]).await;
    assert_eq!(status, 200);
    let login_cookie = cookie(&headers, "autobill_login");
    let form = format!("csrf={}&token={token}", csrf_of(&body));
    let (status, headers, _) = support::http_exchange(
        server.addr,
        "POST",
        "/login",
        &[("content-type", "application/x-www-form-urlencoded"), ("cookie", &login_cookie)],
        form.into_bytes(),
    )
    .await;
    assert_eq!(status, 303, "signed in");
    (cookie(&headers, "autobill_session"), headers)
}

/// The `name=value` of a `Set-Cookie` header.
fn cookie(headers: &hyper::HeaderMap, name: &str) -> String {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with(&format!("{name}=")))
        .and_then(|value| value.split(';').next())
        .unwrap_or_else(|| panic!("no {name} cookie in {headers:?}"))
        .to_string()
}

#[tokio::test]
async fn sessions_are_strict_http_only_cookies_and_end_on_sign_out_or_revocation() {
    let server = Server::start(at("2026-01-05T14:00:00Z")).await;
    let w = world(&server).await;
    let (session, headers) = http_sign_in(&server, &w.token).await;
    let set = headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("autobill_session="))
        .expect("a session cookie");
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict") && !set.contains("Secure"), "{set}");
    assert!(
        !headers.get("location").and_then(|l| l.to_str().ok()).unwrap_or_default().contains(&w.token),
        "no token in a URL"
    );
    let page = format!("/console/practices/{}/billing-settings", w.practice);
    let (status, headers, body) =
        support::http_exchange(server.addr, "GET", &page, &[("cookie", &session)], vec![]).await;
    assert_eq!(status, 200);
    assert!(!String::from_utf8_lossy(&body).contains(&w.token), "the token is never shown back");
    assert_eq!(
        headers
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.starts_with("default-src 'self'")),
        Some(true)
    );
    let csrf = csrf_of(&body);

    // Another practice's pages answer 404, like the API.
    for path in ["billing-settings", "clients", "bills", "shares", "runs", "payments"] {
        let other = format!("/console/practices/{}/{path}", w.other);
        let (status, _, _) = support::http_exchange(server.addr, "GET", &other, &[("cookie", &session)], vec![]).await;
        assert_eq!(status, 404, "{other}");
    }
    // A POST without the CSRF token, or with another, is refused and changes nothing.
    for form in [
        "superbill_day=12&share_delay_minutes=0&bills=daily".to_string(),
        "csrf=00&superbill_day=12&share_delay_minutes=0&bills=daily".to_string(),
    ] {
        let headers = [("cookie", session.as_str()), ("content-type", "application/x-www-form-urlencoded")];
        let (status, _, _) = support::http_exchange(server.addr, "POST", &page, &headers, form.into_bytes()).await;
        assert_eq!(status, 403);
    }
    let automation = server.api("GET", &format!("/v1/practices/{}/automation", w.practice), &w.token, None).await;
    assert_eq!(automation["automation"]["superbill_day"], 1);

    // Signing out ends the session on the server: the old cookie no longer opens a page.
    let headers = [("cookie", session.as_str()), ("content-type", "application/x-www-form-urlencoded")];
    let (status, _, _) =
        support::http_exchange(server.addr, "POST", "/logout", &headers, format!("csrf={csrf}").into_bytes()).await;
    assert_eq!(status, 303);
    let (status, headers, _) = support::http_exchange(server.addr, "GET", &page, &[("cookie", &session)], vec![]).await;
    assert_eq!((status, headers.get("location").and_then(|l| l.to_str().ok())), (303, Some("/login")));

    // Revoking the token ends the sessions it started.
    let (revoked, _) = http_sign_in(&server, &w.token).await;
    let (status, _, _) = support::http_exchange(server.addr, "GET", &page, &[("cookie", &revoked)], vec![]).await;
    assert_eq!(status, 200);
    let tokens = server.api("GET", &format!("/v1/practices/{}/tokens", w.practice), OPERATOR, None).await;
    let token_id = tokens["data"][0]["id"].as_i64().expect("a token id");
    let revoke = format!("/v1/practices/{}/tokens/{token_id}", w.practice);
    let authorization = format!("Bearer {OPERATOR}");
    let (status, _, _) =
        support::http_exchange(server.addr, "DELETE", &revoke, &[("authorization", &authorization)], vec![]).await;
    assert_eq!(status, 204);
    let (status, headers, _) = support::http_exchange(server.addr, "GET", &page, &[("cookie", &revoked)], vec![]).await;
    assert_eq!((status, headers.get("location").and_then(|l| l.to_str().ok())), (303, Some("/login")));
    server.stop().await;
}

/// Every page of a practice over HTTP on PostgreSQL, with bills, shares and a client search that
/// the console's own queries answer.
#[tokio::test]
async fn every_console_page_answers_on_postgresql() {
    let admin = support::postgres_admin_url();
    let database = support::fresh_postgres_database(&admin, "console").await;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let server = Server::start_on(at("2026-01-05T14:00:00Z"), dir, &database, "").await;
    let w = world(&server).await;
    let base = format!("/v1/practices/{}", w.practice);
    let appointment = server
        .api("POST", &format!("{base}/appointments"), &w.token, Some(json!({ "reference": "ben-1", "client_id": w.ben, "starts_at": "2026-01-05T10:00", "services": ["90837"] })))
        .await;
    let id = appointment["id"].as_i64().expect("an id");
    server.api("POST", &format!("{base}/appointments/{id}/complete"), &w.token, None).await;
    server.set_clock("2026-01-06T05:05:00Z").await;
    let bill =
        server.api("GET", &format!("{base}/bills"), &w.token, None).await["data"][0]["id"].as_i64().expect("a bill");
    server.api("POST", &format!("{base}/bills/{bill}/open"), &w.token, None).await;
    server.set_clock("2026-01-06T15:00:00Z").await;
    let (session, _) = http_sign_in(&server, &w.token).await;
    let practice = format!("/console/practices/{}", w.practice);
    for (path, expected) in [
        ("/billing-settings".to_string(), "Billing automation"),
        ("/clients?q=OKAF".to_string(), "Ben Okafor"),
        (format!("/clients?after={}", w.ana), "Ben Okafor"),
        ("/clients?q=50%25".to_string(), "No clients match"),
        (format!("/clients/{}", w.ben), "no email address on file"),
        ("/bills?status=open".to_string(), &format!("Bill {bill}")),
        ("/bills?status=pended".to_string(), "None yet"),
        (format!("/bills/{bill}"), "skipped: no email address on file"),
        ("/superbills".to_string(), "No superbills yet"),
        ("/shares".to_string(), "no email address on file"),
        ("/payments".to_string(), "Failed payments"),
        ("/runs".to_string(), "bill"),
    ] {
        let (status, _, body) =
            support::http_exchange(server.addr, "GET", &format!("{practice}{path}"), &[("cookie", &session)], vec![])
                .await;
        let body = String::from_utf8_lossy(&body);
        assert_eq!(status, 200, "{path}: {body}");
        assert!(body.contains(expected), "{path}: `{expected}` not in {body}");
    }
    // A run whose plugin fails shows the plugin's message (cut at the host's bound).
    let other = format!("/v1/practices/{}", w.other);
    // Stored straight in the database, as a plugin stored before it broke would be:
    // `POST /v1/plugins` refuses a plugin that fails the conformance kit, as this one does.
    let plugin = std::fs::read(autobill::plugin::artifacts::HUGE_ERROR).expect("the fixture plugin");
    let plugin_id = autobill::plugin::PluginId::of(&plugin).to_hex();
    let store = autobill::store::Store::connect(&database).await.expect("the server's database opens");
    store.save_plugin(&plugin_id, "huge-error", &plugin, chrono::Utc::now()).await.expect("the plugin is stored");
    server
        .api("PUT", &format!("{other}/plugins/bill_cadence"), OPERATOR, Some(json!({ "plugin_id": plugin_id })))
        .await;
    server
        .api(
            "POST",
            &format!("{other}/services"),
            OPERATOR,
            Some(json!({ "code": "90834", "name": "Psychotherapy, 45 minutes", "fee": 12000 })),
        )
        .await;
    let client = server
        .api("POST", &format!("{other}/clients"), OPERATOR, Some(json!({ "reference": "cy", "name": "Cy Park" })))
        .await;
    let appointment = server
        .api("POST", &format!("{other}/appointments"), OPERATOR, Some(json!({ "reference": "cy-1", "client_id": client["id"], "starts_at": "2026-01-06T10:00", "status": "completed", "services": ["90834"] })))
        .await;
    assert!(appointment["id"].is_i64());
    server.set_clock("2026-01-07T05:05:00Z").await;
    let (operator, _) = http_sign_in(&server, OPERATOR).await;
    let runs = format!("/console/practices/{}/runs", w.other);
    let (status, _, body) = support::http_exchange(server.addr, "GET", &runs, &[("cookie", &operator)], vec![]).await;
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 200);
    assert!(body.contains("failed") && body.contains("a very long reason: ") && body.contains("(cut;"), "{body}");
    assert!(body.len() < 64 * 1024, "the plugin's text is bounded: {} bytes", body.len());

    let pdf = format!("{practice}/bills/{bill}/pdf");
    let (status, headers, body) =
        support::http_exchange(server.addr, "GET", &pdf, &[("cookie", &session)], vec![]).await;
    assert_eq!((status, headers.get("content-type").and_then(|v| v.to_str().ok())), (200, Some("application/pdf")));
    assert!(body.starts_with(b"%PDF-"), "the bill's PDF, as emailed");
    server.stop().await;
    support::drop_postgres_database(&admin, &database).await;
}

#[tokio::test]
async fn with_secure_cookies_the_session_cookie_is_sent_over_https_only() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let database = format!("sqlite://{}", dir.path().join("autobill.db").display());
    let server =
        Server::start_on(at("2026-01-05T14:00:00Z"), dir, &database, "[console]\nsecure_cookies = true\n").await;
    let (_, headers) = http_sign_in(&server, OPERATOR).await;
    let set = headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("autobill_session="))
        .expect("a session cookie");
    assert!(set.contains("; Secure") && set.contains("HttpOnly") && set.contains("SameSite=Strict"), "{set}");
    server.stop().await;
}

/// The CSRF token of the first form on a page.
fn csrf_of(page: &[u8]) -> String {
    let text = String::from_utf8_lossy(page);
    text.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSRF field")
        .to_string()
}

#[tokio::test]
async fn paused_autopay_shows_its_reason_and_failed_payments_and_resumes_from_the_client_page() {
    let server = Server::start(at("2026-01-05T14:00:00Z")).await;
    let w = world(&server).await;
    let base = format!("/v1/practices/{}", w.practice);
    server
        .api("PATCH", &format!("{base}/automation"), &w.token, Some(json!({ "bills": "daily", "autopay": true })))
        .await;
    let dee = server
        .api(
            "POST",
            &format!("{base}/clients"),
            &w.token,
            Some(json!({ "reference": "dee", "name": "Dee Morales", "autopay": true, "card": "insufficient_funds" })),
        )
        .await["id"]
        .as_i64()
        .expect("an id");
    server
        .api("POST", &format!("{base}/appointments"), &w.token, Some(json!({ "reference": "dee-1", "client_id": dee, "starts_at": "2026-01-05T10:00", "status": "completed", "services": ["90837"] })))
        .await;
    for night in ["2026-01-06T05:45:00Z", "2026-01-07T05:45:00Z", "2026-01-08T05:45:00Z"] {
        server.set_clock(night).await;
    }
    let (session, _) = http_sign_in(&server, &w.token).await;
    let client = format!("/console/practices/{}/clients/{dee}", w.practice);
    let (status, _, body) = support::http_exchange(server.addr, "GET", &client, &[("cookie", &session)], vec![]).await;
    let text = String::from_utf8_lossy(&body);
    assert_eq!(status, 200);
    assert!(text.contains("Autopay is paused: ") && text.contains("Resume autopay"), "{text}");
    assert!(text.contains("•••• unds") && !text.contains("insufficient_funds</dd>"), "the card is masked: {text}");
    let payments = format!("/console/practices/{}/payments", w.practice);
    let (_, _, body) = support::http_exchange(server.addr, "GET", &payments, &[("cookie", &session)], vec![]).await;
    let text = String::from_utf8_lossy(&body);
    assert_eq!(text.matches("insufficient_funds").count(), 3, "three failed attempts with their reason: {text}");

    let resume = format!("{client}/resume-autopay");
    let headers = [("cookie", session.as_str()), ("content-type", "application/x-www-form-urlencoded")];
    let form = format!("csrf={}", csrf_of(&body));
    let (status, _, _) = support::http_exchange(server.addr, "POST", &resume, &headers, form.into_bytes()).await;
    assert_eq!(status, 303);
    let (_, _, body) = support::http_exchange(server.addr, "GET", &client, &[("cookie", &session)], vec![]).await;
    assert!(!String::from_utf8_lossy(&body).contains("Autopay is paused"));
    let view = server.api("GET", &format!("{base}/clients/{dee}"), &w.token, None).await;
    assert_eq!((view["autopay"].as_bool(), view["autopay_paused"].is_null()), (Some(true), true), "{view}");
    server.stop().await;
}
