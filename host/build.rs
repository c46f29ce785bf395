//! Builds every policy plugin in the workspace to a `wasm32-wasip2` component, so `cargo build`
//! and `cargo test` at the root always run against plugins built from the current source.
//!
//! Writes `$OUT_DIR/plugins.rs`: one path constant per plugin and `foreach_*` macros over them.
//! The host embeds the default plugin; tests use the macros, so a plugin without a test is a
//! compile error.
//!
//! Also writes `$OUT_DIR/conformance_cases.rs`: the conformance kit's built-in behaviour cases from
//! `tests/conformance/<policy>/<case>/`, compiled into the binary so `autobill plugin test` runs
//! them anywhere.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

const TARGET: &str = "wasm32-wasip2";

/// A plugin crate to build, and which group it belongs to.
struct PluginCrate {
    package: String,
    group: &'static str,
}

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest_dir.parent().expect("host/ sits in the workspace root").to_path_buf();
    let crates = discover(&root);
    for dir in ["guest-sdk", "wit", "plugins", "tests/plugins", "tests/conformance", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
    }

    // The SDK version `plugin new` writes into Rust projects: the guest SDK's own.
    let sdk_manifest = fs::read_to_string(root.join("guest-sdk/Cargo.toml")).expect("guest-sdk/Cargo.toml reads");
    let sdk_version = sdk_manifest
        .lines()
        .find_map(|line| line.trim().strip_prefix("version = "))
        .map(|version| version.trim_matches('"').to_string())
        .expect("guest-sdk/Cargo.toml names its version");
    println!("cargo:rustc-env=AUTOBILL_GUEST_VERSION={sdk_version}");

    check_target_installed();
    let target_dir = root.join("target").join("plugins");
    let mut cargo = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo.current_dir(&root).args(["build", "--release", "--target", TARGET, "--target-dir"]).arg(&target_dir);
    for plugin in &crates {
        cargo.args(["-p", &plugin.package]);
    }
    // The outer build's flags and wrappers (clippy, coverage) are for host code, not for guests.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_PROFILE_RELEASE_DEBUG",
    ] {
        cargo.env_remove(var);
    }
    let status = cargo.status().expect("cargo can be run from a build script");
    if !status.success() {
        panic!("building the policy plugins for {TARGET} failed (see the errors above)");
    }

    let out = target_dir.join(TARGET).join("release");
    let mut code = String::new();
    for group in ["plugin", "fixture"] {
        let members: Vec<_> = crates.iter().filter(|plugin| plugin.group == group).collect();
        let mut arms = String::new();
        for plugin in &members {
            let ident = plugin
                .package
                .trim_start_matches("autobill-plugin-")
                .trim_start_matches("autobill-fixture-")
                .replace('-', "_");
            let path = out.join(format!("{}.wasm", plugin.package.replace('-', "_")));
            assert!(path.exists(), "the build did not produce {}", path.display());
            code.push_str(&format!(
                "/// Path of the compiled `{}` component.\npub const {}: &str = {:?};\n",
                plugin.package,
                ident.to_uppercase(),
                path.display().to_string()
            ));
            if ident == "default" {
                code.push_str(&format!(
                    "/// The bytes of the built-in default plugin, shipped inside the host.\npub static DEFAULT_COMPONENT: &[u8] = include_bytes!({:?});\n",
                    path.display().to_string()
                ));
            }
            arms.push_str(&format!("        $m!({ident}, $crate::plugin::artifacts::{});\n", ident.to_uppercase()));
        }
        code.push_str(&format!(
            "/// Calls `$m!(name, PATH)` for every {group} crate in the workspace.\n#[macro_export]\nmacro_rules! foreach_{group} {{\n    ($m:ident) => {{\n{arms}    }};\n}}\n"
        ));
    }
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::write(out_dir.join("plugins.rs"), code).expect("OUT_DIR is writable");
    fs::write(out_dir.join("conformance_cases.rs"), conformance_cases(&root.join("tests/conformance")))
        .expect("OUT_DIR is writable");
}

/// The built-in conformance cases as a `BUILTIN_CASES` array of `BuiltinCase`s whose files are
/// `include_str!`ed, sorted by policy and case.
fn conformance_cases(dir: &Path) -> String {
    let sorted_dirs = |dir: &Path| -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = fs::read_dir(dir)
            .map(|entries| entries.filter_map(|entry| Some(entry.ok()?.path())).filter(|path| path.is_dir()).collect())
            .unwrap_or_default();
        dirs.sort();
        dirs
    };
    let name = |path: &Path| path.file_name().map(|name| name.to_string_lossy().to_string()).unwrap_or_default();
    let file = |path: PathBuf| {
        if path.exists() { format!("Some(include_str!({:?}))", path.display().to_string()) } else { "None".to_string() }
    };
    let mut code = String::from(
        "/// The built-in behaviour cases, from `tests/conformance/`.\npub static BUILTIN_CASES: &[BuiltinCase] = &[\n",
    );
    for policy in sorted_dirs(dir) {
        for case in sorted_dirs(&policy) {
            code.push_str(&format!(
                "    BuiltinCase {{ policy: {:?}, case: {:?}, input: {}, expected: {}, error: {} }},\n",
                name(&policy),
                name(&case),
                file(case.join("input.json")),
                file(case.join("expected.json")),
                file(case.join("error.txt")),
            ));
        }
    }
    code.push_str("];\n");
    code
}

/// The plugin crates: `plugins/default`, `plugins/examples/*` and the fault fixtures in `tests/plugins/*`.
fn discover(root: &Path) -> Vec<PluginCrate> {
    let mut crates = vec![];
    let mut add = |dir: PathBuf, group: &'static str| {
        if let Some(package) = package_name(&dir.join("Cargo.toml")) {
            crates.push(PluginCrate { package, group });
        }
    };
    add(root.join("plugins/default"), "plugin");
    for (parent, group) in [("plugins/examples", "plugin"), ("tests/plugins", "fixture")] {
        let mut dirs: Vec<_> = fs::read_dir(root.join(parent))
            .map(|entries| entries.filter_map(|entry| Some(entry.ok()?.path())).collect())
            .unwrap_or_default();
        dirs.sort();
        for dir in dirs {
            add(dir, group);
        }
    }
    crates
}

fn package_name(manifest: &Path) -> Option<String> {
    let text = fs::read_to_string(manifest).ok()?;
    let line = text.lines().find(|line| line.trim_start().starts_with("name"))?;
    Some(line.split('"').nth(1)?.to_string())
}

fn check_target_installed() {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(rustc).args(["--print", "sysroot"]).output().ok();
    let installed = sysroot
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
        .is_some_and(|sysroot| Path::new(&sysroot).join("lib/rustlib").join(TARGET).exists());
    if !installed {
        // rustup names the toolchain it runs (the one rust-toolchain.toml pins), which may not be
        // the user's default: the target must be added to that one.
        let toolchain = env::var("RUSTUP_TOOLCHAIN").map(|name| format!(" --toolchain {name}")).unwrap_or_default();
        panic!("the {TARGET} target is not installed; run `rustup target add {TARGET}{toolchain}` and build again");
    }
}
