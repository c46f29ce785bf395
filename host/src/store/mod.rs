//! Storage: every SQL statement of the host, over SQLite (the embedded default, a WAL file) and
//! PostgreSQL (for deployments that outgrow one machine), through sqlx's `Any` driver.
//!
//! One text serves both databases. Times are Unix seconds, dates are `YYYY-MM-DD` text in the
//! practice's zone, money is integer minor units, flags are 0/1. Statuses are bound from their
//! enums' names; SQL text is never built from data: the one place that writes values into SQL
//! text is [`batch`], for numbers and enum names the host made itself.
//!
//! By concern: [`practices`], [`records`] (services, clients, appointments), [`runs`],
//! [`documents`] (bill and superbill runs, people's changes to bills, documents as shown),
//! [`payments`], [`provider_events`] (what the payment provider tells afterwards), [`shares`],
//! [`events`], [`plugins`], [`tokens`], and [`views`] (what the API and the console read).

mod batch;
pub mod documents;
pub mod events;
mod migrations;
pub mod payments;
pub mod plugins;
pub mod practices;
pub mod provider_events;
pub mod records;
pub mod runs;
pub mod shares;
pub mod tokens;
pub mod views;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool};
use std::str::FromStr;
use std::time::Duration;

/// What can go wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL is not one autobill can use.
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://USER@HOST:PORT/DB")]
    UnsupportedUrl(String),
    /// The database refused or failed a statement.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A row the caller named does not exist.
    #[error("{what} {id} does not exist")]
    NotFound {
        /// What was looked for.
        what: &'static str,
        /// Its id or reference.
        id: String,
    },
    /// A stored value could not be read back.
    #[error("stored {0} is corrupt")]
    Corrupt(String),
}

impl StoreError {
    /// Whether the database refused a row because its key already exists.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::Database(db)) if db.is_unique_violation())
    }

    fn not_found(what: &'static str, id: impl ToString) -> Self {
        StoreError::NotFound { what, id: id.to_string() }
    }
}

/// Which engine is behind the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite, a file on this machine.
    Sqlite,
    /// PostgreSQL, shared by several hosts.
    Postgres,
}

/// SQLite's read-only connections beside its one writer: WAL lets them read while it writes.
const SQLITE_READERS: u32 = 4;

/// Connection pools with the schema applied.
#[derive(Clone)]
pub struct Store {
    /// Writes and transactions; on SQLite one connection, the database's one writer.
    pool: AnyPool,
    /// Reads outside a transaction: on SQLite read-only connections of their own, so reads
    /// neither queue behind writes nor hold them up; on PostgreSQL the same pool as writes.
    reads: AnyPool,
    dialect: Dialect,
}

/// A write transaction: everything done through it commits together, or not at all (dropping
/// it without [`Tx::commit`] rolls it back).
pub struct Tx(sqlx::Transaction<'static, sqlx::Any>);

impl Tx {
    /// Commits the transaction.
    pub async fn commit(self) -> Result<(), StoreError> {
        Ok(self.0.commit().await?)
    }

    fn conn(&mut self) -> &mut AnyConnection {
        &mut self.0
    }
}

/// One page of a list: at most `limit` rows past the cursor `after` (the last id of the page
/// before), in id order (ascending or descending, as each list says).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    /// The last id of the previous page; none for the first page.
    pub after: Option<i64>,
    /// The most rows a page holds.
    pub limit: u32,
}

impl PageRequest {
    /// Every row, for the command line's lists.
    pub const ALL: PageRequest = PageRequest { after: None, limit: u32::MAX };

    /// The bound a descending list's ids stay below.
    fn below(&self) -> i64 {
        self.after.unwrap_or(i64::MAX)
    }

    /// The bound an ascending list's ids stay above.
    fn above(&self) -> i64 {
        self.after.unwrap_or(i64::MIN)
    }

    /// How many rows to read: one more than a page, which tells whether another page follows.
    fn rows(&self) -> i64 {
        i64::from(self.limit) + 1
    }
}

fn flag(value: bool) -> i64 {
    i64::from(value)
}

/// Unix seconds of an instant.
fn seconds(at: DateTime<Utc>) -> i64 {
    at.timestamp()
}

