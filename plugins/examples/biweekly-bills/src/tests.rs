use super::*;
use autobill_guest::date::each_day;
use autobill_guest::{AutomationSettings, BillCreation};

fn practice(config: &str) -> PracticeContext {
    PracticeContext {
        practice_id: 1,
        timezone: "America/New_York".into(),
        currency: "USD".into(),
        automation: AutomationSettings {
            bill_creation: BillCreation::Daily,
            superbill_day: 1,
            share_by_default: true,
            share_delay_minutes: 60,
            autopay: false,
        },
        config: config.into(),
    }
}

fn d(year: i32, month: u8, day: u8) -> Date {
    Date { year, month, day }
}

fn line(line_id: u64, client_id: u64) -> ServiceLine {
    ServiceLine {
        line_id,
        appointment_id: line_id * 10,
        client_id,
        date: d(2026, 1, 5),
        service: 0,
        diagnoses: 0,
        fee: 15_000,
        paid: 0,
    }
}

const FRIDAYS: &str = r#"{"weekday": "friday", "anchor": "2026-01-02"}"#;

#[test]
fn runs_every_other_friday_from_the_anchor() {
    let dates = BiweeklyBills::bill_run_dates(&practice(FRIDAYS), d(2026, 1, 1), d(2026, 2, 28)).unwrap();
    assert_eq!(dates, vec![d(2026, 1, 2), d(2026, 1, 16), d(2026, 1, 30), d(2026, 2, 13), d(2026, 2, 27)]);
}

#[test]
fn nothing_is_due_before_the_first_run() {
    let dates = BiweeklyBills::bill_run_dates(&practice(FRIDAYS), d(2025, 12, 1), d(2026, 1, 1)).unwrap();
    assert_eq!(dates, vec![]);
    let schedule = Schedule::from_config(FRIDAYS).unwrap();
    assert!(!schedule.is_due(&d(2025, 12, 19)));
    assert!(schedule.is_due(&d(2026, 1, 2)));
}

