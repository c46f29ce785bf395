//! # Writing an autobill policy
//!
//! autobill runs a practice's billing policies as WebAssembly components. This crate is all a
//! policy author needs: plain Rust types, one trait per policy slot, [`export_policy!`] to turn a
//! type into a component, and date helpers for the practice-local calendar.
//!
//! | slot | trait | decides |
//! |---|---|---|
//! | `bill_cadence` | [`BillCadence`] | on which days bill runs happen, and how unbilled lines become bills |
//! | `superbill_inclusion` | [`SuperbillInclusion`] | on which day of a month superbills are made, and which lines they hold |
//! | `share_filter` | [`ShareFilter`] | which documents are emailed, and after what delay |
//! | `autopay_selection` | [`AutopaySelection`] | which open bills the nightly autopay charges, and how much |
//!
//! A policy is a pure function of its arguments: it sees no file, network, environment or real
//! clock, and the host checks every answer before acting on it (a line the policy was not given,
//! a line on two bills, a day outside the month, a charge above the balance: all are refused, and nothing of
//! that run is applied). Report a problem by returning `Err(reason)`; a panic works too, but the
//! reason is then only in the host's log. The host keeps the first 1 KiB of a reason.
//!
//! Each call runs within an instruction budget, a memory cap and a wall-clock limit (2 seconds
//! unless the operator sets `[plugins] call_timeout_ms`), sleeps and waits on WASI included: a
//! call that runs longer fails, and so does that practice's run. A policy has nothing to wait for:
//! all it needs comes in its arguments.
//!
//! Every call also receives the practice's configuration for the plugin
//! ([`PracticeContext::config`]): JSON of at most 10 KB, so one compiled plugin serves practices
//! with different needs. [`config::parse`] reads it into your own `serde` type.
//!
//! ## A complete plugin
//!
//! `autobill plugin new NAME --slot SLOT` makes a ready project: the slot implemented as the
//! documented behaviour, unit tests, conformance cases and a README. By hand, `Cargo.toml`:
//!
//! ```toml
//! [package]
//! name = "share-superbills-only"
//! edition = "2024"
//!
//! [lib]
//! crate-type = ["cdylib", "rlib"]
//!
//! [dependencies]
//! autobill-guest = "0.2.0"   # or, in an autobill checkout: { version = "0.2.0", path = "…/guest-sdk" }
//! ```
//!
//! `src/lib.rs`:
//!
//! ```
//! use autobill_guest::{DocumentKind, PracticeContext, ShareDecision, ShareFilter, ShareRequest};
//!
//! /// Emails superbills only; bills are left for staff to send.
//! pub struct SuperbillsOnly;
//!
//! impl ShareFilter for SuperbillsOnly {
//!     fn decide_shares(
//!         practice: &PracticeContext,
//!         requests: &[ShareRequest],
//!     ) -> Result<Vec<ShareDecision>, String> {
//!         let delay = practice.automation.share_delay_minutes;
//!         Ok(requests
//!             .iter()
//!             .map(|request| match request.document.kind {
//!                 DocumentKind::Superbill => ShareDecision::Send(delay),
//!                 DocumentKind::Bill => ShareDecision::Skip("bills are not shared automatically".into()),
//!             })
//!             .collect())
//!     }
//! }
//!
//! #[cfg(target_arch = "wasm32")]
//! autobill_guest::export_policy!(SuperbillsOnly: share_filter);
//! ```
//!
//! Build it with `cargo build --release --target wasm32-wasip2` (once: `rustup target add
//! wasm32-wasip2`); the component is `target/wasm32-wasip2/release/<name>.wasm`. Try it with
//! `autobill plugin test` and `autobill simulate --plugin share_filter=<file>`.
//!
//! The `cfg(target_arch = "wasm32")` guard keeps the export out of native builds, so the same crate
//! is unit-tested natively with `cargo test`: call your trait methods directly.
//!
//! ## Filling several slots
//!
//! Name the slots in this order: `bill_cadence`, `superbill_inclusion`, `share_filter`,
//! `autopay_selection`, e.g.
//! `export_policy!(MyPolicy: bill_cadence, share_filter);`. The host finds the slots a component
//! fills from its exports; a practice assigns a plugin per slot, and the built-in default policy
//! fills every slot left empty.
//!
//! ## The contract version
//!
//! [`export_policy!`] stamps [`CONTRACT_PACKAGE`] into the component. A host refuses a plugin built
//! for a contract version it cannot serve before running any of it, naming both versions.
#![deny(missing_docs)]
#![deny(unsafe_code)]

extern crate self as autobill_guest;

pub mod config;
pub mod date;

include!(concat!(env!("OUT_DIR"), "/contract.rs"));

