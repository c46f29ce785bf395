//! Behaviour cases: data-driven calls with the answer (or error) the documented behaviour gives.
//!
//! A case is a folder `<policy>/<case>/` holding `input.json` (the call) and either
//! `expected.json` (the answer) or `error.txt` (a piece of the expected error message). `<policy>`
//! is a slot name: `bill_cadence`, `superbill_inclusion` or `share_filter`. The built-in cases
//! come from `tests/conformance/` and are compiled into the binary; a plugin adds its own with
//! `--cases DIR` and names the built-in cases it deliberately changes in an overrides file.
//!
//! Parsing and comparing are pure; [`load_dir`] and [`read_overrides`] read files.

use super::json::{Answer, Bill, Call, ChargeDecision, Day, Decision, Superbill};
use super::{Failure, KitError, Outcome};
use crate::plugin::Slot;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// One built-in case, as compiled into the binary from `tests/conformance/`.
#[derive(Debug)]
pub struct BuiltinCase {
    /// The policy folder: a slot name.
    pub policy: &'static str,
    /// The case folder.
    pub case: &'static str,
    /// `input.json`, if present.
    pub input: Option<&'static str>,
    /// `expected.json`, if present.
    pub expected: Option<&'static str>,
    /// `error.txt`, if present.
    pub error: Option<&'static str>,
}

include!(concat!(env!("OUT_DIR"), "/conformance_cases.rs"));

/// A behaviour case, ready to run.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    /// `<policy>/<case>`, e.g. `share_filter/bills_are_shared`: what overrides name.
    pub name: String,
    /// The slot the case is about.
    pub slot: Slot,
    /// Where it came from: the case's folder.
    pub source: String,
    /// What it checks, from `input.json`'s `description`.
    pub description: String,
    /// The moment the call runs at, from `input.json`'s `at` (RFC 3339), if given.
    pub at: Option<DateTime<Utc>>,
    /// The call.
    pub call: Call,
    /// What it must answer.
    pub expect: Expectation,
}

/// What a case must answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Expectation {
    /// This answer (`expected.json`).
    Answer(Expected),
    /// An error whose message holds this text, ignoring case (`error.txt`).
    Error(String),
}

/// An expected answer, by function.
#[derive(Clone, Debug, PartialEq)]
pub enum Expected {
    /// `check-config` accepts: `null`.
    Accepted,
    /// Run dates, in order.
    RunDates(Vec<Day>),
    /// Bills, in any order, each bill's lines in any order.
    Bills(Vec<Bill>),
    /// The superbill day.
    RunDay(u8),
    /// Superbills, in any order, each one's lines in any order.
    Superbills(Vec<Superbill>),
    /// One decision per request, in order.
    Decisions(Vec<DecisionPattern>),
    /// One decision per autopay candidate, in order.
    Charges(Vec<DecisionPattern>),
}

/// An expected decision: `{"send": 60}` (a share), `{"charge": 15000}` (an autopay charge),
/// `{"skip": "no email"}` (a skip whose reason holds the text, ignoring case) or `"skip"` (a skip
/// for any reason).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecisionPattern {
    /// Sent after exactly this delay.
    Send(u32),
    /// Charged exactly this amount.
    Charge(i64),
    /// Skipped; the reason holds this text, if given.
    Skip(Option<String>),
}

impl<'de> Deserialize<'de> for DecisionPattern {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let value = serde_json::Value::deserialize(deserializer)?;
        let wrong = || {
            D::Error::custom(format!(
                "{value} is not a decision: write {{\"send\": MINUTES}}, {{\"charge\": AMOUNT}}, {{\"skip\": \"part of the reason\"}} or \"skip\""
            ))
        };
        match &value {
            serde_json::Value::String(text) if text == "skip" => Ok(DecisionPattern::Skip(None)),
            serde_json::Value::Object(map) if map.len() == 1 => match map.iter().next() {
                Some((key, serde_json::Value::Number(n))) if key == "send" => {
                    n.as_u64().and_then(|n| u32::try_from(n).ok()).map(DecisionPattern::Send).ok_or_else(wrong)
                }
                Some((key, serde_json::Value::Number(n))) if key == "charge" => {
                    n.as_i64().map(DecisionPattern::Charge).ok_or_else(wrong)
                }
                Some((key, serde_json::Value::String(text))) if key == "skip" => {
                    Ok(DecisionPattern::Skip(Some(text.clone())))
                }
                _ => Err(wrong()),
            },
            _ => Err(wrong()),
        }
    }
}

