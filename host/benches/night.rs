//! The night at the payment provider's and the mail server's rate: 100 practices × 100 clients
//! with autopay and sharing on (no share delay), monthly bills, one month end in one time zone, so
//! every practice's night falls at the same instant.
//!
//! Run with `cargo bench -p autobill --bench night`. For each backend (SQLite in a temporary file;
//! PostgreSQL in a fresh database on the server at `AUTOBILL_BENCH_POSTGRES_URL`, else
//! `AUTOBILL_TEST_POSTGRES_URL`, else `postgres://postgres@127.0.0.1:5432/test`) it measures two
//! phases, each on freshly generated data:
//! - **the night**: it ticks at 12:00 am (the bill runs) and times the tick at 12:30 am: the
//!   autopay runs, every charge, and every bill's email with its PDF, each waiting for its charge;
//! - **the emails alone**: the same load with autopay off and a 60-minute share delay; it ticks at
//!   12:00 am and times the tick at 1:00 am, when every bill's share is due at once and none waits
//!   for a charge, so the tick is the email pipeline's own rate (claims, PDFs, sends, records).
//!
//! Two bench fakes stand in for the peers: [`SlowProvider`] wraps the sandbox gateway with 300 ms
//! of latency and refuses (HTTP 429) any request beyond 100 in the last second, and [`SlowMailPeer`]
//! is an SMTP server on this machine, on threads of its own, that takes 50 ms per message. The
//! engine reaches them as it would the real ones: the gateway held to `[stripe]
//! max_requests_per_second = 100` and the default `charges_in_flight`, the mail through a pool of
//! lettre connections with the default `[smtp] connections`.
//!
//! The night reports charges per second against the limit, the most charges in flight, 429s,
//! emails per second over the night (when emails follow the charges they wait for) and once the
//! charges are done, due-to-sent p50/p99 (from the 12:30 am tick's start, when every share is due),
//! whether every bill was charged before it was emailed and showed `Paid`, and peak RSS. The
//! emails phase reports emails per second over its tick (the target is about this one), its
//! due-to-sent p50/p99, whether every bill was emailed exactly once, peak RSS, and where each
//! connection's time per message went: idle before the message, the client's side of the exchange
//! and the server's 50 ms as kept.
//!
//! Options (after `--`): `--practices N` (default 100, each with 100 clients), `--backend
//! sqlite|postgres` (default both), `--phase night|emails` (default both).

use autobill::config::DEFAULT_SMTP_CONNECTIONS;
use autobill::domain::NewPractice;
use autobill::engine::Engine;
use autobill::mail::{SmtpConfig, SmtpMailer, SmtpSecurity};
use autobill::payments::stripe::Backoff;
use autobill::payments::{
    BoxFuture, ChargeOutcome, ChargeRequest, PaymentError, PaymentGateway, SandboxGateway, Throttled,
};
use autobill::plugin::{PluginLimits, PluginRuntime};
use autobill::store::Store;
use chrono::{TimeZone, Utc};
use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, Write};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The provider's limit, and the rate the host is configured to keep.
const RATE: u32 = 100;
const PROVIDER_LATENCY: Duration = Duration::from_millis(300);
const MAIL_LATENCY: Duration = Duration::from_millis(50);
/// The engine's default, as `[scheduler] charges_in_flight` leaves it.
const CHARGES_IN_FLIGHT: usize = 32;
const CLIENTS_PER_PRACTICE: i64 = 100;
/// Targets on a 2-core machine for 10,000 charges and emails.
const CHARGE_SHARE_TARGET: f64 = 0.87;
const EMAILS_PER_SECOND_TARGET: f64 = 150.0;
const RSS_TARGET_MB: f64 = 300.0;

