//! The forms of the provider's requests about a call, as it posts them: status callbacks,
//! `<Gather>` and `<Dial>` actions.

use super::{API_VERSION, TEST_ACCOUNT_SID};

/// A status callback form as the provider posts it, with `extra` parameters after the usual
/// ones (`CallDuration`, `AnsweredBy`, `SipResponseCode`, …).
pub fn status_callback_form(call_sid: &str, status: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut form = call_params(TEST_ACCOUNT_SID, call_sid, "+15550001111", "+5511900000001", status);
    form.push(("CallbackSource".into(), "call-progress-events".into()));
    form.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    form
}

/// A `<Gather>` action form with `digits` (empty for silence).
pub fn gather_form(call_sid: &str, digits: &str) -> Vec<(String, String)> {
    let mut form = call_params(
        TEST_ACCOUNT_SID,
        call_sid,
        "+15550001111",
        "+5511900000001",
        "in-progress",
    );
    form.push(("Digits".into(), digits.into()));
    form
}

/// A `<Dial>` action form with `DialCallStatus=dial_status`.
pub fn dial_action_form(call_sid: &str, dial_status: &str) -> Vec<(String, String)> {
    let mut form = call_params(
        TEST_ACCOUNT_SID,
        call_sid,
        "+15550001111",
        "+5511900000001",
        "in-progress",
    );
    form.push(("DialCallStatus".into(), dial_status.into()));
    form.push(("DialCallSid".into(), new_sid()));
    form.push(("DialCallDuration".into(), "42".into()));
    form
}

/// The parameters of every request about a call.
pub(super) fn call_params(
    account_sid: &str,
    call_sid: &str,
    from: &str,
    to: &str,
    status: &str,
) -> Vec<(String, String)> {
    [
        ("AccountSid", account_sid),
        ("ApiVersion", API_VERSION),
        ("CallSid", call_sid),
        ("CallStatus", status),
        ("Called", to),
        ("Caller", from),
        ("Direction", "outbound-api"),
        ("From", from),
        ("To", to),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// A fresh call sid: `CA` and 32 hex digits.
pub(super) fn new_sid() -> String {
    format!("CA{:032x}", rand::random::<u128>())
}