impl DecisionPattern {
    fn matches(&self, decision: &Decision) -> bool {
        match (self, decision) {
            (DecisionPattern::Send(want), Decision::Send(got)) => want == got,
            (DecisionPattern::Skip(None), Decision::Skip(_)) => true,
            (DecisionPattern::Skip(Some(part)), Decision::Skip(reason)) => contains_ignoring_case(reason, part),
            _ => false,
        }
    }

    fn matches_charge(&self, decision: &ChargeDecision) -> bool {
        match (self, decision) {
            (DecisionPattern::Charge(want), ChargeDecision::Charge(got)) => want == got,
            (DecisionPattern::Skip(None), ChargeDecision::Skip(_)) => true,
            (DecisionPattern::Skip(Some(part)), ChargeDecision::Skip(reason)) => contains_ignoring_case(reason, part),
            _ => false,
        }
    }

    fn show(&self) -> String {
        match self {
            DecisionPattern::Send(delay) => format!("send after {delay} minutes"),
            DecisionPattern::Charge(amount) => format!("charge {amount}"),
            DecisionPattern::Skip(None) => "skip (any reason)".into(),
            DecisionPattern::Skip(Some(part)) => format!("skip with a reason mentioning {part:?}"),
        }
    }
}

fn show_decision(decision: &Decision) -> String {
    match decision {
        Decision::Send(delay) => format!("send after {delay} minutes"),
        Decision::Skip(reason) => format!("skip: {reason:?}"),
    }
}

fn show_charge(decision: &ChargeDecision) -> String {
    match decision {
        ChargeDecision::Charge(amount) => format!("charge {amount}"),
        ChargeDecision::Skip(reason) => format!("skip: {reason:?}"),
    }
}

/// Compares decisions in order: the count, then each against its pattern.
fn compare_decisions<T>(
    want: &[DecisionPattern],
    got: &[T],
    matches: impl Fn(&DecisionPattern, &T) -> bool,
    show: impl Fn(&T) -> String,
) -> Result<(), String> {
    let mut lines = vec![];
    if want.len() != got.len() {
        lines.push(format!("expected {} decisions, got {}", want.len(), got.len()));
    }
    for (index, (pattern, decision)) in want.iter().zip(got).enumerate() {
        if !matches(pattern, decision) {
            lines.push(format!("decision #{}: expected {}, got {}", index + 1, pattern.show(), show(decision)));
        }
    }
    if lines.is_empty() { Ok(()) } else { Err(lines.join("\n")) }
}

fn contains_ignoring_case(text: &str, part: &str) -> bool {
    text.to_lowercase().contains(&part.trim().to_lowercase())
}

