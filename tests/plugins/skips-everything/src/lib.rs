//! Test fixture for the conformance kit's overrides: a bill cadence and share filter whose every
//! answer the host accepts, and which does nothing. It has no bill runs, makes no bills and
//! skips every document. It passes the contract, invariants and properties, so only the
//! behaviour cases can catch it, and overriding those cases must not hide it.

use autobill_guest::{
    BillCadence, BillPlan, Catalog, Date, PracticeContext, ServiceLine, ShareDecision, ShareFilter, ShareRequest,
};

/// The fixture policy.
pub struct SkipsEverything;

impl BillCadence for SkipsEverything {
    fn bill_run_dates(_: &PracticeContext, _: Date, _: Date) -> Result<Vec<Date>, String> {
        Ok(vec![])
    }

    fn group_lines(_: &PracticeContext, _: Date, _: &Catalog, _: &[ServiceLine]) -> Result<Vec<BillPlan>, String> {
        Ok(vec![])
    }
}

impl ShareFilter for SkipsEverything {
    fn decide_shares(_: &PracticeContext, requests: &[ShareRequest]) -> Result<Vec<ShareDecision>, String> {
        Ok(requests.iter().map(|_| ShareDecision::Skip("this plugin shares nothing".into())).collect())
    }
}

#[cfg(target_arch = "wasm32")]
autobill_guest::export_policy!(SkipsEverything: bill_cadence, share_filter);
