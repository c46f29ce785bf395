//! Test fixture for the host's time limit: a plugin that fills all three slots and, in each
//! policy function, blocks forever: it subscribes to the WASI monotonic clock for the longest
//! duration there is and waits on that subscription with `wasi:io/poll` (what
//! `std::thread::sleep(Duration::MAX)` does on `wasm32-wasip2`). It spends no instructions while
//! it waits, so only a wall-clock bound stops it. `check_config` answers at once.

use autobill_guest::{
    BillCadence, BillPlan, Catalog, ClientBilling, Date, PracticeContext, ServiceLine, ShareDecision, ShareFilter,
    ShareRequest, SuperbillInclusion, SuperbillPlan,
};
use std::time::Duration;

/// The fixture policy.
pub struct ForeverPoll;

/// Waits on a clock subscription that never fires.
fn block_forever() -> ! {
    loop {
        std::thread::sleep(Duration::MAX);
    }
}

impl BillCadence for ForeverPoll {
    fn bill_run_dates(_: &PracticeContext, _: Date, _: Date) -> Result<Vec<Date>, String> {
        block_forever()
    }

    fn group_lines(_: &PracticeContext, _: Date, _: &Catalog, _: &[ServiceLine]) -> Result<Vec<BillPlan>, String> {
        block_forever()
    }
}

impl SuperbillInclusion for ForeverPoll {
    fn superbill_run_day(_: &PracticeContext, _: i32, _: u8) -> Result<u8, String> {
        block_forever()
    }

    fn select_lines(
        _: &PracticeContext,
        _: Date,
        _: &[ClientBilling],
        _: &Catalog,
        _: &[ServiceLine],
    ) -> Result<Vec<SuperbillPlan>, String> {
        block_forever()
    }
}

impl ShareFilter for ForeverPoll {
    fn decide_shares(_: &PracticeContext, _: &[ShareRequest]) -> Result<Vec<ShareDecision>, String> {
        block_forever()
    }
}

#[cfg(target_arch = "wasm32")]
autobill_guest::export_policy!(ForeverPoll: bill_cadence, superbill_inclusion, share_filter);
