//! Storage: one set of SQL over SQLite (the embedded default, a WAL file) and PostgreSQL (for
//! deployments that outgrow one machine), through sqlx's `Any` driver. Times are Unix seconds,
//! dates are `YYYY-MM-DD` text in the practice's zone, money is integer minor units, flags are 0/1.

mod migrations;
pub mod queries;

use crate::domain::{AppointmentStatus, AutomationSettings, BillCreation};
use crate::plugin::Slot;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Row};
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

/// Which engine is behind the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite, a file on this machine.
    Sqlite,
    /// PostgreSQL, shared by several hosts.
    Postgres,
}

/// A connection pool with the schema applied.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    dialect: Dialect,
}

/// A practice as stored.
#[derive(Clone, Debug)]
pub struct Practice {
    /// The practice's id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its IANA time zone.
    pub timezone: chrono_tz::Tz,
    /// Its ISO 4217 currency.
    pub currency: String,
    /// Its organisation NPI.
    pub npi: String,
    /// Its tax id.
    pub tax_id: String,
    /// Its address.
    pub address: String,
    /// Its phone number.
    pub phone: String,
    /// The address its billing emails come from; empty for the host's placeholder.
    pub email: String,
    /// The rendering provider superbills name.
    pub provider: Provider,
    /// The default place-of-service code of its visits, e.g. `11` office, `02`/`10` telehealth.
    pub place_of_service: String,
    /// Its automation settings.
    pub automation: AutomationSettings,
    /// The instant up to which its due runs have been recorded.
    pub scheduled_until: DateTime<Utc>,
}

/// The rendering provider a superbill names, as an insurer needs them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Provider {
    /// The provider's name, e.g. `Dana Reyes`.
    pub name: String,
    /// Credentials, e.g. `LCSW`.
    pub credentials: String,
    /// The provider's individual (type 1) NPI.
    pub npi: String,
}

/// The place-of-service code a practice starts with: `11`, office.
pub const DEFAULT_PLACE_OF_SERVICE: &str = "11";

/// A new practice.
#[derive(Clone, Debug)]
pub struct NewPractice {
    /// Its name.
    pub name: String,
    /// Its IANA time zone.
    pub timezone: chrono_tz::Tz,
    /// Its ISO 4217 currency.
    pub currency: String,
    /// Its organisation NPI.
    pub npi: String,
    /// Its tax id.
    pub tax_id: String,
    /// Its address.
    pub address: String,
    /// Its phone number.
    pub phone: String,
    /// The address its billing emails come from; empty for the host's placeholder.
    pub email: String,
    /// The rendering provider superbills name.
    pub provider: Provider,
    /// The default place-of-service code of its visits.
    pub place_of_service: String,
    /// Its automation settings.
    pub automation: AutomationSettings,
}

impl Default for NewPractice {
    /// A practice in UTC paying in USD, with empty details, office visits and default automation.
    fn default() -> Self {
        NewPractice {
            name: String::new(),
            timezone: chrono_tz::UTC,
            currency: "USD".into(),
            npi: String::new(),
            tax_id: String::new(),
            address: String::new(),
            phone: String::new(),
            email: String::new(),
            provider: Provider::default(),
            place_of_service: DEFAULT_PLACE_OF_SERVICE.into(),
            automation: AutomationSettings::default(),
        }
    }
}

/// A new service the practice offers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewService {
    /// The practice's code for it.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Its fee in minor units.
    pub fee: i64,
    /// The CPT code, for insurance-eligible services.
    pub cpt: Option<String>,
    /// CPT modifiers, e.g. `95` for synchronous telehealth.
    pub modifiers: Vec<String>,
    /// Units billed per line (at least 1).
    pub units: u32,
}

impl Default for NewService {
    fn default() -> Self {
        NewService { code: String::new(), name: String::new(), fee: 0, cpt: None, modifiers: vec![], units: 1 }
    }
}

