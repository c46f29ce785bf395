//! `autobill serve`: the scheduler, the share dispatcher and the HTTP API in one process.

use super::{ConfigFile, load_config};
use anyhow::Context;
use autobill::app::App;
use autobill::clock::{Clock, SimulatedClock, SystemClock};
use autobill::config::{Overrides, Use};
use chrono::Utc;
use clap::Args;
use std::sync::Arc;

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    config: ConfigFile,
    /// The address to listen on, e.g. 127.0.0.1:8080.
    #[arg(long)]
    listen: Option<String>,
    /// sqlite://PATH or postgres://USER@HOST:PORT/DB.
    #[arg(long)]
    database_url: Option<String>,
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let overrides = Overrides { listen: args.listen, database_url: args.database_url };
    let config = load_config(args.config.path.as_deref(), &overrides, Use::Serve)?;
    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("listening on {}", config.server.listen))?;
    // The test clock stands at the start time until POST /v1/test/clock moves it on.
    let clock: Arc<dyn Clock> =
        if config.testing.simulated_clock { Arc::new(SimulatedClock::new(Utc::now())) } else { Arc::new(SystemClock) };
    let app = App::start(config, clock).await?;
    autobill::serve::run(listener, app, shutdown_signal()).await?;
    Ok(())
}

/// Completes on SIGTERM or Ctrl-C (SIGINT).
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
}
