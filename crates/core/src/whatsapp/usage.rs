//! The workspace's monthly conversation limit (SPEC §4 "Conversation limit
//! (usage)"): which messages count, the billing period they count in, the
//! notification thresholds and the forecast shown on the usage bar.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// The monthly limit a new workspace starts with.
pub const DEFAULT_MONTHLY_LIMIT: u64 = 1_000;

/// Conversations one pack adds to every period while it is active.
pub const PACK_SIZE: u64 = 1_000;

/// Percentages at which admins are notified, once each per period.
pub const THRESHOLDS: [u32; 5] = [70, 80, 90, 95, 100];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsageError {
    #[error("the billing anchor day must be between 1 and 31, not {0}")]
    InvalidAnchorDay(u32),
    #[error("periods are computed for the years 1 to 9999 only")]
    OutOfRange,
}

impl UsageError {
    /// The stable error code of the API contract.
    pub fn code(&self) -> &'static str {
        match self {
            UsageError::InvalidAnchorDay(_) => "invalid_anchor_day",
            UsageError::OutOfRange => "out_of_range",
        }
    }
}

/// A workspace's usage settings, shared by all its WhatsApp accounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UsageSettings {
    /// Counted conversations per period, before packs.
    pub monthly_limit: u64,
    /// Day of the month the period resets (1..=31): the day the workspace's
    /// subscription started.
    pub billing_anchor_day: u32,
    /// The rule before November 2024: the first business message inside a
    /// user-initiated session also counts. Off by default.
    pub count_user_initiated: bool,
    /// Active packs; each adds [`PACK_SIZE`] to every period until removed.
    /// Packs renew with the period and do not roll over.
    pub packs: u64,
}

impl Default for UsageSettings {
    fn default() -> Self {
        UsageSettings {
            monthly_limit: DEFAULT_MONTHLY_LIMIT,
            billing_anchor_day: 1,
            count_user_initiated: false,
            packs: 0,
        }
    }
}

impl UsageSettings {
    /// The limit of the current period: the monthly limit plus every pack.
    pub fn effective_limit(&self) -> u64 {
        self.monthly_limit.saturating_add(self.packs.saturating_mul(PACK_SIZE))
    }

    /// Checks the values an admin may set.
    pub fn validate(&self) -> Result<(), UsageError> {
        validate_anchor_day(self.billing_anchor_day)
    }
}

fn validate_anchor_day(anchor_day: u32) -> Result<(), UsageError> {
    if (1..=31).contains(&anchor_day) {
        Ok(())
    } else {
        Err(UsageError::InvalidAnchorDay(anchor_day))
    }
}

/// One billing period: `start` inclusive, `end` exclusive, both the local
/// midnight of a reset day in the workspace's time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsagePeriod {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl UsagePeriod {
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.start <= at && at < self.end
    }
}

/// The billing period that contains `now`.
///
/// A period starts at local midnight (in `tz`, the workspace's time zone) of
/// the reset day and ends where the next one starts. The reset day is the
/// anchor day, or the month's last day when the month is shorter (anchor 31
/// resets on 28 or 29 February and on 30 April). Periods are computed on local
/// calendar dates and only then turned into instants, so a daylight-saving
/// change inside a period makes it an hour longer or shorter instead of moving
/// its start off midnight.
///
/// Where local midnight does not exist (a clock change at midnight, as in
/// Cuba), the period starts at the first instant of that local day; where it
/// happens twice, at the first of the two.
///
/// Instants outside the years 1 to 9999 are refused: far from those limits no
/// date arithmetic below can leave the calendar's range.
pub fn usage_period(now: DateTime<Utc>, anchor_day: u32, tz: Tz) -> Result<UsagePeriod, UsageError> {
    validate_anchor_day(anchor_day)?;
    if !(1..=9999).contains(&now.year()) {
        return Err(UsageError::OutOfRange);
    }
    let local = now.with_timezone(&tz).date_naive();
    let this_month = month_index(local.year(), local.month());
    let mut month = if local.day() >= reset_day(this_month, anchor_day) {
        this_month
    } else {
        this_month - 1
    };
    // The calendar guess is right everywhere except where a clock change
    // crosses midnight backwards; stepping by whole periods keeps `now` inside
    // the answer in every case. Period starts strictly increase with the
    // month, so this ends after a step or two.
    loop {
        let start = period_start(month, anchor_day, tz);
        let end = period_start(month + 1, anchor_day, tz);
        if now < start {
            month -= 1;
        } else if now >= end {
            month += 1;
        } else {
            return Ok(UsagePeriod { start, end });
        }
    }
}

/// Months counted from year 0, so that "the month before" crosses year ends
/// without special cases.
fn month_index(year: i32, month: u32) -> i64 {
    i64::from(year) * 12 + i64::from(month) - 1
}

fn year_and_month(index: i64) -> (i32, u32) {
    let year = index.div_euclid(12) as i32;
    let month = index.rem_euclid(12) as u32 + 1;
    (year, month)
}