fn main() -> anyhow::Result<()> {
    let options = Options::parse()?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let plugins = Arc::new(PluginRuntime::new(PluginLimits::default())?);
        println!(
            "night: {} practices × {CLIENTS_PER_PRACTICE} clients with autopay and sharing on, one month end; provider {} ms, 429 above {RATE}/s; mail peer {} ms a message",
            options.practices,
            PROVIDER_LATENCY.as_millis(),
            MAIL_LATENCY.as_millis()
        );
        let (mut nights, mut mailings) = (vec![], vec![]);
        for backend in &options.backends {
            if options.phases.contains(&Phase::Night) {
                let night = measure_night(*backend, &options, &plugins).await?;
                night.print(*backend);
                nights.push((*backend, night));
            }
            if options.phases.contains(&Phase::Emails) {
                let mailing = measure_emails(*backend, &options, &plugins).await?;
                mailing.print(*backend);
                mailings.push((*backend, mailing));
            }
        }
        if !nights.is_empty() {
            print_nights(&nights);
        }
        if !mailings.is_empty() {
            print_mailings(&mailings);
        }
        Ok(())
    })
}

fn print_nights(nights: &[(Backend, Night)]) {
    println!();
    println!("the night (autopay, then each bill's email):");
    println!(
        "{:<10} {:>8} {:>9} {:>9} {:>9} {:>5} {:>9} {:>10} {:>9} {:>9} {:>9} {:>13} {:>9}",
        "backend",
        "charges",
        "charge/s",
        "of limit",
        "in flight",
        "429s",
        "emails/s",
        "uncharged/s",
        "p50",
        "p99",
        "peak RSS",
        "charged 1st",
        "verdict"
    );
    for (backend, night) in nights {
        let charge_rate = night.charges as f64 / night.charging.as_secs_f64();
        let email_rate = night.emails as f64 / night.emailing.as_secs_f64();
        let drain_rate = night.drained as f64 / night.draining.as_secs_f64().max(f64::EPSILON);
        let share = charge_rate / f64::from(RATE);
        let met = share >= CHARGE_SHARE_TARGET
            && i64::try_from(night.charges).is_ok_and(|charges| charges == night.bills)
            && night.emailed_before_outcome == 0
            && night.peak_rss_mb <= RSS_TARGET_MB;
        println!(
            "{:<10} {:>8} {:>9.1} {:>8.0}% {:>9} {:>5} {:>9.1} {:>10.1} {:>8.1}s {:>8.1}s {:>6.0} MB {:>13} {:>9}",
            format!("{backend:?}"),
            night.charges,
            charge_rate,
            share * 100.0,
            night.most_in_flight,
            night.refused,
            email_rate,
            drain_rate,
            night.p50.as_secs_f64(),
            night.p99.as_secs_f64(),
            night.peak_rss_mb,
            if night.emailed_before_outcome == 0 { "every bill" } else { "NO" },
            if met { "met" } else { "MISSED" },
        );
    }
    println!(
        "targets: every bill charged, at >= {:.0}% of the limit ({RATE}/s); no bill emailed before its charge's outcome; peak RSS <= {RSS_TARGET_MB} MB",
        CHARGE_SHARE_TARGET * 100.0
    );
}

fn print_mailings(mailings: &[(Backend, Mailing)]) {
    println!();
    println!("the emails alone (every share due at once, no autopay to wait for):");
    println!(
        "{:<10} {:>8} {:>9} {:>9} {:>9} {:>9} {:>11} {:>9} {:>9}",
        "backend", "emails", "tick", "emails/s", "p50", "p99", "each once", "peak RSS", "verdict"
    );
    for (backend, mailing) in mailings {
        let rate = mailing.emails as f64 / mailing.tick.as_secs_f64();
        let once = mailing.each_bill_once();
        let met = rate >= EMAILS_PER_SECOND_TARGET && once && mailing.peak_rss_mb <= RSS_TARGET_MB;
        println!(
            "{:<10} {:>8} {:>8.1}s {:>9.1} {:>8.1}s {:>8.1}s {:>11} {:>6.0} MB {:>9}",
            format!("{backend:?}"),
            mailing.emails,
            mailing.tick.as_secs_f64(),
            rate,
            mailing.p50.as_secs_f64(),
            mailing.p99.as_secs_f64(),
            if once { "every bill" } else { "NO" },
            mailing.peak_rss_mb,
            if met { "met" } else { "MISSED" },
        );
    }
    println!(
        "targets: every bill emailed once, with its PDF, at >= {EMAILS_PER_SECOND_TARGET}/s with {DEFAULT_SMTP_CONNECTIONS} connections to a {} ms server; peak RSS <= {RSS_TARGET_MB} MB",
        MAIL_LATENCY.as_millis()
    );
}

