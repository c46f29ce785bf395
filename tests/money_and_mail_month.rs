//! Money and mail together: January's nights with autopay and sharing, run by the real
//! engine on a simulated clock against localstripe (through the test proxy, `support/`) and a real
//! SMTP server (aiosmtpd, `support/smtp.rs`), with the shared PDFs read back by `pdftotext`.
//!
//! It shows bills created at 12:00 am, charged at 12:30 am and emailed at 1:00 am (a 60-minute
//! share delay) with the PDF saying "Paid"; a declined card retried on the next nights and then
//! autopay paused after 3 attempts; a client without email and a client with email turned off
//! getting nothing; and every charge and every email exactly once although one host is killed
//! between Stripe's answer and the store's write and another between the SMTP server's answer and
//! the share's status write, each time a new host taking over once the lease has expired.

mod support;

use autobill::domain::{
    AppointmentStatus, AutomationSettings, Event, EventKind, NewAppointment, NewClient, NewPractice,
};
use autobill::engine::Engine;
use autobill::engine::decide::shares::INTERRUPTED_SEND;
use autobill::mail::Mailer;
use autobill::payments::stripe::StripeGateway;
use autobill::payments::{BoxFuture, ChargeOutcome, ChargeRequest, PaymentError, PaymentGateway};
use autobill::plugin::PluginRuntime;
use autobill::schedule::local_instant;
use autobill::store::Store;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use sqlx::Row;
use std::collections::BTreeSet;
use std::sync::Arc;
use support::db::count;
use support::localstripe::{LocalStripe, stripe_gateway};
use support::smtp::{DiesAfterSending, SmtpServer, assert_contains, has_row, pdf_text, wait_for_messages};
use support::stripe_proxy::StripeProxy;

const NY: chrono_tz::Tz = chrono_tz::America::New_York;
const FEE: i64 = 16_000;

/// Practice-local 2026-01-`day` `hour`:`minute` in New York.
fn at(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    let date = NaiveDate::from_ymd_opt(2026, 1, day).expect("a January day");
    local_instant(NY, date, NaiveTime::from_hms_opt(hour, minute, 0).expect("a time"))
}

fn engine(
    store: &Store,
    runtime: &Arc<PluginRuntime>,
    gateway: Arc<dyn PaymentGateway>,
    mailer: Arc<dyn Mailer>,
    host: &str,
) -> Engine {
    Engine::new(store.clone(), runtime.clone(), gateway, mailer, host).expect("an engine")
}

/// Passes every charge through to Stripe, but once Stripe has taken money the host is killed:
/// the call never returns, so the outcome is never written. Declines pass through untouched.
struct KilledAfterACharge {
    stripe: StripeGateway,
    charged: Arc<tokio::sync::Notify>,
}

impl PaymentGateway for KilledAfterACharge {
    fn charge<'a>(&'a self, request: &'a ChargeRequest) -> BoxFuture<'a, Result<ChargeOutcome, PaymentError>> {
        Box::pin(async move {
            let outcome = self.stripe.charge(request).await?;
            if matches!(outcome, ChargeOutcome::Succeeded { .. }) {
                self.charged.notify_one();
                std::future::pending::<()>().await;
            }
            Ok(outcome)
        })
    }
}

/// `(local time, client)` of every event named `name`, in order.
fn when(events: &[Event], name: &str) -> Vec<(String, String)> {
    events
        .iter()
        .filter_map(|event| {
            let value = serde_json::to_value(&event.kind).expect("an event as JSON");
            (value["event"] == name).then(|| {
                let client = value["client"].as_str().unwrap_or_default().to_string();
                (event.at.with_timezone(&NY).format("%m-%d %H:%M").to_string(), client)
            })
        })
        .collect()
}

