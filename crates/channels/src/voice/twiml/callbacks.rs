//! Form posts from the provider about a call: status callbacks, the document request (the
//! call's `Url` and `<Redirect>`s), `<Gather>` actions and `<Dial>` actions.
//!
//! Check the signature ([`verify_signature`](super::verify_signature)) over every parameter as
//! received — and the full URL, query included — before parsing: providers add parameters
//! without notice, so nothing here filters them. Every post may be delivered more than once
//! and status callbacks in any order; the call's state machine (`recado_core::voice::call`)
//! takes repeated and late reports without effect.
//!
//! How statuses become [`ProviderEvent`]s ([`provider_events`]):
//!
//! | `CallStatus` | events |
//! |---|---|
//! | `queued`, `initiated` | `Accepted` |
//! | `ringing` | `Ringing` |
//! | `in-progress`, `answered` | `Answered { answered_by }` |
//! | `completed` | `HungUp`, preceded by `Answered` when the call lasted (`CallDuration` > 0) or `AnsweredBy` is given |
//! | `busy` | `Busy` |
//! | `no-answer` | `NoAnswer` |
//! | `failed` | by `SipResponseCode`: 603 `Rejected`; 404/410/484/485/604 `Failed{InvalidNumber}`; 408/480 `Failed{Unreachable}`; 500/502/503/504 `Failed{Congestion}`; else `Failed{Other}` |
//! | `canceled` | `Failed { Cancelled }` |
//!
//! `completed` without an answer: some providers end an unanswered call with `completed`
//! (duration 0) instead of `no-answer`. It is reported as a plain `HungUp`, which the call's
//! state machine reads as no answer when the call rang and as failed when it did not. A
//! `completed` that lasted also proves the answer, so a lost `in-progress` callback does not
//! turn an answered call into an unanswered one (a repeated `Answered` changes nothing).

use recado_core::voice::call::{AnsweredBy, Failure, ProviderEvent};
use recado_core::voice::Key;

/// Why a form post cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("missing parameter `{0}`")]
    Missing(&'static str),
    #[error("unknown call status `{0}`")]
    UnknownStatus(String),
    #[error("unknown dial status `{0}`")]
    UnknownDialStatus(String),
    /// `Digits` is not one keypad symbol (`0`–`9`, `*`, `#`).
    #[error("`{0}` is not one phone key")]
    NotAKey(String),
    #[error("parameter `{name}` is not a number: `{value}`")]
    NotANumber { name: &'static str, value: String },
}

/// A call's status as the provider names it (`CallStatus`, the Call resource's `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallStatus {
    Queued,
    Initiated,
    Ringing,
    InProgress,
    /// Not Twilio's (it says `in-progress`), but some compatible providers post it.
    Answered,
    Completed,
    Busy,
    NoAnswer,
    Failed,
    Canceled,
}

impl CallStatus {
    /// The status for its name, case-insensitively (`no_answer` and `cancelled` too).
    pub fn parse(name: &str) -> Option<CallStatus> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "queued" => CallStatus::Queued,
            "initiated" => CallStatus::Initiated,
            "ringing" => CallStatus::Ringing,
            "in-progress" | "in_progress" => CallStatus::InProgress,
            "answered" => CallStatus::Answered,
            "completed" => CallStatus::Completed,
            "busy" => CallStatus::Busy,
            "no-answer" | "no_answer" => CallStatus::NoAnswer,
            "failed" => CallStatus::Failed,
            "canceled" | "cancelled" => CallStatus::Canceled,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CallStatus::Queued => "queued",
            CallStatus::Initiated => "initiated",
            CallStatus::Ringing => "ringing",
            CallStatus::InProgress => "in-progress",
            CallStatus::Answered => "answered",
            CallStatus::Completed => "completed",
            CallStatus::Busy => "busy",
            CallStatus::NoAnswer => "no-answer",
            CallStatus::Failed => "failed",
            CallStatus::Canceled => "canceled",
        }
    }

    /// Whether the call is over (no later status follows).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            CallStatus::Completed | CallStatus::Busy | CallStatus::NoAnswer | CallStatus::Failed | CallStatus::Canceled
        )
    }
}

impl std::fmt::Display for CallStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who answered, from `AnsweredBy`: `human`; `machine_start`, `machine_end_beep`,
/// `machine_end_silence`, `machine_end_other` and `fax` are machines; `unknown` and anything
/// else is unknown.
pub fn answered_by(raw: &str) -> AnsweredBy {
    let raw = raw.trim().to_ascii_lowercase();
    if raw == "human" {
        AnsweredBy::Human
    } else if raw.starts_with("machine") || raw == "fax" {
        AnsweredBy::Machine
    } else {
        AnsweredBy::Unknown
    }
}

