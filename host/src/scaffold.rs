//! `autobill plugin new`: the files of a ready policy plugin project, in Rust, JavaScript or
//! Python. Each slot it fills starts as the documented behaviour (so the project passes the
//! conformance kit as written), with a native unit test, a `conformance/` folder holding one case
//! of its own per slot and an overrides template, and a README with the build, kit, simulate and
//! install commands.
//!
//! [`files`] is pure: it answers the project as paths and contents, and the command writes them.
//! The templates are in `host/src/scaffold/`, compiled into the binary; they are filled by
//! replacing `{{placeholders}}`, which is all they need (no loops or conditions: the parts a
//! project has are chosen here).

use crate::domain::Slot;
use std::path::{Path, PathBuf};

/// The language a project is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Language {
    /// Rust on the `autobill-guest` SDK, built with cargo for `wasm32-wasip2`.
    Rust,
    /// JavaScript, built with jco (QuickJS backend).
    Js,
    /// Python, built with componentize-py.
    Python,
}

/// The SDK version a Rust project depends on: the `autobill-guest` built beside this host.
pub const SDK_VERSION: &str = env!("AUTOBILL_GUEST_VERSION");

/// The pinned componentize-py a Python project is built with.
pub const COMPONENTIZE_PY_VERSION: &str = "0.25.1";

/// What a project is made from.
#[derive(Clone, Debug)]
pub struct Spec {
    /// The project's name: a package name, e.g. `weekly-bills`.
    pub name: String,
    /// The slots it fills, in the contract's order, each once.
    pub slots: Vec<Slot>,
    /// Its language.
    pub language: Language,
    /// For Rust: the SDK folder to depend on by path; `None` depends on the published crate.
    pub sdk: Option<PathBuf>,
}

/// Why a project cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    /// The name is not a package name.
    #[error(
        "the plugin name `{0}` is not a package name: use 1 to 64 lowercase letters, digits, `-` and `_`, starting with a letter, e.g. weekly-bills"
    )]
    BadName(String),
    /// No slot was named.
    #[error("name at least one slot with --slot, e.g. --slot bill_cadence or --slot bill_cadence,share_filter")]
    NoSlot,
}

/// One file of a project: its path inside the project folder and its contents.
pub type File = (PathBuf, String);

/// Checks a project's name and puts its slots in the contract's order, each once.
pub fn spec(name: &str, slots: &[Slot], language: Language, sdk: Option<PathBuf>) -> Result<Spec, ScaffoldError> {
    let valid = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid {
        return Err(ScaffoldError::BadName(name.to_string()));
    }
    let slots: Vec<Slot> = Slot::ALL.into_iter().filter(|slot| slots.contains(slot)).collect();
    if slots.is_empty() {
        return Err(ScaffoldError::NoSlot);
    }
    Ok(Spec { name: name.to_string(), slots, language, sdk })
}

