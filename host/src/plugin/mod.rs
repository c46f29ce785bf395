//! The plugin runtime: loads policy components, runs them sandboxed and bounded, and checks every
//! decision before the engine may act on it.
//!
//! - [`PluginRuntime`] owns the wasmtime engine. [`PluginRuntime::load`] checks a component (size,
//!   format, contract version, imports, which slots it fills) and compiles it once; the result, a
//!   [`Plugin`], is cheap to clone and to call from many tasks.
//! - Every call gets a fresh instance from a pre-instantiated template, an instruction budget
//!   (fuel), a memory cap and a wall-clock deadline, so a trap, a runaway loop, a memory bomb or a
//!   sleep ends that call only.
//! - Text a plugin gives (its errors, its last words, names and stamps in its bytes) is cut to
//!   [`MAX_PLUGIN_TEXT_BYTES`] by [`cut_text`] as it enters the host, so no run error, event, log
//!   line or answer carries more.
//! - Answers are checked by [`validate`]; a bad one is a [`PolicyError`] naming the plugin, the
//!   policy and the problem, and nothing it decided is applied.
//! - Plugins are identified by the SHA-256 of their bytes ([`PluginId`]).
//! - [`PolicyCode`] is what the engine calls, in the contract's types; [`ConfiguredPolicy`] asks it
//!   in the host's types, converting with [`convert`]. The month-end benchmark implements
//!   [`PolicyCode`] with the default policy compiled natively, to measure the WebAssembly boundary.

mod configured;
pub mod contract;
pub mod convert;
mod sandbox;
pub mod validate;
pub mod versions;

pub use crate::domain::Slot;
pub use configured::ConfiguredPolicy;

/// Paths of the plugins built from this workspace, and the bytes of the built-in default.
pub mod artifacts {
    include!(concat!(env!("OUT_DIR"), "/plugins.rs"));
}

/// The contract's types, as the host sees them: the newest served version's.
pub mod policy {
    pub use super::versions::v0_2::types::*;
}

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use policy::{
    AutopayCandidate, AutopayDecision, BillPlan, Catalog, ClientBilling, Date, PracticeContext, ServiceLine,
    ShareDecision, ShareRequest, SuperbillPlan,
};
use sandbox::Sandbox;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use versions::{ContractVersion, Exports};
use wasmtime::component::{Component, InstancePre, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap};

/// The bounds every plugin call runs within.
#[derive(Clone, Debug)]
pub struct PluginLimits {
    /// Instructions (fuel units) one call may spend, instantiation included.
    pub fuel: u64,
    /// The most linear memory one instance may have, in bytes.
    pub memory_bytes: usize,
    /// The largest component file accepted, in bytes. 32 MiB by default: a policy written in
    /// Python carries its interpreter (about 18 MB with componentize-py), one in Rust well under 1 MB.
    pub component_bytes: usize,
    /// The largest per-practice plugin configuration accepted, in bytes.
    pub config_bytes: usize,
    /// How many plugin calls may run at once in one runtime (the size of the instance pool).
    pub concurrent_calls: u32,
    /// The longest one call may take, in wall-clock time: guest code and every wait on WASI.
    pub call_timeout: Duration,
}

/// How much of a pooled instance's memory stays resident (and is zeroed in place) between calls.
const POOL_RESIDENT_BYTES: usize = 4 << 20;

impl Default for PluginLimits {
    fn default() -> Self {
        PluginLimits {
            fuel: 2_000_000_000,
            memory_bytes: 64 << 20,
            component_bytes: 32 << 20,
            config_bytes: 10 * 1024,
            concurrent_calls: 32,
            call_timeout: Duration::from_millis(2000),
        }
    }
}

/// The most text of a plugin's (an error, a crash message) the host keeps, in bytes.
pub const MAX_PLUGIN_TEXT_BYTES: usize = 1024;

/// `text` from a plugin, cut to [`MAX_PLUGIN_TEXT_BYTES`] at a character boundary and marked
/// `… (cut; N bytes)` with its full length when it was longer.
pub fn cut_text(text: &str) -> String {
    if text.len() <= MAX_PLUGIN_TEXT_BYTES {
        return text.to_string();
    }
    let end = (0..=MAX_PLUGIN_TEXT_BYTES).rev().find(|&end| text.is_char_boundary(end)).unwrap_or(0);
    format!("{}… (cut; {} bytes)", &text[..end], text.len())
}

