//! Sharing: the share rows a share policy's answers make, the host's own check again when a share
//! comes due, and the backoff after a failed send.

use crate::domain::{
    BillStatus, Client, Document, DocumentId, DocumentToShare, EventKind, NewShare, Practice, ShareAnswer, ShareStatus,
};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};

/// Why the host does not send a document when its share comes due: the reasons staff see.
pub mod skip_reason {
    /// The client's own automatic sharing switch is off.
    pub const SHARING_OFF: &str = "automatic sharing is off for this client";
    /// The client has no email address on file.
    pub const NO_EMAIL: &str = "no email address on file";
    /// The client's communication preferences turn billing email off.
    pub const EMAIL_OFF: &str = "email is turned off in the client's communication preferences";
    /// The address on file is not one a mail server takes.
    pub const BAD_ADDRESS: &str = "the email address on file is not a valid address";
    /// The document was voided.
    pub const VOID: &str = "the document is void";
}

/// The reason a share gets when the host stopped while sending it.
pub const INTERRUPTED_SEND: &str = "the host stopped while sending; check the mail log before sending it again";

/// Minutes before the first retry of a failed send; each further failure doubles the wait.
pub const SHARE_RETRY_FIRST_MINUTES: i64 = 5;

/// The longest wait between two tries of a failed send, in minutes (6 hours).
pub const SHARE_RETRY_MAX_MINUTES: i64 = 360;

/// The wait after the `attempts`-th failed try: 5, 10, 20, 40… minutes, at most 6 hours.
pub fn retry_delay(attempts: i64) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 16)).unwrap_or(16);
    Duration::minutes(SHARE_RETRY_FIRST_MINUTES.saturating_mul(1 << doublings).min(SHARE_RETRY_MAX_MINUTES))
}

/// The share rows and `share_skipped` events a share policy's answers make for documents made
/// at `at`, in the documents' order.
pub fn decided(
    at: DateTime<Utc>,
    documents: &[(DocumentToShare, &Client)],
    answers: Vec<ShareAnswer>,
) -> (Vec<NewShare>, Vec<EventKind>) {
    let mut shares = Vec::with_capacity(documents.len());
    let mut skipped = vec![];
    for ((document, client), answer) in documents.iter().zip(answers) {
        match answer {
            ShareAnswer::Send { delay_minutes } => shares.push(NewShare {
                document: document.id,
                client: document.client,
                status: ShareStatus::Pending,
                due_at: Some(at + Duration::minutes(i64::from(delay_minutes))),
                reason: None,
                awaits_autopay: None,
            }),
            ShareAnswer::Skip { reason } => {
                skipped.push(EventKind::ShareSkipped {
                    document: document.id.get(),
                    kind: document.id.kind(),
                    client: client.reference.clone(),
                    reason: reason.clone(),
                });
                shares.push(NewShare {
                    document: document.id,
                    client: document.client,
                    status: ShareStatus::Skipped,
                    due_at: None,
                    reason: Some(reason),
                    awaits_autopay: None,
                });
            }
        }
    }
    (shares, skipped)
}

/// The share rows for documents whose share filter failed: held, with the failure as their
/// reason, to be decided again on a later tick; and a warning that tells staff.
pub fn held(documents: &[(DocumentToShare, &Client)], failure: &str) -> (Vec<NewShare>, EventKind) {
    let reason = format!("the share filter failed: {failure}");
    let shares = documents
        .iter()
        .map(|(document, _)| NewShare {
            document: document.id,
            client: document.client,
            status: ShareStatus::Held,
            due_at: None,
            reason: Some(reason.clone()),
            awaits_autopay: None,
        })
        .collect();
    let warning = EventKind::Warning {
        message: format!(
            "the shares of {} document(s) are held until the share filter works again or is unassigned: {reason}",
            documents.len()
        ),
    };
    (shares, warning)
}

/// The local time by which a bill waiting for tonight's autopay is emailed even without the
/// charge's outcome (when the payment provider cannot be reached).
pub const AUTOPAY_WAIT_BOUND: NaiveTime = NaiveTime::from_hms_opt(6, 0, 0).expect("6:00 am");

/// The reason a bill's share stops waiting for autopay when autopay made no charge of it.
pub const AUTOPAY_NOT_CHARGED: &str =
    "autopay made no charge of this bill tonight (autopay off or paused for the client, no card, or no attempts left)";

/// The bound of the night of `date` for a practice: 6:00 am practice time.
pub fn autopay_bound(practice: &Practice, date: NaiveDate) -> DateTime<Utc> {
    crate::schedule::local_instant(practice.timezone, date, AUTOPAY_WAIT_BOUND)
}