/// The events a report of `status` stands for (this module's table). `answered_by` is the
/// posted `AnsweredBy` (absent without answering-machine detection: `unknown`), `duration_s`
/// the `CallDuration`, `sip_response_code` the `SipResponseCode`.
pub fn provider_events(
    status: CallStatus,
    answered_by: Option<AnsweredBy>,
    duration_s: Option<u32>,
    sip_response_code: Option<u16>,
) -> Vec<ProviderEvent> {
    let answered = ProviderEvent::Answered {
        answered_by: answered_by.unwrap_or(AnsweredBy::Unknown),
    };
    match status {
        CallStatus::Queued | CallStatus::Initiated => vec![ProviderEvent::Accepted],
        CallStatus::Ringing => vec![ProviderEvent::Ringing],
        CallStatus::InProgress | CallStatus::Answered => vec![answered],
        CallStatus::Completed => {
            if duration_s.is_some_and(|d| d > 0) || answered_by.is_some() {
                vec![answered, ProviderEvent::HungUp]
            } else {
                vec![ProviderEvent::HungUp]
            }
        }
        CallStatus::Busy => vec![ProviderEvent::Busy],
        CallStatus::NoAnswer => vec![ProviderEvent::NoAnswer],
        CallStatus::Failed => vec![failed_by_sip(sip_response_code)],
        CallStatus::Canceled => vec![ProviderEvent::Failed {
            failure: Failure::Cancelled,
        }],
    }
}

/// A `failed` call by the SIP final response the provider got.
fn failed_by_sip(code: Option<u16>) -> ProviderEvent {
    let failure = match code {
        Some(603) => return ProviderEvent::Rejected,
        Some(404 | 410 | 484 | 485 | 604) => Failure::InvalidNumber,
        Some(408 | 480) => Failure::Unreachable,
        Some(500 | 502 | 503 | 504) => Failure::Congestion,
        _ => Failure::Other,
    };
    ProviderEvent::Failed { failure }
}

/// A status callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCallback {
    pub call_sid: String,
    pub status: CallStatus,
    /// `AnsweredBy`, posted when answering-machine detection is on.
    pub answered_by: Option<AnsweredBy>,
    /// `AnsweredBy` as posted (`machine_end_beep`, …).
    pub raw_answered_by: Option<String>,
    /// `CallDuration` in seconds, posted with the final status.
    pub duration_s: Option<u32>,
    /// `SipResponseCode`, the SIP final response of the call's leg.
    pub sip_response_code: Option<u16>,
    /// `SequenceNumber`: orders the callbacks of one call (0, 1, …).
    pub sequence: Option<u32>,
}

impl StatusCallback {
    /// The events this report stands for, in order (see the module's table).
    pub fn events(&self) -> Vec<ProviderEvent> {
        provider_events(self.status, self.answered_by, self.duration_s, self.sip_response_code)
    }
}

/// Reads a status callback.
pub fn parse_status_callback(params: &[(String, String)]) -> Result<StatusCallback, ParseError> {
    let call_sid = first(params, "CallSid").ok_or(ParseError::Missing("CallSid"))?;
    let status = call_status(params)?;
    let raw_answered_by = first(params, "AnsweredBy").map(str::to_string);
    Ok(StatusCallback {
        call_sid: call_sid.to_string(),
        status,
        answered_by: raw_answered_by.as_deref().map(answered_by),
        raw_answered_by,
        duration_s: number(params, "CallDuration")?,
        sip_response_code: number(params, "SipResponseCode")?,
        sequence: number(params, "SequenceNumber")?,
    })
}

/// The provider asking for a document: the call's `Url` when it is answered, or a
/// `<Redirect>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceRequest {
    pub call_sid: String,
    pub from: String,
    pub to: String,
    pub status: CallStatus,
    /// With answering-machine detection, the provider asks for the document once it has
    /// decided, so this is where `AnsweredBy` is known first.
    pub answered_by: Option<AnsweredBy>,
}

impl VoiceRequest {
    /// The answer this request proves: the provider only asks for a document on a call that
    /// was picked up.
    pub fn event(&self) -> ProviderEvent {
        ProviderEvent::Answered {
            answered_by: self.answered_by.unwrap_or(AnsweredBy::Unknown),
        }
    }
}

