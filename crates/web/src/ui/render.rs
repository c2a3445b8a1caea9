//! How each message shows in a conversation: one card per message with its
//! type-specific parts (media players, location link, contact cards…),
//! reactions attached to the message they react to, delivery ticks and read
//! receipts. A quarantined message keeps nothing of its content.

use super::page::local_time;
use recado_core::delivery::Direction;
use recado_store::messages::{MessageEvent, MessageRecord};
use serde_json::Value;
use std::collections::HashMap;

/// A shared contact card.
pub struct ContactCard {
    pub name: String,
    pub phones: Vec<String>,
    pub emails: Vec<String>,
}

pub struct MessageCard {
    pub id: String,
    pub inbound: bool,
    /// The content type: text, image, video, gif, audio, document, sticker,
    /// location, contacts, reaction, template, unsupported, quarantined, …
    pub kind: String,
    pub time: String,
    pub text: Option<String>,
    /// Where the browser gets the media (the hub's media proxy or the link sent).
    pub media_url: Option<String>,
    pub mime: Option<String>,
    pub filename: Option<String>,
    pub voice: bool,
    pub map_url: Option<String>,
    pub place: Option<String>,
    pub contacts: Vec<ContactCard>,
    /// A notice in place of content (unsupported reason, system notice, tap).
    pub notice: Option<String>,
    pub template_name: Option<String>,
    /// Emoji reactions the contact put on this message.
    pub reactions: Vec<String>,
    /// Outbound: `queued`, `sent`, `delivered`, `read`, `failed`, …
    pub status: String,
    pub ticks: &'static str,
    pub status_label: String,
    pub error: Option<String>,
}

fn s(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
}

/// Ticks and their words: one tick sent, two delivered, two blue read.
fn ticks(status: &str) -> &'static str {
    match status {
        "queued" => "🕓",
        "sent" => "✓",
        "delivered" | "read" => "✓✓",
        "failed" | "not_sent" | "not_delivered" => "⚠",
        "uncertain" => "?",
        _ => "",
    }
}

fn status_label(m: &MessageRecord, events: &[MessageEvent], tz: &chrono_tz::Tz) -> String {
    let at = |kind: &str| events.iter().find(|e| e.kind == kind).map(|e| local_time(e.at, tz));
    match m.status.as_str() {
        "queued" => "Queued".into(),
        "sent" => "Sent".into(),
        "delivered" => match at("delivered") {
            Some(t) => format!("Delivered {t}"),
            None => "Delivered".into(),
        },
        "read" => match at("read") {
            Some(t) => format!("Read {t}"),
            None => "Read".into(),
        },
        "failed" => "Failed".into(),
        "not_sent" => "Not sent".into(),
        "not_delivered" => "Not delivered".into(),
        "uncertain" => "Uncertain: waiting for the provider's report".into(),
        other => other.to_string(),
    }
}

/// Builds the cards of a conversation, oldest first; reactions are folded
/// into the card of the message they react to when it is shown.
pub fn cards(
    messages: &[MessageRecord],
    events: &HashMap<String, Vec<MessageEvent>>,
    tz: &chrono_tz::Tz,
) -> Vec<MessageCard> {
    let mut out: Vec<MessageCard> = Vec::new();
    let mut by_provider: HashMap<&str, usize> = HashMap::new();
    for m in messages {
        let none = Vec::new();
        let card = card(m, events.get(m.id.as_str()).unwrap_or(&none), tz);
        if card.kind == "reaction" && !m.quarantined {
            let target = content_of(m)
                .and_then(|c| s(&c, "message_id"))
                .and_then(|id| by_provider.get(id.as_str()).copied());
            if let Some(i) = target {
                if let Some(emoji) = &card.text {
                    out[i].reactions.push(emoji.clone());
                }
                continue;
            }
        }
        if let Some(p) = &m.provider_message_id {
            by_provider.insert(p.as_str(), out.len());
        }
        out.push(card);
    }
    out
}

fn content_of(m: &MessageRecord) -> Option<Value> {
    let v: Value = serde_json::from_str(&m.content).ok()?;
    Some(v.get("content").cloned().unwrap_or(v))
}

