//! The usage rules: periods, the counting rule, thresholds, forecast and packs.

use super::*;
use proptest::prelude::*;

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Local start dates of the periods that follow each other from the one
/// containing `from`, checking on the way that each begins at local
/// midnight and where the previous one ended.
fn period_starts(from: DateTime<Utc>, anchor_day: u32, tz: Tz, count: usize) -> Vec<NaiveDate> {
    let mut period = usage_period(from, anchor_day, tz).unwrap();
    let mut starts = Vec::new();
    for _ in 0..count {
        let local_start = period.start.with_timezone(&tz).naive_local();
        assert_eq!(local_start.time(), NaiveTime::MIN, "{period:?} in {tz}");
        starts.push(local_start.date());
        let next = usage_period(period.end, anchor_day, tz).unwrap();
        assert_eq!(next.start, period.end);
        period = next;
    }
    starts
}

fn monthly(year: i32, days: [u32; 12]) -> Vec<NaiveDate> {
    (1..=12).map(|m| date(year, m, days[m as usize - 1])).collect()
}

#[test]
fn anchor_on_the_1st_resets_on_the_1st_of_every_month() {
    let starts = period_starts(utc(2027, 1, 10, 12, 0), 1, Tz::UTC, 12);
    assert_eq!(starts, monthly(2027, [1; 12]));
}

#[test]
fn anchor_on_the_15th_resets_on_the_15th_of_every_month() {
    let starts = period_starts(utc(2027, 1, 20, 0, 0), 15, Tz::UTC, 12);
    assert_eq!(starts, monthly(2027, [15; 12]));
}

#[test]
fn anchor_on_the_31st_resets_on_the_last_day_of_shorter_months() {
    let starts = period_starts(utc(2027, 1, 31, 0, 0), 31, Tz::UTC, 24);
    let mut expected = monthly(2027, [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]);
    expected.extend(monthly(2028, [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]));
    assert_eq!(starts, expected);
}

#[test]
fn anchor_on_the_31st_returns_to_the_31st_after_a_short_month() {
    let feb = usage_period(utc(2027, 3, 15, 0, 0), 31, Tz::UTC).unwrap();
    assert_eq!(feb.start, utc(2027, 2, 28, 0, 0));
    assert_eq!(feb.end, utc(2027, 3, 31, 0, 0));
    let apr = usage_period(utc(2027, 4, 30, 0, 0), 31, Tz::UTC).unwrap();
    assert_eq!(apr.start, utc(2027, 4, 30, 0, 0));
    assert_eq!(apr.end, utc(2027, 5, 31, 0, 0));
}

#[test]
fn anchor_on_the_30th_resets_on_the_last_day_of_february() {
    let common = usage_period(utc(2027, 3, 1, 0, 0), 30, Tz::UTC).unwrap();
    assert_eq!(
        (common.start, common.end),
        (utc(2027, 2, 28, 0, 0), utc(2027, 3, 30, 0, 0))
    );
    let leap = usage_period(utc(2028, 3, 1, 0, 0), 30, Tz::UTC).unwrap();
    assert_eq!((leap.start, leap.end), (utc(2028, 2, 29, 0, 0), utc(2028, 3, 30, 0, 0)));
    let before = usage_period(utc(2028, 2, 28, 23, 59), 30, Tz::UTC).unwrap();
    assert_eq!(
        (before.start, before.end),
        (utc(2028, 1, 30, 0, 0), utc(2028, 2, 29, 0, 0))
    );
}

#[test]
fn anchor_on_the_29th_resets_on_the_28th_only_in_common_years() {
    let common = usage_period(utc(2027, 2, 28, 6, 0), 29, Tz::UTC).unwrap();
    assert_eq!(common.start, utc(2027, 2, 28, 0, 0));
    let leap = usage_period(utc(2028, 2, 28, 6, 0), 29, Tz::UTC).unwrap();
    assert_eq!((leap.start, leap.end), (utc(2028, 1, 29, 0, 0), utc(2028, 2, 29, 0, 0)));
}

