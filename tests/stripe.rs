//! autobill's Stripe gateway against localstripe (PyPI `localstripe`, started per test on
//! 127.0.0.1), through a test-only proxy that makes localstripe's answers fit async-stripe's
//! strict types and keeps Stripe's idempotency promise (see `support/stripe_proxy.rs`).
//!
//! The last two tests run the real engine over a night of autopay and kill it between Stripe's
//! answer and the store's write: the restart sends the same idempotency key, and the client is
//! charged exactly once.

mod support;

use autobill::domain::{
    AppointmentStatus, AutomationSettings, BillId, Currency, EventKind, NewAppointment, NewClient, NewPractice,
    PracticeId,
};
use autobill::engine::Engine;
use autobill::mail::FileOutbox;
use autobill::payments::stripe::StripeGateway;
use autobill::payments::{BoxFuture, ChargeOutcome, ChargeRequest, PaymentError, PaymentGateway};
use autobill::plugin::PluginRuntime;
use autobill::schedule::local_instant;
use autobill::store::Store;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde_json::json;
use sqlx::Row;
use std::sync::Arc;
use support::db::{count, runtime};
use support::localstripe::{LocalStripe, SECRET_KEY, stripe_gateway};
use support::stripe_proxy::{ProxyStats, StripeProxy};

/// localstripe and the proxy in front of it, for one test.
struct Stripe {
    local: LocalStripe,
    proxy: StripeProxy,
}

async fn stripe() -> Stripe {
    let local = LocalStripe::start().await;
    let proxy = StripeProxy::start(local.addr()).await;
    Stripe { local, proxy }
}

fn charge(key: &str, card: &str, amount: i64) -> ChargeRequest {
    ChargeRequest { idempotency_key: key.into(), card: card.into(), amount, currency: Currency::USD }
}

