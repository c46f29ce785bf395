//! Sharing by email against a real SMTP server, and the PDFs read back as text.
//!
//! Each test starts its own aiosmtpd (PyPI; `tests/run.sh` installs it) on 127.0.0.1 and a free
//! port, storing what arrives in a Maildir, and stops it when the test ends. PDFs are read back
//! with `pdftotext` (poppler-utils), so a blank or broken PDF fails. Each test runs on SQLite and
//! on PostgreSQL (`AUTOBILL_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`).
//! The server and the PDF reader live in `support/smtp.rs`, shared with `money_and_mail_month.rs`.

#[macro_use]
mod support;

use autobill::domain::{BillId, DocumentId, Event, EventKind, PracticeId, ShareId};
use autobill::engine::Engine;
use autobill::engine::decide::shares::INTERRUPTED_SEND;
use autobill::mail::{MailError, Mailer, Message, SmtpConfig, SmtpMailer, SmtpSecurity};
use autobill::payments::SandboxGateway;
use autobill::schedule::local_instant;
use autobill::simulate::{self, SimulationOptions};
use autobill::store::Store;
use autobill::{pdf, scenario};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use sqlx::Row;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use support::db::{TestDb, database, runtime, simulation_engine, simulation_engine_with};
use support::smtp::{
    DiesAfterSending, Received, SmtpServer, assert_contains, free_port, has_row, pdf_text, wait_for_messages,
};

const NY: chrono_tz::Tz = chrono_tz::America::New_York;

const PRACTICE: &str = r#"
[practice]
name = "Lakeside Therapy"
timezone = "America/New_York"
currency = "USD"
npi = "1234567893"
tax_id = "12-3456789"
address = "12 Lake Street, Burlington, VT 05401"
phone = "+1 802 555 0100"
email = "billing@lakeside.example"
place_of_service = "10"

[practice.provider]
name = "Dana Reyes"
credentials = "LCSW"
npi = "1679576722"

[practice.automation]
bills = "daily"
superbill_day = 1
share = true
share_delay_minutes = 60
autopay = true

[[service]]
code = "90837"
name = "Psychotherapy, 60 minutes"
fee = 16000
cpt = "90837"
modifiers = ["95"]
units = 1

[[service]]
code = "WORKSHOP"
name = "Mindfulness workshop"
fee = 4000

[[client]]
id = "ana"
name = "Ana Alvarez"
email = "ana@example.com"
birth_date = "1990-04-12"
auto_superbills = true
autopay = true
card = "visa"
diagnosis = ["F41.1"]

[[appointment]]
id = "a1"
client = "ana"
start = "2026-01-05T10:00"
status = "completed"
services = ["90837", "WORKSHOP"]
"#;

fn day(month: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, month, d).expect("a real date")
}

/// Practice-local 2026-`month`-`d` `h`:`m` in New York.
fn at(month: u32, d: u32, h: u32, m: u32) -> DateTime<Utc> {
    local_instant(NY, day(month, d), NaiveTime::from_hms_opt(h, m, 0).expect("a real time"))
}

/// Simulates `scenario` from January 5th to `until`, emailing through `mailer`.
async fn simulate_with(db: &TestDb, scenario: &str, until: NaiveDate, mailer: Arc<dyn Mailer>) -> Vec<Event> {
    let loaded = scenario::parse("mail.toml", scenario).unwrap_or_else(|error| panic!("{error}"));
    let options = SimulationOptions { from: day(1, 5), until, plugins: vec![] };
    let engine = simulation_engine_with(&db.url, mailer).await;
    simulate::run(&loaded, &options, &engine).await.unwrap_or_else(|error| panic!("{error}")).events
}

fn local_times(events: &[Event], name: &str) -> Vec<String> {
    events
        .iter()
        .filter(|event| {
            serde_json::to_value(&event.kind).ok().and_then(|v| v.get("event").cloned()) == Some(name.into())
        })
        .map(|event| event.at.with_timezone(&NY).format("%Y-%m-%d %H:%M").to_string())
        .collect()
}

