//! The billing engine over time, on SQLite and on PostgreSQL: each test runs on both backends.
//! PostgreSQL comes from `AUTOBILL_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`);
//! every test gets a fresh database of its own.

#[macro_use]
mod support;

use autobill::domain::{Currency, Event, EventKind, PracticeId};
use autobill::engine::Engine;
use autobill::mail::FileOutbox;
use autobill::payments::SandboxGateway;
use autobill::scenario::{self, PluginChoice};
use autobill::schedule::local_instant;
use autobill::simulate::{self, SimulationOptions};
use autobill::store::Store;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use sqlx::Row;
use std::sync::Arc;
use support::db::{count, database, runtime, simulation_engine};

const PRACTICE: &str = r#"
[practice]
name = "Test Practice"
timezone = "TIMEZONE"
currency = "USD"

[practice.automation]
bills = "BILLS"
superbill_day = SUPERBILL_DAY
share = true
share_delay_minutes = 60
autopay = true

[[service]]
code = "90837"
name = "Psychotherapy"
fee = 15000
cpt = "90837"

[[service]]
code = "GROUP"
name = "Group session"
fee = 5000
"#;

fn practice(timezone: &str, bills: &str, superbill_day: u8) -> String {
    PRACTICE.replace("TIMEZONE", timezone).replace("BILLS", bills).replace("SUPERBILL_DAY", &superbill_day.to_string())
}

async fn simulate(backend: &str, scenario: &str, from: (i32, u32, u32), until: (i32, u32, u32)) -> Vec<Event> {
    simulate_with(backend, scenario, from, until, vec![]).await
}

async fn simulate_with(
    backend: &str,
    scenario: &str,
    from: (i32, u32, u32),
    until: (i32, u32, u32),
    plugins: Vec<PluginChoice>,
) -> Vec<Event> {
    let db = database(backend).await;
    let loaded = scenario::parse("test.toml", scenario).unwrap_or_else(|error| panic!("{error}"));
    let work = tempfile::tempdir().expect("a temporary folder");
    let engine = simulation_engine(&db.url, work.path()).await;
    let options = SimulationOptions { from: day(from), until: day(until), plugins };
    simulate::run(&loaded, &options, &engine).await.unwrap_or_else(|error| panic!("{error}")).events
}

fn day((year, month, day): (i32, u32, u32)) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("a real date")
}

fn local(events: &[Event], tz: chrono_tz::Tz, name: &str) -> Vec<String> {
    events
        .iter()
        .filter(|event| event_name(&event.kind) == name)
        .map(|event| event.at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
        .collect()
}

fn event_name(kind: &EventKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.get("event").and_then(|e| e.as_str().map(str::to_string)))
        .unwrap_or_default()
}

on_both_backends!(
    daily_bills_are_created_at_midnight_charged_at_half_past_and_shared_after_the_delay,
    monthly_bills_are_created_on_the_first_with_the_whole_month,
    manual_bills_stay_pended_until_a_person_opens_them,
    superbill_day_31_runs_on_the_last_day_of_february_in_leap_and_common_years,
    superbills_hold_earlier_months_cpt_lines_of_opted_in_clients_with_payments,
    sharing_is_checked_again_when_the_email_is_due,
    soft_declines_retry_nightly_then_pause_autopay_and_hard_declines_do_not_retry,
    a_midnight_that_does_not_exist_runs_when_the_clock_jumps,
    a_host_down_over_three_midnights_catches_up_three_runs_in_order,
    two_engines_on_one_database_run_each_run_once,
    run_workers_bill_each_run_once_and_each_practices_runs_in_order,
    a_run_abandoned_mid_way_is_finished_by_the_next_host_without_duplicates,
    a_plugin_that_panics_fails_its_run_with_the_reason_and_the_host_goes_on,
    a_failing_share_filter_holds_the_shares_and_billing_goes_on_until_it_is_unassigned,
    a_demo_month_with_a_failing_share_filter_is_billed_and_charged_and_shared_once_it_is_unassigned,
    a_dry_run_never_shows_a_line_dated_on_or_after_its_run_date,
    an_unreachable_provider_leaves_the_charge_pending_for_a_resend_with_the_same_key_and_card,
    the_practice_share_setting_is_the_default_for_new_clients_only,
    a_run_larger_than_one_statement_gives_each_bill_its_own_clients_lines_events_and_share,
    a_paused_client_whose_card_is_replaced_has_the_open_bill_charged_the_next_night,
    with_no_share_delay_and_autopay_the_emailed_bill_shows_it_paid,
    an_unreachable_provider_holds_the_bills_email_until_6_am_then_sends_it_with_a_warning,
    concurrent_opens_and_voids_of_one_bill_have_one_winner_and_one_event,
    concurrent_changes_to_one_client_and_one_practice_all_take_effect,
    concurrent_cancels_of_one_appointment_have_one_winner,
    an_autopay_policy_skips_a_small_balance_with_its_reason_and_charges_the_others,
    an_autopay_policy_charging_part_of_a_bill_leaves_the_rest_for_another_night,
    a_plugin_built_for_contract_0_1_bills_charges_and_shares_as_before,
    a_cancel_racing_a_bill_run_waits_for_it_and_is_refused_once_the_line_is_billed,
);

fn client(id: &str, extra: &str) -> String {
    format!("\n[[client]]\nid = \"{id}\"\nname = \"{id}\"\nemail = \"{id}@example.com\"\n{extra}\n")
}

fn appointment(id: &str, client: &str, start: &str, status: &str, services: &str) -> String {
    format!(
        "\n[[appointment]]\nid = \"{id}\"\nclient = \"{client}\"\nstart = \"{start}\"\nstatus = \"{status}\"\nservices = [{services}]\n"
    )
}

const NY: chrono_tz::Tz = chrono_tz::America::New_York;

async fn daily_bills_are_created_at_midnight_charged_at_half_past_and_shared_after_the_delay(backend: &str) {
    let scenario = practice("America/New_York", "daily", 1)
        + &client("ana", "autopay = true\ncard = \"visa\"")
        + &appointment("a1", "ana", "2026-03-07T10:00", "completed", "\"90837\", \"GROUP\"")
        + &appointment("a2", "ana", "2026-03-09T10:00", "cancelled", "\"90837\"");
    let events = simulate(backend, &scenario, (2026, 3, 7), (2026, 3, 10)).await;
    assert_eq!(
        local(&events, NY, "bill_created"),
        ["2026-03-08 00:00"],
        "one bill, at the midnight after the visit (a DST day)"
    );
    assert_eq!(local(&events, NY, "payment_succeeded"), ["2026-03-08 00:30"]);
    assert_eq!(local(&events, NY, "document_shared"), ["2026-03-08 01:00"]);
    let created = events.iter().find_map(|e| match &e.kind {
        EventKind::BillCreated { total, lines, status, .. } => Some((*total, lines.clone(), status.to_string())),
        _ => None,
    });
    assert_eq!(created, Some((20_000, vec!["a1:90837".to_string(), "a1:GROUP".to_string()], "open".to_string())));
}

