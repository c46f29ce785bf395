//! `autobill tick` builds the same application as `serve`: with `AUTOBILL_STRIPE_SECRET_KEY` and
//! `AUTOBILL_STRIPE_API_BASE` set it charges through Stripe (here localstripe, through the
//! suites' test proxy), and without them through the sandbox gateway; it says which on stderr.

#[allow(dead_code)]
#[path = "../../tests/support/localstripe.rs"]
mod localstripe;
#[allow(dead_code)]
#[path = "../../tests/support/stripe_proxy.rs"]
mod stripe_proxy;

use autobill::domain::{AppointmentStatus, AutomationSettings, NewAppointment, NewClient, NewPractice};
use autobill::schedule::local_instant;
use autobill::store::Store;
use chrono::{NaiveDate, NaiveTime, SecondsFormat};
use sqlx::Row;
use std::process::Command;

const NY: chrono_tz::Tz = chrono_tz::America::New_York;

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, d).expect("a January day")
}

/// A practice with autopay on, one client whose card is `card`, and a visit on January 5th.
async fn practice(url: &str, card: &str) -> Store {
    let store = Store::connect(url).await.expect("the store");
    let created = local_instant(NY, day(4), NaiveTime::MIN);
    let automation = AutomationSettings { autopay: true, ..Default::default() };
    let new = NewPractice { name: "P".into(), timezone: NY, automation, ..Default::default() };
    let practice = store.create_practice(&new, created).await.expect("a practice");
    let service = store.create_service(practice, "90837", "Therapy", 15_000, None).await.expect("a service");
    let client = NewClient {
        reference: "ana".into(),
        name: "Ana".into(),
        autopay: true,
        card: Some(card.into()),
        ..Default::default()
    };
    let client = store.create_client(practice, &client).await.expect("a client");
    let appointment = NewAppointment {
        practice,
        client,
        reference: "a1",
        starts_at: local_instant(NY, day(5), NaiveTime::from_hms_opt(10, 0, 0).expect("a time")),
        local_date: day(5),
        status: AppointmentStatus::Completed,
        services: &[(service, 15_000)],
    };
    store.create_appointment(&appointment).await.expect("an appointment");
    store
}

/// Runs `autobill tick` on `url` at 1:00 am on January 6th with `env`; answers its stderr.
fn tick(url: &str, outbox: &std::path::Path, env: &[(&str, String)]) -> String {
    let at = local_instant(NY, day(6), NaiveTime::from_hms_opt(1, 0, 0).expect("a time"));
    let mut command = Command::new(env!("CARGO_BIN_EXE_autobill"));
    command
        .args(["tick", "--database-url", url, "--at", &at.to_rfc3339_opts(SecondsFormat::Secs, true)])
        .arg("--outbox")
        .arg(outbox)
        .env_remove("AUTOBILL_STRIPE_SECRET_KEY")
        .env_remove("AUTOBILL_STRIPE_API_BASE");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("autobill runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stderr}");
    stderr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tick_charges_through_stripe_when_stripe_is_configured() {
    let local = localstripe::LocalStripe::start().await;
    let proxy = stripe_proxy::StripeProxy::start(local.addr()).await;
    let dir = tempfile::tempdir().expect("a folder");
    let url = format!("sqlite://{}", dir.path().join("autobill.db").display());
    let card = local.customer_with_card("pm_card_visa").await;
    let store = practice(&url, &card).await;
    let env = [
        ("AUTOBILL_STRIPE_SECRET_KEY", localstripe::SECRET_KEY.to_string()),
        ("AUTOBILL_STRIPE_API_BASE", proxy.url()),
    ];
    let stderr = tick(&url, &dir.path().join("outbox"), &env);
    assert!(stderr.contains("payments go to Stripe"), "{stderr}");
    assert_eq!(local.succeeded_charges().await.len(), 1, "the bill was charged at Stripe");
    let paid: i64 = sqlx::query("SELECT COUNT(*) FROM payments")
        .fetch_one(store.pool())
        .await
        .expect("payments")
        .try_get(0)
        .expect("a count");
    assert_eq!(paid, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tick_without_stripe_uses_the_sandbox_and_says_so() {
    let dir = tempfile::tempdir().expect("a folder");
    let url = format!("sqlite://{}", dir.path().join("autobill.db").display());
    let store = practice(&url, "visa").await;
    let stderr = tick(&url, &dir.path().join("outbox"), &[]);
    assert!(stderr.contains("payments go to the sandbox gateway"), "{stderr}");
    let paid: i64 = sqlx::query("SELECT COUNT(*) FROM payments")
        .fetch_one(store.pool())
        .await
        .expect("payments")
        .try_get(0)
        .expect("a count");
    assert_eq!(paid, 1, "the sandbox takes the payment of a `visa` card");
}
