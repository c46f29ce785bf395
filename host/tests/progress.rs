//! Long runs draw a progress line only on a terminal: piped into a file or another program,
//! `demo` and `simulate` write their results and nothing else.

use std::path::Path;
use std::process::{Command, Output};

fn autobill(args: &[&str]) -> Output {
    let host = Path::new(env!("CARGO_MANIFEST_DIR"));
    Command::new(env!("CARGO_BIN_EXE_autobill"))
        .args(args)
        .current_dir(host)
        .env_remove("RUST_LOG")
        .output()
        .expect("the autobill binary runs")
}

/// Asserts a piped run succeeded and wrote nothing to stderr: no progress line, no redraws.
fn assert_quiet(output: &Output) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.is_empty(), "stderr holds only errors when piped, but it holds: {stderr:?}");
    assert!(!stdout.contains('\r'), "no redrawn lines on stdout either: {stdout:?}");
}

#[test]
fn the_demo_piped_shows_no_progress() {
    let out = tempfile::tempdir().expect("a temporary folder");
    let demo = out.path().join("demo");
    let output = autobill(&["demo", "--out", &demo.display().to_string()]);
    assert_quiet(&output);
    assert!(String::from_utf8_lossy(&output.stdout).contains("bills created"), "the summary is still printed");
}

#[test]
fn a_simulation_piped_shows_no_progress() {
    let output = autobill(&["simulate", "demo/lakeside.toml", "--from", "2026-01-01", "--until", "2026-01-20"]);
    assert_quiet(&output);
    assert!(String::from_utf8_lossy(&output.stdout).contains(r#""event":"bill_created""#), "the events are printed");
}
