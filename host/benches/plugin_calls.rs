//! What a policy call costs, for the built-in default plugin: a fresh instance, one call on
//! 10,000 service lines, and the same policy code compiled natively on the same input.
//!
//! Run with `cargo bench -p autobill --bench plugin_calls` (add `-- <text>` to take only the
//! measurements whose name contains it). Each figure is the median, and the fastest, of many runs
//! after one warm-up run; the WebAssembly figures include everything the engine pays for a call: a
//! fresh store and instance, copying the arguments in and the answer out, and the host's
//! validation of the answer.

use autobill::plugin::policy::{
    AutomationSettings, AutopayCandidate, BillCreation, Catalog, ClientBilling, Document, DocumentKind, DocumentStatus,
    PracticeContext, Service, ServiceLine, ShareRequest,
};
use autobill::plugin::{PluginLimits, PluginRuntime, PolicyCode, Slot, to_policy_date, validate};
use autobill_guest::{AutopaySelection, BillCadence, ShareFilter, SuperbillInclusion};
use autobill_plugin_default::DefaultPolicy;
use chrono::{DateTime, Days, NaiveDate, Utc};
use std::hint::black_box;
use std::time::{Duration, Instant};

const LINES: usize = 10_000;
const CLIENTS: u64 = 40;
const REQUESTS: usize = 1_000;

/// Targets from the design: a fresh instance, and one call on 10,000 lines.
const INSTANTIATE_TARGET: Duration = Duration::from_micros(50);
const CALL_TARGET: Duration = Duration::from_millis(5);

fn main() {
    let runtime = PluginRuntime::new(PluginLimits::default()).expect("the engine starts");
    let plugin = runtime.load_default().expect("the default plugin loads");
    let at = DateTime::<Utc>::from_timestamp(1_775_001_600, 0).expect("a valid instant"); // 2026-04-01
    let practice = practice();
    let run_date = NaiveDate::from_ymd_opt(2026, 4, 1).expect("a real date");
    let lines = lines();
    let catalog = catalog();
    let clients = clients();
    let requests = requests(&clients);

    let guest_practice = native::practice(&practice);
    let guest_run_date = native::date(&to_policy_date(run_date));
    let guest_lines: Vec<_> = lines.iter().map(native::line).collect();
    let guest_catalog = native::catalog(&catalog);
    let guest_clients: Vec<_> = clients.iter().map(native::client).collect();
    let guest_requests: Vec<_> = requests.iter().map(native::request).collect();
    let candidates = candidates();
    let guest_candidates: Vec<_> = candidates.iter().map(native::autopay_candidate).collect();

    // The two builds must do the same work for the comparison to mean anything.
    let bills = plugin.group_lines(at, &practice, run_date, &catalog, &lines).expect("group_lines answers");
    let native_bills =
        DefaultPolicy::group_lines(&guest_practice, guest_run_date, &guest_catalog, &guest_lines).unwrap();
    assert_eq!(bills.len(), native_bills.len());
    let superbills =
        plugin.select_lines(at, &practice, run_date, &clients, &catalog, &lines).expect("select_lines answers");
    let native_superbills =
        DefaultPolicy::select_lines(&guest_practice, guest_run_date, &guest_clients, &guest_catalog, &guest_lines)
            .unwrap();
    assert_eq!(superbills.len(), native_superbills.len());
    let eligible: usize = superbills.iter().map(|superbill| superbill.lines.len()).sum();

    let mut bench = Bench::new();
    let instantiate = bench.run(
        "fresh store + instance (check_config \"\" on bill_cadence)".into(),
        2_001,
        Some(INSTANTIATE_TARGET),
        || plugin.check_config(Slot::BillCadence, black_box("")).expect("accepted"),
    );
    let wasm_group =
        bench.run(format!("group_lines, {LINES} lines, daily -> {} bills", bills.len()), 51, Some(CALL_TARGET), || {
            plugin.group_lines(at, &practice, run_date, &catalog, black_box(&lines)).expect("answers")
        });
    let wasm_select = bench.run(
        format!("select_lines, {LINES} lines -> {} superbills of {eligible} lines", superbills.len()),
        51,
        Some(CALL_TARGET),
        || plugin.select_lines(at, &practice, run_date, &clients, &catalog, black_box(&lines)).expect("answers"),
    );
    bench.run(format!("decide_shares, {REQUESTS} requests"), 201, None, || {
        plugin.decide_shares(at, &practice, black_box(&requests)).expect("answers")
    });
    bench.run(format!("select_charges, {REQUESTS} bills"), 201, None, || {
        plugin.select_charges(at, &practice, black_box(&candidates)).expect("answers")
    });
    bench.run("  of which host validation of the group_lines answer".into(), 51, None, || {
        validate::bill_plans(black_box(&lines), black_box(&bills)).expect("valid")
    });
    bench.run("  group_lines on no lines".into(), 501, None, || {
        plugin.group_lines(at, &practice, run_date, &catalog, black_box(&[])).expect("answers")
    });
    let native_group = bench.run(format!("native group_lines, {LINES} lines"), 201, None, || {
        DefaultPolicy::group_lines(&guest_practice, guest_run_date, &guest_catalog, black_box(&guest_lines)).unwrap()
    });
    let native_select = bench.run(format!("native select_lines, {LINES} lines"), 201, None, || {
        DefaultPolicy::select_lines(
            &guest_practice,
            guest_run_date,
            &guest_clients,
            &guest_catalog,
            black_box(&guest_lines),
        )
        .unwrap()
    });
    bench.run(format!("native decide_shares, {REQUESTS} requests"), 201, None, || {
        DefaultPolicy::decide_shares(&guest_practice, black_box(&guest_requests)).unwrap()
    });
    bench.run(format!("native select_charges, {REQUESTS} bills"), 201, None, || {
        DefaultPolicy::select_charges(&guest_practice, black_box(&guest_candidates)).unwrap()
    });

    println!();
    println!("plugin_calls: the default plugin; {LINES} lines of {CLIENTS} clients over March 2026, ~90% CPT-coded");
    bench.print();
    if let (Some(instantiate), Some(wasm_group), Some(native_group), Some(wasm_select), Some(native_select)) =
        (instantiate, wasm_group, native_group, wasm_select, native_select)
    {
        println!(
            "WASM / native: group_lines {:.1}x (WASM minus instantiation {:.1}x), select_lines {:.1}x (minus instantiation {:.1}x)",
            ratio(wasm_group, native_group),
            ratio(wasm_group.saturating_sub(instantiate), native_group),
            ratio(wasm_select, native_select),
            ratio(wasm_select.saturating_sub(instantiate), native_select),
        );
    }
}

