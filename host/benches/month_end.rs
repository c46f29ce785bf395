//! The month-end bill run at scale: 1,000 practices, 100,000 clients and 1,000,000 completed
//! service lines in October 2026, billed by the runs due at 12:00 am on November 1st.
//!
//! Run with `cargo bench -p autobill --bench month_end`. For each backend (SQLite in a temporary
//! file; PostgreSQL in a fresh database on the server at `AUTOBILL_BENCH_POSTGRES_URL`, else
//! `AUTOBILL_TEST_POSTGRES_URL`, else `postgres://postgres@127.0.0.1:5432/test`) it generates the
//! load, times one engine tick that makes every practice's bill run, and reports lines billed per
//! second and the process's peak resident memory during the run. It then does the same on a fresh
//! copy of the load with the default policy compiled natively into the bench instead of loaded as
//! a WebAssembly component, and reports the ratio of the two run times: what the plugin boundary
//! costs.
//!
//! On a terminal a progress line counts the runs measured.
//!
//! Options (after `--`): `--practices N` (default 1,000; each has 100 clients with 10 lines),
//! `--backend sqlite|postgres` (default both), `--run-workers N` (default: the engine's own for
//! the backend, see `Engine::set_run_workers`).

use autobill::domain::NewPractice;
use autobill::engine::Engine;
use autobill::mail::FileOutbox;
use autobill::payments::SandboxGateway;
use autobill::plugin::policy::{
    AutopayCandidate, AutopayDecision, BillPlan, Catalog, ClientBilling, PracticeContext, ServiceLine, ShareDecision,
    ShareRequest, SuperbillPlan,
};
use autobill::plugin::{PluginLimits, PluginRuntime, PolicyCode, PolicyError, PolicyProblem, to_policy_date, validate};
use autobill::progress::ProgressLine;
use autobill::store::Store;
use autobill_guest::{AutopaySelection, BillCadence, ShareFilter, SuperbillInclusion};
use autobill_plugin_default::DefaultPolicy;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Targets on a 2-core machine, for 1,000,000 lines.
const SQLITE_TARGET: Duration = Duration::from_secs(20);
const POSTGRES_TARGET: Duration = Duration::from_secs(40);
const RSS_TARGET_MB: f64 = 300.0;
const RATIO_TARGET: f64 = 1.10;

const CLIENTS_PER_PRACTICE: i64 = 100;
/// Appointment days in October 2026; each appointment has two billable services.
const DAYS: [u32; 5] = [5, 12, 19, 26, 29];
const LINES_PER_APPOINTMENT: i64 = 2;
/// Time zones the practices are spread over.
const ZONES: [chrono_tz::Tz; 5] = [
    chrono_tz::America::New_York,
    chrono_tz::America::Chicago,
    chrono_tz::America::Denver,
    chrono_tz::America::Phoenix,
    chrono_tz::America::Los_Angeles,
];