/// The template text of one slot, by language.
struct SlotTemplates {
    rust: &'static str,
    js: &'static str,
    js_test: &'static str,
    python: &'static str,
    python_test: &'static str,
    /// The slot's own conformance case: its folder name, `input.json` and `expected.json`.
    case: (&'static str, &'static str, &'static str),
}

fn slot_templates(slot: Slot) -> SlotTemplates {
    match slot {
        Slot::BillCadence => SlotTemplates {
            rust: include_str!("scaffold/rust/bill_cadence.rs"),
            js: include_str!("scaffold/js/bill_cadence.js"),
            js_test: include_str!("scaffold/js/bill_cadence.test.js"),
            python: include_str!("scaffold/python/bill_cadence.py"),
            python_test: include_str!("scaffold/python/bill_cadence.test.py"),
            case: (
                "two_visits_on_one_day_make_one_bill",
                include_str!("scaffold/conformance/bill_cadence.json"),
                include_str!("scaffold/conformance/bill_cadence.expected.json"),
            ),
        },
        Slot::SuperbillInclusion => SlotTemplates {
            rust: include_str!("scaffold/rust/superbill_inclusion.rs"),
            js: include_str!("scaffold/js/superbill_inclusion.js"),
            js_test: include_str!("scaffold/js/superbill_inclusion.test.js"),
            python: include_str!("scaffold/python/superbill_inclusion.py"),
            python_test: include_str!("scaffold/python/superbill_inclusion.test.py"),
            case: (
                "superbill_day_31_runs_on_april_30",
                include_str!("scaffold/conformance/superbill_inclusion.json"),
                include_str!("scaffold/conformance/superbill_inclusion.expected.json"),
            ),
        },
        Slot::ShareFilter => SlotTemplates {
            rust: include_str!("scaffold/rust/share_filter.rs"),
            js: include_str!("scaffold/js/share_filter.js"),
            js_test: include_str!("scaffold/js/share_filter.test.js"),
            python: include_str!("scaffold/python/share_filter.py"),
            python_test: include_str!("scaffold/python/share_filter.test.py"),
            case: (
                "an_open_bill_is_emailed_after_the_practices_delay",
                include_str!("scaffold/conformance/share_filter.json"),
                include_str!("scaffold/conformance/share_filter.expected.json"),
            ),
        },
        Slot::AutopaySelection => SlotTemplates {
            rust: include_str!("scaffold/rust/autopay_selection.rs"),
            js: include_str!("scaffold/js/autopay_selection.js"),
            js_test: include_str!("scaffold/js/autopay_selection.test.js"),
            python: include_str!("scaffold/python/autopay_selection.py"),
            python_test: include_str!("scaffold/python/autopay_selection.test.py"),
            case: (
                "a_small_and_a_large_balance_are_both_charged_in_full",
                include_str!("scaffold/conformance/autopay_selection.json"),
                include_str!("scaffold/conformance/autopay_selection.expected.json"),
            ),
        },
    }
}

/// The contract's WIT files, which JavaScript and Python projects build against.
const CONTRACT: [(&str, &str); 6] = [
    ("types.wit", include_str!("../../wit/since_v0.2.0/types.wit")),
    ("bill-cadence.wit", include_str!("../../wit/since_v0.2.0/bill-cadence.wit")),
    ("superbill-inclusion.wit", include_str!("../../wit/since_v0.2.0/superbill-inclusion.wit")),
    ("share-filter.wit", include_str!("../../wit/since_v0.2.0/share-filter.wit")),
    ("autopay-selection.wit", include_str!("../../wit/since_v0.2.0/autopay-selection.wit")),
    ("worlds.wit", include_str!("../../wit/since_v0.2.0/worlds.wit")),
];

/// The project's files.
pub fn files(spec: &Spec) -> Vec<File> {
    let crate_name = spec.name.replace('-', "_");
    let type_name: String = crate_name
        .split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| first.to_ascii_uppercase().to_string() + chars.as_str())
        })
        .collect();
    let wasm = match spec.language {
        Language::Rust => format!("target/wasm32-wasip2/release/{crate_name}.wasm"),
        Language::Js | Language::Python => format!("{crate_name}.wasm"),
    };
    let names: Vec<&str> = spec.slots.iter().map(|slot| slot.as_str()).collect();
    let simulate_plugins =
        names.iter().map(|slot| format!("  --plugin {slot}={wasm}")).collect::<Vec<_>>().join(" \\\n");
    let assign_lines = names
        .iter()
        .map(|slot| format!("autobill plugin assign --practice PRACTICE_ID --slot {slot} --plugin PLUGIN_ID"))
        .collect::<Vec<_>>()
        .join("\n");
    let sdk_dependency = match &spec.sdk {
        Some(path) => {
            format!("autobill-guest = {{ version = \"{SDK_VERSION}\", path = {:?} }}", path.display().to_string())
        }
        None => format!("autobill-guest = \"{SDK_VERSION}\""),
    };
    let fill = |template: &str| {
        template
            .replace("{{common}}", include_str!("scaffold/common.md").trim_end())
            .replace("{{name}}", &spec.name)
            .replace("{{crate}}", &crate_name)
            .replace("{{Type}}", &type_name)
            .replace("{{slot_list}}", &names.join(" and "))
            .replace("{{slots_plural}}", if names.len() > 1 { "s" } else { "" })
            .replace("{{slots}}", &names.join(", "))
            .replace("{{sdk_dependency}}", &sdk_dependency)
            .replace("{{sdk_version}}", SDK_VERSION)
            .replace("{{wasm}}", &wasm)
            .replace("{{simulate_plugins}}", &simulate_plugins)
            .replace("{{assign_lines}}", &assign_lines)
    };
    let templates: Vec<SlotTemplates> = spec.slots.iter().map(|slot| slot_templates(*slot)).collect();
    let concat = |head: &str, part: fn(&SlotTemplates) -> &'static str, tail: &str| {
        let mut text = fill(head);
        for slot in &templates {
            text.push_str(&fill(part(slot)));
        }
        text.push_str(tail);
        text
    };

    let mut files: Vec<File> = vec![];
    let mut add = |path: &str, text: String| files.push((PathBuf::from(path), text));
    match spec.language {
        Language::Rust => {
            add("Cargo.toml", fill(include_str!("scaffold/rust/Cargo.toml.template")));
            add("README.md", fill(include_str!("scaffold/rust/README.md")));
            let modules: String = names.iter().map(|slot| format!("mod {slot};\n")).collect();
            add("src/lib.rs", fill(include_str!("scaffold/rust/lib.rs")).replace("{{modules}}", &modules));
            for (slot, template) in names.iter().zip(&templates) {
                add(&format!("src/{slot}.rs"), fill(template.rust));
            }
            add(".gitignore", "/target\n".to_string());
        }
        Language::Js => {
            add("package.json", fill(include_str!("scaffold/js/package.json")));
            add("README.md", fill(include_str!("scaffold/js/README.md")));
            add("policy.js", concat(include_str!("scaffold/js/head.js"), |slot| slot.js, ""));
            add("policy.test.js", concat(include_str!("scaffold/js/test_head.js"), |slot| slot.js_test, ""));
            add(".gitignore", "node_modules/\n*.wasm\n".to_string());
        }
        Language::Python => {
            add("README.md", fill(include_str!("scaffold/python/README.md")));
            add("app.py", concat(include_str!("scaffold/python/head.py"), |slot| slot.python, ""));
            add(
                "test_app.py",
                concat(
                    include_str!("scaffold/python/test_head.py"),
                    |slot| slot.python_test,
                    include_str!("scaffold/python/test_tail.py"),
                ),
            );
            add(".gitignore", "wit_world/\ncomponentize_py_*\npoll_loop.py\n__pycache__/\n*.wasm\n".to_string());
            add("requirements.txt", format!("componentize-py=={COMPONENTIZE_PY_VERSION}\n"));
        }
    }
    if spec.language != Language::Rust {
        for (file, text) in CONTRACT {
            add(&format!("wit/{file}"), text.to_string());
        }
        add("wit/plugin.wit", plugin_world(&spec.slots));
    }
    for (slot, template) in names.iter().zip(&templates) {
        let (case, input, expected) = template.case;
        add(&format!("conformance/{slot}/{case}/input.json"), input.to_string());
        add(&format!("conformance/{slot}/{case}/expected.json"), expected.to_string());
    }
    add("conformance/overrides.txt", include_str!("scaffold/conformance/overrides.txt").to_string());
    files
}

