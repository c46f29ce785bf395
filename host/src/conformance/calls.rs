//! Making one policy call from its JSON form, through the real runtime (limits and validation
//! included), and turning the answer back into JSON.

use super::json::{self, Answer, Call, Day};
use crate::plugin::policy as host;
use crate::plugin::{Plugin, PolicyCode, PolicyError, Slot};
use chrono::{DateTime, NaiveTime, Utc};

/// The moment a call runs at when its case names none: 05:00 UTC on the call's date (the run
/// date, the window's first day, or the 1st of the month). Only the plugin's clock shows it.
pub fn default_at(call: &Call) -> DateTime<Utc> {
    let date = match call {
        Call::CheckConfig { .. } => return DateTime::<Utc>::UNIX_EPOCH,
        Call::BillRunDates { first, .. } => first.0,
        Call::GroupLines { run_date, .. } | Call::SelectLines { run_date, .. } => run_date.0,
        Call::SuperbillRunDay { year, month, .. } => {
            match chrono::NaiveDate::from_ymd_opt(*year, u32::from(*month), 1) {
                Some(date) => date,
                None => return DateTime::<Utc>::UNIX_EPOCH,
            }
        }
        Call::DecideShares { .. } | Call::SelectCharges { .. } => return fixed_at(),
    };
    let five = NaiveTime::from_hms_opt(5, 0, 0).unwrap_or(NaiveTime::MIN);
    date.and_time(five).and_utc()
}

/// The moment calls without a date of their own run at: 2026-03-01 05:00 UTC.
pub fn fixed_at() -> DateTime<Utc> {
    // 1772341200 is 2026-03-01T05:00:00Z.
    DateTime::<Utc>::from_timestamp(1_772_341_200, 0).unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// Makes `call` on `plugin` at `at`. `slot` says which slot's `check-config` is meant; the other
/// functions name their slot themselves.
pub fn run(plugin: &Plugin, slot: Slot, call: &Call, at: DateTime<Utc>) -> Result<Answer, PolicyError> {
    match call {
        Call::CheckConfig { config } => plugin.check_config(slot, config).map(Answer::Accepted),
        Call::BillRunDates { practice, first, last } => plugin
            .bill_run_dates(at, &practice.into(), first.0, last.0)
            .map(|dates| Answer::RunDates(dates.into_iter().map(Day).collect())),
        Call::GroupLines { practice, run_date, catalog, lines } => {
            let lines: Vec<host::ServiceLine> = json::to_host(lines);
            plugin
                .group_lines(at, &practice.into(), run_date.0, &catalog.into(), &lines)
                .map(|bills| Answer::Bills(bills.iter().map(Into::into).collect()))
        }
        Call::SuperbillRunDay { practice, year, month } => {
            plugin.superbill_run_day(at, &practice.into(), *year, *month).map(Answer::RunDay)
        }
        Call::SelectLines { practice, run_date, clients, catalog, lines } => {
            let clients: Vec<host::ClientBilling> = json::to_host(clients);
            let lines: Vec<host::ServiceLine> = json::to_host(lines);
            plugin
                .select_lines(at, &practice.into(), run_date.0, &clients, &catalog.into(), &lines)
                .map(|plans| Answer::Superbills(plans.iter().map(Into::into).collect()))
        }
        Call::DecideShares { practice, requests } => {
            let requests: Vec<host::ShareRequest> = json::to_host(requests);
            plugin
                .decide_shares(at, &practice.into(), &requests)
                .map(|decisions| Answer::Decisions(decisions.iter().map(Into::into).collect()))
        }
        Call::SelectCharges { practice, candidates } => {
            let candidates: Vec<host::AutopayCandidate> = json::to_host(candidates);
            plugin
                .select_charges(at, &practice.into(), &candidates)
                .map(|decisions| Answer::Charges(decisions.iter().map(Into::into).collect()))
        }
    }
}

/// A call and the moment it runs at, printed the way a case's `input.json` is written, so a
/// failing generated input can be saved as a case as it is.
pub fn show_input(call: &Call, at: DateTime<Utc>) -> String {
    #[derive(serde::Serialize)]
    struct Input<'a> {
        #[serde(flatten)]
        call: &'a Call,
        at: String,
    }
    case_json(&Input { call, at: at.to_rfc3339() })
}

