//! What people do to one bill through the API: open a pended bill, add a product to a bill,
//! void a bill.
//! Each is one transaction, checked against the bill's practice and state before it writes.

use super::events::{self, EventKind};
use super::{Engine, EngineError, documents};
use crate::domain::DocumentKind;
use crate::store::{self, StoreError};
use chrono::{DateTime, Utc};
use sqlx::Row;

/// The largest product amount accepted, in minor units (ten billion major units).
pub const MAX_PRODUCT_AMOUNT: i64 = 1_000_000_000_000;

impl Engine {
    /// Opens one pended bill of a practice, as a person saving it would; the opened bill is then
    /// shared as the practice's share policy says.
    pub async fn open_bill(&self, practice_id: i64, bill: i64, now: DateTime<Utc>) -> Result<(), EngineError> {
        let practice = self.store.practice(practice_id).await?;
        let policies = self.policies(practice_id).await?;
        let mut tx = self.store.begin().await?;
        let row = sqlx::query(
            "SELECT b.status, c.reference FROM bills b JOIN clients c ON c.id = b.client_id WHERE b.practice_id = $1 AND b.id = $2",
        )
        .bind(practice_id)
        .bind(bill)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound { what: "bill", id: bill.to_string() })?;
        let (status, client): (String, String) = (row.try_get(0)?, row.try_get(1)?);
        if status != "pended" {
            return Err(EngineError::Invalid(format!("bill {bill} is {status}; only pended bills can be opened")));
        }
        sqlx::query("UPDATE bills SET status = 'open', opened_at = $1 WHERE id = $2")
            .bind(store::seconds(now))
            .bind(bill)
            .execute(&mut *tx)
            .await?;
        events::record(&mut tx, practice_id, now, EventKind::BillOpened { bill, client }).await?;
        documents::decide_shares(&mut tx, &practice, &policies, DocumentKind::Bill, &[bill], now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds a product (e.g. a card fee) to a pended or unpaid open bill of a practice.
    pub async fn add_product_to_bill(
        &self,
        practice_id: i64,
        bill: i64,
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
        let mut tx = self.store.begin().await?;
        let row = sqlx::query("SELECT status, paid FROM bills WHERE practice_id = $1 AND id = $2")
            .bind(practice_id)
            .bind(bill)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound { what: "bill", id: bill.to_string() })?;
        let (status, paid): (String, i64) = (row.try_get(0)?, row.try_get(1)?);
        if !(status == "pended" || (status == "open" && paid == 0)) {
            return Err(EngineError::Invalid(format!(
                "bill {bill} is {status}{}; products go only on pended bills and unpaid open bills",
                if paid > 0 { " with a payment on it" } else { "" }
            )));
        }
        sqlx::query("INSERT INTO bill_products (bill_id, name, amount, added_at) VALUES ($1, $2, $3, $4)")
            .bind(bill)
            .bind(name)
            .bind(amount)
            .bind(store::seconds(now))
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE bills SET total = total + $1 WHERE id = $2")
            .bind(amount)
            .bind(bill)
            .execute(&mut *tx)
            .await?;
        events::record(&mut tx, practice_id, now, EventKind::ProductAdded { bill, name: name.to_string(), amount })
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Voids a pended or open bill of a practice with nothing paid on it, and records it as a
    /// `bill_voided` event in the same transaction. Its lines stay on it (they are not billed
    /// again) and a pending share of it is skipped when due.
    pub async fn void_bill(&self, practice_id: i64, bill: i64, now: DateTime<Utc>) -> Result<(), EngineError> {
        let mut tx = self.store.begin().await?;
        let row = sqlx::query(
            "SELECT b.status, b.paid, c.reference FROM bills b JOIN clients c ON c.id = b.client_id WHERE b.practice_id = $1 AND b.id = $2",
        )
        .bind(practice_id)
        .bind(bill)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound { what: "bill", id: bill.to_string() })?;
        let (status, paid, client): (String, i64, String) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        if status == "void" || status == "paid" || paid > 0 {
            return Err(EngineError::Invalid(format!(
                "bill {bill} is {status} with {paid} paid; only pended and unpaid open bills can be voided"
            )));
        }
        sqlx::query("UPDATE bills SET status = 'void', voided_at = $1 WHERE id = $2")
            .bind(store::seconds(now))
            .bind(bill)
            .execute(&mut *tx)
            .await?;
        events::record(&mut tx, practice_id, now, EventKind::BillVoided { bill, client }).await?;
        tx.commit().await?;
        Ok(())
    }
}
