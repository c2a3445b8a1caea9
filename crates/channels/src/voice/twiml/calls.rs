//! The Calls API: `POST {base}/2010-04-01/Accounts/{AccountSid}/Calls.json` places a call,
//! `GET …/Calls/{Sid}.json` reads it back (to reconcile after a crash), `POST …/Calls/{Sid}.json`
//! with `Status=completed` hangs it up. Form encoded, HTTP basic auth with the account SID and
//! auth token.
//!
//! Transport failures of a create are split by whether the request can have reached the
//! provider ([`CallError`]). Reading and hanging up can be repeated harmlessly, so every
//! transport failure there is [`CallError::Unreachable`].

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};

use super::callbacks::{answered_by, provider_events, CallStatus};
use super::errors::{provider_error, CallError};
use recado_core::voice::call::{AnsweredBy, ProviderEvent};

pub const DEFAULT_BASE_URL: &str = "https://api.twilio.com";
/// Per-request timeout unless [`CallsClient::with_timeout`] sets another.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The call progress events the hub asks for, each a `StatusCallbackEvent` parameter.
pub const STATUS_CALLBACK_EVENTS: [&str; 4] = ["initiated", "ringing", "answered", "completed"];
/// The provider's bounds of `Timeout` (ring time), in seconds.
pub const MAX_RING_TIMEOUT_S: u32 = 600;

/// One provider account (channel config `base_url`, `account_sid`, `auth_token`).
#[derive(Clone, PartialEq, Eq)]
pub struct TwimlConfig {
    /// Scheme and host of the API, without a path (default [`DEFAULT_BASE_URL`]; Telnyx and
    /// SignalWire give their own).
    pub base_url: String,
    pub account_sid: String,
    pub auth_token: String,
}

impl TwimlConfig {
    /// An account on the default API host.
    pub fn new(account_sid: impl Into<String>, auth_token: impl Into<String>) -> Self {
        TwimlConfig {
            base_url: DEFAULT_BASE_URL.into(),
            account_sid: account_sid.into(),
            auth_token: auth_token.into(),
        }
    }

    /// The Calls resource of the account.
    pub fn calls_url(&self) -> String {
        format!(
            "{}/2010-04-01/Accounts/{}/Calls.json",
            self.base_url.trim_end_matches('/'),
            self.account_sid
        )
    }

    /// One call of the account.
    pub fn call_url(&self, sid: &CallSid) -> String {
        format!(
            "{}/2010-04-01/Accounts/{}/Calls/{}.json",
            self.base_url.trim_end_matches('/'),
            self.account_sid,
            sid.0
        )
    }
}

/// The auth token never appears in logs or panics.
impl std::fmt::Debug for TwimlConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwimlConfig")
            .field("base_url", &self.base_url)
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"<redacted>")
            .finish()
    }
}

/// The provider's id of a call (`CallSid`, `CA` + 32 hex digits at Twilio).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CallSid(pub String);

impl CallSid {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for CallSid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A call to place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRequest {
    /// The contact's number, E.164.
    pub to: String,
    /// The caller id, E.164 (a number of the account or a verified caller id).
    pub from: String,
    /// Where the provider fetches the first document once the call is answered; carries the
    /// hub's call id (and attempt), so every later request names the call.
    pub url: String,
    /// Where the provider posts the call's progress; carries the hub's call id too, which is
    /// how a call whose 201 was lost is recognised.
    pub status_callback: String,
    /// Ring time in seconds, clamped to the provider's 1–600.
    pub timeout_s: u32,
    /// Answering-machine detection (`MachineDetection=Enable`): the document request and the
    /// callbacks then carry `AnsweredBy`.
    pub machine_detection: bool,
    /// The longest call in seconds (`TimeLimit`), if any.
    pub time_limit_s: Option<u32>,
}

/// The exact form of a create: `To`, `From`, `Url`, `Method=POST`, `StatusCallback`,
/// `StatusCallbackMethod=POST`, one `StatusCallbackEvent` per event of
/// [`STATUS_CALLBACK_EVENTS`], `Timeout`, then `MachineDetection=Enable` and `TimeLimit` when
/// asked for.
pub fn create_call_form(request: &CallRequest) -> Vec<(String, String)> {
    let mut form = vec![
        ("To".to_string(), request.to.clone()),
        ("From".to_string(), request.from.clone()),
        ("Url".to_string(), request.url.clone()),
        ("Method".to_string(), "POST".to_string()),
        ("StatusCallback".to_string(), request.status_callback.clone()),
        ("StatusCallbackMethod".to_string(), "POST".to_string()),
    ];
    for event in STATUS_CALLBACK_EVENTS {
        form.push(("StatusCallbackEvent".to_string(), event.to_string()));
    }
    form.push((
        "Timeout".to_string(),
        request.timeout_s.clamp(1, MAX_RING_TIMEOUT_S).to_string(),
    ));
    if request.machine_detection {
        form.push(("MachineDetection".to_string(), "Enable".to_string()));
    }
    if let Some(limit) = request.time_limit_s {
        form.push(("TimeLimit".to_string(), limit.max(1).to_string()));
    }
    form
}

/// The form that hangs a call up (`Status=completed`: ends it whether ringing or answered).
pub fn hang_up_form() -> Vec<(String, String)> {
    vec![("Status".to_string(), "completed".to_string())]
}

/// A call as the provider knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallInfo {
    pub sid: CallSid,
    pub status: CallStatus,
    /// `answered_by`, when answering-machine detection ran.
    pub answered_by: Option<AnsweredBy>,
    /// `duration` in seconds, once the call is over.
    pub duration_s: Option<u32>,
}

