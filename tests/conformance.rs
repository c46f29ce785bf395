//! The plugin conformance kit, end to end, over the real components built from this workspace:
//! the default and example plugins pass it (the examples with the cases they override and their
//! own case folders), each deliberately broken fixture fails it for the reason it was built to
//! fail, and the Python share filter proves the contract is language-neutral.
//!
//! Generated inputs use a new seed on every run (printed in every failure); set
//! `AUTOBILL_KIT_SEED` to repeat a run.

use autobill::conformance::cases::{Override, REPLACED_BY, read_overrides};
use autobill::conformance::{self, KitError, Options, Outcome, Report, Suite, report};
use autobill::plugin::artifacts;
use autobill_fixture_invalid_outputs::{FAULTS, Fault};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the workspace root").to_path_buf()
}

fn seed() -> u64 {
    std::env::var("AUTOBILL_KIT_SEED").ok().and_then(|seed| seed.parse().ok()).unwrap_or_else(conformance::random_seed)
}

fn options() -> Options {
    Options::new(seed())
}

/// The kit's report on the component at `path`.
fn run(path: &Path, options: &Options) -> Report {
    let bytes = std::fs::read(path).unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
    conformance::run(&path.display().to_string(), &bytes, options).expect("the kit runs")
}

#[track_caller]
fn assert_passed(report: &Report) {
    assert!(report.passed(), "the plugin should pass the kit:\n{}", report::human(report));
}

/// The names of the failed checks, optionally only those of one suite.
fn failed(report: &Report, suite: Option<Suite>) -> BTreeSet<String> {
    report
        .failures()
        .filter(|check| suite.is_none_or(|suite| check.suite == suite))
        .map(|check| check.name.clone())
        .collect()
}

/// The reason a check failed, failing the test if it did not.
#[track_caller]
fn failure_reason(report: &Report, name: &str) -> String {
    match report.check(name).map(|check| &check.outcome) {
        Some(Outcome::Failed(failure)) => failure.reason.clone(),
        other => panic!("{name} should have failed, but: {other:?}\n{}", report::human(report)),
    }
}

fn example(name: &str) -> PathBuf {
    root().join("plugins/examples").join(name).join("conformance")
}

/// The example's options: its own case folder and the built-in cases it overrides.
fn example_options(name: &str) -> Options {
    let dir = example(name);
    Options {
        overrides: read_overrides(&dir.join("overrides.txt")).expect("the overrides file reads"),
        case_dirs: vec![dir],
        ..options()
    }
}

// ---------------------------------------------------------------------------------------------
// Plugins that must pass.
// ---------------------------------------------------------------------------------------------

#[test]
fn the_default_plugin_passes_every_check_and_every_built_in_case() {
    let report = run(Path::new(artifacts::DEFAULT), &options());
    assert_passed(&report);
    assert_eq!(report.counts().skipped, 0, "it fills every slot and overrides nothing");
    let cases = report.checks.iter().filter(|check| check.suite == Suite::Cases).count();
    assert_eq!(cases, conformance::cases::builtin().unwrap().len());
    for suite in [Suite::Contract, Suite::Invariants, Suite::Properties, Suite::Cases] {
        assert!(report.checks.iter().any(|check| check.suite == suite), "{suite:?} ran");
    }
}

#[test]
fn share_superbills_only_passes_with_the_case_it_overrides_and_its_own_cases() {
    let report = run(Path::new(artifacts::SHARE_SUPERBILLS_ONLY), &example_options("share-superbills-only"));
    assert_passed(&report);
    let overridden = report.check("share_filter/bills_are_shared").expect("the case is reported");
    assert_eq!(
        overridden.outcome,
        Outcome::Skipped { reason: format!("{REPLACED_BY} share_filter/bills_are_left_to_staff") }
    );
    for own in ["share_filter/bills_are_left_to_staff", "share_filter/a_configured_delay_replaces_the_practices"] {
        assert_eq!(report.check(own).map(|check| &check.outcome), Some(&Outcome::Passed), "{own}");
    }
    assert!(report.check("share_filter/void_documents_are_skipped").is_some_and(|check| !check.failed()));
}