async fn share_row(store: &Store, kind: &str) -> (i64, String, Option<i64>, i64, Option<String>) {
    let row = sqlx::query("SELECT id, status, due_at, attempts, reason FROM shares WHERE document_kind = $1")
        .bind(kind)
        .fetch_one(store.pool())
        .await
        .expect("the share");
    (
        row.try_get(0).expect("id"),
        row.try_get(1).expect("status"),
        row.try_get(2).expect("due_at"),
        row.try_get(3).expect("attempts"),
        row.try_get(4).expect("reason"),
    )
}

/// An engine over `url`, as a host that has just started.
async fn host(url: &str, name: &str, mailer: Arc<dyn Mailer>) -> Engine {
    let store = Store::connect(url).await.expect("the store connects");
    Engine::new(store, runtime(), Arc::new(SandboxGateway), mailer, name).expect("an engine")
}

on_both_backends!(
    a_paid_bill_is_emailed_to_the_client_with_its_pdf,
    a_superbill_pdf_carries_what_an_insurer_needs,
    clients_without_email_or_with_email_off_get_nothing,
    a_send_interrupted_after_the_server_took_it_becomes_unknown_and_is_not_sent_again,
    a_send_that_fails_while_the_server_is_down_is_retried_with_backoff_and_sent_once,
    documents_render_from_the_store_without_a_mail_server,
    names_in_any_script_arrive_intact_in_subjects_bodies_and_pdfs,
);

// ---------------------------------------------------------------------------------------------
// The tests.

async fn a_paid_bill_is_emailed_to_the_client_with_its_pdf(backend: &str) {
    let db = database(backend).await;
    let server = SmtpServer::start();
    let events = simulate_with(&db, PRACTICE, day(1, 6), server.mailer()).await;
    assert_eq!(local_times(&events, "bill_created"), ["2026-01-06 00:00"]);
    assert_eq!(local_times(&events, "payment_succeeded"), ["2026-01-06 00:30"]);
    let store = Store::connect(&db.url).await.expect("the store");
    assert_eq!(local_times(&events, "document_shared"), ["2026-01-06 01:00"], "{:?}", share_row(&store, "bill").await);

    let messages = server.messages();
    assert_eq!(messages.len(), 1, "one email: {messages:?}");
    let email = &messages[0];
    assert_eq!(email.envelope_to, "ana@example.com");
    assert_eq!(email.to, "ana@example.com");
    assert_eq!(email.from, "\"Lakeside Therapy\" <billing@lakeside.example>");
    assert!(
        email.subject.starts_with("Your bill #") && email.subject.ends_with("from Lakeside Therapy"),
        "{}",
        email.subject
    );
    assert_contains(
        &email.text,
        &["Hello Ana Alvarez", "is attached as a PDF", "Total:   USD 200.00", "Status:  Paid"],
    );
    assert_contains(&email.html, &["<p>Hello Ana Alvarez,</p>", "USD 200.00", "Paid"]);

    let (name, pdf) = email.pdf();
    assert!(name.starts_with("bill-") && name.ends_with(".pdf"), "{name}");
    let text = pdf_text(pdf);
    assert_contains(
        &text,
        &["Lakeside Therapy", "BILL", "12 Lake Street, Burlington, VT 05401", "+1 802 555 0100", "Ana Alvarez"],
    );
    assert!(has_row(&text, &["2026-01-05", "Psychotherapy, 60 minutes", "90837", "USD 160.00"]), "{text}");
    assert!(has_row(&text, &["2026-01-05", "Mindfulness workshop", "WORKSHOP", "USD 40.00"]), "{text}");
    assert!(has_row(&text, &["2026-01-06", "Card (autopay)", "USD 200.00"]), "the payment: {text}");
    assert!(text.contains("sandbox_autobill-bill-"), "the payment's provider reference: {text}");
    assert!(has_row(&text, &["Total", "USD 200.00"]), "{text}");
    assert!(has_row(&text, &["Balance due", "USD 0.00"]), "{text}");
    assert!(has_row(&text, &["Status", "Paid"]), "{text}");
}

