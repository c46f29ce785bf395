//! The API under load: `serve` on SQLite and on PostgreSQL with a practice of 100,000
//! appointments, 20 clients at once for 30 s, 70 % `GET …/bills` and 30 % `POST …/appointments`.
//!
//! Run with `cargo bench -p autobill --bench api`. For each backend (SQLite in a temporary file;
//! PostgreSQL in a fresh database on the server at `AUTOBILL_BENCH_POSTGRES_URL`, else
//! `AUTOBILL_TEST_POSTGRES_URL`, else `postgres://postgres@127.0.0.1:5432/test`, dropped
//! afterwards) it seeds one practice (1,000 clients, the appointments in October 2026, each
//! completed with one service), starts `serve` in this process on 127.0.0.1 with a simulated
//! clock, moves the clock to November 1st so the monthly bill run makes the practice's bills, and
//! makes a practice token through the API. Then:
//!
//! - it reads single appointments (`GET …/appointments/{id}`, 500 in a row, one client) on this
//!   practice and on a practice of 100 appointments in a database of its own, and reports their
//!   median times and the ratio;
//! - 20 clients, each on a keep-alive connection of its own and driven from a thread of its own
//!   (as a separate load generator would be), send the mix for the given time with the practice
//!   token; it reports requests per second and p50/p99 per route. Any answer but 200/201 stops the
//!   bench with the answer.
//!
//! The server stops at the end of each backend's measurement; nothing listens beyond 127.0.0.1.
//!
//! Options (after `--`): `--seconds N` (default 30), `--appointments N` (default 100,000),
//! `--backend sqlite|postgres` (default both).

#[path = "support/database.rs"]
mod database;

use autobill::app::App;
use autobill::clock::SimulatedClock;
use autobill::config::{Config, Use};
use autobill::domain::{BillCreation, NewPractice};
use autobill::serve;
use autobill::store::Store;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use database::{Backend, Database};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};

const OPERATOR: &str = "operator-token-for-the-api-bench-0123456789";
const CLIENTS: usize = 20;
const PRACTICE_CLIENTS: i64 = 1_000;
/// Of every ten requests a client sends, these many are `GET …/bills`; the rest book appointments.
const READS_IN_TEN: u64 = 7;
const SINGLE_READS: usize = 500;
/// Targets on a 2-core machine.
const SQLITE_RATE_TARGET: f64 = 1_000.0;
const SQLITE_P99_TARGET: Duration = Duration::from_millis(100);
const POSTGRES_RATE_TARGET: f64 = 800.0;
const SINGLE_READ_RATIO_TARGET: f64 = 2.0;

fn main() -> anyhow::Result<()> {
    let options = Options::parse()?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        println!(
            "api: {} appointments, {CLIENTS} clients for {} s, {}0 % GET bills / {}0 % POST appointments",
            options.appointments,
            options.seconds,
            READS_IN_TEN,
            10 - READS_IN_TEN
        );
        for backend in &options.backends {
            let small = {
                let server = Served::start(*backend, 100).await?;
                let read = server.single_reads().await?;
                server.stop().await?;
                read
            };
            let server = Served::start(*backend, options.appointments).await?;
            let large = server.single_reads().await?;
            let load = server.load(Duration::from_secs(options.seconds)).await;
            server.stop().await?;
            let load = load?;
            report(*backend, &options, small, large, &load);
        }
        Ok(())
    })
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