/// Reads one case from its files' contents. `source` names the folder in messages.
pub fn parse_case(
    policy: &str,
    case: &str,
    source: &str,
    input: &str,
    expected: Option<&str>,
    error: Option<&str>,
) -> Result<Case, KitError> {
    let bad = |message: String| KitError::Case { path: source.to_string(), message };
    let slot: Slot = policy.parse().map_err(|error| bad(format!("the policy folder `{policy}`: {error}")))?;
    let mut value: serde_json::Value =
        serde_json::from_str(input).map_err(|error| bad(format!("input.json is not JSON: {error}")))?;
    let object = value.as_object_mut().ok_or_else(|| bad("input.json must be a JSON object".into()))?;
    let description = match object.remove("description") {
        None => String::new(),
        Some(serde_json::Value::String(text)) => text,
        Some(_) => return Err(bad("input.json: `description` must be a string".into())),
    };
    let at = match object.remove("at") {
        None => None,
        Some(serde_json::Value::String(text)) => Some(
            DateTime::parse_from_rfc3339(&text)
                .map_err(|error| bad(format!("input.json: `at` {text:?} is not an RFC 3339 time: {error}")))?
                .with_timezone(&Utc),
        ),
        Some(_) => return Err(bad("input.json: `at` must be an RFC 3339 time as a string".into())),
    };
    let call: Call = serde_json::from_value(value).map_err(|error| bad(format!("input.json: {error}")))?;
    if let Some(owner) = call.slot()
        && owner != slot
    {
        return Err(bad(format!("input.json calls {}, a function of {owner}, not of {slot}", call.function())));
    }
    let expect = match (expected, error) {
        (Some(_), Some(_)) => return Err(bad("a case has expected.json or error.txt, not both".into())),
        (None, None) => return Err(bad("a case needs expected.json (the answer) or error.txt (the error)".into())),
        (None, Some(text)) if text.trim().is_empty() => return Err(bad("error.txt is empty".into())),
        (None, Some(text)) => Expectation::Error(text.trim().to_string()),
        (Some(text), None) => {
            Expectation::Answer(parse_expected(&call, text).map_err(|error| bad(format!("expected.json: {error}")))?)
        }
    };
    Ok(Case { name: format!("{policy}/{case}"), slot, source: source.to_string(), description, at, call, expect })
}

/// Reads `expected.json` as the answer of `call`'s function.
fn parse_expected(call: &Call, text: &str) -> Result<Expected, serde_json::Error> {
    Ok(match call {
        Call::CheckConfig { .. } => {
            serde_json::from_str::<()>(text)?;
            Expected::Accepted
        }
        Call::BillRunDates { .. } => Expected::RunDates(serde_json::from_str(text)?),
        Call::GroupLines { .. } => Expected::Bills(serde_json::from_str(text)?),
        Call::SuperbillRunDay { .. } => Expected::RunDay(serde_json::from_str(text)?),
        Call::SelectLines { .. } => Expected::Superbills(serde_json::from_str(text)?),
        Call::DecideShares { .. } => Expected::Decisions(serde_json::from_str(text)?),
        Call::SelectCharges { .. } => Expected::Charges(serde_json::from_str(text)?),
    })
}

/// The built-in cases, from `tests/conformance/`.
pub fn builtin() -> Result<Vec<Case>, KitError> {
    BUILTIN_CASES
        .iter()
        .map(|case| {
            let source = format!("tests/conformance/{}/{}", case.policy, case.case);
            let input = case
                .input
                .ok_or_else(|| KitError::Case { path: source.clone(), message: "input.json is missing".into() })?;
            parse_case(case.policy, case.case, &source, input, case.expected, case.error)
        })
        .collect()
}

/// Reads every case under `dir`: `dir/<policy>/<case>/`. Files directly in `dir` (an overrides
/// file, a README) are passed over; a folder that is not a slot name is an error.
pub fn load_dir(dir: &Path) -> Result<Vec<Case>, KitError> {
    let mut cases = vec![];
    for policy_dir in sorted_dirs(dir)? {
        let policy = file_name(&policy_dir);
        for case_dir in sorted_dirs(&policy_dir)? {
            let read = |name: &str| -> Result<Option<String>, KitError> {
                let path = case_dir.join(name);
                match std::fs::read_to_string(&path) {
                    Ok(text) => Ok(Some(text)),
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(source) => Err(KitError::Io { path: path.display().to_string(), source }),
                }
            };
            let source = case_dir.display().to_string();
            let input = read("input.json")?
                .ok_or_else(|| KitError::Case { path: source.clone(), message: "input.json is missing".into() })?;
            let (expected, error) = (read("expected.json")?, read("error.txt")?);
            cases.push(parse_case(
                &policy,
                &file_name(&case_dir),
                &source,
                &input,
                expected.as_deref(),
                error.as_deref(),
            )?);
        }
    }
    Ok(cases)
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|name| name.to_string_lossy().to_string()).unwrap_or_default()
}

/// The folders in `dir`, sorted by name.
fn sorted_dirs(dir: &Path) -> Result<Vec<std::path::PathBuf>, KitError> {
    let io = |source| KitError::Io { path: dir.display().to_string(), source };
    let mut dirs = vec![];
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            dirs.push(path);
        }
    }
    dirs.sort();
    Ok(dirs)
}

