//! Inbound WhatsApp messages (`value.messages[]` of a `messages` change).
//!
//! Every message becomes an [`InboundMessage`]; its content is one of the types the hub
//! shows, or [`InboundContent::Unsupported`] with a reason (polls, deleted messages, types
//! Meta adds later, or a known type whose object lacks what the hub needs).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::json;
use super::webhook::{ProviderError, WebhookParseError};

/// Error codes that WhatsApp uses for content-policy and spam enforcement. A message object
/// carrying one of them in `errors[]` is quarantined. 368: "temporarily blocked for policies
/// violations"; 131048: "spam rate limit hit". Other error codes on inbound messages
/// (131051 unsupported type, 131060 unavailable, …) are not about policy.
pub const POLICY_ERROR_CODES: [i64; 2] = [368, 131048];

/// Words in an error's title, message or details that mark a policy finding even when the
/// code is one this version does not list.
const POLICY_WORDS: [&str; 3] = ["policy", "policies", "spam"];

/// A message a contact sent to one of the business numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InboundMessage {
    pub waba_id: String,
    pub phone_number_id: String,
    pub display_phone_number: Option<String>,
    /// The sender's WhatsApp id, digits as sent (no `+`). When WhatsApp withholds the phone
    /// number (users with usernames), this is the business-scoped user id instead, which is
    /// also in `from_user_id`; callers that need a phone number check `from_user_id`.
    pub from: String,
    /// Business-scoped user id (`from_user_id`, e.g. `US.1349…`) when WhatsApp sends one.
    pub from_user_id: Option<String>,
    pub profile_name: Option<String>,
    /// The wamid; the same id delivered twice is the same message.
    pub id: String,
    /// Unix seconds.
    pub timestamp: i64,
    /// The message this one replies to or was triggered from (button taps, quotes).
    pub context_message_id: Option<String>,
    pub content: InboundContent,
    /// WhatsApp flagged the message for a content-policy violation: the content is still
    /// parsed here, and the server hides it in every view and API response.
    pub quarantined: bool,
    /// The message object as received.
    pub raw: Value,
}

/// What a message contains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InboundContent {
    Text {
        body: String,
    },
    Image {
        media: MediaRef,
        caption: Option<String>,
    },
    Video {
        media: MediaRef,
        caption: Option<String>,
    },
    /// A video sent as a GIF (mp4/3gpp), when the provider marks it so.
    Gif {
        media: MediaRef,
        caption: Option<String>,
    },
    /// `voice` is true for notes recorded with WhatsApp's voice-note feature.
    Audio {
        media: MediaRef,
        voice: bool,
    },
    Document {
        media: MediaRef,
        filename: Option<String>,
        caption: Option<String>,
    },
    Sticker {
        media: MediaRef,
        animated: bool,
    },
    Location {
        latitude: f64,
        longitude: f64,
        name: Option<String>,
        address: Option<String>,
        url: Option<String>,
    },
    Contacts {
        contacts: Vec<SharedContact>,
    },
    /// A tap on an interactive message the hub sent: `button_reply`, `list_reply` or a Flow
    /// answer (`nfm_reply`, whose `id` is the flow's name and whose JSON stays in `raw`).
    InteractiveReply {
        reply_type: String,
        id: String,
        title: String,
        description: Option<String>,
    },
    /// A quick-reply button of a template was tapped.
    TemplateButton {
        payload: String,
        text: String,
    },
    /// A reaction to `message_id`; `emoji` is `None` when the reaction was removed.
    Reaction {
        message_id: String,
        emoji: Option<String>,
    },
    Order {
        catalog_id: String,
        text: Option<String>,
        items: Value,
    },
    /// A notice from WhatsApp itself, e.g. `user_changed_number` with the new id.
    System {
        body: String,
        new_wa_id: Option<String>,
        system_type: String,
    },
    Unsupported {
        reason: String,
        unsupported_type: Option<String>,
    },
}

/// A media attachment: fetch its URL with `GET /{media-id}` (valid 5 minutes, Bearer token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaRef {
    pub id: String,
    pub mime_type: Option<String>,
    pub sha256: Option<String>,
    pub url: Option<String>,
}

