//! The engine: records which runs are due in each practice's own time, claims them so each runs
//! exactly once (also across hosts sharing one PostgreSQL), asks the practice's policies, and
//! applies their checked decisions.
//!
//! Time only enters through [`Engine::tick`]'s `now`, so a simulated clock drives the same code as
//! the real one. Every run commits in one transaction together with its run row, so a crash in
//! the middle leaves nothing half-done and the restart does the whole run again; payments, which
//! leave the database, are written before they are sent and finished after (see [`autopay`]).

mod actions;
mod autopay;
mod documents;
pub mod dry_run;
mod events;
mod sharing;

pub use events::{Event, EventKind};
pub use sharing::{INTERRUPTED_SEND, SHARE_RETRY_FIRST_MINUTES, SHARE_RETRY_MAX_MINUTES, retry_delay};

use crate::domain::DocumentKind;
use crate::mail::Mailer;
use crate::payments::PaymentGateway;
use crate::plugin::policy::{
    self, BillPlan, Catalog, ClientBilling, PracticeContext, ServiceLine, ShareDecision, ShareRequest, SuperbillPlan,
};
use crate::plugin::{Plugin, PluginRuntime, PolicyError, Slot};
use crate::schedule::{self, DueRun, RunKind};
use crate::store::{self, Dialect, Practice, Store, StoreError};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sqlx::Row;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What can stop the engine's work for a practice.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A policy failed or decided something the host refuses.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// A stored plugin could not be loaded.
    #[error("plugin {id} could not be loaded: {reason}")]
    Plugin {
        /// The plugin's id.
        id: String,
        /// Why.
        reason: String,
    },
    /// The request does not fit the data, e.g. adding a product to a paid bill.
    #[error("{0}")]
    Invalid(String),
}

impl From<sqlx::Error> for EngineError {
    fn from(error: sqlx::Error) -> Self {
        EngineError::Store(StoreError::Database(error))
    }
}

/// Policy code the engine calls: a loaded [`Plugin`], or the same decisions made some other way
/// (the month-end benchmark runs the default policy compiled natively through this seam, to
/// measure what the WebAssembly boundary costs). Every answer is checked like a plugin's.
pub trait Policy: Send + Sync {
    /// The name shown in errors and dry runs.
    fn name(&self) -> &str;

    /// The dates from `first` to `last` at whose 12:00 am a bill run is due.
    fn bill_run_dates(
        &self,
        at: DateTime<Utc>,
        practice: &PracticeContext,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Result<Vec<NaiveDate>, PolicyError>;

    /// Groups unbilled lines into bills.
    fn group_lines(
        &self,
        at: DateTime<Utc>,
        practice: &PracticeContext,
        run_date: NaiveDate,
        catalog: &Catalog,
        lines: &[ServiceLine],
    ) -> Result<Vec<BillPlan>, PolicyError>;

    /// The day of the month superbills are made.
    fn superbill_run_day(
        &self,
        at: DateTime<Utc>,
        practice: &PracticeContext,
        year: i32,
        month: u8,
    ) -> Result<u8, PolicyError>;

    /// Picks the superbills to create.
    fn select_lines(
        &self,
        at: DateTime<Utc>,
        practice: &PracticeContext,
        run_date: NaiveDate,
        clients: &[ClientBilling],
        catalog: &Catalog,
        lines: &[ServiceLine],
    ) -> Result<Vec<SuperbillPlan>, PolicyError>;

    /// Decides, per document, whether it is emailed and after what delay.
    fn decide_shares(
        &self,
        at: DateTime<Utc>,
        practice: &PracticeContext,
        requests: &[ShareRequest],
    ) -> Result<Vec<ShareDecision>, PolicyError>;
}

impl Policy for Plugin {
    fn name(&self) -> &str {
        Plugin::name(self)
    }

