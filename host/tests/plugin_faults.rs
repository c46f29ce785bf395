//! Broken plugins under `autobill serve` (a real process) and `autobill simulate`: a plugin that
//! sleeps, one that waits forever, and ones that answer with megabytes of text.
//!
//! Under `serve`, each is stored straight in the database (the API refuses plugins that fail the
//! conformance kit's invariants, as these do) and assigned to one practice while another is on
//! the default policy: the broken practice's run fails (or its shares are held) within the call
//! time limit and a second; the other practice's bills, payments and emails are what they are in
//! a run without the broken plugin; no stored or answered text carries more than the cap of the
//! plugin's text; and SIGTERM in the middle of a tick that calls the plugin stops the process in
//! its usual time. Under
//! `simulate`, the demo scenario shows the failed run as a `run_failed` event, and an action the
//! failed run left nothing for stops the simulation naming the run.

mod support;

use autobill::plugin::{MAX_PLUGIN_TEXT_BYTES, artifacts};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::sync::OnceCell;

const OPERATOR: &str = "operator-token-for-tests-0123456789abcdef";

/// Held by each test: the tests measure how long calls take, so they do not share the machine
/// with each other.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The call time limit the servers run with.
const LIMIT: Duration = Duration::from_millis(1000);

/// The longest text a stored or answered value may hold: the cap, the plugin's and policy's
/// names and the host's own words around it.
const TEXT_BOUND: usize = MAX_PLUGIN_TEXT_BYTES + 400;

/// A running `autobill serve` process on a fresh SQLite database, killed when dropped.
struct ServeProcess {
    child: Child,
    port: u16,
    outbox: PathBuf,
    _dir: tempfile::TempDir,
}

impl ServeProcess {
    async fn start() -> ServeProcess {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let outbox = dir.path().join("outbox");
        let config = dir.path().join("autobill.toml");
        std::fs::write(
            &config,
            format!(
                "[server]\noperator_token = \"{OPERATOR}\"\n[database]\nurl = \"sqlite://{}\"\n\
                 [outbox]\ndir = \"{}\"\n[scheduler]\ntick_interval_seconds = 86400\n\
                 [plugins]\ncall_timeout_ms = {}\n[testing]\nsimulated_clock = true\n",
                dir.path().join("autobill.db").display(),
                outbox.display(),
                LIMIT.as_millis()
            ),
        )
        .expect("the configuration file");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let log = std::fs::File::create(dir.path().join("serve.log")).expect("a log file");
        let child = Command::new(env!("CARGO_BIN_EXE_autobill"))
            .args(["serve", "--config", &config.display().to_string(), "--listen", &format!("127.0.0.1:{port}")])
            .env_clear()
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("autobill serve starts");
        let mut process = ServeProcess { child, port, outbox, _dir: dir };
        for _ in 0..600 {
            if let Some(status) = process.child.try_wait().expect("the process") {
                panic!("autobill serve exited with {status}:\n{}", process.log());
            }
            if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return process;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("autobill serve did not start listening on port {port}");
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("serve.log")).unwrap_or_default()
    }

    /// Sends a request with the operator's token: (status, body as text).
    /// Stores the component at `path` straight into the server's database, as a plugin stored
    /// before it broke would be: `POST /v1/plugins` refuses a plugin that fails the conformance
    /// kit's invariants, as these do. Answers its id.
    async fn store_unchecked(&self, path: &str) -> String {
        let bytes = std::fs::read(path).expect("the fixture is built");
        let id = autobill::plugin::PluginId::of(&bytes).to_hex();
        let url = format!("sqlite://{}", self._dir.path().join("autobill.db").display());
        let store = autobill::store::Store::connect(&url).await.expect("the server's database opens");
        store.save_plugin(&id, "broken", &bytes, chrono::Utc::now()).await.expect("the plugin is stored");
        id
    }

