//! Executing shares: emailing each document whose share is due, checked again first.
//!
//! A share row moves `pending` → `sending` (claimed, committed before the mail server is called)
//! → `sent`, or back to `pending` with a later due time when the server fails, so a failed send
//! is retried and never lost. A row still `sending` after the engine's lease means the host
//! stopped between handing the message over and writing the outcome: the message may or may not
//! have gone out, so the row becomes `unknown` with a reason and a warning event instead of being
//! sent again — a document is shared at most once. A person who has checked the mail log can
//! send it again with [`Engine::resend_share`].
//!
//! Due shares are claimed in bounded batches and sent through the engine's send pipeline, as many
//! at once as the mail server takes connections; PDFs are rendered and messages formatted on
//! blocking threads, off the runtime's workers and before a connection's turn.

use super::compose::compose;
use super::decide::shares::{INTERRUPTED_SEND, recheck, retry_delay, sent_without_autopay_outcome};
use super::{Engine, EngineError};
use crate::domain::{EventKind, ShareId, ShareStatus};
use crate::mail;
use crate::store::shares::ClaimedShare;
use chrono::{DateTime, Utc};
use std::sync::atomic::{AtomicBool, Ordering};

/// How long dispatch waits, while charges are going out, before looking for released shares again.
const LOOK_AGAIN: std::time::Duration = std::time::Duration::from_millis(200);

impl Engine {
    /// Emails every share whose delay has passed, claimed in batches and sent concurrently,
    /// checking again that the client still allows it. Sends a stopped host left unfinished are
    /// settled first, and not sent again. While `charging` is set, the night's charges are still
    /// going out, and with them the bills waiting for their outcome: finding nothing due then, it
    /// looks again shortly instead of stopping.
    pub(super) async fn dispatch_shares(
        &self,
        now: DateTime<Utc>,
        charging: Option<&AtomicBool>,
    ) -> Result<usize, EngineError> {
        self.settle_interrupted_sends(now).await?;
        self.sends
            .run(
                |limit| async move {
                    loop {
                        // Read before claiming: once charging is over, this claim sees every
                        // share its charges released. Until then no bill goes at its bound: its
                        // charge may be among those going out (a host catching up after 6:00 am).
                        let last = charging.is_none_or(|charging| !charging.load(Ordering::Acquire));
                        let bound_by = if last { now } else { DateTime::<Utc>::MIN_UTC };
                        let claimed = self.store.claim_due_shares(&self.host_id, now, bound_by, limit).await?;
                        if !claimed.is_empty() || last {
                            return Ok(claimed);
                        }
                        tokio::time::sleep(LOOK_AGAIN).await;
                    }
                },
                |share| async move { self.send_share(&share, now).await },
            )
            .await
    }