async fn monthly_bills_are_created_on_the_first_with_the_whole_month(backend: &str) {
    let scenario = practice("America/New_York", "monthly", 1)
        + &client("ana", "")
        + &appointment("a1", "ana", "2026-01-05T10:00", "completed", "\"90837\"")
        + &appointment("a2", "ana", "2026-01-31T23:30", "completed", "\"90837\"")
        + &appointment("a3", "ana", "2026-02-01T09:00", "completed", "\"90837\"");
    let events = simulate(backend, &scenario, (2026, 1, 1), (2026, 2, 27)).await;
    assert_eq!(local(&events, NY, "bill_created"), ["2026-02-01 00:00"]);
    let lines: Vec<Vec<String>> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::BillCreated { lines, .. } => Some(lines.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(lines, [vec!["a1:90837".to_string(), "a2:90837".to_string()]], "February's visit waits for March 1st");
}

async fn manual_bills_stay_pended_until_a_person_opens_them(backend: &str) {
    let scenario = practice("America/New_York", "manual", 1)
        + &client("ana", "autopay = true\ncard = \"visa\"")
        + &appointment("a1", "ana", "2026-01-05T10:00", "completed", "\"90837\"")
        + &appointment("a2", "ana", "2026-01-05T15:00", "completed", "\"GROUP\"")
        + "\n[[action]]\nat = \"2026-01-06T09:00\"\nkind = \"add_product\"\nappointment = \"a1\"\nname = \"Card fee\"\namount = 300\n"
        + "\n[[action]]\nat = \"2026-01-06T10:00\"\nkind = \"open_pended_bills\"\n";
    let events = simulate(backend, &scenario, (2026, 1, 5), (2026, 1, 7)).await;
    let statuses: Vec<String> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::BillCreated { status, .. } => Some(status.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(statuses, ["pended", "pended"], "one pended bill per appointment");
    assert_eq!(
        local(&events, NY, "payment_succeeded"),
        ["2026-01-07 00:30", "2026-01-07 00:30"],
        "pended bills are not charged; opened ones are"
    );
    assert_eq!(local(&events, NY, "bill_opened").len(), 2);
    assert_eq!(
        local(&events, NY, "document_shared"),
        ["2026-01-06 11:00", "2026-01-06 11:00"],
        "shared an hour after opening"
    );
    let charged: i64 = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::PaymentSucceeded { amount, .. } => Some(*amount),
            _ => None,
        })
        .sum();
    assert_eq!(charged, 15_000 + 300 + 5_000, "the product added by a person is charged with its bill");
}

async fn superbill_day_31_runs_on_the_last_day_of_february_in_leap_and_common_years(backend: &str) {
    for (year, last) in [(2027, 28), (2028, 29)] {
        let scenario = practice("America/New_York", "daily", 31)
            + &client("ana", "auto_superbills = true")
            + &appointment("a1", "ana", &format!("{year}-01-20T10:00"), "completed", "\"90837\"");
        let events = simulate(backend, &scenario, (year, 2, 1), (year, 3, 31)).await;
        assert_eq!(local(&events, NY, "superbill_created"), [format!("{year}-02-{last} 00:00")], "{year}");
    }
}

async fn superbills_hold_earlier_months_cpt_lines_of_opted_in_clients_with_payments(backend: &str) {
    let scenario = practice("America/New_York", "daily", 1)
        + &client("ana", "auto_superbills = true\nautopay = true\ncard = \"visa\"\ndiagnosis = [\"F41.1\"]")
        + &client("ben", "auto_superbills = false")
        + &appointment("a1", "ana", "2026-01-05T10:00", "completed", "\"90837\", \"GROUP\"")
        + &appointment("a2", "ana", "2026-01-31T10:00", "completed", "\"90837\"")
        + &appointment("a3", "ana", "2026-02-01T10:00", "completed", "\"90837\"")
        + &appointment("b1", "ben", "2026-01-06T10:00", "completed", "\"90837\"");
    let events = simulate(backend, &scenario, (2026, 1, 1), (2026, 3, 1)).await;
    let superbills: Vec<(String, String, i64, i64, Vec<String>)> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::SuperbillCreated { client, total, paid, lines, .. } => Some((
                e.at.with_timezone(&NY).format("%m-%d").to_string(),
                client.clone(),
                *total,
                *paid,
                lines.clone(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        superbills,
        [
            (
                "02-01".to_string(),
                "ana".to_string(),
                30_000,
                15_000,
                vec!["a1:90837".to_string(), "a2:90837".to_string()]
            ),
            ("03-01".to_string(), "ana".to_string(), 15_000, 15_000, vec!["a3:90837".to_string()]),
        ],
        "only CPT-coded lines, only from earlier months, each on one superbill, with what autopay had paid when each was made (the January 31st visit is charged at 00:30, after the superbill)"
    );
}

async fn sharing_is_checked_again_when_the_email_is_due(backend: &str) {
    let scenario = practice("America/New_York", "daily", 1)
        + &client("ana", "")
        + &client("ben", "")
        + &client("cy", "email_enabled = false")
        + &client("dee", "auto_share = false")
        + "\n[[client]]\nid = \"eve\"\nname = \"eve\"\n"
        + &appointment("a1", "ana", "2026-01-05T10:00", "completed", "\"90837\"")
        + &appointment("b1", "ben", "2026-01-05T10:00", "completed", "\"90837\"")
        + &appointment("c1", "cy", "2026-01-05T10:00", "completed", "\"90837\"")
        + &appointment("d1", "dee", "2026-01-05T10:00", "completed", "\"90837\"")
        + &appointment("e1", "eve", "2026-01-05T10:00", "completed", "\"90837\"")
        + "\n[[action]]\nat = \"2026-01-06T00:20\"\nkind = \"set_client\"\nid = \"ben\"\nemail_enabled = false\n";
    let events = simulate(backend, &scenario, (2026, 1, 5), (2026, 1, 6)).await;
    let shared: Vec<String> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::DocumentShared { client, to, .. } => Some(format!("{client}->{to}")),
            _ => None,
        })
        .collect();
    assert_eq!(shared, ["ana->ana@example.com"]);
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
            ("ben".to_string(), "email is turned off in the client's communication preferences".to_string()),
            ("cy".to_string(), "email is turned off in the client's communication preferences".to_string()),
            ("dee".to_string(), "automatic sharing is off for this client".to_string()),
            ("eve".to_string(), "no email address on file".to_string()),
        ]
    );
}

async fn soft_declines_retry_nightly_then_pause_autopay_and_hard_declines_do_not_retry(backend: &str) {
    let scenario = practice("America/New_York", "daily", 1)
        + &client("soft", "autopay = true\ncard = \"insufficient_funds\"")
        + &client("hard", "autopay = true\ncard = \"declined\"")
        + &client("sca", "autopay = true\ncard = \"authentication_required\"")
        + &appointment("s1", "soft", "2026-01-05T10:00", "completed", "\"90837\"")
        + &appointment("h1", "hard", "2026-01-05T10:00", "completed", "\"90837\"")
        + &appointment("x1", "sca", "2026-01-05T10:00", "completed", "\"90837\"");
    let events = simulate(backend, &scenario, (2026, 1, 5), (2026, 1, 12)).await;
    let failures = |who: &str| -> Vec<String> {
        events
            .iter()
            .filter(|e| matches!(&e.kind, EventKind::PaymentFailed { client, .. } if client == who))
            .map(|e| e.at.with_timezone(&NY).format("%m-%d %H:%M").to_string())
            .collect()
    };
    assert_eq!(failures("soft"), ["01-06 00:30", "01-07 00:30", "01-08 00:30"]);
    assert_eq!(failures("hard"), ["01-06 00:30"]);
    assert_eq!(failures("sca"), ["01-06 00:30"]);
    let warnings: Vec<String> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Warning { message } => Some(message.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("autopay paused for client soft after 3 declined attempts"), "{}", warnings[0]);
}

async fn a_midnight_that_does_not_exist_runs_when_the_clock_jumps(backend: &str) {
    // Santiago jumps from 00:00 to 01:00 on 2026-09-06.
    let scenario = practice("America/Santiago", "daily", 1)
        + &client("ana", "autopay = true\ncard = \"visa\"")
        + &appointment("a1", "ana", "2026-09-05T10:00", "completed", "\"90837\"");
    let events = simulate(backend, &scenario, (2026, 9, 5), (2026, 9, 6)).await;
    let tz = chrono_tz::America::Santiago;
    assert_eq!(local(&events, tz, "bill_created"), ["2026-09-06 01:00"]);
    assert_eq!(local(&events, tz, "payment_succeeded"), ["2026-09-06 01:30"]);
    let at = events.iter().find(|e| matches!(e.kind, EventKind::BillCreated { .. })).map(|e| e.at);
    assert_eq!(at, Some(Utc.with_ymd_and_hms(2026, 9, 6, 4, 0, 0).unwrap()));
}

