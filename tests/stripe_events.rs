//! What Stripe tells after a charge, on SQLite and on PostgreSQL: disputes, refunds and late
//! outcomes, delivered as Stripe delivers them (its documented event shapes, signed with the
//! endpoint's secret), verified, and applied at most once by the engine.

#[macro_use]
mod support;

use autobill::domain::{AttemptStatus, BillId, BillStatus, Currency, DisputeStatus, DocumentId, EventKind, PracticeId};
use autobill::engine::{Engine, ProviderEventOutcome};
use autobill::mail::FileOutbox;
use autobill::payments::stripe::webhook::{DEFAULT_TOLERANCE, WebhookError, WebhookVerifier};
use autobill::payments::{BoxFuture, ChargeOutcome, ChargeRequest, PaymentError, PaymentGateway, SandboxGateway};
use autobill::schedule::local_instant;
use autobill::store::{PageRequest, Store};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use sqlx::Row;
use std::sync::Arc;
use support::db::{TestDb, count, database, runtime};
use support::stripe_events::{self as stripe, SECRET};

on_both_backends!(
    only_a_fresh_delivery_signed_with_the_endpoint_secret_is_applied,
    the_same_event_delivered_twice_changes_nothing_the_second_time,
    a_dispute_pauses_autopay_so_the_next_night_charges_nothing_for_that_client,
    a_lost_dispute_reopens_the_bill_and_autopay_stays_paused_until_resumed,
    a_refund_lowers_paid_and_the_refunded_bill_is_never_charged_again,
    a_pending_attempt_is_settled_by_payment_intent_events_with_the_decline_rules,
    an_event_about_a_payment_autobill_did_not_make_is_ignored,
    deliveries_to_two_hosts_at_once_are_applied_once_and_in_full,
);

const NY: chrono_tz::Tz = chrono_tz::America::New_York;
const FEE: i64 = 15_000;

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, d).expect("a January date")
}

/// 1:00 am in New York on January `d`: after that night's bill run (12:00) and autopay (12:30).
fn night(d: u32) -> DateTime<Utc> {
    local_instant(NY, day(d), NaiveTime::from_hms_opt(1, 0, 0).unwrap_or_default())
}

/// Noon in New York on January `d`, when Stripe's news arrives.
fn noon(d: u32) -> DateTime<Utc> {
    local_instant(NY, day(d), NaiveTime::from_hms_opt(12, 0, 0).unwrap_or_default())
}

/// A New York practice with daily bills and autopay on, and clients with autopay on a card.
struct Practice {
    _db: TestDb,
    store: Store,
    engine: Engine,
    id: PracticeId,
}

impl Practice {
    /// The practice, created on January 5th, charging through `gateway`, with `clients` (reference, card).
    async fn new(backend: &str, gateway: Arc<dyn PaymentGateway>, clients: &[(&str, &str)]) -> Practice {
        let db = database(backend).await;
        let store = Store::connect(&db.url).await.expect("the store");
        let automation = autobill::domain::AutomationSettings { autopay: true, share: false, ..Default::default() };
        let new = autobill::domain::NewPractice {
            name: "P".into(),
            timezone: NY,
            currency: Currency::USD,
            automation,
            ..Default::default()
        };
        let id = store.create_practice(&new, local_instant(NY, day(5), NaiveTime::MIN)).await.expect("a practice");
        store.create_service(id, "90837", "Therapy", FEE, None).await.expect("a service");
        for (reference, card) in clients {
            let new = autobill::domain::NewClient {
                reference: (*reference).into(),
                name: (*reference).into(),
                autopay: true,
                card: Some((*card).into()),
                ..Default::default()
            };
            store.create_client(id, &new).await.expect("a client");
        }
        let outbox = std::env::temp_dir().join("autobill-test-outbox");
        let engine =
            Engine::new(store.clone(), runtime(), gateway, Arc::new(FileOutbox::new(outbox)), "h").expect("an engine");
        Practice { _db: db, store, engine, id }
    }

    /// A completed visit of `client` on January `d`.
    async fn visit(&self, client: &str, d: u32) {
        let client_id = self.store.client_by_reference(self.id, client).await.expect("the client").id;
        let service = self.store.services(self.id, PageRequest::ALL).await.expect("services")[0].id;
        let reference = format!("{client}-{d}");
        let appointment = autobill::domain::NewAppointment {
            practice: self.id,
            client: client_id,
            reference: &reference,
            starts_at: local_instant(NY, day(d), NaiveTime::from_hms_opt(10, 0, 0).unwrap_or_default()),
            local_date: day(d),
            status: autobill::domain::AppointmentStatus::Completed,
            services: &[(service, FEE)],
        };
        self.store.create_appointment(&appointment).await.expect("an appointment");
    }

