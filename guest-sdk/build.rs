//! Turns the released WIT contract into the `inline` document that the SDK's export macros hand
//! to wit-bindgen in the plugin author's crate, so authors never point at WIT files themselves.

use std::fmt::Write as _;
use std::path::Path;
use std::{env, fs};

/// The contract release this SDK builds plugins for. `contract/` holds links to the files of its
/// folder in the repository (`wit/since_vX.Y.Z/`); `cargo package` copies what they point to, so
/// the published crate carries its contract and builds on its own. (Not `wit/`: wit-bindgen would
/// read that folder too, beside the document the macros hand it.)
const CONTRACT_DIR: &str = "contract";

/// The slots, in the order `export_policy!` names them: (the macro's name, the contract's
/// interface name).
const SLOTS: [(&str, &str); 4] = [
    ("bill_cadence", "bill-cadence"),
    ("superbill_inclusion", "superbill-inclusion"),
    ("share_filter", "share-filter"),
    ("autopay_selection", "autopay-selection"),
];

/// Every non-empty set of slots, each in [`SLOTS`]' order.
fn slot_sets() -> Vec<Vec<(&'static str, &'static str)>> {
    (1..1u32 << SLOTS.len())
        .map(|mask| {
            SLOTS.iter().enumerate().filter(|(index, _)| mask & (1 << index) != 0).map(|(_, slot)| *slot).collect()
        })
        .collect()
}

/// The world the SDK adds for a set of slots: it exports exactly their interfaces.
fn world_name(set: &[(&str, &str)]) -> String {
    let names: Vec<&str> = set.iter().map(|(_, interface)| *interface).collect();
    format!("guest-sdk-{}", names.join("-"))
}

fn main() {
    let dir = Path::new(CONTRACT_DIR);
    println!("cargo:rerun-if-changed={CONTRACT_DIR}");
    let mut files: Vec<_> = fs::read_dir(dir)
        .expect("the WIT contract folder is readable")
        .map(|entry| entry.expect("a WIT folder entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "wit"))
        .collect();
    files.sort();

    let mut package = None;
    let mut body = String::new();
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        let text = fs::read_to_string(file).expect("a WIT file is readable");
        for line in text.lines() {
            if let Some(rest) = line.trim().strip_prefix("package ") {
                package.get_or_insert_with(|| rest.trim_end_matches(';').trim().to_string());
            } else {
                body.push_str(line);
                body.push('\n');
            }
        }
    }
    let package = package.expect("the contract declares its package");
    let version = package
        .rsplit_once('@')
        .map(|(_, version)| version.to_string())
        .expect("the contract's package carries a version");
    let mut worlds = String::from("world guest-sdk-types {\n    import types;\n}\n");
    for set in slot_sets() {
        writeln!(worlds, "world {} {{", world_name(&set)).unwrap();
        for (_, interface) in &set {
            writeln!(worlds, "    export {interface};").unwrap();
        }
        writeln!(worlds, "}}").unwrap();
    }
    let document = format!("package {package};\n{body}{worlds}");

    let mut out = String::new();
    writeln!(out, "/// The contract's package name with its version, e.g. `autobill:policy@0.1.0`.").unwrap();
    writeln!(out, "pub const CONTRACT_PACKAGE: &str = {package:?};").unwrap();
    writeln!(out, "/// The contract version this SDK builds plugins for.").unwrap();
    writeln!(out, "pub const CONTRACT_VERSION: &str = {version:?};").unwrap();
    writeln!(out, "#[doc(hidden)]").unwrap();
    writeln!(out, "pub const CONTRACT_STAMP: [u8; {}] = *b{package:?};", package.len()).unwrap();
    // One arm per set of slots, each naming the world of exactly those slots.
    writeln!(out, "#[doc(hidden)]").unwrap();
    writeln!(out, "#[macro_export]").unwrap();
    writeln!(out, "macro_rules! __autobill_generate {{").unwrap();
    let types_path = format!("{}/types@{version}", package.split('@').next().unwrap());
    for set in slot_sets() {
        let slots: Vec<&str> = set.iter().map(|(slot, _)| *slot).collect();
        writeln!(out, "    ([{}]) => {{", slots.join(", ")).unwrap();
        writeln!(out, "        $crate::__private::wit_bindgen::generate!({{").unwrap();
        writeln!(out, "            inline: {document:?},").unwrap();
        writeln!(out, "            world: {:?},", world_name(&set)).unwrap();
        writeln!(out, "            with: {{ {types_path:?}: autobill_guest::types }},").unwrap();
        writeln!(out, "            runtime_path: \"autobill_guest::__private::wit_bindgen::rt\",").unwrap();
        writeln!(out, "        }});").unwrap();
        writeln!(out, "    }};").unwrap();
    }
    writeln!(out, "}}").unwrap();
    writeln!(out, "macro_rules! __autobill_generate_types {{").unwrap();
    writeln!(out, "    () => {{").unwrap();
    writeln!(out, "        wit_bindgen::generate!({{").unwrap();
    writeln!(out, "            inline: {document:?},").unwrap();
    writeln!(out, "            world: \"guest-sdk-types\",").unwrap();
    writeln!(out, "            additional_derives: [PartialEq, Eq, PartialOrd, Ord, Hash],").unwrap();
    writeln!(out, "        }});").unwrap();
    writeln!(out, "    }};").unwrap();
    writeln!(out, "}}").unwrap();

    let out_dir = env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    fs::write(Path::new(&out_dir).join("contract.rs"), out).expect("OUT_DIR is writable");
}