/// One card of a shared-contacts message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedContact {
    pub formatted_name: Option<String>,
    pub phones: Vec<SharedPhone>,
    pub emails: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedPhone {
    pub phone: String,
    /// Present when the number is on WhatsApp.
    pub wa_id: Option<String>,
    /// `CELL`, `MAIN`, `HOME`, `WORK`, … as sent.
    pub phone_type: Option<String>,
}

impl InboundContent {
    /// The hub's name for the content type (also the serde tag).
    pub fn type_name(&self) -> &'static str {
        match self {
            InboundContent::Text { .. } => "text",
            InboundContent::Image { .. } => "image",
            InboundContent::Video { .. } => "video",
            InboundContent::Gif { .. } => "gif",
            InboundContent::Audio { .. } => "audio",
            InboundContent::Document { .. } => "document",
            InboundContent::Sticker { .. } => "sticker",
            InboundContent::Location { .. } => "location",
            InboundContent::Contacts { .. } => "contacts",
            InboundContent::InteractiveReply { .. } => "interactive_reply",
            InboundContent::TemplateButton { .. } => "template_button",
            InboundContent::Reaction { .. } => "reaction",
            InboundContent::Order { .. } => "order",
            InboundContent::System { .. } => "system",
            InboundContent::Unsupported { .. } => "unsupported",
        }
    }

    /// Text to display and index for search: the body, caption, title or name the content has.
    pub fn text(&self) -> Option<String> {
        match self {
            InboundContent::Text { body } => Some(body.clone()),
            InboundContent::Image { caption, .. }
            | InboundContent::Video { caption, .. }
            | InboundContent::Gif { caption, .. } => caption.clone(),
            InboundContent::Document { caption, filename, .. } => caption.clone().or_else(|| filename.clone()),
            InboundContent::Audio { .. } | InboundContent::Sticker { .. } | InboundContent::Unsupported { .. } => None,
            InboundContent::Location { name, address, .. } => match (name, address) {
                (Some(n), Some(a)) => Some(format!("{n}, {a}")),
                (n, a) => n.clone().or_else(|| a.clone()),
            },
            InboundContent::Contacts { contacts } => {
                let names: Vec<&str> = contacts.iter().filter_map(|c| c.formatted_name.as_deref()).collect();
                (!names.is_empty()).then(|| names.join(", "))
            }
            InboundContent::InteractiveReply { title, .. } => Some(title.clone()),
            InboundContent::TemplateButton { text, .. } => Some(text.clone()),
            InboundContent::Reaction { emoji, .. } => emoji.clone(),
            InboundContent::Order { text, .. } => text.clone(),
            InboundContent::System { body, .. } => Some(body.clone()),
        }
    }

    /// The text that consent keywords (STOP, PARAR, …) apply to: only whole text messages, so
    /// that a caption or a button title is never read as a keyword.
    pub fn keyword_text(&self) -> Option<&str> {
        match self {
            InboundContent::Text { body } => Some(body),
            _ => None,
        }
    }
}

/// Whether an error attached to an inbound message is a content-policy finding.
pub fn is_policy_error(error: &ProviderError) -> bool {
    if POLICY_ERROR_CODES.contains(&error.code) {
        return true;
    }
    let texts = [Some(&error.title), Some(&error.message), error.details.as_ref()];
    texts.into_iter().flatten().any(|t| {
        let t = t.to_lowercase();
        POLICY_WORDS.iter().any(|w| t.contains(w))
    })
}

/// The parts of a `value` that every message in it shares.
pub(crate) struct Envelope<'a> {
    pub waba_id: &'a str,
    pub phone_number_id: &'a str,
    pub display_phone_number: Option<&'a str>,
    pub contacts: &'a [Value],
}