    async fn tick(&self, at: DateTime<Utc>) {
        self.engine.tick(at).await.expect("a tick");
    }

    /// A client's bill of January `d`'s visit.
    async fn bill_of(&self, client: &str, d: u32) -> BillId {
        let row = sqlx::query(
            "SELECT l.bill_id FROM service_lines l JOIN appointments a ON a.id = l.appointment_id WHERE a.reference = $1",
        )
        .bind(format!("{client}-{d}"))
        .fetch_one(self.store.pool())
        .await
        .expect("the visit's line");
        BillId::new(row.try_get(0).expect("a bill"))
    }

    /// The provider's reference of the payment on `bill`.
    async fn reference_of(&self, bill: BillId) -> String {
        let row = sqlx::query("SELECT provider_reference FROM payments WHERE bill_id = $1")
            .bind(bill.get())
            .fetch_one(self.store.pool())
            .await
            .expect("a payment on the bill");
        row.try_get(0).expect("a provider reference")
    }

    /// The bill's status and paid amount, as the API shows them.
    async fn bill(&self, bill: BillId) -> (BillStatus, i64) {
        let row = self.store.bill(self.id, bill).await.expect("the bill");
        (row.status, row.paid)
    }

    async fn paused(&self, client: &str) -> Option<String> {
        self.store.client_by_reference(self.id, client).await.expect("the client").autopay_paused
    }

    async fn attempts_on(&self, bill: BillId) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM payment_attempts WHERE bill_id = {}", bill.get());
        count(&self.store, &sql).await
    }

    async fn events(&self) -> Vec<EventKind> {
        self.engine.events(self.id).await.expect("events").into_iter().map(|event| event.kind).collect()
    }

    /// Delivers `body` to this practice's engine (see [`deliver`]).
    async fn deliver(&self, body: &str, at: DateTime<Utc>) -> ProviderEventOutcome {
        deliver(&self.engine, body, at).await
    }
}

/// Delivers `body` to `engine`, signed at `at` with the endpoint's secret, as the API does; the outcome.
async fn deliver(engine: &Engine, body: &str, at: DateTime<Utc>) -> ProviderEventOutcome {
    let header = stripe::signature(SECRET, at.timestamp(), body);
    let event = verifier().verify(body.as_bytes(), Some(&header), at).expect("a verified delivery");
    engine.receive_provider_event(&event, at).await.expect("the event is applied")
}

fn verifier() -> WebhookVerifier {
    WebhookVerifier::new(SECRET, DEFAULT_TOLERANCE)
}

/// Ana's first bill, paid by autopay on the night of January 6th; its payment's reference.
async fn paid_bill(practice: &Practice) -> (BillId, String) {
    practice.visit("ana", 5).await;
    practice.tick(night(6)).await;
    let bill = practice.bill_of("ana", 5).await;
    assert_eq!(practice.bill(bill).await, (BillStatus::Paid, FEE));
    (bill, practice.reference_of(bill).await)
}

async fn only_a_fresh_delivery_signed_with_the_endpoint_secret_is_applied(backend: &str) {
    let practice = Practice::new(backend, Arc::new(SandboxGateway), &[("ana", "visa")]).await;
    let (bill, reference) = paid_bill(&practice).await;
    let at = noon(6);
    let body = stripe::refund("evt_refund_1", &reference, FEE, 5_000, at.timestamp());

    let wrong = stripe::signature("whsec_some_other_endpoint", at.timestamp(), &body);
    assert!(matches!(verifier().verify(body.as_bytes(), Some(&wrong), at), Err(WebhookError::BadSignature(_))));
    assert!(matches!(verifier().verify(body.as_bytes(), None, at), Err(WebhookError::BadSignature(_))));
    let old = at - Duration::minutes(6);
    let stale = stripe::signature(SECRET, old.timestamp(), &body);
    assert!(matches!(verifier().verify(body.as_bytes(), Some(&stale), at), Err(WebhookError::Stale { .. })));
    let rotating = format!("{},v1={}", stripe::signature(SECRET, at.timestamp(), &body), "ab".repeat(32));
    assert!(verifier().verify(body.as_bytes(), Some(&rotating), at).is_ok(), "any v1 may match");
    assert_eq!(practice.bill(bill).await, (BillStatus::Paid, FEE), "refused deliveries change nothing");

    assert_eq!(practice.deliver(&body, at).await, ProviderEventOutcome::Applied);
    assert_eq!(practice.bill(bill).await, (BillStatus::Refunded, FEE - 5_000));
}

