//! `autobill plugin test` as an integrator's CI runs it: the real binary, its exit status, and its
//! report on stdout in each format.

use autobill::plugin::artifacts;
use std::path::Path;
use std::process::Command;

/// Runs `autobill ARGS` from the workspace root: (exit status, stdout, stderr).
fn autobill(args: &[&str]) -> (i32, String, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("host/ sits in the workspace root");
    let output = Command::new(env!("CARGO_BIN_EXE_autobill"))
        .args(args)
        .current_dir(root)
        .output()
        .expect("the autobill binary runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_conforming_plugin_exits_0_with_junit_on_stdout() {
    let (status, stdout, stderr) =
        autobill(&["plugin", "test", artifacts::DEFAULT, "--seed", "7", "--format", "junit"]);
    assert_eq!(status, 0, "{stdout}\n{stderr}");
    assert!(stdout.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites "), "{stdout}");
    assert!(stdout.contains(r#"failures="0""#) && !stdout.contains("<failure "), "{stdout}");
    assert!(stdout.contains(r#"<property name="seed" value="7"/>"#), "{stdout}");
}

#[test]
fn a_plugin_that_fails_a_check_exits_1_and_the_report_names_the_check_and_the_seed() {
    let (status, stdout, _) = autobill(&["plugin", "test", artifacts::WRONG_CONTRACT, "--seed", "11"]);
    assert_eq!(status, 1, "{stdout}");
    assert!(stdout.contains("FAIL  contract/version-served"), "{stdout}");
    assert!(stdout.contains("autobill:policy@9.0.0"), "{stdout}");
    assert!(stdout.contains("result: FAILED."), "{stdout}");
    assert!(stdout.contains("--seed 11"), "{stdout}");
}

#[test]
fn an_example_passes_with_its_own_cases_and_overrides_in_json() {
    let (status, stdout, stderr) = autobill(&[
        "plugin",
        "test",
        artifacts::BIWEEKLY_BILLS,
        "--cases",
        "plugins/examples/biweekly-bills/conformance",
        "--overrides",
        "plugins/examples/biweekly-bills/conformance/overrides.txt",
        "--format",
        "json",
    ]);
    assert_eq!(status, 0, "{stdout}\n{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("the JSON report parses");
    assert_eq!(report["passed"], true);
    assert!(report["seed"].is_u64(), "a seed is chosen and printed when none is given");
    let checks = report["checks"].as_array().expect("a list of checks");
    assert!(checks.iter().any(|check| check["name"] == "bill_cadence/every_other_friday_from_the_anchor"));
}

#[test]
fn a_kit_that_cannot_run_exits_2_saying_why() {
    let (status, stdout, stderr) =
        autobill(&["plugin", "test", artifacts::DEFAULT, "--overrides", "no/such/overrides.txt"]);
    assert_eq!(status, 2, "{stdout}\n{stderr}");
    assert!(stderr.contains("error:") && stderr.contains("no/such/overrides.txt"), "{stderr}");
    let (status, _, stderr) = autobill(&["plugin", "test", "no-such-plugin.wasm"]);
    assert_eq!(status, 2);
    assert!(stderr.contains("reading no-such-plugin.wasm"), "{stderr}");
}
