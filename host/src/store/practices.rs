//! Practices: their details, automation settings, and how far their runs are scheduled.

use super::{Dialect, PageRequest, Store, StoreError, Tx, flag, instant, parse, seconds};
use crate::domain::{AutomationSettings, BillCreation, NewPractice, Practice, PracticeId, Provider};
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

/// The columns [`practice`] reads.
macro_rules! select_practice {
    () => {
        "SELECT id, name, timezone, currency, npi, tax_id, address, phone, bills, superbill_day, share_default, share_delay_minutes, autopay, scheduled_until, email, provider_name, provider_credentials, provider_npi, place_of_service FROM practices"
    };
}

fn practice(row: &AnyRow) -> Result<Practice, StoreError> {
    let timezone: String = row.try_get(2)?;
    let currency: String = row.try_get(3)?;
    let bills: String = row.try_get(8)?;
    Ok(Practice {
        id: PracticeId::new(row.try_get(0)?),
        name: row.try_get(1)?,
        timezone: parse("time zone", &timezone)?,
        currency: parse("currency", &currency)?,
        npi: row.try_get(4)?,
        tax_id: row.try_get(5)?,
        address: row.try_get(6)?,
        phone: row.try_get(7)?,
        email: row.try_get(14)?,
        provider: Provider { name: row.try_get(15)?, credentials: row.try_get(16)?, npi: row.try_get(17)? },
        place_of_service: row.try_get(18)?,
        automation: AutomationSettings {
            bills: parse::<BillCreation>("bill creation", &bills)?,
            superbill_day: u8::try_from(row.try_get::<i64, _>(9)?)
                .map_err(|_| StoreError::Corrupt("superbill day".into()))?,
            share: row.try_get::<i64, _>(10)? != 0,
            share_delay_minutes: u32::try_from(row.try_get::<i64, _>(11)?)
                .map_err(|_| StoreError::Corrupt("share delay".into()))?,
            autopay: row.try_get::<i64, _>(12)? != 0,
        },
        scheduled_until: instant(row.try_get(13)?),
    })
}

impl Store {
    /// Creates a practice whose runs start at `now`.
    pub async fn create_practice(&self, new: &NewPractice, now: DateTime<Utc>) -> Result<PracticeId, StoreError> {
        let a = &new.automation;
        let row = sqlx::query(
            "INSERT INTO practices (name, timezone, currency, npi, tax_id, address, phone, bills, superbill_day, share_default, share_delay_minutes, autopay, created_at, scheduled_until, email, provider_name, provider_credentials, provider_npi, place_of_service)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) RETURNING id",
        )
        .bind(&new.name)
        .bind(new.timezone.name())
        .bind(new.currency.code())
        .bind(&new.npi)
        .bind(&new.tax_id)
        .bind(&new.address)
        .bind(&new.phone)
        .bind(a.bills.as_str())
        .bind(i64::from(a.superbill_day))
        .bind(flag(a.share))
        .bind(i64::from(a.share_delay_minutes))
        .bind(flag(a.autopay))
        .bind(seconds(now))
        .bind(seconds(now))
        .bind(&new.email)
        .bind(&new.provider.name)
        .bind(&new.provider.credentials)
        .bind(&new.provider.npi)
        .bind(&new.place_of_service)
        .fetch_one(&self.pool)
        .await?;
        Ok(PracticeId::new(row.try_get(0)?))
    }

    /// Every practice, oldest first.
    pub async fn practices(&self) -> Result<Vec<Practice>, StoreError> {
        let rows = sqlx::query(concat!(select_practice!(), " ORDER BY id")).fetch_all(&self.reads).await?;
        rows.iter().map(practice).collect()
    }

    /// A page of the practices, oldest first.
    pub async fn practices_page(&self, page: PageRequest) -> Result<Vec<Practice>, StoreError> {
        let rows = sqlx::query(concat!(select_practice!(), " WHERE id > $1 ORDER BY id LIMIT $2"))
            .bind(page.above())
            .bind(page.rows())
            .fetch_all(&self.reads)
            .await?;
        rows.iter().map(practice).collect()
    }

