//! `autobill demo`: the sample practice through a month, summarised.

use super::output;
use super::simulate::{simulate_with_progress, simulation_config};
use anyhow::{Context, bail};
use autobill::domain::{Currency, EventKind};
use autobill::scenario;
use autobill::simulate::SimulationOptions;
use chrono::NaiveDate;
use clap::Args;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The demo practice's scenario.
const DEMO_SCENARIO: &str = include_str!("../../demo/lakeside.toml");

#[derive(Args)]
pub struct DemoArgs {
    /// Where the database, emails and summary go; emptied of a previous demo first.
    #[arg(long, default_value = "autobill-demo")]
    out: PathBuf,
}

/// Empties a previous demo's folder, refusing one that holds anything the demo did not write.
fn clear(out: &Path) -> anyhow::Result<()> {
    if !out.exists() {
        return Ok(());
    }
    let entries: Vec<_> =
        std::fs::read_dir(out)?.filter_map(Result::ok).map(|e| e.file_name().to_string_lossy().to_string()).collect();
    let ours = |name: &String| name.starts_with("autobill.db") || name == "outbox" || name == "events.jsonl";
    if let Some(stranger) = entries.iter().find(|name| !ours(name)) {
        bail!("{} holds `{stranger}`, which the demo did not write; choose another --out folder", out.display());
    }
    std::fs::remove_dir_all(out).with_context(|| format!("clearing the previous demo in {}", out.display()))
}

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let out = &args.out;
    clear(out)?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let loaded = scenario::parse("demo/lakeside.toml", DEMO_SCENARIO)?;
    let from = NaiveDate::from_ymd_opt(2026, 1, 1).context("demo start date")?;
    let until = NaiveDate::from_ymd_opt(2026, 2, 2).context("demo end date")?;
    let options = SimulationOptions { from, until, plugins: vec![] };
    let config = simulation_config(None, None, out)?;
    let outbox = config.smtp.is_none().then(|| config.outbox_dir.clone());
    output::line(format_args!(
        "Simulating {} from {from} to {until} (practice time, {})…",
        loaded.scenario.practice.name, loaded.timezone
    ))?;
    let started = std::time::Instant::now();
    let simulation = simulate_with_progress(std::slice::from_ref(&loaded), &options, config)
        .await??
        .pop()
        .context("the demo's simulation gave no practice")?;
    summarise(&simulation.events, loaded.currency)?;
    let mut log = String::new();
    for event in &simulation.events {
        log.push_str(&format!("{}\n", output::event_json(event, simulation.timezone)?));
    }
    std::fs::write(out.join("events.jsonl"), log)?;
    output::line(format_args!("\nEvery event:  {}", out.join("events.jsonl").display()))?;
    if let Some(outbox) = outbox {
        output::line(format_args!("Emails:       {}", outbox.display()))?;
    }
    output::line(format_args!("Database:     {}", out.join("autobill.db").display()))?;
    output::line(format_args!(
        "Simulated {} events in {:.1} s.",
        simulation.events.len(),
        started.elapsed().as_secs_f64()
    ))
}

/// Prints counts and amounts by kind of event, and skips and declines by reason.
fn summarise(events: &[autobill::domain::Event], currency: Currency) -> anyhow::Result<()> {
    let mut counts: BTreeMap<&str, (usize, i64)> = BTreeMap::new();
    let mut skips: BTreeMap<String, usize> = BTreeMap::new();
    let mut declines: BTreeMap<String, usize> = BTreeMap::new();
    for event in events {
        let (name, amount) = match &event.kind {
            EventKind::BillCreated { total, .. } => ("bills created", *total),
            EventKind::BillOpened { .. } => ("bills opened", 0),
            EventKind::BillVoided { .. } => ("bills voided", 0),
            EventKind::ProductAdded { amount, .. } => ("products added", *amount),
            EventKind::SuperbillCreated { total, .. } => ("superbills created", *total),
            EventKind::DocumentShared { .. } => ("documents shared", 0),
            EventKind::ShareSkipped { reason, .. } => {
                *skips.entry(reason.clone()).or_default() += 1;
                ("shares skipped", 0)
            }
            EventKind::PaymentSucceeded { amount, .. } => ("payments taken", *amount),
            EventKind::PaymentFailed { amount, reason, .. } => {
                *declines.entry(reason.clone()).or_default() += 1;
                ("payments failed", *amount)
            }
            EventKind::PaymentDisputed { amount, status, .. } => {
                (if status.is_closed() { "disputes closed" } else { "payments disputed" }, *amount)
            }
            EventKind::PaymentRefunded { amount, .. } => ("payments refunded", *amount),
            EventKind::AutopaySkipped { balance, .. } => ("autopay skipped", *balance),
            EventKind::PaymentSettled { .. } => ("payments settled late", 0),
            EventKind::Warning { .. } => ("warnings", 0),
            EventKind::RunFailed { .. } => ("runs failed", 0),
        };
        let entry = counts.entry(name).or_default();
        entry.0 += 1;
        entry.1 += amount;
    }
    output::line(format_args!("\n{:<20} {:>6} {:>14}", "", "count", "amount"))?;
    for (name, (count, amount)) in &counts {
        let amount = if *amount == 0 { String::new() } else { currency.format(*amount) };
        output::line(format_args!("{name:<20} {count:>6} {amount:>14}"))?;
    }
    output::line("\nShares skipped, by reason:")?;
    for (reason, count) in &skips {
        output::line(format_args!("  {count:>3}  {reason}"))?;
    }
    output::line("Payments failed, by reason:")?;
    for (reason, count) in &declines {
        output::line(format_args!("  {count:>3}  {reason}"))?;
    }
    Ok(())
}
