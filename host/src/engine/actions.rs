//! What people do: open pended bills, add a product to a bill, void a bill, change the practice's
//! automation settings. Each is one transaction whose change is one conditional write, so of two
//! concurrent requests only one can succeed; the other is refused with the current status.

use super::{Engine, EngineError};
use crate::domain::{AutomationChange, AutomationSettings, BillId, Client, ClientId, Event, EventKind, PracticeId};
use crate::store::documents::{Opened, Refused};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// The largest product amount accepted, in minor units (ten billion major units).
pub const MAX_PRODUCT_AMOUNT: i64 = 1_000_000_000_000;

/// Settings after a change, and the advice about them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AutomationChanged {
    /// The settings in force.
    pub settings: AutomationSettings,
    /// Settings that work but may surprise, recorded as `warning` events too.
    pub warnings: Vec<String>,
}

impl Engine {
    /// Opens one pended bill of a practice, as a person saving it would; the opened bill is then
    /// shared as the practice's share policy says.
    pub async fn open_bill(&self, practice: PracticeId, bill: BillId, now: DateTime<Utc>) -> Result<(), EngineError> {
        let policies = self.policies(practice).await?;
        let mut tx = self.store.begin().await?;
        let opened = self
            .store
            .open_bill(&mut tx, practice, bill, now)
            .await?
            .map_err(|refused| conflict(bill, &refused, "only pended bills can be opened"))?;
        self.after_opening(&mut tx, practice, &policies, vec![opened], now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Opens every pended bill of a practice, as a person saving them would; each opened bill is
    /// then shared as its share policy says. Gives how many were opened.
    pub async fn open_pended_bills(&self, practice: PracticeId, now: DateTime<Utc>) -> Result<usize, EngineError> {
        let policies = self.policies(practice).await?;
        let mut tx = self.store.begin().await?;
        let opened = self.store.open_pended_bills(&mut tx, practice, now).await?;
        let count = opened.len();
        self.after_opening(&mut tx, practice, &policies, opened, now).await?;
        tx.commit().await?;
        Ok(count)
    }

    /// Records opened bills' events and decides their shares, inside the opening's transaction.
    async fn after_opening(
        &self,
        tx: &mut crate::store::Tx,
        practice: PracticeId,
        policies: &super::Policies,
        opened: Vec<Opened>,
        now: DateTime<Utc>,
    ) -> Result<(), EngineError> {
        if opened.is_empty() {
            return Ok(());
        }
        let events: Vec<EventKind> = opened
            .iter()
            .map(|opened| EventKind::BillOpened {
                bill: BillId::new(opened.bill.id.get()),
                client: opened.client.reference.clone(),
            })
            .collect();
        self.store.record_events(tx, practice, now, &events).await?;
        let practice = self.store.practice_in(tx, practice).await?;
        let clients: HashMap<ClientId, Client> =
            opened.iter().map(|opened| (opened.client.id, opened.client.clone())).collect();
        let documents: Vec<_> = opened.into_iter().map(|opened| opened.bill).collect();
        self.share_documents(tx, &practice, policies, &documents, &clients, now, None).await
    }

    /// Adds a product (e.g. a card fee) to the bill holding `appointment`'s lines, as a person
    /// does; only pended and unpaid open bills take products. Gives the bill.
    pub async fn add_product(
        &self,
        practice: PracticeId,
        appointment: &str,
        name: &str,
        amount: i64,
        now: DateTime<Utc>,
    ) -> Result<BillId, EngineError> {
        let bill = self
            .store
            .bill_of_appointment(practice, appointment)
            .await?
            .ok_or_else(|| EngineError::Conflict(format!("appointment {appointment} is on no bill yet")))?;
        self.add_product_to_bill(practice, bill, name, amount, now).await?;
        Ok(bill)
    }

    /// Adds a product (e.g. a card fee) to a pended or unpaid open bill of a practice.
    pub async fn add_product_to_bill(
        &self,
        practice: PracticeId,
        bill: BillId,
        name: &str,
        amount: i64,
        now: DateTime<Utc>,
    ) -> Result<(), EngineError> {
        if !(1..=MAX_PRODUCT_AMOUNT).contains(&amount) {
            return Err(EngineError::Invalid(format!(
                "a product's amount is in minor units, from 1 to {MAX_PRODUCT_AMOUNT}; {amount} is outside that"
            )));
        }
        if name.trim().is_empty() {
            return Err(EngineError::Invalid("a product needs a name, e.g. \"Card processing fee\"".into()));
        }
        crate::domain::plain_text("a product's name", name).map_err(EngineError::Invalid)?;
        let mut tx = self.store.begin().await?;
        self.store
            .add_product(&mut tx, practice, bill, name, amount, now)
            .await?
            .map_err(|refused| conflict(bill, &refused, "products go only on pended bills and unpaid open bills"))?;
        let event = EventKind::ProductAdded { bill, name: name.to_string(), amount };
        self.store.record_event(&mut tx, practice, now, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Voids a pended or open bill of a practice with nothing paid on it, and records it as a
    /// `bill_voided` event in the same transaction. Its lines stay on it (they are not billed
    /// again) and a pending share of it is skipped when due.
    pub async fn void_bill(&self, practice: PracticeId, bill: BillId, now: DateTime<Utc>) -> Result<(), EngineError> {
        let mut tx = self.store.begin().await?;
        let client = self
            .store
            .void_bill(&mut tx, practice, bill, now)
            .await?
            .map_err(|refused| conflict(bill, &refused, "only pended and unpaid open bills can be voided"))?;
        self.store.record_event(&mut tx, practice, now, EventKind::BillVoided { bill, client }).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes a practice's automation settings (keys left out keep their value) and records each
    /// warning about the result as an event, in one transaction. Every problem with the change is
    /// reported at once, and then nothing changes.
    pub async fn change_automation(
        &self,
        practice: PracticeId,
        change: &AutomationChange,
        now: DateTime<Utc>,
    ) -> Result<AutomationChanged, EngineError> {
        let mut tx = self.store.begin().await?;
        let current = self.store.practice_to_change(&mut tx, practice).await?;
        let settings =
            change.applied_to(&current.automation).map_err(|problems| EngineError::Invalid(problems.join("; ")))?;
        self.store.update_automation(&mut tx, practice, &settings).await?;
        let warnings = settings.warnings();
        let events: Vec<EventKind> =
            warnings.iter().map(|message| EventKind::Warning { message: message.clone() }).collect();
        self.store.record_events(&mut tx, practice, now, &events).await?;
        tx.commit().await?;
        tracing::info!(practice = practice.get(), "automation settings changed");
        Ok(AutomationChanged { settings, warnings })
    }

    /// Records a warning for a practice, e.g. about its settings.
    pub async fn warn(&self, practice: PracticeId, message: String, now: DateTime<Utc>) -> Result<(), EngineError> {
        let mut tx = self.store.begin().await?;
        self.store.record_event(&mut tx, practice, now, EventKind::Warning { message }).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The events of a practice, in time order.
    pub async fn events(&self, practice: PracticeId) -> Result<Vec<Event>, EngineError> {
        Ok(self.store.events(practice).await?)
    }
}

/// The refusal of a change to a bill, with its current status.
fn conflict(bill: BillId, refused: &Refused, rule: &str) -> EngineError {
    let paid = if refused.paid > 0 { format!(" with {} paid", refused.paid) } else { String::new() };
    EngineError::Conflict(format!("bill {bill} is {}{paid}; {rule}", refused.status))
}