#[test]
fn biweekly_bills_passes_with_the_cadence_cases_it_overrides_and_its_own_case_folder() {
    // Its own cases live in plugins/examples/biweekly-bills/conformance/bill_cadence/.
    let report = run(Path::new(artifacts::BIWEEKLY_BILLS), &example_options("biweekly-bills"));
    assert_passed(&report);
    for own in [
        "bill_cadence/every_other_friday_from_the_anchor",
        "bill_cadence/the_off_week_has_no_run",
        "bill_cadence/unconfigured_runs_every_other_monday",
        "bill_cadence/one_open_bill_per_client",
        "bill_cadence/an_unknown_weekday_is_refused",
    ] {
        assert_eq!(report.check(own).map(|check| &check.outcome), Some(&Outcome::Passed), "{own}");
    }
    for kept in ["bill_cadence/monthly_bills_one_per_client", "bill_cadence/no_lines_no_bills"] {
        assert_eq!(report.check(kept).map(|check| &check.outcome), Some(&Outcome::Passed), "{kept}");
    }
}

#[test]
fn autopay_rules_passes_with_the_case_it_overrides_and_its_own_cases() {
    let report = run(Path::new(artifacts::AUTOPAY_RULES), &example_options("autopay-rules"));
    assert_passed(&report);
    assert_eq!(report.contract.as_deref(), Some("0.2.0"));
    for own in [
        "autopay_selection/a_balance_under_the_minimum_is_skipped",
        "autopay_selection/the_nightly_cap_holds_per_client",
        "autopay_selection/clients_who_disputed_a_payment_are_skipped",
        "autopay_selection/10000-candidates",
        "autopay_selection/valid-charges",
    ] {
        assert_eq!(report.check(own).map(|check| &check.outcome), Some(&Outcome::Passed), "{own}");
    }
}

/// A plugin built for contract 0.1 (wit-bindgen on `wit/since_v0.1.0`, no SDK) passes every check
/// and built-in case of the three slots it fills, and is known as 0.1 by its exports.
#[test]
fn a_plugin_built_for_contract_0_1_passes_the_kit_in_every_slot_it_fills() {
    let report = run(Path::new(artifacts::DEFAULT_V0_1), &options());
    assert_passed(&report);
    assert_eq!(report.contract.as_deref(), Some("0.1.0"));
    assert!(report.check("share_filter/bills_are_shared").is_some_and(|check| check.outcome == Outcome::Passed));
    let autopay: Vec<_> = report.checks.iter().filter(|check| check.name.starts_with("autopay_selection/")).collect();
    assert!(!autopay.is_empty());
    assert!(
        autopay.iter().all(|check| matches!(check.outcome, Outcome::Skipped { .. })),
        "0.1 has no autopay-selection slot: {autopay:?}"
    );
}

/// Without its overrides an example fails exactly the cases it overrides: it declares every
/// behaviour it changes, and nothing more.
#[test]
fn the_examples_override_exactly_the_cases_they_change() {
    for (name, path) in [
        ("share-superbills-only", artifacts::SHARE_SUPERBILLS_ONLY),
        ("biweekly-bills", artifacts::BIWEEKLY_BILLS),
        ("autopay-rules", artifacts::AUTOPAY_RULES),
    ] {
        let declared = example_options(name);
        let undeclared = Options { overrides: vec![], ..declared.clone() };
        let report = run(Path::new(path), &undeclared);
        let expected: BTreeSet<String> = declared.overrides.iter().map(|entry| entry.case.clone()).collect();
        assert_eq!(failed(&report, None), expected, "{name}:\n{}", report::human(&report));
    }
}

// ---------------------------------------------------------------------------------------------
// Overrides change what is tested, never whether: a plugin that does nothing fails.
// ---------------------------------------------------------------------------------------------