async fn a_superbill_pdf_carries_what_an_insurer_needs(backend: &str) {
    let db = database(backend).await;
    let server = SmtpServer::start();
    let events = simulate_with(&db, PRACTICE, day(2, 1), server.mailer()).await;
    assert_eq!(local_times(&events, "superbill_created"), ["2026-02-01 00:00"]);
    assert_eq!(local_times(&events, "document_shared"), ["2026-01-06 01:00", "2026-02-01 01:00"]);

    let messages = server.messages();
    assert_eq!(messages.len(), 2, "the bill and the superbill");
    let email = messages.iter().find(|m| m.subject.starts_with("Your superbill")).expect("the superbill's email");
    assert_eq!(email.envelope_to, "ana@example.com");
    assert_contains(&email.text, &["send it to your insurer", "Status:  Issued"]);
    let (name, pdf) = email.pdf();
    assert!(name.starts_with("superbill-") && name.ends_with(".pdf"), "{name}");
    let text = pdf_text(pdf);
    assert_contains(
        &text,
        &[
            "SUPERBILL",
            "Ana Alvarez",
            "1990-04-12",
            "Dana Reyes, LCSW",
            "1679576722",
            "1234567893",
            "12-3456789",
            "12 Lake Street, Burlington, VT 05401",
            "+1 802 555 0100",
            "F41.1",
        ],
    );
    assert!(has_row(&text, &["Date of birth:", "1990-04-12"]), "{text}");
    assert!(has_row(&text, &["Individual NPI:", "1679576722"]), "{text}");
    assert!(has_row(&text, &["Practice (group) NPI:", "1234567893"]), "{text}");
    assert!(has_row(&text, &["Tax ID (EIN):", "12-3456789"]), "{text}");
    assert!(
        has_row(&text, &["Date of service", "POS", "CPT", "Modifiers", "Units", "ICD-10", "Fee", "Paid"]),
        "{text}"
    );
    assert!(
        has_row(
            &text,
            &["2026-01-05", "10", "90837", "95", "1", "F41.1", "Psychotherapy, 60 minutes", "USD 160.00", "USD 160.00"]
        ),
        "the line: date, place of service, CPT, modifier, units, ICD-10, fee, paid:\n{text}"
    );
    assert!(!text.contains("WORKSHOP") && !text.contains("Mindfulness"), "only CPT-coded lines: {text}");
    assert!(has_row(&text, &["Total charges", "USD 160.00"]), "{text}");
    assert!(has_row(&text, &["Total paid", "USD 160.00"]), "{text}");
}

async fn clients_without_email_or_with_email_off_get_nothing(backend: &str) {
    let db = database(backend).await;
    let server = SmtpServer::start();
    let scenario = PRACTICE.to_string()
        + "\n[[client]]\nid = \"eve\"\nname = \"Eve Evans\"\n"
        + "\n[[client]]\nid = \"cy\"\nname = \"Cy Cole\"\nemail = \"cy@example.com\"\nemail_enabled = false\n"
        + "\n[[appointment]]\nid = \"e1\"\nclient = \"eve\"\nstart = \"2026-01-05T11:00\"\nstatus = \"completed\"\nservices = [\"90837\"]\n"
        + "\n[[appointment]]\nid = \"c1\"\nclient = \"cy\"\nstart = \"2026-01-05T12:00\"\nstatus = \"completed\"\nservices = [\"90837\"]\n";
    let events = simulate_with(&db, &scenario, day(1, 7), server.mailer()).await;
    let recipients: Vec<String> = server.messages().into_iter().map(|m| m.envelope_to).collect();
    assert_eq!(recipients, ["ana@example.com"], "only the client with email on file and allowed");
    let mut skipped: Vec<(String, String)> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::ShareSkipped { client, reason, .. } => Some((client.clone(), reason.clone())),
            _ => None,
        })
        .collect();
    skipped.sort();
    assert_eq!(
        skipped,
        [
            ("cy".to_string(), "email is turned off in the client's communication preferences".to_string()),
            ("eve".to_string(), "no email address on file".to_string()),
        ]
    );
}