/// A part of the bench, measured on its own freshly generated data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Autopay and sharing: each bill's email waits for its charge.
    Night,
    /// Sharing alone: every share due at once, nothing to wait for.
    Emails,
}

struct Options {
    practices: i64,
    backends: Vec<Backend>,
    phases: Vec<Phase>,
}

impl Options {
    fn parse() -> anyhow::Result<Self> {
        let mut options =
            Options { practices: 100, backends: Backend::both(), phases: vec![Phase::Night, Phase::Emails] };
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
                "--phase" => {
                    options.phases = match args.next().as_deref() {
                        Some("night") => vec![Phase::Night],
                        Some("emails") => vec![Phase::Emails],
                        other => anyhow::bail!("--phase takes night or emails, not {other:?}"),
                    };
                }
                // `cargo bench` passes `--bench` to every bench binary.
                "--bench" => {}
                other => anyhow::bail!(
                    "unknown option `{other}`; use --practices N, --backend sqlite|postgres or --phase night|emails"
                ),
            }
        }
        Ok(options)
    }
}

/// One measured night.
struct Night {
    bills: i64,
    charges: usize,
    charging: Duration,
    most_in_flight: usize,
    refused: usize,
    emails: usize,
    emailing: Duration,
    /// Emails taken after the last charge was answered, and how long they took: the rate of the
    /// email pipeline once no email waits for a charge.
    drained: usize,
    draining: Duration,
    p50: Duration,
    p99: Duration,
    emailed_before_outcome: usize,
    shown_paid: usize,
    peak_rss_mb: f64,
    tick: Duration,
}

impl Night {
    fn print(&self, backend: Backend) {
        println!(
            "  {backend:?}: {} bills; the 12:30 am tick took {:.1}s: {} charges in {:.1}s (most {} in flight, {} refused with 429), {} emails in {:.1}s ({} showing Paid; the last {} after the last charge, in {:.1}s), peak RSS {:.0} MB",
            self.bills,
            self.tick.as_secs_f64(),
            self.charges,
            self.charging.as_secs_f64(),
            self.most_in_flight,
            self.refused,
            self.emails,
            self.emailing.as_secs_f64(),
            self.shown_paid,
            self.drained,
            self.draining.as_secs_f64(),
            self.peak_rss_mb
        );
    }
}

/// The peers' fakes and the engine that reaches them, as the application would wire it.
struct Bench {
    engine: Engine,
    provider: Arc<SlowProvider>,
    peer: SlowMailPeer,
}

impl Bench {
    async fn start(store: &Store, plugins: &Arc<PluginRuntime>) -> anyhow::Result<Bench> {
        let provider = Arc::new(SlowProvider::default());
        let gateway = Throttled::new(provider.clone(), NonZeroU32::new(RATE), Backoff::default());
        let peer = SlowMailPeer::start()?;
        let mut smtp = SmtpConfig::new("127.0.0.1", peer.port, SmtpSecurity::Plain);
        smtp.connections = DEFAULT_SMTP_CONNECTIONS;
        let mailer = SmtpMailer::new(smtp)?;
        let mut engine = Engine::new(store.clone(), plugins.clone(), Arc::new(gateway), Arc::new(mailer), "bench")?;
        engine.set_charges_in_flight(CHARGES_IN_FLIGHT);
        engine.set_sends_in_flight(DEFAULT_SMTP_CONNECTIONS);
        Ok(Bench { engine, provider, peer })
    }
}

/// 12:00 am on the night of the month end, in the practices' zone.
fn midnight() -> anyhow::Result<chrono::DateTime<chrono_tz::Tz>> {
    chrono_tz::America::New_York
        .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
        .single()
        .ok_or_else(|| anyhow::anyhow!("a time"))
}