/// A new appointment and the services delivered at it.
#[derive(Clone, Copy, Debug)]
pub struct NewAppointment<'a> {
    /// The practice.
    pub practice: i64,
    /// The client.
    pub client: i64,
    /// The practice's own reference for the appointment.
    pub reference: &'a str,
    /// When it starts.
    pub starts_at: DateTime<Utc>,
    /// Its practice-local date.
    pub local_date: NaiveDate,
    /// Its status.
    pub status: AppointmentStatus,
    /// Service id and fee of each service delivered.
    pub services: &'a [(i64, i64)],
}

/// A client's stored settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    /// The client's id.
    pub id: i64,
    /// The practice's own reference for the client.
    pub reference: String,
    /// The client's name.
    pub name: String,
    /// Email address on file, if any.
    pub email: Option<String>,
    /// Whether communication preferences allow billing email.
    pub email_enabled: bool,
    /// "Automatically create superbills".
    pub auto_superbills: bool,
    /// Automatic sharing of billing documents.
    pub auto_share: bool,
    /// Autopay of open bills.
    pub autopay: bool,
    /// The default card's reference at the payment provider, if any.
    pub card: Option<String>,
    /// ICD-10 diagnosis codes.
    pub diagnosis: Vec<String>,
    /// Date of birth, which superbills show.
    pub birth_date: Option<NaiveDate>,
}

/// A new client; `auto_share` left `None` takes the practice's share setting at this moment.
#[derive(Clone, Debug, Default)]
pub struct NewClient {
    /// The practice's own reference for the client.
    pub reference: String,
    /// The client's name.
    pub name: String,
    /// Email address on file, if any.
    pub email: Option<String>,
    /// Whether communication preferences allow billing email.
    pub email_enabled: bool,
    /// "Automatically create superbills".
    pub auto_superbills: bool,
    /// Automatic sharing; `None` for the practice's default.
    pub auto_share: Option<bool>,
    /// Autopay of open bills.
    pub autopay: bool,
    /// The default card's reference, if any.
    pub card: Option<String>,
    /// ICD-10 diagnosis codes.
    pub diagnosis: Vec<String>,
    /// Date of birth, which superbills show.
    pub birth_date: Option<NaiveDate>,
}

fn flag(value: bool) -> i64 {
    i64::from(value)
}

/// How many rows one multi-row `INSERT` or `UPDATE … FROM (VALUES …)` carries.
///
/// Such statements write the numbers and fixed words the host produced (ids, amounts, times,
/// statuses) into the SQL text and bind only text that came from outside (event payloads, a
/// policy's skip reasons): SQLite looks a bound parameter up by name in a list, so a statement's
/// binding time grows with the square of its parameters. They are not kept prepared.
pub const ROWS_PER_STATEMENT: usize = 500;

/// `NULL` or the number, for a `VALUES` row written into SQL text.
pub fn literal(value: Option<i64>) -> String {
    value.map_or_else(|| "NULL".to_string(), |value| value.to_string())
}

/// Unix seconds of an instant.
pub fn seconds(at: DateTime<Utc>) -> i64 {
    at.timestamp()
}