async fn a_send_interrupted_after_the_server_took_it_becomes_unknown_and_is_not_sent_again(backend: &str) {
    let db = database(backend).await;
    let server = SmtpServer::start();
    simulate_with(&db, PRACTICE, day(1, 5), server.mailer()).await; // set up; nothing is due yet

    let doomed = host(&db.url, "doomed", Arc::new(DiesAfterSending(server.mailer()))).await;
    doomed.tick(at(1, 6, 0, 45)).await.expect("the bill and autopay runs");
    tokio::select! {
        _ = doomed.tick(at(1, 6, 1, 0)) => panic!("the dying host never finishes its tick"),
        () = wait_for_messages(&server.maildir, 1) => {}
    }
    drop(doomed); // the process is gone: between the server's answer and the status write
    let store = Store::connect(&db.url).await.expect("the store");
    let (share, status, ..) = share_row(&store, "bill").await;
    assert_eq!(status, "sending", "the claim was committed before the send");

    let restarted = host(&db.url, "restarted", server.mailer()).await;
    restarted.tick(at(1, 6, 1, 5)).await.expect("a tick");
    assert_eq!(share_row(&store, "bill").await.1, "sending", "within the lease another host may still be sending it");
    restarted.tick(at(1, 6, 1, 11)).await.expect("a tick");
    let (_, status, _, attempts, reason) = share_row(&store, "bill").await;
    assert_eq!((status.as_str(), attempts, reason.as_deref()), ("unknown", 1, Some(INTERRUPTED_SEND)));
    let warnings: Vec<String> = restarted
        .events(PracticeId::new(1))
        .await
        .expect("events")
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::Warning { message } => Some(message),
            _ => None,
        })
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("for client ana may or may not have been emailed")
            && warnings[0].contains(INTERRUPTED_SEND)
    );

    restarted.tick(at(1, 7, 9, 0)).await.expect("a tick");
    assert_eq!(server.messages().len(), 1, "never sent a second time by itself");
    assert_eq!(share_row(&store, "bill").await.1, "unknown");

    // A person checked the mail log and asks for it again.
    restarted.resend_share(ShareId::new(share), at(1, 7, 9, 5)).await.expect("queued again");
    assert!(
        restarted.resend_share(ShareId::new(share), at(1, 7, 9, 5)).await.is_err(),
        "only unknown shares are resent"
    );
    restarted.tick(at(1, 7, 9, 5)).await.expect("a tick");
    assert_eq!(server.messages().len(), 2);
    assert_eq!(share_row(&store, "bill").await.1, "sent");
}

async fn a_send_that_fails_while_the_server_is_down_is_retried_with_backoff_and_sent_once(backend: &str) {
    let db = database(backend).await;
    let port = free_port();
    let maildir = tempfile::tempdir().expect("a temporary folder");
    let mailer = Arc::new(SmtpMailer::new(SmtpConfig::new("127.0.0.1", port, SmtpSecurity::Plain)).expect("a mailer"));
    simulate_with(&db, PRACTICE, day(1, 5), mailer.clone()).await;
    let engine = host(&db.url, "host", mailer).await;
    let store = engine.store().clone();
    engine.tick(at(1, 6, 0, 45)).await.expect("the bill and autopay runs");

    // The server is down: each try fails and waits 5, then 10, then 20 minutes.
    let mut now = at(1, 6, 1, 0);
    for wait in [5, 10, 20] {
        engine.tick(now).await.expect("a tick survives the failure");
        let (_, status, due, _, reason) = share_row(&store, "bill").await;
        assert_eq!(status, "pending", "a failed send is kept");
        now += chrono::Duration::minutes(wait);
        assert_eq!(due, Some(now.timestamp()), "retried after {wait} minutes");
        assert!(reason.as_deref().is_some_and(|r| r.contains("mail server")), "{reason:?}");
    }
    let server = SmtpServer::start_on(port, &maildir.path().join("maildir"));
    engine.tick(now - chrono::Duration::minutes(1)).await.expect("a tick");
    assert!(server.messages().is_empty(), "not due yet");
    engine.tick(now).await.expect("a tick");
    engine.tick(now + chrono::Duration::hours(3)).await.expect("a tick");
    let messages = server.messages();
    assert_eq!(messages.len(), 1, "sent once the server is back, and only once");
    assert_eq!(messages[0].envelope_to, "ana@example.com");
    let (_, status, _, attempts, reason) = share_row(&store, "bill").await;
    assert_eq!((status.as_str(), attempts, reason), ("sent", 4, None));
    let shared: Vec<DateTime<Utc>> = engine
        .events(PracticeId::new(1))
        .await
        .expect("events")
        .into_iter()
        .filter(|e| matches!(e.kind, EventKind::DocumentShared { .. }))
        .map(|e| e.at)
        .collect();
    assert_eq!(shared, [now]);
}