#[test]
fn a_period_crosses_new_year() {
    let p = usage_period(utc(2027, 1, 3, 9, 0), 15, Tz::UTC).unwrap();
    assert_eq!((p.start, p.end), (utc(2026, 12, 15, 0, 0), utc(2027, 1, 15, 0, 0)));
    let p = usage_period(utc(2027, 1, 10, 9, 0), 31, Tz::UTC).unwrap();
    assert_eq!((p.start, p.end), (utc(2026, 12, 31, 0, 0), utc(2027, 1, 31, 0, 0)));
    let p = usage_period(utc(2026, 12, 31, 23, 59), 1, Tz::UTC).unwrap();
    assert_eq!((p.start, p.end), (utc(2026, 12, 1, 0, 0), utc(2027, 1, 1, 0, 0)));
}

#[test]
fn the_period_starts_exactly_at_local_midnight_of_the_reset_day() {
    let p = usage_period(utc(2027, 5, 1, 0, 0), 1, Tz::UTC).unwrap();
    assert_eq!(p.start, utc(2027, 5, 1, 0, 0));
    let p = usage_period(utc(2027, 5, 1, 0, 0) - Duration::milliseconds(1), 1, Tz::UTC).unwrap();
    assert_eq!(p.end, utc(2027, 5, 1, 0, 0));
}

#[test]
fn sao_paulo_periods_start_at_local_midnight_three_hours_after_utc() {
    let tz = chrono_tz::America::Sao_Paulo;
    // 23:00 on 28 February in São Paulo is already 1 March in UTC.
    let p = usage_period(utc(2027, 3, 1, 2, 0), 1, tz).unwrap();
    assert_eq!((p.start, p.end), (utc(2027, 2, 1, 3, 0), utc(2027, 3, 1, 3, 0)));
    let p = usage_period(utc(2027, 3, 1, 3, 0), 1, tz).unwrap();
    assert_eq!(p.start, utc(2027, 3, 1, 3, 0));
}

#[test]
fn lisbon_period_with_the_spring_clock_change_is_an_hour_shorter() {
    let tz = chrono_tz::Europe::Lisbon;
    // Summer time starts on 28 March 2027; the period still ends at local midnight.
    let p = usage_period(utc(2027, 3, 30, 12, 0), 15, tz).unwrap();
    assert_eq!(p.start, utc(2027, 3, 15, 0, 0));
    assert_eq!(p.end, utc(2027, 4, 14, 23, 0));
    assert_eq!(p.end - p.start, Duration::days(31) - Duration::hours(1));
}

#[test]
fn warsaw_period_with_the_autumn_clock_change_is_an_hour_longer() {
    let tz = chrono_tz::Europe::Warsaw;
    // Summer time ends on 31 October 2027.
    let p = usage_period(utc(2027, 11, 2, 12, 0), 20, tz).unwrap();
    assert_eq!(p.start, utc(2027, 10, 19, 22, 0));
    assert_eq!(p.end, utc(2027, 11, 19, 23, 0));
    assert_eq!(p.end - p.start, Duration::days(31) + Duration::hours(1));
}

#[test]
fn utc_periods_are_whole_days() {
    let p = usage_period(utc(2027, 7, 4, 0, 0), 1, Tz::UTC).unwrap();
    assert_eq!(p.end - p.start, Duration::days(31));
}

#[test]
fn a_reset_day_without_a_midnight_starts_when_the_clock_jumps() {
    // São Paulo moved to summer time at midnight on 4 November 2018:
    // 00:00 became 01:00 (UTC−2), that is 03:00 UTC.
    let midnight = date(2018, 11, 4).and_time(NaiveTime::MIN);
    assert_eq!(
        chrono_tz::America::Sao_Paulo.from_local_datetime(&midnight).earliest(),
        None
    );
    let p = usage_period(utc(2018, 11, 10, 0, 0), 4, chrono_tz::America::Sao_Paulo).unwrap();
    assert_eq!(p.start, utc(2018, 11, 4, 3, 0));
    let before = usage_period(utc(2018, 11, 4, 2, 59), 4, chrono_tz::America::Sao_Paulo).unwrap();
    assert_eq!(before.end, p.start);
}

#[test]
fn a_reset_day_whose_midnight_happens_twice_starts_at_the_first() {
    // Cuba's summer time ends at 01:00 on 7 November 2027, back to 00:00:
    // midnight happens at 04:00 UTC (UTC−4) and again at 05:00 UTC.
    let tz = chrono_tz::America::Havana;
    let midnight = date(2027, 11, 7).and_time(NaiveTime::MIN);
    assert!(matches!(
        tz.from_local_datetime(&midnight),
        chrono::LocalResult::Ambiguous(_, _)
    ));
    let p = usage_period(utc(2027, 11, 7, 4, 30), 7, tz).unwrap();
    assert_eq!(p.start, utc(2027, 11, 7, 4, 0));
    let during_the_repeated_hour = usage_period(utc(2027, 11, 7, 5, 30), 7, tz).unwrap();
    assert_eq!(during_the_repeated_hour, p);
}