    fn bill_run_dates(
        &self,
        at: DateTime<Utc>,
        practice: &PracticeContext,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Result<Vec<NaiveDate>, PolicyError> {
        Plugin::bill_run_dates(self, at, practice, first, last)
    }

    fn group_lines(
        &self,
        at: DateTime<Utc>,
        practice: &PracticeContext,
        run_date: NaiveDate,
        catalog: &Catalog,
        lines: &[ServiceLine],
    ) -> Result<Vec<BillPlan>, PolicyError> {
        Plugin::group_lines(self, at, practice, run_date, catalog, lines)
    }

    fn superbill_run_day(
        &self,
        at: DateTime<Utc>,
        practice: &PracticeContext,
        year: i32,
        month: u8,
    ) -> Result<u8, PolicyError> {
        Plugin::superbill_run_day(self, at, practice, year, month)
    }

    fn select_lines(
        &self,
        at: DateTime<Utc>,
        practice: &PracticeContext,
        run_date: NaiveDate,
        clients: &[ClientBilling],
        catalog: &Catalog,
        lines: &[ServiceLine],
    ) -> Result<Vec<SuperbillPlan>, PolicyError> {
        Plugin::select_lines(self, at, practice, run_date, clients, catalog, lines)
    }

    fn decide_shares(
        &self,
        at: DateTime<Utc>,
        practice: &PracticeContext,
        requests: &[ShareRequest],
    ) -> Result<Vec<ShareDecision>, PolicyError> {
        Plugin::decide_shares(self, at, practice, requests)
    }
}

/// A policy with the practice's configuration for its slot.
type Configured = (Arc<dyn Policy>, String);

/// The policies in force for one practice, with their configurations.
#[derive(Clone)]
pub struct Policies {
    cadence: Configured,
    superbill: Configured,
    share: Configured,
}

impl Policies {
    fn context(&self, practice: &Practice, slot: Slot) -> PracticeContext {
        let config = match slot {
            Slot::BillCadence => &self.cadence.1,
            Slot::SuperbillInclusion => &self.superbill.1,
            Slot::ShareFilter => &self.share.1,
        };
        let a = &practice.automation;
        PracticeContext {
            practice_id: u64::try_from(practice.id).unwrap_or_default(),
            timezone: practice.timezone.name().to_string(),
            currency: practice.currency.clone(),
            automation: policy::AutomationSettings {
                bill_creation: a.bills.to_policy(),
                superbill_day: a.superbill_day,
                share_by_default: a.share,
                share_delay_minutes: a.share_delay_minutes,
                autopay: a.autopay,
            },
            config: config.clone(),
        }
    }
}

/// The run workers an engine starts with on a database (see [`Engine::set_run_workers`]).
fn default_run_workers(dialect: Dialect) -> usize {
    match dialect {
        Dialect::Sqlite => 1,
        Dialect::Postgres => 2,
    }
}

/// What one [`Engine::tick`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Runs executed to completion.
    pub runs_done: usize,
    /// Runs that failed (recorded with their reason).
    pub runs_failed: usize,
    /// Shares sent or skipped.
    pub shares_handled: usize,
}

/// The billing engine of one host.
pub struct Engine {
    store: Store,
    runtime: Arc<PluginRuntime>,
    default_policy: Arc<dyn Policy>,
    /// Assigned plugins already loaded, by id (an id is the hash of the bytes, so never stale).
    loaded: Mutex<HashMap<String, Plugin>>,
    gateway: Arc<dyn PaymentGateway>,
    mailer: Arc<dyn Mailer>,
    host_id: String,
    lease: Duration,
    max_autopay_attempts: i64,
    sender: Option<String>,
    run_workers: usize,
}

impl Engine {
    /// An engine over `store`, with this host's identity for run claims.
    pub fn new(
        store: Store,
        runtime: Arc<PluginRuntime>,
        gateway: Arc<dyn PaymentGateway>,
        mailer: Arc<dyn Mailer>,
        host_id: impl Into<String>,
    ) -> Result<Self, EngineError> {
        let default_plugin = runtime
            .load_default()
            .map_err(|error| EngineError::Plugin { id: "default".into(), reason: error.to_string() })?;
        let store_dialect = store.dialect();
        Ok(Engine {
            store,
            runtime,
            default_policy: Arc::new(default_plugin),
            loaded: Mutex::new(HashMap::new()),
            gateway,
            mailer,
            host_id: host_id.into(),
            lease: Duration::minutes(10),
            max_autopay_attempts: 3,
            sender: None,
            run_workers: default_run_workers(store_dialect),
        })
    }