    /// Sends one claimed share: checks again that it may go, emails the document with its PDF and
    /// records it `sent`. A failure before the message is handed over, or the mail server's
    /// refusal, puts it back to `pending` with a backoff.
    async fn send_share(&self, share: &ClaimedShare, now: DateTime<Utc>) -> Result<(), EngineError> {
        let document = match self.store.document(share.document).await {
            Ok(document) => document,
            Err(error) => {
                return self.retry_share(share, now, &format!("the email could not be prepared: {error}")).await;
            }
        };
        let client = document.client().clone();
        let (kind, number) = (share.document.kind(), share.document.get());
        let valid = |address: &str| mail::parse_mailbox("recipient", address).is_ok();
        let to = match recheck(&document, &client, valid) {
            Ok(to) => to,
            Err(reason) => {
                let mut tx = self.store.begin().await?;
                if self.store.mark_share_skipped(&mut tx, share.id, reason).await? {
                    let event = EventKind::ShareSkipped {
                        document: number,
                        kind,
                        client: client.reference,
                        reason: reason.into(),
                    };
                    self.store.record_event(&mut tx, share.practice, now, event).await?;
                    tx.commit().await?;
                }
                return Ok(());
            }
        };
        // The PDF and the MIME text are made before taking a turn, so a connection's turn is only
        // the transfer.
        let sender = self.sender.clone();
        let prepared = {
            let client = client.clone();
            tokio::task::spawn_blocking(move || {
                compose(&document, &client, &to, sender.as_deref()).and_then(|message| message.format())
            })
            .await
        };
        let message = match prepared {
            Ok(Ok(message)) => message,
            Ok(Err(error)) => {
                return self.retry_share(share, now, &format!("the email could not be prepared: {error}")).await;
            }
            Err(error) => {
                return self.retry_share(share, now, &format!("the email could not be prepared: {error}")).await;
            }
        };
        let sent = {
            let _turn = self.sends.call().await;
            self.mailer.send(&message).await
        };
        if let Err(error) = sent {
            return self.retry_share(share, now, &error.to_string()).await;
        }
        // Handed over. Should the host stop before this commits, the row stays `sending` and
        // becomes `unknown` later: never sent twice.
        let mut tx = self.store.begin().await?;
        if self.store.mark_share_sent(&mut tx, share.id, &message.to, now).await? {
            if share.autopay_unsettled {
                let warning = sent_without_autopay_outcome(share.document, &client.reference);
                self.store.record_event(&mut tx, share.practice, now, warning).await?;
            }
            let event = EventKind::DocumentShared { document: number, kind, client: client.reference, to: message.to };
            self.store.record_event(&mut tx, share.practice, now, event).await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// Puts a claimed share back to `pending` after a failed try, due again after the backoff
    /// for its number of tries, with the failure as its reason.
    async fn retry_share(&self, share: &ClaimedShare, now: DateTime<Utc>, reason: &str) -> Result<(), EngineError> {
        let due = now + retry_delay(share.attempts);
        tracing::warn!(share = share.id.get(), attempts = share.attempts, retry_at = %due, "email not sent, retrying later: {reason}");
        self.store.retry_share(share.id, due, reason).await?;
        Ok(())
    }

    /// Settles shares another run of a host left `sending` for longer than the lease: the host
    /// stopped between handing the message to the mail server and recording the outcome, so
    /// whether it went out is unknown. Each becomes `unknown` with [`INTERRUPTED_SEND`] as its
    /// reason and a warning event, and is not sent again by itself.
    async fn settle_interrupted_sends(&self, now: DateTime<Utc>) -> Result<usize, EngineError> {
        let before = now - self.lease;
        let mut settled = 0;
        for share in self.store.interrupted_shares(before).await? {
            let mut tx = self.store.begin().await?;
            if !self.store.mark_share_unknown(&mut tx, share.id, before, INTERRUPTED_SEND).await? {
                continue; // settled by another host meanwhile
            }
            let message = format!(
                "{} {} for client {} may or may not have been emailed: {INTERRUPTED_SEND}",
                share.document.kind(),
                share.document.get(),
                share.client
            );
            tracing::warn!(share = share.id.get(), "{message}");
            self.store.record_event(&mut tx, share.practice, now, EventKind::Warning { message }).await?;
            tx.commit().await?;
            settled += 1;
        }
        Ok(settled)
    }

    /// Queues a share whose outcome is `unknown` to be sent again at `now`, once a person has
    /// checked the mail log and found it was not delivered. The usual checks run again.
    pub async fn resend_share(&self, share: ShareId, now: DateTime<Utc>) -> Result<(), EngineError> {
        match self.store.resend_share(share, now).await? {
            Ok(()) => Ok(()),
            Err(None) => Err(crate::store::StoreError::NotFound { what: "share", id: share.to_string() }.into()),
            Err(Some(status)) => Err(EngineError::Conflict(format!(
                "share {share} is {status}; only a share whose outcome is {} can be sent again",
                ShareStatus::Unknown
            ))),
        }
    }
}
