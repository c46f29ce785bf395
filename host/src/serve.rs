//! `autobill serve`: one process that runs the scheduler loop (every due run and share, on an
//! interval, against the application's [`Clock`]) and the HTTP API over one [`App`], with a
//! graceful shutdown: on the signal it stops taking requests, lets requests in flight and
//! the current tick finish, and returns.
//!
//! Connections are bounded: at most `max_connections` open at once (more wait in the listen
//! backlog), headers must arrive within `header_read_timeout`, and at shutdown connections
//! still open after `shutdown_timeout` are closed, so a slow or stalled client never keeps the
//! process alive. The request deadline and the body-read timeout are layers of the router.

use crate::api::{self, AppState, TickRequest};
use crate::app::App;
use crate::clock::Clock;
use crate::config::ServerConfig;
use crate::engine::{Engine, TickReport};
use axum::Router;
use chrono::{DateTime, Utc};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinSet;

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
    serve_http(listener, router, &config.server, stop_rx).await;
    let _ = scheduler.await;
    tracing::info!("stopped");
    Ok(())
}

/// Accepts connections until `stop`, each served by hyper under the server's limits; then lets
/// requests in flight finish for at most the shutdown timeout and closes what is still open.
async fn serve_http(listener: TcpListener, router: Router, limits: &ServerConfig, mut stop: watch::Receiver<bool>) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    loop {
        let slot = tokio::select! {
            biased;
            () = stopping(&mut stop) => break,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            biased;
            () = stopping(&mut stop) => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of file descriptors or a connection reset before it was accepted:
                    // pause rather than spin, as the error will often repeat at once.
                    tracing::warn!("accepting a connection failed: {error}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(router.clone()));
        let connection = graceful.watch(connection);
        connections.spawn(async move {
            let _ = connection.await;
            drop(slot);
        });
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_timeout, graceful.shutdown()).await.is_err() {
        tracing::warn!(
            open = connections.len(),
            "closing the connections still open {} s after the shutdown signal",
            limits.shutdown_timeout.as_secs()
        );
    }
    connections.shutdown().await;
}

/// Completes once `stop` says so (or its sender is gone).
async fn stopping(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
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
