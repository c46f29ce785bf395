//! Test fixture for the host's fault tests: a bill-cadence plugin whose `group_lines` loops
//! forever, so the host must stop it with its time (fuel/epoch) limit. `bill_run_dates` answers
//! normally with no dates.

use autobill_guest::{BillCadence, BillPlan, Catalog, Date, PracticeContext, ServiceLine};
use std::hint::black_box;

/// The fixture policy.
pub struct EndlessLoop;

impl BillCadence for EndlessLoop {
    fn bill_run_dates(_: &PracticeContext, _: Date, _: Date) -> Result<Vec<Date>, String> {
        Ok(Vec::new())
    }

    fn group_lines(_: &PracticeContext, _: Date, _: &Catalog, _: &[ServiceLine]) -> Result<Vec<BillPlan>, String> {
        let mut count: u64 = 0;
        loop {
            count = black_box(count.wrapping_add(1));
        }
    }
}

#[cfg(target_arch = "wasm32")]
autobill_guest::export_policy!(EndlessLoop: bill_cadence);
