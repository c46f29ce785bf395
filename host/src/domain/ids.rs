//! Ids of the rows the host stores. Each kind of row has its own type, so a bill's id cannot be
//! passed where a client's is expected. Ids are whole numbers the database gives out; the policy
//! contract carries them as `u64`, and [`plugin`](crate::plugin) converts them both ways.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! ids {
    ($($(#[$meta:meta])* $name:ident),* $(,)?) => {$(
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            /// The id the database gave out.
            pub const fn new(raw: i64) -> Self {
                $name(raw)
            }

            /// The number, as the database stores it.
            pub const fn get(self) -> i64 {
                self.0
            }

            /// The id as the policy contract carries it (ids the database gives out are positive).
            pub fn to_contract(self) -> u64 {
                self.0.unsigned_abs()
            }

            /// The id a policy answered with, if it can be one.
            pub fn from_contract(value: u64) -> Option<Self> {
                i64::try_from(value).ok().map($name)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                text.parse().map($name)
            }
        }
    )*};
}

ids! {
    /// A practice.
    PracticeId,
    /// A client of a practice.
    ClientId,
    /// A service a practice offers.
    ServiceId,
    /// An appointment.
    AppointmentId,
    /// One service delivered at an appointment: a line of a bill and of a superbill.
    LineId,
    /// A bill.
    BillId,
    /// A superbill.
    SuperbillId,
    /// A product a person added to a bill.
    ProductId,
    /// A share: one document's email.
    ShareId,
    /// An autopay attempt.
    AttemptId,
    /// A payment taken.
    PaymentId,
    /// A scheduled run.
    RunId,
    /// A practice's API token.
    TokenId,
    /// An entry of a practice's event log.
    EventId,
}

/// The id of a bill or a superbill, with which of the two it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DocumentId {
    /// A bill.
    Bill(BillId),
    /// A superbill.
    Superbill(SuperbillId),
}

impl DocumentId {
    /// Bill or superbill.
    pub fn kind(self) -> super::DocumentKind {
        match self {
            DocumentId::Bill(_) => super::DocumentKind::Bill,
            DocumentId::Superbill(_) => super::DocumentKind::Superbill,
        }
    }

    /// The number, as the database stores it.
    pub fn get(self) -> i64 {
        match self {
            DocumentId::Bill(id) => id.get(),
            DocumentId::Superbill(id) => id.get(),
        }
    }

    /// The document of `kind` with the number `raw`.
    pub fn of(kind: super::DocumentKind, raw: i64) -> Self {
        match kind {
            super::DocumentKind::Bill => DocumentId::Bill(BillId::new(raw)),
            super::DocumentKind::Superbill => DocumentId::Superbill(SuperbillId::new(raw)),
        }
    }
}

impl fmt::Display for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind(), self.get())
    }
}