/// An engine over `url` with a practice of `clients` clients, each with one completed visit on
/// each of the days given; returns the engine, the practice and its creation instant.
async fn engine_with_visits(
    url: &str,
    host: &str,
    clients: usize,
    days: &[(i32, u32, u32)],
) -> (Engine, PracticeId, DateTime<Utc>) {
    let store = Store::connect(url).await.expect("the store connects");
    let engine = engine_on(&store, host);
    let practices = store.practices().await.expect("practices");
    if let Some(existing) = practices.first() {
        return (engine, existing.id, visits_created());
    }
    let practice = add_practice_with_visits(&store, "P", clients, days).await;
    (engine, practice, visits_created())
}

/// When [`add_practice_with_visits`] creates practices: an hour before New Year in New York.
fn visits_created() -> DateTime<Utc> {
    local_instant(NY, day((2026, 1, 1)), NaiveTime::MIN) - Duration::hours(1)
}

/// Adds a New York practice with daily bills, no sharing and no autopay, of `clients` clients,
/// each with one completed visit on each of the days given; returns the practice.
async fn add_practice_with_visits(store: &Store, name: &str, clients: usize, days: &[(i32, u32, u32)]) -> PracticeId {
    add_practice_billing(store, name, clients, days, autobill::domain::BillCreation::Daily).await
}

/// [`add_practice_with_visits`] with the bill cadence given.
async fn add_practice_billing(
    store: &Store,
    name: &str,
    clients: usize,
    days: &[(i32, u32, u32)],
    bills: autobill::domain::BillCreation,
) -> PracticeId {
    let settings = autobill::domain::AutomationSettings { bills, autopay: false, share: false, ..Default::default() };
    let practice = store
        .create_practice(
            &autobill::domain::NewPractice {
                name: name.into(),
                timezone: NY,
                currency: Currency::USD,
                npi: String::new(),
                tax_id: String::new(),
                address: String::new(),
                phone: String::new(),
                automation: settings,
                ..Default::default()
            },
            visits_created(),
        )
        .await
        .expect("a practice");
    let service = store.create_service(practice, "90837", "Therapy", 15_000, Some("90837")).await.expect("a service");
    for n in 0..clients {
        let client = store
            .create_client(
                practice,
                &autobill::domain::NewClient {
                    reference: format!("c{n}"),
                    name: format!("C {n}"),
                    ..Default::default()
                },
            )
            .await
            .expect("a client");
        for (i, d) in days.iter().enumerate() {
            let start = local_instant(NY, day(*d), NaiveTime::from_hms_opt(10, 0, 0).unwrap_or_default());
            let reference = format!("c{n}-{i}");
            let appointment = autobill::domain::NewAppointment {
                practice,
                client,
                reference: &reference,
                starts_at: start,
                local_date: day(*d),
                status: autobill::domain::AppointmentStatus::Completed,
                services: &[(service, 15_000)],
            };
            store.create_appointment(&appointment).await.expect("an appointment");
        }
    }
    practice
}

fn engine_on(store: &Store, host: &str) -> Engine {
    let outbox = std::env::temp_dir().join("autobill-test-outbox");
    Engine::new(store.clone(), runtime(), Arc::new(SandboxGateway), Arc::new(FileOutbox::new(outbox)), host)
        .expect("an engine")
}

async fn a_host_down_over_three_midnights_catches_up_three_runs_in_order(backend: &str) {
    let db = database(backend).await;
    let (engine, _, _) = engine_with_visits(&db.url, "a", 1, &[(2026, 1, 1), (2026, 1, 2), (2026, 1, 3)]).await;
    let up = local_instant(NY, day((2026, 1, 1)), NaiveTime::from_hms_opt(1, 0, 0).unwrap_or_default());
    assert_eq!(engine.tick(up).await.expect("a tick").runs_done, 2, "January 1st's bill and superbill runs");
    let back = local_instant(NY, day((2026, 1, 4)), NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default());
    let report = engine.tick(back).await.expect("a tick");
    assert_eq!(report.runs_done, 3);
    let rows = sqlx::query(
        "SELECT local_date FROM runs WHERE kind = 'bill' AND status = 'done' AND local_date > '2026-01-01' ORDER BY id",
    )
    .fetch_all(engine.store().pool())
    .await
    .expect("runs");
    let dates: Vec<String> = rows.iter().map(|row| row.try_get(0).expect("a date")).collect();
    assert_eq!(dates, ["2026-01-02", "2026-01-03", "2026-01-04"]);
    assert_eq!(count(engine.store(), "SELECT COUNT(*) FROM bills").await, 3, "one bill per day of service");
    assert_eq!(engine.tick(back).await.expect("a tick").runs_done, 0, "nothing runs twice");
}

async fn two_engines_on_one_database_run_each_run_once(backend: &str) {
    let db = database(backend).await;
    let days: Vec<(i32, u32, u32)> = (1..=20).map(|d| (2026, 1, d)).collect();
    let (first, _, _) = engine_with_visits(&db.url, "host-a", 20, &days).await;
    let second = engine_on(&Store::connect(&db.url).await.expect("a second pool"), "host-b");
    let now = local_instant(NY, day((2026, 1, 21)), NaiveTime::from_hms_opt(6, 0, 0).unwrap_or_default());
    let (a, b) = tokio::join!(first.tick(now), second.tick(now));
    let (a, b) = (a.expect("host a ticks"), b.expect("host b ticks"));
    assert_eq!(
        a.runs_done + b.runs_done,
        22,
        "a bill run every midnight from January 1st to 21st, and January's superbill run"
    );
    assert_eq!(a.runs_failed + b.runs_failed, 0);
    let store = first.store();
    assert_eq!(count(store, "SELECT COUNT(*) FROM runs WHERE status = 'done'").await, 22);
    assert_eq!(count(store, "SELECT COUNT(*) FROM bills").await, 400, "20 clients x 20 days, each billed once");
    assert_eq!(count(store, "SELECT COUNT(*) FROM service_lines WHERE bill_id IS NULL").await, 0);
    assert_eq!(
        count(store, "SELECT COUNT(*) FROM (SELECT bill_id FROM service_lines GROUP BY bill_id HAVING COUNT(*) > 1) t")
            .await,
        0
    );
}

async fn run_workers_bill_each_run_once_and_each_practices_runs_in_order(backend: &str) {
    let db = database(backend).await;
    let store = Store::connect(&db.url).await.expect("the store connects");
    // Runs are claimed in due order, so three workers would take one practice's consecutive
    // nights at once if the claim let them: a night's run must wait for the night before.
    let days: Vec<(i32, u32, u32)> = (1..=8).map(|d| (2026, 1, d)).collect();
    for name in ["A", "B"] {
        add_practice_with_visits(&store, name, 3, &days).await;
    }
    let mut engine = engine_on(&store, "workers");
    engine.set_run_workers(3);
    let back = local_instant(NY, day((2026, 1, 9)), NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default());
    let report = engine.tick(back).await.expect("a tick");
    assert_eq!(report.runs_failed, 0);
    assert_eq!(report.runs_done, 20, "two practices, each with bill runs on January 1st to 9th and a superbill run");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM bills").await, 48, "2 practices x 3 clients x 8 days, billed once");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM service_lines WHERE bill_id IS NULL").await, 0);
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM (SELECT bill_id FROM service_lines GROUP BY bill_id HAVING COUNT(*) > 1) t"
        )
        .await,
        0,
        "each daily bill holds its one day's visit"
    );
    for practice in store.practices().await.expect("practices") {
        // Events are numbered as they are written: in the order the practice's runs committed.
        let billed: Vec<i64> =
            sqlx::query_scalar("SELECT at FROM events WHERE practice_id = $1 AND kind = 'bill_created' ORDER BY id")
                .bind(practice.id.get())
                .fetch_all(store.pool())
                .await
                .expect("bill events");
        assert_eq!(billed.len(), 24, "{}: a bill per client and day", practice.name);
        assert!(billed.is_sorted(), "{}: the practice's runs went in date order: {billed:?}", practice.name);
    }
    assert_eq!(engine.tick(back).await.expect("a tick").runs_done, 0, "nothing runs twice");
}