/// The measurements taken, and which to take: those whose name contains the first command-line
/// argument that is not a flag (e.g. `cargo bench -p autobill --bench plugin_calls -- select_lines`),
/// or all of them.
struct Bench {
    filter: Option<String>,
    /// Name, runs, median, fastest run, target.
    rows: Vec<(String, usize, Duration, Duration, Option<Duration>)>,
}

impl Bench {
    fn new() -> Self {
        Bench { filter: std::env::args().skip(1).find(|arg| !arg.starts_with('-')), rows: Vec::new() }
    }

    /// Times `f` unless the filter leaves it out.
    fn run<T>(
        &mut self,
        name: String,
        runs: usize,
        target: Option<Duration>,
        f: impl FnMut() -> T,
    ) -> Option<Duration> {
        if self.filter.as_ref().is_some_and(|filter| !name.contains(filter.as_str())) {
            return None;
        }
        let (median, fastest) = time(runs, f);
        self.rows.push((name, runs, median, fastest, target));
        Some(median)
    }

    fn print(&self) {
        println!();
        println!("| {:<68} | {:>5} | {:>11} | {:>11} | {:>16} |", "measurement", "runs", "median", "fastest", "target");
        println!("|{:-<70}|{:-<7}|{:-<13}|{:-<13}|{:-<18}|", "", "", "", "", "");
        for (name, runs, time, fastest, target) in &self.rows {
            let target = match target {
                Some(target) if time <= target => format!("<= {} ok", show(*target)),
                Some(target) => format!("<= {} OVER", show(*target)),
                None => String::new(),
            };
            println!("| {name:<68} | {runs:>5} | {:>11} | {:>11} | {target:>16} |", show(*time), show(*fastest));
        }
        println!();
    }
}

/// The median and the fastest time of `runs` runs of `f`, after one warm-up run.
fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, Duration) {
    black_box(f());
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            start.elapsed()
        })
        .collect();
    times.sort_unstable();
    (times[runs / 2], times[0])
}