/// How often the engine's epoch advances: the grain at which a call's deadline is checked
/// while guest code runs.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// A plugin's identity: the SHA-256 of its component bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PluginId([u8; 32]);

impl PluginId {
    /// The id of these component bytes.
    pub fn of(bytes: &[u8]) -> Self {
        PluginId(Sha256::digest(bytes).into())
    }

    /// The id in lowercase hex, as stored and shown.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    /// The id written in hex, if `text` is one.
    pub fn from_hex(text: &str) -> Option<Self> {
        if text.len() != 64 || !text.is_ascii() {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(text.as_bytes().chunks(2)) {
            *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
        }
        Some(PluginId(bytes))
    }
}

impl fmt::Display for PluginId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for PluginId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PluginId({})", &self.to_hex()[..12])
    }
}

/// Why a component could not be loaded as a plugin.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file is larger than the configured limit.
    #[error("the plugin is {size} bytes; the limit is {limit} bytes")]
    TooLarge {
        /// The file's size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The bytes are not a WebAssembly component.
    #[error("not a WebAssembly component ({0}); build the plugin with `cargo build --release --target wasm32-wasip2`")]
    NotAComponent(String),
    /// The component was built for a contract version this host does not serve.
    #[error(
        "the plugin was built for contract {found}, but this host serves {served}; rebuild it with a guest SDK for {served}"
    )]
    UnsupportedContract {
        /// The version the plugin names.
        found: String,
        /// The versions this host serves.
        served: &'static str,
    },
    /// The component exports none of the policy interfaces.
    #[error(
        "the plugin exports no policy of {served}; export at least one of bill-cadence, superbill-inclusion, share-filter or (from 0.2) autopay-selection"
    )]
    NoPolicy {
        /// The versions this host serves.
        served: &'static str,
    },
    /// The component exports policies of two contract versions.
    #[error(
        "the plugin exports policies of two contract versions ({0}); build every policy of one plugin against one contract version"
    )]
    MixedContracts(String),
    /// The component needs an import the sandbox does not give.
    #[error(
        "the plugin needs an import the sandbox does not give (policies get their inputs as arguments, and only an empty WASI): {0}"
    )]
    UnsatisfiedImport(String),
    /// The engine itself could not be set up.
    #[error("the WebAssembly engine could not be set up: {0}")]
    Engine(String),
}

/// What went wrong in one policy call.
#[derive(Debug, thiserror::Error)]
pub enum PolicyProblem {
    /// The plugin does not fill the slot it was called for.
    #[error("the plugin does not fill the {0} slot")]
    MissingSlot(Slot),
    /// The call ran past its wall-clock deadline (guest code, or a wait on WASI).
    #[error("it ran for more than {} ms (the plugin call time limit)", .0.as_millis())]
    TimeLimit(Duration),
    /// The call spent its whole instruction budget.
    #[error("it ran out of its instruction budget of {0} units (an endless loop, or far too much work for one call)")]
    OutOfFuel(u64),
    /// The instance tried to grow its memory past the cap.
    #[error("it tried to use more than its memory limit of {0} bytes")]
    MemoryLimit(usize),
    /// The guest trapped (a panic, or a WebAssembly fault).
    #[error("it crashed: {0}")]
    Trap(String),
    /// The policy returned an error of its own.
    #[error("it reported an error: {0}")]
    Reported(String),
    /// The policy returned a decision the host refuses.
    #[error("it returned an invalid decision: {0}")]
    InvalidDecision(String),
    /// The practice's configuration for the plugin is over the size limit.
    #[error("the plugin configuration is {size} bytes; the limit is {limit} bytes")]
    ConfigTooLarge {
        /// The configuration's size.
        size: usize,
        /// The limit.
        limit: usize,
    },
}

