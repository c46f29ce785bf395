//! A share filter that emails **superbills only**. Bills are never emailed automatically: each is
//! skipped with a reason staff see, so a person sends it (or not) themselves.
//!
//! Superbills are emailed under the same client checks as autobill's default policy: the client's
//! automatic sharing switch is on, an email address is on file, the client's communication
//! preferences allow billing email, and the superbill is not void.
//!
//! A superbill is emailed after the practice's share delay, unless the plugin's configuration sets
//! its own:
//!
//! ```json
//! {"delay_minutes": 1440}
//! ```
//!
//! `delay_minutes` is 0 to 10,080 (one week). An empty configuration (`""` or `{}`) uses the
//! practice's delay.

use autobill_guest::{DocumentKind, DocumentStatus, PracticeContext, ShareDecision, ShareFilter, ShareRequest, config};
use serde::Deserialize;

/// The policy; see the crate docs.
pub struct SuperbillsOnly;

/// The longest delay the plugin may be configured with, in minutes: one week.
pub const MAX_DELAY_MINUTES: i64 = 10_080;

/// Why a document is not emailed: the reasons staff see on a skipped share.
pub mod skip_reason {
    /// The document is a bill: this practice emails superbills only.
    pub const BILL: &str =
        "bills are not emailed automatically at this practice (superbills only): send it by hand if needed";
    /// The client's own automatic sharing switch is off.
    pub const SHARING_OFF: &str = "automatic sharing is off for this client";
    /// The client has no email address on file.
    pub const NO_EMAIL: &str = "no email address on file";
    /// The client's communication preferences turn billing email off.
    pub const EMAIL_OFF: &str = "email is turned off in the client's communication preferences";
    /// The document was voided.
    pub const VOID: &str = "the document is void";
}

/// The plugin's configuration.
#[derive(Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Minutes between a superbill's creation and its email; the practice's share delay if absent.
    #[serde(default)]
    pub delay_minutes: Option<i64>,
}

impl Config {
    /// Reads and checks the configuration; an error says what is wrong.
    pub fn read(config: &str) -> Result<Config, String> {
        // serde reads a struct from a JSON array too (`[60]`); accept objects only.
        let text = config.trim();
        if !(text.is_empty() || text.starts_with('{')) {
            return Err("the plugin configuration must be a JSON object, e.g. {\"delay_minutes\": 60}".to_string());
        }
        let parsed: Config = config::parse(config)?;
        if let Some(minutes) = parsed.delay_minutes
            && !(0..=MAX_DELAY_MINUTES).contains(&minutes)
        {
            return Err(format!("delay_minutes is {minutes}; it must be 0 to {MAX_DELAY_MINUTES} (one week)"));
        }
        Ok(parsed)
    }

    /// The delay for superbills at `practice`, in minutes.
    pub fn delay(&self, practice: &PracticeContext) -> Result<u32, String> {
        match self.delay_minutes {
            Some(minutes) => {
                u32::try_from(minutes).map_err(|_| format!("delay_minutes is {minutes}; it must be 0 or more"))
            }
            None => Ok(practice.automation.share_delay_minutes),
        }
    }
}

impl ShareFilter for SuperbillsOnly {
    fn check_config(config: &str) -> Result<(), String> {
        Config::read(config).map(|_| ())
    }

    fn decide_shares(practice: &PracticeContext, requests: &[ShareRequest]) -> Result<Vec<ShareDecision>, String> {
        let delay = Config::read(&practice.config)?.delay(practice)?;
        Ok(requests.iter().map(|request| decide(request, delay)).collect())
    }
}

fn decide(request: &ShareRequest, delay: u32) -> ShareDecision {
    let client = &request.client;
    let reason = if request.document.kind == DocumentKind::Bill {
        skip_reason::BILL
    } else if request.document.status == DocumentStatus::Void {
        skip_reason::VOID
    } else if !client.auto_share {
        skip_reason::SHARING_OFF
    } else if !client.email_on_file {
        skip_reason::NO_EMAIL
    } else if !client.email_allowed {
        skip_reason::EMAIL_OFF
    } else {
        return ShareDecision::Send(delay);
    };
    ShareDecision::Skip(reason.to_string())
}

#[cfg(target_arch = "wasm32")]
autobill_guest::export_policy!(SuperbillsOnly: share_filter);

#[cfg(test)]
mod tests;