async fn the_same_event_delivered_twice_changes_nothing_the_second_time(backend: &str) {
    let practice = Practice::new(backend, Arc::new(SandboxGateway), &[("ana", "visa")]).await;
    let (bill, reference) = paid_bill(&practice).await;
    let body = stripe::refund("evt_refund_1", &reference, FEE, 5_000, noon(6).timestamp());
    assert_eq!(practice.deliver(&body, noon(6)).await, ProviderEventOutcome::Applied);
    let later = noon(6) + Duration::hours(1);
    assert_eq!(practice.deliver(&body, later).await, ProviderEventOutcome::Duplicate, "Stripe's retry");
    let again = stripe::refund("evt_refund_1b", &reference, FEE, 5_000, later.timestamp());
    assert!(
        matches!(practice.deliver(&again, later).await, ProviderEventOutcome::Ignored(_)),
        "another event with a refund total already recorded"
    );
    assert_eq!(practice.bill(bill).await, (BillStatus::Refunded, FEE - 5_000), "taken off once");
    let refunds =
        practice.events().await.into_iter().filter(|e| matches!(e, EventKind::PaymentRefunded { .. })).count();
    assert_eq!(refunds, 1);
    assert_eq!(count(&practice.store, "SELECT COUNT(*) FROM provider_events").await, 2);
}

async fn a_dispute_pauses_autopay_so_the_next_night_charges_nothing_for_that_client(backend: &str) {
    let practice = Practice::new(backend, Arc::new(SandboxGateway), &[("ana", "visa"), ("ben", "visa")]).await;
    practice.visit("ben", 5).await;
    let (bill, reference) = paid_bill(&practice).await;
    let body = stripe::dispute("evt_dispute_1", &reference, FEE, "needs_response", noon(6).timestamp());
    assert_eq!(practice.deliver(&body, noon(6)).await, ProviderEventOutcome::Applied);

    assert_eq!(
        practice.paused("ana").await.as_deref(),
        Some("a payment is disputed; resolve the dispute before charging again")
    );
    assert_eq!(practice.bill(bill).await, (BillStatus::Paid, FEE), "the money is still the practice's");
    let detail = practice.store.bill_detail(practice.id, bill).await.expect("the bill");
    let payment = detail.payments.first().expect("the bill's payment");
    assert_eq!((payment.dispute_status, payment.disputed_amount), (Some(DisputeStatus::NeedsResponse), FEE));
    assert_eq!(payment.provider_reference.as_deref(), Some(reference.as_str()));

    practice.visit("ana", 6).await;
    practice.visit("ben", 6).await;
    practice.tick(night(7)).await;
    let (ana_next, ben_next) = (practice.bill_of("ana", 6).await, practice.bill_of("ben", 6).await);
    assert_eq!(practice.attempts_on(ana_next).await, 0, "nothing charged for the client with a dispute");
    assert_eq!(practice.bill(ana_next).await, (BillStatus::Open, 0));
    assert_eq!(practice.bill(ben_next).await, (BillStatus::Paid, FEE), "other clients are charged as before");
    assert!(practice.events().await.contains(&EventKind::PaymentDisputed {
        bill,
        client: "ana".into(),
        amount: FEE,
        status: DisputeStatus::NeedsResponse,
    }));
}

async fn a_lost_dispute_reopens_the_bill_and_autopay_stays_paused_until_resumed(backend: &str) {
    let practice = Practice::new(backend, Arc::new(SandboxGateway), &[("ana", "visa")]).await;
    let (bill, reference) = paid_bill(&practice).await;
    let opened = stripe::dispute("evt_dispute_1", &reference, FEE, "needs_response", noon(6).timestamp());
    practice.deliver(&opened, noon(6)).await;
    let closed = stripe::dispute("evt_dispute_2", &reference, FEE, "lost", noon(20).timestamp());
    assert_eq!(practice.deliver(&closed, noon(20)).await, ProviderEventOutcome::Applied);

    assert_eq!(practice.bill(bill).await, (BillStatus::Open, 0), "the bill is open again with nothing paid");
    assert_eq!(
        count(&practice.store, "SELECT CAST(COALESCE(SUM(paid), 0) AS BIGINT) FROM service_lines").await,
        0,
        "nor on its lines"
    );
    let payment = practice.store.payments(practice.id, PageRequest::ALL).await.expect("payments").remove(0);
    assert_eq!(payment.dispute_status, Some(DisputeStatus::Lost));
    practice.tick(night(21)).await;
    assert_eq!(practice.attempts_on(bill).await, 1, "no charge while autopay is paused");
    assert!(practice.paused("ana").await.is_some());

    let mut ana = practice.store.client_by_reference(practice.id, "ana").await.expect("ana");
    ana.card = Some("visa-new".into());
    practice.store.update_client(&ana).await.expect("a person resumes autopay");
    practice.tick(night(22)).await;
    assert_eq!(practice.bill(bill).await, (BillStatus::Paid, FEE), "charged once a person resumed autopay");
}