/// Generates the load in a fresh database, runs the night and checks what it did.
async fn measure_night(backend: Backend, options: &Options, plugins: &Arc<PluginRuntime>) -> anyhow::Result<Night> {
    let dir = tempfile::tempdir()?;
    let database = backend.database(dir.path(), "autobill.db", "night").await?;
    let store = Store::connect(database.url()).await?;
    generate(&store, options.practices, backend, Load::Night).await?;
    let Bench { engine, provider, peer } = Bench::start(&store, plugins).await?;

    let midnight = midnight()?;
    let report = engine.tick(midnight.with_timezone(&Utc)).await?;
    if report.runs_failed > 0 || report.shares_handled > 0 {
        anyhow::bail!("{backend:?}: the 12:00 am tick failed runs or emailed bills before autopay: {report:?}");
    }
    reset_peak_rss();
    let started = Instant::now();
    let report = engine.tick((midnight + chrono::Duration::minutes(30)).with_timezone(&Utc)).await?;
    let tick = started.elapsed();
    let peak_rss_mb = peak_rss_mb();
    if report.runs_failed > 0 || report.charges_deferred > 0 {
        anyhow::bail!("{backend:?}: the 12:30 am tick failed runs or deferred charges: {report:?}");
    }
    let bills: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM bills").fetch_one(store.pool()).await?;
    store.pool().close().await;
    database.drop().await?;

    let charged = provider.answered.lock().map(|answered| answered.clone()).unwrap_or_default();
    let received = peer.received.lock().map(|received| received.clone()).unwrap_or_default();
    let window = |times: &mut dyn Iterator<Item = Instant>| {
        let times: Vec<Instant> = times.collect();
        match (times.iter().min(), times.iter().max()) {
            (Some(first), Some(last)) => *last - *first,
            _ => Duration::ZERO,
        }
    };
    let charging = window(&mut charged.values().copied());
    let emailing = window(&mut received.iter().map(|email| email.at));
    let (p50, p99) = due_to_sent(&received, started);
    let last_charge = charged.values().max().copied();
    let after: Vec<Instant> =
        received.iter().map(|email| email.at).filter(|at| last_charge.is_some_and(|last| *at > last)).collect();
    let drained = after.len();
    let draining = match (last_charge, after.iter().max()) {
        (Some(first), Some(last)) => *last - first,
        _ => Duration::ZERO,
    };
    let emailed_before_outcome = received
        .iter()
        .filter(|email| {
            let key = format!("autobill-bill-{}-attempt-1", email.bill);
            charged.get(&key).is_none_or(|answered| *answered > email.at)
        })
        .count();
    Ok(Night {
        bills,
        charges: charged.len(),
        charging,
        most_in_flight: provider.most_in_flight.load(Ordering::SeqCst),
        refused: provider.refused.load(Ordering::SeqCst),
        emails: received.len(),
        emailing,
        drained,
        draining,
        p50,
        p99,
        emailed_before_outcome,
        shown_paid: received.iter().filter(|email| email.paid).count(),
        peak_rss_mb,
        tick,
    })
}

/// The email pipeline measured alone.
struct Mailing {
    bills: i64,
    emails: usize,
    /// The bills that were emailed, each once if the pipeline kept its guarantee.
    distinct_bills: usize,
    /// The tick that sent every email: claims, PDFs, sends and their records.
    tick: Duration,
    p50: Duration,
    p99: Duration,
    shares_handled: usize,
    peak_rss_mb: f64,
    /// Where each connection's time per message went, averaged over the messages.
    per_message: PerMessage,
}

/// A connection's time per message, averaged: idle before the message, the client's side of the
/// exchange, and the server's answer.
struct PerMessage {
    idle: Duration,
    exchange: Duration,
    taken: Duration,
    /// From the tick's start to the first message taken.
    first: Duration,
}

impl PerMessage {
    fn of(received: &[Received], started: Instant) -> PerMessage {
        let mean = |values: Vec<Duration>| {
            let count = u32::try_from(values.len()).unwrap_or(u32::MAX).max(1);
            values.iter().sum::<Duration>() / count
        };
        PerMessage {
            idle: mean(received.iter().filter_map(|email| email.idle).collect()),
            exchange: mean(received.iter().map(|email| email.exchange).collect()),
            taken: mean(received.iter().map(|email| email.taken).collect()),
            first: received.iter().map(|email| email.at - started).min().unwrap_or_default(),
        }
    }
}

