//! Webhook bodies shaped like Meta's, for the tests and benchmarks of crates that receive them.
//!
//! Every builder returns the raw bytes of a complete delivery; sign them with
//! [`signed`] (or [`sign`]) to get the `X-Hub-Signature-256` value.
//! Several bodies can be merged into one delivery with [`combine`].
//!
//! ```
//! use recado_channels::whatsapp::{parse_webhook, testkit};
//! let body = testkit::inbound_text("1065000001", "5511900000001", "Ana", "wamid.A", 1_750_000_000, "oi");
//! let (body, signature) = testkit::signed(b"app-secret", body);
//! assert!(recado_channels::whatsapp::verify_signature(b"app-secret", &body, Some(&signature)));
//! assert_eq!(parse_webhook(&body).unwrap().len(), 1);
//! ```

use serde_json::{json, Value};

use super::signature::sign;
use super::webhook::{ProviderError, ProviderStatus};

/// WABA id used by the builders (the `entry[].id`).
pub const TEST_WABA_ID: &str = "100000000000001";
/// Display number used in the builders' `metadata`.
pub const TEST_DISPLAY_PHONE_NUMBER: &str = "15550001111";
/// Recipient of [`status`] bodies.
pub const TEST_RECIPIENT: &str = "5511900000001";

/// `(body, X-Hub-Signature-256 value)`.
pub fn signed(app_secret: &[u8], body: Vec<u8>) -> (Vec<u8>, String) {
    let signature = sign(app_secret, &body);
    (body, signature)
}

/// A text message from `from` (digits) with profile `name`.
pub fn inbound_text(phone_number_id: &str, from: &str, name: &str, wamid: &str, ts: i64, body: &str) -> Vec<u8> {
    Inbound::new(phone_number_id, from, name, wamid, ts).text(body)
}

/// Builder for one inbound message; each content method returns the finished body.
#[derive(Debug, Clone)]
pub struct Inbound {
    phone_number_id: String,
    from: String,
    name: Option<String>,
    wamid: String,
    ts: i64,
    context: Option<String>,
    errors: Vec<Value>,
}

impl Inbound {
    /// An empty `name` leaves `contacts[]` out, as Meta does for system messages.
    pub fn new(phone_number_id: &str, from: &str, name: &str, wamid: &str, ts: i64) -> Self {
        Inbound {
            phone_number_id: phone_number_id.into(),
            from: from.into(),
            name: (!name.is_empty()).then(|| name.to_string()),
            wamid: wamid.into(),
            ts,
            context: None,
            errors: Vec::new(),
        }
    }

    /// Marks the message as a reply to (or a tap on) `wamid`.
    pub fn context(mut self, wamid: &str) -> Self {
        self.context = Some(wamid.into());
        self
    }

    /// Adds an `errors[]` entry to the message object.
    pub fn error(mut self, code: i64, title: &str, details: &str) -> Self {
        self.errors
            .push(json!({"code": code, "title": title, "message": title, "error_data": {"details": details}}));
        self
    }

    /// Flags the message as a WhatsApp content-policy violation (code 368).
    pub fn policy_violation(self) -> Self {
        self.error(
            368,
            "Temporarily blocked for policies violations",
            "Message flagged for policy violation",
        )
    }

    pub fn text(self, body: &str) -> Vec<u8> {
        self.build("text", json!({ "body": body }))
    }

    pub fn image(self, media_id: &str, caption: Option<&str>) -> Vec<u8> {
        self.build("image", media(media_id, "image/jpeg", caption))
    }

    pub fn video(self, media_id: &str, caption: Option<&str>) -> Vec<u8> {
        self.build("video", media(media_id, "video/mp4", caption))
    }

    /// A video flagged as GIF.
    pub fn gif(self, media_id: &str) -> Vec<u8> {
        let mut video = media(media_id, "video/mp4", None);
        video["gif"] = json!(true);
        self.build("video", video)
    }

    pub fn audio(self, media_id: &str, voice: bool) -> Vec<u8> {
        let mut audio = media(media_id, "audio/ogg; codecs=opus", None);
        audio["voice"] = json!(voice);
        self.build("audio", audio)
    }