/// The cases a plugin that does nothing fails without overrides: every case where a bill run is
/// due, a bill made or a document sent.
fn cases_failed_by_doing_nothing() -> BTreeSet<String> {
    let report = run(Path::new(artifacts::SKIPS_EVERYTHING), &options());
    let failures = failed(&report, None);
    assert!(failures.iter().all(|name| name.starts_with("bill_cadence/") || name.starts_with("share_filter/")));
    for name in
        ["share_filter/bills_are_shared", "share_filter/superbills_are_shared", "bill_cadence/daily_run_every_day"]
    {
        assert!(failures.contains(name), "{name} fails:\n{}", report::human(&report));
    }
    assert!(failed(&report, Some(Suite::Invariants)).is_empty() && failed(&report, Some(Suite::Properties)).is_empty());
    failures
}

#[test]
fn a_plugin_that_does_nothing_fails_the_kit_even_overriding_every_case_it_fails() {
    let failing = cases_failed_by_doing_nothing();
    let overrides = failing.iter().map(|name| Override::parse(name)).collect();
    let report = run(Path::new(artifacts::SKIPS_EVERYTHING), &Options { overrides, ..options() });
    assert!(!report.passed());
    assert_eq!(failed(&report, None), failing, "the same cases fail, now for want of a replacement");
    for name in &failing {
        let reason = failure_reason(&report, name);
        assert!(reason.contains("overridden without a replacement") && reason.contains(" -> "), "{name}: {reason}");
    }
}

#[test]
fn a_share_filter_that_skips_everything_fails_under_another_plugins_overrides_and_cases() {
    let report = run(Path::new(artifacts::SKIPS_EVERYTHING), &example_options("share-superbills-only"));
    assert!(!report.passed());
    assert!(report.check("share_filter/superbills_are_shared").is_some_and(|check| check.failed()));
    assert!(report.check("share_filter/a_configured_delay_replaces_the_practices").is_some_and(|check| check.failed()));
}

// ---------------------------------------------------------------------------------------------
// Broken plugins, each failing for its reason.
// ---------------------------------------------------------------------------------------------

/// Every check outside the cases either passed or failed saying `reason`, and `check` failed.
#[track_caller]
fn fails_for(report: &Report, check: &str, reason: &str) {
    assert!(failure_reason(report, check).contains(reason), "{check}:\n{}", report::human(report));
    for failure in report.failures().filter(|check| check.suite != Suite::Cases) {
        let said = &failure.failure().expect("a failure").reason;
        assert!(said.contains(reason), "{} failed for another reason: {said}", failure.name);
    }
    for contract in conformance::checks::CONTRACT.map(|(name, _)| name) {
        assert_eq!(report.check(contract).map(|check| &check.outcome), Some(&Outcome::Passed), "{contract}");
    }
}

#[test]
fn an_endless_loop_fails_on_its_instruction_budget() {
    // The budget is what must stop it, however loaded the machine: the wall-clock limit is set
    // far above the time the budget takes, so it cannot end the call first.
    let mut options = options();
    options.limits.call_timeout = Duration::from_secs(60);
    let report = run(Path::new(artifacts::ENDLESS_LOOP), &options);
    fails_for(&report, "bill_cadence/10000-lines", "instruction budget");
    fails_for(&report, "bill_cadence/empty-input", "instruction budget");
    fails_for(&report, "bill_cadence/valid-bills", "instruction budget");
}