fn report(backend: Backend, options: &Options, small: Duration, large: Duration, load: &Load) {
    let rate = load.requests() as f64 / load.elapsed.as_secs_f64();
    let all: Vec<Duration> = load.routes.iter().flat_map(|route| route.times.iter().copied()).collect();
    let p99 = percentile(&all, 0.99);
    println!();
    println!(
        "{backend:?}: {rate:.0} req/s over {:.1} s, p50 {:.2} ms, p99 {:.2} ms",
        load.elapsed.as_secs_f64(),
        ms(percentile(&all, 0.5)),
        ms(p99)
    );
    for route in &load.routes {
        println!(
            "  {:<32} {:>7} requests {:>7.0} req/s   p50 {:>8.2} ms   p99 {:>8.2} ms",
            route.name,
            route.times.len(),
            route.times.len() as f64 / load.elapsed.as_secs_f64(),
            ms(percentile(&route.times, 0.5)),
            ms(percentile(&route.times, 0.99)),
        );
    }
    let ratio = large.as_secs_f64() / small.as_secs_f64();
    println!(
        "  GET appointments/{{id}}: median {:.3} ms at {} appointments, {:.3} ms at 100: {ratio:.2}x (target <= {SINGLE_READ_RATIO_TARGET}x) {}",
        ms(large),
        options.appointments,
        ms(small),
        verdict(ratio <= SINGLE_READ_RATIO_TARGET)
    );
    match backend {
        Backend::Sqlite => println!(
            "  target: >= {SQLITE_RATE_TARGET} req/s with p99 <= {} ms: {}",
            SQLITE_P99_TARGET.as_millis(),
            verdict(rate >= SQLITE_RATE_TARGET && p99 <= SQLITE_P99_TARGET)
        ),
        Backend::Postgres => {
            println!("  target: >= {POSTGRES_RATE_TARGET} req/s: {}", verdict(rate >= POSTGRES_RATE_TARGET))
        }
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1_000.0
}

fn percentile(times: &[Duration], share: f64) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort_unstable();
    let index = ((sorted.len() as f64 * share).ceil() as usize).saturating_sub(1);
    sorted.get(index).copied().unwrap_or_default()
}

struct Options {
    seconds: u64,
    appointments: i64,
    backends: Vec<Backend>,
}

impl Options {
    fn parse() -> anyhow::Result<Self> {
        let mut options = Options { seconds: 30, appointments: 100_000, backends: Backend::both() };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--seconds" => options.seconds = positive(&arg, args.next())?,
                "--appointments" => options.appointments = positive(&arg, args.next())?,
                "--backend" => {
                    options.backends = Backend::chosen(args.next().as_deref())?;
                }
                // `cargo bench` passes `--bench` to every bench binary.
                "--bench" => {}
                other => anyhow::bail!(
                    "unknown option `{other}`; use --seconds N, --appointments N or --backend sqlite|postgres"
                ),
            }
        }
        Ok(options)
    }
}

fn positive<T: std::str::FromStr + PartialOrd + Default>(option: &str, value: Option<String>) -> anyhow::Result<T> {
    let value = value.unwrap_or_default();
    value
        .parse::<T>()
        .ok()
        .filter(|n| *n > T::default())
        .ok_or_else(|| anyhow::anyhow!("{option} takes a positive number, not `{value}`"))
}

/// A seeded database with `serve` running on it.
struct Served {
    addr: SocketAddr,
    practice: i64,
    token: String,
    appointments: i64,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), serve::ServeError>>,
    database: Database,
    _dir: tempfile::TempDir,
}

/// When the practice was made; the bill run of November 1st bills its October.
fn created() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 1, 4, 0, 0).single().unwrap_or_default()
}

