//! Recorded behaviour: `autobill simulate` on each scenario in `tests/golden/` answers exactly the
//! events recorded in `tests/golden/expected/` (see that folder's README for how an intended
//! change is recorded).

use std::path::Path;
use std::process::Command;

#[test]
fn every_recorded_scenario_answers_the_recorded_events() {
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden");
    let windows = std::fs::read_to_string(golden.join("windows.txt")).expect("the windows");
    let mut checked = 0;
    for line in windows.lines().filter(|line| !line.trim().is_empty() && !line.starts_with('#')) {
        let [name, from, until] = line.split_whitespace().collect::<Vec<_>>()[..] else {
            panic!("windows.txt: `{line}` is not NAME FROM UNTIL");
        };
        let output = Command::new(env!("CARGO_BIN_EXE_autobill"))
            .arg("simulate")
            .arg(golden.join("scenarios").join(format!("{name}.toml")))
            .args(["--from", from, "--until", until, "--format", "jsonl"])
            .env_remove("AUTOBILL_SMTP_HOST")
            .output()
            .expect("autobill runs");
        assert!(output.status.success(), "{name}: {}", String::from_utf8_lossy(&output.stderr));
        let got = String::from_utf8_lossy(&output.stdout);
        let expected =
            std::fs::read_to_string(golden.join("expected").join(format!("{name}.jsonl"))).expect("expected");
        let (got, expected): (Vec<&str>, Vec<&str>) = (got.lines().collect(), expected.lines().collect());
        for (number, (got, expected)) in got.iter().zip(&expected).enumerate() {
            assert_eq!(got, expected, "{name}, event {}", number + 1);
        }
        assert_eq!(got.len(), expected.len(), "{name}: {} events, {} recorded", got.len(), expected.len());
        checked += 1;
    }
    assert_eq!(checked, 3, "the three recorded scenarios");
}
