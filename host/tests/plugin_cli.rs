//! `autobill plugin test` as an integrator's CI runs it: the real binary, its exit status, and its
//! report on stdout in each format; and `autobill plugin add|list|assign` as an operator runs
//! them on a temporary SQLite database.

use autobill::domain::{NewPractice, PracticeId};
use autobill::plugin::{PluginId, Slot, artifacts};
use autobill::store::Store;
use chrono::Utc;
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
fn a_plugin_that_sleeps_past_the_call_time_limit_fails_the_kit_quickly_naming_the_limit() {
    let started = std::time::Instant::now();
    let (status, stdout, stderr) = autobill(&["plugin", "test", artifacts::SLEEPER, "--seed", "5"]);
    let took = started.elapsed();
    assert_eq!(status, 1, "{stdout}\n{stderr}");
    assert!(took < std::time::Duration::from_secs(30), "the kit took {took:?}");
    assert!(stdout.contains("FAIL  share_filter/empty-input"), "{stdout}");
    assert!(stdout.contains("it ran for more than 2000 ms (the plugin call time limit)"), "{stdout}");

    let (status, stdout, _) = autobill(&[
        "plugin",
        "test",
        artifacts::SLEEPER,
        "--seed",
        "5",
        "--call-timeout-ms",
        "300",
        "--format",
        "json",
    ]);
    assert_eq!(status, 1, "{stdout}");
    assert!(stdout.contains("it ran for more than 300 ms (the plugin call time limit)"), "{stdout}");
    let (status, _, stderr) = autobill(&["plugin", "test", artifacts::SLEEPER, "--call-timeout-ms", "50"]);
    assert_eq!(status, 2, "{stderr}");
    assert!(stderr.contains("--call-timeout-ms") && stderr.contains("100"), "{stderr}");
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

/// A temporary SQLite database for `plugin add|list|assign`, with one practice in it.
struct Database {
    dir: tempfile::TempDir,
    url: String,
    practice: PracticeId,
}

impl Database {
    fn new() -> Database {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let url = format!("sqlite://{}", dir.path().join("autobill.db").display());
        let practice = runtime().block_on(async {
            let store = Store::connect(&url).await.expect("the database opens");
            let practice = NewPractice { name: "Lakeside Therapy".into(), ..NewPractice::default() };
            store.create_practice(&practice, Utc::now()).await.expect("a practice")
        });
        Database { dir, url, practice }
    }

    /// Runs `autobill ARGS --database-url URL`.
    fn autobill(&self, args: &[&str]) -> (i32, String, String) {
        let mut args = args.to_vec();
        args.extend(["--database-url", &self.url]);
        autobill(&args)
    }

    /// What fills the practice's slots, as stored.
    fn assignments(&self) -> Vec<(Slot, String, String)> {
        runtime().block_on(async {
            let store = Store::connect(&self.url).await.expect("the database opens");
            let assigned = store.assignments(self.practice).await.expect("assignments");
            assigned.into_iter().map(|assignment| (assignment.slot, assignment.plugin, assignment.config)).collect()
        })
    }

    /// The ids `plugin list --format json` shows.
    fn listed_ids(&self) -> Vec<String> {
        let (status, stdout, stderr) = self.autobill(&["plugin", "list", "--format", "json"]);
        assert_eq!(status, 0, "{stderr}");
        let listed: serde_json::Value = serde_json::from_str(&stdout).expect("the JSON list parses");
        listed.as_array().expect("an array").iter().map(|plugin| plugin["id"].as_str().unwrap_or("").into()).collect()
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime")
}

/// The id `plugin add` prints: the SHA-256 of the file, hex.
fn id_of(path: &str) -> String {
    PluginId::of(&std::fs::read(path).expect("the built plugin")).to_hex()
}

#[test]
fn the_example_plugins_are_added_listed_and_assigned() {
    let db = Database::new();
    let mut examples = vec![];
    macro_rules! collect {
        ($name:ident, $path:expr) => {
            examples.push((stringify!($name), $path));
        };
    }
    autobill::foreach_plugin!(collect);
    for (name, path) in &examples {
        let (status, stdout, stderr) = db.autobill(&["plugin", "add", path, "--name", name]);
        assert_eq!(status, 0, "{stdout}\n{stderr}");
        assert!(stdout.contains(&format!("id        {}", id_of(path))), "{stdout}");
        assert!(stdout.contains("contract  0.2.0"), "{stdout}");
    }
    let (_, added, _) = db.autobill(&["plugin", "add", artifacts::SHARE_SUPERBILLS_ONLY]);
    assert!(added.contains("slots     share_filter\n"), "adding the same file again answers the same plugin: {added}");

    let (status, table, stderr) = db.autobill(&["plugin", "list"]);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(table.lines().count(), 1 + examples.len(), "a header and one row per plugin:\n{table}");
    let row = |name: &str| table.lines().find(|line| line.contains(name)).unwrap_or_default().to_string();
    assert!(row("share_superbills_only").starts_with(&id_of(artifacts::SHARE_SUPERBILLS_ONLY)), "{table}");
    assert!(row("share_superbills_only").contains("share_filter"), "{table}");
    assert!(row("biweekly_bills").contains("bill_cadence"), "{table}");
    assert!(row("default").contains("bill_cadence, superbill_inclusion, share_filter"), "{table}");
    let (_, json, _) = db.autobill(&["plugin", "list", "--format", "json"]);
    let listed: serde_json::Value = serde_json::from_str(&json).expect("the JSON list parses");
    let biweekly = listed.as_array().into_iter().flatten().find(|plugin| plugin["name"] == "biweekly_bills");
    let biweekly = biweekly.expect("biweekly_bills is listed");
    assert_eq!(biweekly["slots"], serde_json::json!(["bill_cadence"]));
    assert_eq!(biweekly["contract_version"], "0.2.0");
    assert_eq!(biweekly["size"], std::fs::metadata(artifacts::BIWEEKLY_BILLS).expect("the file").len());

    let config = db.dir.path().join("biweekly.json");
    std::fs::write(&config, r#"{"weekday": "friday"}"#).expect("the configuration file");
    let practice = db.practice.to_string();
    let biweekly_id = id_of(artifacts::BIWEEKLY_BILLS);
    let config_path = config.display().to_string();
    let (status, stdout, stderr) = db.autobill(&[
        "plugin",
        "assign",
        "--practice",
        &practice,
        "--slot",
        "bill_cadence",
        "--plugin",
        &biweekly_id,
        "--config",
        &config_path,
    ]);
    assert_eq!(status, 0, "{stdout}\n{stderr}");
    let share_id = id_of(artifacts::SHARE_SUPERBILLS_ONLY);
    let (status, _, stderr) = db.autobill(&[
        "plugin",
        "assign",
        "--practice",
        &practice,
        "--slot",
        "share_filter",
        "--plugin",
        &share_id,
        "--config-json",
        "",
    ]);
    assert_eq!(status, 0, "{stderr}");
    let mut assigned = db.assignments();
    assigned.sort();
    assert_eq!(
        assigned,
        vec![
            (Slot::BillCadence, biweekly_id, r#"{"weekday": "friday"}"#.to_string()),
            (Slot::ShareFilter, share_id, String::new()),
        ]
    );
}

#[test]
fn a_file_that_is_not_a_served_component_is_refused_saying_why_and_nothing_is_stored() {
    let db = Database::new();
    let text = db.dir.path().join("notes.wasm");
    std::fs::write(&text, "these are notes, not a plugin").expect("a file");
    let (status, stdout, stderr) = db.autobill(&["plugin", "add", &text.display().to_string()]);
    assert_eq!(status, 1, "{stdout}");
    assert!(stderr.contains("not a WebAssembly component"), "{stderr}");
    assert!(stderr.contains("cargo build --release --target wasm32-wasip2"), "says how to build one: {stderr}");
    let (status, _, stderr) = db.autobill(&["plugin", "add", artifacts::WRONG_CONTRACT]);
    assert_eq!(status, 1);
    assert!(stderr.contains("autobill:policy@9.0.0") && stderr.contains("this host serves"), "{stderr}");
    assert!(db.listed_ids().is_empty());
    let (_, table, _) = db.autobill(&["plugin", "list"]);
    assert!(table.contains("autobill plugin add FILE.wasm"), "an empty list says how to add one: {table}");
}

#[test]
fn a_plugin_that_fails_the_invariants_is_refused_with_each_failed_check_and_nothing_is_stored() {
    let db = Database::new();
    let (status, stdout, stderr) = db.autobill(&["plugin", "add", artifacts::TRAP]);
    assert_eq!(status, 1, "{stdout}");
    assert!(stderr.contains("so it was not stored"), "{stderr}");
    assert!(stderr.contains("FAIL  share_filter/empty-input") && stderr.contains("deliberate failure"), "{stderr}");
    assert!(stderr.contains("autobill plugin test FILE.wasm"), "says how to see the whole report: {stderr}");
    let (status, _, stderr) = db.autobill(&["plugin", "add", artifacts::HUGE_CONFIG_ANSWER]);
    assert_eq!(status, 1);
    assert!(stderr.contains("FAIL  share_filter/config-accepted"), "names the failed check: {stderr}");
    assert!(stderr.len() < 8_000, "the plugin's huge refusal is cut: {} bytes", stderr.len());
    assert!(db.listed_ids().is_empty());
}

#[test]
fn assigning_to_a_slot_the_plugin_does_not_fill_or_with_a_refused_config_changes_nothing() {
    let db = Database::new();
    let (status, _, stderr) = db.autobill(&["plugin", "add", artifacts::SHARE_SUPERBILLS_ONLY]);
    assert_eq!(status, 0, "{stderr}");
    let (status, _, stderr) = db.autobill(&["plugin", "add", artifacts::BIWEEKLY_BILLS]);
    assert_eq!(status, 0, "{stderr}");
    let practice = db.practice.to_string();
    let assign = |slot: &str, id: &str, config: &str| {
        db.autobill(&[
            "plugin",
            "assign",
            "--practice",
            &practice,
            "--slot",
            slot,
            "--plugin",
            id,
            "--config-json",
            config,
        ])
    };

    let share_id = id_of(artifacts::SHARE_SUPERBILLS_ONLY);
    let (status, _, stderr) = assign("bill_cadence", &share_id, "");
    assert_eq!(status, 1);
    assert!(stderr.contains("does not fill the bill_cadence slot; it fills: share_filter"), "{stderr}");
    let (status, _, stderr) = assign("bill_cadence", &id_of(artifacts::BIWEEKLY_BILLS), r#"["friday"]"#);
    assert_eq!(status, 1);
    assert!(stderr.contains("configuration was refused") && stderr.contains("JSON object"), "{stderr}");
    let (status, _, stderr) = assign("share_filter", "0123abcd", "");
    assert_eq!(status, 1);
    assert!(stderr.contains("plugin 0123abcd is not stored") && stderr.contains("autobill plugin list"), "{stderr}");
    let (status, _, stderr) =
        db.autobill(&["plugin", "assign", "--practice", "999", "--slot", "share_filter", "--plugin", &share_id]);
    assert_eq!(status, 1);
    assert!(stderr.contains("practice 999 does not exist") && stderr.contains("POST /v1/practices"), "{stderr}");
    let (status, _, stderr) = assign("sharing", &share_id, "");
    assert_eq!(status, 2, "clap refuses an unknown slot");
    assert!(stderr.contains("bill_cadence, superbill_inclusion, share_filter or autopay_selection"), "{stderr}");
    assert!(db.assignments().is_empty(), "nothing was assigned");
}

#[test]
fn each_plugin_command_explains_itself() {
    for command in ["add", "list", "assign"] {
        let (status, stdout, _) = autobill(&["plugin", command, "--help"]);
        assert_eq!(status, 0);
        assert!(stdout.contains("--database-url") && stdout.contains("AUTOBILL_DATABASE_URL"), "{stdout}");
    }
    let (_, stdout, _) = autobill(&["plugin", "assign", "--help"]);
    assert!(stdout.contains("--config <FILE>") && stdout.contains("--config-json <TEXT>"), "{stdout}");
}

#[test]
fn token_commands_make_list_and_revoke_a_practice_token() {
    let db = Database::new();
    let practice = db.practice.to_string();
    let (status, stdout, stderr) =
        db.autobill(&["token", "create", "--practice", &practice, "--name", "front desk", "--expires-in-days", "30"]);
    assert_eq!(status, 0, "{stderr}");
    let secret = stdout.trim().to_string();
    assert!(secret.starts_with("abt_") && secret.len() == 68, "the token, once: {stdout}");
    assert!(stderr.contains("shown only now") && stderr.contains("expires at"), "{stderr}");

    let (status, stdout, stderr) = db.autobill(&["token", "list", "--practice", &practice, "--format", "json"]);
    assert_eq!(status, 0, "{stderr}");
    assert!(!stdout.contains(&secret), "a list never shows the token: {stdout}");
    let listed: serde_json::Value = serde_json::from_str(&stdout).expect("the JSON list parses");
    let token = &listed[0];
    assert_eq!((token["name"].as_str(), token["prefix"].as_str()), (Some("front desk"), Some(&secret[..12])));
    assert!(token["expires_at"].is_string() && token["revoked_at"].is_null(), "{token}");

    let id = token["id"].to_string();
    let (status, stdout, stderr) = db.autobill(&["token", "revoke", "--practice", &practice, "--token", &id]);
    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.contains(&format!("revoked token {id}")), "{stdout}");
    let (status, _, stderr) = db.autobill(&["token", "revoke", "--practice", &practice, "--token", &id]);
    assert_eq!(status, 1, "revoking twice is refused");
    assert!(stderr.contains("token list"), "and says how to find the tokens: {stderr}");
    let (_, stdout, _) = db.autobill(&["token", "list", "--practice", &practice, "--format", "json"]);
    let listed: serde_json::Value = serde_json::from_str(&stdout).expect("the JSON list parses");
    assert!(listed[0]["revoked_at"].is_string(), "{listed}");

    let (status, _, stderr) = db.autobill(&["token", "create", "--practice", &practice, "--expires-in-days", "0"]);
    assert_eq!(status, 1);
    assert!(stderr.contains("--expires-in-days is 0; give 1 to 3650"), "{stderr}");
}

/// A reader that goes away (`autobill … | head -1`) ends the command quietly: exit status 0 and
/// no panic or error on stderr, for help, a listing and a long simulation alike.
#[test]
fn output_to_a_reader_that_went_away_ends_quietly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("host/ sits in the workspace root");
    for args in [
        &["--help"][..],
        &["plugin", "test", "--list-cases"],
        &["simulate", "host/demo/lakeside.toml", "--from", "2026-01-01", "--until", "2026-03-31", "--format", "table"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_autobill"))
            .args(args)
            .current_dir(root)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the autobill binary runs");
        drop(child.stdout.take());
        let output = child.wait_with_output().expect("it ends");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked") && !stderr.contains("error"), "{args:?}: {stderr}");
    }
}

/// `simulate --plugin bill_cadence=… --plugin-config bill_cadence=…`: a weekly cadence configured
/// for Fridays bills on Fridays only; a configuration it refuses stops the simulation before the
/// first day with the plugin's reason.
#[test]
fn simulate_with_a_weekly_cadence_configured_for_friday_bills_on_fridays() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let scenario = dir.path().join("weekly.toml");
    let appointments: String = ["2026-01-05T10:00", "2026-01-14T12:00", "2026-01-20T09:00", "2026-01-29T15:00"]
        .iter()
        .enumerate()
        .map(|(n, start)| {
            format!(
                "[[appointment]]\nid = \"ana-{n}\"\nclient = \"ana\"\nstart = \"{start}\"\nstatus = \"completed\"\nservices = [\"90837\"]\n"
            )
        })
        .collect();
    std::fs::write(
        &scenario,
        format!(
            "[practice]\nname = \"Weekly Therapy\"\ntimezone = \"America/Chicago\"\n\
             [[service]]\ncode = \"90837\"\nname = \"Psychotherapy\"\nfee = 16000\n\
             [[client]]\nid = \"ana\"\nname = \"Ana Alvarez\"\n{appointments}"
        ),
    )
    .expect("the scenario is written");
    let scenario = scenario.display().to_string();
    let plugin = format!("bill_cadence={}", artifacts::WEEKLY_BILLS);
    let simulate = |config: &str| {
        autobill(&[
            "simulate",
            &scenario,
            "--from",
            "2026-01-01",
            "--until",
            "2026-01-31",
            "--plugin",
            &plugin,
            "--plugin-config",
            &format!("bill_cadence={config}"),
        ])
    };
    let (status, stdout, stderr) = simulate(r#"{"weekday":"friday"}"#);
    assert_eq!(status, 0, "{stderr}");
    let bill_days: Vec<chrono::DateTime<chrono::FixedOffset>> = stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|event| event["event"] == "bill_created")
        .map(|event| chrono::DateTime::parse_from_rfc3339(event["at"].as_str().expect("an at")).expect("RFC 3339"))
        .collect();
    assert_eq!(bill_days.len(), 4, "a bill for each week with a visit: {stdout}");
    for day in &bill_days {
        assert_eq!(chrono::Datelike::weekday(day), chrono::Weekday::Fri, "a bill made on {day}");
    }

    let (status, stdout, stderr) = simulate(r#"{"weekday":"frisbee"}"#);
    assert_ne!(status, 0, "{stdout}");
    assert!(stderr.contains("frisbee") && stderr.contains("not a day of the week"), "{stderr}");
    assert!(!stdout.contains("bill_created"), "nothing ran: {stdout}");
}

#[test]
fn list_cases_prints_the_built_in_cases_by_slot_with_what_each_checks() {
    let (status, stdout, stderr) = autobill(&["plugin", "test", "--list-cases"]);
    assert_eq!(status, 0, "{stderr}");
    let share = stdout.find("\nshare_filter\n").expect("a share_filter heading");
    let case = stdout.find("  share_filter/bills_are_shared  Open and paid bills are emailed").expect("the case");
    assert!(stdout.starts_with("bill_cadence\n") && case > share, "{stdout}");
    assert!(stdout.contains("  superbill_inclusion/day_31_in_february_2027_is_the_28th"), "{stdout}");
}

/// Two practices side by side in one `simulate`: one on a plugin built for contract 0.1 in its
/// three slots, one on the 0.2 `autopay-rules` example configured with a $5.00 minimum. The old
/// plugin's practice bills, charges (with the default autopay selection 0.1 plugins get) and
/// shares; the new one skips a $3.00 balance with its reason and charges the other bill.
#[test]
fn a_contract_0_1_plugin_and_a_0_2_plugin_run_side_by_side_in_one_simulate() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let practice = |name: &str, plugins: &str, clients: &str| {
        format!(
            "[practice]\nname = \"{name}\"\ntimezone = \"America/Chicago\"\n\
             [practice.automation]\nbills = \"daily\"\nshare = true\nshare_delay_minutes = 60\nautopay = true\n\
             {plugins}\
             [[service]]\ncode = \"90837\"\nname = \"Psychotherapy\"\nfee = 15000\n\
             [[service]]\ncode = \"COPAY\"\nname = \"Copay\"\nfee = 300\n{clients}"
        )
    };
    let client = |id: &str, service: &str| {
        format!(
            "[[client]]\nid = \"{id}\"\nname = \"{id}\"\nemail = \"{id}@example.com\"\nautopay = true\ncard = \"visa\"\n\
             [[appointment]]\nid = \"{id}-1\"\nclient = \"{id}\"\nstart = \"2026-01-05T10:00\"\nstatus = \"completed\"\nservices = [\"{service}\"]\n"
        )
    };
    let old_plugin: String = ["bill_cadence", "superbill_inclusion", "share_filter"]
        .iter()
        .map(|slot| format!("[plugins.{slot}]\nfile = {:?}\n", artifacts::DEFAULT_V0_1))
        .collect();
    let new_plugin = format!(
        "[plugins.autopay_selection]\nfile = {:?}\nconfig = {{ min_balance = 500 }}\n",
        artifacts::AUTOPAY_RULES
    );
    let old = dir.path().join("old.toml");
    let new = dir.path().join("new.toml");
    std::fs::write(
        &old,
        practice("Old Plugin Therapy", &old_plugin, &(client("ana", "COPAY") + &client("ben", "90837"))),
    )
    .expect("the scenario is written");
    std::fs::write(
        &new,
        practice("New Plugin Therapy", &new_plugin, &(client("cy", "COPAY") + &client("dee", "90837"))),
    )
    .expect("the scenario is written");

    let (status, stdout, stderr) = autobill(&[
        "simulate",
        &old.display().to_string(),
        &new.display().to_string(),
        "--from",
        "2026-01-05",
        "--until",
        "2026-01-06",
    ]);
    assert_eq!(status, 0, "{stderr}");
    let events: Vec<serde_json::Value> = stdout.lines().filter_map(|line| serde_json::from_str(line).ok()).collect();
    let of = |practice: &str, event: &str| -> Vec<serde_json::Value> {
        events.iter().filter(|e| e["practice"] == practice && e["event"] == event).cloned().collect()
    };
    let clients = |list: Vec<serde_json::Value>| -> Vec<String> {
        list.iter().map(|e| e["client"].as_str().unwrap_or_default().to_string()).collect()
    };
    assert_eq!(clients(of("Old Plugin Therapy", "bill_created")), ["ana", "ben"], "{stdout}");
    assert_eq!(clients(of("Old Plugin Therapy", "payment_succeeded")), ["ana", "ben"], "{stdout}");
    assert_eq!(clients(of("Old Plugin Therapy", "document_shared")).len(), 2, "{stdout}");
    assert!(of("Old Plugin Therapy", "autopay_skipped").is_empty(), "{stdout}");

    assert_eq!(clients(of("New Plugin Therapy", "bill_created")), ["cy", "dee"], "{stdout}");
    let skipped = of("New Plugin Therapy", "autopay_skipped");
    assert_eq!(clients(skipped.clone()), ["cy"], "{stdout}");
    assert_eq!(skipped[0]["balance"], 300);
    assert_eq!(
        skipped[0]["reason"], "the balance of 3.00 USD is under the minimum of 5.00 USD that autopay charges",
        "{stdout}"
    );
    let paid = of("New Plugin Therapy", "payment_succeeded");
    assert_eq!((clients(paid.clone()), paid[0]["amount"].clone()), (vec!["dee".to_string()], serde_json::json!(15000)));
}
