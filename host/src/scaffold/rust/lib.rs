//! `{{name}}`, an autobill policy plugin for the {{slot_list}} slot{{slots_plural}}.
//!
//! Each slot is a module of its own, and starts as autobill's documented behaviour: change it into
//! your policy, name the built-in conformance cases that no longer hold in
//! `conformance/overrides.txt`, and add cases of yours under `conformance/`. README.md has the
//! build, test, simulate and install commands.

{{modules}}
/// The policy.
pub struct {{Type}};

#[cfg(target_arch = "wasm32")]
autobill_guest::export_policy!({{Type}}: {{slots}});
