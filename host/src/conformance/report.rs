//! The kit's report and its three forms: a readable one for people, JUnit XML for CI, and JSON.
//! Rendering is pure: a [`Report`] in, text out.

use serde::Serialize;
use std::fmt::Write as _;

/// Which part of the kit a check belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Suite {
    /// The component itself: format, contract version, slots, imports.
    Contract,
    /// Fixed inputs every policy must handle: empty, one line, 10,000 lines, configurations.
    Invariants,
    /// Generated inputs, reproducible from the seed.
    Properties,
    /// Data-driven behaviour cases.
    Cases,
}

impl Suite {
    /// Every suite, in report order.
    pub const ALL: [Suite; 4] = [Suite::Contract, Suite::Invariants, Suite::Properties, Suite::Cases];

    /// The suite's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Suite::Contract => "contract",
            Suite::Invariants => "invariants",
            Suite::Properties => "properties",
            Suite::Cases => "cases",
        }
    }
}

/// How a check ended.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Outcome {
    /// The plugin did what the check asks.
    Passed,
    /// It did not.
    Failed(Failure),
    /// The check did not apply (the slot is not filled, the plugin overrides the case, or the
    /// component could not be loaded).
    Skipped {
        /// Why.
        reason: String,
    },
}

/// What went wrong in a failed check.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Failure {
    /// What the plugin did, in a sentence (the runtime's error, or what differs).
    pub reason: String,
    /// The input: a case's folder, or a generated input written as a case's `input.json`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// Expected against actual, when the plugin answered but answered differently.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub difference: Option<String>,
}

impl Failure {
    /// A failure with only a reason.
    pub fn new(reason: impl Into<String>) -> Self {
        Failure { reason: reason.into(), ..Failure::default() }
    }

    /// The same failure, naming its input.
    pub fn with_input(self, input: impl Into<String>) -> Self {
        Failure { input: Some(input.into()), ..self }
    }

    /// The same failure, with the difference between expected and actual.
    pub fn with_difference(self, difference: impl Into<String>) -> Self {
        Failure { difference: Some(difference.into()), ..self }
    }
}

/// One check and how it ended.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Check {
    /// The check's name, e.g. `contract/version-served`, `bill_cadence/10000-lines` or, for a
    /// case, `share_filter/bills_are_shared`.
    pub name: String,
    /// The suite it belongs to.
    pub suite: Suite,
    /// What it checks, in a sentence.
    pub description: String,
    /// How it ended.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// How long it took, in seconds.
    pub seconds: f64,
}

impl Check {
    /// Whether the check failed.
    pub fn failed(&self) -> bool {
        matches!(self.outcome, Outcome::Failed(_))
    }

    /// The failure, if the check failed.
    pub fn failure(&self) -> Option<&Failure> {
        match &self.outcome {
            Outcome::Failed(failure) => Some(failure),
            _ => None,
        }
    }
}

/// Everything the kit found about one plugin.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// The plugin file as given on the command line.
    pub file: String,
    /// The SHA-256 of the component's bytes.
    pub plugin_id: String,
    /// The contract version the plugin was built for, if it loaded and says.
    pub contract: Option<String>,
    /// The slots the plugin fills.
    pub slots: Vec<String>,
    /// The seed of every generated input.
    pub seed: u64,
    /// How many generated inputs each property check tries.
    pub cases_per_property: u32,
    /// The configuration the invariant and property checks ran under.
    pub config: String,
    /// The folders of the plugin's own cases, as given.
    pub case_dirs: Vec<String>,
    /// The file naming the built-in cases the plugin overrides, as given.
    pub overrides_file: Option<String>,
    /// The time one call could take, in milliseconds.
    pub call_timeout_ms: u64,
    /// Every check, in the order run.
    pub checks: Vec<Check>,
}

/// How many checks passed, failed and were skipped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Passed.
    pub passed: usize,
    /// Failed.
    pub failed: usize,
    /// Skipped.
    pub skipped: usize,
}

impl Counts {
    /// Counts of `checks`.
    pub fn of<'a>(checks: impl IntoIterator<Item = &'a Check>) -> Self {
        let mut counts = Counts::default();
        for check in checks {
            match check.outcome {
                Outcome::Passed => counts.passed += 1,
                Outcome::Failed(_) => counts.failed += 1,
                Outcome::Skipped { .. } => counts.skipped += 1,
            }
        }
        counts
    }

    /// All checks counted.
    pub fn total(&self) -> usize {
        self.passed + self.failed + self.skipped
    }
}

