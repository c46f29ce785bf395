//! The share-filter slot: which billing documents are emailed, and after what delay.
//!
//! As autobill does by default: bills and superbills are emailed after the practice's share delay,
//! only when the client's own sharing switch is on, an email address is on file and the client's
//! communication preferences allow email. Void and pended documents are never sent.

use crate::{{Type}};
use autobill_guest::{DocumentStatus, PracticeContext, ShareDecision, ShareFilter, ShareRequest};

impl ShareFilter for {{Type}} {
    fn check_config(config: &str) -> Result<(), String> {
        autobill_guest::config::expect_empty(config)
    }

    fn decide_shares(practice: &PracticeContext, requests: &[ShareRequest]) -> Result<Vec<ShareDecision>, String> {
        let delay = practice.automation.share_delay_minutes;
        Ok(requests
            .iter()
            .map(|request| match skip_reason(request) {
                Some(reason) => ShareDecision::Skip(reason.to_string()),
                None => ShareDecision::Send(delay),
            })
            .collect())
    }
}

/// Why a document is not emailed, shown to staff; `None` when it is.
fn skip_reason(request: &ShareRequest) -> Option<&'static str> {
    let client = &request.client;
    Some(match request.document.status {
        DocumentStatus::Void => "the document is void",
        DocumentStatus::Pended => "the bill is pended: it is shared once a person opens it",
        _ if !client.auto_share => "automatic sharing is off for this client",
        _ if !client.email_on_file => "no email address on file",
        _ if !client.email_allowed => "email is turned off in the client's communication preferences",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use autobill_guest::{AutomationSettings, BillCreation, ClientBilling, Document, DocumentKind};

    fn practice() -> PracticeContext {
        PracticeContext {
            practice_id: 1,
            timezone: "America/New_York".into(),
            currency: "USD".into(),
            automation: AutomationSettings {
                bill_creation: BillCreation::Daily,
                superbill_day: 1,
                share_by_default: true,
                share_delay_minutes: 60,
                autopay: false,
            },
            config: String::new(),
        }
    }

    fn request(status: DocumentStatus, email_on_file: bool) -> ShareRequest {
        ShareRequest {
            document: Document { document_id: 1, client_id: 7, kind: DocumentKind::Bill, status, total: 15_000, paid: 0 },
            client: ClientBilling {
                client_id: 7,
                email_on_file,
                email_allowed: true,
                auto_superbills: false,
                auto_share: true,
                autopay: false,
                card_on_file: false,
            },
        }
    }

    #[test]
    fn an_open_bill_is_emailed_after_the_practices_delay_when_the_client_has_an_email() {
        let decisions = {{Type}}::decide_shares(&practice(), &[request(DocumentStatus::Open, true)]).unwrap();
        assert_eq!(decisions, [ShareDecision::Send(60)]);
    }

    #[test]
    fn void_documents_and_clients_without_an_email_are_skipped_with_a_reason() {
        let requests = [request(DocumentStatus::Void, true), request(DocumentStatus::Open, false)];
        let decisions = {{Type}}::decide_shares(&practice(), &requests).unwrap();
        assert_eq!(decisions, [ShareDecision::Skip("the document is void".into()), ShareDecision::Skip("no email address on file".into())]);
    }
}