/// Per slot, one check fails for running out of time, within the limit and a second; every
/// later check and case of the slot is skipped, naming that check.
#[track_caller]
fn out_of_time_once_per_slot(report: &Report, limit: Duration) {
    for slot in ["bill_cadence", "superbill_inclusion", "share_filter"] {
        let checks: Vec<_> = report
            .checks
            .iter()
            .filter(|check| check.suite != Suite::Contract && check.name.starts_with(&format!("{slot}/")))
            .collect();
        let failed: Vec<_> = checks.iter().filter(|check| check.failed()).collect();
        assert_eq!(failed.len(), 1, "{slot}: one check runs out of time\n{}", report::human(report));
        let first = failed[0];
        let reason = &first.failure().expect("a failure").reason;
        assert!(reason.contains("(the plugin call time limit)"), "{}: {reason}", first.name);
        assert!(
            first.seconds < (limit + Duration::from_secs(1)).as_secs_f64(),
            "{} took {} s",
            first.name,
            first.seconds
        );
        let position = checks.iter().position(|check| check.name == first.name).expect("the failed check");
        assert!(checks[position + 1..].len() > 10, "{slot}: the properties and cases come after");
        for later in &checks[position + 1..] {
            match &later.outcome {
                Outcome::Skipped { reason } => assert!(
                    reason.contains(&first.name) && reason.contains("call time limit"),
                    "{}: {reason}",
                    later.name
                ),
                other => panic!("{} should be skipped after {} ran out of time: {other:?}", later.name, first.name),
            }
        }
    }
}

#[test]
fn a_plugin_that_sleeps_fails_on_the_call_time_limit_within_that_time_and_is_not_called_again() {
    let options = options();
    let report = run(Path::new(artifacts::SLEEPER), &options);
    out_of_time_once_per_slot(&report, options.limits.call_timeout);
    for slot in ["bill_cadence", "superbill_inclusion", "share_filter"] {
        for check in ["config-accepted", "malformed-config-rejected"] {
            let name = format!("{slot}/{check}");
            assert_eq!(report.check(&name).map(|check| &check.outcome), Some(&Outcome::Passed), "{name}");
        }
    }
}

#[test]
fn a_plugin_that_blocks_forever_fails_on_the_call_time_limit() {
    let options = options();
    let report = run(Path::new(artifacts::FOREVER_POLL), &options);
    out_of_time_once_per_slot(&report, options.limits.call_timeout);
}

#[test]
fn a_huge_refusal_of_the_configuration_is_reported_cut_to_the_cap() {
    let report = run(Path::new(artifacts::HUGE_CONFIG_ANSWER), &options());
    let reason = failure_reason(&report, "share_filter/config-accepted");
    assert!(reason.contains("(cut; 33554432 bytes)"), "{reason:.200}");
    assert!(reason.len() < 2 * autobill::plugin::MAX_PLUGIN_TEXT_BYTES, "{} bytes", reason.len());
    assert!(report::json(&report).len() < 64 * 1024, "the whole report stays small");
}

#[test]
fn a_memory_bomb_fails_on_its_memory_limit() {
    let report = run(Path::new(artifacts::MEMORY_BOMB), &options());
    fails_for(&report, "bill_cadence/10000-lines", "memory limit");
    fails_for(&report, "bill_cadence/one-line", "memory limit");
}

#[test]
fn a_plugin_that_traps_fails_every_slot_check_as_a_crash() {
    let report = run(Path::new(artifacts::TRAP), &options());
    for slot in ["bill_cadence", "superbill_inclusion", "share_filter"] {
        fails_for(&report, &format!("{slot}/config-accepted"), "crashed");
        fails_for(&report, &format!("{slot}/empty-input"), "deliberate failure");
    }
    let not_failed: Vec<&str> = report
        .checks
        .iter()
        // autopay_selection is a slot it does not fill.
        .filter(|check| {
            check.suite != Suite::Contract && !check.failed() && !check.name.starts_with("autopay_selection/")
        })
        .map(|check| check.name.as_str())
        .collect();
    assert_eq!(
        not_failed,
        ["bill_cadence/deterministic", "superbill_inclusion/deterministic", "share_filter/deterministic"]
    );
}