pub(crate) fn parse_message(env: &Envelope<'_>, msg: &Value, path: &str) -> Result<InboundMessage, WebhookParseError> {
    let need = |key: &str| WebhookParseError::Field {
        path: format!("{path}.{key}"),
    };
    let id = json::non_empty(msg, "id").ok_or_else(|| need("id"))?;
    let from_user_id = json::non_empty(msg, "from_user_id");
    let from = json::non_empty(msg, "from")
        .or_else(|| from_user_id.clone())
        .ok_or_else(|| need("from"))?;
    let timestamp = json::integer(msg, "timestamp").ok_or_else(|| need("timestamp"))?;
    let ty = json::string(msg, "type").unwrap_or_else(|| "unknown".into());
    let errors = ProviderError::list(msg);
    Ok(InboundMessage {
        waba_id: env.waba_id.to_string(),
        phone_number_id: env.phone_number_id.to_string(),
        display_phone_number: env.display_phone_number.map(str::to_string),
        profile_name: profile_name(env.contacts, &from),
        from,
        from_user_id,
        id,
        timestamp,
        context_message_id: msg.get("context").and_then(|c| json::non_empty(c, "id")),
        quarantined: errors.iter().any(is_policy_error),
        content: parse_content(&ty, msg, &errors),
        raw: msg.clone(),
    })
}

/// The sender's profile name from `value.contacts[]`, matched on `wa_id`; a single contact
/// is taken as the sender even if its `wa_id` is spelled differently (Brazil's ninth digit).
fn profile_name(contacts: &[Value], from: &str) -> Option<String> {
    let name = |c: &Value| c.get("profile").and_then(|p| json::non_empty(p, "name"));
    contacts
        .iter()
        .find(|c| json::string(c, "wa_id").as_deref() == Some(from))
        .or(if contacts.len() == 1 { contacts.first() } else { None })
        .and_then(name)
}

fn parse_content(ty: &str, msg: &Value, errors: &[ProviderError]) -> InboundContent {
    let obj = msg.get(ty).unwrap_or(&Value::Null);
    let parsed = match ty {
        "text" => json::string(obj, "body").map(|body| InboundContent::Text { body }),
        "image" => media(obj).map(|media| InboundContent::Image {
            media,
            caption: json::non_empty(obj, "caption"),
        }),
        "video" | "gif" => {
            // Some payloads carry a GIF under `video` with a flag, others under its own type.
            let obj = if ty == "gif" && obj.is_null() {
                msg.get("video").unwrap_or(&Value::Null)
            } else {
                obj
            };
            let caption = json::non_empty(obj, "caption");
            let gif = ty == "gif" || json::boolean(obj, "gif").unwrap_or(false);
            media(obj).map(|media| match gif {
                true => InboundContent::Gif { media, caption },
                false => InboundContent::Video { media, caption },
            })
        }
        "audio" => media(obj).map(|media| InboundContent::Audio {
            media,
            voice: json::boolean(obj, "voice").unwrap_or(false),
        }),
        "document" => media(obj).map(|media| InboundContent::Document {
            media,
            filename: json::non_empty(obj, "filename"),
            caption: json::non_empty(obj, "caption"),
        }),
        "sticker" => media(obj).map(|media| InboundContent::Sticker {
            media,
            animated: json::boolean(obj, "animated").unwrap_or(false),
        }),
        "location" => location(obj),
        "contacts" => msg
            .get("contacts")
            .and_then(Value::as_array)
            .map(|cards| InboundContent::Contacts {
                contacts: cards.iter().map(shared_contact).collect(),
            }),
        "interactive" => return interactive(obj),
        "button" => obj.is_object().then(|| InboundContent::TemplateButton {
            payload: json::string(obj, "payload").unwrap_or_default(),
            text: json::string(obj, "text").unwrap_or_default(),
        }),
        "reaction" => json::non_empty(obj, "message_id").map(|message_id| InboundContent::Reaction {
            message_id,
            emoji: json::non_empty(obj, "emoji"),
        }),
        "order" => json::string(obj, "catalog_id").map(|catalog_id| InboundContent::Order {
            catalog_id,
            text: json::non_empty(obj, "text"),
            items: obj
                .get("product_items")
                .cloned()
                .unwrap_or_else(|| Value::Array(Vec::new())),
        }),
        "system" => obj.is_object().then(|| InboundContent::System {
            body: json::string(obj, "body").unwrap_or_default(),
            new_wa_id: json::non_empty(obj, "wa_id").or_else(|| json::non_empty(obj, "new_wa_id")),
            system_type: json::string(obj, "type").unwrap_or_else(|| "unknown".into()),
        }),
        _ => return unsupported(ty, msg, errors),
    };
    parsed.unwrap_or_else(|| InboundContent::Unsupported {
        reason: format!("malformed {ty} message"),
        unsupported_type: Some(ty.to_string()),
    })
}