fn main() -> anyhow::Result<()> {
    let options = Options::parse()?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let plugins = Arc::new(PluginRuntime::new(PluginLimits::default())?);
        let lines = options.practices * CLIENTS_PER_PRACTICE * DAYS.len() as i64 * LINES_PER_APPOINTMENT;
        println!(
            "month_end: {} practices, {} clients, {lines} completed service lines in October 2026",
            options.practices,
            options.practices * CLIENTS_PER_PRACTICE
        );
        let mut rows = vec![];
        let mut progress = ProgressLine::stderr("month_end: measuring", "runs");
        let (mut done, total) = (0, 2 * options.backends.len() as u64);
        for backend in &options.backends {
            let target = match backend {
                Backend::Sqlite => SQLITE_TARGET,
                Backend::Postgres => POSTGRES_TARGET,
            };
            let target = target.mul_f64(lines as f64 / 1_000_000.0);
            progress.update(done, total);
            let wasm = measure(*backend, &options, &plugins, false).await?;
            progress.finish();
            wasm.print(*backend, "WASM");
            progress.update(done + 1, total);
            let native = measure(*backend, &options, &plugins, true).await?;
            progress.finish();
            native.print(*backend, "native");
            done += 2;
            if wasm.billed != lines || native.billed != lines || wasm.bills != native.bills {
                anyhow::bail!(
                    "{backend:?}: the runs disagree: WASM billed {} lines on {} bills, native {} on {}",
                    wasm.billed,
                    wasm.bills,
                    native.billed,
                    native.bills
                );
            }
            rows.push((*backend, wasm, native, target));
        }
        println!();
        println!(
            "{:<10} {:>10} {:>10} {:>12} {:>10} {:>11} {:>10} {:>12}",
            "backend", "generate", "run", "lines/s", "target", "peak RSS", "native", "WASM/native"
        );
        for (backend, wasm, native, target) in rows {
            let ratio = wasm.run.as_secs_f64() / native.run.as_secs_f64();
            println!(
                "{:<10} {:>9.1}s {:>9.1}s {:>12.0} {:>9.1}s {:>8.0} MB {:>9.1}s {:>12.2}   {}",
                format!("{backend:?}"),
                wasm.generate.as_secs_f64(),
                wasm.run.as_secs_f64(),
                wasm.billed as f64 / wasm.run.as_secs_f64(),
                target.as_secs_f64(),
                wasm.peak_rss_mb,
                native.run.as_secs_f64(),
                ratio,
                verdict(wasm.run <= target && wasm.peak_rss_mb <= RSS_TARGET_MB && ratio <= RATIO_TARGET),
            );
        }
        println!(
            "targets: 1,000,000 lines in <= {}s on SQLite and <= {}s on PostgreSQL (scaled to the load), peak RSS <= {RSS_TARGET_MB} MB, WASM/native <= {RATIO_TARGET}",
            SQLITE_TARGET.as_secs(),
            POSTGRES_TARGET.as_secs()
        );
        Ok(())
    })
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

struct Options {
    practices: i64,
    backends: Vec<Backend>,
    /// Run workers for the engine; `None` leaves the engine's default.
    run_workers: Option<usize>,
}

impl Options {
    fn parse() -> anyhow::Result<Self> {
        let mut options = Options { practices: 1_000, backends: Backend::both(), run_workers: None };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--practices" => {
                    let value = args.next().unwrap_or_default();
                    options.practices = value
                        .parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| anyhow::anyhow!("--practices takes a positive number, not `{value}`"))?;
                }
                "--backend" => {
                    options.backends = Backend::chosen(args.next().as_deref())?;
                }
                "--run-workers" => {
                    let value = args.next().unwrap_or_default();
                    options.run_workers =
                        Some(
                            value.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                                anyhow::anyhow!("--run-workers takes a positive number, not `{value}`")
                            })?,
                        );
                }
                // `cargo bench` passes `--bench` to every bench binary.
                "--bench" => {}
                other => anyhow::bail!(
                    "unknown option `{other}`; use --practices N, --backend sqlite|postgres or --run-workers N"
                ),
            }
        }
        Ok(options)
    }
}

/// One timed month-end run.
struct Measurement {
    generate: Duration,
    run: Duration,
    peak_rss_mb: f64,
    billed: i64,
    bills: i64,
}

impl Measurement {
    fn print(&self, backend: Backend, policy: &str) {
        println!(
            "  {backend:?} {policy}: generated in {:.1}s, billed {} lines on {} bills in {:.1}s, peak RSS {:.0} MB",
            self.generate.as_secs_f64(),
            self.billed,
            self.bills,
            self.run.as_secs_f64(),
            self.peak_rss_mb
        );
    }
}

