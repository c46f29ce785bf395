//! Test fixture for the host's fault tests: a bill-cadence plugin whose `group_lines` allocates
//! and writes 1 MiB chunks forever, keeping every chunk, so the host must stop it with its memory
//! limit. `bill_run_dates` answers normally with no dates.

use autobill_guest::{BillCadence, BillPlan, Catalog, Date, PracticeContext, ServiceLine};
use std::hint::black_box;

/// The fixture policy.
pub struct MemoryBomb;

impl BillCadence for MemoryBomb {
    fn bill_run_dates(_: &PracticeContext, _: Date, _: Date) -> Result<Vec<Date>, String> {
        Ok(Vec::new())
    }

    fn group_lines(_: &PracticeContext, _: Date, _: &Catalog, _: &[ServiceLine]) -> Result<Vec<BillPlan>, String> {
        let mut chunks: Vec<Vec<u8>> = Vec::new();
        loop {
            let mut chunk = vec![0u8; 1 << 20];
            chunk.fill(0xA5);
            chunks.push(black_box(chunk));
            black_box(&chunks);
        }
    }
}

#[cfg(target_arch = "wasm32")]
autobill_guest::export_policy!(MemoryBomb: bill_cadence);
