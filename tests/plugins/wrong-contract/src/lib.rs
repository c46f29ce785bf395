//! Test fixture for the host's fault tests: a component stamped with contract version 9.0.0, which
//! no host serves, standing for a plugin built for a contract the host cannot run. It does not use
//! the SDK and exports nothing: the host must refuse it from the stamp alone, before running it.

/// The contract stamp the SDK's `export_policy!` would write, with a version no host serves.
#[unsafe(link_section = "autobill:contract")]
#[used]
static CONTRACT: [u8; 21] = *b"autobill:policy@9.0.0";

/// Keeps the crate from being empty.
pub fn contract_version() -> &'static str {
    "9.0.0"
}