/// Generates the load in a fresh database, runs the month end and checks what it billed.
async fn measure(
    backend: Backend,
    options: &Options,
    plugins: &Arc<PluginRuntime>,
    native: bool,
) -> anyhow::Result<Measurement> {
    let dir = tempfile::tempdir()?;
    let database = backend.database(dir.path(), "autobill.db", "bench").await?;
    let store = Store::connect(database.url()).await?;
    store.migrate().await?;
    let started = Instant::now();
    generate(&store, options.practices, backend).await?;
    let generate = started.elapsed();

    let mut engine = Engine::new(
        store.clone(),
        plugins.clone(),
        Arc::new(SandboxGateway),
        Arc::new(FileOutbox::new(dir.path().join("outbox"))),
        "bench",
    )?;
    if native {
        engine.set_default_policy(Arc::new(NativeDefault));
    }
    if let Some(workers) = options.run_workers {
        engine.set_run_workers(workers);
    }
    // After midnight in every zone, before any share's delay has passed.
    let now = Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).single().ok_or_else(|| anyhow::anyhow!("a valid time"))?;
    reset_peak_rss();
    let started = Instant::now();
    let report = engine.tick(now).await?;
    let run = started.elapsed();
    let peak_rss_mb = peak_rss_mb();
    if report.runs_failed > 0 || report.runs_done != usize::try_from(options.practices)? {
        anyhow::bail!("{backend:?}: expected one bill run per practice, got {report:?}");
    }
    let (billed, bills): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM service_lines WHERE bill_id IS NOT NULL), (SELECT COUNT(*) FROM bills)",
    )
    .fetch_one(store.pool())
    .await?;
    store.pool().close().await;
    database.drop().await?;
    Ok(Measurement { generate, run, peak_rss_mb, billed, bills })
}

