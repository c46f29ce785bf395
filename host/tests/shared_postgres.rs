//! Several `autobill serve` processes on one PostgreSQL database: two real processes, each with
//! its own test clock and outbox, are moved through a month-end together, and every run, bill,
//! payment and share happens exactly once between them; on a busy night both take part in the
//! charges and the emails.
//!
//! Needs AUTOBILL_TEST_POSTGRES_URL (an account that may create databases); skipped without it.

mod support;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use tokio::net::TcpStream;

const OPERATOR: &str = "operator-token-for-tests-0123456789abcdef";

/// A running `autobill serve` process, killed when dropped.
struct ServeProcess {
    child: Child,
    port: u16,
    outbox: PathBuf,
}

impl ServeProcess {
    async fn start(dir: &Path, name: &str, database_url: &str, scheduler: &str) -> ServeProcess {
        let outbox = dir.join(format!("outbox-{name}"));
        let config = dir.join(format!("{name}.toml"));
        std::fs::write(
            &config,
            format!(
                "[server]\noperator_token = \"{OPERATOR}\"\n[database]\nurl = \"{database_url}\"\n\
                 [outbox]\ndir = \"{}\"\n[scheduler]\ntick_interval_seconds = 86400\nhost_id = \"{name}\"\n{scheduler}\n\
                 [testing]\nsimulated_clock = true\n",
                outbox.display()
            ),
        )
        .expect("the configuration file");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let log = std::fs::File::create(dir.join(format!("{name}.log"))).expect("a log file");
        let child = Command::new(env!("CARGO_BIN_EXE_autobill"))
            .args(["serve", "--config", &config.display().to_string(), "--listen", &format!("127.0.0.1:{port}")])
            .env_clear()
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("autobill serve starts");
        let mut process = ServeProcess { child, port, outbox };
        for _ in 0..400 {
            if let Some(status) = process.child.try_wait().expect("the process") {
                let log = std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap_or_default();
                panic!("autobill serve ({name}) exited with {status}:\n{log}");
            }
            if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return process;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        process.child.kill().ok();
        panic!("autobill serve ({name}) did not start listening on port {port}");
    }

    /// Sends a JSON request with the operator's token; answers (status, body).
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let authorization = format!("Bearer {OPERATOR}");
        let headers = [("authorization", authorization.as_str()), ("content-type", "application/json")];
        let body = body.map(|body| body.to_string().into_bytes()).unwrap_or_default();
        let (status, _, bytes) = support::http_request(
            std::net::SocketAddr::from(([127, 0, 0, 1], self.port)),
            method,
            path,
            &headers,
            body,
        )
        .await;
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    /// A call that must succeed.
    async fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, value) = self.call(method, path, body).await;
        assert!((200..300).contains(&status), "{method} {path} on port {}: {status} {value}", self.port);
        value
    }

    /// Moves this process's clock and runs its tick; answers how many runs it did.
    async fn set_clock(&self, at: DateTime<Utc>) -> u64 {
        let report = self.ok("POST", "/v1/test/clock", Some(json!({ "now": at.to_rfc3339() }))).await;
        report["runs_done"].as_u64().unwrap_or_else(|| panic!("a count of runs in {report}"))
    }

    /// How many emails this process wrote.
    fn emails(&self) -> usize {
        std::fs::read_dir(&self.outbox)
            .map(|entries| {
                entries.filter_map(Result::ok).filter(|entry| entry.path().extension() == Some("eml".as_ref())).count()
            })
            .unwrap_or(0)
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

/// Every row of a list, following its pages.
async fn list(process: &ServeProcess, path: &str) -> Vec<Value> {
    let mut rows = vec![];
    let mut after = String::new();
    loop {
        let page = process.ok("GET", &format!("{path}?limit=500{after}"), None).await;
        match &page["data"] {
            Value::Array(items) => rows.extend(items.iter().cloned()),
            _ => panic!("expected a page of a list, got {page}"),
        }
        match page["next"].as_str() {
            Some(next) => after = format!("&after={next}"),
            None => return rows,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_serve_processes_on_one_postgres_do_each_run_bill_and_share_once() {
    let Ok(admin) = std::env::var("AUTOBILL_TEST_POSTGRES_URL") else {
        eprintln!("skipped: set AUTOBILL_TEST_POSTGRES_URL to a PostgreSQL server to run two serve processes on it");
        return;
    };
    let database_url = support::fresh_postgres_database(&admin, "shared_serve").await;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (a, b) = tokio::join!(
        ServeProcess::start(dir.path(), "serve-a", &database_url, ""),
        ServeProcess::start(dir.path(), "serve-b", &database_url, "")
    );

    // The test clocks start at the real time and only move forward, so the month-end is a coming one.
    let soon = Utc::now().date_naive() + Duration::days(10);
    let (year, month) = if soon.month() == 12 { (soon.year() + 1, 1) } else { (soon.year(), soon.month() + 1) };
    let first = NaiveDate::from_ymd_opt(year, month, 1).expect("a date");
    let day_one = first - Duration::days(5);
    let morning = |day: NaiveDate| day.and_hms_opt(7, 0, 0).expect("a time").and_utc();
    tokio::join!(a.set_clock(morning(day_one - Duration::days(1))), b.set_clock(morning(day_one - Duration::days(1))));

    let automation =
        json!({ "bills": "daily", "superbill_day": 1, "share": true, "share_delay_minutes": 60, "autopay": true });
    let practice = a
        .ok(
            "POST",
            "/v1/practices",
            Some(json!({ "name": "Lakeside", "timezone": "America/New_York", "automation": automation })),
        )
        .await;
    let base = format!("/v1/practices/{}", id(&practice));
    let service = json!({ "code": "90837", "name": "Psychotherapy, 60 minutes", "fee": 16000, "cpt_code": "90837" });
    b.ok("POST", &format!("{base}/services"), Some(service)).await;
    let mut clients = vec![];
    for (reference, email, card) in
        [("ana", Some("ana@example.com"), "visa"), ("ben", Some("ben@example.com"), "visa"), ("cy", None, "visa")]
    {
        let client = json!({ "reference": reference, "name": format!("Client {reference}"), "email": email,
                             "auto_superbills": true, "autopay": true, "card": card, "diagnosis": ["F41.1"] });
        clients.push(id(&a.ok("POST", &format!("{base}/clients"), Some(client)).await));
    }
    let mut appointments = 0;
    for (offset, client) in [(0, clients[0]), (0, clients[1]), (1, clients[2]), (2, clients[0])] {
        let starts_at = (day_one + Duration::days(offset)).and_hms_opt(10, 0, 0).expect("a time");
        let appointment = json!({ "reference": format!("visit-{appointments}"), "client_id": client,
                                  "starts_at": starts_at.format("%Y-%m-%dT%H:%M").to_string(),
                                  "status": "completed", "services": ["90837"] });
        b.ok("POST", &format!("{base}/appointments"), Some(appointment)).await;
        appointments += 1;
    }

    // Both processes are moved to the same instant at once, every day, past the month-end.
    let mut runs_done = 0;
    let mut day = day_one + Duration::days(1);
    while day <= first + Duration::days(2) {
        let (done_a, done_b) = tokio::join!(a.set_clock(morning(day)), b.set_clock(morning(day)));
        runs_done += done_a + done_b;
        day += Duration::days(1);
    }

    let runs = list(&a, &format!("{base}/runs")).await;
    assert!(runs.iter().any(|run| run["kind"] == "superbill"), "the month-end superbill run is among them: {runs:?}");
    assert!(runs.iter().all(|run| run["outcome"] == "done" && run["attempts"] == 1), "each run claimed once: {runs:?}");
    assert_eq!(runs_done, runs.len() as u64, "each run was done by exactly one of the two processes");

    let bills = list(&b, &format!("{base}/bills")).await;
    assert_eq!(bills.len(), appointments, "one bill per visit (daily bills), never two: {bills:?}");
    assert!(bills.iter().all(|bill| bill["status"] == "paid"), "{bills:?}");
    let payments = list(&a, &format!("{base}/payments")).await;
    let paid: HashSet<i64> = payments.iter().map(|payment| payment["bill_id"].as_i64().unwrap_or(0)).collect();
    assert_eq!((payments.len(), paid.len()), (bills.len(), bills.len()), "one payment per bill: {payments:?}");

    let superbills = list(&a, &format!("{base}/superbills")).await;
    assert_eq!(superbills.len(), clients.len(), "one superbill per client at the month-end: {superbills:?}");

    let shares = list(&b, &format!("{base}/shares")).await;
    let documents: HashSet<(String, i64)> = shares
        .iter()
        .map(|share| {
            (share["document_kind"].as_str().unwrap_or("").to_string(), share["document_id"].as_i64().unwrap_or(0))
        })
        .collect();
    assert_eq!(documents.len(), bills.len() + superbills.len(), "one share row per document: {shares:?}");
    let sent = shares.iter().filter(|share| share["status"] == "sent").count();
    let skipped = shares.iter().filter(|share| share["status"] == "skipped").count();
    assert_eq!(skipped, 2, "cy has no email: a bill and a superbill skipped: {shares:?}");
    assert_eq!(sent, shares.len() - skipped, "every other share was sent: {shares:?}");
    assert_eq!(a.emails() + b.emails(), sent, "each sent share is one email from one of the processes");

    drop((a, b));
    support::drop_postgres_database(&admin, &database_url).await;
}

/// How many of `table`'s rows each host claimed, by `claimed_by`.
async fn claims(database_url: &str, table: &str) -> Vec<(String, i64)> {
    use sqlx::Connection;
    let mut connection = sqlx::AnyConnection::connect(database_url).await.expect("the database");
    let sql = format!("SELECT claimed_by, COUNT(*) FROM {table} GROUP BY claimed_by ORDER BY claimed_by");
    let rows = sqlx::query(&sql).fetch_all(&mut connection).await.expect("the claims");
    rows.iter()
        .map(|row| {
            use sqlx::Row;
            (row.try_get::<Option<String>, _>(0).expect("a host").unwrap_or_default(), row.try_get(1).expect("a count"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_serve_processes_split_a_busy_nights_charges_and_emails_each_done_once() {
    let Ok(admin) = std::env::var("AUTOBILL_TEST_POSTGRES_URL") else {
        eprintln!("skipped: set AUTOBILL_TEST_POSTGRES_URL to a PostgreSQL server to run two serve processes on it");
        return;
    };
    let database_url = support::fresh_postgres_database(&admin, "shared_night").await;
    let dir = tempfile::tempdir().expect("a temporary folder");
    // One charge in flight each, so a process claims two at a time and neither takes the night alone.
    let scheduler = "charges_in_flight = 1";
    let (a, b) = tokio::join!(
        ServeProcess::start(dir.path(), "busy-a", &database_url, scheduler),
        ServeProcess::start(dir.path(), "busy-b", &database_url, scheduler)
    );
    let first = Utc::now().date_naive() + Duration::days(3);
    let morning = |day: NaiveDate| day.and_hms_opt(7, 0, 0).expect("a time").and_utc();
    tokio::join!(a.set_clock(morning(first - Duration::days(1))), b.set_clock(morning(first - Duration::days(1))));

    const PRACTICES: usize = 4;
    const CLIENTS: usize = 40;
    const DAYS: i64 = 3;
    let automation = json!({ "bills": "daily", "share": true, "share_delay_minutes": 0, "autopay": true });
    for p in 0..PRACTICES {
        let practice = a
            .ok(
                "POST",
                "/v1/practices",
                Some(json!({ "name": format!("P{p}"), "timezone": "UTC", "automation": automation })),
            )
            .await;
        let base = format!("/v1/practices/{}", id(&practice));
        let service = json!({ "code": "90837", "name": "Psychotherapy", "fee": 16000 });
        b.ok("POST", &format!("{base}/services"), Some(service)).await;
        for c in 0..CLIENTS {
            let client = json!({ "reference": format!("c{c}"), "name": format!("Client {c}"),
                                 "email": format!("c{c}@example.com"), "autopay": true, "card": "visa" });
            let client = id(&a.ok("POST", &format!("{base}/clients"), Some(client)).await);
            for day in 0..DAYS {
                let starts_at = (first + Duration::days(day)).and_hms_opt(10, 0, 0).expect("a time");
                let appointment = json!({ "reference": format!("v{c}-{day}"), "client_id": client,
                                          "starts_at": starts_at.format("%Y-%m-%dT%H:%M").to_string(),
                                          "status": "completed", "services": ["90837"] });
                b.ok("POST", &format!("{base}/appointments"), Some(appointment)).await;
            }
        }
    }
    for day in 1..=DAYS {
        tokio::join!(
            a.set_clock(morning(first + Duration::days(day))),
            b.set_clock(morning(first + Duration::days(day)))
        );
    }

    let bills = (PRACTICES * CLIENTS) as i64 * DAYS;
    use sqlx::Connection;
    let mut connection = sqlx::AnyConnection::connect(&database_url).await.expect("the database");
    let count = |sql: &'static str| sqlx::query_scalar::<_, i64>(sql);
    assert_eq!(
        count("SELECT COUNT(*) FROM bills WHERE status = 'paid'").fetch_one(&mut connection).await.ok(),
        Some(bills)
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM payment_attempts").fetch_one(&mut connection).await.ok(),
        Some(bills),
        "one attempt per bill"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM payments").fetch_one(&mut connection).await.ok(),
        Some(bills),
        "one payment per bill"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM shares WHERE status = 'sent' AND attempts = 1")
            .fetch_one(&mut connection)
            .await
            .ok(),
        Some(bills),
        "each bill emailed once"
    );
    let charged = claims(&database_url, "payment_attempts").await;
    assert!(charged.len() == 2 && charged.iter().all(|(_, n)| *n > 0), "both processes charged: {charged:?}");
    let sent = claims(&database_url, "shares").await;
    assert!(sent.len() == 2 && sent.iter().all(|(_, n)| *n > 0), "both processes emailed: {sent:?}");
    assert_eq!((a.emails() + b.emails()) as i64, bills, "each email from one of the processes");
    assert!(a.emails() > 0 && b.emails() > 0, "{} and {} emails", a.emails(), b.emails());

    drop((a, b));
    drop(connection);
    support::drop_postgres_database(&admin, &database_url).await;
}