/// Reads the request for a document.
pub fn parse_voice_request(params: &[(String, String)]) -> Result<VoiceRequest, ParseError> {
    Ok(VoiceRequest {
        call_sid: first(params, "CallSid")
            .ok_or(ParseError::Missing("CallSid"))?
            .to_string(),
        from: first(params, "From").unwrap_or_default().to_string(),
        to: first(params, "To").unwrap_or_default().to_string(),
        status: call_status(params)?,
        answered_by: first(params, "AnsweredBy").map(answered_by),
    })
}

/// A `<Gather>` action: the key pressed, or none when the timeout passed in silence (with
/// `actionOnEmptyResult="true"` the provider posts an empty `Digits`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatherResult {
    pub call_sid: String,
    pub key: Option<Key>,
}

impl GatherResult {
    /// The key as a provider event. `seq` must name the `<Gather>` the key answers, so that a
    /// repeated post of the same action is recognised — the play number of the menu, carried in
    /// the action URL, does.
    pub fn event(&self, seq: u32) -> Option<ProviderEvent> {
        self.key.map(|key| ProviderEvent::Dtmf { key, seq })
    }
}

/// Reads a `<Gather>` action. `Digits` absent or empty is no input; `#` and `*` are keys
/// (the menu treats them as wrong keys); anything but one keypad symbol is refused.
pub fn parse_gather(params: &[(String, String)]) -> Result<GatherResult, ParseError> {
    let call_sid = first(params, "CallSid").ok_or(ParseError::Missing("CallSid"))?;
    let key = match first(params, "Digits") {
        None => None,
        Some(digits) => Some(Key::try_from(digits.to_string()).map_err(|_| ParseError::NotAKey(digits.to_string()))?),
    };
    Ok(GatherResult {
        call_sid: call_sid.to_string(),
        key,
    })
}

/// How the transferred leg of a `<Dial>` ended (`DialCallStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DialStatus {
    /// Answered and ended normally.
    Completed,
    /// Answered, still bridged when the action is posted.
    Answered,
    Busy,
    NoAnswer,
    Failed,
    Canceled,
}

impl DialStatus {
    pub fn parse(name: &str) -> Option<DialStatus> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "completed" => DialStatus::Completed,
            "answered" | "in-progress" => DialStatus::Answered,
            "busy" => DialStatus::Busy,
            "no-answer" | "no_answer" => DialStatus::NoAnswer,
            "failed" => DialStatus::Failed,
            "canceled" | "cancelled" => DialStatus::Canceled,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DialStatus::Completed => "completed",
            DialStatus::Answered => "answered",
            DialStatus::Busy => "busy",
            DialStatus::NoAnswer => "no-answer",
            DialStatus::Failed => "failed",
            DialStatus::Canceled => "canceled",
        }
    }

    /// Whether the transfer reached someone.
    pub fn connected(self) -> bool {
        matches!(self, DialStatus::Completed | DialStatus::Answered)
    }
}

/// A `<Dial>` action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialResult {
    pub call_sid: String,
    pub status: DialStatus,
    /// `DialCallSid`: the transferred leg.
    pub dial_call_sid: Option<String>,
    /// `DialCallDuration`, in seconds.
    pub duration_s: Option<u32>,
}

/// Reads a `<Dial>` action.
pub fn parse_dial_action(params: &[(String, String)]) -> Result<DialResult, ParseError> {
    let call_sid = first(params, "CallSid").ok_or(ParseError::Missing("CallSid"))?;
    let raw = first(params, "DialCallStatus").ok_or(ParseError::Missing("DialCallStatus"))?;
    Ok(DialResult {
        call_sid: call_sid.to_string(),
        status: DialStatus::parse(raw).ok_or_else(|| ParseError::UnknownDialStatus(raw.to_string()))?,
        dial_call_sid: first(params, "DialCallSid").map(str::to_string),
        duration_s: number(params, "DialCallDuration")?,
    })
}

fn call_status(params: &[(String, String)]) -> Result<CallStatus, ParseError> {
    let raw = first(params, "CallStatus").ok_or(ParseError::Missing("CallStatus"))?;
    CallStatus::parse(raw).ok_or_else(|| ParseError::UnknownStatus(raw.to_string()))
}

/// The first non-empty value of `name`, trimmed.
fn first<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, v)| k == name && !v.trim().is_empty())
        .map(|(_, v)| v.trim())
}

fn number<T: std::str::FromStr>(params: &[(String, String)], name: &'static str) -> Result<Option<T>, ParseError> {
    first(params, name)
        .map(|value| {
            value.parse().map_err(|_| ParseError::NotANumber {
                name,
                value: value.to_string(),
            })
        })
        .transpose()
}
