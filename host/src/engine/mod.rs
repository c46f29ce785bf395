//! The engine: records which runs are due in each practice's own time, claims them so each runs
//! exactly once (also across hosts sharing one PostgreSQL), asks the practice's policies, and
//! applies their checked decisions.
//!
//! It has three layers, each in its own place:
//! - **decide** ([`decide`]): pure functions from what a run read and the policies' checked
//!   answers to a plan (documents, share rows, attempts, events). No I/O; tested without a database.
//! - **apply**: the [`store`](crate::store) commits a plan in one transaction together with the
//!   run's row, so a crash leaves nothing half-done and the restart does the whole run again.
//! - **execute** ([`charging`], [`dispatch`]): the effects that leave the process, charges and
//!   emails, each recorded before it is attempted (an attempt with its idempotency key, a share
//!   claimed) and settled after. Both go through a [`pipeline`]: claimed in bounded batches (split
//!   between hosts on PostgreSQL), sent concurrently within a cap on calls in flight.
//!
//! What the payment provider tells afterwards (disputes, refunds, late outcomes) comes in through
//! [`Engine::receive_provider_event`], each event applied at most once.
//!
//! Time only enters through [`Engine::tick`]'s `now`, so a simulated clock drives the same code as
//! the real one.

mod actions;
mod charging;
mod compose;
pub mod decide;
mod dispatch;
pub mod dry_run;
mod pipeline;
mod provider_events;
mod runs;
pub use runs::NextRuns;

pub use actions::MAX_PRODUCT_AMOUNT;
pub use provider_events::ProviderEventOutcome;

use crate::domain::{PracticeId, Slot};
use crate::mail::Mailer;
use crate::payments::PaymentGateway;
use crate::plugin::{ConfiguredPolicy, PluginId, PluginRuntime, PolicyCode, PolicyError};
use crate::store::{Dialect, Store, StoreError};
use chrono::Duration;
use std::sync::Arc;

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
    /// The request is not acceptable, e.g. a product without a name.
    #[error("{0}")]
    Invalid(String),
    /// The thing is in a state that does not allow the change, e.g. adding a product to a paid bill.
    #[error("{0}")]
    Conflict(String),
}

/// The policies in force for one practice, each with the practice's configuration for its slot.
#[derive(Clone)]
pub struct Policies {
    /// When bills are made and how lines are grouped.
    pub cadence: ConfiguredPolicy,
    /// When superbills are made and which lines they hold.
    pub superbill: ConfiguredPolicy,
    /// Which documents are emailed, and when.
    pub share: ConfiguredPolicy,
    /// Which open bills the nightly autopay charges, and how much.
    pub autopay: ConfiguredPolicy,
}

impl Policies {
    /// The policy filling `slot`.
    pub fn slot(&self, slot: Slot) -> &ConfiguredPolicy {
        match slot {
            Slot::BillCadence => &self.cadence,
            Slot::SuperbillInclusion => &self.superbill,
            Slot::ShareFilter => &self.share,
            Slot::AutopaySelection => &self.autopay,
        }
    }

    /// These policies with `slot` filled by `policy`.
    pub fn with(mut self, slot: Slot, policy: ConfiguredPolicy) -> Self {
        match slot {
            Slot::BillCadence => self.cadence = policy,
            Slot::SuperbillInclusion => self.superbill = policy,
            Slot::ShareFilter => self.share = policy,
            Slot::AutopaySelection => self.autopay = policy,
        }
        self
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
    /// Charges whose outcome (paid or declined) was recorded.
    pub charges_settled: usize,
    /// Charges that could not reach the payment provider: pending, sent again later with the
    /// same key.
    pub charges_deferred: usize,
}

/// The billing engine of one host.
pub struct Engine {
    store: Store,
    runtime: Arc<PluginRuntime>,
    default_policy: Arc<dyn PolicyCode>,
    gateway: Arc<dyn PaymentGateway>,
    mailer: Arc<dyn Mailer>,
    host_id: String,
    lease: Duration,
    max_autopay_attempts: i64,
    sender: Option<String>,
    run_workers: usize,
    charges: pipeline::Pipeline,
    sends: pipeline::Pipeline,
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
        let run_workers = default_run_workers(store.dialect());
        Ok(Engine {
            store,
            runtime,
            default_policy: Arc::new(default_plugin),
            gateway,
            mailer,
            host_id: host_id.into(),
            lease: Duration::minutes(10),
            max_autopay_attempts: decide::autopay::MAX_ATTEMPTS,
            sender: None,
            run_workers,
            charges: pipeline::Pipeline::new(1),
            sends: pipeline::Pipeline::new(1),
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

    /// The plugin runtime the engine calls policies through.
    pub fn runtime(&self) -> &Arc<PluginRuntime> {
        &self.runtime
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

    /// How many payment calls may be in flight at once, across bills and practices (default 1:
    /// one charge after another, in a fixed order, as `simulate` needs; the application sets
    /// `[scheduler] charges_in_flight`).
    pub fn set_charges_in_flight(&mut self, in_flight: usize) {
        self.charges = pipeline::Pipeline::new(in_flight);
    }

    /// How many emails may be in the mail server's hands at once (default 1; the application
    /// sets `[smtp] connections`).
    pub fn set_sends_in_flight(&mut self, in_flight: usize) {
        self.sends = pipeline::Pipeline::new(in_flight);
    }

    /// How many nightly attempts a bill gets after soft declines before the client's autopay is
    /// paused (default 3).
    pub fn set_max_autopay_attempts(&mut self, attempts: u32) {
        self.max_autopay_attempts = i64::from(attempts.max(1));
    }

    /// Replaces the policy code that fills the slots a practice leaves empty (the built-in default
    /// plugin unless set).
    pub fn set_default_policy(&mut self, policy: Arc<dyn PolicyCode>) {
        self.default_policy = policy;
    }

    /// The policies a practice has assigned, the default filling empty slots. A plugin compiled
    /// already (by the runtime, which keeps every plugin it compiled by id) is not read again.
    pub async fn policies(&self, practice: PracticeId) -> Result<Policies, EngineError> {
        let default = ConfiguredPolicy::new(self.default_policy.clone(), "");
        let mut policies =
            Policies { cadence: default.clone(), superbill: default.clone(), share: default.clone(), autopay: default };
        for assignment in self.store.assignments(practice).await? {
            let compiled =
                PluginId::from_hex(&assignment.plugin).and_then(|id| self.runtime.compiled(id, &assignment.name));
            let plugin = match compiled {
                Some(plugin) => plugin,
                None => {
                    let (name, bytes) = self.store.plugin(&assignment.plugin).await?;
                    self.runtime.load(&name, &bytes).map_err(|error| EngineError::Plugin {
                        id: assignment.plugin.clone(),
                        reason: error.to_string(),
                    })?
                }
            };
            policies = policies.with(assignment.slot, ConfiguredPolicy::new(Arc::new(plugin), assignment.config));
        }
        Ok(policies)
    }
}
