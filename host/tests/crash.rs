//! Killing the `autobill` process in the middle of a bill run, of the night's concurrent charges
//! and of its concurrent emails: the restart finishes the work, and no line is billed twice, no
//! bill charged twice and no email sent twice. Drives the real binary (`autobill tick`) on a
//! SQLite file.

use autobill::domain::{AppointmentStatus, AutomationSettings, NewAppointment, NewClient, NewPractice};
use autobill::schedule::local_instant;
use autobill::store::Store;
use chrono::{Duration, NaiveDate, NaiveTime, SecondsFormat};
use sqlx::Row;
use std::process::{Command, Stdio};
use std::time::Instant;

const CLIENTS: usize = 40;
const LINES_PER_CLIENT: usize = 500;

async fn count(store: &Store, sql: &str) -> i64 {
    sqlx::query(sql).fetch_one(store.pool()).await.expect("a count").try_get(0).expect("an integer")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_process_mid_run_loses_nothing_and_doubles_nothing() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let url = format!("sqlite://{}", dir.path().join("autobill.db").display());
    let store = Store::connect(&url).await.expect("the store");
    let tz = chrono_tz::America::New_York;
    let day = |d| NaiveDate::from_ymd_opt(2026, 1, d).expect("a date");
    let created = local_instant(tz, day(5), NaiveTime::MIN);
    let settings = AutomationSettings { superbill_day: 15, ..Default::default() };
    let new = NewPractice {
        name: "P".into(),
        timezone: tz,
        currency: autobill::domain::Currency::USD,
        npi: String::new(),
        tax_id: String::new(),
        address: String::new(),
        phone: String::new(),
        automation: settings,
        ..Default::default()
    };
    let practice = store.create_practice(&new, created).await.expect("a practice");
    let service = store.create_service(practice, "90837", "Therapy", 15_000, Some("90837")).await.expect("a service");
    let services = vec![(service, 15_000); LINES_PER_CLIENT];
    for n in 0..CLIENTS {
        let new =
            NewClient { reference: format!("c{n}"), name: format!("C {n}"), email_enabled: true, ..Default::default() };
        let client = store.create_client(practice, &new).await.expect("a client");
        let reference = format!("a{n}");
        let appointment = NewAppointment {
            practice,
            client,
            reference: &reference,
            starts_at: created + Duration::hours(10),
            local_date: day(5),
            status: AppointmentStatus::Completed,
            services: &services,
        };
        store.create_appointment(&appointment).await.expect("an appointment");
    }

    let night = local_instant(tz, day(6), NaiveTime::from_hms_opt(0, 5, 0).expect("a time"));
    let tick = |at: chrono::DateTime<chrono::Utc>, host: &str, workers: &str| {
        Command::new(env!("CARGO_BIN_EXE_autobill"))
            .args([
                "tick",
                "--database-url",
                &url,
                "--host",
                host,
                "--at",
                &at.to_rfc3339_opts(SecondsFormat::Secs, true),
                "--run-workers",
                workers,
            ])
            .arg("--outbox")
            .arg(dir.path().join("outbox"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("autobill starts")
    };

    let mut first = tick(night, "first", "1");
    let started = Instant::now();
    loop {
        let running = count(&store, "SELECT COUNT(*) FROM runs WHERE kind = 'bill' AND status = 'running'").await;
        if running == 1 {
            break;
        }
        assert!(
            first.try_wait().expect("the process").is_none(),
            "the run finished before it could be killed; make it longer"
        );
        assert!(started.elapsed().as_secs() < 120, "the bill run never started");
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    first.kill().expect("the process is killed");
    first.wait().expect("the process is gone");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM bills").await, 0, "nothing of the killed run survives");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM service_lines WHERE bill_id IS NOT NULL").await, 0);

    // The killed host's claim holds for its lease (10 minutes); a restart after that takes over,
    // here with two run workers.
    let status = tick(night + Duration::minutes(11), "second", "2").wait().expect("the restart runs");
    assert!(status.success(), "the restart succeeds");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM bills").await, CLIENTS as i64, "one bill per client");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM service_lines WHERE bill_id IS NULL").await, 0, "every line billed");
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM (SELECT bill_id FROM service_lines GROUP BY bill_id HAVING COUNT(*) <> 500) t"
        )
        .await,
        0,
        "each bill holds its client's lines once"
    );
    assert_eq!(count(&store, "SELECT attempts FROM runs WHERE kind = 'bill' AND local_date = '2026-01-06'").await, 2);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM runs WHERE status <> 'done'").await, 0);
}

const PAYERS: usize = 1_500;