    pub fn document(self, media_id: &str, filename: &str, caption: Option<&str>) -> Vec<u8> {
        let mut document = media(media_id, "application/pdf", caption);
        document["filename"] = json!(filename);
        self.build("document", document)
    }

    pub fn sticker(self, media_id: &str, animated: bool) -> Vec<u8> {
        let mut sticker = media(media_id, "image/webp", None);
        sticker["animated"] = json!(animated);
        self.build("sticker", sticker)
    }

    pub fn location(self, latitude: f64, longitude: f64, name: Option<&str>) -> Vec<u8> {
        let mut location = json!({ "latitude": latitude, "longitude": longitude });
        if let Some(name) = name {
            location["name"] = json!(name);
        }
        self.build("location", location)
    }

    /// One shared contact card with one phone.
    pub fn contacts(self, formatted_name: &str, phone: &str) -> Vec<u8> {
        let card = json!([{
            "name": { "formatted_name": formatted_name, "first_name": formatted_name },
            "phones": [{ "phone": phone, "type": "CELL" }]
        }]);
        self.build("contacts", card)
    }

    pub fn button_reply(self, id: &str, title: &str) -> Vec<u8> {
        self.build(
            "interactive",
            json!({ "type": "button_reply", "button_reply": { "id": id, "title": title } }),
        )
    }

    pub fn list_reply(self, id: &str, title: &str, description: Option<&str>) -> Vec<u8> {
        let mut reply = json!({ "id": id, "title": title });
        if let Some(d) = description {
            reply["description"] = json!(d);
        }
        self.build("interactive", json!({ "type": "list_reply", "list_reply": reply }))
    }

    /// A quick-reply button of a template (set [`Inbound::context`] to the template's wamid).
    pub fn template_button(self, payload: &str, text: &str) -> Vec<u8> {
        self.build("button", json!({ "payload": payload, "text": text }))
    }

    /// `emoji: None` is a removed reaction.
    pub fn reaction(self, message_id: &str, emoji: Option<&str>) -> Vec<u8> {
        let mut reaction = json!({ "message_id": message_id });
        if let Some(e) = emoji {
            reaction["emoji"] = json!(e);
        }
        self.build("reaction", reaction)
    }

    pub fn order(self, catalog_id: &str, product_retailer_id: &str, quantity: u32) -> Vec<u8> {
        let item = json!({ "product_retailer_id": product_retailer_id, "quantity": quantity, "item_price": 10, "currency": "BRL" });
        self.build(
            "order",
            json!({ "catalog_id": catalog_id, "text": "", "product_items": [item] }),
        )
    }

    /// The contact changed their number to `new_wa_id` (no `contacts[]`, as Meta sends it).
    pub fn number_changed(mut self, new_wa_id: &str) -> Vec<u8> {
        self.name = None;
        let body = format!("User changed from {} to {new_wa_id}", self.from);
        self.build(
            "system",
            json!({ "body": body, "wa_id": new_wa_id, "type": "user_changed_number" }),
        )
    }

    /// An `unsupported` message of the given kind (`poll_update`, `gif`, …), with the error
    /// Meta attaches.
    pub fn unsupported(self, unsupported_type: &str) -> Vec<u8> {
        let me = self.error(
            131051,
            "Message type unknown",
            "Message type is currently not supported.",
        );
        me.build("unsupported", json!({ "type": unsupported_type }))
    }

    /// Any message type with its object, for types without a dedicated method.
    pub fn custom(self, message_type: &str, object: Value) -> Vec<u8> {
        self.build(message_type, object)
    }

    fn build(self, message_type: &str, object: Value) -> Vec<u8> {
        let mut message = json!({
            "from": self.from, "id": self.wamid, "timestamp": self.ts.to_string(), "type": message_type
        });
        message[message_type] = object;
        if let Some(context) = &self.context {
            message["context"] = json!({ "from": TEST_DISPLAY_PHONE_NUMBER, "id": context });
        }
        if !self.errors.is_empty() {
            message["errors"] = json!(self.errors);
        }
        let mut value = json!({
            "messaging_product": "whatsapp",
            "metadata": { "display_phone_number": TEST_DISPLAY_PHONE_NUMBER, "phone_number_id": self.phone_number_id },
            "messages": [message]
        });
        if let Some(name) = &self.name {
            value["contacts"] = json!([{ "profile": { "name": name }, "wa_id": self.from }]);
        }
        envelope(TEST_WABA_ID, "messages", value)
    }
}