#[test]
fn havana_reset_day_starts_at_1_am_when_summer_time_begins_at_midnight() {
    // Cuba's summer time starts at midnight on 14 March 2027: 00:00 becomes
    // 01:00 (UTC−4), that is 05:00 UTC.
    let tz = chrono_tz::America::Havana;
    let p = usage_period(utc(2027, 3, 20, 0, 0), 14, tz).unwrap();
    assert_eq!(p.start, utc(2027, 3, 14, 5, 0));
    assert_eq!(
        p.start.with_timezone(&tz).naive_local(),
        date(2027, 3, 14).and_hms_opt(1, 0, 0).unwrap()
    );
}

#[test]
fn a_skipped_local_day_starts_its_period_at_the_next_day() {
    // Samoa skipped 30 December 2011 entirely.
    let tz = chrono_tz::Pacific::Apia;
    let p = usage_period(utc(2011, 12, 30, 12, 0), 30, tz).unwrap();
    assert_eq!(p.start, utc(2011, 12, 30, 10, 0));
    assert_eq!(
        p.start.with_timezone(&tz).naive_local(),
        date(2011, 12, 31).and_time(NaiveTime::MIN)
    );
}

#[test]
fn instants_outside_the_years_1_to_9999_are_refused() {
    assert_eq!(
        usage_period(DateTime::<Utc>::MAX_UTC, 1, Tz::UTC),
        Err(UsageError::OutOfRange)
    );
    assert_eq!(
        usage_period(DateTime::<Utc>::MIN_UTC, 31, Tz::UTC),
        Err(UsageError::OutOfRange)
    );
    assert_eq!(UsageError::OutOfRange.code(), "out_of_range");
    let last = usage_period(utc(9999, 12, 31, 12, 0), 31, chrono_tz::Pacific::Kiritimati).unwrap();
    assert!(last.contains(utc(9999, 12, 31, 12, 0)));
}

#[test]
fn anchor_days_outside_1_to_31_are_refused() {
    for anchor in [0, 32, 100, u32::MAX] {
        assert_eq!(
            usage_period(utc(2027, 1, 1, 0, 0), anchor, Tz::UTC),
            Err(UsageError::InvalidAnchorDay(anchor))
        );
        let settings = UsageSettings {
            billing_anchor_day: anchor,
            ..UsageSettings::default()
        };
        assert_eq!(settings.validate(), Err(UsageError::InvalidAnchorDay(anchor)));
    }
    assert_eq!(UsageError::InvalidAnchorDay(0).code(), "invalid_anchor_day");
    assert!(UsageSettings::default().validate().is_ok());
}

const ZONES: [Tz; 10] = [
    Tz::UTC,
    chrono_tz::America::Sao_Paulo,
    chrono_tz::Europe::Lisbon,
    chrono_tz::Europe::Warsaw,
    chrono_tz::America::Havana,
    chrono_tz::Pacific::Apia,
    chrono_tz::Australia::Lord_Howe,
    chrono_tz::Asia::Kathmandu,
    chrono_tz::America::St_Johns,
    chrono_tz::Pacific::Kiritimati,
];

proptest! {
    #[test]
    fn the_period_always_contains_now_and_ends_where_the_next_starts(
        // 1950 to 2100
        now_ms in -631_152_000_000i64..4_102_444_800_000,
        anchor in 1u32..=31,
        zone in 0usize..ZONES.len(),
    ) {
        let tz = ZONES[zone];
        let now = DateTime::from_timestamp_millis(now_ms).unwrap();
        let period = usage_period(now, anchor, tz).unwrap();
        prop_assert!(period.start <= now && now < period.end, "{:?} {} {}", period, now, tz);
        let local_start = period.start.with_timezone(&tz).naive_local();
        let midnight_skipped = tz
            .from_local_datetime(&local_start.date().and_time(NaiveTime::MIN))
            .earliest()
            .is_none();
        prop_assert!(local_start.time() == NaiveTime::MIN || midnight_skipped, "{:?} {}", period, tz);
        prop_assert!(period.end - period.start >= Duration::days(27));
        prop_assert!(period.end - period.start <= Duration::days(32));
        let next = usage_period(period.end, anchor, tz).unwrap();
        prop_assert_eq!(next.start, period.end);
        let previous = usage_period(period.start - Duration::milliseconds(1), anchor, tz).unwrap();
        prop_assert_eq!(previous.end, period.start);
    }
}

