//! Practice API tokens, stored as their SHA-256 only, with their name, prefix, expiry, last use
//! and revocation.

use super::{PageRequest, Store, StoreError, instant, seconds, views};
use crate::domain::{PracticeId, StoredToken, TokenId};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

/// What is stored of a new practice token.
#[derive(Clone, Debug)]
pub struct NewApiToken<'a> {
    /// The practice it speaks for.
    pub practice: PracticeId,
    /// Its SHA-256, hex.
    pub hash: &'a str,
    /// Its first characters, shown in lists.
    pub prefix: &'a str,
    /// A name people give it, e.g. `front desk`; may be empty.
    pub name: &'a str,
    /// When it expires, if it does.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A practice token as listed: never the token itself.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TokenRow {
    /// Its id.
    #[schema(value_type = i64)]
    pub id: TokenId,
    /// Its name, if one was given.
    pub name: String,
    /// Its first characters, to tell it apart, e.g. `abt_1f2e3d4c` (none for tokens made before
    /// prefixes were kept).
    pub prefix: String,
    /// When it was made, RFC 3339.
    pub created_at: String,
    /// When a request last used it (to the minute), RFC 3339.
    pub last_used_at: Option<String>,
    /// When it expires, RFC 3339; none: it does not.
    pub expires_at: Option<String>,
    /// When it was revoked, RFC 3339; none: it was not.
    pub revoked_at: Option<String>,
}

fn time(at: Option<i64>) -> Option<DateTime<Utc>> {
    at.map(instant)
}

impl Store {
    /// Stores a new practice token; gives its id.
    pub async fn save_api_token(&self, token: &NewApiToken<'_>, now: DateTime<Utc>) -> Result<TokenId, StoreError> {
        let row = sqlx::query(
            "INSERT INTO api_tokens (token_hash, practice_id, name, prefix, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(token.hash)
        .bind(token.practice.get())
        .bind(token.name)
        .bind(token.prefix)
        .bind(seconds(now))
        .bind(token.expires_at.map(seconds))
        .fetch_one(&self.pool)
        .await?;
        Ok(TokenId::new(row.try_get(0)?))
    }

    /// The stored token with this SHA-256 (hex), revoked or expired ones included.
    pub async fn api_token(&self, hash: &str) -> Result<Option<StoredToken>, StoreError> {
        let row = sqlx::query(
            "SELECT id, practice_id, expires_at, revoked_at, last_used_at FROM api_tokens WHERE token_hash = $1",
        )
        .bind(hash)
        .fetch_optional(&self.reads)
        .await?;
        row.map(|row| {
            Ok(StoredToken {
                id: TokenId::new(row.try_get(0)?),
                practice: PracticeId::new(row.try_get(1)?),
                expires_at: time(row.try_get(2)?),
                revoked_at: time(row.try_get(3)?),
                last_used_at: time(row.try_get(4)?),
            })
        })
        .transpose()
    }

    /// Records that a request used the token at `now`.
    pub async fn record_token_use(&self, token: TokenId, now: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(seconds(now))
            .bind(token.get())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A page of a practice's tokens, newest first, revoked ones included.
    pub async fn api_tokens(&self, practice: PracticeId, page: PageRequest) -> Result<Vec<TokenRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, prefix, created_at, last_used_at, expires_at, revoked_at FROM api_tokens
             WHERE practice_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(practice.get())
        .bind(page.below())
        .bind(page.rows())
        .fetch_all(&self.reads)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(TokenRow {
                    id: TokenId::new(row.try_get(0)?),
                    name: row.try_get(1)?,
                    prefix: row.try_get(2)?,
                    created_at: views::time(row.try_get(3)?),
                    last_used_at: views::optional_time(row.try_get(4)?),
                    expires_at: views::optional_time(row.try_get(5)?),
                    revoked_at: views::optional_time(row.try_get(6)?),
                })
            })
            .collect()
    }

    /// Revokes a practice's token at `now`: `false`, changing nothing, when the practice has no
    /// such token or it was revoked already.
    pub async fn revoke_api_token(
        &self,
        practice: PracticeId,
        token: TokenId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE practice_id = $2 AND id = $3 AND revoked_at IS NULL",
        )
        .bind(seconds(now))
        .bind(practice.get())
        .bind(token.get())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