    /// One practice.
    pub async fn practice(&self, id: PracticeId) -> Result<Practice, StoreError> {
        let row = sqlx::query(concat!(select_practice!(), " WHERE id = $1"))
            .bind(id.get())
            .fetch_optional(&self.reads)
            .await?
            .ok_or_else(|| StoreError::not_found("practice", id))?;
        practice(&row)
    }

    /// One practice, read inside a transaction.
    pub async fn practice_in(&self, tx: &mut Tx, id: PracticeId) -> Result<Practice, StoreError> {
        let row = sqlx::query(concat!(select_practice!(), " WHERE id = $1"))
            .bind(id.get())
            .fetch_optional(tx.conn())
            .await?
            .ok_or_else(|| StoreError::not_found("practice", id))?;
        practice(&row)
    }

    /// One practice, read inside a transaction that is about to change it: its row is held until
    /// the transaction ends, so a concurrent change waits and then reads this one's result.
    pub async fn practice_to_change(&self, tx: &mut Tx, id: PracticeId) -> Result<Practice, StoreError> {
        let query = match self.dialect {
            // `BEGIN IMMEDIATE` already holds every other writer off.
            Dialect::Sqlite => concat!(select_practice!(), " WHERE id = $1"),
            Dialect::Postgres => concat!(select_practice!(), " WHERE id = $1 FOR UPDATE"),
        };
        let row = sqlx::query(query)
            .bind(id.get())
            .fetch_optional(tx.conn())
            .await?
            .ok_or_else(|| StoreError::not_found("practice", id))?;
        practice(&row)
    }

    /// Replaces a practice's automation settings inside `tx`. Existing clients keep their own
    /// switches.
    pub async fn update_automation(
        &self,
        tx: &mut Tx,
        id: PracticeId,
        a: &AutomationSettings,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE practices SET bills = $1, superbill_day = $2, share_default = $3, share_delay_minutes = $4, autopay = $5 WHERE id = $6",
        )
        .bind(a.bills.as_str())
        .bind(i64::from(a.superbill_day))
        .bind(flag(a.share))
        .bind(i64::from(a.share_delay_minutes))
        .bind(flag(a.autopay))
        .bind(id.get())
        .execute(tx.conn())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found("practice", id));
        }
        Ok(())
    }

    /// Changes a practice's details (name, NPI, tax id, address, phone, sender email, rendering
    /// provider and place of service) by `change`, in one transaction that holds the practice's
    /// row from its read to its write, so concurrent changes are none of them lost. Its time zone,
    /// currency and automation settings stay. Gives the practice as saved.
    pub async fn change_practice_details(
        &self,
        id: PracticeId,
        change: impl FnOnce(Practice) -> Practice,
    ) -> Result<Practice, StoreError> {
        let mut tx = self.begin().await?;
        let practice = change(self.practice_to_change(&mut tx, id).await?);
        sqlx::query(
            "UPDATE practices SET name = $1, npi = $2, tax_id = $3, address = $4, phone = $5, email = $6, provider_name = $7, provider_credentials = $8, provider_npi = $9, place_of_service = $10 WHERE id = $11",
        )
        .bind(&practice.name)
        .bind(&practice.npi)
        .bind(&practice.tax_id)
        .bind(&practice.address)
        .bind(&practice.phone)
        .bind(&practice.email)
        .bind(&practice.provider.name)
        .bind(&practice.provider.credentials)
        .bind(&practice.provider.npi)
        .bind(&practice.place_of_service)
        .bind(id.get())
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(practice)
    }

    /// Moves the instant up to which a practice's runs are recorded to `now`; only forward, so
    /// two hosts scheduling at once cannot move it back.
    pub async fn mark_scheduled(
        &self,
        tx: &mut Tx,
        practice: PracticeId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE practices SET scheduled_until = $1 WHERE id = $2 AND scheduled_until < $1")
            .bind(seconds(now))
            .bind(practice.get())
            .execute(tx.conn())
            .await?;
        Ok(())
    }
}