impl Mailing {
    /// Whether every bill was emailed, and none twice.
    fn each_bill_once(&self) -> bool {
        i64::try_from(self.emails).is_ok_and(|emails| emails == self.bills) && self.distinct_bills == self.emails
    }

    fn print(&self, backend: Backend) {
        println!(
            "  {backend:?}, emails alone: {} bills; the 1:00 am tick took {:.1}s and handled {} shares: {} emails ({} bills), {:.1}/s, peak RSS {:.0} MB",
            self.bills,
            self.tick.as_secs_f64(),
            self.shares_handled,
            self.emails,
            self.distinct_bills,
            self.emails as f64 / self.tick.as_secs_f64(),
            self.peak_rss_mb
        );
        let ms = |duration: Duration| duration.as_secs_f64() * 1000.0;
        println!(
            "  per message on a connection: {:.2} ms idle before it, {:.2} ms from MAIL to the end of its data, {:.2} ms at the server; first message {:.2} s after the tick began",
            ms(self.per_message.idle),
            ms(self.per_message.exchange),
            ms(self.per_message.taken),
            self.per_message.first.as_secs_f64()
        );
    }
}

/// Generates the load with autopay off and a 60-minute share delay, makes the bills at 12:00 am
/// and times the tick at 1:00 am, when every share is due at once.
async fn measure_emails(backend: Backend, options: &Options, plugins: &Arc<PluginRuntime>) -> anyhow::Result<Mailing> {
    let dir = tempfile::tempdir()?;
    let database = backend.database(dir.path(), "autobill.db", "night_emails").await?;
    let store = Store::connect(database.url()).await?;
    generate(&store, options.practices, backend, Load::EmailsAlone).await?;
    let Bench { engine, peer, .. } = Bench::start(&store, plugins).await?;

    let midnight = midnight()?;
    let report = engine.tick(midnight.with_timezone(&Utc)).await?;
    if report.runs_failed > 0 || report.shares_handled > 0 {
        anyhow::bail!("{backend:?}: the 12:00 am tick failed runs or emailed bills before their delay: {report:?}");
    }
    reset_peak_rss();
    let started = Instant::now();
    let report =
        engine.tick((midnight + chrono::Duration::minutes(SHARE_DELAY_MINUTES.into())).with_timezone(&Utc)).await?;
    let tick = started.elapsed();
    let peak_rss_mb = peak_rss_mb();
    if report.runs_failed > 0 || report.charges_settled > 0 {
        anyhow::bail!("{backend:?}: the 1:00 am tick failed runs or charged bills: {report:?}");
    }
    let bills: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM bills").fetch_one(store.pool()).await?;
    store.pool().close().await;
    database.drop().await?;

    let received = peer.received.lock().map(|received| received.clone()).unwrap_or_default();
    let distinct_bills = received.iter().map(|email| email.bill).collect::<std::collections::HashSet<_>>().len();
    let (p50, p99) = due_to_sent(&received, started);
    Ok(Mailing {
        bills,
        emails: received.len(),
        distinct_bills,
        tick,
        p50,
        p99,
        shares_handled: report.shares_handled,
        peak_rss_mb,
        per_message: PerMessage::of(&received, started),
    })
}

/// The 50th and 99th percentiles of the time from `due` to each email's arrival at the peer.
fn due_to_sent(received: &[Received], due: Instant) -> (Duration, Duration) {
    let mut latencies: Vec<Duration> = received.iter().map(|email| email.at - due).collect();
    latencies.sort_unstable();
    let percentile = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    (percentile(0.50), percentile(0.99))
}

/// Bench fake of a payment provider: the sandbox's outcomes after 300 ms, and an HTTP 429 for
/// any request beyond 100 in the last second. Records when each charge was answered.
#[derive(Default)]
struct SlowProvider {
    recent: Mutex<VecDeque<Instant>>,
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
    refused: AtomicUsize,
    answered: Mutex<HashMap<String, Instant>>,
}