/// A built-in case a plugin changes on purpose, and the plugin's own case that states what it
/// does instead. Written `<policy>/<case> -> <replacement>` in an overrides file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Override {
    /// The built-in case, `<policy>/<case>`.
    pub case: String,
    /// The plugin's case that replaces it, `<policy>/<case>`; `None` when the line names none,
    /// which fails the overridden case: a behaviour changed without saying into what is untested.
    pub replacement: Option<String>,
}

impl Override {
    /// Reads `<policy>/<case> -> <replacement>`; a replacement without a policy is in the
    /// overridden case's policy.
    pub fn parse(text: &str) -> Self {
        let (case, replacement) = match text.split_once("->") {
            Some((case, replacement)) => (case.trim(), Some(replacement.trim())),
            None => (text.trim(), None),
        };
        let replacement = replacement.filter(|name| !name.is_empty()).map(|name| match case.split_once('/') {
            Some((policy, _)) if !name.contains('/') => format!("{policy}/{name}"),
            _ => name.to_string(),
        });
        Override { case: case.to_string(), replacement }
    }
}

/// Reads an overrides file: one `<policy>/<case> -> <replacement>` a line; blank lines and `#`
/// comments are ignored.
pub fn parse_overrides(text: &str) -> Vec<Override> {
    text.lines()
        .map(|line| line.split('#').next().unwrap_or_default().trim())
        .filter(|line| !line.is_empty())
        .map(Override::parse)
        .collect()
}

/// Reads the overrides file at `path`.
pub fn read_overrides(path: &Path) -> Result<Vec<Override>, KitError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| KitError::Io { path: path.display().to_string(), source })?;
    Ok(parse_overrides(&text))
}

/// A case with its outcome when it is not run: skipped (replaced by another case) or failed
/// (overridden without a replacement).
pub type Planned = (Case, Option<Outcome>);

/// Puts the built-in and the plugin's own cases together:
/// - a built-in case the overrides name is replaced by the plugin's case they name, which runs;
///   the built-in case is reported skipped, or is that case when both have one name;
/// - a built-in case overridden without a replacement fails, saying how to name one;
/// - an override of no built-in case, a replacement the plugin does not have or in another
///   policy, and a built-in case defined again without being overridden are errors (a typo
///   would otherwise silently test nothing).
pub fn plan(builtin: Vec<Case>, own: Vec<Case>, overrides: &[Override]) -> Result<Vec<Planned>, KitError> {
    let mut own_by_name: BTreeMap<String, Case> = BTreeMap::new();
    for case in own {
        if let Some(first) = own_by_name.get(&case.name) {
            return Err(KitError::DuplicateCase {
                name: case.name.clone(),
                first: first.source.clone(),
                second: case.source,
            });
        }
        own_by_name.insert(case.name.clone(), case);
    }
    let mut overridden: BTreeMap<&str, Option<&str>> = BTreeMap::new();
    for entry in overrides {
        let Some(built_in) = builtin.iter().find(|case| case.name == entry.case) else {
            return Err(KitError::UnknownOverride { name: entry.case.clone() });
        };
        if let Some(replacement) = &entry.replacement {
            let found = own_by_name.get(replacement).filter(|case| case.slot == built_in.slot);
            if found.is_none() {
                return Err(KitError::UnknownReplacement {
                    case: entry.case.clone(),
                    replacement: replacement.clone(),
                    slot: built_in.slot,
                });
            }
        }
        overridden.insert(&entry.case, entry.replacement.as_deref());
    }
    let mut planned = vec![];
    for case in builtin {
        let own_same_name = own_by_name.contains_key(&case.name);
        match overridden.get(case.name.as_str()) {
            Some(Some(replacement)) if *replacement == case.name => {}
            _ if own_same_name => {
                let second = own_by_name[&case.name].source.clone();
                return Err(KitError::DuplicateCase { name: case.name, first: case.source, second });
            }
            Some(Some(replacement)) => {
                planned.push((case, Some(Outcome::Skipped { reason: format!("{REPLACED_BY} {replacement}") })))
            }
            Some(None) => {
                let reason = format!(
                    "overridden without a replacement: an override names the plugin's own case that states what it \
                     does instead, e.g. `{name} -> {policy}/<your case>` in the overrides file, with that case in a \
                     --cases folder",
                    name = case.name,
                    policy = case.slot,
                );
                planned.push((case, Some(Outcome::Failed(Failure::new(reason)))));
            }
            None => planned.push((case, None)),
        }
    }
    planned.extend(own_by_name.into_values().map(|case| (case, None)));
    Ok(planned)
}

