//! The autopay-selection slot: which of tonight's open bills the nightly autopay charges, and how
//! much.
//!
//! As autobill does by default: every open balance is charged in full. The host asks only about
//! bills it would charge tonight (the client's autopay is on, a card is on file, no attempt is
//! pending or was made tonight), and refuses a charge of 0 or more than the balance.

use crate::{{Type}};
use autobill_guest::{AutopayCandidate, AutopayDecision, AutopaySelection, PracticeContext};

impl AutopaySelection for {{Type}} {
    fn check_config(config: &str) -> Result<(), String> {
        autobill_guest::config::expect_empty(config)
    }

    fn select_charges(
        _practice: &PracticeContext,
        candidates: &[AutopayCandidate],
    ) -> Result<Vec<AutopayDecision>, String> {
        Ok(candidates.iter().map(|candidate| AutopayDecision::Charge(candidate.balance)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use autobill_guest::{AutomationSettings, BillCreation};

    fn practice() -> PracticeContext {
        PracticeContext {
            practice_id: 1,
            timezone: "America/New_York".into(),
            currency: "USD".into(),
            automation: AutomationSettings {
                bill_creation: BillCreation::Monthly,
                superbill_day: 1,
                share_by_default: true,
                share_delay_minutes: 60,
                autopay: true,
            },
            config: String::new(),
        }
    }

    fn candidate(bill_id: u64, balance: i64) -> AutopayCandidate {
        AutopayCandidate {
            bill_id,
            client_id: 7,
            balance,
            age_days: 0,
            attempts: 0,
            last_decline_code: None,
            client_disputed: false,
        }
    }

    #[test]
    fn every_open_balance_is_charged_in_full() {
        let decisions = {{Type}}::select_charges(&practice(), &[candidate(1, 300), candidate(2, 15_000)]).unwrap();
        assert_eq!(decisions, [AutopayDecision::Charge(300), AutopayDecision::Charge(15_000)]);
    }
}