async fn a_run_abandoned_mid_way_is_finished_by_the_next_host_without_duplicates(backend: &str) {
    let db = database(backend).await;
    let (engine, practice, _) = engine_with_visits(&db.url, "crashed", 5, &[(2026, 1, 5)]).await;
    let store = engine.store().clone();
    let now = local_instant(NY, day((2026, 1, 6)), NaiveTime::from_hms_opt(0, 5, 0).unwrap_or_default());
    engine.tick(now - Duration::hours(6)).await.expect("the runs before tonight's");
    // The crashed host had claimed tonight's run and written half of it when it died: its
    // transaction never committed, so only its claim (with a lease) is left behind.
    let mut tx = store.pool().begin().await.expect("a transaction");
    sqlx::query("INSERT INTO runs (practice_id, kind, local_date, due_at, status, claimed_by, lease_until, attempts) VALUES ($1, 'bill', '2026-01-06', $2, 'running', 'crashed', $3, 1)")
        .bind(practice.get())
        .bind(local_instant(NY, day((2026, 1, 6)), NaiveTime::MIN).timestamp())
        .bind((now + Duration::minutes(10)).timestamp())
        .execute(&mut *tx)
        .await
        .expect("the claim");
    tx.commit().await.expect("the claim commits");
    let mut half = store.pool().begin().await.expect("a transaction");
    sqlx::query("INSERT INTO bills (practice_id, client_id, status, total, created_at) SELECT practice_id, id, 'open', 15000, 0 FROM clients LIMIT 2")
        .execute(&mut *half)
        .await
        .expect("half a run");
    drop(half); // the process dies: nothing of the run's transaction survives

    let other = engine_on(&store, "survivor");
    assert_eq!(other.tick(now).await.expect("a tick").runs_done, 0, "the dead host's lease still holds");
    let later = now + Duration::minutes(11);
    assert_eq!(
        other.tick(later).await.expect("a tick").runs_done,
        1,
        "the lease expired: the survivor takes the run over"
    );
    assert_eq!(count(&store, "SELECT COUNT(*) FROM bills").await, 5);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM service_lines WHERE bill_id IS NULL").await, 0);
    assert_eq!(count(&store, "SELECT attempts FROM runs WHERE kind = 'bill' AND local_date = '2026-01-06'").await, 2);
    assert_eq!(other.tick(later + Duration::hours(1)).await.expect("a tick").runs_done, 0);
}

/// Stores a plugin component and puts it in a practice's slot without the checks an operator's
/// assignment makes: as if the plugin had been assigned while it worked, and broke since.
async fn assign_unchecked(store: &Store, practice: PracticeId, slot: autobill::domain::Slot, file: &str) {
    let bytes = std::fs::read(file).expect("the fixture is built");
    let id = autobill::plugin::PluginId::of(&bytes).to_hex();
    store.save_plugin(&id, "broken", &bytes, Utc::now()).await.expect("the plugin is stored");
    store.assign_plugin(practice, slot, &id, "").await.expect("the plugin is assigned");
}

async fn a_plugin_that_panics_fails_its_run_with_the_reason_and_the_host_goes_on(backend: &str) {
    let db = database(backend).await;
    let store = Store::connect(&db.url).await.expect("the store connects");
    let broken = add_practice_with_visits(&store, "Broken", 1, &[(2026, 1, 5)]).await;
    let working = add_practice_with_visits(&store, "Working", 1, &[(2026, 1, 5)]).await;
    assign_unchecked(&store, broken, autobill::domain::Slot::BillCadence, autobill::plugin::artifacts::TRAP).await;
    let engine = engine_on(&store, "host");
    let night = local_instant(NY, day((2026, 1, 6)), NaiveTime::from_hms_opt(1, 0, 0).unwrap_or_default());
    engine.tick(night).await.expect("the tick goes on");
    let events = engine.events(broken).await.expect("events");
    let failures: Vec<String> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::RunFailed { run, reason } => Some(format!("{run}: {reason}")),
            _ => None,
        })
        .collect();
    assert!(!failures.is_empty(), "{events:?}");
    assert!(
        failures.iter().all(|f| f.contains("deliberate failure") && f.contains("bill-cadence.bill-run-dates")),
        "{failures:?}"
    );
    assert!(local(&events, NY, "bill_created").is_empty(), "nothing the failed policy decided is applied");
    let other = engine.events(working).await.expect("events");
    assert_eq!(
        local(&other, NY, "bill_created"),
        ["2026-01-06 00:00"],
        "the other practice's runs in the same tick complete"
    );
}

async fn a_failing_share_filter_holds_the_shares_and_billing_goes_on_until_it_is_unassigned(backend: &str) {
    let db = database(backend).await;
    let store = Store::connect(&db.url).await.expect("the store connects");
    let created = local_instant(NY, day((2026, 1, 5)), NaiveTime::MIN);
    let automation = autobill::domain::AutomationSettings {
        autopay: true,
        share: true,
        share_delay_minutes: 60,
        ..Default::default()
    };
    let new = autobill::domain::NewPractice {
        name: "P".into(),
        timezone: NY,
        currency: Currency::USD,
        automation,
        ..Default::default()
    };
    let practice = store.create_practice(&new, created).await.expect("a practice");
    let service = store.create_service(practice, "90837", "Therapy", 15_000, None).await.expect("a service");
    let client = autobill::domain::NewClient {
        reference: "ana".into(),
        name: "Ana".into(),
        email: Some("ana@example.com".into()),
        email_enabled: true,
        autopay: true,
        card: Some("visa".into()),
        ..Default::default()
    };
    let client = store.create_client(practice, &client).await.expect("a client");
    let appointment = autobill::domain::NewAppointment {
        practice,
        client,
        reference: "a1",
        starts_at: created + Duration::hours(10),
        local_date: day((2026, 1, 5)),
        status: autobill::domain::AppointmentStatus::Completed,
        services: &[(service, 15_000)],
    };
    store.create_appointment(&appointment).await.expect("an appointment");
    assign_unchecked(&store, practice, autobill::domain::Slot::ShareFilter, autobill::plugin::artifacts::TRAP).await;
    let engine = engine_on(&store, "host");

    let morning = local_instant(NY, day((2026, 1, 6)), NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default());
    let report = engine.tick(morning).await.expect("a tick");
    assert_eq!(report.runs_failed, 0, "a broken share filter fails no run");
    let events = engine.events(practice).await.expect("events");
    assert_eq!(local(&events, NY, "bill_created"), ["2026-01-06 00:00"], "the bill is made");
    assert_eq!(local(&events, NY, "payment_succeeded"), ["2026-01-06 00:30"], "and charged");
    assert!(local(&events, NY, "document_shared").is_empty(), "its share is held");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM shares WHERE status = 'held'").await, 1);
    let reason: String =
        sqlx::query_scalar("SELECT reason FROM shares").fetch_one(store.pool()).await.expect("the share's reason");
    assert!(reason.starts_with("the share filter failed: "), "{reason}");
    assert!(
        events.iter().any(|e| matches!(&e.kind, EventKind::Warning { message } if message.contains("held"))),
        "staff are told: {events:?}"
    );

    assert!(store.unassign_plugin(practice, autobill::domain::Slot::ShareFilter).await.expect("unassigned"));
    let later = morning + Duration::hours(2);
    engine.tick(later).await.expect("a tick");
    engine.tick(later + Duration::hours(1)).await.expect("a tick");
    let events = engine.events(practice).await.expect("events");
    assert_eq!(
        local(&events, NY, "document_shared"),
        ["2026-01-06 12:00"],
        "decided again once the plugin is unassigned, and sent after its delay"
    );
}

/// The shared documents among `events`: (kind, document id, client, address), sorted.
fn shared(events: &[Event]) -> Vec<String> {
    let mut shared: Vec<String> = events
        .iter()
        .filter_map(|event| match &event.kind {
            EventKind::DocumentShared { document, kind, client, to } => {
                Some(format!("{kind:?} {document} {client} {to}"))
            }
            _ => None,
        })
        .collect();
    shared.sort();
    shared
}

