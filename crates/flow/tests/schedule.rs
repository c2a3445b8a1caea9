mod common;

use chrono::Weekday;
use chrono_tz::Europe::Madrid;
use chrono_tz::Tz;
use common::{at, rfc};
use recado_flow::calendar::TimeOfDay;
use recado_flow::next_fire;
use recado_flow::schedule::parse_schedule;

fn time(text: &str) -> TimeOfDay {
    TimeOfDay::parse(text).unwrap()
}

/// The next `count` fires after `from`, each strictly after the previous one.
fn fires(at_time: &str, days: &[Weekday], tz: Tz, from: &str, count: usize) -> Vec<String> {
    let mut after = at(from);
    (0..count)
        .map(|_| {
            after = next_fire(time(at_time), days, tz, after);
            rfc(after)
        })
        .collect()
}

#[test]
fn a_daily_time_fires_once_a_day_at_local_time_across_spring_forward() {
    // Madrid moves from UTC+1 to UTC+2 on 29 March 2026.
    assert_eq!(
        fires("08:00", &[], Madrid, "2026-03-27T12:00:00Z", 3),
        ["2026-03-28T07:00:00Z", "2026-03-29T06:00:00Z", "2026-03-30T06:00:00Z"]
    );
}

#[test]
fn a_daily_time_fires_once_a_day_at_local_time_across_fall_back() {
    // Madrid moves from UTC+2 to UTC+1 on 25 October 2026.
    assert_eq!(
        fires("08:00", &[], Madrid, "2026-10-23T12:00:00Z", 3),
        ["2026-10-24T06:00:00Z", "2026-10-25T07:00:00Z", "2026-10-26T07:00:00Z"]
    );
}

#[test]
fn a_time_inside_the_spring_gap_fires_at_the_end_of_the_gap() {
    // 02:30 does not exist on 29 March: clocks jump from 02:00 to 03:00 (01:00Z).
    assert_eq!(
        fires("02:30", &[], Madrid, "2026-03-27T12:00:00Z", 3),
        ["2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"]
    );
}

#[test]
fn a_time_inside_the_autumn_fold_fires_once_at_its_first_occurrence() {
    // 02:30 happens twice on 25 October: 00:30Z (summer time) and 01:30Z.
    assert_eq!(
        fires("02:30", &[], Madrid, "2026-10-23T12:00:00Z", 3),
        ["2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"]
    );
}

#[test]
fn between_the_two_occurrences_of_a_folded_time_the_next_fire_is_the_next_day() {
    let next = next_fire(time("02:30"), &[], Madrid, at("2026-10-25T01:00:00Z"));
    assert_eq!(rfc(next), "2026-10-26T01:30:00Z");
}

#[test]
fn the_next_fire_is_strictly_after_the_given_instant() {
    let fire = at("2026-06-01T06:00:00Z");
    assert_eq!(
        rfc(next_fire(time("08:00"), &[], Madrid, fire - 1)),
        "2026-06-01T06:00:00Z"
    );
    assert_eq!(rfc(next_fire(time("08:00"), &[], Madrid, fire)), "2026-06-02T06:00:00Z");
}

#[test]
fn week_days_restrict_the_fire_days_in_local_time() {
    let weekdays = [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri];
    // Friday 5 June 2026 after 08:00 local: the next is Monday 8 June.
    assert_eq!(
        fires("08:00", &weekdays, Madrid, "2026-06-05T07:00:00Z", 2),
        ["2026-06-08T06:00:00Z", "2026-06-09T06:00:00Z"]
    );
}

#[test]
fn the_local_date_decides_the_week_day_not_the_utc_date() {
    // 00:30 Monday in Madrid is still Sunday in UTC.
    let next = next_fire(time("00:30"), &[Weekday::Mon], Madrid, at("2026-06-06T12:00:00Z"));
    assert_eq!(rfc(next), "2026-06-07T22:30:00Z");
}

#[test]
fn a_schedule_far_from_utc_fires_at_its_own_local_time() {
    let next = next_fire(
        time("09:00"),
        &[],
        chrono_tz::Pacific::Kiritimati,
        at("2026-06-01T00:00:00Z"),
    );
    // UTC+14: 09:00 local on 2 June is 19:00Z on 1 June.
    assert_eq!(rfc(next), "2026-06-01T19:00:00Z");
}

#[test]
fn parse_schedule_reads_the_trigger_time_and_days() {
    let (at_time, days) = parse_schedule("07:45", &["sat".into(), "sun".into()]).unwrap();
    assert_eq!((at_time, days), (time("07:45"), vec![Weekday::Sat, Weekday::Sun]));
    assert!(parse_schedule("7:45", &[]).is_err());
    assert!(parse_schedule("07:45", &["Sat".into()]).is_err());
}
