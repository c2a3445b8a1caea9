//! Slows down password guessing: after a few failed sign-ins for one e-mail
//! address, further attempts for it are refused until the window ends. The
//! count lives in the process (each node keeps its own); argon2 already makes
//! every guess expensive, this caps how many one address can take.

use std::collections::HashMap;
use std::sync::Mutex;

/// Failed attempts allowed per address within one window.
pub const MAX_FAILURES: u32 = 5;
/// How long failures are remembered, in milliseconds.
pub const WINDOW_MS: i64 = 15 * 60 * 1000;

#[derive(Default)]
pub struct SignInThrottle {
    failures: Mutex<HashMap<String, Failures>>,
}

#[derive(Clone, Copy)]
struct Failures {
    count: u32,
    window_start: i64,
}

impl SignInThrottle {
    /// Milliseconds until `email` may try again, or `None` when it may now.
    pub fn blocked_for(&self, email: &str, now: i64) -> Option<i64> {
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let f = map.get(email)?;
        let ends = f.window_start + WINDOW_MS;
        (f.count >= MAX_FAILURES && now < ends).then_some(ends - now)
    }

    pub fn record_failure(&self, email: &str, now: i64) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        // Forget expired windows so the map cannot grow without bound.
        if map.len() > 10_000 {
            map.retain(|_, f| now < f.window_start + WINDOW_MS);
        }
        let f = map.entry(email.to_string()).or_insert(Failures {
            count: 0,
            window_start: now,
        });
        if now >= f.window_start + WINDOW_MS {
            *f = Failures {
                count: 0,
                window_start: now,
            };
        }
        f.count += 1;
    }

    /// A successful sign-in clears the address's failures.
    pub fn record_success(&self, email: &str) {
        self.failures.lock().unwrap_or_else(|e| e.into_inner()).remove(email);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_blocked_after_five_failures_until_the_window_ends() {
        let t = SignInThrottle::default();
        for i in 0..MAX_FAILURES {
            assert_eq!(t.blocked_for("ana@example.com", 1_000 + i as i64), None);
            t.record_failure("ana@example.com", 1_000 + i as i64);
        }
        assert_eq!(t.blocked_for("ana@example.com", 2_000), Some(WINDOW_MS - 1_000));
        // Other addresses are not affected.
        assert_eq!(t.blocked_for("bo@example.com", 2_000), None);
        // Once the window is over, the address may try again, with a fresh count.
        assert_eq!(t.blocked_for("ana@example.com", 1_000 + WINDOW_MS), None);
        t.record_failure("ana@example.com", 1_000 + WINDOW_MS);
        assert_eq!(t.blocked_for("ana@example.com", 2_000 + WINDOW_MS), None);
    }

    #[test]
    fn a_successful_sign_in_clears_the_failures_of_its_address() {
        let t = SignInThrottle::default();
        for _ in 0..MAX_FAILURES - 1 {
            t.record_failure("ana@example.com", 0);
        }
        t.record_success("ana@example.com");
        t.record_failure("ana@example.com", 0);
        assert_eq!(t.blocked_for("ana@example.com", 0), None);
    }
}
