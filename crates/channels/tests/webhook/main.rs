//! Parsing of webhook deliveries: every inbound type, statuses, template status, out-of-band
//! errors, batches and refused envelopes. Fixtures are composed in Meta's documented shapes.

mod envelope;
mod inbound;
mod status;
mod testkit_bodies;

use recado_channels::whatsapp::{parse_webhook, InboundMessage, WebhookItem};
use serde_json::{json, Value};

pub const PHONE_ID: &str = "1065000001";
pub const WABA: &str = "419561257915477";

/// A `messages` delivery carrying `message` from Ana.
pub fn delivery(message: Value) -> Vec<u8> {
    let body = json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": WABA, "changes": [{ "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": { "display_phone_number": "15550001111", "phone_number_id": PHONE_ID },
            "contacts": [{ "profile": { "name": "Ana" }, "wa_id": "5511900000001" }],
            "messages": [message]
        } }] }]
    });
    serde_json::to_vec(&body).unwrap()
}

/// A message object of `type` with its object, from Ana.
pub fn message(ty: &str, object: Value) -> Value {
    let mut m = json!({ "from": "5511900000001", "id": "wamid.A1", "timestamp": "1750000000", "type": ty });
    m[ty] = object;
    m
}

/// Parses a delivery that must hold exactly one inbound message.
#[track_caller]
pub fn only_message(body: &[u8]) -> InboundMessage {
    let mut items = parse_webhook(body).expect("delivery parses");
    assert_eq!(items.len(), 1, "{items:?}");
    match items.remove(0) {
        WebhookItem::Message(m) => m,
        other => panic!("expected a message, got {other:?}"),
    }
}
