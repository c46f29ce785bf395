//! The practice's world as the host keeps it, and the rules that need no I/O: ids and statuses
//! as types, money in its currency's minor units, the automation settings and how they change,
//! what a run may bill, the documents as they are shown, and the event log.
//!
//! Nothing here touches the database, the plugin runtime or the network.

mod autopay;
mod billing;
mod documents;
mod events;
mod ids;
mod money;
mod provider_events;
mod records;
mod settings;
mod status;
mod tokens;

pub use autopay::{AutopayAnswer, AutopayCandidate, Charge, PastAttempt, Settlement, spread_payment};
pub use billing::{
    BILLABLE_APPOINTMENT_STATUS, CandidateLine, Candidates, DocumentToShare, MIN_BILLABLE_FEE, NewBill, NewShare,
    NewSuperbill, PlannedBill, PlannedSuperbill, ServiceCodes, ShareAnswer, is_billable,
};
pub use documents::{BillDocument, BillLine, BillPayment, BillProduct, Document, SuperbillDocument, SuperbillLine};
pub use events::{Event, EventKind};
pub use ids::{
    AppointmentId, AttemptId, BillId, ClientId, DocumentId, EventId, LineId, PaymentId, PracticeId, ProductId, RunId,
    ServiceId, ShareId, SuperbillId, TokenId,
};
pub use money::{Currency, Money, UnknownCurrency};
pub use provider_events::{PaymentChange, TakenPayment};
pub use records::{
    Client, ClientChange, DEFAULT_PLACE_OF_SERVICE, MAX_PRACTICE_NAME_CHARS, NewAppointment, NewClient, NewPractice,
    NewService, Practice, Provider, SERVICE_YEARS, is_place_of_service, parse_timezone, plain_text, practice_name,
    service_date,
};
pub use settings::{
    AUTOPAY_SHARE_DELAY_WARNING_MINUTES, AutomationChange, AutomationSettings, MAX_SHARE_DELAY_MINUTES,
};
pub use status::{
    AppointmentStatus, AttemptStatus, BillCreation, BillStatus, DisputeStatus, DocumentKind, RunKind, RunStatus,
    ShareStatus, Slot, UnknownName,
};
pub use tokens::{
    LAST_USED_GRANULARITY, MAX_EXPIRES_IN_DAYS, MAX_TOKEN_NAME_CHARS, NewToken, SHOWN_PREFIX_CHARS, StoredToken,
    TOKEN_PREFIX, expiry, token_hash,
};