/// The synthetic load: practices on monthly bills spread over five zones, sharing after a day;
/// 100 clients each (every tenth with sharing off, every twentieth without an email); five
/// appointments a client in October, each with a CPT-coded session and an uncoded note fee.
async fn generate(store: &Store, practices: i64, backend: Backend) -> anyhow::Result<()> {
    let created = Utc.with_ymd_and_hms(2026, 10, 31, 20, 0, 0).single().ok_or_else(|| anyhow::anyhow!("a time"))?;
    for n in 0..practices {
        let mut practice = NewPractice {
            name: format!("Practice {n}"),
            timezone: ZONES[usize::try_from(n)? % ZONES.len()],
            ..NewPractice::default()
        };
        practice.automation.bills = autobill::domain::BillCreation::Monthly;
        practice.automation.superbill_day = 15;
        practice.automation.share = true;
        practice.automation.share_delay_minutes = 1_440;
        store.create_practice(&practice, created).await?;
    }
    let pool = store.pool();
    let mut tx = pool.begin().await?;
    for (code, name, fee, cpt) in [
        ("PSY", "Psychotherapy, 53 minutes", 16_000, "'90837'"),
        ("NOTE", "Letter or form", 2_500, "NULL"),
        ("INTAKE", "Diagnostic evaluation", 20_000, "'90791'"),
    ] {
        sqlx::query(&format!(
            "INSERT INTO services (practice_id, code, name, fee, cpt_code) SELECT id, '{code}', '{name}', {fee}, {cpt} FROM practices"
        ))
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query("CREATE TABLE bench_numbers (n BIGINT PRIMARY KEY)").execute(&mut *tx).await?;
    let numbers: Vec<String> = (1..=CLIENTS_PER_PRACTICE).map(|n| format!("({n})")).collect();
    sqlx::query(&format!("INSERT INTO bench_numbers (n) VALUES {}", numbers.join(", "))).execute(&mut *tx).await?;
    sqlx::query(
        "INSERT INTO clients (practice_id, reference, name, email, email_enabled, auto_superbills, auto_share, autopay, card, diagnosis)
         SELECT p.id, 'C' || n.n, 'Client ' || n.n,
                CASE WHEN n.n % 20 = 0 THEN NULL ELSE 'client' || n.n || '@example.test' END,
                1, 0, CASE WHEN n.n % 10 = 0 THEN 0 ELSE 1 END, 0, NULL, 'F41.1'
         FROM practices p CROSS JOIN bench_numbers n",
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "CREATE TABLE bench_days (day BIGINT PRIMARY KEY, local_date TEXT NOT NULL, starts_at BIGINT NOT NULL)",
    )
    .execute(&mut *tx)
    .await?;
    for day in DAYS {
        let date = NaiveDate::from_ymd_opt(2026, 10, day).ok_or_else(|| anyhow::anyhow!("a date"))?;
        let starts = Utc.with_ymd_and_hms(2026, 10, day, 15, 0, 0).single().ok_or_else(|| anyhow::anyhow!("a time"))?;
        sqlx::query("INSERT INTO bench_days (day, local_date, starts_at) VALUES ($1, $2, $3)")
            .bind(i64::from(day))
            .bind(date.to_string())
            .bind(starts.timestamp())
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "INSERT INTO appointments (practice_id, client_id, reference, starts_at, local_date, status)
         SELECT c.practice_id, c.id, c.reference || '-' || d.day, d.starts_at, d.local_date, 'completed'
         FROM clients c CROSS JOIN bench_days d",
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO service_lines (practice_id, appointment_id, client_id, service_id, local_date, fee)
         SELECT a.practice_id, a.id, a.client_id, s.id, a.local_date, s.fee
         FROM appointments a JOIN services s ON s.practice_id = a.practice_id AND s.code IN ('PSY', 'NOTE')",
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query("DROP TABLE bench_days").execute(&mut *tx).await?;
    sqlx::query("DROP TABLE bench_numbers").execute(&mut *tx).await?;
    tx.commit().await?;
    // What autovacuum would soon do after such a load. `bills` is left alone: see the README on
    // analysing an empty bills table.
    backend.analyze_bulk_load(pool).await?;
    Ok(())
}

/// Resets the kernel's peak-RSS mark, so the next reading covers only what follows.
fn reset_peak_rss() {
    // Linux only; elsewhere the reading covers the whole process.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The process's peak resident set size in MB, from `/proc/self/status` (0 where unavailable).
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The default policy's code compiled into the bench, called through the engine's policy seam
/// with the same checks a plugin's answers get.
struct NativeDefault;

const NATIVE: &str = "default (native)";

fn native_error(policy: &'static str, problem: PolicyProblem) -> PolicyError {
    PolicyError { plugin: NATIVE.into(), policy, problem }
}

fn reported(policy: &'static str) -> impl Fn(String) -> PolicyError {
    move |reason| native_error(policy, PolicyProblem::Reported(reason))
}

fn invalid(policy: &'static str) -> impl Fn(String) -> PolicyError {
    move |reason| native_error(policy, PolicyProblem::InvalidDecision(reason))
}

impl PolicyCode for NativeDefault {
    fn name(&self) -> &str {
        NATIVE
    }

    fn bill_run_dates(
        &self,
        _at: DateTime<Utc>,
        practice: &PracticeContext,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Result<Vec<NaiveDate>, PolicyError> {
        let policy = "bill-cadence.bill-run-dates";
        let (first, last) = (to_policy_date(first), to_policy_date(last));
        let dates =
            DefaultPolicy::bill_run_dates(&native::practice(practice), native::date(&first), native::date(&last))
                .map_err(reported(policy))?;
        let dates: Vec<_> = dates.iter().map(back::date).collect();
        validate::run_dates(&first, &last, &dates).map_err(invalid(policy))
    }

    fn group_lines(
        &self,
        _at: DateTime<Utc>,
        practice: &PracticeContext,
        run_date: NaiveDate,
        catalog: &Catalog,
        lines: &[ServiceLine],
    ) -> Result<Vec<BillPlan>, PolicyError> {
        let policy = "bill-cadence.group-lines";
        let guest_lines: Vec<_> = lines.iter().map(native::line).collect();
        let bills = DefaultPolicy::group_lines(
            &native::practice(practice),
            native::date(&to_policy_date(run_date)),
            &native::catalog(catalog),
            &guest_lines,
        )
        .map_err(reported(policy))?;
        let bills: Vec<_> = bills.into_iter().map(back::bill).collect();
        validate::bill_plans(lines, &bills).map_err(invalid(policy))?;
        Ok(bills)
    }

    fn superbill_run_day(
        &self,
        _at: DateTime<Utc>,
        practice: &PracticeContext,
        year: i32,
        month: u8,
    ) -> Result<u8, PolicyError> {
        let policy = "superbill-inclusion.superbill-run-day";
        let day =
            DefaultPolicy::superbill_run_day(&native::practice(practice), year, month).map_err(reported(policy))?;
        validate::superbill_day(year, month, day).map_err(invalid(policy))?;
        Ok(day)
    }

    fn select_lines(
        &self,
        _at: DateTime<Utc>,
        practice: &PracticeContext,
        run_date: NaiveDate,
        clients: &[ClientBilling],
        catalog: &Catalog,
        lines: &[ServiceLine],
    ) -> Result<Vec<SuperbillPlan>, PolicyError> {
        let policy = "superbill-inclusion.select-lines";
        let guest_clients: Vec<_> = clients.iter().map(native::client).collect();
        let guest_lines: Vec<_> = lines.iter().map(native::line).collect();
        let superbills = DefaultPolicy::select_lines(
            &native::practice(practice),
            native::date(&to_policy_date(run_date)),
            &guest_clients,
            &native::catalog(catalog),
            &guest_lines,
        )
        .map_err(reported(policy))?;
        let superbills: Vec<_> =
            superbills.into_iter().map(|plan| SuperbillPlan { client_id: plan.client_id, lines: plan.lines }).collect();
        validate::superbill_plans(lines, &superbills).map_err(invalid(policy))?;
        Ok(superbills)
    }

    fn decide_shares(
        &self,
        _at: DateTime<Utc>,
        practice: &PracticeContext,
        requests: &[ShareRequest],
    ) -> Result<Vec<ShareDecision>, PolicyError> {
        let policy = "share-filter.decide-shares";
        let guest_requests: Vec<_> = requests.iter().map(native::request).collect();
        let decisions =
            DefaultPolicy::decide_shares(&native::practice(practice), &guest_requests).map_err(reported(policy))?;
        let decisions: Vec<_> = decisions.into_iter().map(back::decision).collect();
        validate::share_decisions(requests.len(), &decisions).map_err(invalid(policy))?;
        Ok(decisions)
    }

    fn select_charges(
        &self,
        _at: DateTime<Utc>,
        practice: &PracticeContext,
        candidates: &[AutopayCandidate],
    ) -> Result<Vec<AutopayDecision>, PolicyError> {
        let policy = "autopay-selection.select-charges";
        let guest_candidates: Vec<_> = candidates.iter().map(native::autopay_candidate).collect();
        let decisions =
            DefaultPolicy::select_charges(&native::practice(practice), &guest_candidates).map_err(reported(policy))?;
        let decisions: Vec<_> = decisions.into_iter().map(back::autopay_decision).collect();
        validate::autopay_decisions(candidates, &decisions).map_err(invalid(policy))?;
        Ok(decisions)
    }
}

/// The guest SDK's answers as the host's types.
mod back {
    use autobill::plugin::policy as host;
    use autobill_guest as guest;

    pub fn date(date: &guest::Date) -> host::Date {
        host::Date { year: date.year, month: date.month, day: date.day }
    }

    pub fn bill(plan: guest::BillPlan) -> host::BillPlan {
        host::BillPlan {
            client_id: plan.client_id,
            lines: plan.lines,
            status: match plan.status {
                guest::BillStatus::Pended => host::BillStatus::Pended,
                guest::BillStatus::Open => host::BillStatus::Open,
            },
        }
    }

    pub fn decision(decision: guest::ShareDecision) -> host::ShareDecision {
        match decision {
            guest::ShareDecision::Send(delay) => host::ShareDecision::Send(delay),
            guest::ShareDecision::Skip(reason) => host::ShareDecision::Skip(reason),
        }
    }

    pub fn autopay_decision(decision: guest::AutopayDecision) -> host::AutopayDecision {
        match decision {
            guest::AutopayDecision::Charge(amount) => host::AutopayDecision::Charge(amount),
            guest::AutopayDecision::Skip(reason) => host::AutopayDecision::Skip(reason),
        }
    }
}

#[path = "support/native.rs"]
mod native;

#[path = "support/database.rs"]
mod database;
use database::Backend;
