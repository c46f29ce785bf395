//! Sending billing documents. The engine sends through [`Mailer`]; [`FileOutbox`] is the embedded
//! default and writes each message as an `.eml` file.

use crate::payments::BoxFuture;
use std::path::PathBuf;

/// One email about one billing document.
#[derive(Clone, Debug)]
pub struct Message {
    /// A stable name for the message, e.g. `bill-12`.
    pub id: String,
    /// The sender (the practice).
    pub from: String,
    /// The recipient (the client).
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
}

/// A failure to hand a message over.
#[derive(Debug, thiserror::Error)]
#[error("mail could not be sent: {0}")]
pub struct MailError(pub String);

/// Delivers messages.
pub trait Mailer: Send + Sync {
    /// Sends one message.
    fn send<'a>(&'a self, message: &'a Message) -> BoxFuture<'a, Result<(), MailError>>;
}

/// Writes each message to `DIR/<id>.eml`.
#[derive(Clone, Debug)]
pub struct FileOutbox {
    dir: PathBuf,
}

impl FileOutbox {
    /// An outbox in `dir`, created if missing.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FileOutbox { dir: dir.into() }
    }
}

impl Mailer for FileOutbox {
    fn send<'a>(&'a self, message: &'a Message) -> BoxFuture<'a, Result<(), MailError>> {
        Box::pin(async move {
            let write = || -> std::io::Result<()> {
                std::fs::create_dir_all(&self.dir)?;
                let eml = format!(
                    "From: {}\r\nTo: {}\r\nSubject: {}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n",
                    message.from, message.to, message.subject, message.text
                );
                std::fs::write(self.dir.join(format!("{}.eml", message.id)), eml)
            };
            write().map_err(|error| MailError(format!("writing to the outbox {}: {error}", self.dir.display())))
        })
    }
}