fn days_in_month(year: i32, month: u32) -> u32 {
    const DAYS: [u32; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if month == 2 && leap {
        29
    } else {
        DAYS[(month - 1) as usize]
    }
}

fn reset_day(month: i64, anchor_day: u32) -> u32 {
    let (year, month) = year_and_month(month);
    anchor_day.min(days_in_month(year, month))
}

fn period_start(month: i64, anchor_day: u32, tz: Tz) -> DateTime<Utc> {
    let day = reset_day(month, anchor_day);
    let (year, month) = year_and_month(month);
    // Valid by construction: the month is 1..=12 and the day within it.
    let date = NaiveDate::from_ymd_opt(year, month, day).unwrap_or(NaiveDate::MIN);
    start_of_local_day(date, tz)
}

/// The first instant whose local date in `tz` is `date`.
fn start_of_local_day(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let midnight = date.and_time(NaiveTime::MIN);
    if let Some(t) = tz.from_local_datetime(&midnight).earliest() {
        return t.with_timezone(&Utc);
    }
    first_instant_at_or_after(midnight, tz)
}

/// Local `target` fell into a clock-change gap: finds, to the second, the
/// first instant whose local time is at or after it (the end of the gap).
/// UTC offsets lie within ±14 h, so the instant lies within a day of `target`
/// read as UTC. The search takes local time to move forward across that span,
/// which holds unless two clock changes fall within a day of each other; even
/// then [`usage_period`] still returns the period that contains its instant.
fn first_instant_at_or_after(target: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    let at = |seconds: i64| DateTime::from_timestamp(seconds, 0).unwrap_or_else(|| target.and_utc());
    let reached = |seconds: i64| at(seconds).with_timezone(&tz).naive_local() >= target;
    // Whole seconds since the epoch: clock changes happen on whole seconds.
    let mut before = target.and_utc().timestamp() - 26 * 3600;
    let mut after = target.and_utc().timestamp() + 26 * 3600;
    while after - before > 1 {
        let mid = before + (after - before) / 2;
        if reached(mid) {
            after = mid;
        } else {
            before = mid;
        }
    }
    at(after)
}

/// Whether a business message counts as one conversation.
///
/// Every business-initiated message sent outside an open session counts. Inside
/// a session the contact opened, messages are free (the rule since November
/// 2024) — unless the workspace keeps the older rule, under which the first
/// business message of the session counts too.
pub fn counts_as_conversation(
    session_open: bool,
    first_business_message_in_session: bool,
    count_user_initiated: bool,
) -> bool {
    !session_open || (count_user_initiated && first_business_message_in_session)
}

/// Percentage of the limit used, rounded down. Not capped at 100: a limit
/// lowered below the usage shows as such. A limit of 0 allows nothing and reads
/// as 100 % (or more when something was used).
pub fn percent_used(used: u64, limit: u64) -> u32 {
    if limit == 0 {
        return 100;
    }
    let percent = u128::from(used) * 100 / u128::from(limit);
    u32::try_from(percent).unwrap_or(u32::MAX)
}

/// The thresholds to notify now: each one the usage has reached and that was
/// not notified yet in this period, in ascending order. Several may be
/// reached by one message when the limit is small.
pub fn thresholds_reached(used: u64, limit: u64, already_notified: &[u32]) -> Vec<u32> {
    let percent = percent_used(used, limit);
    THRESHOLDS
        .into_iter()
        .filter(|t| percent >= *t && !already_notified.contains(t))
        .collect()
}

/// Whether one more counted conversation may be sent: only while the usage is
/// below the limit, so the message that makes it reach 100 % is the last one.
pub fn quota_allows(used: u64, limit: u64) -> bool {
    used < limit
}

/// When the usage will reach the limit if it keeps the average rate it has had
/// since the period started (a straight line through the period start and
/// `now`), rounded up to the millisecond.
///
/// * `None` when nothing was used yet (no rate to extrapolate) or when the
///   line reaches the limit only at or after the period's end, where usage
///   resets anyway.
/// * `Some(now)` when the limit is already reached: the exact instant it was
///   reached is not known from two counters, and "now" is the honest answer
///   for "by when".
pub fn forecast_exhausted_at(period: &UsagePeriod, used: u64, limit: u64, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if used >= limit {
        return Some(now);
    }
    if used == 0 {
        return None;
    }
    let elapsed_ms = i128::from((now - period.start).num_milliseconds().max(0));
    let length_ms = i128::from((period.end - period.start).num_milliseconds());
    let (limit, used) = (i128::from(limit), i128::from(used));
    let to_limit_ms = (elapsed_ms * limit + used - 1) / used;
    if to_limit_ms >= length_ms {
        return None;
    }
    Some(period.start + Duration::milliseconds(to_limit_ms as i64))
}

#[cfg(test)]
mod tests {
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
}
