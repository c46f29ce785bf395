//! `autobill practice`: create a practice and list them, with the same checks as the API, so an
//! operator can set one up (and `plugin assign` to it) without the HTTP API.

use super::output;
use super::plugin::DatabaseArg;
use anyhow::bail;
use autobill::domain::{AutomationSettings, Currency, NewPractice, parse_timezone, practice_name};
use autobill::store::Store;
use chrono::Utc;
use clap::{Subcommand, ValueEnum};

#[derive(Subcommand)]
pub enum PracticeCommand {
    /// Create a practice; prints its id. Its automation settings start at the defaults (daily
    /// bills, superbill day 1, no sharing, no autopay); change them through the API or console.
    Create {
        /// The practice's name.
        #[arg(long)]
        name: String,
        /// Its IANA time zone, e.g. America/New_York.
        #[arg(long)]
        timezone: String,
        /// Its ISO 4217 currency (default USD).
        #[arg(long, default_value = "USD")]
        currency: String,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// List the practices: id, name, time zone and currency.
    List {
        /// table: aligned columns for people; json: an array of objects for scripts.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        #[command(flatten)]
        database: DatabaseArg,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

pub async fn run(command: PracticeCommand) -> anyhow::Result<()> {
    match command {
        PracticeCommand::Create { name, timezone, currency, database } => {
            let mut problems = vec![];
            let name = practice_name(&name).map_err(|problem| problems.push(format!("--{problem}")));
            let timezone = parse_timezone(&timezone).map_err(|problem| problems.push(format!("--timezone: {problem}")));
            let currency = currency.parse::<Currency>().map_err(|error| problems.push(format!("--currency: {error}")));
            let (Ok(name), Ok(timezone), Ok(currency)) = (name, timezone, currency) else {
                bail!("{}", problems.join("; "))
            };
            let store = Store::connect(&database.config()?.database_url).await?;
            let new = NewPractice {
                name,
                timezone,
                currency,
                automation: AutomationSettings::default(),
                ..Default::default()
            };
            let id = store.create_practice(&new, Utc::now()).await?;
            output::line(format_args!("created practice {id} `{}` ({timezone}, {currency})", new.name))?;
            output::line(format_args!(
                "Assign a plugin to it with `autobill plugin assign --practice {id} --slot SLOT --plugin ID`."
            ))
        }
        PracticeCommand::List { format, database } => {
            let store = Store::connect(&database.config()?.database_url).await?;
            let practices = store.practices().await?;
            match format {
                Format::Json => {
                    let rows: Vec<serde_json::Value> = practices
                        .iter()
                        .map(|practice| {
                            serde_json::json!({
                                "id": practice.id,
                                "name": practice.name,
                                "timezone": practice.timezone.name(),
                                "currency": practice.currency,
                            })
                        })
                        .collect();
                    output::line(serde_json::to_string_pretty(&rows)?)
                }
                Format::Table if practices.is_empty() => {
                    output::line("No practices yet; create one with `autobill practice create --name … --timezone …`.")
                }
                Format::Table => {
                    output::line(format_args!("{:>6}  {:<32}  {:<24}  {}", "ID", "NAME", "TIME ZONE", "CURRENCY"))?;
                    for practice in &practices {
                        output::line(format_args!(
                            "{:>6}  {:<32}  {:<24}  {}",
                            practice.id,
                            practice.name,
                            practice.timezone.name(),
                            practice.currency
                        ))?;
                    }
                    Ok(())
                }
            }
        }
    }
}
