//! `autobill token`: make, list and revoke practice API tokens from the command line, with the
//! same rules as the API (a token is shown once; lists show its prefix only).

use super::output;
use super::plugin::DatabaseArg;
use super::practice::Format;
use anyhow::bail;
use autobill::domain::{MAX_TOKEN_NAME_CHARS, NewToken, PracticeId, TokenId, expiry, plain_text};
use autobill::store::tokens::NewApiToken;
use autobill::store::{PageRequest, Store};
use chrono::Utc;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Make a token for a practice; prints it once (only its hash is stored).
    Create {
        /// The practice's id, as `autobill practice list` prints it.
        #[arg(long)]
        practice: PracticeId,
        /// A name to tell it apart, e.g. "front desk".
        #[arg(long, default_value = "")]
        name: String,
        /// Days until it expires, 1 to 3650 (default: it does not expire).
        #[arg(long)]
        expires_in_days: Option<u32>,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// List a practice's tokens: id, name, prefix, made, last used, expiry, revocation.
    List {
        /// The practice's id.
        #[arg(long)]
        practice: PracticeId,
        /// table: aligned columns for people; json: an array of objects for scripts.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Revoke a practice's token: it is refused from the next request on.
    Revoke {
        /// The practice's id.
        #[arg(long)]
        practice: PracticeId,
        /// The token's id, as `autobill token list` prints it.
        #[arg(long)]
        token: TokenId,
        #[command(flatten)]
        database: DatabaseArg,
    },
}

pub async fn run(command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create { practice, name, expires_in_days, database } => {
            let name = name.trim();
            let mut problems = vec![];
            if name.chars().count() > MAX_TOKEN_NAME_CHARS {
                problems.push(format!("--name is longer than {MAX_TOKEN_NAME_CHARS} characters"));
            }
            if let Err(problem) = plain_text("--name", name) {
                problems.push(problem);
            }
            let now = Utc::now();
            let expires_at = expiry(now, expires_in_days)
                .map_err(|problem| problems.push(problem.replace("expires_in_days", "--expires-in-days")))
                .ok()
                .flatten();
            if !problems.is_empty() {
                bail!("{}", problems.join("; "));
            }
            let store = Store::connect(&database.config()?.database_url).await?;
            store.practice(practice).await?;
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes)?;
            let token = NewToken::from_random(bytes);
            let new = NewApiToken { practice, hash: &token.hash, prefix: &token.prefix, name, expires_at };
            let id = store.save_api_token(&new, now).await?;
            output::line(&token.secret)?;
            let expires =
                expires_at.map_or("it does not expire".to_string(), |at| format!("it expires at {}", at.to_rfc3339()));
            output::note(format_args!(
                "token {id} for practice {practice}; {expires}. It is shown only now: store it safely."
            ));
            Ok(())
        }
        TokenCommand::List { practice, format, database } => {
            let store = Store::connect(&database.config()?.database_url).await?;
            store.practice(practice).await?;
            let tokens = store.api_tokens(practice, PageRequest::ALL).await?;
            match format {
                Format::Json => output::line(serde_json::to_string_pretty(&tokens)?),
                Format::Table if tokens.is_empty() => output::line(format_args!(
                    "Practice {practice} has no tokens; make one with `autobill token create --practice {practice}`."
                )),
                Format::Table => {
                    output::line(format_args!(
                        "{:>5}  {:<20}  {:<12}  {:<25}  {:<25}  {:<25}  {}",
                        "ID", "NAME", "PREFIX", "CREATED", "LAST USED", "EXPIRES", "REVOKED"
                    ))?;
                    for token in &tokens {
                        output::line(format_args!(
                            "{:>5}  {:<20}  {:<12}  {:<25}  {:<25}  {:<25}  {}",
                            token.id,
                            token.name,
                            token.prefix,
                            token.created_at,
                            token.last_used_at.as_deref().unwrap_or("-"),
                            token.expires_at.as_deref().unwrap_or("never"),
                            token.revoked_at.as_deref().unwrap_or("-"),
                        ))?;
                    }
                    Ok(())
                }
            }
        }
        TokenCommand::Revoke { practice, token, database } => {
            let store = Store::connect(&database.config()?.database_url).await?;
            if !store.revoke_api_token(practice, token, Utc::now()).await? {
                bail!(
                    "token {token} is not an unrevoked token of practice {practice}; `autobill token list --practice {practice}` lists them"
                );
            }
            output::line(format_args!("revoked token {token} of practice {practice}"))
        }
    }
}
