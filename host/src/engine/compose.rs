//! The email that shares a document: a short text and HTML message from the practice, with the
//! document's PDF attached.

use crate::domain::{Client, Document};
use crate::mail::{Attachment, MailError, Message};
use crate::pdf;
use lettre::Address;
use lettre::message::Mailbox;

/// The sender address of practices that have none of their own.
const PLACEHOLDER_SENDER: &str = "billing@autobill.invalid";

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
    let number = document.id().get();
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
    let money = |amount: i64| practice.currency.format(amount);
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
            bytes: pdf::render(document)
                .map_err(|error| MailError::Compose(format!("the {kind} #{number} PDF: {error}")))?,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bill(practice_email: &str) -> (Document, Client) {
        let client = Client {
            id: crate::domain::ClientId::new(7),
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
            autopay_paused: None,
        };
        let practice = crate::domain::Practice {
            id: crate::domain::PracticeId::new(1),
            name: "Lakeside Therapy".into(),
            timezone: chrono_tz::UTC,
            currency: crate::domain::Currency::USD,
            npi: String::new(),
            tax_id: String::new(),
            address: String::new(),
            phone: String::new(),
            email: practice_email.into(),
            provider: crate::domain::Provider::default(),
            place_of_service: "11".into(),
            automation: crate::domain::AutomationSettings::default(),
            scheduled_until: chrono::DateTime::UNIX_EPOCH,
        };
        let document = Document::Bill(crate::domain::BillDocument {
            id: crate::domain::BillId::new(3),
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
