//! Provider adapters of the Recado hub: provider I/O and payload parsing only.
//!
//! Nothing here touches the database or decides business rules (consent, sessions, quotas):
//! the server owns those and calls into this crate to verify, parse, build and send.
//!
//! - [`sms`]: the Twilio-style HTTP SMS API (send, signed status callbacks, inbound webhook) and
//!   SMPP as an ESME (bind, window, throughput, receipts, MO messages).
//! - [`whatsapp`]: Meta's WhatsApp Cloud API and BSPs that expose the same message format
//!   (360dialog), from webhook signature checks to the HTTP client.

pub mod sms;
pub mod voice;
pub mod whatsapp;
