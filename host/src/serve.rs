//! `autobill serve`: one process that runs the scheduler loop (every due run and share, on an
//! interval, against an injected [`Clock`]) and the HTTP API, with the migrations applied at start
//! and a graceful shutdown: on the signal it stops taking requests, lets requests in flight and
//! the current tick finish, and returns.

use crate::api::{self, AppState};
use crate::config::Config;
use crate::engine::{Engine, EngineError, TickReport};
use crate::mail::{FileOutbox, MailError, Mailer};
use crate::payments::stripe::StripeConfigError;
use crate::payments::{PaymentGateway, SandboxGateway};
use crate::plugin::{LoadError, PluginRuntime};
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};

/// Where the time comes from. Production uses [`SystemClock`]; tests inject a [`SimulatedClock`].
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;

    /// The clock as a settable one, when it is simulated.
    fn simulated(&self) -> Option<&SimulatedClock> {
        None
    }
}

/// The machine's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until it is set: for tests and demos only.
#[derive(Debug)]
pub struct SimulatedClock(Mutex<DateTime<Utc>>);

impl SimulatedClock {
    /// A clock showing `at`.
    pub fn new(at: DateTime<Utc>) -> Self {
        SimulatedClock(Mutex::new(at))
    }

    /// Moves the clock to `at`.
    pub fn set(&self, at: DateTime<Utc>) {
        if let Ok(mut now) = self.0.lock() {
            *now = at;
        }
    }
}

impl Clock for SimulatedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0.lock().map(|now| *now).unwrap_or_else(|poisoned| *poisoned.into_inner())
    }

    fn simulated(&self) -> Option<&SimulatedClock> {
        Some(self)
    }
}

/// Why `serve` could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The engine could not be set up.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The plugin runtime could not be set up.
    #[error(transparent)]
    Plugin(#[from] LoadError),
    /// The `[stripe]` settings cannot make a gateway.
    #[error(transparent)]
    Stripe(#[from] StripeConfigError),
    /// The `[smtp]` settings cannot make a mailer.
    #[error(transparent)]
    Mail(#[from] MailError),
    /// The HTTP server failed.
    #[error("the HTTP server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// A request to the scheduler to tick at a given instant now and report (the test clock's way
/// of moving time).
pub(crate) struct TickRequest {
    pub(crate) at: DateTime<Utc>,
    pub(crate) reply: oneshot::Sender<Result<TickReport, String>>,
}

/// Serves the API on `listener` and runs the scheduler until `shutdown` completes; then stops
/// taking requests, finishes the requests in flight and the current tick, and returns.
pub async fn run(
    listener: TcpListener,
    config: Config,
    clock: Arc<dyn Clock>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let store = Store::connect(&config.database_url).await?;
    let runtime = Arc::new(PluginRuntime::new(config.plugin_limits())?);
    let gateway: Arc<dyn PaymentGateway> = match &config.stripe {
        Some(stripe) => {
            tracing::info!(api_base = stripe.api_base.as_deref().unwrap_or("Stripe"), "payments go to Stripe");
            Arc::new(stripe.gateway()?)
        }
        None => {
            tracing::info!("payments go to the sandbox gateway (no [stripe] configured)");
            Arc::new(SandboxGateway)
        }
    };
    let mailer: Arc<dyn Mailer> = match &config.smtp {
        Some(smtp) => {
            tracing::info!(host = %smtp.host, port = smtp.port, "emails go to the SMTP server");
            Arc::new(smtp.mailer()?)
        }
        None => {
            tracing::info!(dir = %config.outbox_dir.display(), "emails go to the outbox folder (no [smtp] configured)");
            Arc::new(FileOutbox::new(&config.outbox_dir))
        }
    };
    let sender = config.smtp.as_ref().and_then(|smtp| smtp.from.clone());
    let mut engine = Engine::new(store.clone(), runtime.clone(), gateway, mailer, config.scheduler.host_id.clone())?
        .with_sender(sender);
    if let Some(workers) = config.scheduler.run_workers {
        engine.set_run_workers(workers);
    }
    let engine = Arc::new(engine);
    let (tick_tx, tick_rx) = mpsc::channel(4);
    let test_clock = config.testing.simulated_clock && clock.simulated().is_some();
    let state = AppState::new(store, engine.clone(), runtime, clock.clone(), &config, test_clock.then_some(tick_tx));
    let app = api::router(state, &config);

    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutting down: no new requests; finishing the current tick");
        let _ = stop_tx.send(true);
    });
    let interval = Duration::from_secs(config.scheduler.tick_interval_seconds);
    let scheduler = tokio::spawn(scheduler(engine, clock, interval, tick_rx, stop_rx.clone()));
    tracing::info!(address = %listener.local_addr()?, test_clock, "autobill serving");
    let mut http_stop = stop_rx;
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = http_stop.wait_for(|stop| *stop).await;
        })
        .await?;
    let _ = scheduler.await;
    tracing::info!("stopped");
    Ok(())
}

/// Ticks on the interval and on request, one tick at a time; a tick that has started finishes
/// before a shutdown is noticed.
async fn scheduler(
    engine: Arc<Engine>,
    clock: Arc<dyn Clock>,
    interval: Duration,
    mut requests: mpsc::Receiver<TickRequest>,
    mut stop: watch::Receiver<bool>,
) {
    let mut timer = tokio::time::interval(interval);
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let (at, reply) = tokio::select! {
            biased;
            _ = stop.wait_for(|stop| *stop) => break,
            Some(request) = requests.recv() => (request.at, Some(request.reply)),
            _ = timer.tick() => (clock.now(), None),
        };
        let outcome = tick(&engine, at).await;
        if let Some(reply) = reply {
            let _ = reply.send(outcome);
        }
    }
}

async fn tick(engine: &Engine, at: DateTime<Utc>) -> Result<TickReport, String> {
    match engine.tick(at).await {
        Ok(report) => {
            if report != TickReport::default() {
                tracing::info!(
                    at = %at.to_rfc3339(),
                    runs_done = report.runs_done,
                    runs_failed = report.runs_failed,
                    shares = report.shares_handled,
                    "tick"
                );
            }
            Ok(report)
        }
        Err(error) => {
            tracing::error!(at = %at.to_rfc3339(), "tick failed: {error}");
            Err(error.to_string())
        }
    }
}