#[test]
fn outside_a_session_every_business_message_counts_under_both_rules() {
    for first in [true, false] {
        assert!(counts_as_conversation(false, first, false));
        assert!(counts_as_conversation(false, first, true));
    }
}

#[test]
fn inside_a_user_initiated_session_nothing_counts_under_the_current_rule() {
    assert!(!counts_as_conversation(true, true, false));
    assert!(!counts_as_conversation(true, false, false));
}

#[test]
fn under_the_older_rule_the_first_business_message_in_a_session_counts() {
    assert!(counts_as_conversation(true, true, true));
    assert!(!counts_as_conversation(true, false, true));
}

#[test]
fn default_settings_are_1000_conversations_from_the_1st_under_the_current_rule() {
    let settings = UsageSettings::default();
    assert_eq!(settings.effective_limit(), 1_000);
    assert_eq!(settings.billing_anchor_day, 1);
    assert!(!settings.count_user_initiated);
}

#[test]
fn each_pack_adds_1000_conversations() {
    let mut settings = UsageSettings {
        monthly_limit: 500,
        ..UsageSettings::default()
    };
    assert_eq!(settings.effective_limit(), 500);
    settings.packs = 1;
    assert_eq!(settings.effective_limit(), 1_500);
    settings.packs = 3;
    assert_eq!(settings.effective_limit(), 3_500);
    settings.packs = u64::MAX;
    assert_eq!(settings.effective_limit(), u64::MAX);
}

