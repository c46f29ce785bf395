//! The plugin runtime, end to end: every plugin and fault fixture built from this workspace is
//! loaded from its compiled component and called through [`autobill::plugin::Plugin`], the way
//! the engine calls it. Nothing here calls a policy natively except to compare answers.
//!
//! Every plugin crate must have a `mod` of tests here named after it: [`assert_plugin_tested`]
//! turns a missing one into a compile error.

use autobill::plugin::policy::{
    AutomationSettings, AutopayCandidate, AutopayDecision, BillCreation, BillPlan, BillStatus, Catalog, ClientBilling,
    Date, Document, DocumentKind, DocumentStatus, PracticeContext, Service, ServiceLine, ShareDecision, ShareRequest,
    SuperbillPlan,
};
use autobill::plugin::{
    LoadError, Plugin, PluginLimits, PluginRuntime, PolicyCode, PolicyError, PolicyProblem, Slot, artifacts,
    to_policy_date,
};
use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use std::fmt::Debug;
use std::sync::OnceLock;

/// Fails to compile unless this file has a `mod` with the tests of the plugin crate `$name`.
macro_rules! assert_plugin_tested {
    ($name:ident, $path:expr) => {
        #[expect(unused_imports, reason = "only checks that the module exists")]
        use self::$name as _;
    };
}

autobill::foreach_plugin!(assert_plugin_tested);
autobill::foreach_fixture!(assert_plugin_tested);

// ---------------------------------------------------------------------------------------------
// Shared helpers.
// ---------------------------------------------------------------------------------------------

/// One runtime with the production limits, shared so each component is compiled once.
fn runtime() -> &'static PluginRuntime {
    static RUNTIME: OnceLock<PluginRuntime> = OnceLock::new();
    RUNTIME.get_or_init(|| PluginRuntime::new(PluginLimits::default()).expect("the engine starts"))
}

/// Limits small enough that runaway fixtures are stopped quickly.
fn tight() -> PluginLimits {
    PluginLimits { fuel: 50_000_000, memory_bytes: 16 << 20, ..PluginLimits::default() }
}

/// A runtime with [`tight`] limits.
fn tight_runtime() -> &'static PluginRuntime {
    static RUNTIME: OnceLock<PluginRuntime> = OnceLock::new();
    RUNTIME.get_or_init(|| PluginRuntime::new(tight()).expect("the engine starts"))
}

/// The call time limit of [`timed_runtime`]: short, so time-limit tests do not wait long.
const TIMED_LIMIT: std::time::Duration = std::time::Duration::from_millis(500);

/// A runtime whose calls may take [`TIMED_LIMIT`].
fn timed_runtime() -> &'static PluginRuntime {
    static RUNTIME: OnceLock<PluginRuntime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        PluginRuntime::new(PluginLimits { call_timeout: TIMED_LIMIT, ..PluginLimits::default() })
            .expect("the engine starts")
    })
}

fn bytes(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|error| panic!("reading {path}: {error}"))
}

/// The compiled component at `path`, loaded by `runtime` under `name`.
fn load_with(runtime: &PluginRuntime, name: &str, path: &str) -> Plugin {
    runtime.load(name, &bytes(path)).unwrap_or_else(|error| panic!("{name} loads: {error}"))
}

fn load(name: &str, path: &str) -> Plugin {
    load_with(runtime(), name, path)
}

/// The problem of a failed call, after checking that the error names the plugin and the policy
/// function, in its fields and in the message shown to staff.
#[track_caller]
fn problem<T: Debug>(result: Result<T, PolicyError>, plugin: &str, policy: &str) -> PolicyProblem {
    let error = result.expect_err("the call fails");
    let shown = error.to_string();
    assert_eq!(error.plugin, plugin);
    assert_eq!(error.policy, policy);
    assert!(shown.contains(&format!("`{plugin}`")), "{shown:?} names the plugin {plugin}");
    assert!(shown.contains(policy), "{shown:?} names the policy function {policy}");
    error.problem
}

/// What a policy reported about its own failure.
#[track_caller]
fn reported<T: Debug>(result: Result<T, PolicyError>, plugin: &str, policy: &str) -> String {
    match problem(result, plugin, policy) {
        PolicyProblem::Reported(reason) => reason,
        other => panic!("expected the policy to report an error, got {other:?}"),
    }
}

/// The time of a run; all a plugin's clock shows.
fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 5, 0, 0).unwrap()
}

fn d(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("a real date")
}

fn pd(year: i32, month: u32, day: u32) -> Date {
    to_policy_date(d(year, month, day))
}

fn practice(bill_creation: BillCreation, superbill_day: u8) -> PracticeContext {
    PracticeContext {
        practice_id: 1,
        timezone: "America/New_York".into(),
        currency: "USD".into(),
        automation: AutomationSettings {
            bill_creation,
            superbill_day,
            share_by_default: true,
            share_delay_minutes: 60,
            autopay: false,
        },
        config: String::new(),
    }
}

fn configured(config: &str) -> PracticeContext {
    PracticeContext { config: config.into(), ..practice(BillCreation::Daily, 1) }
}

/// The CPT codes of the test catalog's services, in order: a service per code, one without a
/// code and one with a blank code.
const CATALOG_CPT: [Option<&str>; 7] =
    [Some("90837"), Some("90834"), Some("90791"), Some("96127"), Some("90847"), None, Some(" ")];

/// The services and diagnoses the test lines refer to.
fn catalog() -> Catalog {
    Catalog {
        services: CATALOG_CPT
            .iter()
            .enumerate()
            .map(|(index, cpt)| Service { code: format!("S{index}"), cpt_code: cpt.map(Into::into) })
            .collect(),
        diagnosis_sets: vec![vec!["F41.1".into()]],
    }
}

fn line(line_id: u64, appointment_id: u64, client_id: u64, date: NaiveDate, cpt: Option<&str>) -> ServiceLine {
    let service = CATALOG_CPT.iter().position(|code| *code == cpt).unwrap_or(5) as u32;
    ServiceLine {
        line_id,
        appointment_id,
        client_id,
        date: to_policy_date(date),
        service,
        diagnoses: 0,
        fee: 15_000,
        paid: 0,
    }
}

/// A client with every switch on and an email address on file.
fn client(client_id: u64) -> ClientBilling {
    ClientBilling {
        client_id,
        email_on_file: true,
        email_allowed: true,
        auto_superbills: true,
        auto_share: true,
        autopay: false,
        card_on_file: false,
    }
}

fn request(document_id: u64, kind: DocumentKind, status: DocumentStatus, client: ClientBilling) -> ShareRequest {
    ShareRequest {
        document: Document { document_id, kind, client_id: client.client_id, total: 15_000, paid: 0, status },
        client,
    }
}

fn bill(client_id: u64, lines: &[u64], status: BillStatus) -> BillPlan {
    BillPlan { client_id, lines: lines.to_vec(), status }
}

fn skip(reason: &str) -> ShareDecision {
    ShareDecision::Skip(reason.into())
}

/// A deterministic stream of small numbers, so generated inputs are the same on every run.
struct Numbers(u64);

impl Numbers {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}

/// `count` unbilled lines of clients `1..=clients`, on appointments of one to three lines, dated
/// over the 120 days from 2025-12-01, most with a CPT code, some with none or a blank one.
fn generated_lines(count: usize, clients: u64) -> Vec<ServiceLine> {
    const CPT: [Option<&str>; 8] =
        [Some("90837"), Some("90834"), Some("90791"), Some("96127"), Some("90837"), Some("90847"), None, Some(" ")];
    let mut numbers = Numbers(0x2545_f491_4f6c_dd1d);
    let mut lines = Vec::with_capacity(count);
    let mut appointment_id = 1_000;
    while lines.len() < count {
        appointment_id += 1;
        let client_id = 1 + numbers.below(clients);
        let date = d(2025, 12, 1) + Days::new(numbers.below(120));
        for _ in 0..=numbers.below(3) {
            let line_id = lines.len() as u64 + 1;
            let cpt = CPT[numbers.below(CPT.len() as u64) as usize];
            let mut line = line(line_id, appointment_id, client_id, date, cpt);
            line.fee = 5_000 + numbers.below(20_000) as i64;
            line.paid = if numbers.below(4) == 0 { line.fee } else { 0 };
            lines.push(line);
        }
    }
    lines.truncate(count);
    lines
}