async fn documents_render_from_the_store_without_a_mail_server(backend: &str) {
    let db = database(backend).await;
    let loaded = scenario::parse("mail.toml", PRACTICE).unwrap_or_else(|error| panic!("{error}"));
    let work = tempfile::tempdir().expect("a temporary folder");
    let options = SimulationOptions { from: day(1, 5), until: day(2, 1), plugins: vec![] };
    let engine = simulation_engine(&db.url, work.path()).await;
    let simulation = simulate::run(&loaded, &options, &engine).await.unwrap_or_else(|error| panic!("{error}"));
    let bill = simulation.events.iter().find_map(|e| match e.kind {
        EventKind::BillCreated { bill, .. } => Some(bill),
        _ => None,
    });
    let superbill = simulation.events.iter().find_map(|e| match e.kind {
        EventKind::SuperbillCreated { superbill, .. } => Some(superbill),
        _ => None,
    });
    let (bill, superbill) = (bill.expect("a bill"), superbill.expect("a superbill"));
    let store = Store::connect(&db.url).await.expect("the store");

    let render = |document| pdf::render(&document).expect("the document renders");
    let text = pdf_text(&render(store.document(DocumentId::Bill(bill)).await.expect("the bill")));
    assert_contains(&text, &["Ana Alvarez", "Paid", "USD 200.00"]);
    let text = pdf_text(&render(store.document(DocumentId::Superbill(superbill)).await.expect("the superbill")));
    assert!(has_row(&text, &["2026-01-05", "10", "90837", "95", "1", "F41.1"]), "{text}");
    assert!(store.document(DocumentId::Bill(BillId::new(999_999))).await.is_err(), "an unknown bill is an error");

    // The file outbox writes the same MIME the SMTP server gets.
    let outbox = received_outbox(&work.path().join("outbox"));
    assert_eq!(outbox.len(), 2);
    for email in &outbox {
        let (name, pdf) = email.pdf();
        assert!(name.ends_with(".pdf"));
        pdf_text(pdf);
        assert!(!email.html.is_empty() && !email.text.is_empty());
    }
}

/// Clients named in six scripts, by a practice and provider with Vietnamese names.
const NAMES: [(&str, &str); 6] = [
    ("hang", "Nguyễn Thị Hằng"),
    ("ming", "王小明"),
    ("alex", "Αλέξανδρος Παπαδόπουλος"),
    ("katya", "Екатерина Смирнова"),
    ("layla", "ليلى عبد الله"),
    ("david", "דוד כהן"),
];

fn practice_in_any_script() -> String {
    let mut scenario = PRACTICE
        .split("[[client]]")
        .next()
        .unwrap_or_default()
        .replace("Lakeside Therapy", "Bến Thành Counseling")
        .replace("Dana Reyes", "Trần Văn Minh");
    for (n, (id, name)) in NAMES.iter().enumerate() {
        scenario += &format!(
            "\n[[client]]\nid = \"{id}\"\nname = \"{name}\"\nemail = \"{id}@example.com\"\n\
             birth_date = \"1990-04-12\"\nauto_superbills = true\ndiagnosis = [\"F41.1\"]\n\
             \n[[appointment]]\nid = \"a{n}\"\nclient = \"{id}\"\nstart = \"2026-01-05T{:02}:00\"\n\
             status = \"completed\"\nservices = [\"90837\"]\n",
            9 + n
        );
    }
    scenario
}

