//! Channels: the WhatsApp accounts (and later SMS and voice providers) a
//! workspace connects. Settings are validated per kind; secrets are
//! encrypted at rest and never returned.

pub use recado_app::channels::{config, registry, sms_config};
pub mod routes;

pub use config::{ChannelKind, WhatsAppChannel};
pub use routes::routes;
pub use sms_config::{SmsChannel, SmsKind};