fn media(obj: &Value) -> Option<MediaRef> {
    Some(MediaRef {
        id: json::non_empty(obj, "id")?,
        mime_type: json::non_empty(obj, "mime_type"),
        sha256: json::non_empty(obj, "sha256"),
        url: json::non_empty(obj, "url"),
    })
}

/// A place on Earth: coordinates out of range are no location.
fn location(obj: &Value) -> Option<InboundContent> {
    let latitude = json::float(obj, "latitude").filter(|l| (-90.0..=90.0).contains(l))?;
    let longitude = json::float(obj, "longitude").filter(|l| (-180.0..=180.0).contains(l))?;
    Some(InboundContent::Location {
        latitude,
        longitude,
        name: json::non_empty(obj, "name"),
        address: json::non_empty(obj, "address"),
        url: json::non_empty(obj, "url"),
    })
}

fn shared_contact(card: &Value) -> SharedContact {
    SharedContact {
        formatted_name: card.get("name").and_then(|n| json::non_empty(n, "formatted_name")),
        phones: json::array(card, "phones")
            .iter()
            .filter_map(|p| {
                Some(SharedPhone {
                    phone: json::non_empty(p, "phone")?,
                    wa_id: json::non_empty(p, "wa_id"),
                    phone_type: json::non_empty(p, "type"),
                })
            })
            .collect(),
        emails: json::array(card, "emails")
            .iter()
            .filter_map(|e| json::non_empty(e, "email"))
            .collect(),
    }
}

fn interactive(obj: &Value) -> InboundContent {
    let reply_type = json::string(obj, "type").unwrap_or_default();
    let reply = obj.get(&reply_type).unwrap_or(&Value::Null);
    let parsed = match reply_type.as_str() {
        "button_reply" | "list_reply" => json::string(reply, "id").map(|id| InboundContent::InteractiveReply {
            reply_type: reply_type.clone(),
            id,
            title: json::string(reply, "title").unwrap_or_default(),
            description: json::non_empty(reply, "description"),
        }),
        "nfm_reply" => reply.is_object().then(|| InboundContent::InteractiveReply {
            reply_type: reply_type.clone(),
            id: json::non_empty(reply, "name").unwrap_or_else(|| "flow".into()),
            title: json::string(reply, "body").unwrap_or_default(),
            description: None,
        }),
        _ => None,
    };
    parsed.unwrap_or_else(|| InboundContent::Unsupported {
        reason: format!("interactive reply of type {reply_type:?} is not supported"),
        unsupported_type: Some(format!("interactive.{reply_type}")),
    })
}

/// `unsupported`/`unknown` messages and types this version does not handle (e.g. `poll`).
/// The reason prefers WhatsApp's own explanation (`errors[]`), then the type name.
fn unsupported(ty: &str, msg: &Value, errors: &[ProviderError]) -> InboundContent {
    let unsupported_type = msg
        .get("unsupported")
        .and_then(|u| json::non_empty(u, "type"))
        .or_else(|| (!matches!(ty, "unsupported" | "unknown")).then(|| ty.to_string()));
    let from_errors = errors.iter().find(|e| !is_policy_error(e)).map(|e| {
        let title = if e.title.is_empty() { &e.message } else { &e.title };
        match &e.details {
            Some(d) if d != title => format!("{title}: {d}"),
            _ => title.clone(),
        }
    });
    let reason = from_errors
        .filter(|r| !r.is_empty())
        .or_else(|| {
            unsupported_type
                .as_ref()
                .map(|t| format!("message type {t} is not supported"))
        })
        .unwrap_or_else(|| "unsupported message".into());
    InboundContent::Unsupported {
        reason,
        unsupported_type,
    }
}