    /// The engine with `sender` as the From address of emails of practices without an address of
    /// their own (`None`: the host's placeholder, `billing@autobill.invalid`).
    pub fn with_sender(mut self, sender: Option<String>) -> Self {
        self.sender = sender;
        self
    }

    /// The store the engine works on.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// How long a claimed run stays this host's before another host may take it over, and how
    /// long a share may stay `sending` before it counts as interrupted (default 10 minutes).
    pub fn set_lease(&mut self, lease: Duration) {
        self.lease = lease;
    }

    /// How many runs this host executes at once, each in its own transaction (default: one on
    /// SQLite, whose single connection would only queue them; two on PostgreSQL, so the database
    /// works on one practice's writes while the host prepares the next). Runs of one practice
    /// still go one at a time and in order.
    pub fn set_run_workers(&mut self, workers: usize) {
        self.run_workers = workers.max(1);
    }

    /// How many nightly attempts a bill gets after soft declines before the client's autopay is
    /// paused (default 3).
    pub fn set_max_autopay_attempts(&mut self, attempts: u32) {
        self.max_autopay_attempts = i64::from(attempts.max(1));
    }

    /// Replaces the policy that fills the slots a practice leaves empty (the built-in default
    /// plugin unless set).
    pub fn set_default_policy(&mut self, policy: Arc<dyn Policy>) {
        self.default_policy = policy;
    }

    /// The policies a practice has assigned, the default filling empty slots.
    pub async fn policies(&self, practice: i64) -> Result<Policies, EngineError> {
        let mut chosen: [Configured; 3] = std::array::from_fn(|_| (self.default_policy.clone(), String::new()));
        for (slot, plugin_id, config) in self.store.assignments(practice).await? {
            let plugin = self.assigned_plugin(&plugin_id).await?;
            let index = Slot::ALL.iter().position(|s| *s == slot).unwrap_or_default();
            chosen[index] = (Arc::new(plugin), config);
        }
        let [cadence, superbill, share] = chosen;
        Ok(Policies { cadence, superbill, share })
    }

    /// An assigned plugin, loaded from the store the first time it is needed.
    async fn assigned_plugin(&self, plugin_id: &str) -> Result<Plugin, EngineError> {
        if let Some(plugin) = self.loaded.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get(plugin_id) {
            return Ok(plugin.clone());
        }
        let (name, bytes) = self.store.plugin(plugin_id).await?;
        let plugin = self
            .runtime
            .load(&name, &bytes)
            .map_err(|error| EngineError::Plugin { id: plugin_id.to_string(), reason: error.to_string() })?;
        self.loaded
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(plugin_id.to_string(), plugin.clone());
        Ok(plugin)
    }

    /// Does everything due by `now`: records due runs, executes them in order, and sends the
    /// shares whose delay has passed.
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<TickReport, EngineError> {
        let mut report = TickReport::default();
        self.schedule(&self.store.practices().await?, now).await?;
        let (done, failed) = self.work_runs(now).await?;
        report.runs_done = done;
        report.runs_failed = failed;
        report.shares_handled = self.dispatch_shares(now).await?;
        Ok(report)
    }