/// The types of the contract, as plain Rust structs and enums.
pub mod types {
    #![allow(missing_docs)]
    pub use crate::bindings::autobill::policy::types::*;
}

#[allow(missing_docs, unsafe_code, clippy::all)]
mod bindings {
    __autobill_generate_types!();
}

pub use types::{
    AutomationSettings, AutopayCandidate, AutopayDecision, BillCreation, BillPlan, BillStatus, Catalog, ClientBilling,
    Date, Document, DocumentKind, DocumentStatus, PracticeContext, Service, ServiceLine, ShareDecision, ShareRequest,
    SuperbillPlan,
};

// The type is generated from the contract, so the impl cannot be derived there.
#[allow(clippy::derivable_impls)]
impl Default for Catalog {
    fn default() -> Self {
        Catalog { services: vec![], diagnosis_sets: vec![] }
    }
}

impl Catalog {
    /// The line's service, if its index is in the catalog.
    pub fn service(&self, line: &ServiceLine) -> Option<&Service> {
        self.services.get(line.service as usize)
    }

    /// The line's CPT code, if its service has a non-empty one: the line is insurance-eligible.
    pub fn cpt_code(&self, line: &ServiceLine) -> Option<&str> {
        self.service(line).and_then(|service| service.cpt_code.as_deref()).filter(|code| !code.trim().is_empty())
    }

    /// The ICD-10 codes linked to the line.
    pub fn diagnoses(&self, line: &ServiceLine) -> &[String] {
        self.diagnosis_sets.get(line.diagnoses as usize).map_or(&[], Vec::as_slice)
    }
}

/// The bill-cadence slot: when bill runs happen and how unbilled lines become bills.
pub trait BillCadence {
    /// Checks the practice's configuration for this policy. The default accepts only an empty
    /// configuration (`""` or `{}`).
    fn check_config(config: &str) -> Result<(), String> {
        config::expect_empty(config)
    }

    /// The dates from `first` to `last` (inclusive), in order, at whose 12:00 am a bill run is due.
    fn bill_run_dates(practice: &PracticeContext, first: Date, last: Date) -> Result<Vec<Date>, String>;

    /// Groups unbilled lines of completed appointments dated before `run_date` into bills. Lines
    /// left out stay unbilled for a later run. `catalog` resolves the lines' services and codes.
    fn group_lines(
        practice: &PracticeContext,
        run_date: Date,
        catalog: &Catalog,
        lines: &[ServiceLine],
    ) -> Result<Vec<BillPlan>, String>;
}

/// The superbill-inclusion slot: when superbills are made and which lines they hold.
pub trait SuperbillInclusion {
    /// Checks the practice's configuration for this policy. The default accepts only an empty
    /// configuration (`""` or `{}`).
    fn check_config(config: &str) -> Result<(), String> {
        config::expect_empty(config)
    }

    /// The day of `month` in `year`, from 1 to the month's last day, on which superbills are made.
    fn superbill_run_day(practice: &PracticeContext, year: i32, month: u8) -> Result<u8, String>;

    /// Picks the superbills to create on `run_date` from lines that are on no superbill yet.
    /// `catalog` resolves the lines' services, CPT codes and diagnoses.
    fn select_lines(
        practice: &PracticeContext,
        run_date: Date,
        clients: &[ClientBilling],
        catalog: &Catalog,
        lines: &[ServiceLine],
    ) -> Result<Vec<SuperbillPlan>, String>;
}

/// The share-filter slot: which billing documents are emailed, and when.
pub trait ShareFilter {
    /// Checks the practice's configuration for this policy. The default accepts only an empty
    /// configuration (`""` or `{}`).
    fn check_config(config: &str) -> Result<(), String> {
        config::expect_empty(config)
    }

    /// Decides, for each request in order, whether its document is emailed and after what delay.
    /// The answer must hold exactly one decision per request.
    fn decide_shares(practice: &PracticeContext, requests: &[ShareRequest]) -> Result<Vec<ShareDecision>, String>;
}

/// The autopay-selection slot (contract 0.2): which of tonight's open bills the nightly autopay
/// charges, and how much. The host asks only about bills it would charge tonight: the client's
/// autopay is on, a card is on file, and no attempt on the bill is pending or was made tonight.
pub trait AutopaySelection {
    /// Checks the practice's configuration for this policy. The default accepts only an empty
    /// configuration (`""` or `{}`).
    fn check_config(config: &str) -> Result<(), String> {
        config::expect_empty(config)
    }