/// The `plugin` world of a JavaScript or Python project: the contract's world of each slot.
fn plugin_world(slots: &[Slot]) -> String {
    let package = CONTRACT[0].1.lines().find(|line| line.starts_with("package ")).unwrap_or_default();
    let includes: String =
        slots.iter().map(|slot| format!("    include {}-policy;\n", slot.as_str().replace('_', "-"))).collect();
    format!("{package}\n\n/// The slots this plugin fills.\nworld plugin {{\n{includes}}}\n")
}

/// The autobill checkout `dir` is in, if any: the nearest folder above it (or itself) holding the
/// guest SDK. A Rust project made from there depends on that SDK by path.
pub fn enclosing_checkout(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|folder| {
            std::fs::read_to_string(folder.join("guest-sdk/Cargo.toml"))
                .is_ok_and(|manifest| manifest.contains("name = \"autobill-guest\""))
        })
        .map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_must_be_package_names() {
        for bad in ["", "Weekly", "9lives", "weekly bills", "weekly/bills", &"x".repeat(65)] {
            assert!(
                matches!(spec(bad, &[Slot::ShareFilter], Language::Rust, None), Err(ScaffoldError::BadName(_))),
                "{bad:?}"
            );
        }
        assert!(spec("weekly-bills_2", &[Slot::ShareFilter], Language::Rust, None).is_ok());
        assert!(matches!(spec("weekly", &[], Language::Rust, None), Err(ScaffoldError::NoSlot)));
    }

    #[test]
    fn slots_are_put_in_the_contracts_order_once() {
        let spec = spec("p", &[Slot::ShareFilter, Slot::BillCadence, Slot::ShareFilter], Language::Rust, None).unwrap();
        assert_eq!(spec.slots, [Slot::BillCadence, Slot::ShareFilter]);
    }

    fn file<'a>(files: &'a [File], path: &str) -> &'a str {
        files.iter().find(|(name, _)| name == Path::new(path)).map(|(_, text)| text.as_str()).unwrap_or_else(|| {
            panic!("{path} is missing from {:?}", files.iter().map(|(name, _)| name).collect::<Vec<_>>())
        })
    }

    #[test]
    fn a_rust_project_exports_its_slots_and_names_the_sdk_version() {
        let files =
            files(&spec("weekly-bills", &[Slot::BillCadence, Slot::ShareFilter], Language::Rust, None).unwrap());
        let lib = file(&files, "src/lib.rs");
        assert!(lib.contains("export_policy!(WeeklyBills: bill_cadence, share_filter);"), "{lib}");
        assert!(lib.contains("mod bill_cadence;\nmod share_filter;"), "{lib}");
        assert!(file(&files, "src/share_filter.rs").contains("impl ShareFilter for WeeklyBills"));
        assert!(file(&files, "Cargo.toml").contains(&format!("autobill-guest = \"{SDK_VERSION}\"")));
        file(&files, "conformance/bill_cadence/two_visits_on_one_day_make_one_bill/input.json");
        file(&files, "conformance/overrides.txt");
        let readme = file(&files, "README.md");
        assert!(readme.contains("--plugin share_filter=target/wasm32-wasip2/release/weekly_bills.wasm"), "{readme}");
        assert!(readme.contains("autobill practice create"), "{readme}");
        assert!(!files.iter().any(|(_, text)| text.contains("{{")), "every placeholder is filled");
    }

    #[test]
    fn a_rust_project_in_a_checkout_depends_on_its_sdk_by_path() {
        let sdk = PathBuf::from("/src/autobill/guest-sdk");
        let files = files(&spec("p", &[Slot::ShareFilter], Language::Rust, Some(sdk)).unwrap());
        assert!(file(&files, "Cargo.toml").contains(&format!(
            "autobill-guest = {{ version = \"{SDK_VERSION}\", path = \"/src/autobill/guest-sdk\" }}"
        )));
    }

    #[test]
    fn js_and_python_projects_carry_the_contract_and_a_world_of_their_slots() {
        for language in [Language::Js, Language::Python] {
            let files = files(&spec("p", &[Slot::SuperbillInclusion, Slot::ShareFilter], language, None).unwrap());
            let world = file(&files, "wit/plugin.wit");
            assert!(world.starts_with("package autobill:policy@"), "{world}");
            assert!(world.contains("include superbill-inclusion-policy;\n    include share-filter-policy;"), "{world}");
            file(&files, "wit/types.wit");
            if language == Language::Python {
                assert_eq!(file(&files, "requirements.txt"), "componentize-py==0.25.1\n");
            }
            assert!(!files.iter().any(|(_, text)| text.contains("{{")), "every placeholder is filled");
        }
    }
}
