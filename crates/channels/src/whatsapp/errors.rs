//! What to do with a WhatsApp error code, whether it came back on the send request or later
//! in a `failed` status webhook.
//!
//! The rule is that nothing is retried blindly: only codes that say "too fast" or "the
//! service had a problem" are [`ErrorAction::RetryLater`]; every code this table does not
//! know is permanent unless the HTTP status itself says 429 or 5xx.

use serde::Serialize;

/// The decision for one error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ErrorAction {
    /// The message was refused and will not be sent as it is; record `NOT_SENT` with the
    /// reason (outside the session window, template problems).
    NotSent { reason: &'static str },
    /// The contact stopped marketing messages from this business (131050): unsubscribe them
    /// with source `provider`.
    OptedOut,
    /// Throughput, pair-rate or service trouble: retry with back-off (honour `Retry-After`).
    RetryLater,
    /// Will not succeed by retrying: the message ends `failed` with the reason.
    Permanent { reason: &'static str },
}

/// Reason given for outside-the-window refusals; the same code the API uses.
pub const OUTSIDE_SESSION_WINDOW: &str = "outside_session_window";

/// Maps a provider error `code` (and the HTTP status, when the error came back on a request)
/// to an action. The code decides when it is known; Meta asks integrations to key on codes,
/// and some codes arrive with more than one HTTP status (131056 as 400 or 429).
pub fn classify(code: i64, http_status: Option<u16>) -> ErrorAction {
    use ErrorAction::{OptedOut, RetryLater};
    match code {
        // 470 is the On-Premises API's spelling of the same rule, still used by some BSPs.
        131047 | 470 => not_sent(OUTSIDE_SESSION_WINDOW),
        131050 => OptedOut,
        // Cloud API throughput, per-recipient pair rate, generic/unknown service errors,
        // service unavailable, and the app/WABA-level Graph rate limits.
        130429 | 131056 | 131000 | 1 | 2 | 4 | 80007 | 613 => RetryLater,
        132000..=132999 => not_sent(template_reason(code)),
        131026 => permanent("undeliverable"),
        131051 => permanent("unsupported_message_type"),
        // Spam and engagement limits are about the business's quality: hammering makes it worse.
        131048 => permanent("spam_rate_limit"),
        131049 => permanent("ecosystem_engagement_limit"),
        131008 | 131009 | 100 => permanent("invalid_parameter"),
        131052 => permanent("media_download_error"),
        131053 => permanent("media_upload_error"),
        131030 => permanent("recipient_not_allowed"),
        131031 => permanent("account_locked"),
        368 => permanent("policy_violation_block"),
        130497 => permanent("country_restricted"),
        133010 => permanent("phone_number_not_registered"),
        // Needs a new access token, which a retry does not bring.
        0 | 190 => permanent("access_token_invalid"),
        _ => match http_status {
            Some(429) | Some(500..=599) => RetryLater,
            _ => permanent("provider_error"),
        },
    }
}

/// Template errors (132xxx) are refusals of this send: the template or its parameters must
/// change first, so they end `NOT_SENT` with a reason naming the problem.
fn template_reason(code: i64) -> &'static str {
    match code {
        132000 => "template_parameters",
        132001 => "template_not_found",
        132005 => "template_text_too_long",
        132007 => "template_format_policy",
        132012 => "template_parameter_format",
        132015 => "template_paused",
        132016 => "template_disabled",
        _ => "template_error",
    }
}

fn not_sent(reason: &'static str) -> ErrorAction {
    ErrorAction::NotSent { reason }
}

fn permanent(reason: &'static str) -> ErrorAction {
    ErrorAction::Permanent { reason }
}
