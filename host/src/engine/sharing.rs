//! Emailing shared documents: the message (text, HTML and the PDF), the backoff after a failed
//! send, and what becomes of a send the host was in the middle of when it stopped.
//!
//! A share row moves `pending` → `sending` (claimed, committed before the mail server is
//! called) → `sent`, or back to `pending` with a later `due_at` when the server fails, so a
//! failed send is retried and never lost. A row still `sending` after the engine's lease means
//! the host stopped between handing the message over and writing the outcome: the message may or
//! may not have gone out, so the row becomes `unknown` with a reason and a warning event instead
//! of being sent again — a document is shared at most once. A person who has checked the mail
//! log can send it again with [`Engine::resend_share`].

use super::events::{self, EventKind};
use super::{Engine, EngineError};
use crate::domain::format_money;
use crate::mail::{Attachment, MailError, Message};
use crate::pdf::Document;
use crate::store::{self, Client, StoreError};
use chrono::{DateTime, Duration, Utc};
use lettre::Address;
use lettre::message::Mailbox;
use sqlx::Row;

/// Minutes before the first retry of a failed send; each further failure doubles the wait.
pub const SHARE_RETRY_FIRST_MINUTES: i64 = 5;

/// The longest wait between two tries of a failed send, in minutes (6 hours).
pub const SHARE_RETRY_MAX_MINUTES: i64 = 360;

/// The reason a share gets when the host stopped while sending it.
pub const INTERRUPTED_SEND: &str = "the host stopped while sending; check the mail log before sending it again";

/// The sender address of practices that have none of their own.
const PLACEHOLDER_SENDER: &str = "billing@autobill.invalid";

/// The wait after the `attempts`-th failed try: 5, 10, 20, 40… minutes, at most 6 hours.
pub fn retry_delay(attempts: i64) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 16)).unwrap_or(16);
    Duration::minutes(SHARE_RETRY_FIRST_MINUTES.saturating_mul(1 << doublings).min(SHARE_RETRY_MAX_MINUTES))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The email sharing `document` with `client` at `to`, with its PDF attached; from the practice's
/// address, or `fallback` (the host's configured sender) when it has none.
pub(super) fn compose(
    document: &Document,
    client: &Client,
    to: &str,
    fallback: Option<&str>,
) -> Result<Message, MailError> {
    let practice = document.practice();
    let kind = document.kind().as_str();
    let number = document.id();
    let sender = match practice.email.trim() {
        "" => fallback.map(str::trim).unwrap_or(PLACEHOLDER_SENDER),
        own => own,
    };
    let address = sender.parse::<Address>().map_err(|error| MailError::Address {
        field: "sender",
        address: sender.to_string(),
        reason: error.to_string(),
    })?;
    let from = Mailbox::new(Some(practice.name.clone()), address).to_string();
    let money = |amount: i64| format_money(amount, &practice.currency);
    let facts = [
        ("Total", money(document.total())),
        ("Paid", money(document.paid())),
        ("Balance", money(document.total() - document.paid())),
        ("Status", document.status_label().to_string()),
    ];
    let about = match document {
        Document::Bill(_) => "",
        Document::Superbill(_) => {
            "A superbill lists the services you received with the codes your insurer needs: send it to your insurer to claim reimbursement."
        }
    };
    let contact = if practice.phone.trim().is_empty() {
        "Questions? Reply to this email.".to_string()
    } else {
        format!("Questions? Reply to this email or call {}.", practice.phone)
    };

    let mut text =
        format!("Hello {},\n\nYour {kind} #{number} from {} is attached as a PDF.\n\n", client.name, practice.name);
    for (label, value) in &facts {
        text.push_str(&format!("{:<9}{value}\n", format!("{label}:")));
    }
    if !about.is_empty() {
        text.push_str(&format!("\n{about}\n"));
    }
    text.push_str(&format!("\n{contact}\n\n{}\n", practice.name));
    if !practice.address.trim().is_empty() {
        text.push_str(&format!("{}\n", practice.address));
    }

    let rows: String = facts
        .iter()
        .map(|(label, value)| {
            format!(
                "<tr><td style=\"padding:2px 16px 2px 0\">{label}</td><td style=\"text-align:right\"><strong>{}</strong></td></tr>",
                escape(value)
            )
        })
        .collect();
    let html = format!(
        "<!DOCTYPE html>\n<html><body style=\"font-family:Helvetica,Arial,sans-serif;font-size:14px;color:#222\">\
         <p>Hello {client},</p>\
         <p>Your {kind} #{number} from {practice} is attached as a PDF.</p>\
         <table>{rows}</table>{about}\
         <p>{contact}</p>\
         <p>{practice}<br>{address}</p>\
         </body></html>\n",
        client = escape(&client.name),
        practice = escape(&practice.name),
        about = if about.is_empty() { String::new() } else { format!("<p>{}</p>", escape(about)) },
        contact = escape(&contact),
        address = escape(&practice.address),
    );

    Ok(Message {
        id: format!("{kind}-{number}"),
        from,
        to: to.to_string(),
        subject: format!("Your {kind} #{number} from {}", practice.name),
        text,
        html: Some(html),
        attachment: Some(Attachment {
            file_name: document.file_name(),
            content_type: "application/pdf".into(),
            bytes: document.render(),
        }),
    })
}

