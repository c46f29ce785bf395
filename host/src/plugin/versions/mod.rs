//! The contract versions this host serves side by side, one module each, as Zed serves its
//! extension API versions: each module binds its own released WIT folder, and an older version's
//! calls take the newest version's types, converted both ways at the boundary. The engine only ever
//! sees the newest types ([`super::policy`]).
//!
//! - [`v0_2`]: `autobill:policy@0.2.x`, the newest: four slots, autopay selection among them.
//! - [`v0_1`]: `autobill:policy@0.1.x`: three slots; a 0.1 plugin never fills autopay selection,
//!   so practices using one get the default autopay selection.

pub mod v0_1;
pub mod v0_2;

use super::policy::{
    AutopayCandidate, AutopayDecision, BillPlan, Catalog, ClientBilling, Date, PracticeContext, ServiceLine,
    ShareDecision, ShareRequest, SuperbillPlan,
};
use super::sandbox::Sandbox;
use crate::domain::Slot;
use wasmtime::Store;
use wasmtime::component::{Instance, InstancePre};

/// A contract version this host serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContractVersion {
    /// `autobill:policy@0.1.x`.
    V0_1,
    /// `autobill:policy@0.2.x`.
    V0_2,
}

impl ContractVersion {
    /// Every served version, oldest first.
    pub const ALL: [ContractVersion; 2] = [ContractVersion::V0_1, ContractVersion::V0_2];

    /// The served version `version` (`major.minor.patch`) belongs to: every patch release of a
    /// served minor version, since 0.x releases may change records between minor versions.
    pub fn of(version: &str) -> Option<ContractVersion> {
        let mut parts = version.split('.');
        let (Some(major), Some(minor), Some(patch), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        patch.parse::<u32>().ok()?;
        match (major, minor) {
            ("0", "1") => Some(ContractVersion::V0_1),
            ("0", "2") => Some(ContractVersion::V0_2),
            _ => None,
        }
    }
}

/// A component gave an answer its contract version allows but the newest cannot hold (a 0.1
/// share delay below zero, say): the call fails as an invalid decision.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UnconvertibleAnswer(pub String);

/// The policy exports of a loaded component, in the bindings of the version it was built for.
pub(super) enum Exports {
    /// A 0.1 component.
    V0_1(v0_1::Exports),
    /// A 0.2 component.
    V0_2(v0_2::Exports),
}

/// What a call into a component gives: a trap or host failure, or the policy's own answer.
pub(super) type CallResult<T> = wasmtime::Result<Result<T, String>>;

impl Exports {
    /// The exports of `pre`, bound as `version`.
    pub(super) fn new(version: ContractVersion, pre: &InstancePre<Sandbox>) -> Self {
        match version {
            ContractVersion::V0_1 => Exports::V0_1(v0_1::Exports::new(pre)),
            ContractVersion::V0_2 => Exports::V0_2(v0_2::Exports::new(pre)),
        }
    }

    /// Whether the component fills `slot`.
    pub(super) fn fills(&self, slot: Slot) -> bool {
        match self {
            Exports::V0_1(exports) => exports.fills(slot),
            Exports::V0_2(exports) => exports.fills(slot),
        }
    }

    pub(super) fn check_config(
        &self,
        store: &mut Store<Sandbox>,
        instance: &Instance,
        slot: Slot,
        config: &str,
    ) -> CallResult<()> {
        match self {
            Exports::V0_1(exports) => exports.check_config(store, instance, slot, config),
            Exports::V0_2(exports) => exports.check_config(store, instance, slot, config),
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
        match self {
            Exports::V0_1(exports) => exports.bill_run_dates(store, instance, practice, first, last),
            Exports::V0_2(exports) => exports.bill_run_dates(store, instance, practice, first, last),
        }
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
        match self {
            Exports::V0_1(exports) => exports.group_lines(store, instance, practice, run_date, catalog, lines),
            Exports::V0_2(exports) => exports.group_lines(store, instance, practice, run_date, catalog, lines),
        }
    }

    pub(super) fn superbill_run_day(
        &self,
        store: &mut Store<Sandbox>,
        instance: &Instance,
        practice: &PracticeContext,
        year: i32,
        month: u8,
    ) -> CallResult<u8> {
        match self {
            Exports::V0_1(exports) => exports.superbill_run_day(store, instance, practice, year, month),
            Exports::V0_2(exports) => exports.superbill_run_day(store, instance, practice, year, month),
        }
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
        match self {
            Exports::V0_1(exports) => {
                exports.select_lines(store, instance, practice, run_date, clients, catalog, lines)
            }
            Exports::V0_2(exports) => {
                exports.select_lines(store, instance, practice, run_date, clients, catalog, lines)
            }
        }
    }

    pub(super) fn decide_shares(
        &self,
        store: &mut Store<Sandbox>,
        instance: &Instance,
        practice: &PracticeContext,
        requests: &[ShareRequest],
    ) -> CallResult<Vec<ShareDecision>> {
        match self {
            Exports::V0_1(exports) => exports.decide_shares(store, instance, practice, requests),
            Exports::V0_2(exports) => exports.decide_shares(store, instance, practice, requests),
        }
    }

    pub(super) fn select_charges(
        &self,
        store: &mut Store<Sandbox>,
        instance: &Instance,
        practice: &PracticeContext,
        candidates: &[AutopayCandidate],
    ) -> CallResult<Vec<AutopayDecision>> {
        match self {
            Exports::V0_1(_) => Err(missing(Slot::AutopaySelection)),
            Exports::V0_2(exports) => exports.select_charges(store, instance, practice, candidates),
        }
    }
}

/// The failure of a call to a slot the component does not fill. [`super::Plugin`] checks
/// [`Exports::fills`] before every call, so this is never the answer users see.
fn missing(slot: Slot) -> wasmtime::Error {
    wasmtime::Error::msg(format!("the plugin does not fill the {slot} slot"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_releases_of_each_served_minor_are_served() {
        assert_eq!(ContractVersion::of("0.1.0"), Some(ContractVersion::V0_1));
        assert_eq!(ContractVersion::of("0.1.7"), Some(ContractVersion::V0_1));
        assert_eq!(ContractVersion::of("0.2.0"), Some(ContractVersion::V0_2));
        assert_eq!(ContractVersion::of("0.3.0"), None);
        assert_eq!(ContractVersion::of("1.1.0"), None);
        assert_eq!(ContractVersion::of("0.1"), None);
        assert_eq!(ContractVersion::of("0.1.x"), None);
    }
}
