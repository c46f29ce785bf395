//! `autobill:policy@0.2.x`, the newest contract: its types are the ones the host uses throughout.

#[allow(missing_docs)]
mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit/since_v0.2.0",
        world: "all-policies",
        additional_derives: [PartialEq, Eq, Hash],
    });
}

pub use bindings::autobill::policy::types;

use super::CallResult;
use crate::domain::Slot;
use crate::plugin::sandbox::Sandbox;
use bindings::exports::autobill::policy::{autopay_selection, bill_cadence, share_filter, superbill_inclusion};
use types::{
    AutopayCandidate, AutopayDecision, BillPlan, Catalog, ClientBilling, Date, PracticeContext, ServiceLine,
    ShareDecision, ShareRequest, SuperbillPlan,
};
use wasmtime::Store;
use wasmtime::component::{Instance, InstancePre};

/// A 0.2 component's policy exports.
pub struct Exports {
    cadence: Option<bill_cadence::GuestIndices>,
    superbill: Option<superbill_inclusion::GuestIndices>,
    share: Option<share_filter::GuestIndices>,
    autopay: Option<autopay_selection::GuestIndices>,
}

impl Exports {
    pub(super) fn new(pre: &InstancePre<Sandbox>) -> Self {
        Exports {
            cadence: bill_cadence::GuestIndices::new(pre).ok(),
            superbill: superbill_inclusion::GuestIndices::new(pre).ok(),
            share: share_filter::GuestIndices::new(pre).ok(),
            autopay: autopay_selection::GuestIndices::new(pre).ok(),
        }
    }

    pub(super) fn fills(&self, slot: Slot) -> bool {
        match slot {
            Slot::BillCadence => self.cadence.is_some(),
            Slot::SuperbillInclusion => self.superbill.is_some(),
            Slot::ShareFilter => self.share.is_some(),
            Slot::AutopaySelection => self.autopay.is_some(),
        }
    }

    pub(super) fn check_config(
        &self,
        store: &mut Store<Sandbox>,
        instance: &Instance,
        slot: Slot,
        config: &str,
    ) -> CallResult<()> {
        match slot {
            Slot::BillCadence => {
                export(&self.cadence, slot)?.load(&mut *store, instance)?.call_check_config(store, config)
            }
            Slot::SuperbillInclusion => {
                export(&self.superbill, slot)?.load(&mut *store, instance)?.call_check_config(store, config)
            }
            Slot::ShareFilter => {
                export(&self.share, slot)?.load(&mut *store, instance)?.call_check_config(store, config)
            }
            Slot::AutopaySelection => {
                export(&self.autopay, slot)?.load(&mut *store, instance)?.call_check_config(store, config)
            }
        }
    }

    pub(super) fn bill_run_dates(
        &self,
        store: &mut Store<Sandbox>,
        instance: &Instance,
        practice: &PracticeContext,
        first: Date,
        last: Date,
    ) -> CallResult<Vec<Date>> {
        export(&self.cadence, Slot::BillCadence)?
            .load(&mut *store, instance)?
            .call_bill_run_dates(store, practice, first, last)
    }

    pub(super) fn group_lines(
        &self,
        store: &mut Store<Sandbox>,
        instance: &Instance,
        practice: &PracticeContext,
        run_date: Date,
        catalog: &Catalog,
        lines: &[ServiceLine],
    ) -> CallResult<Vec<BillPlan>> {
        export(&self.cadence, Slot::BillCadence)?
            .load(&mut *store, instance)?
            .call_group_lines(store, practice, run_date, catalog, lines)
    }

    pub(super) fn superbill_run_day(
        &self,
        store: &mut Store<Sandbox>,
        instance: &Instance,
        practice: &PracticeContext,
        year: i32,
        month: u8,
    ) -> CallResult<u8> {
        export(&self.superbill, Slot::SuperbillInclusion)?
            .load(&mut *store, instance)?
            .call_superbill_run_day(store, practice, year, month)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn select_lines(
        &self,
        store: &mut Store<Sandbox>,
        instance: &Instance,
        practice: &PracticeContext,
        run_date: Date,
        clients: &[ClientBilling],
        catalog: &Catalog,
        lines: &[ServiceLine],
    ) -> CallResult<Vec<SuperbillPlan>> {
        export(&self.superbill, Slot::SuperbillInclusion)?
            .load(&mut *store, instance)?
            .call_select_lines(store, practice, run_date, clients, catalog, lines)
    }

    pub(super) fn decide_shares(
        &self,
        store: &mut Store<Sandbox>,
        instance: &Instance,
        practice: &PracticeContext,
        requests: &[ShareRequest],
    ) -> CallResult<Vec<ShareDecision>> {
        export(&self.share, Slot::ShareFilter)?
            .load(&mut *store, instance)?
            .call_decide_shares(store, practice, requests)
    }

    pub(super) fn select_charges(
        &self,
        store: &mut Store<Sandbox>,
        instance: &Instance,
        practice: &PracticeContext,
        candidates: &[AutopayCandidate],
    ) -> CallResult<Vec<AutopayDecision>> {
        export(&self.autopay, Slot::AutopaySelection)?
            .load(&mut *store, instance)?
            .call_select_charges(store, practice, candidates)
    }
}

fn export<T>(indices: &Option<T>, slot: Slot) -> wasmtime::Result<&T> {
    indices.as_ref().ok_or_else(|| super::missing(slot))
}