/// The check an invalid-outputs fault must fail, and what its reason says.
fn fault_check(fault: Fault) -> (&'static str, &'static str) {
    match fault {
        Fault::ForeignLine => ("bill_cadence/valid-bills", "which the policy was not given"),
        Fault::DuplicateLine => ("bill_cadence/valid-bills", "is on more than one bill"),
        Fault::EmptyBill => ("bill_cadence/valid-bills", "has no lines"),
        Fault::WrongClient => ("bill_cadence/valid-bills", "but holds line"),
        Fault::RunDateOutsideWindow => ("bill_cadence/valid-run-dates", "is outside the window"),
        Fault::UnorderedRunDates => ("bill_cadence/valid-run-dates", "strictly increasing"),
        Fault::DayOutOfRange => ("superbill_inclusion/valid-run-day", "superbill day 32 is outside 1–31"),
        Fault::DayPastMonthEnd => ("superbill_inclusion/valid-run-day", "does not exist in"),
        Fault::SuperbillForeignLine => ("superbill_inclusion/valid-superbills", "which the policy was not given"),
        Fault::ChargeAboveBalance => {
            ("autopay_selection/valid-charges", "a charge must be more than 0 and at most the balance")
        }
        Fault::ExcessiveDelay => ("share_filter/valid-decisions", "delay of 10081 minutes"),
        Fault::DecisionCount => ("share_filter/valid-decisions", "one per document is required"),
        Fault::EmptySkipReason => ("share_filter/valid-decisions", "without a reason"),
    }
}