async fn a_demo_month_with_a_failing_share_filter_is_billed_and_charged_and_shared_once_it_is_unassigned(
    backend: &str,
) {
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../host/demo/lakeside.toml");
    let loaded = scenario::load(&demo).expect("the demo scenario");
    let january = |plugins| SimulationOptions { from: day((2026, 1, 1)), until: day((2026, 1, 31)), plugins };
    let work = tempfile::tempdir().expect("a temporary folder");

    let plain_db = database(backend).await;
    let plain_engine = simulation_engine(&plain_db.url, &work.path().join("plain")).await;
    let plain = simulate::run(&loaded, &january(vec![]), &plain_engine).await.expect("the plain month").events;

    let db = database(backend).await;
    let engine = simulation_engine(&db.url, &work.path().join("held")).await;
    let failing = PluginChoice {
        slot: autobill::domain::Slot::ShareFilter,
        file: autobill::plugin::artifacts::HUGE_ERROR.into(),
        config: String::new(),
    };
    let held = simulate::run(&loaded, &january(vec![failing]), &engine).await.expect("the month").events;
    for name in ["bill_created", "superbill_created", "payment_succeeded", "payment_failed", "product_added"] {
        assert_eq!(local(&held, NY, name), local(&plain, NY, name), "{name}s as without the plugin");
    }
    assert!(!local(&plain, NY, "bill_created").is_empty() && !local(&plain, NY, "payment_succeeded").is_empty());
    assert!(local(&held, NY, "run_failed").is_empty(), "no run fails");
    assert!(shared(&held).is_empty(), "every share is held");
    assert!(!shared(&plain).is_empty());
    let held_count = count(engine.store(), "SELECT COUNT(*) FROM shares WHERE status = 'held'").await;
    assert!(held_count > 0);
    let reason: String = sqlx::query_scalar("SELECT reason FROM shares WHERE status = 'held' LIMIT 1")
        .fetch_one(engine.store().pool())
        .await
        .expect("a held share's reason");
    assert!(reason.starts_with("the share filter failed: plugin `"), "{reason:.200}");
    assert!(reason.len() < 2 * autobill::plugin::MAX_PLUGIN_TEXT_BYTES, "the plugin's 1 MiB reason is cut");

    // Unassigned at the month's end: the next tick decides the held shares with the default
    // filter, and they go after the practice's delay, before February's documents are due.
    let practice = engine.store().practices().await.expect("practices")[0].id;
    assert!(engine.store().unassign_plugin(practice, autobill::domain::Slot::ShareFilter).await.expect("unassigned"));
    let end = local_instant(NY, day((2026, 2, 1)), NaiveTime::MIN) - Duration::seconds(1);
    engine.tick(end).await.expect("a tick");
    engine.tick(end + Duration::minutes(60)).await.expect("a tick");
    assert_eq!(count(engine.store(), "SELECT COUNT(*) FROM shares WHERE status = 'held'").await, 0);
    let after = engine.events(practice).await.expect("events");
    assert_eq!(shared(&after), shared(&plain), "January's documents go to the same clients as without the plugin");
}

async fn a_dry_run_never_shows_a_line_dated_on_or_after_its_run_date(backend: &str) {
    let db = database(backend).await;
    let days = [(2026, 1, 5), (2026, 1, 6), (2026, 1, 7), (2026, 1, 8)];
    let (engine, practice, _) = engine_with_visits(&db.url, "host", 1, &days).await;
    let noon = local_instant(NY, day((2026, 1, 6)), NaiveTime::from_hms_opt(12, 0, 0).unwrap_or_default());
    let dry = engine.dry_run(practice, autobill::domain::Slot::BillCadence, None, noon).await.expect("a dry run");
    let lines: Vec<String> = dry.bills.unwrap_or_default().into_iter().flat_map(|bill| bill.lines).collect();
    assert_eq!(
        lines,
        ["c0-0:90837", "c0-1:90837"],
        "tomorrow's 12:00 am run bills the lines dated before tomorrow, and no later one"
    );
}

/// A gateway whose network to one card's bank is down on demand, recording every request.
#[derive(Default)]
struct FlakyGateway {
    down_for: std::sync::Mutex<Option<String>>,
    requests: std::sync::Mutex<Vec<(String, String)>>,
}

impl autobill::payments::PaymentGateway for FlakyGateway {
    fn charge<'a>(
        &'a self,
        request: &'a autobill::payments::ChargeRequest,
    ) -> autobill::payments::BoxFuture<'a, Result<autobill::payments::ChargeOutcome, autobill::payments::PaymentError>>
    {
        Box::pin(async move {
            self.requests.lock().expect("requests").push((request.idempotency_key.clone(), request.card.clone()));
            if self.down_for.lock().expect("switch").as_deref() == Some(request.card.as_str()) {
                return Err(autobill::payments::PaymentError::Unreachable("connection refused".into()));
            }
            Ok(autobill::payments::ChargeOutcome::Succeeded { reference: request.idempotency_key.clone() })
        })
    }
}

async fn an_unreachable_provider_leaves_the_charge_pending_for_a_resend_with_the_same_key_and_card(backend: &str) {
    let db = database(backend).await;
    let store = Store::connect(&db.url).await.expect("the store");
    let created = local_instant(NY, day((2026, 1, 5)), NaiveTime::MIN);
    let automation = autobill::domain::AutomationSettings { autopay: true, ..Default::default() };
    let new = autobill::domain::NewPractice {
        name: "P".into(),
        timezone: NY,
        currency: Currency::USD,
        automation,
        ..Default::default()
    };
    let practice = store.create_practice(&new, created).await.expect("a practice");
    let service = store.create_service(practice, "90837", "Therapy", 15_000, None).await.expect("a service");
    for (name, card) in [("a", "card-a"), ("b", "card-b")] {
        let new = autobill::domain::NewClient {
            reference: name.into(),
            name: name.into(),
            autopay: true,
            card: Some(card.into()),
            ..Default::default()
        };
        let client = store.create_client(practice, &new).await.expect("a client");
        let appointment = autobill::domain::NewAppointment {
            practice,
            client,
            reference: name,
            starts_at: created + Duration::hours(10),
            local_date: day((2026, 1, 5)),
            status: autobill::domain::AppointmentStatus::Completed,
            services: &[(service, 15_000)],
        };
        store.create_appointment(&appointment).await.expect("an appointment");
    }
    let gateway = Arc::new(FlakyGateway::default());
    *gateway.down_for.lock().expect("switch") = Some("card-a".into());
    let outbox = std::env::temp_dir().join("autobill-test-outbox");
    let engine = Engine::new(store.clone(), runtime(), gateway.clone(), Arc::new(FileOutbox::new(outbox)), "h")
        .expect("an engine");

    let night = |d| local_instant(NY, day((2026, 1, d)), NaiveTime::from_hms_opt(1, 0, 0).unwrap_or_default());
    let report = engine.tick(night(6)).await.expect("a tick");
    assert_eq!((report.runs_failed, report.charges_settled, report.charges_deferred), (0, 1, 1), "{report:?}");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM payments").await, 1, "the other client's bill is still charged");
    let warned = engine.events(practice).await.expect("events").into_iter().find_map(|e| match e.kind {
        EventKind::Warning { message } => Some(message),
        _ => None,
    });
    assert!(
        warned.is_some_and(|message| message.contains("could not reach the payment provider")
            && message.contains("sent again with the same idempotency key")),
        "staff are told"
    );

    let mut a = store.client_by_reference(practice, "a").await.expect("client a");
    a.card = Some("card-a-new".into());
    store.update_client(&a).await.expect("a new card");
    *gateway.down_for.lock().expect("switch") = None;
    engine.tick(night(7)).await.expect("a tick");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM payments").await, 2);
    let requests = gateway.requests.lock().expect("requests").clone();
    let for_a: Vec<&(String, String)> = requests.iter().filter(|(_, card)| card.starts_with("card-a")).collect();
    assert_eq!(for_a.len(), 2, "{requests:?}");
    assert_eq!(for_a[0], for_a[1], "the resend repeats the first request's key and card");
}