impl Engine {
    /// Puts a claimed share back to `pending` after a failed try, due again after the backoff
    /// for its number of tries, with the failure as its reason.
    pub(super) async fn retry_share(&self, id: i64, now: DateTime<Utc>, reason: &str) -> Result<(), EngineError> {
        let attempts: i64 = sqlx::query("SELECT attempts FROM shares WHERE id = $1")
            .bind(id)
            .fetch_one(self.store.pool())
            .await?
            .try_get(0)?;
        let due = now + retry_delay(attempts);
        tracing::warn!(share = id, attempts, retry_at = %due, "email not sent, retrying later: {reason}");
        sqlx::query(
            "UPDATE shares SET status = 'pending', due_at = $1, reason = $2 WHERE id = $3 AND status = 'sending'",
        )
        .bind(store::seconds(due))
        .bind(reason)
        .bind(id)
        .execute(self.store.pool())
        .await?;
        Ok(())
    }

    /// Settles shares another run of a host left `sending` for longer than the lease: the host
    /// stopped between handing the message to the mail server and recording the outcome, so
    /// whether it went out is unknown. Each becomes `unknown` with [`INTERRUPTED_SEND`] as its
    /// reason and a warning event, and is not sent again by itself.
    pub(super) async fn settle_interrupted_sends(&self, now: DateTime<Utc>) -> Result<usize, EngineError> {
        let before = store::seconds(now - self.lease);
        let stale = sqlx::query(
            "SELECT s.id, s.practice_id, s.document_kind, s.document_id, c.reference FROM shares s JOIN clients c ON c.id = s.client_id
             WHERE s.status = 'sending' AND (s.claimed_at IS NULL OR s.claimed_at < $1) ORDER BY s.id",
        )
        .bind(before)
        .fetch_all(self.store.pool())
        .await?;
        let mut settled = 0;
        for row in stale {
            let (id, practice, kind, document, client): (i64, i64, String, i64, String) =
                (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?, row.try_get(4)?);
            let mut tx = self.store.begin().await?;
            let marked = sqlx::query(
                "UPDATE shares SET status = 'unknown', reason = $1 WHERE id = $2 AND status = 'sending' AND (claimed_at IS NULL OR claimed_at < $3)",
            )
            .bind(INTERRUPTED_SEND)
            .bind(id)
            .bind(before)
            .execute(&mut *tx)
            .await?;
            if marked.rows_affected() != 1 {
                continue; // settled by another host meanwhile
            }
            let message =
                format!("{kind} {document} for client {client} may or may not have been emailed: {INTERRUPTED_SEND}");
            tracing::warn!(share = id, "{message}");
            events::record(&mut tx, practice, now, EventKind::Warning { message }).await?;
            tx.commit().await?;
            settled += 1;
        }
        Ok(settled)
    }

