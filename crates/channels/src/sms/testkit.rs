//! For the tests of this crate and of the crates that use it: provider callbacks signed like
//! the provider signs them, and [`TestSmsc`], a launcher for the SMSC of the interop tests
//! (`tests/smsc/`, built on the npm `smpp` package, so the ESME meets code that is not its own).

mod smsc;

pub use smsc::{TestSmsc, SMSC_PASSWORD, SMSC_SYSTEM_ID};

use super::http::signature;

/// A status callback form for `message_sid` in `status`, with `ErrorCode` when given.
pub fn status_callback_form(message_sid: &str, status: &str, error_code: Option<&str>) -> Vec<(String, String)> {
    let mut form = vec![
        ("MessageSid".to_string(), message_sid.to_string()),
        ("SmsSid".to_string(), message_sid.to_string()),
        ("MessageStatus".to_string(), status.to_string()),
        ("SmsStatus".to_string(), status.to_string()),
        (
            "AccountSid".to_string(),
            "AC00000000000000000000000000000000".to_string(),
        ),
        ("ApiVersion".to_string(), "2010-04-01".to_string()),
    ];
    if let Some(code) = error_code {
        form.push(("ErrorCode".to_string(), code.to_string()));
    }
    form
}

/// An inbound message form from `from` to `to`.
pub fn inbound_form(message_sid: &str, from: &str, to: &str, body: &str) -> Vec<(String, String)> {
    [
        ("ToCountry", "US"),
        ("SmsMessageSid", message_sid),
        ("NumMedia", "0"),
        ("SmsSid", message_sid),
        ("SmsStatus", "received"),
        ("Body", body),
        ("To", to),
        ("NumSegments", "1"),
        ("MessageSid", message_sid),
        ("AccountSid", "AC00000000000000000000000000000000"),
        ("From", from),
        ("ApiVersion", "2010-04-01"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// `(form body, X-Twilio-Signature)` for posting `form` to `url`.
pub fn signed_form(auth_token: &str, url: &str, form: &[(String, String)]) -> (String, String) {
    let body = form
        .iter()
        .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    (body, signature(auth_token, url, form))
}

/// `application/x-www-form-urlencoded` escaping (space as `+`).
fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
