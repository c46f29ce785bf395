//! The practice's event log: what the engine did, in time order, as `simulate` prints it and the
//! API shows it.

use super::EngineError;
use crate::store::{self, Store, StoreError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// One thing that happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// A bill run created a bill.
    BillCreated {
        /// The bill's id.
        bill: i64,
        /// The client's reference.
        client: String,
        /// `pended` or `open`.
        status: String,
        /// Total in minor units.
        total: i64,
        /// Its lines, as `APPOINTMENT:SERVICE`.
        lines: Vec<String>,
    },
    /// A person opened a pended bill.
    BillOpened {
        /// The bill's id.
        bill: i64,
        /// The client's reference.
        client: String,
    },
    /// A person voided a bill: it is not collected, and its lines are not billed again.
    BillVoided {
        /// The bill's id.
        bill: i64,
        /// The client's reference.
        client: String,
    },
    /// A person added a product to a bill.
    ProductAdded {
        /// The bill's id.
        bill: i64,
        /// The product's name.
        name: String,
        /// Its amount in minor units.
        amount: i64,
    },
    /// A superbill run created a superbill.
    SuperbillCreated {
        /// The superbill's id.
        superbill: i64,
        /// The client's reference.
        client: String,
        /// Total fees in minor units.
        total: i64,
        /// Paid against its lines, in minor units.
        paid: i64,
        /// Its lines, as `APPOINTMENT:SERVICE`.
        lines: Vec<String>,
    },
    /// A document was emailed.
    DocumentShared {
        /// The document's id.
        document: i64,
        /// `bill` or `superbill`.
        kind: String,
        /// The client's reference.
        client: String,
        /// The address it went to.
        to: String,
    },
    /// A document was not emailed.
    ShareSkipped {
        /// The document's id.
        document: i64,
        /// `bill` or `superbill`.
        kind: String,
        /// The client's reference.
        client: String,
        /// Why not.
        reason: String,
    },
    /// Autopay took a payment.
    PaymentSucceeded {
        /// The bill's id.
        bill: i64,
        /// The client's reference.
        client: String,
        /// Amount in minor units.
        amount: i64,
    },
    /// Autopay failed to take a payment.
    PaymentFailed {
        /// The bill's id.
        bill: i64,
        /// The client's reference.
        client: String,
        /// Amount in minor units.
        amount: i64,
        /// Why.
        reason: String,
    },
    /// Advice about the practice's settings.
    Warning {
        /// The advice.
        message: String,
    },
    /// A run failed; nothing it decided was applied.
    RunFailed {
        /// Which run, as `KIND:DATE`.
        run: String,
        /// Why.
        reason: String,
    },
}

/// An event with its time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// What happened.
    pub kind: EventKind,
}

/// Appends an event inside the caller's transaction.
pub(crate) async fn record(
    tx: &mut sqlx::AnyConnection,
    practice: i64,
    at: DateTime<Utc>,
    kind: EventKind,
) -> Result<(), EngineError> {
    record_all(tx, practice, at, vec![kind]).await
}

/// Appends events that happened at one time, in order, inside the caller's transaction; a run's
/// events go in a few multi-row statements rather than one statement each.
pub(crate) async fn record_all(
    tx: &mut sqlx::AnyConnection,
    practice: i64,
    at: DateTime<Utc>,
    kinds: Vec<EventKind>,
) -> Result<(), EngineError> {
    let mut rows = Vec::with_capacity(kinds.len());
    for kind in kinds {
        let payload = serde_json::to_string(&kind).map_err(|error| StoreError::Corrupt(error.to_string()))?;
        let name = payload.split('"').nth(3).unwrap_or_default().to_string();
        tracing::info!(practice, event = %name, "event");
        rows.push((name, payload));
    }
    let at = store::seconds(at);
    for chunk in rows.chunks(store::ROWS_PER_STATEMENT) {
        // Event names are the enum's snake_case tags: safe to write into the text.
        let values: Vec<String> =
            (1..=chunk.len()).zip(chunk).map(|(n, (name, _))| format!("({practice}, {at}, '{name}', ${n})")).collect();
        let sql = format!("INSERT INTO events (practice_id, at, kind, payload) VALUES {}", values.join(", "));
        let mut query = sqlx::query(&sql).persistent(false);
        for (_, payload) in chunk {
            query = query.bind(payload.as_str());
        }
        query.execute(&mut *tx).await?;
    }
    Ok(())
}

/// A practice's events, oldest first.
pub(crate) async fn list(store: &Store, practice: i64) -> Result<Vec<Event>, EngineError> {
    let rows = sqlx::query("SELECT at, payload FROM events WHERE practice_id = $1 ORDER BY at, id")
        .bind(practice)
        .fetch_all(store.pool())
        .await?;
    rows.iter()
        .map(|row| {
            let payload: String = row.try_get(1)?;
            let kind =
                serde_json::from_str(&payload).map_err(|error| StoreError::Corrupt(format!("event: {error}")))?;
            Ok(Event { at: store::instant(row.try_get(0)?), kind })
        })
        .collect()
}
