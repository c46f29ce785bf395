//! Practice API tokens, stored as their SHA-256 only.

use super::{Store, StoreError, seconds};
use crate::domain::PracticeId;
use chrono::{DateTime, Utc};
use sqlx::Row;

impl Store {
    /// Stores the SHA-256 (hex) of a new practice token.
    pub async fn save_api_token(&self, practice: PracticeId, hash: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO api_tokens (token_hash, practice_id, created_at) VALUES ($1, $2, $3)")
            .bind(hash)
            .bind(practice.get())
            .bind(seconds(now))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The practice a token (by its SHA-256 hex) belongs to.
    pub async fn practice_for_token(&self, hash: &str) -> Result<Option<PracticeId>, StoreError> {
        let row = sqlx::query("SELECT practice_id FROM api_tokens WHERE token_hash = $1")
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| row.try_get(0)).transpose()?.map(PracticeId::new))
    }
}
