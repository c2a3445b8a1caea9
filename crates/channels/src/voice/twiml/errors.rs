//! What a failed Calls API request means for the call.
//!
//! The categories are the SMS client's (`SmsSendError`), split by what the hub may safely do
//! next: a refusal (any 4xx but 429) is final and the call is `VOICE_NOT_SENT`; throttling
//! (429, error 20429) and provider failures (5xx) certainly placed no call and may be retried
//! after `Retry-After`; a connection that never opened placed no call either; anything after
//! the request was written (a timeout, a dropped connection, an unreadable 201) may have
//! placed one, so it is never retried blindly but reconciled from the status callbacks, which
//! name the hub's call id in their URL.

use recado_core::voice::call::ProviderEvent;

/// Why a Calls API request did not (certainly) succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The provider refused the request for good: never repeat it as it is. For a new call this
    /// is `VOICE_NOT_SENT` ([`ProviderEvent::Refused`]). `code` is a stable name where one is
    /// known ([`refusal_code`]), otherwise the provider's own number; `http_status` is the
    /// answer's status.
    #[error("refused by the provider ({code}): {message}")]
    Refused {
        code: String,
        message: String,
        http_status: u16,
    },
    /// Throttled or a provider-side failure: no call was placed; try again after
    /// `retry_after_ms` (when the provider said) or a back-off.
    #[error("provider asked to retry later: {message}")]
    RetryLater {
        message: String,
        retry_after_ms: Option<i64>,
    },
    /// The connection failed before the request left: safe to repeat.
    #[error("provider unreachable: {0}")]
    Unreachable(String),
    /// The provider may have placed the call (timeout after the request was written, a
    /// connection lost while waiting, an unreadable 201): never dial again blindly; wait for
    /// the status callbacks of the call's URL or the hub's timer.
    #[error("outcome unknown, the provider may have placed the call: {0}")]
    Uncertain(String),
}

impl CallError {
    /// Whether repeating the request cannot place a second call.
    pub fn is_safe_to_retry(&self) -> bool {
        matches!(self, CallError::RetryLater { .. } | CallError::Unreachable(_))
    }

    /// What the call's state machine is told about a failed create: a refusal is
    /// [`ProviderEvent::Refused`]; the other outcomes report nothing (the hub retries, or waits
    /// for callbacks and its timer).
    pub fn provider_event(&self) -> Option<ProviderEvent> {
        matches!(self, CallError::Refused { .. }).then_some(ProviderEvent::Refused)
    }

    /// The refusal's stable code, if this is a refusal.
    pub fn refusal(&self) -> Option<&str> {
        match self {
            CallError::Refused { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// Stable name of a refusal with provider error `code`; an unknown code is kept as its number,
/// and a refusal without a code is named after the HTTP status (`http_400`).
pub fn refusal_code(code: Option<i64>, http_status: u16) -> String {
    let name = match code {
        // Invalid or unreachable `To`, not a possible phone number, bad format.
        Some(21211 | 21214 | 21217 | 13223 | 13224 | 21201) => "invalid_recipient",
        // The account may not call there: geographic permissions, premium or blocked numbers,
        // unverified destination of a trial account.
        Some(21215 | 21216 | 21219) => "destination_not_allowed",
        // Caller id missing, invalid or not the account's.
        Some(21210 | 21212 | 21213) => "invalid_caller_id",
        // Bad `Url`, `Timeout` or another request parameter.
        Some(21205 | 21208 | 21218) => "invalid_request",
        // Wrong account SID or token, account suspended.
        Some(20003 | 20005) => "auth_failed",
        Some(20404) => "not_found",
        // The call is not in a state that allows the change (already over).
        Some(21220) => "invalid_call_state",
        Some(code) => return code.to_string(),
        None => return format!("http_{http_status}"),
    };
    name.to_string()
}

/// Turns a provider error answer into the caller's decision.
pub(crate) fn provider_error(http_status: u16, body: &[u8], retry_after_ms: Option<i64>) -> CallError {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or(serde_json::Value::Null);
    let code = v["code"]
        .as_i64()
        .or_else(|| v["code"].as_str().and_then(|c| c.parse().ok()));
    let text = v["message"].as_str().map(str::to_string).unwrap_or_else(|| {
        let raw: String = String::from_utf8_lossy(body).chars().take(200).collect();
        if raw.trim().is_empty() {
            format!("HTTP {http_status}")
        } else {
            raw
        }
    });
    let message = match code {
        Some(code) => format!("{code}: {text}"),
        None => text,
    };
    // 20429 is the provider's own "too many requests", whatever status carries it.
    if http_status == 429 || http_status >= 500 || code == Some(20429) {
        return CallError::RetryLater {
            message,
            retry_after_ms,
        };
    }
    CallError::Refused {
        code: refusal_code(code, http_status),
        message,
        http_status,
    }
}