/// Clients `1..=count` with a mix of superbill, sharing and email settings.
fn generated_clients(count: u64) -> Vec<ClientBilling> {
    (1..=count)
        .map(|id| ClientBilling {
            auto_superbills: id % 3 != 0,
            auto_share: id % 4 != 1,
            email_on_file: id % 5 != 2,
            email_allowed: id % 7 != 3,
            ..client(id)
        })
        .collect()
}

/// `count` share requests over `clients`: bills in every status, issued and void superbills.
fn generated_requests(count: usize, clients: &[ClientBilling]) -> Vec<ShareRequest> {
    const BILLS: [DocumentStatus; 4] =
        [DocumentStatus::Open, DocumentStatus::Paid, DocumentStatus::Void, DocumentStatus::Pended];
    (0..count)
        .map(|index| {
            let client = clients[index % clients.len()];
            let (kind, status) = match index % 5 {
                0 => (DocumentKind::Superbill, DocumentStatus::Issued),
                1 => (
                    DocumentKind::Superbill,
                    if index % 2 == 0 { DocumentStatus::Void } else { DocumentStatus::Issued },
                ),
                _ => (DocumentKind::Bill, BILLS[index % BILLS.len()]),
            };
            request(index as u64 + 1, kind, status, client)
        })
        .collect()
}

/// The host's contract types as the guest SDK's: the same conversions the benches use.
#[path = "../host/benches/support/native.rs"]
mod to_guest;

/// Converts between the host's view of the contract's types and the guest SDK's (different Rust
/// types with the same fields), so the native build of a policy can be asked the same questions
/// as its component.
mod native {
    use autobill::plugin::policy as host;
    use autobill_guest as guest;

    pub use super::to_guest::*;

    pub fn host_date(date: &guest::Date) -> chrono::NaiveDate {
        autobill::plugin::from_policy_date(&host::Date { year: date.year, month: date.month, day: date.day })
            .expect("the native policy answers real dates")
    }

    pub fn host_bill(bill: guest::BillPlan) -> host::BillPlan {
        host::BillPlan {
            client_id: bill.client_id,
            lines: bill.lines,
            status: match bill.status {
                guest::BillStatus::Pended => host::BillStatus::Pended,
                guest::BillStatus::Open => host::BillStatus::Open,
            },
        }
    }

    pub fn host_superbill(superbill: guest::SuperbillPlan) -> host::SuperbillPlan {
        host::SuperbillPlan { client_id: superbill.client_id, lines: superbill.lines }
    }

