//! Channels: the settings of each kind (WhatsApp accounts, SMS and voice providers) and
//! the registry that reads a stored channel back with its decrypted secrets.

pub mod admin;
pub mod check;
pub mod config;
pub mod health;
pub mod registry;
pub mod sms_config;
pub mod voice_config;

pub use config::{ChannelKind, WhatsAppChannel};
pub use registry::decode_sms;
pub use sms_config::{SmsChannel, SmsKind};
pub use voice_config::{VoiceChannel, VoiceKind};

/// Where a provider posts the webhooks of channel `id`; `None` for kinds
/// that receive none (the SMS sandbox, SMPP, which delivers over its bind).
pub fn webhook_url(public_url: &str, kind: &str, id: &str) -> Option<String> {
    match kind {
        "whatsapp_cloud" | "whatsapp_360dialog" | "whatsapp_sandbox" => {
            Some(format!("{public_url}/webhooks/whatsapp/{id}"))
        }
        "sms_http" => Some(format!("{public_url}/webhooks/sms/{id}")),
        "voice_http" => Some(format!("{public_url}/webhooks/voice/{id}")),
        _ => None,
    }
}