    async fn send(&self, method: &str, path: &str, kind: &str, body: Vec<u8>) -> (u16, String) {
        let authorization = format!("Bearer {OPERATOR}");
        let headers = [("authorization", authorization.as_str()), ("content-type", kind), ("x-plugin-name", "broken")];
        let (status, _, bytes) = support::http_request(
            std::net::SocketAddr::from(([127, 0, 0, 1], self.port)),
            method,
            path,
            &headers,
            body,
        )
        .await;
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    /// A JSON call: (status, body).
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let body = body.map(|body| body.to_string().into_bytes()).unwrap_or_default();
        let (status, text) = self.send(method, path, "application/json", body).await;
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// A call that must succeed.
    async fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, value) = self.call(method, path, body).await;
        assert!((200..300).contains(&status), "{method} {path}: {status} {value}");
        value
    }

    /// Every row of a list: one page of up to 500, more than the tests' lists hold.
    async fn list(&self, path: &str) -> Value {
        let page = self.ok("GET", &format!("{path}?limit=500"), None).await;
        assert!(page["next"].is_null(), "GET {path}: more than one page: {page}");
        page["data"].clone()
    }

    /// Moves the clock and runs a tick; answers how long the tick took.
    async fn tick(&self, at: &str) -> Duration {
        let started = Instant::now();
        self.ok("POST", "/v1/test/clock", Some(json!({ "now": at }))).await;
        started.elapsed()
    }

    /// The recipients of the emails written so far to `domain`, sorted.
    fn recipients(&self, domain: &str) -> Vec<String> {
        let mut found: Vec<String> = std::fs::read_dir(&self.outbox)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter_map(|entry| std::fs::read_to_string(entry.path()).ok())
                    .filter_map(|mail| mail.lines().find(|line| line.starts_with("To: ")).map(str::to_string))
                    .filter(|to| to.contains(domain))
                    .collect()
            })
            .unwrap_or_default();
        found.sort();
        found
    }

    /// Sends SIGTERM and answers how long the process took to exit, and how.
    fn terminate(&mut self) -> (Duration, std::process::ExitStatus) {
        let started = Instant::now();
        let sent = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("kill runs");
        assert!(sent.success(), "SIGTERM was sent");
        loop {
            if let Some(status) = self.child.try_wait().expect("the process") {
                return (started.elapsed(), status);
            }
            assert!(started.elapsed() < Duration::from_secs(60), "serve did not stop within a minute of SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn id(value: &Value) -> i64 {
    value["id"].as_i64().unwrap_or_else(|| panic!("no id in {value}"))
}

/// A practice billed daily, sharing an hour after a bill is made, with autopay; two clients with
/// cards and emails at `domain`, each with a completed appointment on 2030-01-07.
async fn practice(server: &ServeProcess, name: &str, domain: &str) -> i64 {
    let automation =
        json!({ "bills": "daily", "superbill_day": 1, "share": true, "share_delay_minutes": 60, "autopay": true });
    let practice = server
        .ok(
            "POST",
            "/v1/practices",
            Some(json!({ "name": name, "timezone": "America/New_York", "automation": automation })),
        )
        .await;
    let pid = id(&practice);
    let base = format!("/v1/practices/{pid}");
    let service = json!({ "code": "90837", "name": "Psychotherapy, 60 minutes", "fee": 16000, "cpt_code": "90837" });
    server.ok("POST", &format!("{base}/services"), Some(service)).await;
    for (reference, card) in [("ana", "visa"), ("ben", "insufficient_funds")] {
        let client = json!({ "reference": reference, "name": format!("Client {reference}"),
                             "email": format!("{reference}@{domain}"), "autopay": true, "card": card });
        let client = id(&server.ok("POST", &format!("{base}/clients"), Some(client)).await);
        let appointment = json!({ "reference": format!("{reference}-1"), "client_id": client,
                                  "starts_at": "2030-01-07T10:00", "status": "completed", "services": ["90837"] });
        server.ok("POST", &format!("{base}/appointments"), Some(appointment)).await;
    }
    pid
}

/// What a practice's clients see: its bills (client, total, status), payments (amount) and the
/// recipients of its emails, each sorted, without ids (which depend on the other practice).
async fn seen(server: &ServeProcess, practice: i64, domain: &str) -> Value {
    let base = format!("/v1/practices/{practice}");
    let clients = server.list(&format!("{base}/clients")).await;
    let reference = |client: &Value| {
        clients
            .as_array()
            .and_then(|all| all.iter().find(|c| c["id"] == *client))
            .map_or(Value::Null, |c| c["reference"].clone())
    };
    let bills = server.list(&format!("{base}/bills")).await;
    let mut bills: Vec<String> = bills
        .as_array()
        .expect("bills")
        .iter()
        .map(|bill| format!("{} {} {}", reference(&bill["client_id"]), bill["total"], bill["status"]))
        .collect();
    bills.sort();
    let payments = server.list(&format!("{base}/payments")).await;
    let mut payments: Vec<String> =
        payments.as_array().expect("payments").iter().map(|payment| payment["amount"].to_string()).collect();
    payments.sort();
    json!({ "bills": bills, "payments": payments, "emails": server.recipients(domain) })
}

/// Sets up the healthy practice (and, with `broken`, a second practice with that plugin in that
/// slot), runs the night of 2030-01-08 in two ticks (the 12:00 am bill run; then autopay and the
/// shares an hour later); answers the server, the practices and the first tick's time.
async fn night(broken: Option<(&str, &str, &str)>) -> (ServeProcess, i64, Option<i64>, Duration) {
    let server = ServeProcess::start().await;
    server.tick("2030-01-07T17:00:00Z").await;
    let healthy = practice(&server, "Lakeside", "lakeside.example").await;
    let mut other = None;
    if let Some((path, slot, config)) = broken {
        let pid = practice(&server, "Hillside", "hillside.example").await;
        let id = server.store_unchecked(path).await;
        let assignment = json!({ "plugin_id": id, "config": config });
        server.ok("PUT", &format!("/v1/practices/{pid}/plugins/{slot}"), Some(assignment)).await;
        other = Some(pid);
    }
    let first = server.tick("2030-01-08T05:10:00Z").await;
    server.tick("2030-01-08T07:00:00Z").await;
    (server, healthy, other, first)
}

/// The healthy practice's night without any broken plugin, run once for every test.
async fn baseline() -> &'static Value {
    static BASELINE: OnceCell<Value> = OnceCell::const_new();
    BASELINE
        .get_or_init(|| async {
            let (server, healthy, _, _) = night(None).await;
            let seen = seen(&server, healthy, "lakeside.example").await;
            assert_eq!(seen["bills"].as_array().map(Vec::len), Some(2), "the baseline bills both clients: {seen}");
            seen
        })
        .await
}

/// Every string in `value` is within the bound on plugin text.
#[track_caller]
fn assert_bounded(what: &str, value: &Value) {
    match value {
        Value::String(text) => assert!(text.len() <= TEXT_BOUND, "{what}: a text of {} bytes: {text:.200}", text.len()),
        Value::Array(items) => items.iter().for_each(|item| assert_bounded(what, item)),
        Value::Object(fields) => fields.values().for_each(|field| assert_bounded(what, field)),
        _ => {}
    }
}

/// The broken practice's runs, events and shares, checked to be bounded; as one JSON text.
async fn broken_record(server: &ServeProcess, practice: i64) -> String {
    let base = format!("/v1/practices/{practice}");
    let mut all = vec![];
    for what in ["runs", "events", "shares", "bills"] {
        let value = server.list(&format!("{base}/{what}")).await;
        assert_bounded(what, &value);
        all.push(value);
    }
    Value::Array(all).to_string()
}

/// Runs the night with the fixture at `path` in `slot`; checks the healthy practice against the
/// baseline and the broken practice's text bounds; then sends SIGTERM during a tick that calls
/// the plugin again. Answers the broken practice's record and the first tick's time.
async fn fault(path: &str, slot: &str, config: &str) -> (String, Duration) {
    let expected = baseline().await;
    let (mut server, healthy, broken, first) = night(Some((path, slot, config))).await;
    assert_eq!(
        &seen(&server, healthy, "lakeside.example").await,
        expected,
        "the healthy practice's night is as without the broken plugin"
    );
    let record = broken_record(&server, broken.expect("the broken practice")).await;
    for line in server.log().lines() {
        assert!(line.len() <= TEXT_BOUND + 200, "a log line of {} bytes: {line:.200}", line.len());
    }

    // The next night's tick calls the plugin again; SIGTERM arrives while it runs.
    let port = server.port;
    let tick = tokio::spawn(async move {
        let stream = TcpStream::connect(("127.0.0.1", port)).await;
        let Ok(stream) = stream else { return };
        let Ok((mut sender, connection)) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await else {
            return;
        };
        tokio::spawn(connection);
        let request = hyper::Request::builder()
            .method("POST")
            .uri("/v1/test/clock")
            .header("host", "autobill.test")
            .header("authorization", format!("Bearer {OPERATOR}"))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(json!({ "now": "2030-01-09T05:10:00Z" }).to_string())))
            .expect("a request");
        let _ = sender.send_request(request).await;
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (took, status) = server.terminate();
    assert!(status.success(), "serve exits cleanly on SIGTERM: {status}\n{}", server.log());
    assert!(took < 2 * LIMIT + Duration::from_secs(2), "serve stopped {took:?} after SIGTERM");
    let _ = tick.await;
    (record, first)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_that_sleeps_in_group_lines_fails_its_practices_bill_run_within_the_limit() {
    let _serial = SERIAL.lock().await;
    let (record, first) = fault(artifacts::SLEEPER, "bill_cadence", r#"{"only": "group-lines"}"#).await;
    assert!(first < LIMIT + Duration::from_secs(1), "the night's first tick took {first:?}");
    assert!(
        record
            .contains("failed in bill-cadence.group-lines: it ran for more than 1000 ms (the plugin call time limit)"),
        "{record}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_that_waits_forever_fails_its_practices_schedule_within_the_limit() {
    let _serial = SERIAL.lock().await;
    let (record, first) = fault(artifacts::FOREVER_POLL, "bill_cadence", "").await;
    assert!(first < LIMIT + Duration::from_secs(1), "the night's first tick took {first:?}");
    assert!(
        record.contains(
            "failed in bill-cadence.bill-run-dates: it ran for more than 1000 ms (the plugin call time limit)"
        ),
        "{record}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_share_filter_that_sleeps_holds_its_practices_shares_and_billing_goes_on() {
    let _serial = SERIAL.lock().await;
    let (record, first) = fault(artifacts::SLEEPER, "share_filter", r#"{"only": "decide-shares"}"#).await;
    // The bill run asks the filter once; the same tick asks again about the shares it holds.
    assert!(first < 2 * LIMIT + Duration::from_secs(1), "the night's first tick took {first:?}");
    assert!(record.contains(r#""status":"held""#), "{record}");
    assert!(
        record.contains("the share filter failed: plugin `broken` failed in share-filter.decide-shares: it ran for more than 1000 ms"),
        "{record}"
    );
    assert!(record.contains(r#""status":"paid""#), "the broken practice's bills are made and charged: {record}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_with_a_huge_error_is_stored_and_shown_cut_to_the_cap() {
    let _serial = SERIAL.lock().await;
    let (record, first) = fault(artifacts::HUGE_ERROR, "bill_cadence", "").await;
    assert!(first < LIMIT + Duration::from_secs(1), "the night's first tick took {first:?}");
    assert!(
        record.contains(r#""error":"plugin `broken` failed in bill-cadence.group-lines: it reported an error: a very long reason: xxx"#),
        "the bill run failed, its error stored: {record:.2000}"
    );
    assert!(record.contains("… (cut; 1048576 bytes)"), "{record:.2000}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_refusal_of_a_configuration_is_answered_small_and_nothing_is_assigned() {
    let _serial = SERIAL.lock().await;
    let server = ServeProcess::start().await;
    server.tick("2030-01-07T17:00:00Z").await;
    let pid = practice(&server, "Hillside", "hillside.example").await;
    let id = server.store_unchecked(artifacts::HUGE_CONFIG_ANSWER).await;
    let assignment = json!({ "plugin_id": id, "config": "" }).to_string().into_bytes();
    let (status, body) =
        server.send("PUT", &format!("/v1/practices/{pid}/plugins/share_filter"), "application/json", assignment).await;
    assert_eq!(status, 422, "{body:.300}");
    assert!(body.len() <= TEXT_BOUND, "an error body of {} bytes", body.len());
    assert!(body.contains("this configuration is refused because xxx"), "{body:.300}");
    assert!(body.contains("(cut; 33554432 bytes)"), "{body:.300}");
    let assignments = server.ok("GET", &format!("/v1/practices/{pid}/plugins"), None).await;
    assert!(!assignments.to_string().contains(&id), "{assignments}");
    for line in server.log().lines() {
        assert!(line.len() <= TEXT_BOUND + 200, "a log line of {} bytes: {line:.200}", line.len());
    }
}

// ---------------------------------------------------------------------------------------------
// The same plugins under `autobill simulate`, on the demo scenario.
// ---------------------------------------------------------------------------------------------

/// Runs `autobill simulate host/demo/lakeside.toml ARGS` from the workspace root, with the
/// production call time limit: (exit status, stdout, stderr, how long it took).
fn simulate(args: &[&str]) -> (i32, String, String, Duration) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("host/ sits in the workspace root");
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_autobill"))
        .args(["simulate", "host/demo/lakeside.toml"])
        .args(args)
        .current_dir(root)
        .env_remove("AUTOBILL_PLUGINS_CALL_TIMEOUT_MS")
        .output()
        .expect("the autobill binary runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        started.elapsed(),
    )
}

/// The production call time limit, which `simulate` runs with here.
const DEFAULT_LIMIT: Duration = Duration::from_millis(2000);

fn cadence(path: &str) -> String {
    format!("bill_cadence={path}")
}

/// The events of a simulation's output with the name `event`.
fn named<'a>(stdout: &'a str, event: &str) -> Vec<&'a str> {
    stdout.lines().filter(|line| line.contains(&format!(r#""event":"{event}""#))).collect()
}

#[test]
fn under_simulate_a_sleeping_cadence_fails_its_bill_run_within_the_limit() {
    let _serial = SERIAL.blocking_lock();
    let day = ["--from", "2026-01-06", "--until", "2026-01-06"];
    let sleeper = cadence(artifacts::SLEEPER);
    // The same plugin, awake in every cadence function: what the day costs without the sleep.
    let (status, awake, stderr, usual) = simulate(
        &[&day[..], &["--plugin", &sleeper, "--plugin-config", r#"bill_cadence={"only": "decide-shares"}"#]].concat(),
    );
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(named(&awake, "bill_created").len(), 1, "{awake}");
    let (status, stdout, stderr, took) = simulate(
        &[&day[..], &["--plugin", &sleeper, "--plugin-config", r#"bill_cadence={"only": "group-lines"}"#]].concat(),
    );
    assert_eq!(status, 0, "{stderr}");
    assert!(took < usual + DEFAULT_LIMIT + Duration::from_secs(1), "{took:?}, against {usual:?} awake");
    let failed = named(&stdout, "run_failed");
    assert_eq!(failed.len(), 1, "{stdout}");
    assert!(failed[0].contains("bill:2026-01-06"), "{}", failed[0]);
    assert!(
        failed[0]
            .contains("failed in bill-cadence.group-lines: it ran for more than 2000 ms (the plugin call time limit)"),
        "{}",
        failed[0]
    );
    assert!(named(&stdout, "bill_created").is_empty(), "{stdout}");
}

#[test]
fn under_simulate_an_action_after_a_failed_run_stops_it_naming_the_run_after_the_events_so_far() {
    let _serial = SERIAL.blocking_lock();
    let sleeper = cadence(artifacts::SLEEPER);
    let (status, stdout, stderr, _) = simulate(&[
        "--from",
        "2026-01-06",
        "--until",
        "2026-01-08",
        "--plugin",
        &sleeper,
        "--plugin-config",
        r#"bill_cadence={"only": "group-lines"}"#,
    ]);
    assert_eq!(status, 1, "{stdout}\n{stderr}");
    assert!(
        stderr.contains(
            "action at 2026-01-07 09:30:00: appointment ben-1 is on no bill yet (the bill run of 2026-01-07 failed: \
             plugin `autobill_fixture_sleeper` failed in bill-cadence.group-lines: it ran for more than 2000 ms \
             (the plugin call time limit))"
        ),
        "{stderr}"
    );
    let failed = named(&stdout, "run_failed");
    assert_eq!(failed.len(), 2, "the runs of the 6th and the 7th are printed: {stdout}");
    assert!(failed[1].contains("bill:2026-01-07"), "{}", failed[1]);
    assert!(stdout.lines().all(|line| !line.contains("2026-01-08")), "nothing after the action: {stdout}");
}

#[test]
fn under_simulate_a_cadence_that_waits_forever_fails_within_the_limit_of_each_call() {
    let _serial = SERIAL.blocking_lock();
    let day = ["--from", "2026-01-06", "--until", "2026-01-06"];
    // The sleeper, awake in every cadence function: what the day costs with a plugin that answers.
    let awake =
        ["--plugin", &cadence(artifacts::SLEEPER), "--plugin-config", r#"bill_cadence={"only": "decide-shares"}"#];
    let (_, _, _, usual) = simulate(&[&day[..], &awake[..]].concat());
    let (status, stdout, stderr, took) =
        simulate(&[&day[..], &["--plugin", &cadence(artifacts::FOREVER_POLL)]].concat());
    assert_eq!(status, 0, "{stderr}");
    // The day has two steps (the 12:30 am autopay run, and the day's end); at each, finding the
    // next due moment asks the cadence, and so does the tick: four calls, each cut off at the limit.
    assert!(took < usual + 4 * DEFAULT_LIMIT + Duration::from_secs(1), "{took:?}, against {usual:?}");
    let failed = named(&stdout, "run_failed");
    assert_eq!(failed.len(), 1, "{stdout}");
    assert!(
        failed[0].contains(
            "failed in bill-cadence.bill-run-dates: it ran for more than 2000 ms (the plugin call time limit)"
        ),
        "{}",
        failed[0]
    );
}

#[test]
fn under_simulate_a_huge_error_is_printed_cut_to_the_cap() {
    let _serial = SERIAL.blocking_lock();
    let (status, stdout, stderr, _) =
        simulate(&["--from", "2026-01-06", "--until", "2026-01-06", "--plugin", &cadence(artifacts::HUGE_ERROR)]);
    assert_eq!(status, 0, "{stderr}");
    let failed = named(&stdout, "run_failed");
    assert!(!failed.is_empty(), "{stdout}");
    assert!(failed.iter().all(|line| line.contains("… (cut; 1048576 bytes)")), "{stdout:.3000}");
    for line in stdout.lines().chain(stderr.lines()) {
        assert!(line.len() <= TEXT_BOUND, "a line of {} bytes: {line:.200}", line.len());
    }
}

#[test]
fn under_simulate_a_failing_share_filter_holds_the_shares_of_a_month_that_is_billed_and_charged() {
    let _serial = SERIAL.blocking_lock();
    let month = ["--from", "2026-01-01", "--until", "2026-01-31"];
    let (status, plain, stderr, _) = simulate(&month);
    assert_eq!(status, 0, "{stderr}");
    let filter = format!("share_filter={}", artifacts::HUGE_ERROR);
    let (status, stdout, stderr, _) = simulate(&[&month[..], &["--plugin", &filter]].concat());
    assert_eq!(status, 0, "{stderr}");
    for event in ["bill_created", "superbill_created", "payment_succeeded", "payment_failed"] {
        assert_eq!(named(&stdout, event).len(), named(&plain, event).len(), "{event}s as without the plugin");
    }
    assert!(!named(&plain, "bill_created").is_empty() && !named(&plain, "payment_succeeded").is_empty());
    assert!(named(&stdout, "run_failed").is_empty(), "no run fails: {stdout}");
    assert!(named(&stdout, "document_shared").is_empty(), "the shares are held: {stdout}");
    let warnings = named(&stdout, "warning");
    assert!(warnings.iter().any(|line| line.contains("held")), "staff are told: {stdout}");
}