fn ratio(wasm: Duration, native: Duration) -> f64 {
    wasm.as_secs_f64() / native.as_secs_f64().max(1e-12)
}

fn show(time: Duration) -> String {
    let micros = time.as_secs_f64() * 1e6;
    if micros < 1_000.0 { format!("{micros:.1} us") } else { format!("{:.2} ms", micros / 1_000.0) }
}

fn practice() -> PracticeContext {
    PracticeContext {
        practice_id: 1,
        timezone: "America/New_York".into(),
        currency: "USD".into(),
        automation: AutomationSettings {
            bill_creation: BillCreation::Daily,
            superbill_day: 1,
            share_by_default: true,
            share_delay_minutes: 60,
            autopay: false,
        },
        config: String::new(),
    }
}

/// A deterministic stream of small numbers.
struct Numbers(u64);

impl Numbers {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}

/// Services 0–3 are CPT-coded, service 4 is not; every line is linked to F41.1.
fn catalog() -> Catalog {
    let service = |code: &str, cpt: Option<&str>| Service { code: code.into(), cpt_code: cpt.map(Into::into) };
    Catalog {
        services: vec![
            service("90837", Some("90837")),
            service("90834", Some("90834")),
            service("90791", Some("90791")),
            service("96127", Some("96127")),
            service("WORKSHOP", None),
        ],
        diagnosis_sets: vec![vec!["F41.1".into()]],
    }
}

/// 10,000 lines on appointments of one to three lines, of 40 clients, dated over March 2026.
fn lines() -> Vec<ServiceLine> {
    let mut numbers = Numbers(0x2545_f491_4f6c_dd1d);
    let mut lines = Vec::with_capacity(LINES);
    let mut appointment_id = 0;
    let first = NaiveDate::from_ymd_opt(2026, 3, 1).expect("a real date");
    while lines.len() < LINES {
        appointment_id += 1;
        let client_id = 1 + numbers.below(CLIENTS);
        let date = to_policy_date(first + Days::new(numbers.below(31)));
        for _ in 0..=numbers.below(3) {
            let fee = 5_000 + numbers.below(20_000) as i64;
            lines.push(ServiceLine {
                line_id: lines.len() as u64 + 1,
                appointment_id,
                client_id,
                date,
                service: if numbers.below(10) != 0 { numbers.below(4) as u32 } else { 4 },
                diagnoses: 0,
                fee,
                paid: 0,
            });
        }
    }
    lines.truncate(LINES);
    lines
}

fn clients() -> Vec<ClientBilling> {
    (1..=CLIENTS)
        .map(|client_id| ClientBilling {
            client_id,
            email_on_file: client_id % 5 != 0,
            email_allowed: client_id % 7 != 0,
            auto_superbills: client_id % 4 != 0,
            auto_share: client_id % 3 != 0,
            autopay: false,
            card_on_file: false,
        })
        .collect()
}

fn requests(clients: &[ClientBilling]) -> Vec<ShareRequest> {
    (0..REQUESTS)
        .map(|index| {
            let client = clients[index % clients.len()];
            let (kind, status) = match index % 4 {
                0 => (DocumentKind::Superbill, DocumentStatus::Issued),
                1 => (DocumentKind::Bill, DocumentStatus::Paid),
                2 => (DocumentKind::Bill, DocumentStatus::Void),
                _ => (DocumentKind::Bill, DocumentStatus::Open),
            };
            let document = Document {
                document_id: index as u64 + 1,
                kind,
                client_id: client.client_id,
                total: 15_000,
                paid: 0,
                status,
            };
            ShareRequest { document, client }
        })
        .collect()
}

#[path = "support/native.rs"]
mod native;

/// Open bills tonight's autopay may charge, one per request's worth, over the clients.
fn candidates() -> Vec<AutopayCandidate> {
    (0..REQUESTS as u64)
        .map(|n| AutopayCandidate {
            bill_id: n + 1,
            client_id: 1 + n % CLIENTS,
            balance: 5_000 + (n as i64 % 7) * 2_500,
            age_days: (n % 30) as u32,
            attempts: (n % 3) as u32,
            last_decline_code: None,
            client_disputed: n % 50 == 0,
        })
        .collect()
}