/// The instant of Unix seconds.
pub fn instant(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// A date as stored.
pub fn date_text(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// A stored date.
pub fn parse_date(text: &str) -> Result<NaiveDate, StoreError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| StoreError::Corrupt(format!("date `{text}`")))
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
            .connect_with(options)
            .await?;
        let store = Store { pool, dialect };
        store.migrate().await?;
        Ok(store)
    }

    /// The pool, for the engine's transactions.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a write transaction. On SQLite it takes the write lock up front (`BEGIN
    /// IMMEDIATE`), so a transaction that reads before it writes waits for other writers instead
    /// of failing when it upgrades.
    pub async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.dialect {
            Dialect::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Dialect::Postgres => self.pool.begin().await,
        }
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
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        for (name, sql) in migrations::MIGRATIONS {
            let mut tx = self.begin_migration().await?;
            let applied = sqlx::query("SELECT name FROM schema_migrations WHERE name = $1")
                .bind(*name)
                .fetch_optional(&mut *tx)
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
                sqlx::query(statement).execute(&mut *tx).await?;
            }
            sqlx::query("INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)")
                .bind(*name)
                .bind(Utc::now().timestamp())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// Starts a migration's transaction; on PostgreSQL it first waits for any other migrator,
    /// holding a lock released at commit.
    async fn begin_migration(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        let mut tx = self.begin().await?;
        if self.dialect == Dialect::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(7262011)").execute(&mut *tx).await?;
        }
        Ok(tx)
    }

    /// Creates a practice whose runs start at `now`.
    pub async fn create_practice(&self, practice: &NewPractice, now: DateTime<Utc>) -> Result<i64, StoreError> {
        let a = &practice.automation;
        let row = sqlx::query(
            "INSERT INTO practices (name, timezone, currency, npi, tax_id, address, phone, bills, superbill_day, share_default, share_delay_minutes, autopay, created_at, scheduled_until, email, provider_name, provider_credentials, provider_npi, place_of_service)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) RETURNING id",
        )
        .bind(&practice.name)
        .bind(practice.timezone.name())
        .bind(&practice.currency)
        .bind(&practice.npi)
        .bind(&practice.tax_id)
        .bind(&practice.address)
        .bind(&practice.phone)
        .bind(a.bills.as_str())
        .bind(i64::from(a.superbill_day))
        .bind(flag(a.share))
        .bind(i64::from(a.share_delay_minutes))
        .bind(flag(a.autopay))
        .bind(seconds(now))
        .bind(seconds(now))
        .bind(&practice.email)
        .bind(&practice.provider.name)
        .bind(&practice.provider.credentials)
        .bind(&practice.provider.npi)
        .bind(&practice.place_of_service)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get(0)?)
    }

    /// Every practice, oldest first.
    pub async fn practices(&self) -> Result<Vec<Practice>, StoreError> {
        let rows = sqlx::query(&format!("{PRACTICE_COLUMNS} ORDER BY id")).fetch_all(&self.pool).await?;
        rows.iter().map(practice_from_row).collect()
    }

    /// One practice.
    pub async fn practice(&self, id: i64) -> Result<Practice, StoreError> {
        let row = sqlx::query(&format!("{PRACTICE_COLUMNS} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound { what: "practice", id: id.to_string() })?;
        practice_from_row(&row)
    }

    /// Replaces a practice's automation settings. Existing clients keep their own switches.
    pub async fn update_automation(&self, id: i64, a: &AutomationSettings) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE practices SET bills = $1, superbill_day = $2, share_default = $3, share_delay_minutes = $4, autopay = $5 WHERE id = $6",
        )
        .bind(a.bills.as_str())
        .bind(i64::from(a.superbill_day))
        .bind(flag(a.share))
        .bind(i64::from(a.share_delay_minutes))
        .bind(flag(a.autopay))
        .bind(id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound { what: "practice", id: id.to_string() });
        }
        Ok(())
    }

    /// Replaces a practice's details: name, NPI, tax id, address, phone, sender email, rendering
    /// provider and place of service. Its time zone, currency and automation settings stay.
    pub async fn update_practice_details(&self, practice: &Practice) -> Result<(), StoreError> {
        let done = sqlx::query(
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
        .bind(practice.id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound { what: "practice", id: practice.id.to_string() });
        }
        Ok(())
    }

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
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound { what: "plugin", id: id.to_string() })?;
        Ok((row.try_get(0)?, row.try_get(1)?))
    }

    /// Assigns a stored plugin to a practice's slot with its configuration.
    pub async fn assign_plugin(
        &self,
        practice: i64,
        slot: Slot,
        plugin_id: &str,
        config: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO plugin_assignments (practice_id, slot, plugin_id, config) VALUES ($1, $2, $3, $4)
             ON CONFLICT (practice_id, slot) DO UPDATE SET plugin_id = excluded.plugin_id, config = excluded.config",
        )
        .bind(practice)
        .bind(slot.as_str())
        .bind(plugin_id)
        .bind(config)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A practice's plugin assignments: slot, plugin id and configuration.
    pub async fn assignments(&self, practice: i64) -> Result<Vec<(Slot, String, String)>, StoreError> {
        let rows = sqlx::query("SELECT slot, plugin_id, config FROM plugin_assignments WHERE practice_id = $1")
            .bind(practice)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let slot: String = row.try_get(0)?;
                let slot = slot.parse().map_err(|_| StoreError::Corrupt(format!("slot `{slot}`")))?;
                Ok((slot, row.try_get(1)?, row.try_get(2)?))
            })
            .collect()
    }

    /// Creates a service the practice offers (no modifiers, one unit a line).
    pub async fn create_service(
        &self,
        practice: i64,
        code: &str,
        name: &str,
        fee: i64,
        cpt: Option<&str>,
    ) -> Result<i64, StoreError> {
        let service = NewService {
            code: code.to_string(),
            name: name.to_string(),
            fee,
            cpt: cpt.map(str::to_string),
            ..NewService::default()
        };
        self.create_service_with(practice, &service).await
    }

    /// Creates a service with its CPT modifiers and units.
    pub async fn create_service_with(&self, practice: i64, service: &NewService) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "INSERT INTO services (practice_id, code, name, fee, cpt_code, modifiers, units) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(practice)
        .bind(&service.code)
        .bind(&service.name)
        .bind(service.fee)
        .bind(service.cpt.as_deref())
        .bind(service.modifiers.join(","))
        .bind(i64::from(service.units.max(1)))
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get(0)?)
    }

    /// A service's id and fee, by its code.
    pub async fn service_by_code(&self, practice: i64, code: &str) -> Result<(i64, i64), StoreError> {
        let row = sqlx::query("SELECT id, fee FROM services WHERE practice_id = $1 AND code = $2")
            .bind(practice)
            .bind(code)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound { what: "service", id: code.to_string() })?;
        Ok((row.try_get(0)?, row.try_get(1)?))
    }

    /// Creates a client. Automatic sharing left unset starts from the practice's setting now;
    /// later changes to the practice setting do not touch the client.
    pub async fn create_client(&self, practice: i64, client: &NewClient) -> Result<i64, StoreError> {
        let auto_share = match client.auto_share {
            Some(value) => value,
            None => self.practice(practice).await?.automation.share,
        };
        let row = sqlx::query(
            "INSERT INTO clients (practice_id, reference, name, email, email_enabled, auto_superbills, auto_share, autopay, card, diagnosis, birth_date)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(practice)
        .bind(&client.reference)
        .bind(&client.name)
        .bind(client.email.as_deref())
        .bind(flag(client.email_enabled))
        .bind(flag(client.auto_superbills))
        .bind(flag(auto_share))
        .bind(flag(client.autopay))
        .bind(client.card.as_deref())
        .bind(client.diagnosis.join(","))
        .bind(client.birth_date.map(date_text))
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get(0)?)
    }

    /// A client by the practice's reference.
    pub async fn client_by_reference(&self, practice: i64, reference: &str) -> Result<Client, StoreError> {
        let row = sqlx::query(&format!("{CLIENT_COLUMNS} WHERE practice_id = $1 AND reference = $2"))
            .bind(practice)
            .bind(reference)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound { what: "client", id: reference.to_string() })?;
        client_from_row(&row)
    }

    /// A client by id.
    pub async fn client(&self, id: i64) -> Result<Client, StoreError> {
        let row = sqlx::query(&format!("{CLIENT_COLUMNS} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound { what: "client", id: id.to_string() })?;
        client_from_row(&row)
    }

    /// A practice's clients.
    pub async fn clients(&self, practice: i64) -> Result<Vec<Client>, StoreError> {
        let rows = sqlx::query(&format!("{CLIENT_COLUMNS} WHERE practice_id = $1 ORDER BY id"))
            .bind(practice)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(client_from_row).collect()
    }

    /// Saves a client's settings; saving them also resumes autopay paused after declines.
    pub async fn update_client(&self, client: &Client) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE clients SET name = $1, email = $2, email_enabled = $3, auto_superbills = $4, auto_share = $5, autopay = $6, card = $7, diagnosis = $8, birth_date = $9, autopay_paused = NULL WHERE id = $10",
        )
        .bind(&client.name)
        .bind(client.email.as_deref())
        .bind(flag(client.email_enabled))
        .bind(flag(client.auto_superbills))
        .bind(flag(client.auto_share))
        .bind(flag(client.autopay))
        .bind(client.card.as_deref())
        .bind(client.diagnosis.join(","))
        .bind(client.birth_date.map(date_text))
        .bind(client.id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Books an appointment with its services (one service line each, at the service's fee).
    pub async fn create_appointment(&self, appointment: &NewAppointment<'_>) -> Result<i64, StoreError> {
        let NewAppointment { practice, client, reference, starts_at, local_date, status, services } = *appointment;
        let mut tx = self.begin().await?;
        let row = sqlx::query(
            "INSERT INTO appointments (practice_id, client_id, reference, starts_at, local_date, status) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(practice)
        .bind(client)
        .bind(reference)
        .bind(seconds(starts_at))
        .bind(date_text(local_date))
        .bind(status.as_str())
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get(0)?;
        for (service, fee) in services {
            sqlx::query(
                "INSERT INTO service_lines (practice_id, appointment_id, client_id, service_id, local_date, fee) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(practice)
            .bind(id)
            .bind(client)
            .bind(service)
            .bind(date_text(local_date))
            .bind(fee)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Changes an appointment's status, by the practice's reference.
    pub async fn set_appointment_status(
        &self,
        practice: i64,
        reference: &str,
        status: AppointmentStatus,
    ) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE appointments SET status = $1 WHERE practice_id = $2 AND reference = $3")
            .bind(status.as_str())
            .bind(practice)
            .bind(reference)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound { what: "appointment", id: reference.to_string() });
        }
        Ok(())
    }
}

const PRACTICE_COLUMNS: &str = "SELECT id, name, timezone, currency, npi, tax_id, address, phone, bills, superbill_day, share_default, share_delay_minutes, autopay, scheduled_until, email, provider_name, provider_credentials, provider_npi, place_of_service FROM practices";

fn practice_from_row(row: &sqlx::any::AnyRow) -> Result<Practice, StoreError> {
    let timezone: String = row.try_get(2)?;
    let bills: String = row.try_get(8)?;
    Ok(Practice {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        timezone: timezone.parse().map_err(|_| StoreError::Corrupt(format!("time zone `{timezone}`")))?,
        currency: row.try_get(3)?,
        npi: row.try_get(4)?,
        tax_id: row.try_get(5)?,
        address: row.try_get(6)?,
        phone: row.try_get(7)?,
        email: row.try_get(14)?,
        provider: Provider { name: row.try_get(15)?, credentials: row.try_get(16)?, npi: row.try_get(17)? },
        place_of_service: row.try_get(18)?,
        automation: AutomationSettings {
            bills: BillCreation::from_str(&bills).map_err(StoreError::Corrupt)?,
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

/// The columns [`client_from_row`] reads, as a query to extend with a `WHERE`.
pub(crate) const CLIENT_COLUMNS: &str = "SELECT id, reference, name, email, email_enabled, auto_superbills, auto_share, autopay, card, diagnosis, birth_date FROM clients";

/// A client read from a row of [`CLIENT_COLUMNS`].
pub(crate) fn client_from_row(row: &sqlx::any::AnyRow) -> Result<Client, StoreError> {
    let diagnosis: String = row.try_get(9)?;
    let birth_date: Option<String> = row.try_get(10)?;
    Ok(Client {
        id: row.try_get(0)?,
        reference: row.try_get(1)?,
        name: row.try_get(2)?,
        email: row.try_get(3)?,
        email_enabled: row.try_get::<i64, _>(4)? != 0,
        auto_superbills: row.try_get::<i64, _>(5)? != 0,
        auto_share: row.try_get::<i64, _>(6)? != 0,
        autopay: row.try_get::<i64, _>(7)? != 0,
        card: row.try_get(8)?,
        diagnosis: diagnosis.split(',').filter(|code| !code.is_empty()).map(str::to_string).collect(),
        birth_date: birth_date.as_deref().map(parse_date).transpose()?,
    })
}
