//! Outbound content and the exact body of `POST /{version}/{phone-number-id}/messages`.
//!
//! [`validate`] enforces Meta's documented limits so that a bad message is refused with a
//! field name before anything is sent; [`message_body`] builds the request body that the
//! contract test checks against Meta's OpenAPI description.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

pub use super::limits::{validate, ContentError};

/// What to send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutboundContent {
    /// Free-form text; `preview_url` asks WhatsApp to render the first link.
    Text {
        body: String,
        #[serde(default)]
        preview_url: bool,
    },
    /// Media by public `link` or by uploaded media `id` (exactly one). `caption` applies to
    /// image, video and document; `filename` to document only.
    Media {
        kind: MediaKind,
        link: Option<String>,
        id: Option<String>,
        caption: Option<String>,
        filename: Option<String>,
    },
    Interactive(Interactive),
    /// An approved template; `components` as built by
    /// [`build_components`](super::templates::build_components).
    Template {
        name: String,
        language: String,
        #[serde(default)]
        components: Vec<Value>,
    },
    /// React to `message_id`; an empty `emoji` removes the reaction.
    Reaction {
        message_id: String,
        emoji: String,
    },
    Location {
        latitude: f64,
        longitude: f64,
        name: Option<String>,
        address: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    Image,
    Video,
    Audio,
    Document,
    Sticker,
}

impl MediaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Video => "video",
            MediaKind::Audio => "audio",
            MediaKind::Document => "document",
            MediaKind::Sticker => "sticker",
        }
    }

    /// WhatsApp shows captions under images, videos and documents only.
    pub fn takes_caption(self) -> bool {
        matches!(self, MediaKind::Image | MediaKind::Video | MediaKind::Document)
    }
}

impl std::fmt::Display for MediaKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Session messages with reply buttons or a list; headers are text headers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Interactive {
    Buttons {
        header: Option<String>,
        body: String,
        footer: Option<String>,
        buttons: Vec<ReplyButton>,
    },
    List {
        header: Option<String>,
        body: String,
        footer: Option<String>,
        /// Label of the button that opens the list.
        button: String,
        sections: Vec<Section>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyButton {
    pub id: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    /// Required by WhatsApp when the list has more than one section.
    pub title: Option<String>,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
}

/// One message to one recipient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendRequest {
    /// E.164, with or without `+`.
    pub to: String,
    pub content: OutboundContent,
    /// The hub's own message id: WhatsApp echoes it on every status webhook, which is how a
    /// send whose HTTP answer was lost is reconciled. At most 512 characters.
    pub biz_opaque_callback_data: Option<String>,
    /// wamid of the message this one quotes.
    pub reply_to: Option<String>,
}

/// The JSON body for the `/messages` endpoint (Cloud API and 360dialog alike).
///
/// Fields a content type does not take (a caption on audio, say) are left out; [`validate`]
/// reports them as errors, so call it first.
pub fn message_body(req: &SendRequest) -> Value {
    let (ty, payload) = content_object(&req.content);
    let mut body = Map::new();
    body.insert("messaging_product".into(), json!("whatsapp"));
    body.insert("recipient_type".into(), json!("individual"));
    body.insert("to".into(), json!(req.to));
    body.insert("type".into(), json!(ty));
    body.insert(ty.into(), payload);
    if let Some(id) = &req.reply_to {
        body.insert("context".into(), json!({ "message_id": id }));
    }
    if let Some(data) = &req.biz_opaque_callback_data {
        body.insert("biz_opaque_callback_data".into(), json!(data));
    }
    Value::Object(body)
}

/// Body that marks an inbound message (and the ones before it) as read.
pub fn mark_read_body(message_id: &str) -> Value {
    json!({ "messaging_product": "whatsapp", "status": "read", "message_id": message_id })
}

fn content_object(content: &OutboundContent) -> (&'static str, Value) {
    match content {
        OutboundContent::Text { body, preview_url } => {
            let mut text = json!({ "body": body });
            // Only sent when asked for: `false` is the provider's default.
            if *preview_url {
                text["preview_url"] = json!(true);
            }
            ("text", text)
        }
        OutboundContent::Media {
            kind,
            link,
            id,
            caption,
            filename,
        } => {
            let mut media = Map::new();
            if let Some(id) = id {
                media.insert("id".into(), json!(id));
            }
            if let Some(link) = link {
                media.insert("link".into(), json!(link));
            }
            if let (Some(caption), true) = (caption, kind.takes_caption()) {
                media.insert("caption".into(), json!(caption));
            }
            if let (Some(filename), MediaKind::Document) = (filename, kind) {
                media.insert("filename".into(), json!(filename));
            }
            (kind.as_str(), Value::Object(media))
        }
        OutboundContent::Interactive(interactive) => ("interactive", interactive_object(interactive)),
        OutboundContent::Template {
            name,
            language,
            components,
        } => {
            // `policy` is required by Meta's schema and `deterministic` is its only value.
            let mut template = json!({ "name": name, "language": { "policy": "deterministic", "code": language } });
            if !components.is_empty() {
                template["components"] = json!(components);
            }
            ("template", template)
        }
        OutboundContent::Reaction { message_id, emoji } => {
            ("reaction", json!({ "message_id": message_id, "emoji": emoji }))
        }
        OutboundContent::Location {
            latitude,
            longitude,
            name,
            address,
        } => {
            // Meta's schema types coordinates as strings; Rust's shortest round-trip float
            // formatting keeps every digit the caller gave.
            let mut location = json!({ "latitude": latitude.to_string(), "longitude": longitude.to_string() });
            if let Some(name) = name {
                location["name"] = json!(name);
            }
            if let Some(address) = address {
                location["address"] = json!(address);
            }
            ("location", location)
        }
    }
}

fn interactive_object(interactive: &Interactive) -> Value {
    let (ty, header, body, footer, action) = match interactive {
        Interactive::Buttons {
            header,
            body,
            footer,
            buttons,
        } => {
            let buttons: Vec<Value> = buttons
                .iter()
                .map(|b| json!({ "type": "reply", "reply": { "id": b.id, "title": b.title } }))
                .collect();
            ("button", header, body, footer, json!({ "buttons": buttons }))
        }
        Interactive::List {
            header,
            body,
            footer,
            button,
            sections,
        } => {
            let sections: Vec<Value> = sections.iter().map(section_object).collect();
            (
                "list",
                header,
                body,
                footer,
                json!({ "button": button, "sections": sections }),
            )
        }
    };
    let mut object = json!({ "type": ty, "body": { "text": body }, "action": action });
    if let Some(header) = header {
        object["header"] = json!({ "type": "text", "text": header });
    }
    if let Some(footer) = footer {
        object["footer"] = json!({ "text": footer });
    }
    object
}

fn section_object(section: &Section) -> Value {
    let rows: Vec<Value> = section
        .rows
        .iter()
        .map(|r| {
            let mut row = json!({ "id": r.id, "title": r.title });
            if let Some(d) = &r.description {
                row["description"] = json!(d);
            }
            row
        })
        .collect();
    let mut object = json!({ "rows": rows });
    if let Some(title) = &section.title {
        object["title"] = json!(title);
    }
    object
}
