//! What a run works with: the lines it may put on documents, and the policies' checked answers
//! about them, in the host's own types (the plugin runtime converts them to and from the
//! contract's).

use super::{
    AppointmentId, AppointmentStatus, BillStatus, Client, ClientId, DocumentId, LineId, ServiceId, ShareStatus,
};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;

/// The appointment status whose services are billed: a completed appointment.
pub const BILLABLE_APPOINTMENT_STATUS: AppointmentStatus = AppointmentStatus::Completed;

/// The smallest fee billed, in minor units: a service with a fee of 0 is never billed.
pub const MIN_BILLABLE_FEE: i64 = 1;

/// Whether a service delivered at an appointment with `status`, with `fee`, goes on bills and
/// superbills: only completed appointments' services with a fee.
pub fn is_billable(status: AppointmentStatus, fee: i64) -> bool {
    status == BILLABLE_APPOINTMENT_STATUS && fee >= MIN_BILLABLE_FEE
}

/// One service delivered, not yet on a document of the run's kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CandidateLine {
    /// The line.
    pub id: LineId,
    /// Its appointment.
    pub appointment: AppointmentId,
    /// The appointment's status.
    pub status: AppointmentStatus,
    /// The client served.
    pub client: ClientId,
    /// The practice-local date of service.
    pub date: NaiveDate,
    /// The service delivered.
    pub service: ServiceId,
    /// Its fee, in minor units.
    pub fee: i64,
    /// Paid against it so far, in minor units.
    pub paid: i64,
}

/// A service's codes as policies see them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceCodes {
    /// The practice's code for it.
    pub code: String,
    /// Its CPT code, when it is insurance-eligible.
    pub cpt: Option<String>,
}

/// Everything a bill or superbill run decides from: the lines, ordered by date and id, and what
/// they refer to.
#[derive(Clone, Debug, Default)]
pub struct Candidates {
    /// The lines.
    pub lines: Vec<CandidateLine>,
    /// The codes of the services the lines deliver.
    pub services: HashMap<ServiceId, ServiceCodes>,
    /// The practice's references of the lines' appointments.
    pub appointments: HashMap<AppointmentId, String>,
    /// The practice's clients (read only when there are lines).
    pub clients: HashMap<ClientId, Client>,
}

impl Candidates {
    /// A line as events name it: `APPOINTMENT:SERVICE`.
    pub fn line_name(&self, line: &CandidateLine) -> String {
        let appointment = self.appointments.get(&line.appointment).map_or("", String::as_str);
        let service = self.services.get(&line.service).map_or("", |codes| codes.code.as_str());
        format!("{appointment}:{service}")
    }

    /// The client's reference, or an empty text for a client the run does not know.
    pub fn client_reference(&self, client: ClientId) -> String {
        self.clients.get(&client).map(|client| client.reference.clone()).unwrap_or_default()
    }
}

/// A bill the cadence policy asks for, checked: lines it was given, of one client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedBill {
    /// The client billed.
    pub client: ClientId,
    /// Open, or pended for a person to open.
    pub status: BillStatus,
    /// Its lines.
    pub lines: Vec<LineId>,
}

/// A superbill the inclusion policy asks for, checked like a bill.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedSuperbill {
    /// The client.
    pub client: ClientId,
    /// Its lines.
    pub lines: Vec<LineId>,
}

/// A document as the share policy is asked about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentToShare {
    /// The document.
    pub id: DocumentId,
    /// Its client.
    pub client: ClientId,
    /// Its total, in minor units.
    pub total: i64,
    /// Paid so far, in minor units.
    pub paid: i64,
    /// The bill's status; `None` for a superbill (always issued).
    pub status: Option<BillStatus>,
}

/// The share policy's answer about one document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShareAnswer {
    /// Email it this many minutes after the document was made.
    Send {
        /// The delay, 0 to one week.
        delay_minutes: u32,
    },
    /// Do not email it.
    Skip {
        /// Why not.
        reason: String,
    },
}

/// A bill a run decided to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewBill {
    /// The client billed.
    pub client: ClientId,
    /// Open, or pended.
    pub status: BillStatus,
    /// The sum of its lines' fees, in minor units.
    pub total: i64,
    /// Its lines.
    pub lines: Vec<LineId>,
}

/// A superbill a run decided to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSuperbill {
    /// The client.
    pub client: ClientId,
    /// The sum of its lines' fees, in minor units.
    pub total: i64,
    /// Paid against its lines so far, in minor units.
    pub paid: i64,
    /// Its lines.
    pub lines: Vec<LineId>,
}

/// A share row decided for a new document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewShare {
    /// The document.
    pub document: DocumentId,
    /// Its client.
    pub client: ClientId,
    /// Pending (to send when due), skipped, or held (decided again later).
    pub status: ShareStatus,
    /// When it is due, for a pending share.
    pub due_at: Option<DateTime<Utc>>,
    /// Why it was skipped or held.
    pub reason: Option<String>,
    /// For a bill tonight's autopay will charge: not sent before that charge has an outcome,
    /// unless this bound (6:00 am practice time) passes first.
    pub awaits_autopay: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_completed_appointments_services_with_a_fee_are_billable() {
        assert!(is_billable(AppointmentStatus::Completed, 15_000));
        assert!(!is_billable(AppointmentStatus::Completed, 0), "a service with fee 0 is never billed");
        assert!(!is_billable(AppointmentStatus::Scheduled, 15_000));
        assert!(!is_billable(AppointmentStatus::NoShow, 15_000));
        assert!(!is_billable(AppointmentStatus::Cancelled, 15_000));
    }
}