/// The instant of Unix seconds.
fn instant(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// A date as stored.
fn date_text(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// A stored date.
fn parse_date(text: &str) -> Result<NaiveDate, StoreError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| StoreError::Corrupt(format!("date `{text}`")))
}

/// A stored status or kind, parsed by its enum.
fn parse<T: FromStr>(what: &str, text: &str) -> Result<T, StoreError> {
    text.parse().map_err(|_| StoreError::Corrupt(format!("{what} `{text}`")))
}

impl Store {
    /// Connects to `url` (`sqlite://PATH`, created if missing, or `postgres://…`) and applies
    /// pending migrations.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let dialect = if url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Dialect::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        };
        let url = match dialect {
            Dialect::Sqlite if !url.contains('?') => format!("{url}?mode=rwc"),
            _ => url.to_string(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(if dialect == Dialect::Sqlite { 1 } else { 8 })
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    if dialect == Dialect::Sqlite {
                        sqlx::query("PRAGMA journal_mode = WAL").execute(&mut *connection).await?;
                        sqlx::query("PRAGMA synchronous = NORMAL").execute(&mut *connection).await?;
                        sqlx::query("PRAGMA foreign_keys = ON").execute(&mut *connection).await?;
                        sqlx::query("PRAGMA busy_timeout = 10000").execute(&mut *connection).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options.clone())
            .await?;
        let mut store = Store { reads: pool.clone(), pool, dialect };
        store.migrate().await?;
        // An in-memory database is private to its connection: there, reads share the writer.
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        if dialect == Dialect::Sqlite && !in_memory {
            store.reads = AnyPoolOptions::new()
                .max_connections(SQLITE_READERS)
                .acquire_timeout(Duration::from_secs(30))
                .after_connect(|connection, _| {
                    Box::pin(async move {
                        sqlx::query("PRAGMA query_only = ON").execute(&mut *connection).await?;
                        sqlx::query("PRAGMA busy_timeout = 10000").execute(&mut *connection).await?;
                        Ok(())
                    })
                })
                .connect_with(options)
                .await?;
        }
        Ok(store)
    }

    /// The pool, for tests and tools that inspect the database directly.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a write transaction. On SQLite it takes the write lock up front (`BEGIN
    /// IMMEDIATE`), so a transaction that reads before it writes waits for other writers instead
    /// of failing when it upgrades.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        let tx = match self.dialect {
            Dialect::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Dialect::Postgres => self.pool.begin().await?,
        };
        Ok(Tx(tx))
    }

    /// Which database is behind the store.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Applies every migration not yet applied; safe to run from several hosts at once.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        // PostgreSQL's CREATE TABLE IF NOT EXISTS is not safe against a concurrent one (both may
        // pass the check, and one then fails on the catalog), so it runs under the lock too.
        let mut tx = self.begin_migration().await?;
        sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)")
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        for (name, sql) in migrations::MIGRATIONS {
            let mut tx = self.begin_migration().await?;
            let applied = sqlx::query("SELECT name FROM schema_migrations WHERE name = $1")
                .bind(*name)
                .fetch_optional(tx.conn())
                .await?
                .is_some();
            if applied {
                continue;
            }
            let (pk, blob) = match self.dialect {
                Dialect::Sqlite => ("INTEGER PRIMARY KEY AUTOINCREMENT", "BLOB"),
                Dialect::Postgres => ("BIGSERIAL PRIMARY KEY", "BYTEA"),
            };
            let sql = sql.replace("{pk}", pk).replace("{blob}", blob);
            for statement in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
                sqlx::query(statement).execute(tx.conn()).await?;
            }
            sqlx::query("INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)")
                .bind(*name)
                .bind(Utc::now().timestamp())
                .execute(tx.conn())
                .await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// Starts a migration's transaction; on PostgreSQL it first waits for any other migrator,
    /// holding a lock released at commit.
    async fn begin_migration(&self) -> Result<Tx, StoreError> {
        let mut tx = self.begin().await?;
        if self.dialect == Dialect::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(7262011)").execute(tx.conn()).await?;
        }
        Ok(tx)
    }
}
