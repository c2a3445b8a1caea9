//! Channels: the settings of each kind (WhatsApp accounts, SMS providers) and
//! the registry that reads a stored channel back with its decrypted secrets.

pub mod admin;
pub mod config;
pub mod registry;
pub mod sms_config;

pub use config::{ChannelKind, WhatsAppChannel};
pub use registry::decode_sms;
pub use sms_config::{SmsChannel, SmsKind};
