//! When scheduled runs are due, in practice-local time.
//!
//! Practices think in wall-clock dates ("bill on the 1st at midnight"), but the
//! host wakes up at arbitrary UTC instants and may have been down for days.
//! This module turns practice-local schedules into exact UTC instants and
//! works out which runs fell inside a window, so that every run happens
//! exactly once per `(kind, local_date)` even across DST changes.
//!
//! Everything here is pure: no clock, no I/O, no storage.

use std::collections::{BTreeMap, BTreeSet};

pub use crate::domain::RunKind;
use chrono::{DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::{GapInfo, Tz};

/// Days of slack around a window when enumerating candidate dates.
///
/// A resolved instant can read up to a day later than its nominal wall time
/// (a skipped calendar day, as on Pacific/Apia 2011-12-30), and local
/// readings can run backwards by up to a day across a fold, so a margin of
/// three days on each side cannot miss a date. Candidates are filtered by
/// their exact instant afterwards, so the slack never adds extra dates.
const WINDOW_SLACK_DAYS: u32 = 3;

/// Resolves a practice-local wall-clock time to a single instant.
///
/// Schedules must fire exactly once per local date, so every wall time needs
/// exactly one instant. The rule (the one RFC 5545 uses for calendar events)
/// is: interpret the wall time with the UTC offset in force just before the
/// clock change. Consequently:
///
/// - a time that exists twice (fall-back fold) resolves to the earlier
///   instant;
/// - a time that does not exist (spring-forward gap) is shifted forward by
///   the gap's length, so the start of the gap resolves to the first instant
///   after it: 00:00 in a zone that jumps 00:00 → 01:00 resolves to the
///   instant that reads 01:00. This holds for gaps of any length, including
///   whole skipped days.
pub fn local_instant(tz: Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let wall = date.and_time(time);
    match tz.from_local_datetime(&wall) {
        LocalResult::Single(at) => at.with_timezone(&Utc),
        LocalResult::Ambiguous(first, second) => first.with_timezone(&Utc).min(second.with_timezone(&Utc)),
        LocalResult::None => resolve_gap(tz, wall),
    }
}

/// Resolves a wall time that falls in a gap using the offset before the gap.
fn resolve_gap(tz: Tz, wall: NaiveDateTime) -> DateTime<Utc> {
    let as_utc = wall.and_utc();
    let gap = GapInfo::new(&wall, &tz);
    let offset_before =
        gap.as_ref().and_then(|gap| gap.begin.as_ref()).map(|(_, offset)| offset.fix().local_minus_utc());
    if let Some(shifted) = offset_before.and_then(|secs| shift_back(as_utc, secs)) {
        return shifted;
    }
    // The tz database always records the offset before a gap, so these
    // fallbacks only keep the function total at the edges of the data.
    if let Some(end) = gap.and_then(|gap| gap.end) {
        return end.with_timezone(&Utc);
    }
    let offset = tz.offset_from_utc_datetime(&wall).fix().local_minus_utc();
    shift_back(as_utc, offset).unwrap_or(as_utc)
}

/// Subtracts a UTC offset without panicking at the ends of chrono's range.
fn shift_back(at: DateTime<Utc>, offset_secs: i32) -> Option<DateTime<Utc>> {
    at.checked_sub_signed(TimeDelta::seconds(i64::from(offset_secs)))
}

/// Reads an instant on the practice's wall clock.
///
/// Useful for logs and for deciding which local date an event belongs to.
/// Within a few hours of the ends of chrono's range the reading saturates at
/// the nearest representable value instead of panicking.
pub fn to_local(tz: Tz, instant: DateTime<Utc>) -> NaiveDateTime {
    let utc = instant.naive_utc();
    let offset = tz.offset_from_utc_datetime(&utc).fix();
    match utc.checked_add_offset(offset) {
        Some(local) => local,
        None if offset.local_minus_utc() > 0 => NaiveDateTime::MAX,
        None => NaiveDateTime::MIN,
    }
}

/// A run that has come due.
///
/// `(kind, local_date)` is the run's unique key within a practice: use it to
/// make runs idempotent, because the instant alone can repeat (a skipped
/// local day resolves to the same instant as the day after it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DueRun {
    /// What to run.
    pub kind: RunKind,
    /// The practice-local date the run belongs to.
    pub local_date: NaiveDate,
    /// When the run became due, per [`local_instant`].
    pub at: DateTime<Utc>,
}

