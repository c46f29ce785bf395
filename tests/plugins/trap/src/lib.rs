//! Test fixture for the host's fault tests: a plugin that fills all three slots and panics with
//! "deliberate failure" in every function, `check_config` included, so the host sees a trap
//! wherever it calls in.

use autobill_guest::{
    BillCadence, BillPlan, Catalog, ClientBilling, Date, PracticeContext, ServiceLine, ShareDecision, ShareFilter,
    ShareRequest, SuperbillInclusion, SuperbillPlan,
};

/// The fixture policy.
pub struct Trap;

impl BillCadence for Trap {
    fn check_config(_: &str) -> Result<(), String> {
        panic!("deliberate failure")
    }

    fn bill_run_dates(_: &PracticeContext, _: Date, _: Date) -> Result<Vec<Date>, String> {
        panic!("deliberate failure")
    }

    fn group_lines(_: &PracticeContext, _: Date, _: &Catalog, _: &[ServiceLine]) -> Result<Vec<BillPlan>, String> {
        panic!("deliberate failure")
    }
}

impl SuperbillInclusion for Trap {
    fn check_config(_: &str) -> Result<(), String> {
        panic!("deliberate failure")
    }

    fn superbill_run_day(_: &PracticeContext, _: i32, _: u8) -> Result<u8, String> {
        panic!("deliberate failure")
    }

    fn select_lines(
        _: &PracticeContext,
        _: Date,
        _: &[ClientBilling],
        _: &Catalog,
        _: &[ServiceLine],
    ) -> Result<Vec<SuperbillPlan>, String> {
        panic!("deliberate failure")
    }
}

impl ShareFilter for Trap {
    fn check_config(_: &str) -> Result<(), String> {
        panic!("deliberate failure")
    }

    fn decide_shares(_: &PracticeContext, _: &[ShareRequest]) -> Result<Vec<ShareDecision>, String> {
        panic!("deliberate failure")
    }
}

#[cfg(target_arch = "wasm32")]
autobill_guest::export_policy!(Trap: bill_cadence, superbill_inclusion, share_filter);