async fn a_refund_lowers_paid_and_the_refunded_bill_is_never_charged_again(backend: &str) {
    let practice = Practice::new(backend, Arc::new(SandboxGateway), &[("ana", "visa")]).await;
    let (bill, reference) = paid_bill(&practice).await;
    let partial = stripe::refund("evt_refund_1", &reference, FEE, 4_000, noon(6).timestamp());
    assert_eq!(practice.deliver(&partial, noon(6)).await, ProviderEventOutcome::Applied);
    assert_eq!(practice.bill(bill).await, (BillStatus::Refunded, FEE - 4_000));
    let lines = count(&practice.store, "SELECT CAST(COALESCE(SUM(paid), 0) AS BIGINT) FROM service_lines").await;
    assert_eq!(lines, FEE - 4_000, "the lines show what is still paid");

    for d in 7..10 {
        practice.tick(night(d)).await;
    }
    assert_eq!(practice.attempts_on(bill).await, 1, "a refunded bill is never charged again");
    assert!(practice.paused("ana").await.is_none(), "a refund does not pause autopay");

    let full = stripe::refund("evt_refund_2", &reference, FEE, FEE, noon(9).timestamp());
    practice.deliver(&full, noon(9)).await;
    assert_eq!(practice.bill(bill).await, (BillStatus::Refunded, 0));
    let payment = practice.store.payments(practice.id, PageRequest::ALL).await.expect("payments").remove(0);
    assert_eq!(payment.refunded, FEE);
    let document = practice.store.document(DocumentId::Bill(bill)).await.expect("the bill");
    assert_eq!(document.status_label(), "Refunded");
}

/// A fake gateway, because no local Stripe peer answers `processing`: every charge answers as
/// Stripe's gateway does for a PaymentIntent still `processing` (the outcome is not known yet),
/// so the attempt stays pending.
#[derive(Default)]
struct ProcessingGateway {
    keys: std::sync::Mutex<Vec<String>>,
}

impl PaymentGateway for ProcessingGateway {
    fn charge<'a>(&'a self, request: &'a ChargeRequest) -> BoxFuture<'a, Result<ChargeOutcome, PaymentError>> {
        Box::pin(async move {
            self.keys.lock().expect("keys").push(request.idempotency_key.clone());
            Err(PaymentError(format!(
                "PaymentIntent pi_{} is `processing`, not a final answer for an off-session card charge",
                request.idempotency_key
            )))
        })
    }
}

