//! The few calendar texts workflows contain: times of day (`"08:00"`), week
//! days (`"mon"`), instants (RFC 3339) and property dates (RFC 3339 or
//! `YYYY-MM-DD`). Each parser is strict and its error says what to write,
//! because the text comes straight from a user's definition.

use chrono::{DateTime, NaiveDate, NaiveTime, Weekday};
use std::fmt;

/// A wall-clock time of day, minute precision, written `HH:MM` (24-hour).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay {
    hour: u8,
    minute: u8,
}

impl TimeOfDay {
    pub fn new(hour: u8, minute: u8) -> Option<TimeOfDay> {
        (hour < 24 && minute < 60).then_some(TimeOfDay { hour, minute })
    }

    /// Parses exactly two digits, a colon and two digits.
    pub fn parse(text: &str) -> Result<TimeOfDay, String> {
        let problem = || format!("`{text}` is not a time of day; write HH:MM on a 24-hour clock, e.g. 08:00");
        let bytes = text.as_bytes();
        if bytes.len() != 5 || bytes[2] != b':' {
            return Err(problem());
        }
        let number = |s: &str| -> Option<u8> {
            if s.bytes().all(|b| b.is_ascii_digit()) {
                s.parse().ok()
            } else {
                None
            }
        };
        let hour = number(&text[0..2]).ok_or_else(problem)?;
        let minute = number(&text[3..5]).ok_or_else(problem)?;
        TimeOfDay::new(hour, minute).ok_or_else(problem)
    }

    pub fn hour(self) -> u8 {
        self.hour
    }

    pub fn minute(self) -> u8 {
        self.minute
    }

    pub fn naive(self) -> NaiveTime {
        NaiveTime::from_hms_opt(self.hour.into(), self.minute.into(), 0).expect("hour and minute checked in new")
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour, self.minute)
    }
}

/// The week days as schedules write them.
pub const WEEKDAY_NAMES: [(&str, Weekday); 7] = [
    ("mon", Weekday::Mon),
    ("tue", Weekday::Tue),
    ("wed", Weekday::Wed),
    ("thu", Weekday::Thu),
    ("fri", Weekday::Fri),
    ("sat", Weekday::Sat),
    ("sun", Weekday::Sun),
];

pub fn parse_weekday(text: &str) -> Result<Weekday, String> {
    WEEKDAY_NAMES
        .iter()
        .find(|(name, _)| *name == text)
        .map(|(_, day)| *day)
        .ok_or_else(|| format!("`{text}` is not a week day; use mon, tue, wed, thu, fri, sat or sun"))
}

/// An RFC 3339 instant (`2026-12-24T09:00:00Z`) in milliseconds since the epoch.
pub fn parse_instant(text: &str) -> Result<i64, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp_millis())
        .map_err(|_| format!("`{text}` is not an RFC 3339 time; write e.g. 2026-12-24T09:00:00Z"))
}

/// A date as contact properties hold it: an RFC 3339 instant, or a plain
/// `YYYY-MM-DD` day taken as its first instant in UTC (the stored property has
/// no time zone, and UTC keeps the comparison the same for every reader).
pub fn parse_property_date(text: &str) -> Option<i64> {
    if let Ok(ms) = parse_instant(text) {
        return Some(ms);
    }
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    // `%Y` accepts more than four digits; the property format does not.
    if text.len() != 10 {
        return None;
    }
    Some(day.and_time(NaiveTime::MIN).and_utc().timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_of_day_is_two_digit_hours_and_minutes() {
        let t = TimeOfDay::parse("08:05").unwrap();
        assert_eq!((t.hour(), t.minute()), (8, 5));
        assert_eq!(t.to_string(), "08:05");
        assert_eq!(TimeOfDay::parse("23:59").unwrap().to_string(), "23:59");
    }

    #[test]
    fn a_time_of_day_out_of_range_or_badly_written_is_refused() {
        for text in [
            "24:00", "12:60", "8:00", "08:0", "0800", "08-00", "+8:00", "08:00:00", "ab:cd", "",
        ] {
            assert!(TimeOfDay::parse(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn week_days_are_three_lowercase_letters() {
        assert_eq!(parse_weekday("mon"), Ok(Weekday::Mon));
        assert_eq!(parse_weekday("sun"), Ok(Weekday::Sun));
        assert!(parse_weekday("Mon").is_err());
        assert!(parse_weekday("monday").is_err());
    }

    #[test]
    fn instants_are_rfc_3339_with_an_offset() {
        assert_eq!(parse_instant("1970-01-01T00:00:01Z"), Ok(1_000));
        assert_eq!(parse_instant("1970-01-01T01:00:00+01:00"), Ok(0));
        assert!(parse_instant("2026-12-24").is_err());
        assert!(parse_instant("2026-12-24T09:00:00").is_err());
    }

    #[test]
    fn property_dates_accept_a_plain_day_as_utc_midnight() {
        assert_eq!(parse_property_date("1970-01-02"), Some(86_400_000));
        assert_eq!(parse_property_date("1970-01-01T00:00:01Z"), Some(1_000));
        assert_eq!(parse_property_date("02/01/1970"), None);
        assert_eq!(parse_property_date("tomorrow"), None);
    }
}