/// A failed policy call: which plugin, which policy function, and what went wrong.
#[derive(Debug, thiserror::Error)]
#[error("plugin `{plugin}` failed in {policy}: {problem}")]
pub struct PolicyError {
    /// The plugin's name.
    pub plugin: String,
    /// The policy function, e.g. `bill-cadence.group-lines`.
    pub policy: &'static str,
    /// What went wrong.
    pub problem: PolicyProblem,
}

/// Loads and runs policy plugins; one per process is enough.
pub struct PluginRuntime {
    engine: Engine,
    linker: Linker<Sandbox>,
    limits: PluginLimits,
    loaded: Mutex<HashMap<PluginId, Plugin>>,
}

impl PluginRuntime {
    /// A runtime whose plugins run within `limits`.
    pub fn new(limits: PluginLimits) -> Result<Self, LoadError> {
        let mut config = Config::new();
        config.consume_fuel(true);
        // The wall-clock bound: guest code is interrupted when the engine's epoch, advanced by a
        // ticker thread, passes the call's deadline; waits on WASI end at the deadline
        // (`sandbox::bound_waits`). Chosen over async calls under a timeout, which would make every
        // call pay for a fiber and an executor, and over refusing waits, which would fail a plugin
        // that sleeps briefly but well within its time.
        config.epoch_interruption(true);
        config.concurrency_support(false);
        config.max_wasm_stack(1 << 20);
        // Instances come from a pool of pre-reserved slots whose memory stays mapped between calls,
        // so a call does not pay for fresh pages; our own limiter still enforces `memory_bytes`.
        let mut pool = PoolingAllocationConfig::new();
        pool.total_component_instances(limits.concurrent_calls)
            .total_core_instances(limits.concurrent_calls.saturating_mul(8))
            .total_memories(limits.concurrent_calls.saturating_mul(2))
            .total_tables(limits.concurrent_calls.saturating_mul(8))
            .max_memory_size(limits.memory_bytes.saturating_mul(2))
            .linear_memory_keep_resident(POOL_RESIDENT_BYTES)
            .table_keep_resident(POOL_RESIDENT_BYTES);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config).map_err(|error| LoadError::Engine(error.to_string()))?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|error| LoadError::Engine(error.to_string()))?;
        sandbox::bound_waits(&mut linker).map_err(|error| LoadError::Engine(error.to_string()))?;
        start_epoch_ticker(&engine).map_err(|error| LoadError::Engine(error.to_string()))?;
        Ok(PluginRuntime { engine, linker, limits, loaded: Mutex::new(HashMap::new()) })
    }

    /// The limits every call runs within.
    pub fn limits(&self) -> &PluginLimits {
        &self.limits
    }

    /// The built-in default plugin, which fills every slot with the documented behaviour.
    pub fn load_default(&self) -> Result<Plugin, LoadError> {
        self.load("default", artifacts::DEFAULT_COMPONENT)
    }

    /// The plugin with this id, if it is compiled already, under `name`.
    pub fn compiled(&self, id: PluginId, name: &str) -> Option<Plugin> {
        let loaded = self.loaded.lock().ok()?;
        loaded.get(&id).map(|plugin| Plugin { name: name.into(), inner: plugin.inner.clone() })
    }

    /// Checks and compiles a component. Loading the same bytes again (under any name) reuses the
    /// compiled plugin.
    pub fn load(&self, name: &str, bytes: &[u8]) -> Result<Plugin, LoadError> {
        let id = PluginId::of(bytes);
        if let Some(plugin) =
            self.loaded.lock().map_err(|_| LoadError::Engine("plugin cache poisoned".into()))?.get(&id)
        {
            return Ok(Plugin { name: name.into(), inner: plugin.inner.clone() });
        }
        let plugin = self.compile(name, id, bytes)?;
        if let Ok(mut loaded) = self.loaded.lock() {
            loaded.insert(id, plugin.clone());
        }
        Ok(plugin)
    }

    fn compile(&self, name: &str, id: PluginId, bytes: &[u8]) -> Result<Plugin, LoadError> {
        if bytes.len() > self.limits.component_bytes {
            return Err(LoadError::TooLarge { size: bytes.len(), limit: self.limits.component_bytes });
        }
        if !contract::is_component(bytes) {
            let what = if bytes.starts_with(b"\0asm") { "a core WebAssembly module" } else { "not WebAssembly at all" };
            return Err(LoadError::NotAComponent(what.to_string()));
        }
        let stamped = contract::check_stamp(bytes)?;
        let component = Component::new(&self.engine, bytes)
            .map_err(|error| LoadError::NotAComponent(cut_text(&format!("{error:#}"))))?;
        let exported = policy_exports(&self.engine, &component)?;
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|error| LoadError::UnsatisfiedImport(cut_text(&format!("{error:#}"))))?;
        // The exports' names say which contract the policies were built for; the stamp only
        // stands in when they name none (and then no policy is found).
        let version = exported.or(stamped).ok_or(LoadError::NoPolicy { served: contract::SERVED_VERSIONS })?;
        let served = ContractVersion::of(&version).ok_or_else(|| LoadError::UnsupportedContract {
            found: cut_text(&version),
            served: contract::SERVED_VERSIONS,
        })?;
        let exports = Exports::new(served, &pre);
        if !Slot::ALL.into_iter().any(|slot| exports.fills(slot)) {
            return Err(LoadError::NoPolicy { served: contract::SERVED_VERSIONS });
        }
        Ok(Plugin {
            name: name.into(),
            inner: Arc::new(Inner {
                id,
                version: Some(version),
                pre,
                exports,
                engine: self.engine.clone(),
                limits: self.limits.clone(),
                calls_out_of_time: AtomicU64::new(0),
            }),
        })
    }
}