async fn the_practice_share_setting_is_the_default_for_new_clients_only(backend: &str) {
    let db = database(backend).await;
    let store = Store::connect(&db.url).await.expect("the store");
    let new =
        autobill::domain::NewPractice { name: "P".into(), timezone: NY, currency: Currency::USD, ..Default::default() };
    let practice = store.create_practice(&new, Utc::now()).await.expect("a practice");
    let client = |reference: &str| autobill::domain::NewClient {
        reference: reference.into(),
        name: reference.into(),
        ..Default::default()
    };
    let before = store.create_client(practice, &client("before")).await.expect("a client");
    let mut automation = store.practice(practice).await.expect("the practice").automation;
    automation.share = true;
    let mut tx = store.begin().await.expect("a transaction");
    store.update_automation(&mut tx, practice, &automation).await.expect("sharing on");
    tx.commit().await.expect("sharing on");
    let after = store.create_client(practice, &client("after")).await.expect("a client");
    let explicit = autobill::domain::NewClient { auto_share: Some(false), ..client("explicit") };
    let explicit = store.create_client(practice, &explicit).await.expect("a client");
    assert!(!store.client(before).await.expect("before").auto_share, "an existing client keeps its own switch");
    assert!(store.client(after).await.expect("after").auto_share, "a new client starts from the practice setting");
    assert!(!store.client(explicit).await.expect("explicit").auto_share, "a client's own setting wins");
}

/// A run writes in multi-row statements of 500 rows; 1,100 bills cross two chunk boundaries.
async fn a_run_larger_than_one_statement_gives_each_bill_its_own_clients_lines_events_and_share(backend: &str) {
    let db = database(backend).await;
    let (engine, practice, _) = engine_with_visits(&db.url, "a", 1_100, &[(2026, 1, 2)]).await;
    let night = local_instant(NY, day((2026, 1, 3)), NaiveTime::from_hms_opt(1, 0, 0).unwrap_or_default());
    engine.tick(night).await.expect("a tick");
    let store = engine.store();
    assert_eq!(count(store, "SELECT COUNT(*) FROM bills").await, 1_100, "one bill per client");
    assert_eq!(count(store, "SELECT COUNT(*) FROM service_lines WHERE bill_id IS NULL").await, 0, "every line billed");
    assert_eq!(
        count(
            store,
            "SELECT COUNT(*) FROM service_lines l JOIN bills b ON b.id = l.bill_id WHERE l.client_id <> b.client_id"
        )
        .await,
        0,
        "no line on another client's bill"
    );
    assert_eq!(
        count(store, "SELECT COUNT(*) FROM bills WHERE total <> 15000").await,
        0,
        "each total is its line's fee"
    );
    assert_eq!(
        count(
            store,
            "SELECT COUNT(*) FROM shares s JOIN bills b ON b.id = s.document_id WHERE s.client_id = b.client_id"
        )
        .await,
        1_100,
        "each bill's share row names its client"
    );
    let owners: std::collections::HashMap<i64, String> =
        sqlx::query("SELECT b.id, c.reference FROM bills b JOIN clients c ON c.id = b.client_id")
            .fetch_all(store.pool())
            .await
            .expect("bills")
            .iter()
            .map(|row| (row.try_get(0).expect("an id"), row.try_get(1).expect("a reference")))
            .collect();
    let events = engine.events(practice).await.expect("events");
    let mut created = 0;
    for event in &events {
        if let EventKind::BillCreated { bill, client, lines, .. } = &event.kind {
            created += 1;
            assert_eq!(owners.get(&bill.get()), Some(client), "bill {bill}'s event names its client");
            assert_eq!(lines, &[format!("{client}-0:90837")], "bill {bill}'s event names its line");
        }
    }
    assert_eq!(created, 1_100);
    let skipped = events.iter().filter(|event| matches!(event.kind, EventKind::ShareSkipped { .. })).count();
    assert_eq!(skipped, 1_100, "sharing is off: every skip is recorded");
}

async fn a_paused_client_whose_card_is_replaced_has_the_open_bill_charged_the_next_night(backend: &str) {
    let scenario = practice("America/New_York", "daily", 1)
        + &client("soft", "autopay = true\ncard = \"insufficient_funds\"")
        + &appointment("s1", "soft", "2026-01-05T10:00", "completed", "\"90837\"")
        + "\n[[action]]\nat = \"2026-01-09T12:00\"\nkind = \"set_client\"\nid = \"soft\"\ncard = \"visa\"\n";
    let events = simulate(backend, &scenario, (2026, 1, 5), (2026, 1, 12)).await;
    assert_eq!(local(&events, NY, "payment_failed"), ["2026-01-06 00:30", "2026-01-07 00:30", "2026-01-08 00:30"]);
    assert_eq!(
        local(&events, NY, "payment_succeeded"),
        ["2026-01-10 00:30"],
        "the night after staff saved the new card, a new series of attempts charges the paused bill"
    );
}

async fn with_no_share_delay_and_autopay_the_emailed_bill_shows_it_paid(backend: &str) {
    let scenario = practice("America/New_York", "daily", 1)
        .replace("share_delay_minutes = 60", "share_delay_minutes = 0")
        + &client("ana", "autopay = true\ncard = \"visa\"")
        + &appointment("a1", "ana", "2026-01-05T10:00", "completed", "\"90837\"");
    let db = database(backend).await;
    let loaded = scenario::parse("test.toml", &scenario).unwrap_or_else(|error| panic!("{error}"));
    let work = tempfile::tempdir().expect("a temporary folder");
    let engine = simulation_engine(&db.url, work.path()).await;
    let options = SimulationOptions { from: day((2026, 1, 5)), until: day((2026, 1, 7)), plugins: vec![] };
    let events = simulate::run(&loaded, &options, &engine).await.unwrap_or_else(|error| panic!("{error}")).events;
    assert_eq!(local(&events, NY, "payment_succeeded"), ["2026-01-06 00:30"]);
    assert_eq!(local(&events, NY, "document_shared"), ["2026-01-06 00:30"], "due at 12:00 am, sent once charged");
    let mut emails = std::fs::read_dir(work.path().join("outbox")).expect("the outbox").filter_map(Result::ok);
    let email = std::fs::read_to_string(emails.next().expect("one email").path()).expect("the email");
    assert!(email.contains("Status:  Paid") && email.contains("Balance: USD 0.00"), "{email}");
}

async fn an_unreachable_provider_holds_the_bills_email_until_6_am_then_sends_it_with_a_warning(backend: &str) {
    let db = database(backend).await;
    let store = Store::connect(&db.url).await.expect("the store");
    let created = local_instant(NY, day((2026, 1, 5)), NaiveTime::MIN);
    let automation = autobill::domain::AutomationSettings {
        autopay: true,
        share: true,
        share_delay_minutes: 60,
        ..Default::default()
    };
    let new = autobill::domain::NewPractice {
        name: "P".into(),
        timezone: NY,
        currency: Currency::USD,
        automation,
        ..Default::default()
    };
    let practice = store.create_practice(&new, created).await.expect("a practice");
    let service = store.create_service(practice, "90837", "Therapy", 15_000, None).await.expect("a service");
    for (name, card) in [("a", "card-a"), ("b", "card-b")] {
        let new = autobill::domain::NewClient {
            reference: name.into(),
            name: name.into(),
            email: Some(format!("{name}@example.com")),
            email_enabled: true,
            auto_share: Some(true),
            autopay: true,
            card: Some(card.into()),
            ..Default::default()
        };
        let client = store.create_client(practice, &new).await.expect("a client");
        let appointment = autobill::domain::NewAppointment {
            practice,
            client,
            reference: name,
            starts_at: created + Duration::hours(10),
            local_date: day((2026, 1, 5)),
            status: autobill::domain::AppointmentStatus::Completed,
            services: &[(service, 15_000)],
        };
        store.create_appointment(&appointment).await.expect("an appointment");
    }
    let gateway = Arc::new(FlakyGateway::default());
    *gateway.down_for.lock().expect("switch") = Some("card-a".into());
    let outbox = tempfile::tempdir().expect("an outbox");
    let engine = Engine::new(store.clone(), runtime(), gateway.clone(), Arc::new(FileOutbox::new(outbox.path())), "h")
        .expect("an engine");
    let at = |h, m| local_instant(NY, day((2026, 1, 6)), NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default());
    let sent = |who: &'static str| {
        let store = store.clone();
        async move {
            count(
                &store,
                &format!(
                    "SELECT COUNT(*) FROM shares s JOIN clients c ON c.id = s.client_id WHERE c.reference = '{who}' AND s.status = 'sent'"
                ),
            )
            .await
        }
    };
    for (h, m) in [(0, 0), (0, 30), (1, 0), (3, 0), (5, 59)] {
        engine.tick(at(h, m)).await.expect("a tick");
    }
    assert_eq!((sent("a").await, sent("b").await), (0, 1), "b's bill, charged, is emailed after the delay; a's waits");
    engine.tick(at(6, 0)).await.expect("a tick");
    assert_eq!(sent("a").await, 1, "at 6:00 am a's bill goes without the charge's outcome");
    let warnings: Vec<String> = engine
        .events(practice)
        .await
        .expect("events")
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::Warning { message } if message.contains("6:00 am") => Some(message),
            _ => None,
        })
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("client a"), "{}", warnings[0]);
}