async fn names_in_any_script_arrive_intact_in_subjects_bodies_and_pdfs(backend: &str) {
    let db = database(backend).await;
    let server = SmtpServer::start();
    simulate_with(&db, &practice_in_any_script(), day(2, 1), server.mailer()).await;
    let messages = server.messages();
    assert_eq!(messages.len(), 2 * NAMES.len(), "a bill and a superbill for each client");
    for (id, name) in NAMES {
        let to = format!("{id}@example.com");
        let mine: Vec<&Received> = messages.iter().filter(|m| m.envelope_to == to).collect();
        assert_eq!(mine.len(), 2, "{name}: a bill and a superbill");
        for email in mine {
            assert!(email.subject.ends_with("from Bến Thành Counseling"), "{}", email.subject);
            assert_eq!(email.from, "Bến Thành Counseling <billing@lakeside.example>");
            assert_contains(&email.text, &[&format!("Hello {name}"), "Bến Thành Counseling"]);
            assert_contains(&email.html, &[&format!("<p>Hello {name},</p>"), "Bến Thành Counseling"]);
            let (file, pdf) = email.pdf();
            // pdftotext marks a right-to-left line with embedding controls around it.
            let text = pdf_text(pdf).replace(['\u{202b}', '\u{202c}'], "");
            assert_contains(&text, &[name, "Bến Thành Counseling"]);
            assert_qpdf_finds_no_damage(pdf);
            assert!(!text.contains('?') && !text.contains('\u{fffd}'), "{file}: nothing replaced:\n{text}");
            if file.starts_with("superbill-") {
                assert!(has_row(&text, &["Name:", name]), "{file}:\n{text}");
                assert!(has_row(&text, &["Rendering provider:", "Trần Văn Minh, LCSW"]), "{file}:\n{text}");
            } else {
                assert!(has_row(&text, &["2026-01-05", "Psychotherapy, 60 minutes", "90837", "USD 160.00"]), "{text}");
            }
        }
    }
}

/// `qpdf --check` (Debian's `qpdf`; `tests/run.sh` installs it) reads `pdf` without an error or
/// a warning.
fn assert_qpdf_finds_no_damage(pdf: &[u8]) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("document.pdf");
    std::fs::write(&path, pdf).expect("the PDF is written");
    let output = std::process::Command::new("qpdf").arg("--check").arg(&path).output().unwrap_or_else(|error| {
        panic!("qpdf checks the PDFs: `apt-get install qpdf` (tests/run.sh installs it): {error}")
    });
    assert!(
        output.status.success(),
        "qpdf --check: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// STARTTLS is required: a server that does not offer it gets nothing, not even the credentials,
/// and the error names the server but never the password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_never_falls_back_to_plain_text() {
    let server = SmtpServer::start();
    let mut config = SmtpConfig::new("127.0.0.1", server.port, SmtpSecurity::StartTls);
    config.username = Some("practice".into());
    config.password = Some("s3cret-pw".into());
    let mailer = SmtpMailer::new(config).expect("a STARTTLS mailer");
    let message = Message {
        id: "bill-1".into(),
        from: "Lakeside Therapy <billing@lakeside.example>".into(),
        to: "ana@example.com".into(),
        subject: "Your bill".into(),
        text: "Hello".into(),
        html: None,
        attachment: None,
    };
    let message = message.format().expect("a MIME message");
    let error = mailer.send(&message).await.expect_err("no STARTTLS, no email");
    let text = error.to_string();
    assert!(matches!(error, MailError::Transport(_)), "{text}");
    assert!(text.contains(&format!("127.0.0.1:{}", server.port)), "{text}");
    assert!(!text.contains("s3cret-pw"), "{text}");
    assert!(server.messages().is_empty());
}

fn received_outbox(dir: &Path) -> Vec<Received> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("the outbox")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    files.iter().map(|path| Received::parse(&std::fs::read(path).expect("an .eml file"))).collect()
}