/// Advances `engine`'s epoch every [`EPOCH_TICK`] on a thread of its own, until the engine is
/// dropped.
fn start_epoch_ticker(engine: &Engine) -> std::io::Result<()> {
    let engine = engine.weak();
    std::thread::Builder::new().name("plugin-epoch".into()).spawn(move || {
        while let Some(engine) = engine.upgrade() {
            engine.increment_epoch();
            drop(engine);
            std::thread::sleep(EPOCH_TICK);
        }
    })?;
    Ok(())
}

/// The contract version named by the component's policy exports, refusing versions not served
/// and components whose policies name two versions.
fn policy_exports(engine: &Engine, component: &Component) -> Result<Option<String>, LoadError> {
    let prefix = format!("{}/", contract::CONTRACT_PACKAGE);
    let mut version: Option<(String, ContractVersion)> = None;
    for (name, _) in component.component_type().exports(engine) {
        let Some(rest) = name.strip_prefix(&prefix) else { continue };
        let Some((_, found)) = rest.split_once('@') else { continue };
        let Some(served) = ContractVersion::of(found) else {
            return Err(LoadError::UnsupportedContract { found: cut_text(name), served: contract::SERVED_VERSIONS });
        };
        match &version {
            Some((seen, earlier)) if *earlier != served => {
                return Err(LoadError::MixedContracts(cut_text(&format!("{seen} and {found}"))));
            }
            _ => version = Some((found.to_string(), served)),
        }
    }
    Ok(version.map(|(found, _)| found))
}

/// A loaded plugin, ready to call. Cheap to clone.
#[derive(Clone)]
pub struct Plugin {
    name: Arc<str>,
    inner: Arc<Inner>,
}

/// The compiled part of a plugin, shared by every name the same bytes are loaded under.
struct Inner {
    id: PluginId,
    version: Option<String>,
    pre: InstancePre<Sandbox>,
    exports: Exports,
    engine: Engine,
    limits: PluginLimits,
    calls_out_of_time: AtomicU64,
}

impl fmt::Debug for Plugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plugin")
            .field("name", &self.name)
            .field("id", &self.inner.id)
            .field("slots", &self.slots())
            .finish()
    }
}

impl Plugin {
    /// The name the plugin was loaded under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The SHA-256 of the component's bytes.
    pub fn id(&self) -> PluginId {
        self.inner.id
    }

    /// The contract version the plugin was built for.
    pub fn contract_version(&self) -> Option<&str> {
        self.inner.version.as_deref()
    }

    /// Whether the plugin fills `slot`.
    pub fn fills(&self, slot: Slot) -> bool {
        self.inner.exports.fills(slot)
    }

    /// The slots the plugin fills.
    pub fn slots(&self) -> Vec<Slot> {
        Slot::ALL.into_iter().filter(|slot| self.fills(*slot)).collect()
    }