#[test]
fn each_invalid_output_fails_the_matching_invariant_and_only_its_slot() {
    for (name, fault) in FAULTS {
        let options = Options { config: format!(r#"{{"fault": "{name}"}}"#), cases_per_property: 16, ..options() };
        let report = run(Path::new(artifacts::INVALID_OUTPUTS), &options);
        let (check, says) = fault_check(fault);
        let reason = failure_reason(&report, check);
        assert!(reason.contains(says) && reason.contains("invalid decision"), "{name}: {reason}");
        let slot = check.split('/').next().unwrap_or_default();
        for other in failed(&report, Some(Suite::Invariants)).union(&failed(&report, Some(Suite::Properties))) {
            assert!(other.starts_with(slot), "{name} fails {other}, outside its slot");
            assert!(failure_reason(&report, other).contains(says), "{name} fails {other} for another reason");
        }
        assert!(report.rerun_command().contains(&format!("--config '{{\"fault\": \"{name}\"}}'")));
    }
}

#[test]
fn without_a_fault_invalid_outputs_keeps_every_invariant() {
    let report = run(Path::new(artifacts::INVALID_OUTPUTS), &options());
    let broken: BTreeSet<String> =
        failed(&report, Some(Suite::Invariants)).union(&failed(&report, Some(Suite::Properties))).cloned().collect();
    assert!(broken.is_empty(), "{broken:?}\n{}", report::human(&report));
    assert!(!failed(&report, Some(Suite::Cases)).is_empty(), "its plain answers are not the documented behaviour");
}

#[test]
fn a_plugin_for_another_contract_fails_the_version_check_and_nothing_else_runs() {
    let report = run(Path::new(artifacts::WRONG_CONTRACT), &options());
    let reason = failure_reason(&report, "contract/version-served");
    assert!(reason.contains("autobill:policy@9.0.0") && reason.contains("autobill:policy@0.1.x"), "{reason}");
    assert_eq!(report.checks.len(), 4, "only the contract checks");
    assert_eq!(report.counts().skipped, 3);
}

#[test]
fn junit_output_has_one_testcase_per_check_and_the_failures() {
    let report = run(Path::new(artifacts::WRONG_CONTRACT), &options());
    let xml = report::junit(&report);
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites "), "{xml}");
    assert!(xml.contains(r#"tests="4" failures="1" skipped="3""#), "{xml}");
    assert!(xml.contains(r#"<testsuite name="contract" tests="4" failures="1" skipped="3""#), "{xml}");
    assert!(xml.contains(r#"<testcase classname="autobill.plugin.contract" name="contract/version-served""#), "{xml}");
    assert!(xml.contains(r#"<failure message="the plugin was built for contract autobill:policy@9.0.0"#), "{xml}");
    assert!(xml.contains(&format!(r#"<property name="seed" value="{}"/>"#, report.seed)), "{xml}");
    assert_eq!(xml.matches("<testcase ").count(), 4);
    assert!(xml.trim_end().ends_with("</testsuites>"));

    let passing = run(Path::new(artifacts::SHARE_SUPERBILLS_ONLY), &example_options("share-superbills-only"));
    let xml = report::junit(&passing);
    assert_eq!(xml.matches("<testcase ").count(), passing.checks.len());
    assert!(!xml.contains("<failure "));
    assert_eq!(xml.matches("<testsuite ").count(), 4);
}

#[test]
fn malformed_case_folders_and_unknown_overrides_stop_the_kit_before_it_runs() {
    let bytes = std::fs::read(artifacts::DEFAULT).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("share_filter/typo");
    std::fs::create_dir_all(&case).unwrap();
    std::fs::write(case.join("input.json"), r#"{"function": "decide-shares", "request": []}"#).unwrap();
    std::fs::write(case.join("expected.json"), "[]").unwrap();
    let options = Options { case_dirs: vec![dir.path().to_path_buf()], ..options() };
    match conformance::run("default.wasm", &bytes, &options) {
        Err(KitError::Case { path, message }) => {
            assert!(path.ends_with("share_filter/typo") && message.contains("request"), "{path}: {message}")
        }
        other => panic!("expected a case error, got {other:?}"),
    }
    let options =
        Options { overrides: vec![Override::parse("share_filter/bills_are_sharde -> own")], ..self::options() };
    assert!(matches!(
        conformance::run("default.wasm", &bytes, &options),
        Err(KitError::UnknownOverride { name }) if name == "share_filter/bills_are_sharde"
    ));
}

// ---------------------------------------------------------------------------------------------
// A policy in another language.
// ---------------------------------------------------------------------------------------------

/// Where `plugins/examples/python-share-filter/build.sh` writes the component (tests/run.sh runs
/// it before `cargo test`); `AUTOBILL_PYTHON_PLUGIN` points elsewhere.
fn python_plugin() -> PathBuf {
    std::env::var_os("AUTOBILL_PYTHON_PLUGIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/plugins/python/python_share_filter.wasm"))
}

#[test]
fn a_share_filter_written_in_python_passes_the_kit() {
    let path = python_plugin();
    assert!(
        path.exists(),
        "{} is missing: build it with `bash plugins/examples/python-share-filter/build.sh` \
         (tests/run.sh does, after installing componentize-py)",
        path.display()
    );
    let report = run(&path, &options());
    assert_passed(&report);
    assert_eq!(report.slots, ["share_filter"]);
    assert_eq!(report.contract.as_deref(), Some("0.1.0"), "read from the export names: componentize-py stamps nothing");
    assert!(report.check("share_filter/no_email_on_file_is_skipped").is_some_and(|check| !check.failed()));
}

/// Where `plugins/examples/js-share-filter/build.sh` writes the component (tests/run.sh runs it
/// before `cargo test`); `AUTOBILL_JS_PLUGIN` points elsewhere.
fn js_plugin() -> PathBuf {
    std::env::var_os("AUTOBILL_JS_PLUGIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/plugins/js/js_share_filter.wasm"))
}

#[test]
fn a_share_filter_written_in_javascript_passes_the_kit_with_its_cases_and_override() {
    let path = js_plugin();
    assert!(
        path.exists(),
        "{} is missing: build it with `bash plugins/examples/js-share-filter/build.sh` (tests/run.sh does)",
        path.display()
    );
    let report = run(&path, &example_options("js-share-filter"));
    assert_passed(&report);
    assert_eq!(report.slots, ["share_filter"]);
    assert_eq!(report.contract.as_deref(), Some("0.1.0"), "read from the export names: jco stamps nothing");
    assert_eq!(
        report.check("share_filter/bills_are_left_to_staff").map(|check| &check.outcome),
        Some(&Outcome::Passed)
    );
}
