//! `autobill tick`: everything due by a moment, once, as cron runs it.

use super::{ConfigFile, SmtpArgs, load_config, output};
use autobill::app::App;
use autobill::clock::SystemClock;
use autobill::config::{Overrides, Use};
use chrono::{DateTime, Utc};
use clap::Args;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Args)]
pub struct TickArgs {
    /// sqlite://PATH or postgres://USER@HOST:PORT/DB (default: the configuration's).
    #[arg(long)]
    database_url: Option<String>,
    /// The moment to run up to, RFC 3339 (e.g. 2026-01-06T05:00:00Z); catching up a night that was missed.
    #[arg(long)]
    at: Option<DateTime<Utc>>,
    /// Where emails are written when no SMTP server is configured (the file outbox).
    #[arg(long)]
    outbox: Option<PathBuf>,
    /// This host's name in run claims (default: the process id).
    #[arg(long)]
    host: Option<String>,
    /// How many runs to execute at once (default: 1 on SQLite, 2 on PostgreSQL; at most 4).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=autobill::config::MAX_RUN_WORKERS))]
    run_workers: Option<u64>,
    #[command(flatten)]
    config: ConfigFile,
    #[command(flatten)]
    smtp: SmtpArgs,
}

pub async fn run(args: TickArgs) -> anyhow::Result<()> {
    let overrides = Overrides { database_url: args.database_url, ..Default::default() };
    let mut config = load_config(args.config.path.as_deref(), &overrides, Use::Batch)?;
    if let Some(outbox) = args.outbox {
        config.outbox_dir = outbox;
    }
    if let Some(host) = args.host {
        config.scheduler.host_id = host;
    }
    if let Some(workers) = args.run_workers {
        config.scheduler.run_workers = Some(usize::try_from(workers)?);
    }
    args.smtp.apply(&mut config);
    let app = App::start(config, Arc::new(SystemClock)).await?;
    output::note(format_args!("payments go to {}; emails go to {}", app.payments, app.emails));
    let report = app.engine.tick(args.at.unwrap_or_else(|| app.clock.now())).await?;
    output::line(format_args!(
        "{} runs done, {} failed, {} charges settled, {} deferred, {} shares handled",
        report.runs_done, report.runs_failed, report.charges_settled, report.charges_deferred, report.shares_handled
    ))
}
