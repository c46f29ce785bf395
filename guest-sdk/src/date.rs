//! Calendar helpers for practice-local dates: month lengths, clamping a day to its month,
//! stepping by days and months, and weekdays. Everything is proleptic Gregorian, with no time
//! zone: the host has already turned instants into the practice's local dates.

use crate::Date;
use std::cmp::Ordering;

/// A day of the week.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Weekday {
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
    /// Saturday.
    Saturday,
    /// Sunday.
    Sunday,
}

impl Weekday {
    const ALL: [Weekday; 7] = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];

    /// Reads an English weekday name, whole or as its three-letter form ("monday", "Mon"),
    /// ignoring case and surrounding spaces; anything else ("thurs", "frisbee") is `None`.
    pub fn parse(name: &str) -> Option<Weekday> {
        let name = name.trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|day| {
            let full = format!("{day:?}").to_ascii_lowercase();
            name == full || name == full[..3]
        })
    }
}

/// Whether `year` is a leap year.
pub fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// The number of days in `month` (1–12) of `year`; 0 for a month outside 1–12.
pub fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// `day` clamped to the length of `month`: day 31 of February 2027 is the 28th.
pub fn clamp_day(year: i32, month: u8, day: u8) -> u8 {
    day.clamp(1, days_in_month(year, month).max(1))
}

/// A date, if `year`, `month` and `day` name a real one.
pub fn date(year: i32, month: u8, day: u8) -> Option<Date> {
    (1..=12).contains(&month).then_some(())?;
    (1..=days_in_month(year, month)).contains(&day).then_some(Date { year, month, day })
}

/// The last day of the date's month.
pub fn month_end(date: &Date) -> Date {
    Date { day: days_in_month(date.year, date.month), ..*date }
}

/// The first day of the month before the date's month.
pub fn previous_month_start(date: &Date) -> Date {
    match date.month {
        1 => Date { year: date.year - 1, month: 12, day: 1 },
        month => Date { year: date.year, month: month - 1, day: 1 },
    }
}

/// Whether `a` is in an earlier month than `b`.
pub fn is_earlier_month(a: &Date, b: &Date) -> bool {
    (a.year, a.month) < (b.year, b.month)
}

/// Days since 1970-01-01 (negative before it).
pub fn to_days(date: &Date) -> i64 {
    // Howard Hinnant's days_from_civil.
    let year = i64::from(date.year) - i64::from(date.month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(date.month);
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + i64::from(date.day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date `days` days after 1970-01-01.
pub fn from_days(days: i64) -> Date {
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = (year_of_era + era * 400 + i64::from(month <= 2)) as i32;
    Date { year, month, day }
}

/// The date `days` days after `date` (before it, for a negative count).
pub fn add_days(date: &Date, days: i64) -> Date {
    from_days(to_days(date) + days)
}

/// The day of the week of `date`.
pub fn weekday(date: &Date) -> Weekday {
    // 1970-01-01 was a Thursday.
    Weekday::ALL[(to_days(date) + 3).rem_euclid(7) as usize]
}

/// Every date from `first` to `last`, inclusive; empty when `last` is before `first`.
pub fn each_day(first: Date, last: Date) -> impl Iterator<Item = Date> {
    let (first, last) = (to_days(&first), to_days(&last));
    (first..=last).map(from_days)
}

/// Orders two dates chronologically.
pub fn compare(a: &Date, b: &Date) -> Ordering {
    (a.year, a.month, a.day).cmp(&(b.year, b.month, b.day))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekdays_are_read_whole_or_in_three_letters_and_nothing_else_is_one() {
        assert_eq!(Weekday::parse("Friday"), Some(Weekday::Friday));
        assert_eq!(Weekday::parse(" fri "), Some(Weekday::Friday));
        assert_eq!(Weekday::parse("THU"), Some(Weekday::Thursday));
        for wrong in ["frisbee", "frid", "thurs", "fr", "", "mondays", "sundae"] {
            assert_eq!(Weekday::parse(wrong), None, "{wrong:?}");
        }
    }

    fn d(year: i32, month: u8, day: u8) -> Date {
        Date { year, month, day }
    }

    #[test]
    fn day_31_clamps_to_the_last_day_of_short_months() {
        assert_eq!(clamp_day(2027, 2, 31), 28);
        assert_eq!(clamp_day(2028, 2, 31), 29);
        assert_eq!(clamp_day(2026, 4, 31), 30);
        assert_eq!(clamp_day(2026, 1, 31), 31);
        assert_eq!(clamp_day(2100, 2, 29), 28);
        assert_eq!(clamp_day(2000, 2, 30), 29);
    }

    #[test]
    fn days_round_trip_across_centuries() {
        for days in (-800_000..800_000).step_by(997) {
            assert_eq!(to_days(&from_days(days)), days);
        }
        assert_eq!(to_days(&d(1970, 1, 1)), 0);
        assert_eq!(add_days(&d(2028, 2, 28), 1), d(2028, 2, 29));
        assert_eq!(add_days(&d(2026, 12, 31), 1), d(2027, 1, 1));
    }

    #[test]
    fn weekdays_match_the_calendar() {
        assert_eq!(weekday(&d(2026, 11, 26)), Weekday::Thursday);
        assert_eq!(weekday(&d(2000, 1, 1)), Weekday::Saturday);
        assert_eq!(Weekday::parse("FRIDAY"), Some(Weekday::Friday));
        assert_eq!(Weekday::parse("tue"), Some(Weekday::Tuesday));
        assert_eq!(Weekday::parse("x"), None);
    }

    #[test]
    fn previous_month_wraps_the_year() {
        assert_eq!(previous_month_start(&d(2026, 1, 15)), d(2025, 12, 1));
        assert!(is_earlier_month(&d(2025, 12, 31), &d(2026, 1, 1)));
        assert!(!is_earlier_month(&d(2026, 1, 1), &d(2026, 1, 31)));
        assert_eq!(month_end(&d(2028, 2, 3)), d(2028, 2, 29));
    }

    #[test]
    fn invalid_dates_are_refused() {
        assert!(date(2027, 2, 29).is_none());
        assert!(date(2026, 13, 1).is_none());
        assert!(date(2028, 2, 29).is_some());
    }
}