impl Report {
    /// Whether every check passed or was skipped: the exit status is 0 only then.
    pub fn passed(&self) -> bool {
        !self.checks.iter().any(Check::failed)
    }

    /// Counts of all checks.
    pub fn counts(&self) -> Counts {
        Counts::of(&self.checks)
    }

    /// The check named `name`, if it ran.
    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|check| check.name == name)
    }

    /// The failed checks.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|check| check.failed())
    }

    /// The command that repeats this run with the same generated inputs.
    pub fn rerun_command(&self) -> String {
        let mut command = format!("autobill plugin test {} --seed {}", shell_quote(&self.file), self.seed);
        if !self.config.is_empty() {
            let _ = write!(command, " --config {}", shell_quote(&self.config));
        }
        for dir in &self.case_dirs {
            let _ = write!(command, " --cases {}", shell_quote(dir));
        }
        if let Some(file) = &self.overrides_file {
            let _ = write!(command, " --overrides {}", shell_quote(file));
        }
        if self.call_timeout_ms != default_call_timeout_ms() {
            let _ = write!(command, " --call-timeout-ms {}", self.call_timeout_ms);
        }
        command
    }
}

/// The call time limit in production, which `autobill plugin test` runs with unless told otherwise.
pub fn default_call_timeout_ms() -> u64 {
    crate::plugin::PluginLimits::default().call_timeout.as_millis().try_into().unwrap_or(u64::MAX)
}

/// A check's time for people: milliseconds below a second, else seconds.
fn duration(seconds: f64) -> String {
    if seconds < 1.0 { format!("{:.0} ms", seconds * 1000.0) } else { format!("{seconds:.2} s") }
}

/// `text` as one shell word: as it is when it is plain, else in single quotes.
fn shell_quote(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_./:=@%+-,".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// The longest generated input the readable report prints; the JSON report has all of it.
const HUMAN_INPUT_CHARS: usize = 3_000;

/// The readable report.
pub fn human(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "autobill plugin test {}", report.file);
    let contract = report.contract.as_deref().map_or_else(|| "unknown".to_string(), |v| format!("autobill:policy@{v}"));
    let slots = if report.slots.is_empty() { "none".to_string() } else { report.slots.join(", ") };
    let id = report.plugin_id.get(..12).unwrap_or(&report.plugin_id);
    let _ = writeln!(out, "  plugin {id}…  contract {contract}  fills {slots}");
    let _ = writeln!(out, "  seed {}  ({} generated cases per property)", report.seed, report.cases_per_property);
    if !report.config.is_empty() {
        let _ = writeln!(out, "  configuration {}", report.config);
    }
    for suite in Suite::ALL {
        let checks: Vec<&Check> = report.checks.iter().filter(|check| check.suite == suite).collect();
        if checks.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{}", suite.as_str());
        let mut unfilled: Vec<&str> = vec![];
        for check in &checks {
            match &check.outcome {
                Outcome::Passed => {
                    let _ = writeln!(out, "  ok    {}  {}", check.name, duration(check.seconds));
                }
                Outcome::Skipped { reason } if reason.starts_with(NOT_FILLED) => unfilled.push(&check.name),
                Outcome::Skipped { reason } => {
                    let _ = writeln!(out, "  skip  {}  ({reason})", check.name);
                }
                Outcome::Failed(failure) => {
                    let _ =
                        writeln!(out, "  FAIL  {}  {}  — {}", check.name, duration(check.seconds), check.description);
                    write_failure(&mut out, failure);
                }
            }
        }
        if !unfilled.is_empty() {
            let _ = writeln!(out, "  skip  {} checks of slots the plugin does not fill", unfilled.len());
        }
    }
    let counts = report.counts();
    let verdict = if report.passed() { "passed" } else { "FAILED" };
    let seconds: f64 = report.checks.iter().map(|check| check.seconds).sum();
    let _ = writeln!(
        out,
        "\nresult: {verdict}. {} passed, {} failed, {} skipped, in {}",
        counts.passed,
        counts.failed,
        counts.skipped,
        duration(seconds)
    );
    let _ = writeln!(out, "re-run with the same generated inputs: {}", report.rerun_command());
    out
}