/// Waits until `sql` counts more than it did at the start and fewer than `total`, then kills
/// `child`.
async fn kill_midway(child: &mut std::process::Child, store: &Store, sql: &str, total: i64, what: &str) {
    let started = Instant::now();
    let before = count(store, sql).await;
    loop {
        let done = count(store, sql).await;
        if done > before && done < total {
            break;
        }
        assert!(done < total, "the {what} finished before they could be killed; make them longer");
        assert!(child.try_wait().expect("the process").is_none(), "the process ended before the {what} started");
        assert!(started.elapsed().as_secs() < 300, "the {what} never started");
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    child.kill().expect("the process is killed");
    child.wait().expect("the process is gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_process_mid_charges_and_mid_emails_charges_and_emails_each_bill_once() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let url = format!("sqlite://{}", dir.path().join("autobill.db").display());
    let store = Store::connect(&url).await.expect("the store");
    let tz = chrono_tz::America::New_York;
    let day = |d| NaiveDate::from_ymd_opt(2026, 1, d).expect("a date");
    let created = local_instant(tz, day(5), NaiveTime::MIN);
    let settings = AutomationSettings {
        share: true,
        share_delay_minutes: 0,
        autopay: true,
        superbill_day: 15,
        ..Default::default()
    };
    let new = NewPractice {
        name: "P".into(),
        timezone: tz,
        currency: autobill::domain::Currency::USD,
        automation: settings,
        ..Default::default()
    };
    let practice = store.create_practice(&new, created).await.expect("a practice");
    let service = store.create_service(practice, "90837", "Therapy", 15_000, Some("90837")).await.expect("a service");
    for n in 0..PAYERS {
        let new = NewClient {
            reference: format!("c{n}"),
            name: format!("C {n}"),
            email: Some(format!("c{n}@example.com")),
            email_enabled: true,
            auto_share: Some(true),
            autopay: true,
            card: Some("visa".into()),
            ..Default::default()
        };
        let client = store.create_client(practice, &new).await.expect("a client");
        let reference = format!("a{n}");
        let appointment = NewAppointment {
            practice,
            client,
            reference: &reference,
            starts_at: created + Duration::hours(10),
            local_date: day(5),
            status: AppointmentStatus::Completed,
            services: &[(service, 15_000)],
        };
        store.create_appointment(&appointment).await.expect("an appointment");
    }
    let outbox = dir.path().join("outbox");
    let tick = |at: chrono::DateTime<chrono::Utc>, host: &str| {
        Command::new(env!("CARGO_BIN_EXE_autobill"))
            .args([
                "tick",
                "--database-url",
                &url,
                "--host",
                host,
                "--at",
                &at.to_rfc3339_opts(SecondsFormat::Secs, true),
            ])
            .arg("--outbox")
            .arg(&outbox)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("autobill starts")
    };
    let total = PAYERS as i64;
    let at = |minutes| local_instant(tz, day(6), NaiveTime::MIN) + Duration::minutes(minutes);
    assert!(tick(at(5), "bills").wait().expect("the bill run").success());
    assert_eq!(count(&store, "SELECT COUNT(*) FROM bills").await, total);

    // 12:35 am: the autopay run writes every attempt, then the charges go out concurrently, and
    // each bill's email as its charge settles.
    let mut charging = tick(at(35), "first");
    let succeeded = "SELECT COUNT(*) FROM payment_attempts WHERE status = 'succeeded'";
    kill_midway(&mut charging, &store, succeeded, total, "charges").await;
    let uncharged = "SELECT COUNT(*) FROM shares s JOIN bills b ON b.id = s.document_id
                     WHERE s.status IN ('sending', 'sent') AND b.status <> 'paid'";
    assert_eq!(count(&store, uncharged).await, 0, "no bill emailed before it was charged");

    // After the lease, a restart charges the rest (resending what the killed host had claimed,
    // with the same keys), then emails; it is killed in the middle of the emails.
    let mut emailing = tick(at(46), "second");
    kill_midway(&mut emailing, &store, "SELECT COUNT(*) FROM shares WHERE status = 'sent'", total, "emails").await;
    assert!(tick(at(57), "third").wait().expect("the second restart").success());

    assert_eq!(count(&store, "SELECT COUNT(*) FROM payment_attempts").await, total, "one attempt per bill");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM payment_attempts WHERE status = 'succeeded'").await, total);
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM payment_attempts WHERE idempotency_key <> 'autobill-bill-' || bill_id || '-attempt-1'"
        )
        .await,
        0,
        "the keys written before the first call are the keys sent"
    );
    assert_eq!(count(&store, "SELECT COUNT(DISTINCT bill_id) FROM payments").await, total);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM payments").await, total, "no bill paid twice");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM bills WHERE status <> 'paid'").await, 0);

    let sent = count(&store, "SELECT COUNT(*) FROM shares WHERE status = 'sent'").await;
    let unknown = count(&store, "SELECT COUNT(*) FROM shares WHERE status = 'unknown'").await;
    assert_eq!(sent + unknown, total, "every share settled: sent, or unknown when the kill cut its send");
    assert!(unknown <= 64, "only sends in the killed host's hands are unknown: {unknown}");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM shares WHERE attempts <> 1").await, 0, "no share claimed twice");
    let files = std::fs::read_dir(&outbox)
        .expect("the outbox")
        .filter_map(Result::ok)
        .filter(|entry| entry.path().extension() == Some("eml".as_ref()))
        .count() as i64;
    assert!((sent..=sent + unknown).contains(&files), "{files} emails for {sent} sent and {unknown} unknown");
}
