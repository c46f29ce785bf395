//! Stored plugins, by id (the SHA-256 of their bytes), and which plugin fills which of a
//! practice's slots with what configuration.

use super::{Store, StoreError, instant, parse, seconds};
use crate::domain::{PracticeId, Slot};
use chrono::{DateTime, Utc};
use sqlx::Row;

/// A stored plugin, without its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredPluginRow {
    /// The SHA-256 of its bytes, hex.
    pub id: String,
    /// The name it was stored under.
    pub name: String,
    /// Its size in bytes.
    pub size: i64,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
}

/// A plugin filling one of a practice's slots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    /// The slot.
    pub slot: Slot,
    /// The plugin's id.
    pub plugin: String,
    /// The name the plugin was stored under.
    pub name: String,
    /// The practice's configuration for it.
    pub config: String,
}

impl Store {
    /// Stores a plugin's bytes under its id (SHA-256 hex); storing the same bytes twice is a no-op.
    pub async fn save_plugin(&self, id: &str, name: &str, bytes: &[u8], now: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO plugins (id, name, bytes, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(name)
        .bind(bytes.to_vec())
        .bind(seconds(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A stored plugin's name and bytes.
    pub async fn plugin(&self, id: &str) -> Result<(String, Vec<u8>), StoreError> {
        let row = sqlx::query("SELECT name, bytes FROM plugins WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.reads)
            .await?
            .ok_or_else(|| StoreError::not_found("plugin", id))?;
        Ok((row.try_get(0)?, row.try_get(1)?))
    }

    /// Every stored plugin, oldest first, with its size but not its bytes.
    pub async fn plugins(&self) -> Result<Vec<StoredPluginRow>, StoreError> {
        let rows = sqlx::query("SELECT id, name, LENGTH(bytes), created_at FROM plugins ORDER BY created_at, id")
            .fetch_all(&self.reads)
            .await?;
        rows.iter().map(stored_plugin_row).collect()
    }

    /// A page of the stored plugins by id (the SHA-256 of their bytes, hex), after the id
    /// `after`; with their sizes, not their bytes. Reads one row more than `limit`.
    pub async fn plugins_page(&self, after: Option<&str>, limit: u32) -> Result<Vec<StoredPluginRow>, StoreError> {
        let rows =
            sqlx::query("SELECT id, name, LENGTH(bytes), created_at FROM plugins WHERE id > $1 ORDER BY id LIMIT $2")
                .bind(after.unwrap_or_default())
                .bind(i64::from(limit) + 1)
                .fetch_all(&self.reads)
                .await?;
        rows.iter().map(stored_plugin_row).collect()
    }

    /// Assigns a stored plugin to a practice's slot with its configuration.
    pub async fn assign_plugin(
        &self,
        practice: PracticeId,
        slot: Slot,
        plugin_id: &str,
        config: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO plugin_assignments (practice_id, slot, plugin_id, config) VALUES ($1, $2, $3, $4)
             ON CONFLICT (practice_id, slot) DO UPDATE SET plugin_id = excluded.plugin_id, config = excluded.config",
        )
        .bind(practice.get())
        .bind(slot.as_str())
        .bind(plugin_id)
        .bind(config)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Gives a practice's slot back to the built-in default policy; `false` if no plugin filled it.
    pub async fn unassign_plugin(&self, practice: PracticeId, slot: Slot) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM plugin_assignments WHERE practice_id = $1 AND slot = $2")
            .bind(practice.get())
            .bind(slot.as_str())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A practice's plugin assignments.
    pub async fn assignments(&self, practice: PracticeId) -> Result<Vec<Assignment>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.slot, a.plugin_id, a.config, p.name FROM plugin_assignments a JOIN plugins p ON p.id = a.plugin_id
             WHERE a.practice_id = $1 ORDER BY a.slot",
        )
            .bind(practice.get())
            .fetch_all(&self.reads)
            .await?;
        rows.iter()
            .map(|row| {
                let slot: String = row.try_get(0)?;
                Ok(Assignment {
                    slot: parse("slot", &slot)?,
                    plugin: row.try_get(1)?,
                    config: row.try_get(2)?,
                    name: row.try_get(3)?,
                })
            })
            .collect()
    }
}

fn stored_plugin_row(row: &sqlx::any::AnyRow) -> Result<StoredPluginRow, StoreError> {
    Ok(StoredPluginRow {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        size: row.try_get::<i64, _>(2)?,
        created_at: instant(row.try_get(3)?),
    })
}