#[test]
fn settings_read_missing_fields_as_defaults() {
    let settings: UsageSettings = serde_json::from_str(r#"{"billing_anchor_day": 15}"#).unwrap();
    assert_eq!(settings.billing_anchor_day, 15);
    assert_eq!(settings.monthly_limit, DEFAULT_MONTHLY_LIMIT);
    assert_eq!(settings.packs, 0);
}

#[test]
fn percent_used_rounds_down_and_a_zero_limit_is_full() {
    assert_eq!(percent_used(0, 1_000), 0);
    assert_eq!(percent_used(699, 1_000), 69);
    assert_eq!(percent_used(700, 1_000), 70);
    assert_eq!(percent_used(2, 3), 66);
    assert_eq!(percent_used(1_000, 1_000), 100);
    assert_eq!(percent_used(1_500, 1_000), 150);
    assert_eq!(percent_used(0, 0), 100);
    assert_eq!(percent_used(u64::MAX, 1), u32::MAX);
}

#[test]
fn with_a_limit_of_5_the_fifth_counted_conversation_reaches_100_percent_and_each_threshold_fires_once() {
    let limit = 5;
    let mut notified: Vec<u32> = Vec::new();
    let mut fired = Vec::new();
    for used in 1..=limit {
        let reached = thresholds_reached(used, limit, &notified);
        fired.push((used, reached.clone()));
        notified.extend(reached);
    }
    assert_eq!(
        fired,
        vec![
            (1, vec![]),
            (2, vec![]),
            (3, vec![]),
            (4, vec![70, 80]),
            (5, vec![90, 95, 100]),
        ]
    );
    assert_eq!(notified, THRESHOLDS.to_vec());
    assert!(thresholds_reached(5, limit, &notified).is_empty());
    assert!(thresholds_reached(9, limit, &notified).is_empty());
}

#[test]
fn thresholds_fire_one_by_one_with_the_default_limit() {
    let mut notified = Vec::new();
    for (used, expected) in [
        (699, vec![]),
        (700, vec![70]),
        (800, vec![80]),
        (949, vec![90]),
        (950, vec![95]),
    ] {
        let reached = thresholds_reached(used, 1_000, &notified);
        assert_eq!(reached, expected, "at {used}");
        notified.extend(reached);
    }
    assert_eq!(thresholds_reached(1_000, 1_000, &notified), vec![100]);
}

#[test]
fn thresholds_already_notified_in_the_period_are_not_repeated() {
    assert_eq!(thresholds_reached(4, 5, &[70]), vec![80]);
    assert_eq!(thresholds_reached(5, 5, &[70, 80, 95]), vec![90, 100]);
}

#[test]
fn a_zero_limit_reaches_every_threshold() {
    assert_eq!(thresholds_reached(0, 0, &[]), THRESHOLDS.to_vec());
}

#[test]
fn a_counted_conversation_is_allowed_only_below_the_limit() {
    assert!(quota_allows(0, 5));
    assert!(quota_allows(4, 5));
    assert!(!quota_allows(5, 5));
    assert!(!quota_allows(6, 5));
    assert!(!quota_allows(0, 0));
}

#[test]
fn a_limit_raised_by_a_pack_allows_sending_again() {
    let mut settings = UsageSettings::default();
    assert!(!quota_allows(1_000, settings.effective_limit()));
    settings.packs = 1;
    assert!(quota_allows(1_000, settings.effective_limit()));
    assert_eq!(percent_used(1_000, settings.effective_limit()), 50);
}

fn thirty_day_period() -> UsagePeriod {
    UsagePeriod {
        start: utc(2027, 4, 1, 0, 0),
        end: utc(2027, 5, 1, 0, 0),
    }
}

#[test]
fn forecast_halfway_through_extrapolates_the_rate_so_far() {
    let period = thirty_day_period();
    let halfway = utc(2027, 4, 16, 0, 0);
    // 600 of 1,000 in 15 days: 40 per day, 1,000 after 25 days.
    assert_eq!(
        forecast_exhausted_at(&period, 600, 1_000, halfway),
        Some(utc(2027, 4, 26, 0, 0))
    );
    // 750 in 15 days: 1,000 after 20 days.
    assert_eq!(
        forecast_exhausted_at(&period, 750, 1_000, halfway),
        Some(utc(2027, 4, 21, 0, 0))
    );
}

#[test]
fn forecast_reaching_the_limit_only_at_the_reset_is_none() {
    let period = thirty_day_period();
    let halfway = utc(2027, 4, 16, 0, 0);
    assert_eq!(forecast_exhausted_at(&period, 500, 1_000, halfway), None);
    assert_eq!(forecast_exhausted_at(&period, 100, 1_000, halfway), None);
}

#[test]
fn forecast_is_none_before_anything_is_used() {
    let period = thirty_day_period();
    assert_eq!(forecast_exhausted_at(&period, 0, 1_000, utc(2027, 4, 20, 0, 0)), None);
}

#[test]
fn forecast_is_now_once_the_limit_is_reached() {
    let period = thirty_day_period();
    let now = utc(2027, 4, 20, 8, 0);
    assert_eq!(forecast_exhausted_at(&period, 1_000, 1_000, now), Some(now));
    assert_eq!(forecast_exhausted_at(&period, 1_200, 1_000, now), Some(now));
    assert_eq!(forecast_exhausted_at(&period, 0, 0, now), Some(now));
}

#[test]
fn forecast_rounds_up_so_it_is_never_before_the_crossing() {
    let period = thirty_day_period();
    let now = period.start + Duration::milliseconds(10);
    // 3 used in 10 ms: 10 takes 33.3 ms, reported as 34 ms.
    assert_eq!(
        forecast_exhausted_at(&period, 3, 10, now),
        Some(period.start + Duration::milliseconds(34))
    );
}

#[test]
fn forecast_at_the_period_start_with_usage_is_the_start() {
    let period = thirty_day_period();
    assert_eq!(
        forecast_exhausted_at(&period, 1, 1_000, period.start),
        Some(period.start)
    );
}

proptest! {
    #[test]
    fn forecast_lies_after_now_and_inside_the_period(
        elapsed_ms in 1i64..(30 * 24 * 3600 * 1000),
        used in 1u64..10_000,
        limit in 1u64..10_000,
    ) {
        let period = thirty_day_period();
        let now = period.start + Duration::milliseconds(elapsed_ms);
        match forecast_exhausted_at(&period, used, limit, now) {
            Some(at) if used >= limit => prop_assert_eq!(at, now),
            Some(at) => prop_assert!(now < at && at < period.end),
            None => prop_assert!(used < limit),
        }
    }
}