impl CallInfo {
    /// What the provider's record says, as the events a status callback of the same status
    /// would carry: feed them to the call's state machine to reconcile a call whose callbacks
    /// were lost.
    pub fn events(&self) -> Vec<ProviderEvent> {
        provider_events(self.status, self.answered_by, self.duration_s, None)
    }
}

/// One client per channel; cheap to clone.
#[derive(Clone, Debug)]
pub struct CallsClient {
    config: TwimlConfig,
    http: reqwest::Client,
    timeout: Duration,
}

impl CallsClient {
    pub fn new(config: TwimlConfig, http: reqwest::Client) -> Self {
        CallsClient {
            config,
            http,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Per-request timeout (connect, send and read together).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn config(&self) -> &TwimlConfig {
        &self.config
    }

    /// Places a call. `Ok` is the provider's acceptance (`ProviderEvent::Accepted`, the
    /// call is `VOICE_SENT`); see [`CallError`] for the rest.
    pub async fn create_call(&self, request: &CallRequest) -> Result<CallSid, CallError> {
        let response = self
            .http
            .post(self.config.calls_url())
            .basic_auth(&self.config.account_sid, Some(&self.config.auth_token))
            .form(&create_call_form(request))
            .timeout(self.timeout)
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status();
        let retry_after_ms = retry_after_ms(response.headers());
        if !status.is_success() {
            // A refusal whose body cannot be read is still a definite refusal.
            let bytes = response.bytes().await.unwrap_or_default();
            return Err(provider_error(status.as_u16(), &bytes, retry_after_ms));
        }
        // From here on the provider has taken something: nothing below is safe to repeat.
        let bytes = response.bytes().await.map_err(transport_error)?;
        let answer: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| CallError::Uncertain(format!("unreadable answer to an accepted call: {e}")))?;
        let sid = answer["sid"]
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| CallError::Uncertain("the accepted call has no `sid`".into()))?;
        Ok(CallSid(sid.to_string()))
    }

    /// Reads a call back: its status, who answered, how long it lasted.
    pub async fn fetch_call(&self, sid: &CallSid) -> Result<CallInfo, CallError> {
        let request = self.http.get(self.config.call_url(sid));
        let answer = self.call_resource(request).await?;
        call_info(sid, &answer)
    }

    /// Hangs a call up. A call that is already over (unknown to the provider, or in a state
    /// that cannot change) is not an error: it is not up, which is what was asked.
    pub async fn hang_up(&self, sid: &CallSid) -> Result<(), CallError> {
        let request = self.http.post(self.config.call_url(sid)).form(&hang_up_form());
        match self.call_resource(request).await {
            Ok(_) => Ok(()),
            Err(CallError::Refused { code, .. }) if code == "not_found" || code == "invalid_call_state" => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn call_resource(&self, request: reqwest::RequestBuilder) -> Result<serde_json::Value, CallError> {
        let unreachable = |e: reqwest::Error| CallError::Unreachable(error_chain(&e.without_url()));
        let response = request
            .basic_auth(&self.config.account_sid, Some(&self.config.auth_token))
            .timeout(self.timeout)
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status();
        let retry_after_ms = retry_after_ms(response.headers());
        let bytes = response.bytes().await.map_err(unreachable)?;
        if !status.is_success() {
            let code = if status.as_u16() == 404 && bytes.is_empty() {
                br#"{"code":20404,"message":"The requested resource was not found"}"#.to_vec()
            } else {
                bytes.to_vec()
            };
            return Err(provider_error(status.as_u16(), &code, retry_after_ms));
        }
        serde_json::from_slice(&bytes).map_err(|e| CallError::Unreachable(format!("unreadable call resource: {e}")))
    }
}

fn call_info(sid: &CallSid, answer: &serde_json::Value) -> Result<CallInfo, CallError> {
    let raw_status = answer["status"].as_str().unwrap_or_default();
    let status = CallStatus::parse(raw_status)
        .ok_or_else(|| CallError::Unreachable(format!("unknown call status `{raw_status}`")))?;
    // `duration` is a string in the provider's answers; some compatible ones give a number.
    let duration_s = match &answer["duration"] {
        serde_json::Value::String(s) => s.trim().parse().ok(),
        serde_json::Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        _ => None,
    };
    Ok(CallInfo {
        sid: CallSid(answer["sid"].as_str().unwrap_or(&sid.0).to_string()),
        status,
        answered_by: answer["answered_by"]
            .as_str()
            .filter(|s| !s.trim().is_empty())
            .map(answered_by),
        duration_s,
    })
}

/// Connection-stage failures never reached the provider; everything later might have.
fn transport_error(e: reqwest::Error) -> CallError {
    let e = e.without_url();
    if e.is_connect() || e.is_builder() {
        return CallError::Unreachable(error_chain(&e));
    }
    CallError::Uncertain(error_chain(&e))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// `Retry-After` as delay-seconds or as an HTTP date, in milliseconds from now.
fn retry_after_ms(headers: &HeaderMap) -> Option<i64> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<i64>() {
        return Some(seconds.max(0).saturating_mul(1000));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let ms = (at.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_milliseconds();
    Some(ms.max(0))
}