fn declined(code: &str, retryable: bool) -> ChargeOutcome {
    ChargeOutcome::Declined { code: code.into(), retryable }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirmed_off_session_payment_intent_takes_the_money() {
    let stripe = stripe().await;
    let card = stripe.local.customer_with_card("pm_card_visa").await;
    let gateway = stripe_gateway(stripe.proxy.url());
    let outcome = gateway.charge(&charge("autobill-bill-1-attempt-1", &card, 16_000)).await.expect("an answer");
    let ChargeOutcome::Succeeded { reference } = outcome else { panic!("not charged: {outcome:?}") };
    assert!(reference.starts_with("pi_"), "{reference}");
    let intents = stripe.local.payment_intents().await;
    assert_eq!(intents.len(), 1);
    let (customer, method) = card.split_once('/').expect("cus_…/pm_…");
    let intent = &intents[0];
    assert_eq!(intent["id"], reference.as_str());
    assert_eq!(intent["amount"], 16_000);
    assert_eq!(intent["currency"], "usd");
    assert_eq!(intent["customer"], customer);
    assert_eq!(intent["payment_method"], method);
    assert_eq!(intent["status"], "succeeded");
    assert_eq!(
        intent["metadata"]["autobill_attempt"], "autobill-bill-1-attempt-1",
        "the attempt's key, so Stripe's events about the intent find the attempt"
    );
    assert_eq!(stripe.local.succeeded_charges().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declines_are_classified_as_stripe_answers_them() {
    let stripe = stripe().await;
    let gateway = stripe_gateway(stripe.proxy.url());

    // Attaches, then every charge is declined: Stripe's generic `card_declined`, worth retrying.
    let failing = stripe.local.customer_with_card("pm_card_chargeCustomerFail").await;
    let outcome = gateway.charge(&charge("k-fail", &failing, 5_000)).await.expect("an answer");
    assert_eq!(outcome, declined("card_declined", true));

    // A card that needs 3-D Secure: off-session, the intent stops at `requires_action`.
    let three_ds = stripe.local.customer_with_card_number("4000002760003184").await;
    let outcome = gateway.charge(&charge("k-3ds", &three_ds, 5_000)).await.expect("an answer");
    assert_eq!(outcome, ChargeOutcome::AuthenticationRequired);
    assert_eq!(stripe.local.succeeded_charges().await.len(), 0, "neither took money");

    // What localstripe cannot produce, in the shape Stripe's API reference gives its errors.
    let visa = stripe.local.customer_with_card("pm_card_visa").await;
    let cases = [
        (
            json!({"code": "card_declined", "decline_code": "stolen_card", "advice_code": "do_not_try_again"}),
            declined("stolen_card", false),
        ),
        (json!({"code": "card_declined", "decline_code": "do_not_honor"}), declined("do_not_honor", false)),
        (json!({"code": "expired_card", "decline_code": "expired_card"}), declined("expired_card", false)),
        (
            json!({"code": "card_declined", "decline_code": "insufficient_funds", "advice_code": "try_again_later"}),
            declined("insufficient_funds", true),
        ),
        (
            json!({"code": "authentication_required", "decline_code": "authentication_required"}),
            ChargeOutcome::AuthenticationRequired,
        ),
    ];
    for (n, (error, expected)) in cases.into_iter().enumerate() {
        let mut error = error;
        error["type"] = json!("card_error");
        error["message"] = json!("Your card was declined.");
        error["charge"] = json!("ch_canned");
        error["doc_url"] = json!("https://docs.stripe.com/error-codes");
        stripe.proxy.answer_next(1, 402, json!({ "error": error }));
        let outcome = gateway.charge(&charge(&format!("k-canned-{n}"), &visa, 5_000)).await.expect("an answer");
        assert_eq!(outcome, expected, "{error}");
    }
    assert_eq!(stripe.proxy.stats().canned, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_idempotency_key_charges_once() {
    let stripe = stripe().await;
    let card = stripe.local.customer_with_card("pm_card_visa").await;
    let gateway = stripe_gateway(stripe.proxy.url());
    let request = charge("autobill-bill-7-attempt-1", &card, 12_500);
    let first = gateway.charge(&request).await.expect("an answer");
    let second = gateway.charge(&request).await.expect("an answer");
    assert!(matches!(first, ChargeOutcome::Succeeded { .. }), "{first:?}");
    assert_eq!(second, first, "the replay names the same PaymentIntent");
    assert_eq!(stripe.local.payment_intents().await.len(), 1);
    assert_eq!(stripe.local.succeeded_charges().await.len(), 1);
    assert_eq!(stripe.proxy.stats(), ProxyStats { received: 2, canned: 0, forwarded: 1, replayed: 1 });

    // The same key for another amount is refused, as Stripe refuses it, and charges nothing.
    let error = gateway.charge(&charge("autobill-bill-7-attempt-1", &card, 99)).await.expect_err("a reused key");
    assert!(error.to_string().contains("idempotency_error"), "{error}");
    assert_eq!(stripe.local.succeeded_charges().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_are_backed_off_and_the_charge_resumes() {
    let stripe = stripe().await;
    let card = stripe.local.customer_with_card("pm_card_visa").await;
    let gateway = stripe_gateway(stripe.proxy.url());

    stripe.proxy.rate_limit_next(3);
    let outcome = gateway.charge(&charge("k-429", &card, 4_000)).await.expect("an answer after the 429s");
    assert!(matches!(outcome, ChargeOutcome::Succeeded { .. }), "{outcome:?}");
    assert_eq!(stripe.proxy.stats(), ProxyStats { received: 4, canned: 3, forwarded: 1, replayed: 0 });

    // A limit that outlasts the attempts is an error (the engine keeps the attempt pending)…
    stripe.proxy.rate_limit_next(5);
    let error = gateway.charge(&charge("k-429-long", &card, 4_100)).await.expect_err("still limited");
    assert!(error.to_string().contains("429"), "{error}");
    assert_eq!(stripe.proxy.stats().canned, 8, "five sends in all");
    assert_eq!(stripe.local.payment_intents().await.len(), 1, "nothing reached Stripe");
    // …and the same key goes through once the limit lifts.
    let outcome = gateway.charge(&charge("k-429-long", &card, 4_100)).await.expect("an answer");
    assert!(matches!(outcome, ChargeOutcome::Succeeded { .. }), "{outcome:?}");
    assert_eq!(stripe.local.succeeded_charges().await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_stripe_is_an_error_that_never_shows_the_key() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.local_addr().expect("its address").port()
    }; // closed again: nothing listens there
    let gateway = stripe_gateway(format!("http://127.0.0.1:{port}"));
    let error = gateway.charge(&charge("k-down", "cus_a/pm_b", 1_000)).await.expect_err("nobody answers");
    let text = format!("{error} {error:?} {gateway:?}");
    assert!(text.contains("could not reach Stripe"), "{text}");
    assert!(!text.contains(SECRET_KEY), "{text}");

    let stripe = stripe().await;
    let gateway = stripe_gateway(stripe.proxy.url());
    stripe.proxy.answer_next(
        1,
        401,
        json!({"error": {"type": "invalid_request_error", "message": format!("Invalid API Key provided: {SECRET_KEY}")}}),
    );
    let error = gateway.charge(&charge("k-401", "cus_a/pm_b", 1_000)).await.expect_err("a refused key");
    assert!(error.to_string().contains("Invalid API Key provided: sk_***"), "{error}");
    assert!(!format!("{error:?}").contains(SECRET_KEY), "{error:?}");
}

// ---- the engine over a night of autopay, with a crash between Stripe and the store ----

const NY: chrono_tz::Tz = chrono_tz::America::New_York;

fn at(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    let date = NaiveDate::from_ymd_opt(2026, 1, day).expect("a January day");
    local_instant(NY, date, NaiveTime::from_hms_opt(hour, minute, 0).expect("a time"))
}

/// A practice with autopay on and one client whose card is `card`, with a visit on each of the
/// given January days (each billed at the next midnight and charged at 00:30).
async fn practice(store: &Store, card: &str, days: &[u32]) -> PracticeId {
    let automation = AutomationSettings { autopay: true, ..Default::default() };
    let practice = NewPractice { name: "Stripe Practice".into(), timezone: NY, automation, ..Default::default() };
    let practice = store.create_practice(&practice, at(4, 12, 0)).await.expect("a practice");
    let service = store.create_service(practice, "90837", "Therapy", 15_000, Some("90837")).await.expect("a service");
    let client = NewClient {
        reference: "ana".into(),
        name: "Ana".into(),
        autopay: true,
        card: Some(card.into()),
        ..Default::default()
    };
    let client = store.create_client(practice, &client).await.expect("a client");
    for day in days {
        let reference = format!("ana-{day}");
        let day = *day;
        let appointment = NewAppointment {
            practice,
            client,
            reference: &reference,
            starts_at: at(day, 10, 0),
            local_date: NaiveDate::from_ymd_opt(2026, 1, day).expect("a day"),
            status: AppointmentStatus::Completed,
            services: &[(service, 15_000)],
        };
        store.create_appointment(&appointment).await.expect("an appointment");
    }
    practice
}

fn engine(store: &Store, runtime: &Arc<PluginRuntime>, gateway: Arc<dyn PaymentGateway>, host: &str) -> Engine {
    let outbox = std::env::temp_dir().join("autobill-stripe-test-outbox");
    Engine::new(store.clone(), runtime.clone(), gateway, Arc::new(FileOutbox::new(outbox)), host).expect("an engine")
}

async fn paid_bills(engine: &Engine, practice: PracticeId) -> Vec<BillId> {
    let events = engine.events(practice).await.expect("events");
    events
        .iter()
        .filter_map(|event| match &event.kind {
            EventKind::PaymentSucceeded { bill, amount, .. } => {
                assert_eq!(*amount, 15_000);
                Some(*bill)
            }
            _ => None,
        })
        .collect()
}

/// How the host "dies" once Stripe has answered.
#[derive(Clone, Copy)]
enum Death {
    /// The process is killed: the call never returns and nothing after it runs.
    Killed,
    /// The gateway call fails after Stripe took the money, as when the answer is lost.
    AnswerLost,
}

/// Charges through Stripe, then dies before the engine can write the outcome.
struct DiesAfterCharging {
    stripe: StripeGateway,
    death: Death,
    charged: Arc<tokio::sync::Notify>,
}

impl PaymentGateway for DiesAfterCharging {
    fn charge<'a>(&'a self, request: &'a ChargeRequest) -> BoxFuture<'a, Result<ChargeOutcome, PaymentError>> {
        Box::pin(async move {
            let outcome = self.stripe.charge(request).await;
            assert!(matches!(outcome, Ok(ChargeOutcome::Succeeded { .. })), "Stripe charged: {outcome:?}");
            self.charged.notify_one();
            match self.death {
                Death::Killed => std::future::pending().await,
                Death::AnswerLost => Err(PaymentError("the connection dropped after Stripe answered".into())),
            }
        })
    }
}

/// The first night charges the first bill; returns the store, the practice and the runtime.
async fn first_night(stripe: &Stripe, dir: &tempfile::TempDir) -> (Store, PracticeId, Arc<PluginRuntime>) {
    let url = format!("sqlite://{}", dir.path().join("autobill.db").display());
    let store = Store::connect(&url).await.expect("the store");
    let card = stripe.local.customer_with_card("pm_card_visa").await;
    let practice = practice(&store, &card, &[5, 6]).await;
    let runtime = runtime();
    let night = engine(&store, &runtime, Arc::new(stripe_gateway(stripe.proxy.url())), "host-a");
    let report = night.tick(at(6, 1, 0)).await.expect("the first night");
    assert_eq!(report.runs_failed, 0, "{report:?}");
    assert_eq!(paid_bills(&night, practice).await.len(), 1, "payment_succeeded at 00:30");
    assert_eq!(stripe.local.succeeded_charges().await.len(), 1);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM payments").await, 1);
    let payments = store.payments(practice, autobill::store::PageRequest::ALL).await.expect("payments");
    let reference = payments[0].provider_reference.as_deref().unwrap_or_default();
    assert!(reference.starts_with("pi_"), "the payment keeps Stripe's PaymentIntent id: {reference:?}");
    (store, practice, runtime)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_autopay_night_charges_once_across_a_crash_between_stripe_and_the_store() {
    let stripe = stripe().await;
    let dir = tempfile::tempdir().expect("a folder");
    let (store, practice, runtime) = first_night(&stripe, &dir).await;

    // The second night: Stripe charges the second bill, then the host is killed before it
    // writes the outcome. Its claim on the run stays behind with a lease.
    let charged = Arc::new(tokio::sync::Notify::new());
    let dying = DiesAfterCharging {
        stripe: stripe_gateway(stripe.proxy.url()),
        death: Death::Killed,
        charged: charged.clone(),
    };
    let crashed = engine(&store, &runtime, Arc::new(dying), "host-killed");
    tokio::select! {
        report = crashed.tick(at(7, 1, 0)) => panic!("the host should have died mid-run: {report:?}"),
        () = charged.notified() => {} // the process dies here: the tick is dropped mid-flight
    }
    drop(crashed);
    assert_eq!(stripe.local.succeeded_charges().await.len(), 2, "Stripe took the second payment");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM payments").await, 1, "the store never heard of it");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM payment_attempts WHERE status = 'pending'").await, 1);

    // The restarted host takes the run over once the lease has expired, finds the attempt still
    // pending and sends its key again: Stripe answers with the charge it already made.
    let restarted = engine(&store, &runtime, Arc::new(stripe_gateway(stripe.proxy.url())), "host-restarted");
    let report = restarted.tick(at(7, 1, 11)).await.expect("the restart's tick");
    assert_eq!((report.runs_done, report.runs_failed), (1, 0), "the autopay run, finished");
    assert_eq!(stripe.proxy.stats().replayed, 1, "the same key, answered from Stripe's idempotency store");
    assert_eq!(stripe.local.payment_intents().await.len(), 2);
    assert_eq!(stripe.local.succeeded_charges().await.len(), 2, "one charge per bill");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM payments").await, 2, "one payment row per bill");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM payment_attempts").await, 2, "one attempt per bill");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM bills WHERE status = 'paid'").await, 2);
    let mut bills = paid_bills(&restarted, practice).await;
    bills.dedup();
    assert_eq!(bills.len(), 2, "payment_succeeded once per bill");

    let report = restarted.tick(at(7, 2, 0)).await.expect("a later tick");
    assert_eq!(report.runs_done, 0);
    assert_eq!(stripe.local.succeeded_charges().await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_lost_after_the_charge_is_resent_by_the_next_run_without_a_second_charge() {
    let stripe = stripe().await;
    let dir = tempfile::tempdir().expect("a folder");
    let (store, practice, runtime) = first_night(&stripe, &dir).await;

    let charged = Arc::new(tokio::sync::Notify::new());
    let dying = DiesAfterCharging { stripe: stripe_gateway(stripe.proxy.url()), death: Death::AnswerLost, charged };
    let host = engine(&store, &runtime, Arc::new(dying), "host-a");
    let report = host.tick(at(7, 1, 0)).await.expect("the second night");
    assert_eq!(report.runs_failed, 1, "the autopay run fails with the gateway's error");
    assert_eq!(stripe.local.succeeded_charges().await.len(), 2);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM payments").await, 1);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM payment_attempts WHERE status = 'pending'").await, 1);

    // The next moment changes nothing; the next night's run sends the pending attempt's key.
    let host = engine(&store, &runtime, Arc::new(stripe_gateway(stripe.proxy.url())), "host-a");
    assert_eq!(host.tick(at(7, 1, 1)).await.expect("a tick").runs_done, 0);
    let report = host.tick(at(8, 1, 0)).await.expect("the third night");
    assert_eq!(report.runs_failed, 0, "{report:?}");
    assert_eq!(stripe.proxy.stats().replayed, 1);
    assert_eq!(stripe.local.succeeded_charges().await.len(), 2, "still one charge per bill");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM payments").await, 2);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM payment_attempts").await, 2);
    assert_eq!(paid_bills(&host, practice).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declining_card_is_retried_nightly_then_autopay_pauses() {
    let stripe = stripe().await;
    let dir = tempfile::tempdir().expect("a folder");
    let url = format!("sqlite://{}", dir.path().join("autobill.db").display());
    let store = Store::connect(&url).await.expect("the store");
    let card = stripe.local.customer_with_card("pm_card_chargeCustomerFail").await;
    let practice = practice(&store, &card, &[5]).await;
    let host = engine(&store, &runtime(), Arc::new(stripe_gateway(stripe.proxy.url())), "host-a");
    host.tick(at(10, 1, 0)).await.expect("five nights");
    let events = host.events(practice).await.expect("events");
    let failures: Vec<(BillId, String)> = events
        .iter()
        .filter_map(|event| match &event.kind {
            EventKind::PaymentFailed { bill, reason, .. } => Some((*bill, reason.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(failures.len(), 3, "three nightly attempts on the first bill, then autopay pauses: {failures:?}");
    assert!(failures.iter().all(|(_, reason)| reason.contains("card_declined")), "{failures:?}");
    let paused: Option<String> = sqlx::query("SELECT autopay_paused FROM clients")
        .fetch_one(store.pool())
        .await
        .expect("the client")
        .try_get(0)
        .expect("a reason");
    assert!(paused.is_some_and(|reason| reason.contains("after 3 declined attempts")));
    assert_eq!(stripe.local.payment_intents().await.len(), 3, "one PaymentIntent per attempt");
    assert_eq!(stripe.local.succeeded_charges().await.len(), 0);
}
