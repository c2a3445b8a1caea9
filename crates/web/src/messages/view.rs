//! The message body of the API contract.

use recado_core::delivery::Direction;
use recado_store::messages::{MessageEvent, MessageRecord};
use serde::Serialize;
use serde_json::Value;

#[derive(Serialize, utoipa::ToSchema, Debug)]
pub struct MessageError {
    pub code: String,
    pub message: String,
}

#[derive(Serialize, utoipa::ToSchema, Debug)]
pub struct EventView {
    #[serde(rename = "type")]
    pub kind: String,
    pub at: String,
}

#[derive(Serialize, utoipa::ToSchema, Debug)]
pub struct MessageView {
    pub id: String,
    pub channel: String,
    pub channel_id: String,
    pub direction: String,
    pub status: String,
    pub contact_id: Option<String>,
    pub thread_id: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub text: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub content: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub template: Option<Value>,
    pub campaign: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub provider_message_id: Option<String>,
    pub segments: Option<i64>,
    pub encoding: Option<String>,
    pub error: Option<MessageError>,
    pub quarantined: bool,
    pub events: Vec<EventView>,
    pub created_at: String,
}

/// Builds the view. A quarantined message shows neither text nor content:
/// content flagged by WhatsApp's policy never leaves the hub.
pub fn message_view(m: MessageRecord, events: Vec<MessageEvent>) -> MessageView {
    let inbound = m.direction == Direction::In;
    let (from, to) = (m.sender.clone(), m.recipient.clone());
    let content = if m.quarantined {
        None
    } else {
        serde_json::from_str::<Value>(&m.content)
            .ok()
            .map(|v| v.get("content").cloned().unwrap_or(v))
    };
    MessageView {
        error: match (m.error_code, m.error_message) {
            (Some(code), message) => Some(MessageError {
                code,
                message: message.unwrap_or_default(),
            }),
            _ => None,
        },
        text: if m.quarantined { None } else { m.text },
        content,
        template: m.template.and_then(|t| serde_json::from_str(&t).ok()),
        id: m.id.into_string(),
        channel: m.channel.as_str().to_string(),
        channel_id: m.channel_id,
        direction: m.direction.as_str().to_string(),
        status: m.status.as_str().to_string(),
        contact_id: m.contact_id.map(String::from),
        thread_id: m.thread_id.map(String::from),
        kind: m.kind,
        campaign: m.campaign,
        from: if inbound { from } else { from.or(None) },
        to,
        provider_message_id: m.provider_message_id,
        segments: m.segments,
        encoding: m.encoding,
        quarantined: m.quarantined,
        events: events
            .into_iter()
            .map(|e| EventView {
                kind: e.kind,
                at: recado_core::clock::to_rfc3339(e.at),
            })
            .collect(),
        created_at: recado_core::clock::to_rfc3339(m.created_at),
    }
}
