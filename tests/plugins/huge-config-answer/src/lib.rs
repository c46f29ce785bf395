//! Test fixture for the host's bound on plugin text: a plugin that fills all three slots and
//! refuses every configuration with a 32 MiB reason, [`PREFIX`] and then `x`s. Its policy
//! functions answer at once: no run dates, no bills or superbills, every document sent.

use autobill_guest::{
    BillCadence, BillPlan, Catalog, ClientBilling, Date, PracticeContext, ServiceLine, ShareDecision, ShareFilter,
    ShareRequest, SuperbillInclusion, SuperbillPlan,
};

/// The fixture policy.
pub struct HugeConfigAnswer;

/// How the reason starts.
pub const PREFIX: &str = "this configuration is refused because ";

/// The size of the reason, in bytes.
pub const SIZE: usize = 32 << 20;

fn refuse() -> Result<(), String> {
    // Filled in place (a memset), so making it costs little of the instruction budget.
    let mut reason = vec![b'x'; SIZE];
    reason[..PREFIX.len()].copy_from_slice(PREFIX.as_bytes());
    Err(String::from_utf8(reason).unwrap_or_default())
}

impl BillCadence for HugeConfigAnswer {
    fn check_config(_: &str) -> Result<(), String> {
        refuse()
    }

    fn bill_run_dates(_: &PracticeContext, _: Date, _: Date) -> Result<Vec<Date>, String> {
        Ok(Vec::new())
    }

    fn group_lines(_: &PracticeContext, _: Date, _: &Catalog, _: &[ServiceLine]) -> Result<Vec<BillPlan>, String> {
        Ok(Vec::new())
    }
}

impl SuperbillInclusion for HugeConfigAnswer {
    fn check_config(_: &str) -> Result<(), String> {
        refuse()
    }

    fn superbill_run_day(_: &PracticeContext, _: i32, _: u8) -> Result<u8, String> {
        Ok(1)
    }

    fn select_lines(
        _: &PracticeContext,
        _: Date,
        _: &[ClientBilling],
        _: &Catalog,
        _: &[ServiceLine],
    ) -> Result<Vec<SuperbillPlan>, String> {
        Ok(Vec::new())
    }
}

impl ShareFilter for HugeConfigAnswer {
    fn check_config(_: &str) -> Result<(), String> {
        refuse()
    }

    fn decide_shares(_: &PracticeContext, requests: &[ShareRequest]) -> Result<Vec<ShareDecision>, String> {
        Ok(requests.iter().map(|_| ShareDecision::Send(0)).collect())
    }
}

#[cfg(target_arch = "wasm32")]
autobill_guest::export_policy!(HugeConfigAnswer: bill_cadence, superbill_inclusion, share_filter);