    pub fn host_decision(decision: guest::ShareDecision) -> host::ShareDecision {
        match decision {
            guest::ShareDecision::Send(delay) => host::ShareDecision::Send(delay),
            guest::ShareDecision::Skip(reason) => host::ShareDecision::Skip(reason),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Plugins.
// ---------------------------------------------------------------------------------------------

/// The built-in default policy, which fills every slot with the documented behaviour.
mod default {
    use super::*;
    use autobill_guest::{BillCadence, ShareFilter, SuperbillInclusion};
    use autobill_plugin_default::{DefaultPolicy, skip_reason};

    fn plugin() -> Plugin {
        load("default", artifacts::DEFAULT)
    }

    #[test]
    fn fills_every_slot_of_contract_0_2() {
        let plugin = plugin();
        assert_eq!(plugin.slots(), Slot::ALL);
        assert_eq!(plugin.contract_version(), Some("0.2.0"));
        let built_in = runtime().load_default().expect("the built-in default loads");
        assert_eq!(built_in.id(), plugin.id(), "the host ships the default plugin built from this workspace");
    }

    #[test]
    fn takes_no_configuration() {
        let plugin = plugin();
        for slot in Slot::ALL {
            assert!(plugin.check_config(slot, "").is_ok());
            assert!(plugin.check_config(slot, "{}").is_ok());
        }
        let policy = "share-filter.check-config";
        let reason = reported(plugin.check_config(Slot::ShareFilter, r#"{"delay": 5}"#), "default", policy);
        assert!(!reason.is_empty());
    }

    #[test]
    fn daily_and_manual_practices_have_a_bill_run_every_day() {
        let plugin = plugin();
        let every_day: Vec<NaiveDate> = d(2026, 1, 30).iter_days().take_while(|day| *day <= d(2026, 3, 2)).collect();
        assert_eq!(every_day.len(), 32);
        for mode in [BillCreation::Daily, BillCreation::Manual] {
            let dates = plugin.bill_run_dates(at(), &practice(mode, 1), d(2026, 1, 30), d(2026, 3, 2)).unwrap();
            assert_eq!(dates, every_day, "{mode:?}");
        }
    }

    #[test]
    fn monthly_practices_have_a_bill_run_on_the_first() {
        let dates =
            plugin().bill_run_dates(at(), &practice(BillCreation::Monthly, 1), d(2026, 1, 2), d(2026, 3, 1)).unwrap();
        assert_eq!(dates, [d(2026, 2, 1), d(2026, 3, 1)]);
    }

    /// Client 7: two lines at one appointment on Jan 5, one at another appointment on Jan 5, one
    /// on Jan 6. Client 8: one on Jan 5.
    fn lines() -> Vec<ServiceLine> {
        vec![
            line(1, 10, 7, d(2026, 1, 5), Some("90837")),
            line(2, 10, 7, d(2026, 1, 5), None),
            line(3, 11, 7, d(2026, 1, 5), Some("90834")),
            line(4, 12, 7, d(2026, 1, 6), Some("90837")),
            line(5, 13, 8, d(2026, 1, 5), Some("90837")),
        ]
    }

    #[test]
    fn daily_bills_are_open_one_per_client_and_date_of_service() {
        let bills =
            plugin().group_lines(at(), &practice(BillCreation::Daily, 1), d(2026, 1, 7), &catalog(), &lines()).unwrap();
        let open = BillStatus::Open;
        assert_eq!(bills, [bill(7, &[1, 2, 3], open), bill(7, &[4], open), bill(8, &[5], open)]);
    }

    #[test]
    fn monthly_bills_are_open_one_per_client() {
        let bills = plugin()
            .group_lines(at(), &practice(BillCreation::Monthly, 1), d(2026, 2, 1), &catalog(), &lines())
            .unwrap();
        assert_eq!(bills, [bill(7, &[1, 2, 3, 4], BillStatus::Open), bill(8, &[5], BillStatus::Open)]);
    }

    #[test]
    fn manual_bills_are_pended_one_per_appointment() {
        let bills = plugin()
            .group_lines(at(), &practice(BillCreation::Manual, 1), d(2026, 1, 7), &catalog(), &lines())
            .unwrap();
        let pended = BillStatus::Pended;
        assert_eq!(
            bills,
            [bill(7, &[1, 2], pended), bill(7, &[3], pended), bill(7, &[4], pended), bill(8, &[5], pended)]
        );
    }

    #[test]
    fn no_lines_make_no_bills() {
        let bills =
            plugin().group_lines(at(), &practice(BillCreation::Daily, 1), d(2026, 1, 7), &catalog(), &[]).unwrap();
        assert!(bills.is_empty());
    }

    #[test]
    fn superbill_day_31_runs_on_the_last_day_of_shorter_months() {
        let plugin = plugin();
        let day_31 = practice(BillCreation::Daily, 31);
        assert_eq!(plugin.superbill_run_day(at(), &day_31, 2027, 2).unwrap(), 28);
        assert_eq!(plugin.superbill_run_day(at(), &day_31, 2028, 2).unwrap(), 29);
        assert_eq!(plugin.superbill_run_day(at(), &day_31, 2026, 4).unwrap(), 30);
        assert_eq!(plugin.superbill_run_day(at(), &day_31, 2026, 1).unwrap(), 31);
        assert_eq!(plugin.superbill_run_day(at(), &practice(BillCreation::Daily, 15), 2027, 2).unwrap(), 15);
    }

    #[test]
    fn a_superbill_day_outside_1_to_31_is_reported() {
        let policy = "superbill-inclusion.superbill-run-day";
        let result = plugin().superbill_run_day(at(), &practice(BillCreation::Daily, 0), 2026, 4);
        assert!(reported(result, "default", policy).contains("superbill day is 0"));
    }

    #[test]
    fn superbills_hold_coded_lines_from_earlier_months_of_opted_in_clients_only() {
        let opted_out = ClientBilling { auto_superbills: false, ..client(2) };
        let lines = [
            line(1, 10, 1, d(2026, 2, 27), Some("90837")), // last month: in
            line(2, 11, 1, d(2025, 12, 3), Some("90834")), // last year: in
            line(3, 12, 1, d(2026, 3, 2), Some("90837")),  // this month: out
            line(4, 13, 1, d(2026, 2, 10), None),          // no CPT code: out
            line(5, 14, 1, d(2026, 2, 11), Some("  ")),    // a blank CPT code: out
            line(6, 15, 2, d(2026, 2, 10), Some("90837")), // opted out: out
            line(7, 16, 3, d(2026, 2, 10), Some("90837")), // a client not given: out
            line(8, 17, 4, d(2026, 1, 31), Some("90791")), // another opted-in client: in
        ];
        let clients = [client(1), opted_out, client(4)];
        let superbills = plugin()
            .select_lines(at(), &practice(BillCreation::Daily, 1), d(2026, 3, 15), &clients, &catalog(), &lines)
            .unwrap();
        assert_eq!(
            superbills,
            [SuperbillPlan { client_id: 1, lines: vec![1, 2] }, SuperbillPlan { client_id: 4, lines: vec![8] }]
        );
    }

    #[test]
    fn documents_are_emailed_after_the_delay_only_when_the_client_can_get_email() {
        use DocumentKind::{Bill, Superbill};
        use DocumentStatus::{Issued, Open, Paid, Pended, Void};
        let requests = [
            request(1, Bill, Open, client(7)),
            request(2, Superbill, Issued, client(7)),
            request(3, Bill, Paid, client(7)),
            request(4, Bill, Open, ClientBilling { auto_share: false, ..client(7) }),
            request(5, Bill, Open, ClientBilling { email_on_file: false, ..client(7) }),
            request(6, Superbill, Issued, ClientBilling { email_allowed: false, ..client(7) }),
            request(7, Bill, Void, client(7)),
            request(8, Superbill, Void, client(7)),
            request(9, Bill, Pended, client(7)),
        ];
        let decisions = plugin().decide_shares(at(), &practice(BillCreation::Daily, 1), &requests).unwrap();
        assert_eq!(
            decisions,
            [
                ShareDecision::Send(60),
                ShareDecision::Send(60),
                ShareDecision::Send(60),
                skip(skip_reason::SHARING_OFF),
                skip(skip_reason::NO_EMAIL),
                skip(skip_reason::EMAIL_OFF),
                skip(skip_reason::VOID),
                skip(skip_reason::VOID),
                skip(skip_reason::PENDED),
            ]
        );
    }

    #[test]
    fn the_component_answers_exactly_as_the_native_policy_on_a_generated_practice() {
        let plugin = plugin();
        let lines = generated_lines(400, 12);
        let clients = generated_clients(12);
        let requests = generated_requests(300, &clients);
        let native_lines: Vec<_> = lines.iter().map(native::line).collect();
        let native_clients: Vec<_> = clients.iter().map(native::client).collect();
        let native_requests: Vec<_> = requests.iter().map(native::request).collect();

        for mode in [BillCreation::Daily, BillCreation::Monthly, BillCreation::Manual] {
            let practice = practice(mode, 31);
            let guest_practice = native::practice(&practice);

            let (first, last) = (d(2026, 1, 1), d(2026, 4, 30));
            let wasm = plugin.bill_run_dates(at(), &practice, first, last).unwrap();
            let expected = DefaultPolicy::bill_run_dates(
                &guest_practice,
                native::date(&to_policy_date(first)),
                native::date(&to_policy_date(last)),
            )
            .unwrap();
            assert_eq!(wasm, expected.iter().map(native::host_date).collect::<Vec<_>>(), "{mode:?} run dates");

            let run_date = pd(2026, 4, 1);
            let wasm = plugin.group_lines(at(), &practice, d(2026, 4, 1), &catalog(), &lines).unwrap();
            let expected = DefaultPolicy::group_lines(
                &guest_practice,
                native::date(&run_date),
                &native::catalog(&catalog()),
                &native_lines,
            )
            .unwrap();
            assert_eq!(wasm, expected.into_iter().map(native::host_bill).collect::<Vec<_>>(), "{mode:?} bills");
            assert!(wasm.len() >= 12, "the input makes a bill for every client at least");

            for (year, month) in [(2027, 2), (2028, 2), (2026, 4), (2026, 12)] {
                let wasm = plugin.superbill_run_day(at(), &practice, year, month).unwrap();
                let expected = DefaultPolicy::superbill_run_day(&guest_practice, year, month).unwrap();
                assert_eq!(wasm, expected, "{mode:?} superbill day of {year}-{month}");
            }

            for run_date in [d(2026, 1, 1), d(2026, 2, 15), d(2026, 4, 1)] {
                let wasm = plugin.select_lines(at(), &practice, run_date, &clients, &catalog(), &lines).unwrap();
                let expected = DefaultPolicy::select_lines(
                    &guest_practice,
                    native::date(&to_policy_date(run_date)),
                    &native_clients,
                    &native::catalog(&catalog()),
                    &native_lines,
                )
                .unwrap();
                assert_eq!(
                    wasm,
                    expected.into_iter().map(native::host_superbill).collect::<Vec<_>>(),
                    "{mode:?} superbills on {run_date}"
                );
            }

            let wasm = plugin.decide_shares(at(), &practice, &requests).unwrap();
            let expected = DefaultPolicy::decide_shares(&guest_practice, &native_requests).unwrap();
            assert_eq!(wasm, expected.into_iter().map(native::host_decision).collect::<Vec<_>>(), "{mode:?} shares");
            assert!(wasm.iter().any(|decision| matches!(decision, ShareDecision::Send(_))));
            assert!(wasm.iter().any(|decision| matches!(decision, ShareDecision::Skip(_))));
        }
    }
}

/// The component's autopay selection answers as the policy built natively does.
#[test]
fn the_default_autopay_selection_charges_every_balance_as_the_native_policy_does() {
    use autobill_guest::AutopaySelection;
    let candidates = [candidate(1, 7, 300), AutopayCandidate { client_disputed: true, ..candidate(2, 8, 15_000) }];
    let practice = practice(BillCreation::Monthly, 1);
    let component = load("default", artifacts::DEFAULT).select_charges(at(), &practice, &candidates).unwrap();
    let guest: Vec<_> = candidates.iter().map(native::autopay_candidate).collect();
    let native = autobill_plugin_default::DefaultPolicy::select_charges(&native::practice(&practice), &guest).unwrap();
    assert_eq!(component, [AutopayDecision::Charge(300), AutopayDecision::Charge(15_000)]);
    assert_eq!(native, [autobill_guest::AutopayDecision::Charge(300), autobill_guest::AutopayDecision::Charge(15_000)]);
}

/// The example share filter that emails superbills only.
mod share_superbills_only {
    use super::*;

    const NAME: &str = "share_superbills_only";

    fn plugin() -> Plugin {
        load(NAME, artifacts::SHARE_SUPERBILLS_ONLY)
    }

    #[test]
    fn fills_only_the_share_filter_slot() {
        let plugin = plugin();
        assert_eq!(plugin.slots(), [Slot::ShareFilter]);
        assert!(!plugin.fills(Slot::BillCadence) && !plugin.fills(Slot::SuperbillInclusion));
    }

    #[test]
    fn calling_a_slot_it_does_not_fill_is_a_missing_slot_error() {
        let plugin = plugin();
        let practice = practice(BillCreation::Daily, 1);
        let lines = [line(1, 1, 7, d(2026, 1, 5), None)];
        let result = plugin.group_lines(at(), &practice, d(2026, 1, 6), &catalog(), &lines);
        assert!(matches!(
            problem(result, NAME, "bill-cadence.group-lines"),
            PolicyProblem::MissingSlot(Slot::BillCadence)
        ));
        let result = plugin.select_lines(at(), &practice, d(2026, 2, 1), &[client(7)], &catalog(), &lines);
        assert!(matches!(
            problem(result, NAME, "superbill-inclusion.select-lines"),
            PolicyProblem::MissingSlot(Slot::SuperbillInclusion)
        ));
        let result = plugin.check_config(Slot::BillCadence, "");
        assert!(matches!(
            problem(result, NAME, "bill-cadence.check-config"),
            PolicyProblem::MissingSlot(Slot::BillCadence)
        ));
    }

    #[test]
    fn superbills_are_emailed_and_bills_are_left_to_staff() {
        use DocumentKind::{Bill, Superbill};
        use DocumentStatus::{Issued, Open, Void};
        let requests = [
            request(1, Bill, Open, client(7)),
            request(2, Superbill, Issued, client(7)),
            request(3, Superbill, Void, client(7)),
            request(4, Superbill, Issued, ClientBilling { auto_share: false, ..client(8) }),
            request(5, Superbill, Issued, ClientBilling { email_on_file: false, ..client(9) }),
        ];
        let decisions = plugin().decide_shares(at(), &practice(BillCreation::Daily, 1), &requests).unwrap();
        assert!(
            matches!(&decisions[0], ShareDecision::Skip(reason) if reason.contains("bills are not emailed automatically")),
            "{:?}",
            decisions[0]
        );
        assert_eq!(decisions[1], ShareDecision::Send(60));
        assert!(decisions[2..].iter().all(|decision| matches!(decision, ShareDecision::Skip(_))), "{decisions:?}");
    }

    #[test]
    fn a_configured_delay_replaces_the_practices() {
        let plugin = plugin();
        let config = r#"{"delay_minutes": 1440}"#;
        assert!(plugin.check_config(Slot::ShareFilter, config).is_ok());
        let requests = [request(1, DocumentKind::Superbill, DocumentStatus::Issued, client(7))];
        assert_eq!(plugin.decide_shares(at(), &configured(config), &requests).unwrap(), [ShareDecision::Send(1440)]);
    }

    #[test]
    fn a_delay_over_a_week_is_refused_with_a_reason() {
        let config = r#"{"delay_minutes": 20000}"#;
        let reason = reported(plugin().check_config(Slot::ShareFilter, config), NAME, "share-filter.check-config");
        assert!(reason.contains("delay_minutes"), "{reason}");
    }
}

fn candidate(bill_id: u64, client_id: u64, balance: i64) -> AutopayCandidate {
    AutopayCandidate {
        bill_id,
        client_id,
        balance,
        age_days: 5,
        attempts: 0,
        last_decline_code: None,
        client_disputed: false,
    }
}

/// The example autopay policy (contract 0.2): minimum balance, minimum age, nightly cap.
mod autopay_rules {
    use super::*;

    const NAME: &str = "autopay_rules";

    fn plugin() -> Plugin {
        load(NAME, artifacts::AUTOPAY_RULES)
    }

    #[test]
    fn fills_only_the_autopay_selection_slot_of_contract_0_2() {
        let plugin = plugin();
        assert_eq!(plugin.slots(), [Slot::AutopaySelection]);
        assert_eq!(plugin.contract_version(), Some("0.2.0"));
    }

    #[test]
    fn a_three_dollar_balance_is_skipped_with_its_reason_and_the_others_are_charged() {
        let practice = configured(r#"{"min_balance": 500}"#);
        let candidates = [candidate(1, 7, 300), candidate(2, 8, 15_000)];
        let decisions = plugin().select_charges(at(), &practice, &candidates).unwrap();
        assert_eq!(
            decisions,
            [
                AutopayDecision::Skip(
                    "the balance of 3.00 USD is under the minimum of 5.00 USD that autopay charges".into()
                ),
                AutopayDecision::Charge(15_000)
            ]
        );
    }

    #[test]
    fn a_malformed_configuration_is_refused_with_a_reason() {
        let config = r#"{"nightly_cap": -5}"#;
        let reason =
            reported(plugin().check_config(Slot::AutopaySelection, config), NAME, "autopay-selection.check-config");
        assert!(reason.contains("nightly_cap is -5"), "{reason}");
    }
}

/// A plugin built for contract 0.1 with wit-bindgen directly: served beside 0.2, its calls and
/// answers converted at the boundary.
mod default_v0_1 {
    use super::*;

    const NAME: &str = "default_v0_1";

    fn plugin() -> Plugin {
        load(NAME, artifacts::DEFAULT_V0_1)
    }

    #[test]
    fn is_known_as_0_1_by_its_exports_and_fills_the_three_slots_0_1_has() {
        let plugin = plugin();
        assert_eq!(plugin.contract_version(), Some("0.1.0"));
        assert_eq!(plugin.slots(), [Slot::BillCadence, Slot::SuperbillInclusion, Slot::ShareFilter]);
        let result = plugin.select_charges(at(), &practice(BillCreation::Daily, 1), &[candidate(1, 7, 300)]);
        assert!(matches!(
            problem(result, NAME, "autopay-selection.select-charges"),
            PolicyProblem::MissingSlot(Slot::AutopaySelection)
        ));
    }

    #[test]
    fn its_answers_come_back_in_the_newest_types() {
        let plugin = plugin();
        let lines = [line(1, 1, 7, d(2026, 1, 5), Some("90837")), line(2, 2, 8, d(2026, 1, 6), None)];
        let bills = plugin.group_lines(at(), &practice(BillCreation::Monthly, 1), d(2026, 2, 1), &catalog(), &lines);
        assert_eq!(bills.unwrap(), [bill(7, &[1], BillStatus::Open), bill(8, &[2], BillStatus::Open)]);
        let requests = [request(1, DocumentKind::Bill, DocumentStatus::Open, client(7))];
        let decisions = plugin.decide_shares(at(), &practice(BillCreation::Daily, 1), &requests);
        assert_eq!(decisions.unwrap(), [ShareDecision::Send(60)]);
    }

    #[test]
    fn a_negative_delay_0_1_allowed_in_its_types_is_refused_as_an_invalid_decision() {
        let requests = [request(1, DocumentKind::Bill, DocumentStatus::Open, client(7))];
        let result = plugin().decide_shares(at(), &configured(r#"{"delay": -5}"#), &requests);
        match problem(result, NAME, "share-filter.decide-shares") {
            PolicyProblem::InvalidDecision(reason) => {
                assert!(reason.contains("a share delay of -5 minutes"), "{reason}")
            }
            other => panic!("expected an invalid decision, got {other:?}"),
        }
    }
}

/// The example bill cadence that runs every other week.
mod biweekly_bills {
    use super::*;
    use chrono::{Datelike, Weekday};

    const NAME: &str = "biweekly_bills";
    const FRIDAYS: &str = r#"{"weekday":"friday","anchor":"2026-01-02"}"#;

    fn plugin() -> Plugin {
        load(NAME, artifacts::BIWEEKLY_BILLS)
    }

    #[test]
    fn fills_only_the_bill_cadence_slot() {
        assert_eq!(plugin().slots(), [Slot::BillCadence]);
    }

    #[test]
    fn runs_every_other_friday_from_the_anchor() {
        let plugin = plugin();
        assert!(plugin.check_config(Slot::BillCadence, FRIDAYS).is_ok());
        let dates = plugin.bill_run_dates(at(), &configured(FRIDAYS), d(2026, 1, 1), d(2026, 3, 31)).unwrap();
        assert_eq!(
            dates,
            [
                d(2026, 1, 2),
                d(2026, 1, 16),
                d(2026, 1, 30),
                d(2026, 2, 13),
                d(2026, 2, 27),
                d(2026, 3, 13),
                d(2026, 3, 27)
            ]
        );
        assert!(dates.iter().all(|date| date.weekday() == Weekday::Fri));
        assert!(dates.windows(2).all(|pair| (pair[1] - pair[0]).num_days() == 14));
    }

    #[test]
    fn the_off_week_has_no_run() {
        let dates = plugin().bill_run_dates(at(), &configured(FRIDAYS), d(2026, 1, 3), d(2026, 1, 15)).unwrap();
        assert!(dates.is_empty(), "{dates:?}");
    }

    #[test]
    fn each_run_makes_one_open_bill_per_client() {
        let lines = [
            line(1, 10, 7, d(2026, 1, 5), None),
            line(2, 11, 8, d(2026, 1, 6), None),
            line(3, 12, 7, d(2026, 1, 9), None),
        ];
        let bills = plugin().group_lines(at(), &configured(FRIDAYS), d(2026, 1, 16), &catalog(), &lines).unwrap();
        assert_eq!(bills, [bill(7, &[1, 3], BillStatus::Open), bill(8, &[2], BillStatus::Open)]);
    }

    #[test]
    fn a_malformed_configuration_is_refused_with_a_reason() {
        let plugin = plugin();
        for (config, says) in [
            (r#"{"weekday":"funday"}"#, "funday"),
            (r#"{"anchor":"2026-13-01"}"#, "anchor"),
            (r#"{"anchor":"Jan 2"}"#, "YYYY-MM-DD"),
            (r#"["friday"]"#, "JSON object"),
            ("friday", "JSON object"),
            (r#"{"weekday":"friday""#, ""),
            (r#"{"weekdays":"friday"}"#, "weekdays"),
        ] {
            let reason = reported(plugin.check_config(Slot::BillCadence, config), NAME, "bill-cadence.check-config");
            assert!(!reason.trim().is_empty() && reason.contains(says), "{config}: {reason:?} should say {says:?}");
        }
    }

    #[test]
    fn a_run_under_a_malformed_configuration_fails_with_the_reason() {
        let result =
            plugin().bill_run_dates(at(), &configured(r#"{"weekday":"funday"}"#), d(2026, 1, 1), d(2026, 2, 1));
        assert!(reported(result, NAME, "bill-cadence.bill-run-dates").contains("funday"));
    }
}

// ---------------------------------------------------------------------------------------------
// Fault fixtures.
// ---------------------------------------------------------------------------------------------

/// A bill cadence whose `group_lines` never returns.
mod endless_loop {
    use super::*;

    const NAME: &str = "endless_loop";

    fn plugin() -> Plugin {
        load_with(tight_runtime(), NAME, artifacts::ENDLESS_LOOP)
    }

    fn run_forever(plugin: &Plugin) -> Result<Vec<BillPlan>, PolicyError> {
        let lines = [line(1, 1, 7, d(2026, 1, 5), None)];
        plugin.group_lines(at(), &practice(BillCreation::Daily, 1), d(2026, 1, 6), &catalog(), &lines)
    }

    #[test]
    fn an_endless_loop_is_stopped_by_the_instruction_budget() {
        let error = run_forever(&plugin()).expect_err("the loop is stopped");
        assert!(error.to_string().contains("instruction budget"), "{error}");
        assert!(matches!(
            problem(Err::<(), _>(error), NAME, "bill-cadence.group-lines"),
            PolicyProblem::OutOfFuel(fuel) if fuel == tight().fuel
        ));
    }

    #[test]
    fn an_endless_loop_with_fuel_to_spare_is_stopped_at_the_time_limit() {
        let limits = PluginLimits { fuel: u64::MAX, call_timeout: TIMED_LIMIT, ..PluginLimits::default() };
        let runtime = PluginRuntime::new(limits).expect("the engine starts");
        let plugin = load_with(&runtime, NAME, artifacts::ENDLESS_LOOP);
        super::sleeper::assert_out_of_time(NAME, "bill-cadence.group-lines", TIMED_LIMIT, || run_forever(&plugin));
    }

    #[test]
    fn the_plugin_answers_the_next_call_after_running_out_of_fuel() {
        let plugin = plugin();
        assert!(run_forever(&plugin).is_err());
        let dates = plugin.bill_run_dates(at(), &practice(BillCreation::Daily, 1), d(2026, 1, 1), d(2026, 1, 31));
        assert_eq!(dates.unwrap(), []);
        assert!(plugin.check_config(Slot::BillCadence, "").is_ok());
        assert!(matches!(run_forever(&plugin).unwrap_err().problem, PolicyProblem::OutOfFuel(_)));
    }
}

/// A plugin that sleeps 20 s in each policy function (or the one its configuration names).
mod sleeper {
    use super::*;
    use std::time::{Duration, Instant};

    const NAME: &str = "sleeper";

    const LIMIT: Duration = TIMED_LIMIT;

    fn plugin() -> Plugin {
        load_with(timed_runtime(), NAME, artifacts::SLEEPER)
    }

    /// Checks that `call` fails for running out of `limit`, after `limit` and within a second more.
    #[track_caller]
    pub(super) fn assert_out_of_time<T: Debug>(
        plugin_name: &str,
        policy: &str,
        limit: Duration,
        call: impl FnOnce() -> Result<T, PolicyError>,
    ) {
        let started = Instant::now();
        let result = call();
        let took = started.elapsed();
        assert!(
            matches!(problem(result, plugin_name, policy), PolicyProblem::TimeLimit(given) if given == limit),
            "{policy} fails for its time"
        );
        assert!(took >= limit, "{policy} ran its full {limit:?}, not {took:?}");
        assert!(took < limit + Duration::from_secs(1), "{policy} took {took:?}, over {limit:?} and a second");
    }

    #[test]
    fn a_sleep_in_any_policy_function_fails_the_call_at_the_time_limit() {
        let plugin = plugin();
        let practice = configured("");
        let lines = [line(1, 1, 7, d(2026, 1, 5), Some("90837"))];
        let requests = [request(1, DocumentKind::Bill, DocumentStatus::Open, client(7))];
        assert_out_of_time(NAME, "bill-cadence.bill-run-dates", LIMIT, || {
            plugin.bill_run_dates(at(), &practice, d(2026, 1, 1), d(2026, 1, 31))
        });
        assert_out_of_time(NAME, "bill-cadence.group-lines", LIMIT, || {
            plugin.group_lines(at(), &practice, d(2026, 1, 6), &catalog(), &lines)
        });
        assert_out_of_time(NAME, "superbill-inclusion.superbill-run-day", LIMIT, || {
            plugin.superbill_run_day(at(), &practice, 2026, 1)
        });
        assert_out_of_time(NAME, "superbill-inclusion.select-lines", LIMIT, || {
            plugin.select_lines(at(), &practice, d(2026, 2, 1), &[client(7)], &catalog(), &lines)
        });
        assert_out_of_time(NAME, "share-filter.decide-shares", LIMIT, || {
            plugin.decide_shares(at(), &practice, &requests)
        });
    }

    #[test]
    fn the_error_names_the_function_and_the_time_limit() {
        let plugin = load(NAME, artifacts::SLEEPER);
        let requests = [request(1, DocumentKind::Bill, DocumentStatus::Open, client(7))];
        let error = plugin.decide_shares(at(), &configured(""), &requests).expect_err("the sleep is cut short");
        assert_eq!(
            error.to_string(),
            "plugin `sleeper` failed in share-filter.decide-shares: it ran for more than 2000 ms (the plugin call time limit)"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_sleep_during_a_call_from_a_single_threaded_runtime_is_cut_short_too() {
        let plugin = plugin();
        assert_out_of_time(NAME, "bill-cadence.bill-run-dates", LIMIT, || {
            plugin.bill_run_dates(at(), &configured(""), d(2026, 1, 1), d(2026, 1, 31))
        });
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_sleep_during_a_call_from_a_multi_threaded_runtime_is_cut_short_too() {
        let plugin = plugin();
        assert_out_of_time(NAME, "bill-cadence.bill-run-dates", LIMIT, || {
            plugin.bill_run_dates(at(), &configured(""), d(2026, 1, 1), d(2026, 1, 31))
        });
    }

    #[test]
    fn functions_that_do_not_sleep_answer_at_once_after_one_ran_out_of_time() {
        // A runtime of its own, so only this test's calls are counted.
        let runtime = PluginRuntime::new(PluginLimits { call_timeout: LIMIT, ..PluginLimits::default() })
            .expect("the engine starts");
        let plugin = load_with(&runtime, NAME, artifacts::SLEEPER);
        let practice = configured(r#"{"only": "group-lines"}"#);
        let lines = [line(1, 1, 7, d(2026, 1, 5), Some("90837"))];
        assert_out_of_time(NAME, "bill-cadence.group-lines", LIMIT, || {
            plugin.group_lines(at(), &practice, d(2026, 1, 6), &catalog(), &lines)
        });
        let started = Instant::now();
        assert_eq!(plugin.bill_run_dates(at(), &practice, d(2026, 1, 1), d(2026, 1, 31)).unwrap().len(), 31);
        assert!(plugin.check_config(Slot::ShareFilter, r#"{"only": "decide-shares"}"#).is_ok());
        assert!(started.elapsed() < LIMIT, "answered in {:?}", started.elapsed());
        assert_eq!(plugin.calls_out_of_time(), 1);
    }
}

/// A plugin that waits forever on a clock subscription in each policy function.
mod forever_poll {
    use super::sleeper::assert_out_of_time;
    use super::*;

    const NAME: &str = "forever_poll";

    #[test]
    fn a_wait_that_never_ends_fails_each_policy_function_at_the_time_limit() {
        let plugin = load_with(timed_runtime(), NAME, artifacts::FOREVER_POLL);
        let limit = TIMED_LIMIT;
        let practice = configured("");
        let lines = [line(1, 1, 7, d(2026, 1, 5), Some("90837"))];
        let requests = [request(1, DocumentKind::Bill, DocumentStatus::Open, client(7))];
        assert_out_of_time(NAME, "bill-cadence.bill-run-dates", limit, || {
            plugin.bill_run_dates(at(), &practice, d(2026, 1, 1), d(2026, 1, 31))
        });
        assert_out_of_time(NAME, "bill-cadence.group-lines", limit, || {
            plugin.group_lines(at(), &practice, d(2026, 1, 6), &catalog(), &lines)
        });
        assert_out_of_time(NAME, "superbill-inclusion.superbill-run-day", limit, || {
            plugin.superbill_run_day(at(), &practice, 2026, 1)
        });
        assert_out_of_time(NAME, "superbill-inclusion.select-lines", limit, || {
            plugin.select_lines(at(), &practice, d(2026, 2, 1), &[client(7)], &catalog(), &lines)
        });
        assert_out_of_time(NAME, "share-filter.decide-shares", limit, || {
            plugin.decide_shares(at(), &practice, &requests)
        });
        assert!(plugin.check_config(Slot::BillCadence, "").is_ok());
    }
}

/// A plugin that fails every policy function but `bill-run-dates` with a 1 MiB reason.
mod huge_error {
    use super::*;
    use autobill::plugin::MAX_PLUGIN_TEXT_BYTES;
    use autobill_fixture_huge_error::{PREFIX, SIZE};

    const NAME: &str = "huge_error";

    #[test]
    fn a_huge_reason_is_cut_to_the_cap_and_says_how_long_it_was() {
        let plugin = load(NAME, artifacts::HUGE_ERROR);
        let practice = configured("");
        assert_eq!(plugin.bill_run_dates(at(), &practice, d(2026, 1, 1), d(2026, 1, 31)).unwrap().len(), 31);
        let lines = [line(1, 1, 7, d(2026, 1, 5), Some("90837"))];
        let requests = [request(1, DocumentKind::Bill, DocumentStatus::Open, client(7))];
        let marker = format!("… (cut; {SIZE} bytes)");
        for (policy, result) in [
            (
                "bill-cadence.group-lines",
                plugin.group_lines(at(), &practice, d(2026, 1, 6), &catalog(), &lines).map(drop),
            ),
            ("superbill-inclusion.superbill-run-day", plugin.superbill_run_day(at(), &practice, 2026, 1).map(drop)),
            (
                "superbill-inclusion.select-lines",
                plugin.select_lines(at(), &practice, d(2026, 2, 1), &[client(7)], &catalog(), &lines).map(drop),
            ),
            ("share-filter.decide-shares", plugin.decide_shares(at(), &practice, &requests).map(drop)),
        ] {
            let reason = reported(result, NAME, policy);
            assert!(reason.starts_with(PREFIX), "{policy}: {reason:.40}");
            assert!(reason.ends_with(&marker), "{policy}: …{}", &reason[reason.len() - 40..]);
            assert_eq!(reason.len(), MAX_PLUGIN_TEXT_BYTES + marker.len(), "{policy}");
        }
    }
}

/// A plugin that refuses every configuration with a 32 MiB reason.
mod huge_config_answer {
    use super::*;
    use autobill::plugin::MAX_PLUGIN_TEXT_BYTES;
    use autobill_fixture_huge_config_answer::{PREFIX, SIZE};

    const NAME: &str = "huge_config_answer";

    #[test]
    fn a_huge_refusal_of_a_configuration_is_cut_to_the_cap() {
        let plugin = load(NAME, artifacts::HUGE_CONFIG_ANSWER);
        let marker = format!("… (cut; {SIZE} bytes)");
        for (slot, policy) in [
            (Slot::BillCadence, "bill-cadence.check-config"),
            (Slot::SuperbillInclusion, "superbill-inclusion.check-config"),
            (Slot::ShareFilter, "share-filter.check-config"),
        ] {
            let error = plugin.check_config(slot, "").expect_err("refused");
            assert!(error.to_string().len() < MAX_PLUGIN_TEXT_BYTES + 200, "{policy}: the message stays small");
            let reason = reported(Err::<(), _>(error), NAME, policy);
            assert!(reason.starts_with(PREFIX), "{policy}: {reason:.40}");
            assert!(reason.ends_with(&marker), "{policy}");
        }
    }
}

/// A bill cadence whose `group_lines` allocates until it is stopped.
mod memory_bomb {
    use super::*;

    const NAME: &str = "memory_bomb";

    fn plugin() -> Plugin {
        load_with(tight_runtime(), NAME, artifacts::MEMORY_BOMB)
    }

    fn explode(plugin: &Plugin) -> Result<Vec<BillPlan>, PolicyError> {
        let lines = [line(1, 1, 7, d(2026, 1, 5), None)];
        plugin.group_lines(at(), &practice(BillCreation::Daily, 1), d(2026, 1, 6), &catalog(), &lines)
    }

    #[test]
    fn a_memory_bomb_is_stopped_at_the_memory_limit() {
        let error = explode(&plugin()).expect_err("the bomb is stopped");
        assert!(error.to_string().contains("memory limit"), "{error}");
        assert!(matches!(
            problem(Err::<(), _>(error), NAME, "bill-cadence.group-lines"),
            PolicyProblem::MemoryLimit(limit) if limit == tight().memory_bytes
        ));
    }

    #[test]
    fn the_plugin_answers_the_next_call_after_hitting_the_memory_limit() {
        let plugin = plugin();
        assert!(explode(&plugin).is_err());
        let dates = plugin.bill_run_dates(at(), &practice(BillCreation::Daily, 1), d(2026, 1, 1), d(2026, 1, 31));
        assert_eq!(dates.unwrap(), []);
        assert!(matches!(explode(&plugin).unwrap_err().problem, PolicyProblem::MemoryLimit(_)));
    }
}

/// A plugin that fills every slot and panics with "deliberate failure" everywhere.
mod trap {
    use super::*;

    const NAME: &str = "trap";

    fn plugin() -> Plugin {
        load(NAME, artifacts::TRAP)
    }

    #[track_caller]
    fn assert_crashed<T: Debug>(result: Result<T, PolicyError>, policy: &str) {
        match problem(result, NAME, policy) {
            PolicyProblem::Trap(message) => {
                assert!(message.contains("deliberate failure"), "{policy}: {message:?} carries the panic message")
            }
            other => panic!("{policy}: expected a crash, got {other:?}"),
        }
    }

    /// The guest writes its panic message through WASI, which blocks on a tokio runtime: the
    /// host makes that work from inside either kind of runtime, as well as from none.
    fn assert_grouping_crashes() {
        let lines = [line(1, 1, 7, d(2026, 1, 5), Some("90837"))];
        let practice = practice(BillCreation::Daily, 1);
        assert_crashed(
            plugin().group_lines(at(), &practice, d(2026, 1, 6), &catalog(), &lines),
            "bill-cadence.group-lines",
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_panic_during_a_call_from_a_single_threaded_runtime_is_a_crash_too() {
        assert_grouping_crashes();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panic_during_a_call_from_a_multi_threaded_runtime_is_a_crash_too() {
        assert_grouping_crashes();
    }

    #[test]
    fn a_panic_in_any_policy_function_is_a_crash_with_the_panic_message() {
        let plugin = plugin();
        let practice = practice(BillCreation::Daily, 1);
        let lines = [line(1, 1, 7, d(2026, 1, 5), Some("90837"))];
        let requests = [request(1, DocumentKind::Bill, DocumentStatus::Open, client(7))];
        assert_crashed(plugin.check_config(Slot::BillCadence, ""), "bill-cadence.check-config");
        assert_crashed(plugin.check_config(Slot::SuperbillInclusion, ""), "superbill-inclusion.check-config");
        assert_crashed(plugin.check_config(Slot::ShareFilter, ""), "share-filter.check-config");
        assert_crashed(
            plugin.bill_run_dates(at(), &practice, d(2026, 1, 1), d(2026, 1, 2)),
            "bill-cadence.bill-run-dates",
        );
        assert_crashed(
            plugin.group_lines(at(), &practice, d(2026, 1, 6), &catalog(), &lines),
            "bill-cadence.group-lines",
        );
        assert_crashed(plugin.superbill_run_day(at(), &practice, 2026, 1), "superbill-inclusion.superbill-run-day");
        assert_crashed(
            plugin.select_lines(at(), &practice, d(2026, 2, 1), &[client(7)], &catalog(), &lines),
            "superbill-inclusion.select-lines",
        );
        assert_crashed(plugin.decide_shares(at(), &practice, &requests), "share-filter.decide-shares");
    }

    #[test]
    fn a_crash_does_not_poison_the_plugin_for_the_next_call() {
        let plugin = plugin();
        let practice = practice(BillCreation::Daily, 1);
        for _ in 0..3 {
            assert_crashed(plugin.superbill_run_day(at(), &practice, 2026, 1), "superbill-inclusion.superbill-run-day");
        }
    }
}

/// A bill cadence with a weekly run on the configured weekday (`simulate`'s configuration tests).
mod weekly_bills {
    use super::*;

    #[test]
    fn runs_weekly_on_the_configured_weekday_and_refuses_other_names() {
        let plugin = load("weekly_bills", artifacts::WEEKLY_BILLS);
        let dates = plugin
            .bill_run_dates(at(), &configured(r#"{"weekday": "friday"}"#), d(2026, 1, 1), d(2026, 1, 31))
            .unwrap();
        assert_eq!(dates, [d(2026, 1, 2), d(2026, 1, 9), d(2026, 1, 16), d(2026, 1, 23), d(2026, 1, 30)]);
        let reason = reported(
            plugin.check_config(Slot::BillCadence, r#"{"weekday": "frisbee"}"#),
            "weekly_bills",
            "bill-cadence.check-config",
        );
        assert!(reason.contains("frisbee"), "{reason}");
    }
}

/// A plugin whose every answer is valid and does nothing (the conformance kit's overrides
/// tests): the host accepts its answers, so only behaviour cases can tell.
mod skips_everything {
    use super::*;

    #[test]
    fn its_answers_are_accepted_and_empty() {
        let plugin = load("skips_everything", artifacts::SKIPS_EVERYTHING);
        assert_eq!(plugin.slots(), [Slot::BillCadence, Slot::ShareFilter]);
        let practice = practice(BillCreation::Daily, 1);
        assert!(plugin.bill_run_dates(at(), &practice, d(2026, 1, 1), d(2026, 1, 31)).unwrap().is_empty());
        let lines = [line(1, 1, 7, d(2026, 1, 5), None)];
        assert!(plugin.group_lines(at(), &practice, d(2026, 1, 6), &catalog(), &lines).unwrap().is_empty());
        let requests = [request(1, DocumentKind::Bill, DocumentStatus::Open, client(7))];
        assert_eq!(plugin.decide_shares(at(), &practice, &requests).unwrap(), [skip("this plugin shares nothing")]);
    }
}

/// A plugin whose configuration picks one kind of invalid answer to give.
mod invalid_outputs {
    use super::*;

    const NAME: &str = "invalid_outputs";

    fn plugin() -> Plugin {
        load(NAME, artifacts::INVALID_OUTPUTS)
    }

    fn faulty(fault: &str) -> PracticeContext {
        configured(&format!(r#"{{"fault": "{fault}"}}"#))
    }

    /// Two lines of client 7 on Jan 5 (one appointment), one of client 8.
    fn lines() -> Vec<ServiceLine> {
        vec![
            line(1, 1, 7, d(2026, 1, 5), Some("90837")),
            line(2, 1, 7, d(2026, 1, 5), Some("90837")),
            line(3, 2, 8, d(2026, 1, 5), Some("90837")),
        ]
    }

    fn requests() -> Vec<ShareRequest> {
        (1..=2).map(|id| request(id, DocumentKind::Bill, DocumentStatus::Open, client(7))).collect()
    }

    fn group(plugin: &Plugin, practice: &PracticeContext) -> Result<Vec<BillPlan>, PolicyError> {
        plugin.group_lines(at(), practice, d(2026, 2, 1), &catalog(), &lines())
    }

    fn run_dates(plugin: &Plugin, practice: &PracticeContext) -> Result<Vec<NaiveDate>, PolicyError> {
        plugin.bill_run_dates(at(), practice, d(2026, 3, 1), d(2026, 3, 3))
    }

    /// April has 30 days.
    fn run_day(plugin: &Plugin, practice: &PracticeContext) -> Result<u8, PolicyError> {
        plugin.superbill_run_day(at(), practice, 2026, 4)
    }

    fn select(plugin: &Plugin, practice: &PracticeContext) -> Result<Vec<SuperbillPlan>, PolicyError> {
        plugin.select_lines(at(), practice, d(2026, 2, 1), &[client(7), client(8)], &catalog(), &lines())
    }

    fn shares(plugin: &Plugin, practice: &PracticeContext) -> Result<Vec<ShareDecision>, PolicyError> {
        plugin.decide_shares(at(), practice, &requests())
    }

    fn charges(plugin: &Plugin, practice: &PracticeContext) -> Result<Vec<AutopayDecision>, PolicyError> {
        let candidate = AutopayCandidate {
            bill_id: 4,
            client_id: 7,
            balance: 15_000,
            age_days: 3,
            attempts: 0,
            last_decline_code: None,
            client_disputed: false,
        };
        plugin.select_charges(at(), practice, &[candidate])
    }

    /// One test per fault: `test: "fault-name" => call, "policy-function", "what the message says"`.
    macro_rules! fault_tests {
        ($($test:ident: $fault:literal => $call:ident, $policy:literal, $says:literal;)*) => {
            $(
                #[test]
                fn $test() {
                    match problem($call(&plugin(), &faulty($fault)), NAME, $policy) {
                        PolicyProblem::InvalidDecision(message) => {
                            assert!(message.contains($says), "{}: {message:?} should say {:?}", $fault, $says)
                        }
                        other => panic!("{}: expected an invalid decision, got {other:?}", $fault),
                    }
                }
            )*

            /// The faults tested above.
            const TESTED: &[&str] = &[$($fault),*];
        };
    }

    fault_tests! {
        a_bill_with_a_line_it_was_not_given_is_refused:
            "foreign-line" => group, "bill-cadence.group-lines", "which the policy was not given";
        a_line_on_two_bills_is_refused:
            "duplicate-line" => group, "bill-cadence.group-lines", "line 1 is on more than one bill";
        a_bill_without_lines_is_refused:
            "empty-bill" => group, "bill-cadence.group-lines", "has no lines";
        a_bill_holding_another_clients_line_is_refused:
            "wrong-client" => group, "bill-cadence.group-lines", "of client 7";
        a_run_date_outside_the_window_is_refused:
            "run-date-outside-window" => run_dates, "bill-cadence.bill-run-dates", "2026-03-04 is outside the window";
        run_dates_out_of_order_are_refused:
            "unordered-run-dates" => run_dates, "bill-cadence.bill-run-dates", "strictly increasing";
        a_superbill_day_over_31_is_refused:
            "day-out-of-range" => run_day, "superbill-inclusion.superbill-run-day", "superbill day 32 is outside 1–31";
        a_superbill_day_past_the_months_end_is_refused:
            "day-past-month-end" => run_day, "superbill-inclusion.superbill-run-day", "does not exist in 2026-04, which has 30 days";
        a_superbill_with_a_line_it_was_not_given_is_refused:
            "superbill-foreign-line" => select, "superbill-inclusion.select-lines", "which the policy was not given";
        a_charge_above_the_balance_is_refused:
            "charge-above-balance" => charges, "autopay-selection.select-charges", "whose balance is 15000";
        a_share_delay_over_a_week_is_refused:
            "excessive-delay" => shares, "share-filter.decide-shares", "delay of 10081 minutes";
        a_decision_count_unlike_the_request_count_is_refused:
            "decision-count" => shares, "share-filter.decide-shares", "one per document is required";
        a_skip_without_a_reason_is_refused:
            "empty-skip-reason" => shares, "share-filter.decide-shares", "without a reason";
    }

    #[test]
    fn every_fault_of_the_fixture_has_a_test() {
        let mut known: Vec<&str> = autobill_fixture_invalid_outputs::FAULTS.iter().map(|(name, _)| *name).collect();
        let mut tested = TESTED.to_vec();
        known.sort_unstable();
        tested.sort_unstable();
        assert_eq!(tested, known);
    }

    #[test]
    fn without_a_fault_every_answer_is_accepted() {
        let plugin = plugin();
        let practice = configured("");
        assert_eq!(group(&plugin, &practice).unwrap().len(), 2);
        assert_eq!(run_dates(&plugin, &practice).unwrap().len(), 3);
        assert_eq!(run_day(&plugin, &practice).unwrap(), 1);
        assert_eq!(select(&plugin, &practice).unwrap().len(), 2);
        assert_eq!(shares(&plugin, &practice).unwrap().len(), 2);
    }

    #[test]
    fn an_unknown_fault_is_refused_by_check_config() {
        let config = r#"{"fault": "no-such-fault"}"#;
        for (slot, policy) in [
            (Slot::BillCadence, "bill-cadence.check-config"),
            (Slot::SuperbillInclusion, "superbill-inclusion.check-config"),
            (Slot::ShareFilter, "share-filter.check-config"),
        ] {
            assert!(reported(plugin().check_config(slot, config), NAME, policy).contains("no-such-fault"));
        }
    }
}

/// A component stamped with contract 9.0.0.
mod wrong_contract {
    use super::*;

    #[test]
    fn a_plugin_for_another_contract_is_refused_naming_both_versions() {
        let error = runtime().load("wrong_contract", &bytes(artifacts::WRONG_CONTRACT)).expect_err("it is refused");
        assert!(matches!(&error, LoadError::UnsupportedContract { found, .. } if found == "autobill:policy@9.0.0"));
        let shown = error.to_string();
        assert!(shown.contains("autobill:policy@9.0.0"), "{shown}");
        assert!(shown.contains("autobill:policy@0.1"), "{shown} names the served version");
    }
}

/// A share filter that reports what of the outside world it can see.
mod sandbox_probe {
    use super::*;
    use std::collections::HashMap;

    fn plugin() -> Plugin {
        load("sandbox_probe", artifacts::SANDBOX_PROBE)
    }

    /// What the probe saw in a call at `at`, by key.
    pub(super) fn seen(plugin: &Plugin, at: DateTime<Utc>) -> HashMap<String, String> {
        let requests = [request(1, DocumentKind::Bill, DocumentStatus::Open, client(7))];
        let decisions = plugin.decide_shares(at, &practice(BillCreation::Daily, 1), &requests).unwrap();
        let [ShareDecision::Skip(report)] = &decisions[..] else {
            panic!("the probe reports in a skip: {decisions:?}")
        };
        report
            .split_whitespace()
            .map(|pair| pair.split_once('=').expect("key=value"))
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect()
    }

    #[test]
    fn a_plugin_sees_no_environment_arguments_files_or_network() {
        let seen = seen(&plugin(), at());
        assert_eq!(seen["env"], "0", "environment variables");
        assert_eq!(seen["args"], "0", "command-line arguments");
        assert_eq!(seen["read_dir"], "false", "listing /");
        assert_eq!(seen["open"], "false", "opening /etc/hostname");
        assert_eq!(seen["tcp"], "false", "connecting to 127.0.0.1:9");
    }

    #[test]
    fn a_plugins_clock_reads_the_time_of_the_run() {
        let plugin = plugin();
        for at in [at(), Utc.with_ymd_and_hms(2031, 7, 4, 12, 34, 56).unwrap()] {
            assert_eq!(seen(&plugin, at)["now"], at.timestamp().to_string(), "the clock at {at}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The runtime as a whole.
// ---------------------------------------------------------------------------------------------

/// The same call gives the same answer, so any run can be replayed.
mod determinism {
    use super::*;

    #[test]
    fn the_same_call_twice_gives_the_same_answer() {
        let plugin = load("default", artifacts::DEFAULT);
        let practice = practice(BillCreation::Daily, 31);
        let lines = generated_lines(300, 10);
        let clients = generated_clients(10);
        let requests = generated_requests(100, &clients);
        let bills = || plugin.group_lines(at(), &practice, d(2026, 4, 1), &catalog(), &lines).unwrap();
        assert_eq!(bills(), bills());
        let superbills = || plugin.select_lines(at(), &practice, d(2026, 4, 1), &clients, &catalog(), &lines).unwrap();
        assert_eq!(superbills(), superbills());
        let shares = || plugin.decide_shares(at(), &practice, &requests).unwrap();
        assert_eq!(shares(), shares());
    }

    /// Also shows that each call gets a fresh instance: within one instance, std's `RandomState`
    /// moves its keys on at every use, so a reused instance would hash differently.
    #[test]
    fn what_a_plugin_sees_of_its_world_is_the_same_every_call() {
        let plugin = load("sandbox_probe", artifacts::SANDBOX_PROBE);
        let first = sandbox_probe::seen(&plugin, at());
        assert_eq!(first, sandbox_probe::seen(&plugin, at()), "clock and randomness included");
    }
}

/// Loading: identity, caching, and components refused before they run.
mod loading {
    use super::*;

    #[test]
    fn loading_the_same_bytes_again_gives_the_same_plugin() {
        let bytes = bytes(artifacts::DEFAULT);
        let first = runtime().load("default", &bytes).unwrap();
        let again = runtime().load("default", &bytes).unwrap();
        assert_eq!(first.id(), again.id());
        assert_eq!(first.slots(), again.slots());
        let hex = first.id().to_hex();
        assert_eq!(hex.len(), 64, "a SHA-256 in hex: {hex}");
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()), "{hex}");
        assert_eq!(first.id().to_string(), hex);

        let elsewhere = PluginRuntime::new(tight()).unwrap().load("default", &bytes).unwrap();
        assert_eq!(elsewhere.id(), first.id(), "the id depends on the bytes only");
        assert_ne!(load("trap", artifacts::TRAP).id(), first.id());

        let renamed = runtime().load("practice-copy", &bytes).unwrap();
        assert_eq!(
            (renamed.id(), renamed.name()),
            (first.id(), "practice-copy"),
            "a reused plugin keeps the name it was loaded under"
        );
    }

    #[track_caller]
    fn assert_not_a_component(bytes: &[u8], says: &str) {
        match runtime().load("junk", bytes) {
            Err(error @ LoadError::NotAComponent(_)) => {
                let shown = error.to_string();
                assert!(shown.contains(says) && shown.contains("wasm32-wasip2"), "{shown}");
            }
            other => panic!("expected NotAComponent, got {other:?}"),
        }
    }

    #[test]
    fn a_core_module_is_not_a_plugin() {
        assert_not_a_component(b"\0asm\x01\0\0\0", "core WebAssembly module");
    }

    #[test]
    fn plain_text_is_not_a_plugin() {
        assert_not_a_component(b"fn main() { println!(\"hello\"); }\n", "not WebAssembly");
        assert_not_a_component(b"", "not WebAssembly");
    }

    #[test]
    fn a_component_over_the_size_limit_is_refused() {
        let bytes = bytes(artifacts::DEFAULT);
        let small = PluginRuntime::new(PluginLimits { component_bytes: 64 * 1024, ..PluginLimits::default() }).unwrap();
        match small.load("default", &bytes) {
            Err(error @ LoadError::TooLarge { size, limit }) => {
                assert_eq!((size, limit), (bytes.len(), 64 * 1024));
                assert!(error.to_string().contains(&bytes.len().to_string()), "{error}");
            }
            other => panic!("expected TooLarge, got {other:?}"),
        }
    }

    #[test]
    fn a_configuration_over_10_kb_is_refused_before_the_plugin_runs() {
        let plugin = load("default", artifacts::DEFAULT);
        let limit = PluginLimits::default().config_bytes;
        assert_eq!(limit, 10 * 1024);
        let at_limit = configured(&" ".repeat(limit));
        let lines = [line(1, 1, 7, d(2026, 1, 5), None)];
        assert!(plugin.group_lines(at(), &at_limit, d(2026, 1, 6), &catalog(), &lines).is_ok(), "10 KB is allowed");

        let over = configured(&" ".repeat(limit + 1));
        let too_large = |problem: PolicyProblem| {
            assert!(
                matches!(problem, PolicyProblem::ConfigTooLarge { size, limit: l } if size == limit + 1 && l == limit),
                "{problem:?}"
            )
        };
        too_large(problem(
            plugin.group_lines(at(), &over, d(2026, 1, 6), &catalog(), &lines),
            "default",
            "bill-cadence.group-lines",
        ));
        let requests = [request(1, DocumentKind::Bill, DocumentStatus::Open, client(7))];
        too_large(problem(plugin.decide_shares(at(), &over, &requests), "default", "share-filter.decide-shares"));
        too_large(problem(
            plugin.check_config(Slot::SuperbillInclusion, &over.config),
            "default",
            "superbill-inclusion.check-config",
        ));
    }
}