/// Practice-local dates, in ascending order, whose run at `time` falls in the
/// window `(after, until]`.
///
/// The window is half-open so that consecutive windows sharing a boundary
/// never run a date twice or skip one, however long the host was down. Each
/// date's instant is resolved with [`local_instant`]; the cost is linear in
/// the window's length in days. An empty or inverted window yields nothing.
pub fn local_dates_between(tz: Tz, time: NaiveTime, after: DateTime<Utc>, until: DateTime<Utc>) -> Vec<NaiveDate> {
    resolved_between(tz, time, after, until).into_iter().map(|(date, _)| date).collect()
}

/// Like [`local_dates_between`] but keeps each date's resolved instant.
fn resolved_between(
    tz: Tz,
    time: NaiveTime,
    after: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Vec<(NaiveDate, DateTime<Utc>)> {
    if after >= until {
        return Vec::new();
    }
    let first = back_days(to_local(tz, after).date(), WINDOW_SLACK_DAYS);
    let last = forward_days(to_local(tz, until).date(), WINDOW_SLACK_DAYS);
    let mut found = Vec::new();
    let mut date = first;
    loop {
        let at = local_instant(tz, date, time);
        if after < at && at <= until {
            found.push((date, at));
        }
        match date.succ_opt() {
            Some(next) if next <= last => date = next,
            _ => break,
        }
    }
    found
}

/// Moves a date back, stopping at chrono's earliest date instead of panicking.
fn back_days(mut date: NaiveDate, days: u32) -> NaiveDate {
    for _ in 0..days {
        match date.pred_opt() {
            Some(prev) => date = prev,
            None => break,
        }
    }
    date
}

/// Moves a date forward, stopping at chrono's latest date instead of panicking.
fn forward_days(mut date: NaiveDate, days: u32) -> NaiveDate {
    for _ in 0..days {
        match date.succ_opt() {
            Some(next) => date = next,
            None => break,
        }
    }
    date
}

/// Every run due in the window `(after, until]`, sorted by `(at, kind)`.
///
/// Candidate dates are those of [`local_dates_between`] at each kind's
/// [`RunKind::local_time`]. The callbacks are backed by WebAssembly policy
/// calls, so they are invoked as rarely as possible:
///
/// - `bill_run_dates(first, last)` is called at most once, with the first and
///   last midnight candidate dates (inclusive), and only when there is at
///   least one candidate. It returns the dates in that range on which the
///   practice's billing cadence bills; order and duplicates do not matter, and
///   dates that are not candidates are ignored.
/// - `superbill_day(year, month)` is called at most once per distinct
///   `(year, month)` among the midnight candidates, in ascending order, and
///   returns the day of that month to issue superbills. It must return a day
///   that exists in the month (see [`clamp_day`]); a day that matches no
///   candidate, such as 31 in February, means no superbill run.
/// - `autopay` enables a run on every 00:30 candidate date.
///
/// Runs sharing an instant come out Bill, Superbill, Autopay, and runs of the
/// same kind sharing an instant (a skipped local day) in date order.
pub fn due_runs(
    tz: Tz,
    after: DateTime<Utc>,
    until: DateTime<Utc>,
    bill_run_dates: impl FnOnce(NaiveDate, NaiveDate) -> Vec<NaiveDate>,
    mut superbill_day: impl FnMut(i32, u32) -> u32,
    autopay: bool,
) -> Vec<DueRun> {
    let mut runs = Vec::new();

    let midnights = resolved_between(tz, NaiveTime::MIN, after, until);
    if let (Some(&(first, _)), Some(&(last, _))) = (midnights.first(), midnights.last()) {
        let billed: BTreeSet<NaiveDate> = bill_run_dates(first, last).into_iter().collect();
        runs.extend(midnights.iter().filter(|(date, _)| billed.contains(date)).map(|&(local_date, at)| DueRun {
            kind: RunKind::Bill,
            local_date,
            at,
        }));
    }

    let mut superbill_days: BTreeMap<(i32, u32), u32> = BTreeMap::new();
    for &(local_date, at) in &midnights {
        let day = *superbill_days
            .entry((local_date.year(), local_date.month()))
            .or_insert_with(|| superbill_day(local_date.year(), local_date.month()));
        if local_date.day() == day {
            runs.push(DueRun { kind: RunKind::Superbill, local_date, at });
        }
    }

    if autopay {
        runs.extend(
            resolved_between(tz, RunKind::Autopay.local_time(), after, until)
                .into_iter()
                .map(|(local_date, at)| DueRun { kind: RunKind::Autopay, local_date, at }),
        );
    }

    runs.sort_by_key(|run| (run.at, run.kind, run.local_date));
    runs
}

/// Number of days in a month of the proleptic Gregorian calendar.
///
/// Returns 0 for a month outside 1..=12, so a bad month matches no date
/// rather than panicking.
pub fn last_day_of_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

fn is_leap_year(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Caps a configured day of month at the month's last day, so "bill on the
/// 31st" means the last day in shorter months.
///
/// Day 0 and months outside 1..=12 yield 0, which matches no date.
pub fn clamp_day(year: i32, month: u32, day: u32) -> u32 {
    day.min(last_day_of_month(year, month))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).expect("valid test time")
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        date(y, mo, d).and_time(hm(h, mi)).and_utc()
    }

    fn zone(name: &str) -> Tz {
        name.parse().expect("known test zone")
    }

    fn no_bills(_: NaiveDate, _: NaiveDate) -> Vec<NaiveDate> {
        Vec::new()
    }

    fn no_superbills(_: i32, _: u32) -> u32 {
        0
    }

    // Expected instants below were checked against the tzdata bundled with
    // chrono-tz 0.10.4 by scanning offsets minute by minute around each date.

    #[test]
    fn new_york_normal_days_use_standard_and_daylight_offsets() {
        let ny = zone("America/New_York");
        assert_eq!(local_instant(ny, date(2026, 1, 15), hm(0, 0)), utc(2026, 1, 15, 5, 0));
        assert_eq!(local_instant(ny, date(2026, 7, 15), hm(0, 30)), utc(2026, 7, 15, 4, 30));
    }

    #[test]
    fn new_york_dst_changes_leave_midnight_and_half_past_untouched() {
        // 2026-03-08: 02:00 EST -> 03:00 EDT at 07:00Z.
        // 2026-11-01: 02:00 EDT -> 01:00 EST at 06:00Z.
        let ny = zone("America/New_York");
        assert_eq!(local_instant(ny, date(2026, 3, 8), hm(0, 0)), utc(2026, 3, 8, 5, 0));
        assert_eq!(local_instant(ny, date(2026, 3, 8), hm(0, 30)), utc(2026, 3, 8, 5, 30));
        assert_eq!(local_instant(ny, date(2026, 11, 1), hm(0, 0)), utc(2026, 11, 1, 4, 0));
        assert_eq!(local_instant(ny, date(2026, 11, 1), hm(0, 30)), utc(2026, 11, 1, 4, 30));
    }

    #[test]
    fn wall_time_inside_a_gap_is_shifted_forward_by_the_gap_length() {
        let ny = zone("America/New_York");
        assert_eq!(local_instant(ny, date(2026, 3, 8), hm(2, 30)), utc(2026, 3, 8, 7, 30));
        assert_eq!(to_local(ny, local_instant(ny, date(2026, 3, 8), hm(2, 30))), date(2026, 3, 8).and_time(hm(3, 30)));
    }

    #[test]
    fn wall_time_inside_a_fold_resolves_to_the_earlier_instant() {
        let ny = zone("America/New_York");
        assert_eq!(local_instant(ny, date(2026, 11, 1), hm(1, 30)), utc(2026, 11, 1, 5, 30));
    }

    #[test]
    fn midnight_that_does_not_exist_resolves_to_the_end_of_the_gap() {
        // Santiago 2026-09-06: 00:00 -04 -> 01:00 -03 at 04:00Z.
        let santiago = zone("America/Santiago");
        let at = local_instant(santiago, date(2026, 9, 6), hm(0, 0));
        assert_eq!(at, utc(2026, 9, 6, 4, 0));
        assert_eq!(to_local(santiago, at), date(2026, 9, 6).and_time(hm(1, 0)));
        assert_eq!(local_instant(santiago, date(2026, 9, 6), hm(0, 30)), utc(2026, 9, 6, 4, 30));
    }

    #[test]
    fn santiago_fall_back_at_midnight_folds_the_previous_evening_only() {
        // Santiago 2026-04-05: 00:00 -03 -> 23:00 -04 (Apr 4) at 03:00Z.
        let santiago = zone("America/Santiago");
        assert_eq!(local_instant(santiago, date(2026, 4, 5), hm(0, 0)), utc(2026, 4, 5, 4, 0));
        assert_eq!(local_instant(santiago, date(2026, 4, 5), hm(0, 30)), utc(2026, 4, 5, 4, 30));
        assert_eq!(local_instant(santiago, date(2026, 4, 4), hm(23, 0)), utc(2026, 4, 5, 2, 0));
        assert_eq!(
            local_dates_between(santiago, hm(0, 0), utc(2026, 4, 3, 12, 0), utc(2026, 4, 6, 12, 0)),
            vec![date(2026, 4, 4), date(2026, 4, 5), date(2026, 4, 6)]
        );
    }

    #[test]
    fn havana_spring_gap_at_midnight_moves_both_runs_past_the_gap() {
        // Havana 2026-03-08: 00:00 CST (-05) -> 01:00 CDT (-04) at 05:00Z.
        let havana = zone("America/Havana");
        assert_eq!(local_instant(havana, date(2026, 3, 8), hm(0, 0)), utc(2026, 3, 8, 5, 0));
        assert_eq!(local_instant(havana, date(2026, 3, 8), hm(0, 30)), utc(2026, 3, 8, 5, 30));
    }

    #[test]
    fn havana_ambiguous_midnight_resolves_to_the_earlier_instant() {
        // Havana 2026-11-01: 01:00 CDT (-04) -> 00:00 CST (-05) at 05:00Z, so
        // 00:00-00:59 happens twice; the first pass is at -04.
        let havana = zone("America/Havana");
        assert_eq!(local_instant(havana, date(2026, 11, 1), hm(0, 0)), utc(2026, 11, 1, 4, 0));
        assert_eq!(local_instant(havana, date(2026, 11, 1), hm(0, 30)), utc(2026, 11, 1, 4, 30));
    }

    #[test]
    fn havana_runs_once_on_the_folded_night() {
        let havana = zone("America/Havana");
        let runs = due_runs(
            havana,
            utc(2026, 10, 31, 12, 0),
            utc(2026, 11, 1, 12, 0),
            |first, last| vec![first, last],
            no_superbills,
            true,
        );
        assert_eq!(
            runs,
            vec![
                DueRun { kind: RunKind::Bill, local_date: date(2026, 11, 1), at: utc(2026, 11, 1, 4, 0) },
                DueRun { kind: RunKind::Autopay, local_date: date(2026, 11, 1), at: utc(2026, 11, 1, 4, 30) },
            ]
        );
    }

    #[test]
    fn beirut_spring_gap_and_fall_fold_at_midnight() {
        // Beirut 2026-03-29: 00:00 +02 -> 01:00 +03 at 2026-03-28 22:00Z.
        // Beirut 2026-10-25: 00:00 +03 -> 23:00 +02 (Oct 24) at 21:00Z.
        let beirut = zone("Asia/Beirut");
        assert_eq!(local_instant(beirut, date(2026, 3, 29), hm(0, 0)), utc(2026, 3, 28, 22, 0));
        assert_eq!(local_instant(beirut, date(2026, 3, 29), hm(0, 30)), utc(2026, 3, 28, 22, 30));
        assert_eq!(local_instant(beirut, date(2026, 10, 25), hm(0, 0)), utc(2026, 10, 24, 22, 0));
        assert_eq!(local_instant(beirut, date(2026, 10, 24), hm(23, 30)), utc(2026, 10, 24, 20, 30));
    }

    #[test]
    fn catch_up_over_three_midnights_gives_three_dates_in_order() {
        let ny = zone("America/New_York");
        assert_eq!(
            local_dates_between(ny, hm(0, 0), utc(2026, 3, 6, 12, 0), utc(2026, 3, 9, 12, 0)),
            vec![date(2026, 3, 7), date(2026, 3, 8), date(2026, 3, 9)]
        );
    }

    #[test]
    fn window_includes_its_end_and_excludes_its_start() {
        let ny = zone("America/New_York");
        let midnight = utc(2026, 1, 15, 5, 0);
        let earlier = utc(2026, 1, 14, 12, 0);
        let later = utc(2026, 1, 15, 12, 0);
        assert_eq!(local_dates_between(ny, hm(0, 0), earlier, midnight), vec![date(2026, 1, 15)]);
        assert!(local_dates_between(ny, hm(0, 0), midnight, later).is_empty());
    }

    #[test]
    fn empty_or_inverted_window_yields_nothing_and_calls_no_policy() {
        let ny = zone("America/New_York");
        let at = utc(2026, 1, 15, 5, 0);
        let runs = due_runs(
            ny,
            at,
            at,
            |_, _| panic!("cadence must not be asked about an empty window"),
            |_, _| panic!("superbill day must not be asked about an empty window"),
            true,
        );
        assert!(runs.is_empty());
        assert!(local_dates_between(ny, hm(0, 0), utc(2026, 2, 1, 0, 0), at).is_empty());
    }

    #[test]
    fn monthly_cadence_bills_only_on_the_first() {
        let ny = zone("America/New_York");
        let mut cadence_calls = Vec::new();
        let runs = due_runs(
            ny,
            utc(2026, 1, 30, 12, 0),
            utc(2026, 2, 3, 12, 0),
            |first, last| {
                cadence_calls.push((first, last));
                first.iter_days().take_while(|d| *d <= last).filter(|d| d.day() == 1).collect()
            },
            no_superbills,
            false,
        );
        assert_eq!(cadence_calls, vec![(date(2026, 1, 31), date(2026, 2, 3))]);
        assert_eq!(runs, vec![DueRun { kind: RunKind::Bill, local_date: date(2026, 2, 1), at: utc(2026, 2, 1, 5, 0) }]);
    }

    #[test]
    fn cadence_dates_outside_the_candidates_are_ignored() {
        let ny = zone("America/New_York");
        let runs = due_runs(
            ny,
            utc(2026, 1, 14, 12, 0),
            utc(2026, 1, 15, 12, 0),
            |_, _| vec![date(2026, 1, 1), date(2026, 1, 15), date(2026, 1, 15)],
            no_superbills,
            false,
        );
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].local_date, date(2026, 1, 15));
    }

    #[test]
    fn superbill_day_31_falls_on_the_last_day_of_february() {
        let ny = zone("America/New_York");
        let mut asked = Vec::new();
        let mut superbill_day = |year, month| {
            asked.push((year, month));
            clamp_day(year, month, 31)
        };
        let feb_2027 =
            due_runs(ny, utc(2027, 2, 20, 12, 0), utc(2027, 3, 2, 12, 0), no_bills, &mut superbill_day, false);
        let leap_feb_2028 =
            due_runs(ny, utc(2028, 2, 20, 12, 0), utc(2028, 3, 2, 12, 0), no_bills, &mut superbill_day, false);
        assert_eq!(asked, vec![(2027, 2), (2027, 3), (2028, 2), (2028, 3)]);
        let dates = |runs: &[DueRun]| runs.iter().map(|r| r.local_date).collect::<Vec<_>>();
        assert_eq!(dates(&feb_2027), vec![date(2027, 2, 28)]);
        assert_eq!(dates(&leap_feb_2028), vec![date(2028, 2, 29)]);
        assert!(feb_2027.iter().all(|r| r.kind == RunKind::Superbill));
    }

    #[test]
    fn superbill_day_is_asked_once_per_month_over_long_catch_up() {
        let ny = zone("America/New_York");
        let mut asked = Vec::new();
        let runs = due_runs(
            ny,
            utc(2026, 1, 1, 12, 0),
            utc(2026, 4, 1, 12, 0),
            no_bills,
            |year, month| {
                asked.push((year, month));
                15
            },
            false,
        );
        assert_eq!(asked, vec![(2026, 1), (2026, 2), (2026, 3), (2026, 4)]);
        let dates: Vec<_> = runs.iter().map(|r| r.local_date).collect();
        assert_eq!(dates, vec![date(2026, 1, 15), date(2026, 2, 15), date(2026, 3, 15)]);
    }

    #[test]
    fn autopay_off_gives_no_autopay_runs() {
        let ny = zone("America/New_York");
        let runs = due_runs(
            ny,
            utc(2026, 1, 10, 12, 0),
            utc(2026, 1, 13, 12, 0),
            |first, last| vec![first, last],
            no_superbills,
            false,
        );
        assert!(runs.iter().all(|r| r.kind != RunKind::Autopay));
        assert_eq!(runs.len(), 2);
    }

    #[test]
    fn runs_are_sorted_by_instant_then_kind() {
        let ny = zone("America/New_York");
        let runs = due_runs(
            ny,
            utc(2026, 1, 13, 12, 0),
            utc(2026, 1, 15, 12, 0),
            |first, last| first.iter_days().take_while(|d| *d <= last).collect(),
            |_, _| 15,
            true,
        );
        let keys: Vec<_> = runs.iter().map(|r| (r.kind, r.local_date)).collect();
        assert_eq!(
            keys,
            vec![
                (RunKind::Bill, date(2026, 1, 14)),
                (RunKind::Autopay, date(2026, 1, 14)),
                (RunKind::Bill, date(2026, 1, 15)),
                (RunKind::Superbill, date(2026, 1, 15)),
                (RunKind::Autopay, date(2026, 1, 15)),
            ]
        );
        assert_eq!(runs[3].at, utc(2026, 1, 15, 5, 0));
        assert_eq!(runs[4].at, utc(2026, 1, 15, 5, 30));
    }

    #[test]
    fn autopay_window_can_hold_a_date_whose_midnight_is_outside_it() {
        let ny = zone("America/New_York");
        let runs = due_runs(
            ny,
            utc(2026, 1, 15, 5, 0),
            utc(2026, 1, 15, 5, 30),
            |_, _| panic!("no midnight lies in this window"),
            |_, _| panic!("no midnight lies in this window"),
            true,
        );
        assert_eq!(
            runs,
            vec![DueRun { kind: RunKind::Autopay, local_date: date(2026, 1, 15), at: utc(2026, 1, 15, 5, 30) }]
        );
    }

    #[test]
    fn non_hour_offsets_resolve_exactly() {
        // Kolkata is +05:30 and Kiritimati +14:00, with no DST in 2026.
        let kolkata = zone("Asia/Kolkata");
        assert_eq!(local_instant(kolkata, date(2026, 1, 15), hm(0, 0)), utc(2026, 1, 14, 18, 30));
        assert_eq!(local_instant(kolkata, date(2026, 1, 15), hm(0, 30)), utc(2026, 1, 14, 19, 0));
        let kiritimati = zone("Pacific/Kiritimati");
        assert_eq!(local_instant(kiritimati, date(2026, 1, 15), hm(0, 0)), utc(2026, 1, 14, 10, 0));
        assert_eq!(
            local_dates_between(kiritimati, hm(0, 0), utc(2026, 1, 13, 0, 0), utc(2026, 1, 15, 0, 0)),
            vec![date(2026, 1, 14), date(2026, 1, 15)]
        );
    }

    #[test]
    fn skipped_calendar_day_still_gets_its_run() {
        // Kiritimati skipped 1994-12-31 entirely: -10:00 -> +14:00 at
        // 1994-12-31 10:00Z. The skipped date resolves to the end of the gap,
        // the same instant as the next midnight, and both dates run.
        let kiritimati = zone("Pacific/Kiritimati");
        let end_of_gap = utc(1994, 12, 31, 10, 0);
        assert_eq!(local_instant(kiritimati, date(1994, 12, 31), hm(0, 0)), end_of_gap);
        assert_eq!(
            local_dates_between(kiritimati, hm(0, 0), utc(1994, 12, 30, 0, 0), end_of_gap),
            vec![date(1994, 12, 30), date(1994, 12, 31), date(1995, 1, 1)]
        );
    }

    #[test]
    fn resolved_instants_never_decrease_across_a_year_of_transitions() {
        for name in ["America/New_York", "America/Santiago", "America/Havana", "Asia/Beirut", "Australia/Lord_Howe"] {
            let tz = zone(name);
            for time in [hm(0, 0), hm(0, 30)] {
                let dates = local_dates_between(tz, time, utc(2025, 12, 31, 12, 0), utc(2027, 1, 1, 12, 0));
                assert_eq!(dates.len(), 366, "{name} at {time}");
                assert!(
                    dates.windows(2).all(|w| w[0].succ_opt() == Some(w[1])),
                    "{name} at {time} skipped or repeated a date"
                );
                let instants: Vec<_> = dates.iter().map(|d| local_instant(tz, *d, time)).collect();
                assert!(instants.windows(2).all(|w| w[0] < w[1]), "{name}");
            }
        }
    }

    #[test]
    fn run_kind_names_round_trip_and_unknown_names_are_rejected() {
        for kind in [RunKind::Bill, RunKind::Superbill, RunKind::Autopay] {
            assert_eq!(kind.as_str().parse::<RunKind>(), Ok(kind));
        }
        let err = "Bill".parse::<RunKind>().expect_err("names are case-sensitive");
        assert_eq!(err.given, "Bill");
        assert!(err.to_string().contains("bill, superbill or autopay"));
        assert_eq!(RunKind::Bill.local_time(), hm(0, 0));
        assert_eq!(RunKind::Superbill.local_time(), hm(0, 0));
        assert_eq!(RunKind::Autopay.local_time(), hm(0, 30));
    }

    #[test]
    fn month_lengths_follow_the_gregorian_calendar() {
        assert_eq!(last_day_of_month(2026, 2), 28);
        assert_eq!(last_day_of_month(2028, 2), 29);
        assert_eq!(last_day_of_month(1900, 2), 28);
        assert_eq!(last_day_of_month(2000, 2), 29);
        assert_eq!(last_day_of_month(2026, 4), 30);
        assert_eq!(last_day_of_month(2026, 12), 31);
        assert_eq!(last_day_of_month(2026, 13), 0);
        assert_eq!(clamp_day(2026, 4, 31), 30);
        assert_eq!(clamp_day(2026, 4, 10), 10);
        assert_eq!(clamp_day(2026, 0, 10), 0);
    }

    #[test]
    fn extreme_dates_do_not_panic() {
        for name in ["America/New_York", "Pacific/Kiritimati", "Pacific/Pago_Pago"] {
            let tz = zone(name);
            let _ = local_instant(tz, NaiveDate::MAX, NaiveTime::MIN);
            let _ = local_instant(tz, NaiveDate::MIN, NaiveTime::MIN);
            let _ = to_local(tz, DateTime::<Utc>::MAX_UTC);
            let _ = to_local(tz, DateTime::<Utc>::MIN_UTC);
            let _ = due_runs(
                tz,
                DateTime::<Utc>::MAX_UTC - TimeDelta::days(2),
                DateTime::<Utc>::MAX_UTC,
                |first, last| vec![first, last],
                |_, _| 1,
                true,
            );
            let _ = due_runs(
                tz,
                DateTime::<Utc>::MIN_UTC,
                DateTime::<Utc>::MIN_UTC + TimeDelta::days(2),
                |first, last| vec![first, last],
                |_, _| 1,
                true,
            );
        }
    }
}