/// Holds the pending shares of bills tonight's autopay will charge (the practice's autopay on; the
/// client's on, not paused, with a card; an open bill with a balance) until the charge has an
/// outcome or `bound` passes: the emailed bill then shows the payment.
pub fn await_autopay(
    shares: &mut [NewShare],
    documents: &[(DocumentToShare, &Client)],
    practice: &Practice,
    bound: DateTime<Utc>,
) {
    if !practice.automation.autopay {
        return;
    }
    for (share, (document, client)) in shares.iter_mut().zip(documents) {
        let charged = client.autopay
            && client.autopay_paused.is_none()
            && client.card.as_deref().is_some_and(|card| !card.trim().is_empty())
            && matches!(document.id, DocumentId::Bill(_))
            && document.status == Some(BillStatus::Open)
            && document.total > document.paid;
        if charged && share.status == ShareStatus::Pending {
            share.awaits_autopay = Some(bound);
        }
    }
}

/// The warning when a bill goes out at the bound without its autopay charge's outcome.
pub fn sent_without_autopay_outcome(document: DocumentId, client: &str) -> EventKind {
    EventKind::Warning {
        message: format!(
            "{} {} was emailed to client {client} at the 6:00 am bound before tonight's autopay charge had an outcome (the payment provider could not be reached); the charge is sent again with the same key",
            document.kind(),
            document.get()
        ),
    }
}