impl Served {
    async fn start(backend: Backend, appointments: i64) -> anyhow::Result<Served> {
        let dir = tempfile::tempdir()?;
        let database = backend.database(dir.path(), "api.db", "api_bench").await?;
        let practice = seed(database.url(), appointments, backend).await?;
        let text = format!(
            "[server]\nlisten = \"127.0.0.1:0\"\noperator_token = \"{OPERATOR}\"\n\
             [database]\nurl = \"{}\"\n[outbox]\ndir = \"{}\"\n[scheduler]\ntick_interval_seconds = 86400\n\
             [testing]\nsimulated_clock = true\n",
            database.url(),
            dir.path().join("outbox").display()
        );
        let config = Config::from_table(&text.parse::<toml::Table>()?, Use::Serve)?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app = App::start(config, Arc::new(SimulatedClock::new(created()))).await?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve::run(listener, app, async {
            let _ = stopped.await;
        }));
        let mut client = Client::connect(addr, OPERATOR).await?;
        let (status, body) = client.send("POST", "/v1/test/clock", Some(r#"{"now": "2026-11-01T06:00:00Z"}"#)).await?;
        anyhow::ensure!(status == 200, "the clock did not move: {status} {body}");
        let (status, body) =
            client.send("POST", &format!("/v1/practices/{practice}/tokens"), Some(r#"{"name": "api bench"}"#)).await?;
        anyhow::ensure!(status == 201, "no practice token: {status} {body}");
        let token: serde_json::Value = serde_json::from_str(&body)?;
        let token = token["token"].as_str().ok_or_else(|| anyhow::anyhow!("no token in {body}"))?.to_string();
        Ok(Served { addr, practice, token, appointments, stop, task, database, _dir: dir })
    }

    /// The median time of reading single appointments, one after another, spread over the ids.
    async fn single_reads(&self) -> anyhow::Result<Duration> {
        let mut client = Client::connect(self.addr, &self.token).await?;
        let mut times = Vec::with_capacity(SINGLE_READS);
        for n in 0..SINGLE_READS as i64 {
            let id = 1 + (n * 7_919) % self.appointments;
            let path = format!("/v1/practices/{}/appointments/{id}", self.practice);
            let started = Instant::now();
            let (status, body) = client.send("GET", &path, None).await?;
            times.push(started.elapsed());
            anyhow::ensure!(status == 200, "GET {path}: {status} {body}");
        }
        Ok(percentile(&times, 0.5))
    }

    /// Runs the mix with `CLIENTS` clients for `length`.
    async fn load(&self, length: Duration) -> anyhow::Result<Load> {
        let (addr, token, practice) = (self.addr, self.token.clone(), self.practice);
        let started = Instant::now();
        let deadline = started + length;
        let workers: Vec<_> = (0..CLIENTS)
            .map(|worker| {
                let token = token.clone();
                std::thread::spawn(move || -> anyhow::Result<[Vec<Duration>; 2]> {
                    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                    runtime.block_on(drive(addr, token, practice, worker, deadline))
                })
            })
            .collect();
        let mut routes =
            [Route { name: "GET bills", times: vec![] }, Route { name: "POST appointments", times: vec![] }];
        for worker in workers {
            let times = worker.join().map_err(|_| anyhow::anyhow!("a load client panicked"))??;
            for (route, times) in routes.iter_mut().zip(times) {
                route.times.extend(times);
            }
        }
        Ok(Load { elapsed: started.elapsed(), routes })
    }

    async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.task.await??;
        self.database.drop().await
    }
}

/// One load client: its share of the mix until `deadline`, the times of each route's requests.
async fn drive(
    addr: SocketAddr,
    token: String,
    practice: i64,
    worker: usize,
    deadline: Instant,
) -> anyhow::Result<[Vec<Duration>; 2]> {
    let mut client = Client::connect(addr, &token).await?;
    let (mut reads, mut writes) = (vec![], vec![]);
    let bills = format!("/v1/practices/{practice}/bills");
    let appointments = format!("/v1/practices/{practice}/appointments");
    let mut n: u64 = 0;
    while Instant::now() < deadline {
        let started = Instant::now();
        if n % 10 < READS_IN_TEN {
            let (status, body) = client.send("GET", &bills, None).await?;
            anyhow::ensure!(status == 200, "GET {bills}: {status} {body}");
            reads.push(started.elapsed());
        } else {
            let body = format!(
                r#"{{"reference": "load-{worker}-{n}", "client_id": {}, "starts_at": "2026-11-{:02}T10:00", "services": ["PSY"]}}"#,
                1 + (n * 31 + worker as u64) % PRACTICE_CLIENTS as u64,
                2 + n % 27
            );
            let (status, answer) = client.send("POST", &appointments, Some(&body)).await?;
            anyhow::ensure!(status == 201, "POST {appointments}: {status} {answer}");
            writes.push(started.elapsed());
        }
        n += 1;
    }
    Ok([reads, writes])
}

struct Route {
    name: &'static str,
    times: Vec<Duration>,
}

struct Load {
    elapsed: Duration,
    routes: [Route; 2],
}

impl Load {
    fn requests(&self) -> usize {
        self.routes.iter().map(|route| route.times.len()).sum()
    }
}

/// A keep-alive HTTP/1 connection sending one token.
struct Client {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    authorization: String,
}

impl Client {
    async fn connect(addr: SocketAddr, token: &str) -> anyhow::Result<Client> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        Ok(Client { sender, authorization: format!("Bearer {token}") })
    }

    /// Sends a request; answers its status and body.
    async fn send(&mut self, method: &str, path: &str, body: Option<&str>) -> anyhow::Result<(u16, String)> {
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", "127.0.0.1")
            .header("authorization", &self.authorization);
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let request = request.body(Full::new(Bytes::from(body.unwrap_or_default().to_string())))?;
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await?.to_bytes();
        Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
    }
}

/// Seeds one practice: a service, `PRACTICE_CLIENTS` clients and `appointments` completed
/// appointments in October 2026, each with one line. Gives the practice's id.
async fn seed(url: &str, appointments: i64, backend: Backend) -> anyhow::Result<i64> {
    let store = Store::connect(url).await?;
    let mut practice =
        NewPractice { name: "Bench Practice".into(), timezone: chrono_tz::America::New_York, ..NewPractice::default() };
    practice.automation.bills = BillCreation::Monthly;
    let id = store.create_practice(&practice, created()).await?;
    store.create_service(id, "PSY", "Psychotherapy, 53 minutes", 16_000, Some("90837")).await?;
    let pool = store.pool();
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO clients (practice_id, reference, name, email, email_enabled, auto_superbills, auto_share, autopay, card, diagnosis)
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2)
         SELECT $1, 'C' || i, 'Client ' || i, 'client' || i || '@example.test', 1, 0, 0, 0, NULL, 'F41.1' FROM n",
    )
    .bind(id.get())
    .bind(PRACTICE_CLIENTS)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "CREATE TABLE bench_days (day BIGINT PRIMARY KEY, local_date TEXT NOT NULL, starts_at BIGINT NOT NULL)",
    )
    .execute(&mut *tx)
    .await?;
    for day in 0..30 {
        let date = NaiveDate::from_ymd_opt(2026, 10, day + 1).ok_or_else(|| anyhow::anyhow!("a date"))?;
        let starts =
            Utc.with_ymd_and_hms(2026, 10, day + 1, 15, 0, 0).single().ok_or_else(|| anyhow::anyhow!("a time"))?;
        sqlx::query("INSERT INTO bench_days (day, local_date, starts_at) VALUES ($1, $2, $3)")
            .bind(i64::from(day))
            .bind(date.to_string())
            .bind(starts.timestamp())
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "INSERT INTO appointments (practice_id, client_id, reference, starts_at, local_date, status)
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2)
         SELECT c.practice_id, c.id, 'A' || n.i, d.starts_at, d.local_date, 'completed'
         FROM n JOIN clients c ON c.practice_id = $1 AND c.reference = 'C' || (1 + n.i % $3)
         JOIN bench_days d ON d.day = n.i % 30",
    )
    .bind(id.get())
    .bind(appointments)
    .bind(PRACTICE_CLIENTS)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO service_lines (practice_id, appointment_id, client_id, service_id, local_date, fee)
         SELECT a.practice_id, a.id, a.client_id, s.id, a.local_date, s.fee
         FROM appointments a JOIN services s ON s.practice_id = a.practice_id",
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query("DROP TABLE bench_days").execute(&mut *tx).await?;
    tx.commit().await?;
    backend.analyze_bulk_load(pool).await?;
    pool.close().await;
    Ok(id.get())
}