    /// Executes due runs with the engine's run workers until none is left to claim; gives how
    /// many were done and how many failed.
    async fn work_runs(&self, now: DateTime<Utc>) -> Result<(usize, usize), EngineError> {
        let workers = (0..self.run_workers).map(|_| self.work_runs_in_turn(now));
        let (mut done, mut failed) = (0, 0);
        for result in futures_util::future::join_all(workers).await {
            let (worker_done, worker_failed) = result?;
            done += worker_done;
            failed += worker_failed;
        }
        Ok((done, failed))
    }

    /// One run worker: claims and executes due runs one after another until none is left.
    async fn work_runs_in_turn(&self, now: DateTime<Utc>) -> Result<(usize, usize), EngineError> {
        let (mut done, mut failed) = (0, 0);
        while let Some(run) = self.claim_next_run(now).await? {
            match self.execute(&run, now).await {
                Ok(()) => done += 1,
                Err(error) => {
                    self.fail_run(&run, &error.to_string(), now).await?;
                    failed += 1;
                }
            }
        }
        Ok((done, failed))
    }

    /// The next instant after `after` at which a run or a share is due, looking at most two
    /// days ahead; `None` when nothing is.
    pub async fn next_due(&self, after: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, EngineError> {
        let mut next: Option<DateTime<Utc>> = None;
        let horizon = after + Duration::days(2);
        for practice in self.store.practices().await? {
            let policies = self.policies(practice.id).await?;
            if let Some(run) = self.due_runs(&practice, &policies, after, horizon).0.first() {
                next = Some(next.map_or(run.at, |n| n.min(run.at)));
            }
        }
        let share = sqlx::query("SELECT MIN(due_at) FROM shares WHERE status = 'pending' AND due_at > $1")
            .bind(store::seconds(after))
            .fetch_one(self.store.pool())
            .await?;
        if let Some(at) = share.try_get::<Option<i64>, _>(0)? {
            let at = store::instant(at);
            next = Some(next.map_or(at, |n| n.min(at)));
        }
        Ok(next)
    }

    /// The runs due for a practice in `(after, until]`, and the policy failures met on the way.
    fn due_runs(
        &self,
        practice: &Practice,
        policies: &Policies,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> (Vec<DueRun>, Vec<PolicyError>) {
        let failures = RefCell::new(vec![]);
        let cadence_ctx = policies.context(practice, Slot::BillCadence);
        let superbill_ctx = policies.context(practice, Slot::SuperbillInclusion);
        let runs = schedule::due_runs(
            practice.timezone,
            after,
            until,
            |first, last| {
                policies.cadence.0.bill_run_dates(until, &cadence_ctx, first, last).unwrap_or_else(|error| {
                    failures.borrow_mut().push(error);
                    vec![]
                })
            },
            |year, month| {
                let month = u8::try_from(month).unwrap_or_default();
                policies
                    .superbill
                    .0
                    .superbill_run_day(until, &superbill_ctx, year, month)
                    .map(u32::from)
                    .unwrap_or_else(|error| {
                        failures.borrow_mut().push(error);
                        0
                    })
            },
            practice.automation.autopay,
        );
        (runs, failures.into_inner())
    }

    /// Records each practice's runs due in `(scheduled_until, now]` and moves its mark to `now`,
    /// all in one transaction.
    async fn schedule(&self, practices: &[Practice], now: DateTime<Utc>) -> Result<(), EngineError> {
        let mut due = vec![];
        for practice in practices.iter().filter(|practice| now > practice.scheduled_until) {
            let policies = self.policies(practice.id).await?;
            let (runs, failures) = self.due_runs(practice, &policies, practice.scheduled_until, now);
            due.push((practice.id, runs, failures));
        }
        if due.is_empty() {
            return Ok(());
        }
        let mut tx = self.store.begin().await?;
        for (practice, runs, failures) in due {
            for run in &runs {
                sqlx::query(
                    "INSERT INTO runs (practice_id, kind, local_date, due_at, status) VALUES ($1, $2, $3, $4, 'pending')
                     ON CONFLICT (practice_id, kind, local_date) DO NOTHING",
                )
                .bind(practice)
                .bind(run.kind.as_str())
                .bind(store::date_text(run.local_date))
                .bind(store::seconds(run.at))
                .execute(&mut *tx)
                .await?;
            }
            let failures = failures
                .into_iter()
                .map(|failure| EventKind::RunFailed { run: "schedule".into(), reason: failure.to_string() });
            events::record_all(&mut tx, practice, now, failures.collect()).await?;
            // Only moves forward, so two hosts scheduling at once cannot move it back.
            sqlx::query("UPDATE practices SET scheduled_until = $1 WHERE id = $2 AND scheduled_until < $1")
                .bind(store::seconds(now))
                .bind(practice)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Claims the earliest run due by `now` that no live host holds. A practice's runs go one at a
    /// time and in order, so two hosts never bill the same practice at once.
    async fn claim_next_run(&self, now: DateTime<Utc>) -> Result<Option<ClaimedRun>, EngineError> {
        loop {
            let candidate = sqlx::query(
                "SELECT id, practice_id, kind, local_date, due_at FROM runs r
                 WHERE due_at <= $1 AND (status = 'pending' OR (status = 'running' AND lease_until < $1))
                   AND NOT EXISTS (
                     SELECT 1 FROM runs e WHERE e.practice_id = r.practice_id AND e.id <> r.id
                       AND (e.status = 'pending' OR e.status = 'running')
                       AND (e.due_at < r.due_at OR (e.due_at = r.due_at AND e.id < r.id) OR (e.status = 'running' AND e.lease_until >= $1)))
                 ORDER BY due_at, id LIMIT 1",
            )
            .bind(store::seconds(now))
            .fetch_optional(self.store.pool())
            .await?;
            let Some(row) = candidate else { return Ok(None) };
            let id: i64 = row.try_get(0)?;
            let claimed = sqlx::query(
                "UPDATE runs SET status = 'running', claimed_by = $1, lease_until = $2, attempts = attempts + 1
                 WHERE id = $3 AND (status = 'pending' OR (status = 'running' AND lease_until < $4))",
            )
            .bind(&self.host_id)
            .bind(store::seconds(now + self.lease))
            .bind(id)
            .bind(store::seconds(now))
            .execute(self.store.pool())
            .await?
            .rows_affected()
                == 1;
            if !claimed {
                continue; // another host took it first
            }
            let kind: String = row.try_get(2)?;
            let local_date: String = row.try_get(3)?;
            return Ok(Some(ClaimedRun {
                id,
                practice_id: row.try_get(1)?,
                kind: kind.parse().map_err(|_| StoreError::Corrupt(format!("run kind `{kind}`")))?,
                local_date: store::parse_date(&local_date)?,
                at: store::instant(row.try_get(4)?),
            }));
        }
    }

    async fn execute(&self, run: &ClaimedRun, now: DateTime<Utc>) -> Result<(), EngineError> {
        let practice = self.store.practice(run.practice_id).await?;
        let policies = self.policies(practice.id).await?;
        match run.kind {
            RunKind::Bill => self.bill_run(run, &practice, &policies).await,
            RunKind::Superbill => self.superbill_run(run, &practice, &policies).await,
            RunKind::Autopay => self.autopay_run(run, &practice, now).await,
        }
    }

    /// Marks a run finished inside its transaction; fails if the claim was lost meanwhile.
    async fn finish_run(&self, tx: &mut sqlx::AnyConnection, run: &ClaimedRun) -> Result<(), EngineError> {
        let done = sqlx::query("UPDATE runs SET status = 'done', finished_at = $1, error = NULL WHERE id = $2 AND claimed_by = $3 AND status = 'running'")
            .bind(store::seconds(run.at))
            .bind(run.id)
            .bind(&self.host_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err(EngineError::Invalid(format!("run {} was taken over by another host", run.id)));
        }
        Ok(())
    }

    async fn fail_run(&self, run: &ClaimedRun, reason: &str, now: DateTime<Utc>) -> Result<(), EngineError> {
        tracing::warn!(run = run.id, practice = run.practice_id, kind = run.kind.as_str(), "run failed: {reason}");
        let mut tx = self.store.begin().await?;
        sqlx::query("UPDATE runs SET status = 'failed', error = $1, finished_at = $2 WHERE id = $3")
            .bind(reason)
            .bind(store::seconds(now))
            .bind(run.id)
            .execute(&mut *tx)
            .await?;
        let name = format!("{}:{}", run.kind.as_str(), run.local_date);
        events::record(
            &mut tx,
            run.practice_id,
            run.at,
            EventKind::RunFailed { run: name, reason: reason.to_string() },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Opens every pended bill of a practice, as a person saving them would; each opened bill is
    /// then shared as its share policy says.
    pub async fn open_pended_bills(&self, practice_id: i64, now: DateTime<Utc>) -> Result<usize, EngineError> {
        let practice = self.store.practice(practice_id).await?;
        let policies = self.policies(practice_id).await?;
        let mut tx = self.store.begin().await?;
        let rows = sqlx::query("SELECT b.id, c.reference FROM bills b JOIN clients c ON c.id = b.client_id WHERE b.practice_id = $1 AND b.status = 'pended' ORDER BY b.id")
            .bind(practice_id)
            .fetch_all(&mut *tx)
            .await?;
        let mut opened = vec![];
        for row in &rows {
            let bill: i64 = row.try_get(0)?;
            sqlx::query("UPDATE bills SET status = 'open', opened_at = $1 WHERE id = $2")
                .bind(store::seconds(now))
                .bind(bill)
                .execute(&mut *tx)
                .await?;
            events::record(&mut tx, practice_id, now, EventKind::BillOpened { bill, client: row.try_get(1)? }).await?;
            opened.push(bill);
        }
        documents::decide_shares(&mut tx, &practice, &policies, DocumentKind::Bill, &opened, now).await?;
        tx.commit().await?;
        Ok(opened.len())
    }

    /// Adds a product (e.g. a card fee) to the bill holding `appointment`'s lines, as a person
    /// does; only pended and unpaid open bills take products.
    pub async fn add_product(
        &self,
        practice_id: i64,
        appointment: &str,
        name: &str,
        amount: i64,
        now: DateTime<Utc>,
    ) -> Result<i64, EngineError> {
        let row = sqlx::query(
            "SELECT l.bill_id FROM service_lines l JOIN appointments a ON a.id = l.appointment_id
             WHERE a.practice_id = $1 AND a.reference = $2 AND l.bill_id IS NOT NULL LIMIT 1",
        )
        .bind(practice_id)
        .bind(appointment)
        .fetch_optional(self.store.pool())
        .await?
        .ok_or_else(|| EngineError::Invalid(format!("appointment {appointment} is on no bill yet")))?;
        let bill: i64 = row.try_get(0)?;
        self.add_product_to_bill(practice_id, bill, name, amount, now).await?;
        Ok(bill)
    }

    /// Records a warning for a practice, e.g. about its settings.
    pub async fn warn(&self, practice_id: i64, message: String, now: DateTime<Utc>) -> Result<(), EngineError> {
        let mut tx = self.store.begin().await?;
        events::record(&mut tx, practice_id, now, EventKind::Warning { message }).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The events of a practice, in time order.
    pub async fn events(&self, practice_id: i64) -> Result<Vec<Event>, EngineError> {
        events::list(&self.store, practice_id).await
    }
}

/// A run this host holds.
#[derive(Clone, Debug)]
pub(crate) struct ClaimedRun {
    pub(crate) id: i64,
    pub(crate) practice_id: i64,
    pub(crate) kind: RunKind,
    pub(crate) local_date: NaiveDate,
    pub(crate) at: DateTime<Utc>,
}
