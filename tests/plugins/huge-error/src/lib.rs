//! Test fixture for the host's bound on plugin text: a plugin that fills all three slots and
//! fails every policy function but `bill_run_dates` with a 1 MiB reason, [`PREFIX`] and then
//! `x`s. `bill_run_dates` answers every day, so as a bill cadence its runs are due and fail (the
//! reason is stored with the run); `check_config` accepts an empty configuration, so the plugin
//! can be assigned.

use autobill_guest::date::each_day;
use autobill_guest::{
    BillCadence, BillPlan, Catalog, ClientBilling, Date, PracticeContext, ServiceLine, ShareDecision, ShareFilter,
    ShareRequest, SuperbillInclusion, SuperbillPlan,
};

/// The fixture policy.
pub struct HugeError;

/// How the reason starts.
pub const PREFIX: &str = "a very long reason: ";

/// The size of the reason, in bytes.
pub const SIZE: usize = 1 << 20;

fn huge<T>() -> Result<T, String> {
    // Filled in place (a memset), so making it costs little of the instruction budget.
    let mut reason = vec![b'x'; SIZE];
    reason[..PREFIX.len()].copy_from_slice(PREFIX.as_bytes());
    Err(String::from_utf8(reason).unwrap_or_default())
}

impl BillCadence for HugeError {
    fn bill_run_dates(_: &PracticeContext, first: Date, last: Date) -> Result<Vec<Date>, String> {
        Ok(each_day(first, last).collect())
    }

    fn group_lines(_: &PracticeContext, _: Date, _: &Catalog, _: &[ServiceLine]) -> Result<Vec<BillPlan>, String> {
        huge()
    }
}

impl SuperbillInclusion for HugeError {
    fn superbill_run_day(_: &PracticeContext, _: i32, _: u8) -> Result<u8, String> {
        huge()
    }

    fn select_lines(
        _: &PracticeContext,
        _: Date,
        _: &[ClientBilling],
        _: &Catalog,
        _: &[ServiceLine],
    ) -> Result<Vec<SuperbillPlan>, String> {
        huge()
    }
}

impl ShareFilter for HugeError {
    fn decide_shares(_: &PracticeContext, _: &[ShareRequest]) -> Result<Vec<ShareDecision>, String> {
        huge()
    }
}

#[cfg(target_arch = "wasm32")]
autobill_guest::export_policy!(HugeError: bill_cadence, superbill_inclusion, share_filter);
