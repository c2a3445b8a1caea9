//! Slows down password guessing: after a few failed sign-ins for one e-mail
//! address, further attempts for it are refused until the window ends. The
//! count lives in the database, so every node shares it; argon2 already makes
//! every guess expensive, this caps how many one address can take.

use recado_store::workspaces::SignInFailures;
use recado_store::Store;

/// Failed attempts allowed per address within one window.
pub const MAX_FAILURES: i64 = 5;
/// How long failures are remembered, in milliseconds.
pub const WINDOW_MS: i64 = 15 * 60 * 1000;

/// Milliseconds until an address with `failures` may try again, or `None`
/// when it may now.
pub fn wait_ms(failures: Option<SignInFailures>, now: i64) -> Option<i64> {
    let f = failures?;
    let ends = f.window_start + WINDOW_MS;
    (f.count >= MAX_FAILURES && now < ends).then_some(ends - now)
}

/// The failures after one more: counted in the current window, or the first
/// of a new one once the window is over.
pub fn after_failure(failures: Option<SignInFailures>, now: i64) -> SignInFailures {
    match failures {
        Some(f) if now < f.window_start + WINDOW_MS => SignInFailures {
            count: f.count + 1,
            window_start: f.window_start,
        },
        _ => SignInFailures {
            count: 1,
            window_start: now,
        },
    }
}

/// Milliseconds until `email` may try again, or `None` when it may now.
pub async fn blocked_for(store: &Store, email: &str, now: i64) -> recado_store::Result<Option<i64>> {
    Ok(wait_ms(store.sign_in_failures(email).await?, now))
}

pub async fn record_failure(store: &Store, email: &str, now: i64) -> recado_store::Result<()> {
    store
        .record_sign_in_failure(email, |current| after_failure(current, now))
        .await
}

/// A successful sign-in clears the address's failures.
pub async fn record_success(store: &Store, email: &str) -> recado_store::Result<()> {
    store.clear_sign_in_failures(email).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_blocked_after_five_failures_until_the_window_ends() {
        let mut f = None;
        for i in 0..MAX_FAILURES {
            assert_eq!(wait_ms(f, 1_000 + i), None);
            f = Some(after_failure(f, 1_000 + i));
        }
        assert_eq!(wait_ms(f, 2_000), Some(WINDOW_MS - 1_000));
        // Once the window is over, the address may try again, with a fresh count.
        assert_eq!(wait_ms(f, 1_000 + WINDOW_MS), None);
        let fresh = after_failure(f, 1_000 + WINDOW_MS);
        assert_eq!(fresh.count, 1);
        assert_eq!(wait_ms(Some(fresh), 2_000 + WINDOW_MS), None);
    }
}