#[test]
fn the_first_run_is_the_first_weekday_on_or_after_the_anchor() {
    // 2026-01-01 is a Thursday: the first Friday on or after it is the 2nd.
    let schedule = Schedule::from_config(r#"{"weekday": "fri", "anchor": "2026-01-01"}"#).unwrap();
    assert_eq!(schedule.first_run, d(2026, 1, 2));
    // 2026-01-03 is a Saturday: the first Friday is the 9th, so the 2nd's fortnight is off.
    let schedule = Schedule::from_config(r#"{"weekday": "Friday", "anchor": "2026-01-03"}"#).unwrap();
    assert_eq!(schedule.first_run, d(2026, 1, 9));
    let dates = schedule.due_dates(d(2026, 1, 1), d(2026, 1, 31));
    assert_eq!(dates, vec![d(2026, 1, 9), d(2026, 1, 23)]);
}

#[test]
fn runs_continue_across_a_year_boundary() {
    let dates = BiweeklyBills::bill_run_dates(&practice(FRIDAYS), d(2026, 12, 1), d(2027, 1, 31)).unwrap();
    assert_eq!(dates, vec![d(2026, 12, 4), d(2026, 12, 18), d(2027, 1, 1), d(2027, 1, 15), d(2027, 1, 29)]);
}

#[test]
fn runs_land_on_a_leap_day() {
    // 2028-02-29 is a Tuesday.
    let config = r#"{"weekday": "tuesday", "anchor": "2028-02-01"}"#;
    let dates = BiweeklyBills::bill_run_dates(&practice(config), d(2028, 2, 1), d(2028, 3, 31)).unwrap();
    assert_eq!(dates, vec![d(2028, 2, 1), d(2028, 2, 15), d(2028, 2, 29), d(2028, 3, 14), d(2028, 3, 28)]);
    // An anchor on the leap day itself.
    let config = r#"{"weekday": "thu", "anchor": "2028-02-29"}"#;
    let dates = BiweeklyBills::bill_run_dates(&practice(config), d(2028, 2, 1), d(2028, 3, 31)).unwrap();
    assert_eq!(dates, vec![d(2028, 3, 2), d(2028, 3, 16), d(2028, 3, 30)]);
}

#[test]
fn the_default_is_every_other_monday_since_1970_01_05() {
    for config in ["", "{}"] {
        let dates = BiweeklyBills::bill_run_dates(&practice(config), d(1970, 1, 1), d(1970, 2, 1)).unwrap();
        assert_eq!(dates, vec![d(1970, 1, 5), d(1970, 1, 19)]);
    }
    // 2026-01-05 is 20,454 days (2,922 weeks, an even number) after 1970-01-05.
    let dates = BiweeklyBills::bill_run_dates(&practice(""), d(2026, 1, 1), d(2026, 1, 31)).unwrap();
    assert_eq!(dates, vec![d(2026, 1, 5), d(2026, 1, 19)]);
    // An anchor a week later switches to the other fortnight.
    let dates =
        BiweeklyBills::bill_run_dates(&practice(r#"{"anchor": "2026-01-12"}"#), d(2026, 1, 1), d(2026, 1, 31)).unwrap();
    assert_eq!(dates, vec![d(2026, 1, 12), d(2026, 1, 26)]);
}

#[test]
fn due_dates_match_the_day_by_day_rule() {
    for (weekday, anchor) in [("monday", "2026-01-05"), ("sunday", "2024-02-29"), ("wed", "1999-12-31")] {
        let config = format!(r#"{{"weekday": "{weekday}", "anchor": "{anchor}"}}"#);
        let schedule = Schedule::from_config(&config).unwrap();
        let wanted = Weekday::parse(weekday).unwrap();
        for (first, last) in
            [(d(1999, 11, 1), d(2001, 3, 1)), (d(2024, 2, 1), d(2024, 4, 2)), (d(2026, 1, 6), d(2026, 3, 3))]
        {
            let expected: Vec<Date> = each_day(first, last)
                .filter(|date| {
                    let weeks = (to_days(date) - to_days(&schedule.first_run)) / 7;
                    super::weekday(date) == wanted && to_days(date) >= to_days(&schedule.first_run) && weeks % 2 == 0
                })
                .collect();
            assert_eq!(schedule.due_dates(first, last), expected, "{config} {first:?}..{last:?}");
            assert!(expected.iter().all(|date| schedule.is_due(date)));
        }
    }
}

#[test]
fn single_day_and_empty_windows() {
    let p = practice(FRIDAYS);
    assert_eq!(BiweeklyBills::bill_run_dates(&p, d(2026, 1, 16), d(2026, 1, 16)).unwrap(), vec![d(2026, 1, 16)]);
    assert_eq!(BiweeklyBills::bill_run_dates(&p, d(2026, 1, 9), d(2026, 1, 9)).unwrap(), vec![]);
    assert_eq!(BiweeklyBills::bill_run_dates(&p, d(2026, 1, 17), d(2026, 1, 16)).unwrap(), vec![]);
}

#[test]
fn one_open_bill_per_client_with_all_its_lines() {
    let lines = [line(1, 7), line(2, 8), line(3, 7), line(4, 9), line(5, 8)];
    let bills = BiweeklyBills::group_lines(&practice(FRIDAYS), d(2026, 1, 16), &Catalog::default(), &lines).unwrap();
    assert_eq!(
        bills,
        vec![
            BillPlan { client_id: 7, lines: vec![1, 3], status: BillStatus::Open },
            BillPlan { client_id: 8, lines: vec![2, 5], status: BillStatus::Open },
            BillPlan { client_id: 9, lines: vec![4], status: BillStatus::Open },
        ]
    );
    assert_eq!(
        BiweeklyBills::group_lines(&practice(FRIDAYS), d(2026, 1, 16), &Catalog::default(), &[]).unwrap(),
        vec![]
    );
}

#[test]
fn weekday_names_and_their_three_letter_forms_are_accepted_and_nothing_between() {
    for name in ["monday", "Mon", "TUESDAY", "tue", "wed", "thu", " friday ", "sat", "Sunday"] {
        let config = format!(r#"{{"weekday": "{name}"}}"#);
        assert_eq!(BiweeklyBills::check_config(&config), Ok(()), "{name}");
    }
    for name in ["tues", "thurs", "frisbee"] {
        let config = format!(r#"{{"weekday": "{name}"}}"#);
        assert!(BiweeklyBills::check_config(&config).is_err(), "{name}");
    }
}

#[test]
fn bad_configurations_say_what_is_wrong() {
    let cases = [
        (r#"{"weekday": "funday"}"#, r#"weekday "funday" is not a day of the week"#),
        (r#"{"weekday": "monkey"}"#, "is not a day of the week"),
        (r#"{"weekday": "mo"}"#, "is not a day of the week"),
        (r#"{"weekday": ""}"#, "is not a day of the week"),
        (r#"{"weekday": 5}"#, "not valid"),
        (r#"{"anchor": "2026-1-2"}"#, "is not a date in the form YYYY-MM-DD"),
        (r#"{"anchor": "02/01/2026"}"#, "is not a date in the form YYYY-MM-DD"),
        (r#"{"anchor": "2026-01-02T00:00"}"#, "is not a date in the form YYYY-MM-DD"),
        (r#"{"anchor": "+026-01-02"}"#, "is not a date in the form YYYY-MM-DD"),
        (r#"{"anchor": "2027-02-29"}"#, r#"anchor "2027-02-29" is not a real date"#),
        (r#"{"anchor": "2026-13-01"}"#, "is not a real date"),
        (r#"{"weekday": "friday", "every": 2}"#, "unknown field `every`"),
        ("{", "not valid"),
        (r#"["friday", "2026-01-02"]"#, "must be a JSON object"),
    ];
    for (config, expected) in cases {
        let error = BiweeklyBills::check_config(config).unwrap_err();
        assert!(error.contains(expected), "{config}: {error}");
        let error = BiweeklyBills::bill_run_dates(&practice(config), d(2026, 1, 1), d(2026, 1, 31)).unwrap_err();
        assert!(error.contains(expected), "{config}: {error}");
        assert!(
            BiweeklyBills::group_lines(&practice(config), d(2026, 1, 16), &Catalog::default(), &[line(1, 7)]).is_err()
        );
    }
}