/// Checks again, when a share comes due, that the document may go to the client, whatever the
/// share policy decided earlier: the address to send to, or why nothing is sent.
pub fn recheck(
    document: &Document,
    client: &Client,
    is_valid_address: impl Fn(&str) -> bool,
) -> Result<String, &'static str> {
    let to = client.email.as_deref().map(str::trim).unwrap_or_default();
    if document.is_void() {
        Err(skip_reason::VOID)
    } else if !client.auto_share {
        Err(skip_reason::SHARING_OFF)
    } else if to.is_empty() {
        Err(skip_reason::NO_EMAIL)
    } else if !client.email_enabled {
        Err(skip_reason::EMAIL_OFF)
    } else if !is_valid_address(to) {
        Err(skip_reason::BAD_ADDRESS)
    } else {
        Ok(to.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        AutomationSettings, BillDocument, BillId, BillStatus, ClientId, Currency, DocumentId, Practice, PracticeId,
        Provider,
    };

    fn client() -> Client {
        Client {
            id: ClientId::new(7),
            reference: "ana".into(),
            name: "Ana".into(),
            email: Some("ana@example.com".into()),
            email_enabled: true,
            auto_superbills: false,
            auto_share: true,
            autopay: false,
            card: None,
            diagnosis: vec![],
            birth_date: None,
            autopay_paused: None,
        }
    }

    fn bill(status: BillStatus) -> Document {
        Document::Bill(BillDocument {
            id: BillId::new(3),
            practice: Practice {
                id: PracticeId::new(1),
                name: "P".into(),
                timezone: chrono_tz::UTC,
                currency: Currency::USD,
                npi: String::new(),
                tax_id: String::new(),
                address: String::new(),
                phone: String::new(),
                email: String::new(),
                provider: Provider::default(),
                place_of_service: "11".into(),
                automation: AutomationSettings::default(),
                scheduled_until: DateTime::UNIX_EPOCH,
            },
            client: client(),
            status,
            issued: chrono::NaiveDate::default(),
            lines: vec![],
            products: vec![],
            payments: vec![],
            total: 100,
            paid: 0,
        })
    }

    #[test]
    fn retries_back_off_from_five_minutes_to_six_hours() {
        let minutes: Vec<i64> = (1..=9).map(|n| retry_delay(n).num_minutes()).collect();
        assert_eq!(minutes, [5, 10, 20, 40, 80, 160, 320, 360, 360]);
        assert_eq!(retry_delay(0).num_minutes(), 5);
        assert_eq!(retry_delay(i64::MAX).num_minutes(), 360);
    }

    #[test]
    fn a_document_voided_after_its_share_was_decided_is_not_sent() {
        let valid = |_: &str| true;
        assert_eq!(recheck(&bill(BillStatus::Open), &client(), valid), Ok("ana@example.com".to_string()));
        assert_eq!(recheck(&bill(BillStatus::Void), &client(), valid), Err(skip_reason::VOID));
    }

    #[test]
    fn the_clients_settings_when_due_decide_not_those_when_made() {
        let valid = |_: &str| true;
        let open = bill(BillStatus::Open);
        let off = Client { auto_share: false, ..client() };
        assert_eq!(recheck(&open, &off, valid), Err(skip_reason::SHARING_OFF));
        let no_email = Client { email: Some("  ".into()), ..client() };
        assert_eq!(recheck(&open, &no_email, valid), Err(skip_reason::NO_EMAIL));
        let email_off = Client { email_enabled: false, ..client() };
        assert_eq!(recheck(&open, &email_off, valid), Err(skip_reason::EMAIL_OFF));
        assert_eq!(recheck(&open, &client(), |_| false), Err(skip_reason::BAD_ADDRESS));
    }

    #[test]
    fn sends_are_due_after_their_delay_and_skips_are_recorded_with_the_reason() {
        let at = DateTime::<Utc>::UNIX_EPOCH;
        let owner = client();
        let document = |id| DocumentToShare {
            id: DocumentId::Bill(BillId::new(id)),
            client: owner.id,
            total: 100,
            paid: 0,
            status: Some(BillStatus::Open),
        };
        let documents = [(document(1), &owner), (document(2), &owner)];
        let answers = vec![ShareAnswer::Send { delay_minutes: 60 }, ShareAnswer::Skip { reason: "no".into() }];
        let (shares, events) = decided(at, &documents, answers);
        assert_eq!(shares[0].status, ShareStatus::Pending);
        assert_eq!(shares[0].due_at, Some(at + Duration::minutes(60)));
        assert_eq!((shares[1].status, shares[1].reason.as_deref()), (ShareStatus::Skipped, Some("no")));
        assert_eq!(events.len(), 1);
    }

    #[test]
    fn a_failing_share_filter_holds_the_shares_with_its_reason() {
        let owner = client();
        let document = DocumentToShare {
            id: DocumentId::Bill(BillId::new(1)),
            client: owner.id,
            total: 100,
            paid: 0,
            status: Some(BillStatus::Open),
        };
        let (shares, warning) = held(&[(document, &owner)], "plugin `x` failed in share-filter.decide-shares: boom");
        assert_eq!(shares[0].status, ShareStatus::Held);
        assert_eq!(
            shares[0].reason.as_deref(),
            Some("the share filter failed: plugin `x` failed in share-filter.decide-shares: boom")
        );
        assert!(
            matches!(warning, EventKind::Warning { message } if message.contains("held until the share filter works"))
        );
    }

    #[test]
    fn only_bills_tonights_autopay_will_charge_wait_for_it() {
        let at = DateTime::<Utc>::UNIX_EPOCH;
        let Document::Bill(bill) = bill(BillStatus::Open) else { unreachable!("a bill") };
        let mut practice = bill.practice.clone();
        practice.automation.autopay = true;
        let payer = Client { autopay: true, card: Some("visa".into()), ..client() };
        let paused = Client { autopay_paused: Some("declined".into()), ..payer.clone() };
        let document = |id, paid| DocumentToShare {
            id: DocumentId::Bill(BillId::new(id)),
            client: payer.id,
            total: 100,
            paid,
            status: Some(BillStatus::Open),
        };
        let documents = [(document(1, 0), &payer), (document(2, 100), &payer), (document(3, 0), &paused)];
        let answers = vec![ShareAnswer::Send { delay_minutes: 0 }; 3];
        let (mut shares, _) = decided(at, &documents, answers.clone());
        let bound = autopay_bound(&practice, chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default());
        assert_eq!(bound, at + Duration::hours(6));
        await_autopay(&mut shares, &documents, &practice, bound);
        let waiting: Vec<bool> = shares.iter().map(|share| share.awaits_autopay.is_some()).collect();
        assert_eq!(waiting, [true, false, false], "a paid bill and a paused client's bill do not wait");

        practice.automation.autopay = false;
        let (mut shares, _) = decided(at, &documents, answers);
        await_autopay(&mut shares, &documents, &practice, bound);
        assert!(shares.iter().all(|share| share.awaits_autopay.is_none()), "no autopay, no wait");
    }

    #[test]
    fn the_hosts_reasons_are_the_default_policys() {
        use autobill_plugin_default::skip_reason as default;
        assert_eq!(skip_reason::SHARING_OFF, default::SHARING_OFF);
        assert_eq!(skip_reason::NO_EMAIL, default::NO_EMAIL);
        assert_eq!(skip_reason::EMAIL_OFF, default::EMAIL_OFF);
        assert_eq!(skip_reason::VOID, default::VOID);
    }
}
