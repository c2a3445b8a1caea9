//! Time as an injected dependency. Rules never call `Utc::now()` themselves, so
//! tests can move time across session windows, billing periods and leases.

use chrono::{DateTime, Duration, TimeZone, Utc};
use std::sync::{Arc, Mutex};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;

    /// Milliseconds since the Unix epoch: the form times are stored in.
    fn now_ms(&self) -> i64 {
        self.now().timestamp_millis()
    }
}

/// The real wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to; shared between the code under test and
/// the test itself.
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        ManualClock(Arc::new(Mutex::new(start)))
    }

    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().expect("clock poisoned");
        *t += by;
    }

    pub fn set(&self, to: DateTime<Utc>) {
        *self.0.lock().expect("clock poisoned") = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock poisoned")
    }
}

/// Milliseconds since the epoch to a UTC time (out-of-range values clamp to the epoch).
pub fn from_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// RFC 3339 UTC with millisecond precision, the API's time format.
pub fn to_rfc3339(ms: i64) -> String {
    from_ms(ms).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let start = Utc.with_ymd_and_hms(2026, 2, 28, 23, 0, 0).unwrap();
        let clock = ManualClock::new(start);
        assert_eq!(clock.now(), start);
        clock.advance(Duration::hours(2));
        assert_eq!(clock.now(), Utc.with_ymd_and_hms(2026, 3, 1, 1, 0, 0).unwrap());
    }

    #[test]
    fn stored_milliseconds_round_trip_to_rfc3339_utc() {
        let t = Utc.with_ymd_and_hms(2026, 11, 21, 10, 30, 0).unwrap();
        assert_eq!(to_rfc3339(t.timestamp_millis()), "2026-11-21T10:30:00.000Z");
        assert_eq!(from_ms(t.timestamp_millis()), t);
    }
}