async fn a_pending_attempt_is_settled_by_payment_intent_events_with_the_decline_rules(backend: &str) {
    let gateway = Arc::new(ProcessingGateway::default());
    let practice = Practice::new(backend, gateway.clone(), &[("ana", "pm_ana"), ("ben", "pm_ben")]).await;
    practice.visit("ana", 5).await;
    practice.visit("ben", 5).await;
    practice.tick(night(6)).await;
    let (ana, ben) = (practice.bill_of("ana", 5).await, practice.bill_of("ben", 5).await);
    let pending = count(&practice.store, "SELECT COUNT(*) FROM payment_attempts WHERE status = 'pending'").await;
    assert_eq!(pending, 2, "Stripe answered processing: the outcomes are not known yet");

    let key = |bill: BillId| format!("autobill-bill-{bill}-attempt-1");
    let at = night(6) + Duration::minutes(3);
    let succeeded = stripe::intent("evt_pi_1", "pi_ana", &key(ana), FEE, None, at.timestamp());
    assert_eq!(practice.deliver(&succeeded, at).await, ProviderEventOutcome::Applied);
    let failed = stripe::intent("evt_pi_2", "pi_ben", &key(ben), FEE, Some("insufficient_funds"), at.timestamp());
    assert_eq!(practice.deliver(&failed, at).await, ProviderEventOutcome::Applied);

    assert_eq!(practice.bill(ana).await, (BillStatus::Paid, FEE));
    assert_eq!(practice.reference_of(ana).await, "pi_ana");
    let attempts = practice.store.attempts(practice.id, PageRequest::ALL).await.expect("attempts");
    let status = |bill: BillId| attempts.iter().find(|a| a.bill_id == bill).map(|a| (a.status, a.retryable));
    assert_eq!(status(ana), Some((AttemptStatus::Succeeded, false)));
    assert_eq!(status(ben), Some((AttemptStatus::Failed, true)), "a soft decline, retried another night");
    let events = practice.events().await;
    let settled =
        EventKind::PaymentSettled { bill: ana, client: "ana".into(), key: key(ana), status: AttemptStatus::Succeeded };
    let position = events.iter().position(|e| e == &settled).expect("payment_settled");
    assert_eq!(
        events.get(position + 1),
        Some(&EventKind::PaymentSucceeded { bill: ana, client: "ana".into(), amount: FEE })
    );
    assert!(events.iter().any(|e| matches!(e, EventKind::PaymentFailed { bill, .. } if *bill == ben)));

    let late = stripe::intent("evt_pi_3", "pi_ana", &key(ana), FEE, None, at.timestamp());
    assert!(matches!(practice.deliver(&late, at).await, ProviderEventOutcome::Ignored(_)), "settled already");
    assert_eq!(count(&practice.store, "SELECT COUNT(*) FROM payments").await, 1);
    practice.tick(night(7)).await;
    let sent = gateway.keys.lock().expect("keys").clone();
    assert_eq!(sent.iter().filter(|k| **k == key(ana)).count(), 1, "the settled attempt is not sent again: {sent:?}");
    assert!(sent.contains(&format!("autobill-bill-{ben}-attempt-2")), "the soft decline is retried: {sent:?}");
}

async fn an_event_about_a_payment_autobill_did_not_make_is_ignored(backend: &str) {
    let practice = Practice::new(backend, Arc::new(SandboxGateway), &[("ana", "visa")]).await;
    let (bill, _) = paid_bill(&practice).await;
    for body in [
        stripe::refund("evt_1", "pi_someone_else", 9_000, 9_000, noon(6).timestamp()),
        stripe::dispute("evt_2", "pi_someone_else", 9_000, "needs_response", noon(6).timestamp()),
        stripe::intent("evt_3", "pi_someone_else", "their-own-key", 9_000, None, noon(6).timestamp()),
    ] {
        assert!(matches!(practice.deliver(&body, noon(6)).await, ProviderEventOutcome::Ignored(_)), "{body}");
    }
    assert_eq!(practice.bill(bill).await, (BillStatus::Paid, FEE));
    assert!(practice.paused("ana").await.is_none());
}

async fn deliveries_to_two_hosts_at_once_are_applied_once_and_in_full(backend: &str) {
    let practice = Practice::new(backend, Arc::new(SandboxGateway), &[("ana", "visa")]).await;
    let (bill, reference) = paid_bill(&practice).await;
    let url = practice._db.url.clone();
    let other = Engine::new(
        Store::connect(&url).await.expect("a second host's store"),
        runtime(),
        Arc::new(SandboxGateway),
        Arc::new(FileOutbox::new(std::env::temp_dir().join("autobill-test-outbox"))),
        "h2",
    )
    .expect("a second host");
    let at = noon(6);
    let same = stripe::refund("evt_same", &reference, FEE, 5_000, at.timestamp());
    let (one, two) = tokio::join!(deliver(&practice.engine, &same, at), deliver(&other, &same, at));
    let mut outcomes = [one, two];
    outcomes.sort_by_key(|outcome| outcome == &ProviderEventOutcome::Duplicate);
    assert_eq!(outcomes, [ProviderEventOutcome::Applied, ProviderEventOutcome::Duplicate]);
    assert_eq!(practice.bill(bill).await, (BillStatus::Refunded, FEE - 5_000));

    // Two refunds of one payment at once: each reads the payment, one writes first, and the other
    // reads it again instead of taking the same money off twice.
    let partial = stripe::refund("evt_partial", &reference, FEE, 10_000, at.timestamp());
    let full = stripe::refund("evt_full", &reference, FEE, FEE, at.timestamp());
    tokio::join!(deliver(&practice.engine, &partial, at), deliver(&other, &full, at));
    assert_eq!(practice.bill(bill).await, (BillStatus::Refunded, 0));
    let payment = practice.store.payments(practice.id, PageRequest::ALL).await.expect("payments").remove(0);
    assert_eq!(payment.refunded, FEE);
}