fn pairs(rows: &[(&str, &str)]) -> Vec<(String, String)> {
    rows.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_month_of_autopay_and_sharing_charges_and_emails_everything_exactly_once_across_kills() {
    let local = LocalStripe::start().await;
    let proxy = StripeProxy::start(local.addr()).await;
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().expect("a folder");
    let store =
        Store::connect(&format!("sqlite://{}", dir.path().join("autobill.db").display())).await.expect("the store");
    let runtime = support::db::runtime();

    // The practice: daily bills, autopay, sharing 60 minutes after a document is created.
    let automation = AutomationSettings { autopay: true, share: true, share_delay_minutes: 60, ..Default::default() };
    let practice = NewPractice {
        name: "Lakeside Therapy".into(),
        timezone: NY,
        address: "12 Lake Street, Burlington, VT 05401".into(),
        phone: "+1 802 555 0100".into(),
        email: "billing@lakeside.example".into(),
        automation,
        ..Default::default()
    };
    let practice = store.create_practice(&practice, at(4, 12, 0)).await.expect("a practice");
    let service = store.create_service(practice, "90837", "Therapy", FEE, Some("90837")).await.expect("a service");
    let visa = local.customer_with_card("pm_card_visa").await;
    let failing = local.customer_with_card("pm_card_chargeCustomerFail").await;
    let clients = [
        // reference, email, email allowed, card, visit days
        ("ana", Some("ana@example.com"), true, Some(visa), vec![5, 6, 7]),
        ("bo", Some("bo@example.com"), true, Some(failing), vec![5]),
        ("eve", None, true, None, vec![5]),
        ("cy", Some("cy@example.com"), false, None, vec![5]),
    ];
    for (reference, email, email_enabled, card, days) in clients {
        let client = NewClient {
            reference: reference.into(),
            name: format!("Client {reference}"),
            email: email.map(Into::into),
            email_enabled,
            autopay: card.is_some(),
            card,
            ..Default::default()
        };
        let client = store.create_client(practice, &client).await.expect("a client");
        for day in days {
            let appointment_ref = format!("{reference}-{day}");
            let appointment = NewAppointment {
                practice,
                client,
                reference: &appointment_ref,
                starts_at: at(day, 10, 0),
                local_date: NaiveDate::from_ymd_opt(2026, 1, day).expect("a day"),
                status: AppointmentStatus::Completed,
                services: &[(service, FEE)],
            };
            store.create_appointment(&appointment).await.expect("an appointment");
        }
    }
    let stripe = || -> Arc<dyn PaymentGateway> { Arc::new(stripe_gateway(proxy.url())) };

    // ---- Night 1 (January 6th), host A, step by step: 12:00, 12:30, 12:59, 1:00 am.
    let host_a = engine(&store, &runtime, stripe(), smtp.mailer(), "host-a");
    host_a.tick(at(6, 0, 0)).await.expect("midnight");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM bills").await, 4, "one bill per client at 12:00 am");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM payments").await, 0, "nothing charged yet");
    host_a.tick(at(6, 0, 30)).await.expect("half past midnight");
    assert_eq!(local.succeeded_charges().await.len(), 1, "ana's bill charged at 12:30 am");
    host_a.tick(at(6, 0, 59)).await.expect("a minute before one");
    assert!(smtp.messages().is_empty(), "nothing emailed before the 60-minute delay is up");
    host_a.tick(at(6, 1, 0)).await.expect("one o'clock");
    let events = host_a.events(practice).await.expect("events");
    let first_night =
        |name| when(&events, name).into_iter().filter(|(t, _)| t.starts_with("01-06")).collect::<Vec<_>>();
    let mut created = first_night("bill_created");
    created.sort();
    assert_eq!(
        created,
        pairs(&[("01-06 00:00", "ana"), ("01-06 00:00", "bo"), ("01-06 00:00", "cy"), ("01-06 00:00", "eve")])
    );
    assert_eq!(first_night("payment_succeeded"), pairs(&[("01-06 00:30", "ana")]));
    assert_eq!(first_night("payment_failed"), pairs(&[("01-06 00:30", "bo")]));
    let mut shared = first_night("document_shared");
    shared.sort();
    assert_eq!(shared, pairs(&[("01-06 01:00", "ana"), ("01-06 01:00", "bo")]));
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
        pairs(&[
            ("cy", "email is turned off in the client's communication preferences"),
            ("eve", "no email address on file"),
        ])
    );

    // What arrived: ana's bill, paid, and bo's, still open; nothing for eve or cy.
    wait_for_messages(&smtp.maildir, 2).await;
    let messages = smtp.messages();
    let recipients: BTreeSet<&str> = messages.iter().map(|m| m.envelope_to.as_str()).collect();
    assert_eq!(recipients, BTreeSet::from(["ana@example.com", "bo@example.com"]));
    let ana = messages.iter().find(|m| m.envelope_to == "ana@example.com").expect("ana's email");
    assert_eq!(ana.from, "\"Lakeside Therapy\" <billing@lakeside.example>");
    assert_contains(&ana.text, &["Status:  Paid"]);
    let text = pdf_text(ana.pdf().1);
    assert_contains(&text, &["Lakeside Therapy", "Client ana", "Paid"]);
    assert!(has_row(&text, &["Status", "Paid"]), "{text}");
    assert!(has_row(&text, &["Balance due", "USD 0.00"]), "{text}");
    let bo = messages.iter().find(|m| m.envelope_to == "bo@example.com").expect("bo's email");
    let text = pdf_text(bo.pdf().1);
    assert!(has_row(&text, &["Status", "Open"]) && !has_row(&text, &["Status", "Paid"]), "{text}");

    // ---- Night 2 (January 7th): host A is killed after Stripe charged ana's second bill and
    // before the store heard of it; its claim on the autopay run stays behind with a lease.
    host_a.tick(at(7, 0, 0)).await.expect("midnight");
    let charged = Arc::new(tokio::sync::Notify::new());
    let dying = KilledAfterACharge { stripe: stripe_gateway(proxy.url()), charged: charged.clone() };
    let killed = engine(&store, &runtime, Arc::new(dying), smtp.mailer(), "host-a");
    drop(host_a);
    tokio::select! {
        report = killed.tick(at(7, 0, 30)) => panic!("the host should have died mid-run: {report:?}"),
        () = charged.notified() => {}
    }
    drop(killed); // the process is gone
    assert_eq!(local.succeeded_charges().await.len(), 2, "Stripe took ana's second payment");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM payments").await, 1, "the store never heard of it");

    // Host B starts: within the lease it leaves the run alone; after it, it takes the run over and
    // resends the pending attempt's idempotency key, which Stripe answers with the same charge.
    let host_b = engine(&store, &runtime, stripe(), smtp.mailer(), "host-b");
    assert_eq!(host_b.tick(at(7, 0, 35)).await.expect("a tick").runs_done, 0, "the lease still holds");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM payments").await, 1);
    let report = host_b.tick(at(7, 0, 41)).await.expect("after the lease");
    assert_eq!(report.runs_failed, 0, "{report:?}");
    assert_eq!(proxy.stats().replayed, 1, "the same key, answered from Stripe's idempotency store");
    assert_eq!(local.succeeded_charges().await.len(), 2, "still one charge per paid bill");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM payments").await, 2);
    host_b.tick(at(7, 1, 0)).await.expect("one o'clock");
    wait_for_messages(&smtp.maildir, 3).await;

    // ---- Night 3 (January 8th): host B is killed after the SMTP server took ana's third bill and
    // before the share's status was written. Host C, after the lease, marks it `unknown` (a person
    // decides) and never sends it again by itself.
    host_b.tick(at(8, 0, 45)).await.expect("midnight and autopay");
    drop(host_b);
    let doomed = engine(&store, &runtime, stripe(), Arc::new(DiesAfterSending(smtp.mailer())), "host-b");
    tokio::select! {
        report = doomed.tick(at(8, 1, 0)) => panic!("the host should have died mid-send: {report:?}"),
        () = wait_for_messages(&smtp.maildir, 4) => {}
    }
    drop(doomed);
    let host_c = engine(&store, &runtime, stripe(), smtp.mailer(), "host-c");
    host_c.tick(at(8, 1, 5)).await.expect("within the lease");
    host_c.tick(at(8, 1, 11)).await.expect("after the lease");
    let unknown: Vec<String> = sqlx::query("SELECT reason FROM shares WHERE status = 'unknown'")
        .fetch_all(store.pool())
        .await
        .expect("shares")
        .iter()
        .map(|row| row.try_get(0).expect("a reason"))
        .collect();
    assert_eq!(unknown, [INTERRUPTED_SEND], "the interrupted send is left for a person, not resent");

    // ---- The rest of January: nothing new is billed; bo's card was tried on 3 nights, then paused.
    let report = host_c.tick(at(31, 23, 0)).await.expect("the rest of the month");
    assert_eq!(report.runs_failed, 0, "{report:?}");
    let events = host_c.events(practice).await.expect("events");
    assert_eq!(
        when(&events, "payment_failed"),
        pairs(&[("01-06 00:30", "bo"), ("01-07 00:30", "bo"), ("01-08 00:30", "bo")]),
        "declined, retried on the next two nights, then no more"
    );
    assert!(
        events.iter().all(|e| match &e.kind {
            EventKind::PaymentFailed { reason, .. } => reason.contains("card_declined"),
            _ => true,
        }),
        "Stripe's decline code is recorded"
    );
    let paused: Vec<(String, Option<String>)> =
        sqlx::query("SELECT reference, autopay_paused FROM clients WHERE autopay_paused IS NOT NULL")
            .fetch_all(store.pool())
            .await
            .expect("clients")
            .iter()
            .map(|row| (row.try_get(0).expect("reference"), row.try_get(1).expect("reason")))
            .collect();
    assert_eq!(paused.len(), 1, "{paused:?}");
    assert_eq!(paused[0].0, "bo");
    assert!(paused[0].1.as_deref().is_some_and(|r| r.contains("after 3 declined attempts")), "{paused:?}");

    // ---- Exactly once, in the end.
    // Stripe: one succeeded charge per paid bill (ana's three), one PaymentIntent per attempt.
    let paid = count(&store, "SELECT COUNT(*) FROM bills WHERE status = 'paid'").await;
    assert_eq!(paid, 3);
    let succeeded = local.succeeded_charges().await;
    assert_eq!(succeeded.len() as i64, paid, "one succeeded charge per paid bill");
    assert!(succeeded.iter().all(|charge| charge["amount"] == FEE), "{succeeded:?}");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM payments").await, paid, "one payment row per paid bill");
    assert_eq!(local.payment_intents().await.len(), 6, "ana's three, bo's three declined");
    let mut paid_bills: Vec<autobill::domain::BillId> = events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::PaymentSucceeded { bill, amount, .. } => {
                assert_eq!(amount, FEE);
                Some(bill)
            }
            _ => None,
        })
        .collect();
    let all = paid_bills.len();
    paid_bills.dedup();
    assert_eq!((all, paid_bills.len()), (3, 3), "payment_succeeded once per bill");

    // Mail: one email per shared document (sent, or taken by the server before a crash), each
    // document once; the bills of ana's three nights and bo's one.
    let messages = smtp.messages();
    let shared = count(&store, "SELECT COUNT(*) FROM shares WHERE status IN ('sent', 'unknown')").await;
    assert_eq!(shared, 4);
    assert_eq!(messages.len() as i64, shared, "one email per shared document");
    let attachments: BTreeSet<&str> = messages.iter().map(|m| m.pdf().0).collect();
    assert_eq!(attachments.len(), messages.len(), "no document emailed twice: {attachments:?}");
    let to_ana = messages.iter().filter(|m| m.envelope_to == "ana@example.com").count();
    assert_eq!((to_ana, messages.len() - to_ana), (3, 1), "ana's three bills and bo's one");
    for email in messages.iter().filter(|m| m.envelope_to == "ana@example.com") {
        let text = pdf_text(email.pdf().1);
        assert!(has_row(&text, &["Status", "Paid"]), "every one of ana's shared bills says Paid:\n{text}");
    }
    let mut shared = when(&events, "document_shared");
    shared.sort();
    assert_eq!(
        shared,
        pairs(&[("01-06 01:00", "ana"), ("01-06 01:00", "bo"), ("01-07 01:00", "ana")]),
        "the fourth is `unknown`: the server took it, the host died before writing it"
    );
}
