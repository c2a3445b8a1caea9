//! What a Twilio-style error means for the message.
//!
//! The HTTP status decides whether the provider may still take the message (429 and 5xx: try
//! again later); every other refusal is permanent and gets a stable name the server records,
//! so that it does not depend on the provider's numbering.

use crate::sms::SmsSendError;

/// Stable reason for a recipient who texted STOP to the provider's number (error 21610): the
/// server records a provider opt-out for the contact.
pub const PROVIDER_OPT_OUT: &str = "provider_opt_out";

/// Stable name of a permanent refusal with provider error `code`; an unknown code is kept as
/// its number, and a refusal without a code is named after the HTTP status (`http_400`).
pub fn rejection_code(code: Option<i64>, http_status: u16) -> String {
    let name = match code {
        Some(21610) => PROVIDER_OPT_OUT,
        // Invalid `To`, not a mobile number, unroutable, region not enabled, landline.
        Some(21211 | 21614 | 21612 | 21408 | 21265 | 21421) => "invalid_recipient",
        // Invalid `From`, not owned by the account, not SMS-capable, alphanumeric id refused.
        Some(21212 | 21606 | 21659 | 21660 | 21603 | 21604 | 21661) => "invalid_sender",
        // Body missing or too long.
        Some(21602 | 21617 | 21619) => "invalid_body",
        // Wrong account SID or token, account suspended.
        Some(20003 | 20005 | 20404) => "auth_failed",
        Some(code) => return code.to_string(),
        None => return format!("http_{http_status}"),
    };
    name.to_string()
}

/// Turns a provider error answer into the caller's decision.
pub(crate) fn provider_error(http_status: u16, body: &[u8], retry_after_ms: Option<i64>) -> SmsSendError {
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
        return SmsSendError::RetryLater {
            message,
            retry_after_ms,
        };
    }
    SmsSendError::Rejected {
        code: rejection_code(code, http_status),
        message,
    }
}