impl PaymentGateway for SlowProvider {
    fn charge<'a>(&'a self, request: &'a ChargeRequest) -> BoxFuture<'a, Result<ChargeOutcome, PaymentError>> {
        Box::pin(async move {
            let now = Instant::now();
            let over = self.recent.lock().is_ok_and(|mut recent| {
                while recent.front().is_some_and(|at| now - *at >= Duration::from_secs(1)) {
                    recent.pop_front();
                }
                recent.push_back(now);
                recent.len() > RATE as usize
            });
            let inside = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.most_in_flight.fetch_max(inside, Ordering::SeqCst);
            tokio::time::sleep(PROVIDER_LATENCY).await;
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            if over {
                self.refused.fetch_add(1, Ordering::SeqCst);
                return Err(PaymentError::RateLimited("HTTP 429 from the bench provider".into()));
            }
            let outcome = SandboxGateway.charge(request).await;
            if let Ok(mut answered) = self.answered.lock() {
                answered.insert(request.idempotency_key.clone(), Instant::now());
            }
            outcome
        })
    }
}

/// One message the mail peer took.
#[derive(Clone)]
struct Received {
    /// The bill's number, from the message's id.
    bill: i64,
    at: Instant,
    /// Whether the text says the bill is paid.
    paid: bool,
    /// How long its connection sat idle between the previous message's answer and this one's
    /// `MAIL` command (`None` for a connection's first message).
    idle: Option<Duration>,
    /// From `MAIL` to the end of the data: the client's side of the exchange.
    exchange: Duration,
    /// From the end of the data to the answer: the server's 50 ms, as the timer kept it.
    taken: Duration,
}

/// Bench fake of a mail server: plain SMTP on 127.0.0.1, 50 ms to take each message.
///
/// It runs on threads of its own, one per connection, as a server in another process would, and
/// waits with the operating system's sleep, which keeps the 50 ms to within a fraction of a
/// millisecond; on the engine's runtime, tokio's timer rounds each wait up to the next millisecond
/// and then waits for a free worker, and the fake would be measured as well as the engine.
struct SlowMailPeer {
    port: u16,
    received: Arc<Mutex<Vec<Received>>>,
}

impl SlowMailPeer {
    fn start() -> anyhow::Result<SlowMailPeer> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let received = Arc::new(Mutex::new(vec![]));
        let log = received.clone();
        std::thread::spawn(move || {
            for socket in listener.incoming().flatten() {
                let log = log.clone();
                std::thread::spawn(move || serve_smtp(socket, &log));
            }
        });
        Ok(SlowMailPeer { port, received })
    }
}

fn serve_smtp(socket: std::net::TcpStream, log: &Mutex<Vec<Received>>) -> std::io::Result<()> {
    socket.set_nodelay(true)?;
    let mut write = socket.try_clone()?;
    let mut lines = std::io::BufReader::new(socket);
    write.write_all(b"220 bench.invalid ESMTP\r\n")?;
    let mut line = String::new();
    let (mut answered, mut mail_at): (Option<Instant>, Option<Instant>) = (None, None);
    loop {
        line.clear();
        if lines.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_ascii_uppercase();
        if command.starts_with("MAIL") {
            mail_at = Some(Instant::now());
        }
        if command.starts_with("EHLO") {
            write.write_all(b"250-bench.invalid\r\n250 8BITMIME\r\n")?;
        } else if command.starts_with("DATA") {
            write.write_all(b"354 go on\r\n")?;
            let (mut bill, mut paid) = (0, false);
            loop {
                line.clear();
                if lines.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" {
                    break;
                }
                if let Some(id) = line.strip_prefix("Message-ID: <bill-") {
                    bill = id.split('.').next().and_then(|n| n.parse().ok()).unwrap_or(0);
                }
                paid |= line.starts_with("Status:  Paid");
            }
            let data_end = Instant::now();
            let mail_at = mail_at.take().unwrap_or(data_end);
            let idle = answered.map(|answered| mail_at - answered);
            std::thread::sleep(MAIL_LATENCY);
            let at = Instant::now();
            if let Ok(mut log) = log.lock() {
                log.push(Received { bill, at, paid, idle, exchange: data_end - mail_at, taken: at - data_end });
            }
            write.write_all(b"250 taken\r\n")?;
            answered = Some(at);
        } else if command.starts_with("QUIT") {
            write.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else {
            write.write_all(b"250 ok\r\n")?;
        }
    }
}