    /// How many of the plugin's calls ran past the call time limit since it was loaded.
    pub fn calls_out_of_time(&self) -> u64 {
        self.inner.calls_out_of_time.load(Ordering::Relaxed)
    }

    /// Asks the plugin whether `config` is a configuration it accepts for `slot`.
    pub fn check_config(&self, slot: Slot, config: &str) -> Result<(), PolicyError> {
        let policy = match slot {
            Slot::BillCadence => "bill-cadence.check-config",
            Slot::SuperbillInclusion => "superbill-inclusion.check-config",
            Slot::ShareFilter => "share-filter.check-config",
            Slot::AutopaySelection => "autopay-selection.check-config",
        };
        self.call(DateTime::<Utc>::UNIX_EPOCH, policy, config, slot, |store, instance, exports| {
            exports.check_config(store, instance, slot, config)
        })
    }

    fn invalid(&self, policy: &'static str, reason: String) -> PolicyError {
        self.error(policy, PolicyProblem::InvalidDecision(reason))
    }

    fn error(&self, policy: &'static str, problem: PolicyProblem) -> PolicyError {
        PolicyError { plugin: self.name.to_string(), policy, problem }
    }

    /// Runs one call in a fresh, bounded instance and turns every way it can fail into a
    /// [`PolicyError`].
    fn call<R: Send>(
        &self,
        at: DateTime<Utc>,
        policy: &'static str,
        config: &str,
        slot: Slot,
        run: impl FnOnce(&mut Store<Sandbox>, &wasmtime::component::Instance, &Exports) -> versions::CallResult<R> + Send,
    ) -> Result<R, PolicyError> {
        let inner = &*self.inner;
        if !inner.exports.fills(slot) {
            return Err(self.error(policy, PolicyProblem::MissingSlot(slot)));
        }
        if config.len() > inner.limits.config_bytes {
            return Err(self.error(
                policy,
                PolicyProblem::ConfigTooLarge { size: config.len(), limit: inner.limits.config_bytes },
            ));
        }
        let execute = || {
            let timeout = inner.limits.call_timeout;
            let started = Instant::now();
            let deadline = started.checked_add(timeout).unwrap_or(started);
            let mut store = Store::new(&inner.engine, Sandbox::new(at, inner.limits.memory_bytes, deadline));
            store.limiter(|sandbox| sandbox as &mut dyn wasmtime::ResourceLimiter);
            store
                .set_fuel(inner.limits.fuel)
                .map_err(|error| self.error(policy, PolicyProblem::Trap(error.to_string())))?;
            // One tick more than the timeout: the epoch may advance just after the call starts.
            let ticks = timeout.as_millis().div_ceil(EPOCH_TICK.as_millis()) + 1;
            store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX));
            let outcome =
                inner.pre.instantiate(&mut store).and_then(|instance| run(&mut store, &instance, &inner.exports));
            // A guest whose wait was cut short at the deadline may answer before the next tick:
            // it still took too long.
            let problem = match outcome {
                _ if started.elapsed() > timeout => PolicyProblem::TimeLimit(timeout),
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(reason)) => PolicyProblem::Reported(cut_text(&reason)),
                Err(error) => classify(&store, &error, &inner.limits),
            };
            if matches!(problem, PolicyProblem::TimeLimit(_)) {
                inner.calls_out_of_time.fetch_add(1, Ordering::Relaxed);
            }
            Err(self.error(policy, problem))
        };
        // WASI's blocking host calls (a guest writing its panic message to stderr, say) block on
        // a tokio runtime, which cannot be done on a thread that is running async tasks. On a
        // multi-threaded runtime the call leaves the runtime for its duration (the worker's other
        // tasks move to another thread); on a single-threaded one it runs on a thread of its own.
        match tokio::runtime::Handle::try_current().map(|handle| handle.runtime_flavor()) {
            Err(_) => return execute(),
            Ok(tokio::runtime::RuntimeFlavor::MultiThread) => return tokio::task::block_in_place(execute),
            Ok(_) => {}
        }
        std::thread::scope(|scope| scope.spawn(execute).join()).unwrap_or_else(|_| {
            Err(self.error(policy, PolicyProblem::Trap("the thread running the plugin call panicked".into())))
        })
    }
}

