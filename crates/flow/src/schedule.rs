//! Wall-clock times in a time zone: when a schedule trigger fires next, and
//! when a delay `until_time` ends.
//!
//! DST rules, so that a daily schedule never skips and never repeats a day:
//! * a local time that does not exist (inside a spring-forward gap) fires at
//!   the first instant after the gap: 02:30 on the night clocks jump from
//!   02:00 to 03:00 fires at 03:00;
//! * a local time that exists twice (inside a fall-back fold) fires once, at
//!   its first occurrence.

use crate::calendar::{parse_weekday, TimeOfDay};
use chrono::{DateTime, Datelike, Days, NaiveDateTime, TimeZone, Weekday};
use chrono_tz::Tz;

const SECOND_MS: i64 = 1_000;
const DAY_MS: i64 = 86_400 * SECOND_MS;

/// The first instant strictly after `after` (ms since the epoch) at which the
/// local time in `tz` is `at` on one of `days` (every day when empty).
pub fn next_fire(at: TimeOfDay, days: &[Weekday], tz: Tz, after: i64) -> i64 {
    let Some(after_utc) = DateTime::from_timestamp_millis(after) else {
        return after.saturating_add(DAY_MS);
    };
    let today = after_utc.with_timezone(&tz).date_naive();
    // From yesterday (a negative offset can put today's local date ahead of the
    // instant's) to eight days on, which covers a weekly schedule plus a gap.
    let start = today.checked_sub_days(Days::new(1)).unwrap_or(today);
    for offset in 0..=9 {
        let Some(date) = start.checked_add_days(Days::new(offset)) else {
            break;
        };
        if !days.is_empty() && !days.contains(&date.weekday()) {
            continue;
        }
        let instant = resolve_local(tz, date.and_time(at.naive()));
        if instant > after {
            return instant;
        }
    }
    // Unreachable for valid zones; a day later keeps the caller moving.
    after.saturating_add(DAY_MS)
}

/// The instant of a local date and time in `tz`: the earlier one in a fold,
/// the end of the gap in a gap.
pub fn resolve_local(tz: Tz, local: NaiveDateTime) -> i64 {
    match tz.from_local_datetime(&local).earliest() {
        Some(instant) => instant.timestamp_millis(),
        None => end_of_gap(tz, local),
    }
}

/// The first instant whose local time is at or after `local`, found by
/// bisection over the seconds around it (UTC offsets stay within ±26 hours, and
/// local time only moves forward across a gap).
fn end_of_gap(tz: Tz, local: NaiveDateTime) -> i64 {
    let naive_seconds = local.and_utc().timestamp();
    let (mut before, mut at_or_after) = (naive_seconds - 26 * 3600, naive_seconds + 26 * 3600);
    let local_of = |seconds: i64| {
        DateTime::from_timestamp(seconds, 0)
            .map(|t| t.with_timezone(&tz).naive_local())
            .unwrap_or(local)
    };
    while at_or_after - before > 1 {
        let middle = before + (at_or_after - before) / 2;
        if local_of(middle) >= local {
            at_or_after = middle;
        } else {
            before = middle;
        }
    }
    at_or_after * SECOND_MS
}

/// The time and week days of a schedule trigger, as the validator accepts them.
pub fn parse_schedule(at: &str, days: &[String]) -> Result<(TimeOfDay, Vec<Weekday>), String> {
    let at = TimeOfDay::parse(at)?;
    let days = days.iter().map(|d| parse_weekday(d)).collect::<Result<Vec<_>, _>>()?;
    Ok((at, days))
}
