//! Statuses and kinds, each spelled once: the names below are what the database stores, the API
//! answers and scenarios use, and the only text the host parses back.

use chrono::NaiveTime;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A name that is none of a status's or kind's names.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{given}`: use {expected}")]
pub struct UnknownName {
    /// What was being named, e.g. `bill status`.
    pub what: &'static str,
    /// The text given.
    pub given: String,
    /// The names that are known, for people.
    pub expected: String,
}

/// Names for people: `a, b or c`.
fn one_of(names: &[&str]) -> String {
    match names.split_last() {
        Some((last, [])) => (*last).to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

macro_rules! named {
    ($what:literal, $(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [$name; [$($text),+].len()] = [$($name::$variant),+];

            /// The name stored, answered and parsed.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownName;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownName { what: $what, given: text.to_string(), expected: one_of(&[$($text),+]) }),
                }
            }
        }
    };
}

named! {"bill creation",
    /// How the practice creates bills.
    pub enum BillCreation {
        /// Every day at 12:00 am practice-local time.
        Daily = "daily",
        /// At 12:00 am on the 1st.
        Monthly = "monthly",
        /// Pended bills that a person opens.
        Manual = "manual",
    }
}

named! {"appointment status",
    /// The status of an appointment.
    pub enum AppointmentStatus {
        /// Booked, not yet held.
        Scheduled = "scheduled",
        /// Held; its services are billable.
        Completed = "completed",
        /// Cancelled.
        Cancelled = "cancelled",
        /// The client did not come.
        NoShow = "no_show",
    }
}

named! {"bill status",
    /// The status of a bill.
    pub enum BillStatus {
        /// Waiting for a person to review and open it.
        Pended = "pended",
        /// Final, with a balance.
        Open = "open",
        /// Paid in full.
        Paid = "paid",
        /// Voided.
        Void = "void",
        /// Paid once, then (partly) refunded: its balance comes from the refund, so autopay
        /// never charges it again.
        Refunded = "refunded",
    }
}

impl BillStatus {
    /// The status as the bill states it to people: Paid, Open, Pended, Void or Refunded.
    pub fn label(self) -> &'static str {
        match self {
            BillStatus::Paid => "Paid",
            BillStatus::Open => "Open",
            BillStatus::Pended => "Pended",
            BillStatus::Void => "Void",
            BillStatus::Refunded => "Refunded",
        }
    }
}

named! {"dispute status",
    /// Where a client's dispute of a payment stands, in Stripe's names.
    pub enum DisputeStatus {
        /// An inquiry (not yet a chargeback) that wants a response.
        WarningNeedsResponse = "warning_needs_response",
        /// An inquiry the bank is reviewing.
        WarningUnderReview = "warning_under_review",
        /// An inquiry closed without becoming a chargeback.
        WarningClosed = "warning_closed",
        /// A chargeback that wants evidence.
        NeedsResponse = "needs_response",
        /// Evidence submitted; the bank is deciding.
        UnderReview = "under_review",
        /// Decided for the practice: the money stays.
        Won = "won",
        /// Decided for the client: the disputed amount is gone.
        Lost = "lost",
        /// Resolved before it became a chargeback.
        Prevented = "prevented",
    }
}

impl DisputeStatus {
    /// Whether the dispute is over (one way or the other).
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            DisputeStatus::WarningClosed | DisputeStatus::Won | DisputeStatus::Lost | DisputeStatus::Prevented
        )
    }
}

named! {"document kind",
    /// Bill or superbill.
    pub enum DocumentKind {
        /// A bill (invoice).
        Bill = "bill",
        /// A superbill.
        Superbill = "superbill",
    }
}

named! {"share status",
    /// Where one document's email stands.
    pub enum ShareStatus {
        /// Decided: it goes when due.
        Pending = "pending",
        /// Claimed by a host that is handing it to the mail server.
        Sending = "sending",
        /// The mail server took it.
        Sent = "sent",
        /// Not sent, with the reason.
        Skipped = "skipped",
        /// A host stopped while sending it: it may or may not have gone out.
        Unknown = "unknown",
        /// Not decided yet: the share filter failed; decided again on a later tick.
        Held = "held",
    }
}

named! {"attempt status",
    /// Where one autopay attempt stands.
    pub enum AttemptStatus {
        /// Written before the provider is called; its outcome is not known yet.
        Pending = "pending",
        /// The money was taken.
        Succeeded = "succeeded",
        /// The card was declined, or the bank wants the client present.
        Failed = "failed",
    }
}

named! {"run status",
    /// Where one scheduled run stands.
    pub enum RunStatus {
        /// Due, not claimed yet.
        Pending = "pending",
        /// Claimed by a host, under a lease.
        Running = "running",
        /// Finished; everything it decided is applied.
        Done = "done",
        /// Failed, with the reason; nothing it decided is applied.
        Failed = "failed",
    }
}

named! {"run kind",
    /// The kinds of scheduled run the engine performs for a practice.
    ///
    /// Ordering is Bill < Superbill < Autopay, which is the order runs sharing an instant must
    /// execute in: charges need the night's bills to exist.
    pub enum RunKind {
        /// Issues bills for sessions according to the practice's billing cadence.
        Bill = "bill",
        /// Issues the monthly superbills clients submit to insurers.
        Superbill = "superbill",
        /// Charges saved payment methods for outstanding balances.
        Autopay = "autopay",
    }
}

/// Half past midnight, when autopay runs.
const HALF_PAST_MIDNIGHT: NaiveTime = match NaiveTime::from_hms_opt(0, 30, 0) {
    Some(time) => time,
    None => NaiveTime::MIN,
};

impl RunKind {
    /// Practice-local time of day the run fires; autopay trails billing by half an hour so it
    /// charges against the bills just issued.
    pub fn local_time(self) -> NaiveTime {
        match self {
            RunKind::Bill | RunKind::Superbill => NaiveTime::MIN,
            RunKind::Autopay => HALF_PAST_MIDNIGHT,
        }
    }
}

named! {"policy slot",
    /// A policy slot a practice fills with a plugin.
    pub enum Slot {
        /// When bill runs happen and how lines are grouped into bills.
        BillCadence = "bill_cadence",
        /// When superbills are made and which lines they hold.
        SuperbillInclusion = "superbill_inclusion",
        /// Which documents are emailed, and when.
        ShareFilter = "share_filter",
        /// Which open bills the nightly autopay charges, and how much (contract 0.2 and later).
        AutopaySelection = "autopay_selection",
    }
}

impl Slot {
    /// The slot named `text`, also in the contract's spelling (`bill-cadence`).
    pub fn parse(text: &str) -> Result<Slot, UnknownName> {
        text.replace('-', "_").parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_back_to_its_value() {
        for status in BillStatus::ALL {
            assert_eq!(status.as_str().parse::<BillStatus>(), Ok(status));
        }
        for status in DisputeStatus::ALL {
            assert_eq!(status.as_str().parse::<DisputeStatus>(), Ok(status));
        }
        for kind in RunKind::ALL {
            assert_eq!(kind.as_str().parse::<RunKind>(), Ok(kind));
        }
        assert_eq!(Slot::parse("share-filter"), Ok(Slot::ShareFilter));
    }

    #[test]
    fn an_unknown_name_lists_the_known_ones() {
        let error = "weekly".parse::<BillCreation>().err().map(|error| error.to_string());
        assert_eq!(error.as_deref(), Some("unknown bill creation `weekly`: use daily, monthly or manual"));
    }

    #[test]
    fn serde_uses_the_same_names() {
        assert_eq!(serde_json::to_string(&AppointmentStatus::NoShow).ok().as_deref(), Some("\"no_show\""));
    }
}
