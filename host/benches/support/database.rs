//! Where a bench's data lives: a SQLite file, or a fresh PostgreSQL database dropped afterwards.

use sqlx::{AnyPool, Connection};
use std::path::Path;

/// The storage a bench measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// What `--backend VALUE` chooses; both when the option is not given.
    pub fn chosen(value: Option<&str>) -> anyhow::Result<Vec<Backend>> {
        match value {
            Some("sqlite") => Ok(vec![Backend::Sqlite]),
            Some("postgres") => Ok(vec![Backend::Postgres]),
            other => anyhow::bail!("--backend takes sqlite or postgres, not {other:?}"),
        }
    }

    /// Both backends, the default.
    pub fn both() -> Vec<Backend> {
        vec![Backend::Sqlite, Backend::Postgres]
    }

    /// A fresh database: `file` in `dir` on SQLite, `autobill_{purpose}_{pid}` on PostgreSQL.
    pub async fn database(self, dir: &Path, file: &str, purpose: &str) -> anyhow::Result<Database> {
        match self {
            Backend::Sqlite => Ok(Database::Sqlite(format!("sqlite://{}", dir.join(file).display()))),
            Backend::Postgres => Database::postgres(purpose).await,
        }
    }

    /// Analyses the tables a bench loaded in bulk, as autovacuum soon would; `bills` is left
    /// alone (see the README on analysing an empty bills table).
    pub async fn analyze_bulk_load(self, pool: &AnyPool) -> anyhow::Result<()> {
        let analyze = match self {
            Backend::Sqlite => "ANALYZE",
            Backend::Postgres => "ANALYZE practices, services, clients, appointments, service_lines",
        };
        sqlx::query(analyze).execute(pool).await?;
        Ok(())
    }
}

/// One measurement's database.
pub enum Database {
    Sqlite(String),
    Postgres { admin: String, name: String, url: String },
}

impl Database {
    /// A fresh database `autobill_{purpose}_{pid}` beside the one AUTOBILL_BENCH_POSTGRES_URL
    /// (else AUTOBILL_TEST_POSTGRES_URL, else the local server) names.
    pub async fn postgres(purpose: &str) -> anyhow::Result<Database> {
        let admin = std::env::var("AUTOBILL_BENCH_POSTGRES_URL")
            .or_else(|_| std::env::var("AUTOBILL_TEST_POSTGRES_URL"))
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let name = format!("autobill_{purpose}_{}", std::process::id());
        sqlx::any::install_default_drivers();
        let mut connection = sqlx::AnyConnection::connect(&admin)
            .await
            .map_err(|error| anyhow::anyhow!("PostgreSQL at {admin} (set AUTOBILL_BENCH_POSTGRES_URL): {error}"))?;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name}")).execute(&mut connection).await?;
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut connection).await?;
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(base, _)| base);
        let url = format!("{base}/{name}");
        Ok(Database::Postgres { admin, name, url })
    }

    pub fn url(&self) -> &str {
        match self {
            Database::Sqlite(url) => url,
            Database::Postgres { url, .. } => url,
        }
    }

    /// Drops the PostgreSQL database; a SQLite file goes with its folder.
    pub async fn drop(self) -> anyhow::Result<()> {
        if let Database::Postgres { admin, name, .. } = self {
            let mut connection = sqlx::AnyConnection::connect(&admin).await?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut connection).await?;
        }
        Ok(())
    }
}
