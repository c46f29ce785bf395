//! Stored plugins as an operator manages them, shared by the HTTP API and the `autobill plugin`
//! commands: add a component (checked by the runtime and the conformance kit's admission suites
//! before it is stored), list what is stored,
//! and assign a stored plugin to a practice's slot once it fills the slot and accepts the
//! configuration. Nothing is written unless every check passed.

use crate::conformance::{self, Report, report};
use crate::domain::{PracticeId, Slot};
use crate::plugin::{LoadError, Plugin, PluginId, PluginRuntime, PolicyError};
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};

/// The longest plugin name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// Why a plugin could not be added or assigned.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The name is blank, too long or holds control characters.
    #[error("the plugin name must be 1 to {MAX_NAME_CHARS} printable characters")]
    BadName,
    /// There are no bytes to check.
    #[error("the plugin is empty; give the component built with `cargo build --release --target wasm32-wasip2`")]
    Empty,
    /// The runtime refused the component (not a component, a contract version not served, too large…).
    #[error(transparent)]
    Invalid(LoadError),
    /// The component loads but failed the conformance kit's admission suites.
    #[error("{}", report::refusal(.0))]
    FailedKit(Box<Report>),
    /// No plugin with this id is stored.
    #[error("plugin {0} is not stored")]
    UnknownPlugin(String),
    /// The plugin does not fill the slot it was assigned to.
    #[error("plugin {id} does not fill the {slot} slot; it fills: {fills}")]
    WrongSlot {
        /// The plugin's id.
        id: String,
        /// The slot asked for.
        slot: Slot,
        /// The slots it does fill, for people.
        fills: String,
    },
    /// The plugin refused the configuration (its `check-config`), or the configuration is too large.
    #[error("the configuration was refused: {0}")]
    Config(PolicyError),
    /// The database failed, or the practice does not exist.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A plugin as the runtime sees it: what it is and which slots it fills.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginSummary {
    /// The SHA-256 of its bytes, hex: its id.
    pub id: String,
    /// The name it was stored under.
    pub name: String,
    /// Its size in bytes.
    pub size: usize,
    /// The contract version it was built for, when it names one.
    pub contract_version: Option<String>,
    /// The slots it fills.
    pub slots: Vec<Slot>,
}

impl PluginSummary {
    fn of(plugin: &Plugin, size: usize) -> Self {
        PluginSummary {
            id: plugin.id().to_hex(),
            name: plugin.name().to_string(),
            size,
            contract_version: plugin.contract_version().map(str::to_string),
            slots: plugin.slots(),
        }
    }
}

/// A stored plugin, with what the runtime makes of it today.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredPlugin {
    /// Its id, name, size, contract version and slots. The version and slots are empty when it no
    /// longer loads.
    pub summary: PluginSummary,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
    /// Why it no longer loads (e.g. this host's size limit is now smaller); `None` when it loads.
    pub problem: Option<String>,
}

/// Checks a plugin name and returns it trimmed.
pub fn check_name(name: &str) -> Result<String, RegistryError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(RegistryError::BadName);
    }
    Ok(name.to_string())
}

/// Checks a component with the runtime (a component, a contract version this host serves, within
/// the size limit, filling at least one slot) and the conformance kit's [`conformance::ADMISSION`]
/// suites (every slot it fills answers within its limits, with answers the host accepts), then
/// stores it under `name`. Adding the same bytes again changes nothing and answers the plugin
/// already stored.
pub async fn add(
    store: &Store,
    runtime: &PluginRuntime,
    name: &str,
    bytes: &[u8],
    now: DateTime<Utc>,
) -> Result<PluginSummary, RegistryError> {
    let name = check_name(name)?;
    if bytes.is_empty() {
        return Err(RegistryError::Empty);
    }
    let plugin = runtime.load(&name, bytes).map_err(RegistryError::Invalid)?;
    let options = conformance::Options { limits: runtime.limits().clone(), ..conformance::Options::new(0) };
    let report = conformance::admit(&name, plugin.clone(), &options);
    if !report.passed() {
        return Err(RegistryError::FailedKit(Box::new(report)));
    }
    let id = PluginId::of(bytes).to_hex();
    store.save_plugin(&id, &name, bytes, now).await?;
    Ok(PluginSummary::of(&plugin, bytes.len()))
}

/// Every stored plugin, oldest first, each as the runtime sees it (its contract version and
/// slots). A plugin compiled already is not read again: its bytes are read only to compile it.
pub async fn list(store: &Store, runtime: &PluginRuntime) -> Result<Vec<StoredPlugin>, RegistryError> {
    let mut listed = vec![];
    for row in store.plugins().await? {
        let size = usize::try_from(row.size).unwrap_or(usize::MAX);
        let compiled = PluginId::from_hex(&row.id).and_then(|id| runtime.compiled(id, &row.name));
        let loaded = match compiled {
            Some(plugin) => Ok(plugin),
            None => {
                let (name, bytes) = store.plugin(&row.id).await?;
                runtime.load(&name, &bytes)
            }
        };
        let (summary, problem) = match loaded {
            Ok(plugin) => (PluginSummary::of(&plugin, size), None),
            Err(error) => (
                PluginSummary { id: row.id, name: row.name, size, contract_version: None, slots: vec![] },
                Some(error.to_string()),
            ),
        };
        listed.push(StoredPlugin { summary, created_at: row.created_at, problem });
    }
    Ok(listed)
}

/// Loads a stored plugin and checks that it fills `slot` and accepts `config`.
pub async fn checked(
    store: &Store,
    runtime: &PluginRuntime,
    id: &str,
    slot: Slot,
    config: &str,
) -> Result<Plugin, RegistryError> {
    let (name, bytes) = store.plugin(id).await.map_err(|error| match error {
        StoreError::NotFound { .. } => RegistryError::UnknownPlugin(id.to_string()),
        other => RegistryError::Store(other),
    })?;
    let plugin = runtime.load(&name, &bytes).map_err(RegistryError::Invalid)?;
    if !plugin.fills(slot) {
        let fills: Vec<&str> = plugin.slots().into_iter().map(Slot::as_str).collect();
        return Err(RegistryError::WrongSlot {
            id: id.to_string(),
            slot,
            fills: if fills.is_empty() { "none".to_string() } else { fills.join(", ") },
        });
    }
    plugin.check_config(slot, config).map_err(RegistryError::Config)?;
    Ok(plugin)
}

/// Assigns a stored plugin to a practice's slot with its configuration, once the practice exists,
/// the plugin fills the slot and accepts the configuration.
pub async fn assign(
    store: &Store,
    runtime: &PluginRuntime,
    practice: PracticeId,
    slot: Slot,
    id: &str,
    config: &str,
) -> Result<(), RegistryError> {
    store.practice(practice).await?;
    checked(store, runtime, id, slot, config).await?;
    store.assign_plugin(practice, slot, id, config).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(check_name("  share only ").ok().as_deref(), Some("share only"));
        assert!(matches!(check_name("   "), Err(RegistryError::BadName)));
        assert!(matches!(check_name(&"x".repeat(MAX_NAME_CHARS + 1)), Err(RegistryError::BadName)));
        assert!(matches!(check_name("a\nb"), Err(RegistryError::BadName)));
    }
}