/// What the generated practices automate.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Load {
    /// Autopay and sharing on, no share delay: each bill's email waits for its charge.
    Night,
    /// Sharing on after [`SHARE_DELAY_MINUTES`], autopay off: nothing to wait for.
    EmailsAlone,
}

/// The share delay of the emails phase: every share falls due at 1:00 am.
const SHARE_DELAY_MINUTES: u32 = 60;

/// The synthetic load: practices in New York on monthly bills with sharing on (and, for the
/// night, autopay); 100 clients each with an email and a card, and one session in October.
async fn generate(store: &Store, practices: i64, backend: Backend, load: Load) -> anyhow::Result<()> {
    let created = Utc.with_ymd_and_hms(2026, 10, 1, 12, 0, 0).single().ok_or_else(|| anyhow::anyhow!("a time"))?;
    for n in 0..practices {
        let mut practice = NewPractice {
            name: format!("Practice {n}"),
            timezone: chrono_tz::America::New_York,
            ..NewPractice::default()
        };
        practice.automation.bills = autobill::domain::BillCreation::Monthly;
        practice.automation.superbill_day = 15;
        practice.automation.share = true;
        practice.automation.share_delay_minutes = if load == Load::Night { 0 } else { SHARE_DELAY_MINUTES };
        practice.automation.autopay = load == Load::Night;
        store.create_practice(&practice, created).await?;
    }
    let pool = store.pool();
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO services (practice_id, code, name, fee, cpt_code) SELECT id, 'PSY', 'Psychotherapy, 53 minutes', 16000, '90837' FROM practices",
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query("CREATE TABLE bench_numbers (n BIGINT PRIMARY KEY)").execute(&mut *tx).await?;
    let numbers: Vec<String> = (1..=CLIENTS_PER_PRACTICE).map(|n| format!("({n})")).collect();
    sqlx::query(&format!("INSERT INTO bench_numbers (n) VALUES {}", numbers.join(", "))).execute(&mut *tx).await?;
    sqlx::query(
        "INSERT INTO clients (practice_id, reference, name, email, email_enabled, auto_superbills, auto_share, autopay, card, diagnosis)
         SELECT p.id, 'C' || n.n, 'Client ' || n.n, 'client' || n.n || '@example.test', 1, 0, 1, 1, 'visa', 'F41.1'
         FROM practices p CROSS JOIN bench_numbers n",
    )
    .execute(&mut *tx)
    .await?;
    let starts = Utc.with_ymd_and_hms(2026, 10, 15, 15, 0, 0).single().ok_or_else(|| anyhow::anyhow!("a time"))?;
    sqlx::query(
        "INSERT INTO appointments (practice_id, client_id, reference, starts_at, local_date, status)
         SELECT c.practice_id, c.id, c.reference || '-15', $1, '2026-10-15', 'completed' FROM clients c",
    )
    .bind(starts.timestamp())
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO service_lines (practice_id, appointment_id, client_id, service_id, local_date, fee)
         SELECT a.practice_id, a.id, a.client_id, s.id, a.local_date, s.fee
         FROM appointments a JOIN services s ON s.practice_id = a.practice_id",
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query("DROP TABLE bench_numbers").execute(&mut *tx).await?;
    tx.commit().await?;
    backend.analyze_bulk_load(pool).await?;
    // The practices were created before October; nothing is due until the month end.
    let marked = Utc.with_ymd_and_hms(2026, 10, 31, 12, 0, 0).single().ok_or_else(|| anyhow::anyhow!("a time"))?;
    sqlx::query("UPDATE practices SET scheduled_until = $1").bind(marked.timestamp()).execute(pool).await?;
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

#[path = "support/database.rs"]
mod database;
use database::Backend;
