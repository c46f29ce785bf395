//! `autobill plugin new` as an integrator uses it: a project in each language is made, its unit
//! tests run, it is built with its language's tools (cargo for `wasm32-wasip2`; the pinned jco;
//! the pinned componentize-py) and the conformance kit passes on it with its own cases and
//! overrides file, as its README says.
//!
//! The JavaScript test installs the project's pinned jco from npm; the Python test uses the
//! componentize-py that `tests/run.sh` installs in `target/plugins/python/venv`
//! (`AUTOBILL_COMPONENTIZE_PY` points elsewhere).

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("host/ sits in the workspace root").to_path_buf()
}

/// Runs `program ARGS` in `dir` and fails the test, with its output, unless it succeeds.
#[track_caller]
fn run(dir: &Path, program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> String {
    let program = program.as_ref();
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        // The outer build's settings are for the host, not for the project being built.
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .output()
        .unwrap_or_else(|error| panic!("{} could not be run: {error}", program.to_string_lossy()));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{} {args:?} in {} failed:\n{stdout}\n{}",
        program.to_string_lossy(),
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn autobill(dir: &Path, args: &[&str]) -> String {
    run(dir, env!("CARGO_BIN_EXE_autobill"), args)
}

/// The kit on the project's component, with its cases and overrides, as the README runs it.
fn assert_passes_the_kit(project: &Path, wasm: &str, slots: &[&str]) {
    let report = autobill(
        project,
        &["plugin", "test", wasm, "--cases", "conformance", "--overrides", "conformance/overrides.txt", "--seed", "1"],
    );
    assert!(report.contains("result: passed."), "{report}");
    assert!(report.contains(&format!("fills {}", slots.join(", "))), "{report}");
    for slot in slots {
        assert!(report.contains(&format!("ok    {slot}/10000-")), "{report}");
    }
}

#[test]
fn a_rust_plugin_made_in_a_checkout_builds_on_its_sdk_and_passes_the_kit() {
    // Made inside this checkout, so it depends on this checkout's SDK by path.
    let target = root().join("target");
    std::fs::create_dir_all(&target).expect("target/ exists");
    let dir = tempfile::tempdir_in(&target).expect("a temporary folder");
    let made = autobill(dir.path(), &["plugin", "new", "weekly-rules", "--slot", "bill_cadence,share_filter"]);
    let project = dir.path().join("weekly-rules");
    let sdk = root().join("guest-sdk");
    assert!(made.contains(&format!("it depends on the SDK at {}", sdk.display())), "{made}");
    let manifest = std::fs::read_to_string(project.join("Cargo.toml")).expect("Cargo.toml");
    assert!(manifest.contains(&format!("path = {:?}", sdk.display().to_string())), "{manifest}");

    // The workspace's lock file and plugin target folder, so the SDK's dependencies are the ones
    // built already for the workspace's plugins.
    std::fs::copy(root().join("Cargo.lock"), project.join("Cargo.lock")).expect("the lock file is copied");
    let target_dir = target.join("plugins").display().to_string();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run(&project, &cargo, &["test", "--target-dir", &target_dir]);
    run(&project, &cargo, &["build", "--release", "--target", "wasm32-wasip2", "--target-dir", &target_dir]);
    let wasm = target.join("plugins/wasm32-wasip2/release/weekly_rules.wasm");
    assert_passes_the_kit(&project, &wasm.display().to_string(), &["bill_cadence", "share_filter"]);
}

#[test]
fn a_javascript_plugin_made_with_plugin_new_builds_with_jco_and_passes_the_kit() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let slots = "superbill_inclusion,share_filter,autopay_selection";
    autobill(dir.path(), &["plugin", "new", "js-rules", "--slot", slots, "--lang", "js"]);
    let project = dir.path().join("js-rules");
    run(&project, "npm", &["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"]);
    run(&project, "npm", &["test"]);
    run(&project, "npm", &["run", "build"]);
    assert_passes_the_kit(&project, "js_rules.wasm", &["superbill_inclusion", "share_filter", "autopay_selection"]);
}

#[test]
fn a_python_plugin_made_with_plugin_new_builds_with_componentize_py_and_passes_the_kit() {
    let componentize = std::env::var_os("AUTOBILL_COMPONENTIZE_PY")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/plugins/python/venv/bin/componentize-py"));
    assert!(componentize.exists(), "{} is missing: tests/run.sh installs it", componentize.display());
    let dir = tempfile::tempdir().expect("a temporary folder");
    autobill(
        dir.path(),
        &["plugin", "new", "py-cadence", "--slot", "bill_cadence,autopay_selection", "--lang", "python"],
    );
    let project = dir.path().join("py-cadence");
    run(&project, &componentize, &["-d", "wit", "-w", "plugin", "bindings", "."]);
    run(&project, "python3", &["-m", "unittest", "test_app.py"]);
    run(&project, &componentize, &["-d", "wit", "-w", "plugin", "componentize", "app", "-o", "py_cadence.wasm"]);
    assert_passes_the_kit(&project, "py_cadence.wasm", &["bill_cadence", "autopay_selection"]);
}

#[test]
fn a_project_is_not_made_over_a_folder_with_files_or_under_a_bad_name() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::create_dir(dir.path().join("taken")).expect("a folder");
    std::fs::write(dir.path().join("taken/notes.txt"), "mine").expect("a file");
    for (args, message) in [
        (&["plugin", "new", "taken", "--slot", "share_filter"][..], "taken is not empty"),
        (&["plugin", "new", "Weekly Bills", "--slot", "share_filter"], "is not a package name"),
        (
            &["plugin", "new", "weekly", "--slot", "sharing"],
            "bill_cadence, superbill_inclusion, share_filter or autopay_selection",
        ),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_autobill"))
            .args(args)
            .current_dir(dir.path())
            .output()
            .expect("the autobill binary runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success() && stderr.contains(message), "{args:?}: {stderr}");
    }
    assert_eq!(std::fs::read_to_string(dir.path().join("taken/notes.txt")).expect("kept"), "mine");
    assert!(!dir.path().join("Weekly Bills").exists() && !dir.path().join("weekly").exists());
}