/// Policy code the engine calls, in the contract's types: a loaded [`Plugin`], or the same
/// decisions made some other way. Every implementation checks its answers with [`validate`]
/// before giving them, so a bad answer is a [`PolicyError`], never applied.
pub trait PolicyCode: Send + Sync {
    /// The name shown in errors and dry runs.
    fn name(&self) -> &str;

    /// The dates from `first` to `last` at whose 12:00 am a bill run is due. `at` is the run's
    /// time, which is all the policy's clock shows.
    fn bill_run_dates(
        &self,
        at: DateTime<Utc>,
        practice: &PracticeContext,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Result<Vec<NaiveDate>, PolicyError>;

    /// Groups unbilled lines into bills, checked: only given lines, each once, never an empty bill.
    fn group_lines(
        &self,
        at: DateTime<Utc>,
        practice: &PracticeContext,
        run_date: NaiveDate,
        catalog: &Catalog,
        lines: &[ServiceLine],
    ) -> Result<Vec<BillPlan>, PolicyError>;

    /// The day of the month superbills are made, checked to exist in that month.
    fn superbill_run_day(
        &self,
        at: DateTime<Utc>,
        practice: &PracticeContext,
        year: i32,
        month: u8,
    ) -> Result<u8, PolicyError>;

    /// Picks the superbills to create, checked like bills.
    fn select_lines(
        &self,
        at: DateTime<Utc>,
        practice: &PracticeContext,
        run_date: NaiveDate,
        clients: &[ClientBilling],
        catalog: &Catalog,
        lines: &[ServiceLine],
    ) -> Result<Vec<SuperbillPlan>, PolicyError>;

    /// Decides, per document, whether it is emailed and after what delay; checked to give one
    /// bounded decision per request.
    fn decide_shares(
        &self,
        at: DateTime<Utc>,
        practice: &PracticeContext,
        requests: &[ShareRequest],
    ) -> Result<Vec<ShareDecision>, PolicyError>;

    /// Decides, per autopay candidate, whether tonight's autopay charges it and how much; checked
    /// to give one decision per candidate, each charge within the bill's balance.
    fn select_charges(
        &self,
        at: DateTime<Utc>,
        practice: &PracticeContext,
        candidates: &[AutopayCandidate],
    ) -> Result<Vec<AutopayDecision>, PolicyError>;
}

impl PolicyCode for Plugin {
    fn name(&self) -> &str {
        &self.name
    }