async fn concurrent_opens_and_voids_of_one_bill_have_one_winner_and_one_event(backend: &str) {
    let db = database(backend).await;
    let store = Store::connect(&db.url).await.expect("the store connects");
    let practice = add_practice_billing(&store, "P", 2, &[(2026, 1, 1)], autobill::domain::BillCreation::Manual).await;
    let engine = Arc::new(engine_on(&store, "a"));
    let night = local_instant(NY, day((2026, 1, 2)), NaiveTime::from_hms_opt(1, 0, 0).unwrap_or_default());
    engine.tick(night).await.expect("a tick");
    let rows = sqlx::query("SELECT id FROM bills ORDER BY id").fetch_all(store.pool()).await.expect("bills");
    let bills: Vec<autobill::domain::BillId> =
        rows.iter().map(|row| autobill::domain::BillId::new(row.try_get(0).expect("an id"))).collect();
    assert_eq!(bills.len(), 2, "two pended bills");
    let morning = night + Duration::hours(8);
    let (pended, voided) = (bills[0], bills[1]);

    // All twenty start before any is awaited, so they race.
    let opens: Vec<_> = (0..10)
        .map(|_| {
            let engine = engine.clone();
            tokio::spawn(async move { engine.open_bill(practice, pended, morning).await })
        })
        .collect();
    let voids: Vec<_> = (0..10)
        .map(|_| {
            let engine = engine.clone();
            tokio::spawn(async move { engine.void_bill(practice, voided, morning).await })
        })
        .collect();
    for (what, handles) in [("open", opens), ("void", voids)] {
        let mut answers = vec![];
        for handle in handles {
            answers.push(handle.await.expect("the task"));
        }
        let won = answers.iter().filter(|answer| answer.is_ok()).count();
        assert_eq!(won, 1, "one of ten concurrent {what}s succeeds: {answers:?}");
        for refused in answers.iter().filter_map(|answer| answer.as_ref().err()) {
            assert!(
                matches!(refused, autobill::engine::EngineError::Conflict(_)),
                "the others are refused with the current status: {refused}"
            );
        }
    }
    let events = engine.events(practice).await.expect("events");
    let named = |name: &str| events.iter().filter(|event| event.kind.name() == name).count();
    assert_eq!((named("bill_opened"), named("bill_voided")), (1, 1), "one event per change that happened");
}

async fn concurrent_changes_to_one_client_and_one_practice_all_take_effect(backend: &str) {
    use autobill::domain::{AutomationChange, BillCreation, ClientChange, ClientId};
    let db = database(backend).await;
    let store = Store::connect(&db.url).await.expect("the store connects");
    let practice = add_practice_billing(&store, "P", 1, &[], BillCreation::Daily).await;
    let engine = Arc::new(engine_on(&store, "a"));
    let client = store.client_by_reference(practice, "c0").await.expect("the client").id;
    let born = NaiveDate::from_ymd_opt(1990, 4, 12);
    let changes = [
        ClientChange { name: Some("Ana Alvarez".into()), ..Default::default() },
        ClientChange { email: Some(Some("ana@example.com".into())), ..Default::default() },
        ClientChange { email_enabled: Some(false), ..Default::default() },
        ClientChange { auto_superbills: Some(true), ..Default::default() },
        ClientChange { auto_share: Some(true), ..Default::default() },
        ClientChange { autopay: Some(true), ..Default::default() },
        ClientChange { card: Some(Some("pm_card_visa".into())), ..Default::default() },
        ClientChange { diagnosis: Some(vec!["F41.1".into()]), ..Default::default() },
        ClientChange { birth_date: Some(born), ..Default::default() },
    ];
    let automation = [
        AutomationChange { bills: Some("monthly".into()), ..Default::default() },
        AutomationChange { superbill_day: Some(15), ..Default::default() },
        AutomationChange { share: Some(true), ..Default::default() },
        AutomationChange { share_delay_minutes: Some(30), ..Default::default() },
        AutomationChange { autopay: Some(true), ..Default::default() },
    ];
    let now = visits_created();
    // Every change starts before any is awaited, so they race.
    let clients: Vec<_> = changes
        .into_iter()
        .map(|change| {
            let store = store.clone();
            tokio::spawn(async move { store.change_client(practice, client, change).await })
        })
        .collect();
    let settings: Vec<_> = automation
        .into_iter()
        .map(|change| {
            let engine = engine.clone();
            tokio::spawn(async move { engine.change_automation(practice, &change, now).await })
        })
        .collect();
    let details: Vec<_> = [("name", "Lakeside Therapy"), ("phone", "555-0100"), ("address", "1 Main St")]
        .into_iter()
        .map(|(field, value)| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .change_practice_details(practice, |mut practice| {
                        match field {
                            "name" => practice.name = value.into(),
                            "phone" => practice.phone = value.into(),
                            _ => practice.address = value.into(),
                        }
                        practice
                    })
                    .await
            })
        })
        .collect();
    for handle in clients {
        handle.await.expect("the task").expect("a client change");
    }
    for handle in settings {
        handle.await.expect("the task").expect("an automation change");
    }
    for handle in details {
        handle.await.expect("the task").expect("a details change");
    }

    let saved = store.client(ClientId::new(client.get())).await.expect("the client");
    assert_eq!(
        (saved.name.as_str(), saved.email.as_deref(), saved.email_enabled, saved.auto_superbills, saved.auto_share),
        ("Ana Alvarez", Some("ana@example.com"), false, true, true),
        "no client change is lost: {saved:?}"
    );
    assert_eq!(
        (saved.autopay, saved.card.as_deref(), saved.diagnosis.as_slice(), saved.birth_date),
        (true, Some("pm_card_visa"), ["F41.1".to_string()].as_slice(), born),
        "no client change is lost: {saved:?}"
    );
    let practice = store.practice(practice).await.expect("the practice");
    let a = &practice.automation;
    assert_eq!(
        (a.bills, a.superbill_day, a.share, a.share_delay_minutes, a.autopay),
        (BillCreation::Monthly, 15, true, 30, true),
        "no automation change is lost"
    );
    assert_eq!(
        (practice.name.as_str(), practice.phone.as_str(), practice.address.as_str()),
        ("Lakeside Therapy", "555-0100", "1 Main St"),
        "no change to the practice's details is lost"
    );
}