/// Why a plugin that failed the admission suites was not stored: each failed check with its
/// reason, for the operator who tried to add it.
pub fn refusal(report: &Report) -> String {
    let mut out = format!(
        "the plugin failed {} of the conformance kit's checks run before a plugin is stored (contract and invariants), so it was not stored:",
        report.counts().failed
    );
    for check in report.failures() {
        let reason = check.failure().map_or("", |failure| failure.reason.as_str());
        let _ = write!(
            out,
            "\n  FAIL  {}  — {}\n        {}",
            check.name,
            check.description,
            reason.replace('\n', "\n        ")
        );
    }
    out.push_str("\nFix these and add it again; `autobill plugin test FILE.wasm` runs every check and shows the inputs that failed.");
    out
}

/// How a skip for a slot the plugin does not fill starts; the readable report counts these
/// instead of listing them.
pub(crate) const NOT_FILLED: &str = "the plugin does not fill the";

fn write_failure(out: &mut String, failure: &Failure) {
    let indent = |text: &str| text.lines().map(|line| format!("          {line}\n")).collect::<String>();
    let _ = writeln!(out, "        {}", failure.reason.replace('\n', "\n        "));
    if let Some(input) = &failure.input {
        let shown = if input.chars().count() > HUMAN_INPUT_CHARS {
            let cut: String = input.chars().take(HUMAN_INPUT_CHARS).collect();
            format!("{cut}\n… (cut; --format json prints all of it)")
        } else {
            input.clone()
        };
        if shown.contains('\n') {
            let _ = write!(out, "        input:\n{}", indent(&shown));
        } else {
            let _ = writeln!(out, "        input: {shown}");
        }
    }
    if let Some(difference) = &failure.difference {
        let _ = write!(out, "        difference:\n{}", indent(difference));
    }
}

