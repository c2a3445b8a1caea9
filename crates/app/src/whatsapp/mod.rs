//! The WhatsApp channel: webhook intake, inbound processing, sending with the
//! session, consent, template, quota and tier rules, usage and templates.

pub mod inbound;
pub mod reconcile;
pub mod sandbox;
pub mod send;
pub mod status;
pub mod templates;
pub mod usage;
pub mod webhook;
