//! The practice's event log, appended inside the transaction that did what the event tells.

use super::batch::{self, Value};
use super::{PageRequest, Store, StoreError, Tx, instant, seconds};
use crate::domain::{Event, EventId, EventKind, PracticeId};
use chrono::{DateTime, Utc};
use sqlx::Row;

impl Store {
    /// Appends events that happened at one time, in order, inside `tx`; a run's events go in a
    /// few multi-row statements rather than one statement each.
    pub async fn record_events(
        &self,
        tx: &mut Tx,
        practice: PracticeId,
        at: DateTime<Utc>,
        kinds: &[EventKind],
    ) -> Result<(), StoreError> {
        let mut payloads = Vec::with_capacity(kinds.len());
        for kind in kinds {
            let payload = serde_json::to_string(kind).map_err(|error| StoreError::Corrupt(error.to_string()))?;
            tracing::info!(practice = practice.get(), event = kind.name(), "event");
            payloads.push((kind.name(), payload));
        }
        let at = seconds(at);
        let rows: Vec<Vec<Value>> = payloads
            .iter()
            .map(|(name, payload)| {
                vec![Value::Int(practice.get()), Value::Int(at), Value::Name(name), Value::Text(payload)]
            })
            .collect();
        batch::execute(tx, "INSERT INTO events (practice_id, at, kind, payload)", "", &rows).await?;
        Ok(())
    }

    /// Appends one event inside `tx`.
    pub async fn record_event(
        &self,
        tx: &mut Tx,
        practice: PracticeId,
        at: DateTime<Utc>,
        kind: EventKind,
    ) -> Result<(), StoreError> {
        self.record_events(tx, practice, at, &[kind]).await
    }

    /// A practice's events, oldest first.
    pub async fn events(&self, practice: PracticeId) -> Result<Vec<Event>, StoreError> {
        let rows = sqlx::query("SELECT at, payload FROM events WHERE practice_id = $1 ORDER BY at, id")
            .bind(practice.get())
            .fetch_all(&self.reads)
            .await?;
        rows.iter()
            .map(|row| {
                let payload: String = row.try_get(1)?;
                let kind =
                    serde_json::from_str(&payload).map_err(|error| StoreError::Corrupt(format!("event: {error}")))?;
                Ok(Event { at: instant(row.try_get(0)?), kind })
            })
            .collect()
    }

    /// A page of a practice's events with their ids, in the order they were recorded.
    pub async fn events_page(
        &self,
        practice: PracticeId,
        page: PageRequest,
    ) -> Result<Vec<(EventId, Event)>, StoreError> {
        let rows =
            sqlx::query("SELECT id, at, payload FROM events WHERE practice_id = $1 AND id > $2 ORDER BY id LIMIT $3")
                .bind(practice.get())
                .bind(page.above())
                .bind(page.rows())
                .fetch_all(&self.reads)
                .await?;
        rows.iter()
            .map(|row| {
                let payload: String = row.try_get(2)?;
                let kind =
                    serde_json::from_str(&payload).map_err(|error| StoreError::Corrupt(format!("event: {error}")))?;
                Ok((EventId::new(row.try_get(0)?), Event { at: instant(row.try_get(1)?), kind }))
            })
            .collect()
    }
}
