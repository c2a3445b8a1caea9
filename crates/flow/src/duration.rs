//! ISO 8601 durations as workflows write them (`PT24H`, `P1D`, `-P7D`).
//!
//! Only the designators with a fixed length are accepted: weeks, days, hours,
//! minutes and seconds, in whole numbers. Years and months are refused because
//! their length depends on the calendar, and a delay or a time window must mean
//! the same number of milliseconds wherever it is evaluated. A day is 24 hours
//! here: "wait P1D" across a DST change lands one hour off the wall clock, and a
//! workflow that wants a wall-clock time uses a delay `until_time` instead.

use std::fmt;

const SECOND_MS: i64 = 1_000;
const MINUTE_MS: i64 = 60 * SECOND_MS;
const HOUR_MS: i64 = 60 * MINUTE_MS;
const DAY_MS: i64 = 24 * HOUR_MS;
const WEEK_MS: i64 = 7 * DAY_MS;

/// A parsed duration: a signed number of milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IsoDuration {
    millis: i64,
}

/// Why a text is not an ISO 8601 duration; the message says what to write.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a duration: {problem} (write e.g. PT24H, P1D, P1DT12H or -P7D)")]
pub struct DurationError {
    pub text: String,
    pub problem: &'static str,
}

impl IsoDuration {
    pub fn from_millis(millis: i64) -> Self {
        IsoDuration { millis }
    }

    pub fn as_millis(self) -> i64 {
        self.millis
    }

    pub fn is_negative(self) -> bool {
        self.millis < 0
    }

    /// Parses `[-]P[nW][nD][T[nH][nM][nS]]` with at least one component.
    pub fn parse(text: &str) -> Result<IsoDuration, DurationError> {
        let fail = |problem| DurationError {
            text: text.to_string(),
            problem,
        };
        let (negative, rest) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let rest = rest.strip_prefix('P').ok_or_else(|| fail("it must start with P"))?;
        let (date_part, time_part) = match rest.split_once('T') {
            Some((date, time)) => {
                if time.is_empty() {
                    return Err(fail("T must be followed by hours, minutes or seconds"));
                }
                (date, Some(time))
            }
            None => (rest, None),
        };
        let mut total: i64 = 0;
        let mut components = 0;
        let date_units: &[(char, i64)] = &[('W', WEEK_MS), ('D', DAY_MS)];
        let time_units: &[(char, i64)] = &[('H', HOUR_MS), ('M', MINUTE_MS), ('S', SECOND_MS)];
        for (part, units) in [(Some(date_part), date_units), (time_part, time_units)] {
            let Some(part) = part else { continue };
            let mut next_unit = 0;
            let mut digits = String::new();
            for c in part.chars() {
                if c.is_ascii_digit() {
                    digits.push(c);
                    continue;
                }
                if c == 'Y' || (c == 'M' && units.len() == 2) {
                    return Err(fail("years and months have no fixed length; use weeks or days"));
                }
                let position = units[next_unit..]
                    .iter()
                    .position(|(unit, _)| *unit == c)
                    .ok_or_else(|| fail("unknown or misplaced designator"))?;
                if digits.is_empty() {
                    return Err(fail("a number must come before each designator"));
                }
                let (_, unit_ms) = units[next_unit + position];
                let count: i64 = digits.parse().map_err(|_| fail("the number is too large"))?;
                total = count
                    .checked_mul(unit_ms)
                    .and_then(|ms| total.checked_add(ms))
                    .ok_or_else(|| fail("the number is too large"))?;
                digits.clear();
                next_unit += position + 1;
                components += 1;
            }
            if !digits.is_empty() {
                return Err(fail("a number must be followed by a designator"));
            }
        }
        if components == 0 {
            return Err(fail("it has no component"));
        }
        Ok(IsoDuration {
            millis: if negative { -total } else { total },
        })
    }
}

impl fmt::Display for IsoDuration {
    /// Writes the canonical form: days, then hours, minutes and seconds.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.millis < 0 { "-" } else { "" };
        let mut rest = self.millis.unsigned_abs() / SECOND_MS as u64;
        let days = rest / (DAY_MS / SECOND_MS) as u64;
        rest %= (DAY_MS / SECOND_MS) as u64;
        let (hours, minutes, seconds) = (rest / 3600, rest / 60 % 60, rest % 60);
        write!(f, "{sign}P")?;
        if days > 0 {
            write!(f, "{days}D")?;
        }
        if hours + minutes + seconds > 0 || days == 0 {
            write!(f, "T")?;
            if hours > 0 {
                write!(f, "{hours}H")?;
            }
            if minutes > 0 {
                write!(f, "{minutes}M")?;
            }
            if seconds > 0 || hours + minutes == 0 {
                write!(f, "{seconds}S")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> i64 {
        IsoDuration::parse(text).unwrap().as_millis()
    }

    #[test]
    fn hours_minutes_and_seconds_follow_the_t() {
        assert_eq!(ms("PT24H"), 24 * HOUR_MS);
        assert_eq!(ms("PT1H30M"), HOUR_MS + 30 * MINUTE_MS);
        assert_eq!(ms("PT45S"), 45 * SECOND_MS);
    }

    #[test]
    fn a_day_is_twenty_four_hours_and_a_week_seven_days() {
        assert_eq!(ms("P1D"), DAY_MS);
        assert_eq!(ms("P2W"), 14 * DAY_MS);
        assert_eq!(ms("P1DT12H"), DAY_MS + 12 * HOUR_MS);
    }

    #[test]
    fn a_leading_minus_makes_the_duration_negative() {
        assert_eq!(ms("-P7D"), -7 * DAY_MS);
        assert!(IsoDuration::parse("-P7D").unwrap().is_negative());
    }

    #[test]
    fn years_and_months_are_refused_with_a_hint() {
        for text in ["P1Y", "P1M", "P1Y2D"] {
            let err = IsoDuration::parse(text).unwrap_err();
            assert!(err.problem.contains("no fixed length"), "{text}: {err}");
        }
        // Minutes after the T are fine.
        assert_eq!(ms("PT1M"), MINUTE_MS);
    }

    #[test]
    fn malformed_texts_are_refused() {
        for text in [
            "",
            "P",
            "PT",
            "24H",
            "PT24",
            "P1.5D",
            "PTH",
            "P1H",
            "PT1D",
            "PT1S1H",
            "P1D1W",
            "p1d",
            "P-1D",
            "+P1D",
            "P1D ",
            "P99999999999999999999D",
        ] {
            assert!(IsoDuration::parse(text).is_err(), "{text:?} should be refused");
        }
    }

    #[test]
    fn display_writes_a_text_that_parses_back_to_the_same_duration() {
        for text in ["PT24H", "P1D", "-P7D", "P1DT2H3M4S", "PT0S", "P2W", "PT90M"] {
            let parsed = IsoDuration::parse(text).unwrap();
            assert_eq!(IsoDuration::parse(&parsed.to_string()).unwrap(), parsed, "{text}");
        }
        assert_eq!(IsoDuration::parse("PT90M").unwrap().to_string(), "PT1H30M");
    }
}
