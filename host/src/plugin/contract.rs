//! Which contract versions this host serves, and how a component says which one it was built for.

use super::LoadError;
use super::versions::ContractVersion;
use wasmtime::wasmparser::{Parser, Payload};

/// The contract package this host is built against.
pub const CONTRACT_PACKAGE: &str = "autobill:policy";

/// The newest contract version this host serves.
pub const CONTRACT_VERSION: &str = "0.2.0";

/// The versions this host serves, as people read them.
pub const SERVED_VERSIONS: &str = "autobill:policy@0.1.x and @0.2.x";

/// The custom section the guest SDK stamps into every component.
pub const STAMP_SECTION: &str = "autobill:contract";

/// Whether this host serves `version` (`major.minor.patch`).
pub fn is_served(version: &str) -> bool {
    ContractVersion::of(version).is_some()
}

/// Reads the contract stamp, if any, from a component's bytes (nested modules included) and
/// refuses a version this host cannot serve, before anything is compiled or run.
pub fn check_stamp(bytes: &[u8]) -> Result<Option<String>, LoadError> {
    let mut stamp = None;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|error| LoadError::NotAComponent(super::cut_text(error.message())))?;
        match payload {
            Payload::CustomSection(section) if section.name() == STAMP_SECTION => {
                let text = String::from_utf8_lossy(section.data()).trim_end_matches('\0').to_string();
                stamp = Some(text);
            }
            _ => {}
        }
    }
    let Some(stamp) = stamp else { return Ok(None) };
    let version = stamp
        .strip_prefix(CONTRACT_PACKAGE)
        .and_then(|rest| rest.strip_prefix('@'))
        .ok_or_else(|| LoadError::UnsupportedContract { found: super::cut_text(&stamp), served: SERVED_VERSIONS })?;
    if !is_served(version) {
        return Err(LoadError::UnsupportedContract { found: super::cut_text(&stamp), served: SERVED_VERSIONS });
    }
    Ok(Some(version.to_string()))
}

/// Whether the bytes start as a component rather than a core module or something else.
pub fn is_component(bytes: &[u8]) -> bool {
    Parser::is_component(bytes)
}