    /// Decides, for each candidate in order, whether it is charged tonight and how much: one
    /// decision per candidate, a charge more than 0 and at most the bill's balance, a skip with
    /// the reason staff will see.
    fn select_charges(
        practice: &PracticeContext,
        candidates: &[AutopayCandidate],
    ) -> Result<Vec<AutopayDecision>, String>;
}

/// Turns a type into a policy component that fills the named slots.
///
/// Slots, in this order: `bill_cadence`, `superbill_inclusion`, `share_filter`,
/// `autopay_selection`. The type must
/// implement the matching traits. Guard the call with `#[cfg(target_arch = "wasm32")]` so native
/// builds (your unit tests) do not export anything.
///
/// ```ignore
/// autobill_guest::export_policy!(MyPolicy: bill_cadence, superbill_inclusion, share_filter);
/// ```
#[macro_export]
macro_rules! export_policy {
    ($ty:ident: $($slot:ident),+ $(,)?) => {
        $crate::__autobill_export!($ty, [$($slot),+]);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __autobill_export {
    ($ty:ident, [$($slot:ident),+]) => {
        #[allow(missing_docs, unsafe_code, clippy::all)]
        mod __autobill_bindings {
            $crate::__autobill_generate!([$($slot),+]);
        }
        $( $crate::__autobill_slot!($slot, $ty); )+
        __autobill_bindings::export!($ty with_types_in __autobill_bindings);

        #[allow(unsafe_code)]
        #[unsafe(link_section = "autobill:contract")]
        #[used]
        static __AUTOBILL_CONTRACT: [u8; $crate::CONTRACT_STAMP.len()] = $crate::CONTRACT_STAMP;
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __autobill_slot {
    (bill_cadence, $ty:ident) => {
        impl __autobill_bindings::exports::autobill::policy::bill_cadence::Guest for $ty {
            fn check_config(config: String) -> Result<(), String> {
                <$ty as $crate::BillCadence>::check_config(&config)
            }
            fn bill_run_dates(
                practice: $crate::PracticeContext,
                first: $crate::Date,
                last: $crate::Date,
            ) -> Result<Vec<$crate::Date>, String> {
                <$ty as $crate::BillCadence>::bill_run_dates(&practice, first, last)
            }
            fn group_lines(
                practice: $crate::PracticeContext,
                run_date: $crate::Date,
                catalog: $crate::Catalog,
                lines: Vec<$crate::ServiceLine>,
            ) -> Result<Vec<$crate::BillPlan>, String> {
                <$ty as $crate::BillCadence>::group_lines(&practice, run_date, &catalog, &lines)
            }
        }
    };
    (superbill_inclusion, $ty:ident) => {
        impl __autobill_bindings::exports::autobill::policy::superbill_inclusion::Guest for $ty {
            fn check_config(config: String) -> Result<(), String> {
                <$ty as $crate::SuperbillInclusion>::check_config(&config)
            }
            fn superbill_run_day(practice: $crate::PracticeContext, year: i32, month: u8) -> Result<u8, String> {
                <$ty as $crate::SuperbillInclusion>::superbill_run_day(&practice, year, month)
            }
            fn select_lines(
                practice: $crate::PracticeContext,
                run_date: $crate::Date,
                clients: Vec<$crate::ClientBilling>,
                catalog: $crate::Catalog,
                lines: Vec<$crate::ServiceLine>,
            ) -> Result<Vec<$crate::SuperbillPlan>, String> {
                <$ty as $crate::SuperbillInclusion>::select_lines(&practice, run_date, &clients, &catalog, &lines)
            }
        }
    };
    (share_filter, $ty:ident) => {
        impl __autobill_bindings::exports::autobill::policy::share_filter::Guest for $ty {
            fn check_config(config: String) -> Result<(), String> {
                <$ty as $crate::ShareFilter>::check_config(&config)
            }
            fn decide_shares(
                practice: $crate::PracticeContext,
                requests: Vec<$crate::ShareRequest>,
            ) -> Result<Vec<$crate::ShareDecision>, String> {
                <$ty as $crate::ShareFilter>::decide_shares(&practice, &requests)
            }
        }
    };
    (autopay_selection, $ty:ident) => {
        impl __autobill_bindings::exports::autobill::policy::autopay_selection::Guest for $ty {
            fn check_config(config: String) -> Result<(), String> {
                <$ty as $crate::AutopaySelection>::check_config(&config)
            }
            fn select_charges(
                practice: $crate::PracticeContext,
                candidates: Vec<$crate::AutopayCandidate>,
            ) -> Result<Vec<$crate::AutopayDecision>, String> {
                <$ty as $crate::AutopaySelection>::select_charges(&practice, &candidates)
            }
        }
    };
}

#[doc(hidden)]
pub mod __private {
    pub use wit_bindgen;
}