/// JSON laid out like the case files: one top-level field a line, the items of a top-level list
/// (lines, clients, requests) one a line, everything else compact.
pub fn case_json<T: serde::Serialize>(value: &T) -> String {
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, CaseFormatter::default());
    match value.serialize(&mut serializer) {
        Ok(()) => String::from_utf8(out).unwrap_or_default(),
        Err(error) => format!("(the input could not be shown: {error})"),
    }
}

/// The [`case_json`] layout, as a serde_json formatter.
#[derive(Default)]
struct CaseFormatter {
    /// For each open object or list: whether it is a list, and whether it has had an item yet.
    open: Vec<(bool, bool)>,
}

impl CaseFormatter {
    fn open<W: ?Sized + std::io::Write>(&mut self, writer: &mut W, list: bool) -> std::io::Result<()> {
        self.open.push((list, false));
        writer.write_all(if list { b"[" } else { b"{" })
    }

    /// Before an item (a list's value or an object's key): the separator, and a new line for the
    /// top level's items and the items of a list at the second level.
    fn item<W: ?Sized + std::io::Write>(&mut self, writer: &mut W, first: bool) -> std::io::Result<()> {
        if !first {
            writer.write_all(b",")?;
        }
        let depth = self.open.len();
        let Some((list, had_items)) = self.open.last_mut() else { return Ok(()) };
        *had_items = true;
        match depth {
            1 => writer.write_all(b"\n  "),
            2 if *list => writer.write_all(b"\n    "),
            _ if !first => writer.write_all(b" "),
            _ => Ok(()),
        }
    }

    /// The closing bracket, on a line of its own when the items had theirs.
    fn close<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        let depth = self.open.len();
        let (list, had_items) = self.open.pop().unwrap_or((false, false));
        match depth {
            1 if had_items => writer.write_all(b"\n")?,
            2 if list && had_items => writer.write_all(b"\n  ")?,
            _ => {}
        }
        writer.write_all(if list { b"]" } else { b"}" })
    }
}

impl serde_json::ser::Formatter for CaseFormatter {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.open(writer, true)
    }

    fn end_array<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.close(writer)
    }

    fn begin_array_value<W: ?Sized + std::io::Write>(&mut self, writer: &mut W, first: bool) -> std::io::Result<()> {
        self.item(writer, first)
    }

    fn begin_object<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.open(writer, false)
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.close(writer)
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(&mut self, writer: &mut W, first: bool) -> std::io::Result<()> {
        self.item(writer, first)
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        writer.write_all(b": ")
    }
}

/// An answer as compact JSON.
pub fn show_answer(answer: &Answer) -> String {
    serde_json::to_string(answer).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_print_like_case_files() {
        let call: Call = serde_json::from_str(
            r#"{"function": "group-lines", "run_date": "2026-01-07", "catalog": {"services": [{"code": "A"}]},
                "lines": [{"line_id": 1, "client_id": 7, "date": "2026-01-05"},
                          {"line_id": 2, "client_id": 7, "date": "2026-01-06"}]}"#,
        )
        .unwrap();
        let shown = show_input(&call, fixed_at());
        assert_eq!(
            shown.lines().collect::<Vec<_>>(),
            [
                "{",
                r#"  "function": "group-lines","#,
                r#"  "practice": {"practice_id": 1, "timezone": "America/New_York", "currency": "USD", "automation": {"bill_creation": "daily", "superbill_day": 1, "share_by_default": false, "share_delay_minutes": 0, "autopay": false}, "config": ""},"#,
                r#"  "run_date": "2026-01-07","#,
                r#"  "catalog": {"services": [{"code": "A", "cpt_code": null}], "diagnosis_sets": []},"#,
                r#"  "lines": ["#,
                r#"    {"line_id": 1, "client_id": 7, "date": "2026-01-05", "service": 0, "diagnoses": 0, "fee": 15000, "paid": 0},"#,
                r#"    {"line_id": 2, "client_id": 7, "date": "2026-01-06", "service": 0, "diagnoses": 0, "fee": 15000, "paid": 0}"#,
                r#"  ],"#,
                r#"  "at": "2026-03-01T05:00:00+00:00""#,
                "}",
            ]
        );
        let again: serde_json::Value = serde_json::from_str(&shown).unwrap();
        assert_eq!(again["lines"][1]["line_id"], 2);
        assert_eq!(case_json(&Vec::<u8>::new()), "[]");
    }
}
