//! A plugin runtime shared by a suite's tests, and a fresh database per test: a SQLite file, or a
//! new database on the PostgreSQL at `AUTOBILL_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`).

use autobill::engine::Engine;
use autobill::mail::{FileOutbox, Mailer};
use autobill::payments::SandboxGateway;
use autobill::plugin::{PluginLimits, PluginRuntime};
use autobill::store::Store;
use sqlx::{Connection, Row};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

/// The suite's plugin runtime, compiled plugins cached across its tests.
pub fn runtime() -> Arc<PluginRuntime> {
    static RUNTIME: OnceLock<Arc<PluginRuntime>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| Arc::new(PluginRuntime::new(PluginLimits::default()).expect("the plugin runtime starts")))
        .clone()
}

/// A fresh, empty database, kept while this value lives.
pub struct TestDb {
    /// Its URL.
    pub url: String,
    _dir: tempfile::TempDir,
}

/// A fresh database of `backend`: `sqlite`, or anything else for PostgreSQL.
pub async fn database(backend: &str) -> TestDb {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let url = match backend {
        "sqlite" => format!("sqlite://{}", dir.path().join("autobill.db").display()),
        _ => {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let admin = std::env::var("AUTOBILL_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
            sqlx::any::install_default_drivers();
            let mut connection = sqlx::AnyConnection::connect(&admin).await.unwrap_or_else(|error| {
                panic!("PostgreSQL at {admin} is needed for these tests (set AUTOBILL_TEST_POSTGRES_URL): {error}")
            });
            let suite = std::env::current_exe()
                .ok()
                .and_then(|exe| exe.file_stem().map(|stem| stem.to_string_lossy().replace('-', "_")))
                .unwrap_or_default();
            let number = COUNTER.fetch_add(1, Ordering::SeqCst);
            if number == 0 {
                drop_databases_of_ended_runs(&mut connection, &suite).await;
            }
            let name = format!("autobill_{suite}_{}_{number}", std::process::id());
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name}")).execute(&mut connection).await.expect("drop");
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut connection).await.expect("create");
            let base = admin.rsplit_once('/').map_or(admin.as_str(), |(base, _)| base).to_string();
            format!("{base}/{name}")
        }
    };
    TestDb { url, _dir: dir }
}

/// Drops the databases earlier runs of this suite left behind: those named after a process that
/// is no longer running. A database still in use is left alone.
async fn drop_databases_of_ended_runs(connection: &mut sqlx::AnyConnection, suite: &str) {
    let prefix = format!("autobill_{suite}_");
    let names: Vec<String> = sqlx::query_scalar("SELECT datname::text FROM pg_database WHERE datname LIKE $1")
        .bind(format!("{prefix}%"))
        .fetch_all(&mut *connection)
        .await
        .expect("the list of databases");
    for name in names {
        let pid = name.strip_prefix(&prefix).and_then(|rest| rest.split('_').next()).unwrap_or_default();
        let ended = !pid.is_empty() && !std::path::Path::new("/proc").join(pid).exists();
        if ended {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name}")).execute(&mut *connection).await;
        }
    }
}

/// The single integer a counting query answers.
pub async fn count(store: &Store, sql: &str) -> i64 {
    sqlx::query(sql).fetch_one(store.pool()).await.expect("a count").try_get(0).expect("an integer")
}

/// An engine as `simulate` runs one, on the database at `url`: the sandbox gateway, emails to
/// `work_dir/outbox`, the suite's plugin runtime.
pub async fn simulation_engine(url: &str, work_dir: &Path) -> Engine {
    simulation_engine_with(url, Arc::new(FileOutbox::new(work_dir.join("outbox")))).await
}

/// An engine as `simulate` runs one, emailing through `mailer`.
pub async fn simulation_engine_with(url: &str, mailer: Arc<dyn Mailer>) -> Engine {
    let store = Store::connect(url).await.expect("the store connects");
    Engine::new(store, runtime(), Arc::new(SandboxGateway), mailer, "simulate").expect("an engine")
}