/// The report as JUnit XML: one `<testsuite>` per suite, one `<testcase>` per check, the seed
/// among the properties.
pub fn junit(report: &Report) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let counts = report.counts();
    let total_seconds: f64 = report.checks.iter().map(|check| check.seconds).sum();
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" errors=\"0\" time=\"{total_seconds:.3}\">",
        xml(&format!("autobill plugin test {}", report.file)),
        counts.total(),
        counts.failed,
        counts.skipped
    );
    for suite in Suite::ALL {
        let checks: Vec<&Check> = report.checks.iter().filter(|check| check.suite == suite).collect();
        if checks.is_empty() {
            continue;
        }
        let counts = Counts::of(checks.iter().copied());
        let seconds: f64 = checks.iter().map(|check| check.seconds).sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" errors=\"0\" time=\"{seconds:.3}\">",
            suite.as_str(),
            counts.total(),
            counts.failed,
            counts.skipped
        );
        out.push_str("    <properties>\n");
        for (name, value) in [
            ("plugin", report.file.as_str()),
            ("plugin_id", report.plugin_id.as_str()),
            ("seed", &report.seed.to_string()),
            ("rerun", &report.rerun_command()),
        ] {
            let _ = writeln!(out, "      <property name=\"{name}\" value=\"{}\"/>", xml(value));
        }
        out.push_str("    </properties>\n");
        for check in checks {
            let _ = write!(
                out,
                "    <testcase classname=\"autobill.plugin.{}\" name=\"{}\" time=\"{:.3}\"",
                suite.as_str(),
                xml(&check.name),
                check.seconds
            );
            match &check.outcome {
                Outcome::Passed => out.push_str("/>\n"),
                Outcome::Skipped { reason } => {
                    let _ = write!(out, ">\n      <skipped message=\"{}\"/>\n    </testcase>\n", xml(reason));
                }
                Outcome::Failed(failure) => {
                    let mut body = format!("{}\n{}", check.description, failure.reason);
                    if let Some(input) = &failure.input {
                        let _ = write!(body, "\ninput:\n{input}");
                    }
                    if let Some(difference) = &failure.difference {
                        let _ = write!(body, "\ndifference:\n{difference}");
                    }
                    let _ = write!(
                        out,
                        ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>\n",
                        xml(&failure.reason),
                        xml(&check.name),
                        xml(&body)
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// The report as JSON.
pub fn json(report: &Report) -> String {
    #[derive(Serialize)]
    struct Shown<'a> {
        passed: bool,
        counts: Counts,
        rerun: String,
        #[serde(flatten)]
        report: &'a Report,
    }
    let shown = Shown { passed: report.passed(), counts: report.counts(), rerun: report.rerun_command(), report };
    serde_json::to_string_pretty(&shown).unwrap_or_default() + "\n"
}

/// Text made safe for XML attributes and content; characters XML 1.0 cannot carry are dropped.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' => {
                let _ = write!(out, "&#{};", u32::from(c));
            }
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str, suite: Suite, outcome: Outcome) -> Check {
        Check { name: name.into(), suite, description: format!("checks {name}"), outcome, seconds: 0.25 }
    }

    fn report() -> Report {
        Report {
            file: "my plugin.wasm".into(),
            plugin_id: "ab".repeat(32),
            contract: Some("0.1.0".into()),
            slots: vec!["share_filter".into()],
            seed: 42,
            cases_per_property: 64,
            config: String::new(),
            case_dirs: vec![],
            overrides_file: None,
            call_timeout_ms: default_call_timeout_ms(),
            checks: vec![
                check("contract/version-served", Suite::Contract, Outcome::Passed),
                check(
                    "share_filter/decisions-valid",
                    Suite::Properties,
                    Outcome::Failed(
                        Failure::new("delay of -5 minutes <bad> & \"worse\"")
                            .with_input("{\n  \"function\": \"decide-shares\"\n}"),
                    ),
                ),
                check(
                    "bill_cadence/empty-input",
                    Suite::Invariants,
                    Outcome::Skipped { reason: format!("{NOT_FILLED} bill_cadence slot") },
                ),
                check(
                    "share_filter/bills_are_shared",
                    Suite::Cases,
                    Outcome::Skipped { reason: "overridden by the plugin".into() },
                ),
            ],
        }
    }

    #[test]
    fn junit_has_a_testcase_per_check_and_escapes_text() {
        let xml = junit(&report());
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites "), "{xml}");
        assert!(xml.contains(r#"tests="4" failures="1" skipped="2""#), "{xml}");
        assert_eq!(xml.matches("<testcase ").count(), 4);
        assert_eq!(xml.matches("<testsuite ").count(), 4, "one per suite with checks");
        assert_eq!(xml.matches("<failure ").count(), 1);
        assert_eq!(xml.matches("<skipped ").count(), 2);
        assert!(xml.contains(r#"message="delay of -5 minutes &lt;bad&gt; &amp; &quot;worse&quot;""#), "{xml}");
        assert!(xml.contains(r#"<property name="seed" value="42"/>"#), "{xml}");
        assert!(!xml.contains("<bad>"));
        assert!(xml.trim_end().ends_with("</testsuites>"));
    }

    #[test]
    fn the_readable_report_names_failures_inputs_and_the_seed() {
        let text = human(&report());
        assert!(text.contains("ok    contract/version-served  250 ms"), "{text}");
        assert!(text.contains("FAIL  share_filter/decisions-valid  250 ms"), "{text}");
        assert!(text.contains("\"function\": \"decide-shares\""), "{text}");
        assert!(text.contains("skip  share_filter/bills_are_shared  (overridden by the plugin)"), "{text}");
        assert!(text.contains("skip  1 checks of slots the plugin does not fill"), "{text}");
        assert!(text.contains("result: FAILED. 1 passed, 1 failed, 2 skipped, in 1.00 s"), "{text}");
        assert!(text.contains("autobill plugin test 'my plugin.wasm' --seed 42"), "{text}");
    }

    #[test]
    fn json_carries_the_verdict_and_every_check() {
        let value: serde_json::Value = serde_json::from_str(&json(&report())).unwrap();
        assert_eq!(value["passed"], false);
        assert_eq!(value["seed"], 42);
        assert_eq!(value["counts"]["failed"], 1);
        assert_eq!(value["checks"][1]["status"], "failed");
        assert_eq!(value["checks"][1]["input"], "{\n  \"function\": \"decide-shares\"\n}");
        assert_eq!(value["checks"][3]["reason"], "overridden by the plugin");
    }

    #[test]
    fn the_rerun_command_quotes_a_configuration() {
        let report = Report { config: r#"{"fault": "it's"}"#.into(), ..report() };
        assert_eq!(
            report.rerun_command(),
            r#"autobill plugin test 'my plugin.wasm' --seed 42 --config '{"fault": "it'\''s"}'"#
        );
    }

    #[test]
    fn the_rerun_command_passes_the_cases_and_overrides_again() {
        let report = Report {
            case_dirs: vec!["cases".into(), "more cases".into()],
            overrides_file: Some("overrides.txt".into()),
            call_timeout_ms: 500,
            ..report()
        };
        assert_eq!(
            report.rerun_command(),
            "autobill plugin test 'my plugin.wasm' --seed 42 --cases cases --cases 'more cases' --overrides overrides.txt --call-timeout-ms 500"
        );
    }
}