fn media(id: &str, mime_type: &str, caption: Option<&str>) -> Value {
    let mut object = json!({ "id": id, "mime_type": mime_type, "sha256": "c2hhMjU2LW9mLXRoZS1tZWRpYQ==" });
    if let Some(c) = caption {
        object["caption"] = json!(c);
    }
    object
}

/// A status webhook for `wamid`; `errors` appear as Meta sends them on `failed`.
pub fn status(
    phone_number_id: &str,
    wamid: &str,
    status: ProviderStatus,
    ts: i64,
    biz_opaque: Option<&str>,
    errors: &[ProviderError],
) -> Vec<u8> {
    let mut object = json!({
        "id": wamid, "status": status.as_str(), "timestamp": ts.to_string(), "recipient_id": TEST_RECIPIENT
    });
    if let Some(data) = biz_opaque {
        object["biz_opaque_callback_data"] = json!(data);
    }
    if !errors.is_empty() {
        let errors: Vec<Value> = errors
            .iter()
            .map(|e| {
                let mut v = json!({ "code": e.code, "title": e.title, "message": e.message });
                if let Some(d) = &e.details {
                    v["error_data"] = json!({ "details": d });
                }
                v
            })
            .collect();
        object["errors"] = json!(errors);
    }
    if matches!(
        status,
        ProviderStatus::Sent | ProviderStatus::Delivered | ProviderStatus::Read
    ) {
        object["pricing"] =
            json!({ "billable": true, "pricing_model": "PMP", "type": "regular", "category": "utility" });
    }
    let value = json!({
        "messaging_product": "whatsapp",
        "metadata": { "display_phone_number": TEST_DISPLAY_PHONE_NUMBER, "phone_number_id": phone_number_id },
        "statuses": [object]
    });
    envelope(TEST_WABA_ID, "messages", value)
}

/// A `message_template_status_update` delivery.
pub fn template_status(
    waba_id: &str,
    template_id: i64,
    name: &str,
    language: &str,
    event: &str,
    reason: Option<&str>,
) -> Vec<u8> {
    let value = json!({
        "event": event,
        "message_template_id": template_id,
        "message_template_name": name,
        "message_template_language": language,
        "reason": reason.unwrap_or("NONE"),
    });
    envelope(waba_id, "message_template_status_update", value)
}

/// A `user_preferences` delivery: `value` is `stop` or `resume` of marketing messages.
pub fn user_preference(phone_number_id: &str, wa_id: &str, value: &str, ts: i64) -> Vec<u8> {
    let detail = format!("User requested to {value} marketing messages");
    let value = json!({
        "messaging_product": "whatsapp",
        "metadata": { "display_phone_number": TEST_DISPLAY_PHONE_NUMBER, "phone_number_id": phone_number_id },
        "contacts": [{ "wa_id": wa_id }],
        "user_preferences": [{
            "wa_id": wa_id, "detail": detail, "category": "marketing_messages", "value": value, "timestamp": ts
        }]
    });
    envelope(TEST_WABA_ID, "user_preferences", value)
}

/// Merges several deliveries into one body (all their entries, in order), as Meta batches.
pub fn combine(bodies: &[Vec<u8>]) -> Vec<u8> {
    let entries: Vec<Value> = bodies
        .iter()
        .filter_map(|b| serde_json::from_slice::<Value>(b).ok())
        .flat_map(|v| v["entry"].as_array().cloned().unwrap_or_default())
        .collect();
    to_bytes(&json!({ "object": "whatsapp_business_account", "entry": entries }))
}

fn envelope(waba_id: &str, field: &str, value: Value) -> Vec<u8> {
    to_bytes(&json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": waba_id, "time": 1_750_000_000, "changes": [{ "field": field, "value": value }] }]
    }))
}

/// Serialises like Meta: non-ASCII as `\uXXXX` escapes, so signatures are computed over the
/// same kind of bytes the server receives in production.
fn to_bytes(v: &Value) -> Vec<u8> {
    let text = serde_json::to_string(v).expect("a JSON value always serialises");
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out.into_bytes()
}