    /// Queues a share whose outcome is `unknown` to be sent again at `now`, once a person has
    /// checked the mail log and found it was not delivered. The usual checks run again.
    pub async fn resend_share(&self, share: i64, now: DateTime<Utc>) -> Result<(), EngineError> {
        let done = sqlx::query(
            "UPDATE shares SET status = 'pending', due_at = $1, reason = NULL, claimed_at = NULL WHERE id = $2 AND status = 'unknown'",
        )
        .bind(store::seconds(now))
        .bind(share)
        .execute(self.store.pool())
        .await?;
        if done.rows_affected() == 0 {
            let status: Option<String> = sqlx::query("SELECT status FROM shares WHERE id = $1")
                .bind(share)
                .fetch_optional(self.store.pool())
                .await?
                .map(|row| row.try_get(0))
                .transpose()?;
            return Err(match status {
                None => StoreError::NotFound { what: "share", id: share.to_string() }.into(),
                Some(status) => EngineError::Invalid(format!(
                    "share {share} is {status}; only a share whose outcome is unknown can be sent again"
                )),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_from_five_minutes_to_six_hours() {
        let minutes: Vec<i64> = (1..=9).map(|n| retry_delay(n).num_minutes()).collect();
        assert_eq!(minutes, [5, 10, 20, 40, 80, 160, 320, 360, 360]);
        assert_eq!(retry_delay(0).num_minutes(), 5);
        assert_eq!(retry_delay(i64::MAX).num_minutes(), 360);
    }

    fn bill(practice_email: &str) -> (Document, Client) {
        let client = Client {
            id: 7,
            reference: "ana".into(),
            name: "Ana Alvarez".into(),
            email: Some("ana@example.com".into()),
            email_enabled: true,
            auto_superbills: false,
            auto_share: true,
            autopay: false,
            card: None,
            diagnosis: vec![],
            birth_date: None,
        };
        let practice = crate::store::Practice {
            id: 1,
            name: "Lakeside Therapy".into(),
            timezone: chrono_tz::UTC,
            currency: "USD".into(),
            npi: String::new(),
            tax_id: String::new(),
            address: String::new(),
            phone: String::new(),
            email: practice_email.into(),
            provider: crate::store::Provider::default(),
            place_of_service: "11".into(),
            automation: crate::domain::AutomationSettings::default(),
            scheduled_until: DateTime::UNIX_EPOCH,
        };
        let document = Document::Bill(crate::pdf::BillDocument {
            id: 3,
            practice,
            client: client.clone(),
            status: crate::domain::BillStatus::Open,
            issued: chrono::NaiveDate::default(),
            lines: vec![],
            products: vec![],
            payments: vec![],
            total: 100,
            paid: 0,
        });
        (document, client)
    }

    #[test]
    fn emails_come_from_the_practice_else_the_configured_sender_else_the_placeholder() {
        let (document, client) = bill("");
        let from = |fallback| compose(&document, &client, "ana@example.com", fallback).map(|message| message.from);
        assert_eq!(from(None).ok().as_deref(), Some("Lakeside Therapy <billing@autobill.invalid>"));
        assert_eq!(from(Some("billing@host.example")).ok().as_deref(), Some("Lakeside Therapy <billing@host.example>"));
        let (document, client) = bill("office@lakeside.example");
        let message = compose(&document, &client, "ana@example.com", Some("billing@host.example")).map(|m| m.from);
        assert_eq!(message.ok().as_deref(), Some("Lakeside Therapy <office@lakeside.example>"));
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(escape("<b>Tom & \"Jerry\"</b>"), "&lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt;");
    }
}
