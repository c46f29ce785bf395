//! `autobill serve`: one process that runs the scheduler loop (every due run and share, on an
//! interval, against the application's [`Clock`]) and the HTTP API over one [`App`], with a
//! graceful shutdown: on the signal it stops taking requests, lets requests in flight and
//! the current tick finish, and returns.

use crate::api::{self, AppState, TickRequest};
use crate::app::App;
use crate::clock::Clock;
use crate::engine::{Engine, TickReport};
use chrono::{DateTime, Utc};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

/// Why `serve` stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The HTTP server failed.
    #[error("the HTTP server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves the API on `listener` and runs the scheduler until `shutdown` completes; then stops
/// taking requests, finishes the requests in flight and the current tick, and returns.
pub async fn run(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    tracing::info!(payments = %app.payments, emails = %app.emails, "serving");
    let (tick_tx, tick_rx) = mpsc::channel(4);
    let test_clock = app.config.testing.simulated_clock && app.clock.simulated().is_some();
    let interval = Duration::from_secs(app.config.scheduler.tick_interval_seconds);
    let engine = app.engine.clone();
    let clock = app.clock.clone();
    let config = app.config.clone();
    let state = AppState::new(&app, test_clock.then_some(tick_tx));
    let router = api::router(state, &config);

    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!("shutting down: no new requests; finishing the current tick");
        let _ = stop_tx.send(true);
    });
    let scheduler = tokio::spawn(scheduler(engine, clock, interval, tick_rx, stop_rx.clone()));
    tracing::info!(address = %listener.local_addr()?, test_clock, "autobill serving");
    let mut http_stop = stop_rx;
    axum::serve(listener, router)
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
                    charges_settled = report.charges_settled,
                    charges_deferred = report.charges_deferred,
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
