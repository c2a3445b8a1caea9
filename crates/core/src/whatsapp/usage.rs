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

/// Percentage of the limit used to one decimal, as text (`37.5`), rounded
/// down like [`percent_used`]; a limit of 0 reads as `100.0`.
pub fn percent_used_text(used: u64, limit: u64) -> String {
    if limit == 0 {
        return "100.0".into();
    }
    let per_mille = u128::from(used) * 1000 / u128::from(limit);
    format!("{}.{}", per_mille / 10, per_mille % 10)
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
mod percent_text_tests {
    use super::percent_used_text;

    #[test]
    fn percent_used_text_keeps_one_decimal_rounded_down() {
        assert_eq!(percent_used_text(750, 2000), "37.5");
        assert_eq!(percent_used_text(750, 1000), "75.0");
        assert_eq!(percent_used_text(1, 3), "33.3");
        assert_eq!(percent_used_text(5, 0), "100.0");
    }
}