/// How the report says a built-in case was replaced: followed by the replacement's name.
pub const REPLACED_BY: &str = "replaced by the plugin's case";

/// Compares an answer with the expected one; `Err` is the difference, for people.
pub fn compare(expected: &Expected, actual: &Answer) -> Result<(), String> {
    match (expected, actual) {
        (Expected::Accepted, Answer::Accepted(())) => Ok(()),
        (Expected::RunDates(want), Answer::RunDates(got)) => {
            if want == got {
                return Ok(());
            }
            let shown = |dates: &[Day]| serde_json::to_string(dates).unwrap_or_default();
            let missing: Vec<Day> = want.iter().filter(|day| !got.contains(day)).copied().collect();
            let unexpected: Vec<Day> = got.iter().filter(|day| !want.contains(day)).copied().collect();
            let mut difference = format!("expected {}\nactual   {}", shown(want), shown(got));
            if !missing.is_empty() {
                difference.push_str(&format!("\nmissing    {}", shown(&missing)));
            }
            if !unexpected.is_empty() {
                difference.push_str(&format!("\nunexpected {}", shown(&unexpected)));
            }
            Err(difference)
        }
        (Expected::RunDay(want), Answer::RunDay(got)) if want == got => Ok(()),
        (Expected::RunDay(want), Answer::RunDay(got)) => Err(format!("expected day {want}\nactual   day {got}")),
        (Expected::Bills(want), Answer::Bills(got)) => {
            let normal = |bills: &[Bill]| -> Vec<Bill> {
                let mut bills: Vec<Bill> = bills
                    .iter()
                    .map(|bill| {
                        let mut bill = bill.clone();
                        bill.lines.sort_unstable();
                        bill
                    })
                    .collect();
                bills.sort();
                bills
            };
            compare_plans(&normal(want), &normal(got), "bill")
        }
        (Expected::Superbills(want), Answer::Superbills(got)) => {
            let normal = |plans: &[Superbill]| -> Vec<Superbill> {
                let mut plans: Vec<Superbill> = plans
                    .iter()
                    .map(|plan| {
                        let mut plan = plan.clone();
                        plan.lines.sort_unstable();
                        plan
                    })
                    .collect();
                plans.sort();
                plans
            };
            compare_plans(&normal(want), &normal(got), "superbill")
        }
        (Expected::Decisions(want), Answer::Decisions(got)) => {
            compare_decisions(want, got, DecisionPattern::matches, show_decision)
        }
        (Expected::Charges(want), Answer::Charges(got)) => {
            compare_decisions(want, got, DecisionPattern::matches_charge, show_charge)
        }
        (_, actual) => Err(format!("the answer is of another kind than expected.json: {actual:?}")),
    }
}

/// Compares two sorted lists of plans, listing what is missing and what is unexpected.
fn compare_plans<T: Ord + serde::Serialize>(want: &[T], got: &[T], what: &str) -> Result<(), String> {
    if want == got {
        return Ok(());
    }
    let shown = |plan: &T| serde_json::to_string(plan).unwrap_or_default();
    let mut lines = vec![format!("expected {} {what}s, got {}", want.len(), got.len())];
    for plan in want.iter().filter(|plan| !got.contains(plan)) {
        lines.push(format!("missing    {}", shown(plan)));
    }
    for plan in got.iter().filter(|plan| !want.contains(plan)) {
        lines.push(format!("unexpected {}", shown(plan)));
    }
    Err(lines.join("\n"))
}

