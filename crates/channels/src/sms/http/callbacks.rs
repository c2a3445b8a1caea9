//! Form posts from the provider: status callbacks for sent messages and inbound messages.
//!
//! Check the signature ([`verify_signature`](super::verify_signature)) over every parameter as
//! received before parsing: the provider adds parameters without notice, so nothing here
//! filters them. Both kinds may be delivered more than once; deduplicate on the message SID.

use crate::sms::DeliveryState;

/// `Content-Type` of the answer to an inbound webhook.
pub const TWIML_CONTENT_TYPE: &str = "text/xml";

/// Why a form post cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("missing parameter `{0}`")]
    Missing(&'static str),
    #[error("unknown message status `{0}`")]
    UnknownStatus(String),
    /// `receiving`/`received` describe inbound messages, not the progress of a sent one.
    #[error("status `{0}` belongs to an inbound message, not to a status callback")]
    InboundStatus(String),
}

/// Delivery progress of a sent message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCallback {
    pub message_sid: String,
    pub state: DeliveryState,
    /// `MessageStatus` as posted (`sent`, `delivered`, `undelivered`, …).
    pub raw_status: String,
    /// `ErrorCode`, posted with `failed` and `undelivered`.
    pub error_code: Option<String>,
}

/// A message a contact sent to one of the account's numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundSms {
    pub message_sid: String,
    /// E.164 number of the contact.
    pub from: String,
    /// The account's number that received it.
    pub to: String,
    /// Empty for a media-only message.
    pub body: String,
}

/// Reads a status callback. `MessageStatus`/`MessageSid` are preferred; the legacy
/// `SmsStatus`/`SmsSid` duplicates are accepted when they are the only ones.
pub fn parse_status_callback(params: &[(String, String)]) -> Result<StatusCallback, ParseError> {
    let message_sid = first(params, &["MessageSid", "SmsSid"]).ok_or(ParseError::Missing("MessageSid"))?;
    let raw_status = first(params, &["MessageStatus", "SmsStatus"]).ok_or(ParseError::Missing("MessageStatus"))?;
    let error_code = first(params, &["ErrorCode"]).map(str::to_string);
    let state = match raw_status.to_ascii_lowercase().as_str() {
        "queued" | "sending" | "sent" | "accepted" | "scheduled" => DeliveryState::Accepted,
        // `read` only exists on channels with read receipts; it implies delivery.
        "delivered" | "read" => DeliveryState::Delivered,
        "undelivered" | "failed" | "canceled" => DeliveryState::NotDelivered {
            code: error_code.clone(),
        },
        // Not every part reached the handset: the message as written was not delivered.
        "partially_delivered" => DeliveryState::NotDelivered {
            code: error_code.clone().or_else(|| Some("partially_delivered".into())),
        },
        "receiving" | "received" => return Err(ParseError::InboundStatus(raw_status.to_string())),
        _ => return Err(ParseError::UnknownStatus(raw_status.to_string())),
    };
    Ok(StatusCallback {
        message_sid: message_sid.to_string(),
        state,
        raw_status: raw_status.to_string(),
        error_code,
    })
}

/// Reads an inbound message webhook.
pub fn parse_inbound(params: &[(String, String)]) -> Result<InboundSms, ParseError> {
    let message_sid =
        first(params, &["MessageSid", "SmsMessageSid", "SmsSid"]).ok_or(ParseError::Missing("MessageSid"))?;
    let from = first(params, &["From"]).ok_or(ParseError::Missing("From"))?;
    let to = first(params, &["To"]).ok_or(ParseError::Missing("To"))?;
    Ok(InboundSms {
        message_sid: message_sid.to_string(),
        from: from.to_string(),
        to: to.to_string(),
        body: params
            .iter()
            .find(|(k, _)| k == "Body")
            .map(|(_, v)| v.clone())
            .unwrap_or_default(),
    })
}

/// The answer to an inbound webhook that makes the provider send nothing itself: replies are
/// the hub's business (keyword consent, the inbox).
pub fn twiml_empty_response() -> &'static str {
    r#"<?xml version="1.0" encoding="UTF-8"?><Response></Response>"#
}

/// The first non-empty value among `names`, in that order of preference.
fn first<'a>(params: &'a [(String, String)], names: &[&str]) -> Option<&'a str> {
    names.iter().find_map(|name| {
        params
            .iter()
            .find(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
    })
}
