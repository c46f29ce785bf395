//! An autopay policy (contract 0.2's `autopay-selection` slot) with the rules practices ask for.
//! Of the open bills tonight's autopay may charge, in the order the host gives them:
//!
//! - a client who has disputed a payment with their bank is not charged (unless
//!   `charge_disputed_clients` is `true`);
//! - a bill younger than `min_age_days` whole days (practice-local) waits;
//! - a balance under `min_balance` (minor units) is left for the client to pay by hand;
//! - no client is charged more than `nightly_cap` (minor units) in one night: a bill that would
//!   go over it is charged what is left under the cap, and the rest another night.
//!
//! Every bill not charged is skipped with a reason staff see. The configuration, every key
//! optional (an empty configuration charges every balance in full, except to clients who
//! disputed a payment):
//!
//! ```json
//! {"min_balance": 500, "min_age_days": 3, "nightly_cap": 50000, "charge_disputed_clients": false}
//! ```

use autobill_guest::{AutopayCandidate, AutopayDecision, AutopaySelection, PracticeContext, config};
use serde::Deserialize;
use std::collections::HashMap;

/// The policy; see the crate docs.
pub struct AutopayRules;

/// The plugin's configuration.
#[derive(Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The smallest balance charged, in minor units.
    #[serde(default)]
    pub min_balance: i64,
    /// The fewest whole days a bill waits before it is charged.
    #[serde(default)]
    pub min_age_days: u32,
    /// The most charged to one client in one night, in minor units.
    #[serde(default)]
    pub nightly_cap: Option<i64>,
    /// Whether clients who disputed a payment are charged all the same.
    #[serde(default)]
    pub charge_disputed_clients: bool,
}

impl Config {
    /// Reads and checks the configuration; an error says what is wrong.
    pub fn read(text: &str) -> Result<Config, String> {
        let trimmed = text.trim();
        if !(trimmed.is_empty() || trimmed.starts_with('{')) {
            return Err("the plugin configuration must be a JSON object, e.g. {\"min_balance\": 500}".to_string());
        }
        let parsed: Config = config::parse(text)?;
        if parsed.min_balance < 0 {
            return Err(format!("min_balance is {}; it must be 0 or more", parsed.min_balance));
        }
        if let Some(cap) = parsed.nightly_cap
            && cap <= 0
        {
            return Err(format!("nightly_cap is {cap}; it must be more than 0 (leave it out for no cap)"));
        }
        Ok(parsed)
    }
}

/// An amount in minor units as people read it in `currency`: `3.00 USD`, `500 JPY`.
pub fn show_amount(amount: i64, currency: &str) -> String {
    const NO_MINOR_UNIT: [&str; 16] = [
        "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF",
    ];
    if NO_MINOR_UNIT.contains(&currency) {
        return format!("{amount} {currency}");
    }
    let sign = if amount < 0 { "-" } else { "" };
    let amount = amount.unsigned_abs();
    format!("{sign}{}.{:02} {currency}", amount / 100, amount % 100)
}

impl AutopaySelection for AutopayRules {
    fn check_config(config: &str) -> Result<(), String> {
        Config::read(config).map(|_| ())
    }

    fn select_charges(
        practice: &PracticeContext,
        candidates: &[AutopayCandidate],
    ) -> Result<Vec<AutopayDecision>, String> {
        let config = Config::read(&practice.config)?;
        let money = |amount| show_amount(amount, &practice.currency);
        let mut charged: HashMap<u64, i64> = HashMap::new();
        Ok(candidates
            .iter()
            .map(|candidate| {
                if candidate.client_disputed && !config.charge_disputed_clients {
                    return AutopayDecision::Skip(
                        "the client has disputed a payment: autopay waits until staff have spoken with them".into(),
                    );
                }
                if candidate.age_days < config.min_age_days {
                    return AutopayDecision::Skip(format!(
                        "the bill is {} days old; autopay charges bills from {} days",
                        candidate.age_days, config.min_age_days
                    ));
                }
                if candidate.balance < config.min_balance {
                    return AutopayDecision::Skip(format!(
                        "the balance of {} is under the minimum of {} that autopay charges",
                        money(candidate.balance),
                        money(config.min_balance)
                    ));
                }
                let so_far = charged.entry(candidate.client_id).or_default();
                let room = config.nightly_cap.map_or(candidate.balance, |cap| (cap - *so_far).min(candidate.balance));
                if room <= 0 {
                    return AutopayDecision::Skip(format!(
                        "the client was charged the nightly cap of {} already tonight",
                        money(config.nightly_cap.unwrap_or_default())
                    ));
                }
                *so_far += room;
                AutopayDecision::Charge(room)
            })
            .collect())
    }
}

#[cfg(target_arch = "wasm32")]
autobill_guest::export_policy!(AutopayRules: autopay_selection);

#[cfg(test)]
mod tests;