    fn bill_run_dates(
        &self,
        at: DateTime<Utc>,
        practice: &PracticeContext,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Result<Vec<NaiveDate>, PolicyError> {
        let policy = "bill-cadence.bill-run-dates";
        let (first, last) = (to_policy_date(first), to_policy_date(last));
        let dates = self.call(at, policy, &practice.config, Slot::BillCadence, |store, instance, exports| {
            exports.bill_run_dates(store, instance, practice, first, last)
        })?;
        validate::run_dates(&first, &last, &dates).map_err(|reason| self.invalid(policy, reason))
    }

    fn group_lines(
        &self,
        at: DateTime<Utc>,
        practice: &PracticeContext,
        run_date: NaiveDate,
        catalog: &Catalog,
        lines: &[ServiceLine],
    ) -> Result<Vec<BillPlan>, PolicyError> {
        let policy = "bill-cadence.group-lines";
        let run_date = to_policy_date(run_date);
        let bills = self.call(at, policy, &practice.config, Slot::BillCadence, |store, instance, exports| {
            exports.group_lines(store, instance, practice, run_date, catalog, lines)
        })?;
        validate::bill_plans(lines, &bills).map_err(|reason| self.invalid(policy, reason))?;
        Ok(bills)
    }

    fn superbill_run_day(
        &self,
        at: DateTime<Utc>,
        practice: &PracticeContext,
        year: i32,
        month: u8,
    ) -> Result<u8, PolicyError> {
        let policy = "superbill-inclusion.superbill-run-day";
        let day = self.call(at, policy, &practice.config, Slot::SuperbillInclusion, |store, instance, exports| {
            exports.superbill_run_day(store, instance, practice, year, month)
        })?;
        validate::superbill_day(year, month, day).map_err(|reason| self.invalid(policy, reason))?;
        Ok(day)
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
        let policy = "superbill-inclusion.select-lines";
        let run_date = to_policy_date(run_date);
        let superbills =
            self.call(at, policy, &practice.config, Slot::SuperbillInclusion, |store, instance, exports| {
                exports.select_lines(store, instance, practice, run_date, clients, catalog, lines)
            })?;
        validate::superbill_plans(lines, &superbills).map_err(|reason| self.invalid(policy, reason))?;
        Ok(superbills)
    }

    fn decide_shares(
        &self,
        at: DateTime<Utc>,
        practice: &PracticeContext,
        requests: &[ShareRequest],
    ) -> Result<Vec<ShareDecision>, PolicyError> {
        let policy = "share-filter.decide-shares";
        let decisions = self.call(at, policy, &practice.config, Slot::ShareFilter, |store, instance, exports| {
            exports.decide_shares(store, instance, practice, requests)
        })?;
        validate::share_decisions(requests.len(), &decisions).map_err(|reason| self.invalid(policy, reason))?;
        Ok(decisions)
    }

    fn select_charges(
        &self,
        at: DateTime<Utc>,
        practice: &PracticeContext,
        candidates: &[AutopayCandidate],
    ) -> Result<Vec<AutopayDecision>, PolicyError> {
        let policy = "autopay-selection.select-charges";
        let decisions =
            self.call(at, policy, &practice.config, Slot::AutopaySelection, |store, instance, exports| {
                exports.select_charges(store, instance, practice, candidates)
            })?;
        validate::autopay_decisions(candidates, &decisions).map_err(|reason| self.invalid(policy, reason))?;
        Ok(decisions)
    }
}

/// Names the limit a failed call hit, or the guest's own last words for a crash.
fn classify(store: &Store<Sandbox>, error: &wasmtime::Error, limits: &PluginLimits) -> PolicyProblem {
    if let Some(versions::UnconvertibleAnswer(reason)) = error.downcast_ref() {
        return PolicyProblem::InvalidDecision(cut_text(reason));
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => return PolicyProblem::OutOfFuel(limits.fuel),
        Some(Trap::Interrupt) => return PolicyProblem::TimeLimit(limits.call_timeout),
        _ => {}
    }
    let sandbox = store.data();
    if sandbox.memory_exceeded() {
        return PolicyProblem::MemoryLimit(limits.memory_bytes);
    }
    let trap = error.downcast_ref::<Trap>().map_or_else(|| format!("{error:#}"), |trap| trap.to_string());
    match sandbox.last_stderr_line() {
        Some(said) => PolicyProblem::Trap(format!("{}; the plugin said: {}", cut_text(&trap), cut_text(&said))),
        None => PolicyProblem::Trap(cut_text(&trap)),
    }
}

/// A chrono date as the contract's date.
pub fn to_policy_date(date: NaiveDate) -> Date {
    // month() and day() are at most 12 and 31, so they fit in a u8.
    Date { year: date.year(), month: date.month() as u8, day: date.day() as u8 }
}

/// The contract's date as a chrono date, if it names a real day.
pub fn from_policy_date(date: &Date) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(date.year, u32::from(date.month), u32::from(date.day))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_text_within_the_cap_is_kept_whole() {
        let text = "é".repeat(MAX_PLUGIN_TEXT_BYTES / 2);
        assert_eq!(cut_text(&text), text);
        assert_eq!(cut_text(""), "");
    }

    #[test]
    fn longer_plugin_text_is_cut_at_a_character_boundary_and_says_how_long_it_was() {
        let text = format!("a{}", "é".repeat(MAX_PLUGIN_TEXT_BYTES));
        let cut = cut_text(&text);
        let marker = format!("… (cut; {} bytes)", text.len());
        assert!(cut.ends_with(&marker), "{cut}");
        let kept = &cut[..cut.len() - marker.len()];
        assert_eq!(kept.len(), MAX_PLUGIN_TEXT_BYTES - 1, "the last whole character before the cap");
        assert!(text.starts_with(kept));
    }
}