pub fn card(m: &MessageRecord, events: &[MessageEvent], tz: &chrono_tz::Tz) -> MessageCard {
    let inbound = m.direction == Direction::In;
    let mut card = MessageCard {
        id: m.id.to_string(),
        inbound,
        kind: m.kind.clone(),
        time: local_time(m.created_at, tz),
        text: None,
        media_url: None,
        mime: None,
        filename: None,
        voice: false,
        map_url: None,
        place: None,
        contacts: Vec::new(),
        notice: None,
        template_name: None,
        reactions: Vec::new(),
        status: m.status.as_str().to_string(),
        ticks: if inbound { "" } else { ticks(m.status.as_str()) },
        status_label: if inbound {
            String::new()
        } else {
            status_label(m, events, tz)
        },
        error: m
            .error_code
            .as_ref()
            .map(|code| format!("{code}: {}", m.error_message.clone().unwrap_or_default())),
    };
    if m.quarantined {
        // Nothing of the content leaves the hub, not even its type's details.
        card.kind = "quarantined".into();
        card.notice = Some("This message was hidden because WhatsApp flagged it under its content policy.".into());
        return card;
    }
    let content = content_of(m).unwrap_or(Value::Null);
    card.text = m.text.clone();
    let ty = content
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or(m.kind.as_str())
        .to_string();
    match ty.as_str() {
        "image" | "video" | "gif" | "audio" | "document" | "sticker" => {
            let media = &content["media"];
            card.mime = s(media, "mime_type");
            card.media_url = s(media, "id").map(|_| format!("/inbox/media/{}", m.id));
            card.filename = s(&content, "filename");
            card.voice = content["voice"].as_bool().unwrap_or(false);
            card.text = s(&content, "caption");
        }
        "media" => {
            card.kind = s(&content, "kind").unwrap_or_else(|| "document".into());
            card.media_url = s(&content, "link").filter(|l| l.starts_with("https://") || l.starts_with("http://"));
            card.filename = s(&content, "filename");
            card.text = s(&content, "caption");
        }
        "location" => {
            let (lat, lon) = (content["latitude"].as_f64(), content["longitude"].as_f64());
            if let (Some(lat), Some(lon)) = (lat, lon) {
                card.map_url = Some(format!(
                    "https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}"
                ));
            }
            let place = [s(&content, "name"), s(&content, "address")]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", ");
            card.place = Some(if place.is_empty() {
                "Shared location".into()
            } else {
                place
            });
            card.text = None;
        }
        "contacts" => {
            card.contacts = content["contacts"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or(&[])
                .iter()
                .map(|c| ContactCard {
                    name: s(c, "formatted_name").unwrap_or_else(|| "Contact".into()),
                    phones: c["phones"]
                        .as_array()
                        .map(Vec::as_slice)
                        .unwrap_or(&[])
                        .iter()
                        .filter_map(|p| s(p, "phone"))
                        .collect(),
                    emails: c["emails"]
                        .as_array()
                        .map(Vec::as_slice)
                        .unwrap_or(&[])
                        .iter()
                        .filter_map(|e| e.as_str().map(str::to_string))
                        .collect(),
                })
                .collect();
            card.text = None;
        }
        "reaction" => {
            card.text = s(&content, "emoji");
            card.notice = Some(match &card.text {
                Some(e) => format!("Reacted {e} to a message"),
                None => "Removed a reaction".into(),
            });
        }
        "interactive_reply" => card.notice = s(&content, "title").map(|t| format!("Chose “{t}”")),
        "template_button" => card.notice = s(&content, "text").map(|t| format!("Tapped the button “{t}”")),
        "order" => {
            let n = content["items"].as_array().map(Vec::len).unwrap_or(0);
            card.notice = Some(format!("Placed an order of {n} item(s)"));
        }
        "system" => card.notice = s(&content, "body"),
        "unsupported" => {
            let reason = s(&content, "reason").unwrap_or_else(|| "unknown type".into());
            card.notice = Some(format!("Unsupported message: {reason}"));
            card.text = None;
        }
        "template" => {
            card.kind = "template".into();
            card.template_name = s(&content, "name").or_else(|| {
                m.template
                    .as_deref()
                    .and_then(|t| serde_json::from_str::<Value>(t).ok())
                    .and_then(|t| s(&t, "name"))
            });
        }
        _ => {}
    }
    if m.kind == "template" && card.template_name.is_none() {
        card.template_name = m
            .template
            .as_deref()
            .and_then(|t| serde_json::from_str::<Value>(t).ok())
            .and_then(|t| s(&t, "name"));
    }
    card
}