async fn concurrent_cancels_of_one_appointment_have_one_winner(backend: &str) {
    use autobill::domain::{AppointmentId, AppointmentStatus, BillCreation};
    use autobill::store::records::StatusChange;
    let db = database(backend).await;
    let store = Store::connect(&db.url).await.expect("the store connects");
    let practice = add_practice_billing(&store, "P", 1, &[(2026, 1, 1)], BillCreation::Daily).await;
    let row = sqlx::query("SELECT id FROM appointments").fetch_one(store.pool()).await.expect("the appointment");
    let appointment = AppointmentId::new(row.try_get(0).expect("an id"));
    let cancels: Vec<_> = (0..10)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store.set_appointment_status_by_id(practice, appointment, AppointmentStatus::Cancelled).await
            })
        })
        .collect();
    let mut answers = vec![];
    for handle in cancels {
        answers.push(handle.await.expect("the task").expect("an answer"));
    }
    let won = answers.iter().filter(|answer| **answer == StatusChange::Changed).count();
    let refused =
        answers.iter().filter(|answer| **answer == StatusChange::Already(AppointmentStatus::Cancelled)).count();
    assert_eq!(
        (won, refused),
        (1, 9),
        "one cancel changes it; the others are told it is already cancelled: {answers:?}"
    );
}

/// A practice's service of $3.00, for balances under an autopay policy's minimum.
const COPAY: &str = "\n[[service]]\ncode = \"COPAY\"\nname = \"Copay\"\nfee = 300\n";

fn autopay_rules(config: &str) -> PluginChoice {
    PluginChoice {
        slot: autobill::domain::Slot::AutopaySelection,
        file: autobill::plugin::artifacts::AUTOPAY_RULES.into(),
        config: config.into(),
    }
}

async fn an_autopay_policy_skips_a_small_balance_with_its_reason_and_charges_the_others(backend: &str) {
    let scenario = practice("America/New_York", "daily", 1)
        + COPAY
        + &client("ana", "autopay = true\ncard = \"visa\"")
        + &client("ben", "autopay = true\ncard = \"visa\"")
        + &appointment("a1", "ana", "2026-03-02T10:00", "completed", "\"COPAY\"")
        + &appointment("b1", "ben", "2026-03-02T11:00", "completed", "\"90837\"");
    let plugins = vec![autopay_rules(r#"{"min_balance": 500}"#)];
    let events = simulate_with(backend, &scenario, (2026, 3, 2), (2026, 3, 4), plugins).await;
    let skipped: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::AutopaySkipped { client, balance, reason, .. } => {
                Some((client.clone(), *balance, reason.clone()))
            }
            _ => None,
        })
        .collect();
    let reason = "the balance of 3.00 USD is under the minimum of 5.00 USD that autopay charges";
    assert_eq!(
        skipped,
        vec![("ana".to_string(), 300, reason.to_string()); 2],
        "skipped each night it is asked about, with the policy's reason"
    );
    let paid: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::PaymentSucceeded { client, amount, .. } => Some((client.clone(), *amount)),
            _ => None,
        })
        .collect();
    assert_eq!(paid, [("ben".to_string(), 15_000)]);
    assert_eq!(local(&events, NY, "document_shared").len(), 2, "both bills are emailed, the skipped one too");
}

async fn an_autopay_policy_charging_part_of_a_bill_leaves_the_rest_for_another_night(backend: &str) {
    let scenario = practice("America/New_York", "daily", 1)
        + &client("ana", "autopay = true\ncard = \"visa\"")
        + &appointment("a1", "ana", "2026-03-02T10:00", "completed", "\"90837\"");
    let plugins = vec![autopay_rules(r#"{"nightly_cap": 10000}"#)];
    let events = simulate_with(backend, &scenario, (2026, 3, 2), (2026, 3, 5), plugins).await;
    let paid: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::PaymentSucceeded { amount, .. } => {
                Some((e.at.with_timezone(&NY).format("%m-%d %H:%M").to_string(), *amount))
            }
            _ => None,
        })
        .collect();
    assert_eq!(paid, [("03-03 00:30".to_string(), 10_000), ("03-04 00:30".to_string(), 5_000)]);
}

/// The same month under the built-in default and under a plugin built for contract 0.1 filling
/// the three slots 0.1 has, with its documented behaviour: the same events.
async fn a_plugin_built_for_contract_0_1_bills_charges_and_shares_as_before(backend: &str) {
    let scenario = practice("America/New_York", "monthly", 1)
        + &client("ana", "autopay = true\ncard = \"visa\"\nauto_superbills = true")
        + &client("ben", "")
        + &appointment("a1", "ana", "2026-03-02T10:00", "completed", "\"90837\", \"GROUP\"")
        + &appointment("b1", "ben", "2026-03-09T11:00", "completed", "\"90837\"");
    let old =
        |slot| PluginChoice { slot, file: autobill::plugin::artifacts::DEFAULT_V0_1.into(), config: String::new() };
    use autobill::domain::Slot;
    let plugins = vec![old(Slot::BillCadence), old(Slot::SuperbillInclusion), old(Slot::ShareFilter)];
    let under_0_1 = simulate_with(backend, &scenario, (2026, 3, 1), (2026, 5, 2), plugins).await;
    let built_in = simulate(backend, &scenario, (2026, 3, 1), (2026, 5, 2)).await;
    let names = |events: &[Event]| events.iter().map(|e| event_name(&e.kind)).collect::<Vec<_>>();
    assert!(names(&under_0_1).contains(&"superbill_created".to_string()), "{:?}", names(&under_0_1));
    assert_eq!(under_0_1, built_in);
}

/// A cancel sent while a bill run is billing the appointment waits for the run, then is refused
/// because the line is on the bill: never a bill holding a cancelled appointment's line.
async fn a_cancel_racing_a_bill_run_waits_for_it_and_is_refused_once_the_line_is_billed(backend: &str) {
    use autobill::domain::{AppointmentStatus, BillStatus, DocumentKind, PlannedBill};
    use autobill::store::records::StatusChange;
    let db = database(backend).await;
    let store = Store::connect(&db.url).await.expect("the store connects");
    let created = local_instant(NY, day((2026, 1, 5)), NaiveTime::MIN);
    let new =
        autobill::domain::NewPractice { name: "P".into(), timezone: NY, currency: Currency::USD, ..Default::default() };
    let practice = store.create_practice(&new, created).await.expect("a practice");
    let service = store.create_service(practice, "90837", "Therapy", 15_000, None).await.expect("a service");
    let client = autobill::domain::NewClient { reference: "ana".into(), name: "Ana".into(), ..Default::default() };
    let client = store.create_client(practice, &client).await.expect("a client");
    let appointment = store
        .create_appointment(&autobill::domain::NewAppointment {
            practice,
            client,
            reference: "a1",
            starts_at: created + Duration::hours(10),
            local_date: day((2026, 1, 5)),
            status: AppointmentStatus::Completed,
            services: &[(service, 15_000)],
        })
        .await
        .expect("an appointment");

    let mut run = store.begin().await.expect("the bill run's transaction");
    let read = store.candidate_lines(&mut run, practice, DocumentKind::Bill, day((2026, 1, 6))).await.expect("read");
    let candidates = autobill::engine::decide::documents::billable(read);
    let cancel = tokio::spawn({
        let store = store.clone();
        async move { store.set_appointment_status_by_id(practice, appointment, AppointmentStatus::Cancelled).await }
    });
    // The cancel is sent while the run is under way; whenever it reaches the database, the
    // outcome must be the same.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let plan =
        PlannedBill { client, status: BillStatus::Open, lines: candidates.lines.iter().map(|line| line.id).collect() };
    assert_eq!(plan.lines.len(), 1, "the run bills the appointment's line");
    let bills = autobill::engine::decide::documents::new_bills(&candidates, &[plan]);
    store.insert_bills(&mut run, practice, &bills, created + Duration::days(1)).await.expect("the bill");
    run.commit().await.expect("the run commits");

    let outcome = cancel.await.expect("the cancel ends").expect("the cancel is answered");
    assert!(matches!(&outcome, StatusChange::AlreadyOn(reason) if reason.contains("already on bill")), "{outcome:?}");
    let status: String = sqlx::query_scalar("SELECT status FROM appointments")
        .fetch_one(store.pool())
        .await
        .expect("the appointment's status");
    assert_eq!(status, "completed");
}