/// Whether an error message is the one a case expects.
pub fn error_matches(message: &str, expected: &str) -> bool {
    contains_ignoring_case(message, expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::json::BillStatus;

    const GROUP: &str = r#"{"description": "d", "function": "group-lines", "run_date": "2026-01-07",
        "lines": [{"line_id": 1, "client_id": 7, "date": "2026-01-05"}]}"#;

    #[test]
    fn a_case_reads_its_input_and_expected_answer() {
        let case = parse_case(
            "bill_cadence",
            "daily",
            "dir/bill_cadence/daily",
            GROUP,
            Some(r#"[{"client_id": 7, "lines": [1], "status": "open"}]"#),
            None,
        )
        .unwrap();
        assert_eq!(case.name, "bill_cadence/daily");
        assert_eq!(case.description, "d");
        assert_eq!(
            case.expect,
            Expectation::Answer(Expected::Bills(vec![Bill { client_id: 7, lines: vec![1], status: BillStatus::Open }]))
        );
    }

    #[test]
    fn malformed_cases_say_what_is_wrong_and_where() {
        let message = |policy, input, expected: Option<&str>, error: Option<&str>| {
            parse_case(policy, "c", "somewhere/c", input, expected, error).unwrap_err().to_string()
        };
        assert!(message("share_filter", GROUP, Some("[]"), None).contains("a function of bill_cadence"));
        assert!(message("bills", GROUP, Some("[]"), None).contains("unknown policy slot"));
        assert!(message("bill_cadence", GROUP, None, None).contains("needs expected.json"));
        assert!(message("bill_cadence", GROUP, Some("[]"), Some("x")).contains("not both"));
        assert!(message("bill_cadence", GROUP, Some(r#"[{"client": 7}]"#), None).contains("expected.json"));
        assert!(message("bill_cadence", "{", Some("[]"), None).contains("not JSON"));
        let shown = message("bill_cadence", r#"{"function": "group-lines"}"#, Some("[]"), None);
        assert!(shown.contains("somewhere/c") && shown.contains("run_date"), "{shown}");
    }

    #[test]
    fn decision_patterns() {
        let patterns: Vec<DecisionPattern> =
            serde_json::from_str(r#"[{"send": 60}, {"skip": "No Email"}, "skip"]"#).unwrap();
        let got = [Decision::Send(60), Decision::Skip("no email address on file".into()), Decision::Skip("x".into())];
        assert_eq!(compare(&Expected::Decisions(patterns.clone()), &Answer::Decisions(got.to_vec())), Ok(()));
        let wrong = [Decision::Send(0), Decision::Skip("void".into()), Decision::Send(1)];
        let difference = compare(&Expected::Decisions(patterns), &Answer::Decisions(wrong.to_vec())).unwrap_err();
        assert!(difference.contains("decision #1: expected send after 60 minutes, got send after 0 minutes"));
        assert!(difference.contains("decision #2: expected skip with a reason mentioning \"No Email\""));
        assert!(difference.contains("decision #3: expected skip (any reason), got send after 1 minutes"));
        assert!(serde_json::from_str::<DecisionPattern>(r#"{"send": "soon"}"#).is_err());
    }

    #[test]
    fn bills_compare_in_any_order_and_name_what_differs() {
        let bill = |client_id, lines: &[u64]| Bill { client_id, lines: lines.to_vec(), status: BillStatus::Open };
        let want = Expected::Bills(vec![bill(7, &[1, 2]), bill(8, &[3])]);
        assert_eq!(compare(&want, &Answer::Bills(vec![bill(8, &[3]), bill(7, &[2, 1])])), Ok(()));
        let difference = compare(&want, &Answer::Bills(vec![bill(7, &[1]), bill(7, &[2]), bill(8, &[3])])).unwrap_err();
        assert!(difference.contains("expected 2 bills, got 3"), "{difference}");
        assert!(difference.contains(r#"missing    {"client_id":7,"lines":[1,2],"status":"open"}"#), "{difference}");
        assert!(difference.contains(r#"unexpected {"client_id":7,"lines":[1],"status":"open"}"#), "{difference}");
    }

    fn case(name: &str, source: &str) -> Case {
        let (policy, case_name) = name.split_once('/').unwrap();
        let input = if policy == "share_filter" { r#"{"function": "decide-shares", "requests": []}"# } else { GROUP };
        parse_case(policy, case_name, source, input, Some("[]"), None).unwrap()
    }

    fn overrides(text: &str) -> Vec<Override> {
        parse_overrides(text)
    }

    #[test]
    fn an_overridden_case_is_replaced_by_the_plugins_case_it_names() {
        let builtin = vec![case("bill_cadence/a", "builtin/a"), case("bill_cadence/b", "builtin/b")];
        let own = vec![case("bill_cadence/b", "own/b"), case("bill_cadence/c", "own/c")];
        let planned = plan(builtin, own, &overrides("bill_cadence/a -> c\nbill_cadence/b -> bill_cadence/b")).unwrap();
        let shown: Vec<(&str, &str, Option<&Outcome>)> = planned
            .iter()
            .map(|(case, decided)| (case.name.as_str(), case.source.as_str(), decided.as_ref()))
            .collect();
        let replaced = Outcome::Skipped { reason: format!("{REPLACED_BY} bill_cadence/c") };
        assert_eq!(
            shown,
            [
                ("bill_cadence/a", "builtin/a", Some(&replaced)),
                ("bill_cadence/b", "own/b", None),
                ("bill_cadence/c", "own/c", None)
            ]
        );
    }

    #[test]
    fn an_override_without_a_replacement_fails_the_case_saying_how_to_name_one() {
        let planned = plan(
            vec![case("share_filter/bills_are_shared", "builtin")],
            vec![],
            &overrides("share_filter/bills_are_shared"),
        )
        .unwrap();
        match &planned[..] {
            [(case, Some(Outcome::Failed(failure)))] => {
                assert_eq!(case.name, "share_filter/bills_are_shared");
                assert!(failure.reason.contains("without a replacement"), "{}", failure.reason);
                assert!(
                    failure.reason.contains("share_filter/bills_are_shared -> share_filter/<your case>"),
                    "{}",
                    failure.reason
                );
            }
            other => panic!("expected one failed case, got {other:?}"),
        }
    }

    #[test]
    fn overrides_must_name_a_built_in_case_and_a_replacement_of_its_policy() {
        let builtin = || vec![case("bill_cadence/a", "builtin/a")];
        let own = || vec![case("bill_cadence/a", "own/a"), case("share_filter/s", "own/s")];
        assert!(matches!(plan(builtin(), own(), &[]), Err(KitError::DuplicateCase { .. })));
        assert!(matches!(
            plan(builtin(), vec![], &overrides("bill_cadence/typo -> a")),
            Err(KitError::UnknownOverride { name }) if name == "bill_cadence/typo"
        ));
        assert!(matches!(
            plan(builtin(), own(), &overrides("bill_cadence/a -> missing")),
            Err(KitError::UnknownReplacement { replacement, .. }) if replacement == "bill_cadence/missing"
        ));
        assert!(matches!(
            plan(builtin(), vec![case("share_filter/s", "own/s")], &overrides("bill_cadence/a -> share_filter/s")),
            Err(KitError::UnknownReplacement { slot: Slot::BillCadence, .. })
        ));
    }

    #[test]
    fn an_overrides_file_is_one_override_a_line_with_comments() {
        assert_eq!(
            parse_overrides(
                "# bills are never shared\nshare_filter/bills_are_shared -> left_to_staff # by design\n\n  x/y \n"
            ),
            [
                Override {
                    case: "share_filter/bills_are_shared".into(),
                    replacement: Some("share_filter/left_to_staff".into())
                },
                Override { case: "x/y".into(), replacement: None },
            ]
        );
    }

    #[test]
    fn the_built_in_cases_read() {
        let cases = builtin().unwrap();
        assert!(cases.len() >= 20, "{} built-in cases", cases.len());
        for slot in Slot::ALL {
            assert!(cases.iter().any(|case| case.slot == slot), "a case for {slot}");
        }
    }
}
