//! Recado's HTTP side: the API, provider webhooks, public pages and the web
//! UI. Every rule and service it calls lives in `recado-app`.

pub mod app;
pub mod auth;
pub mod broadcasts;
pub mod campaigns;
pub mod channels;
pub mod consent;
pub mod contacts;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod inbox;
pub mod list;
pub mod messages;
pub mod openapi;
pub mod ops;
pub mod outbound_webhooks;
pub mod request_trace;
pub mod segments;
pub mod sms;
pub mod sms_api;
pub mod ui;
pub mod users;
pub mod voice;
pub mod voice_webhooks;
pub mod whatsapp;
pub mod workflows;

pub use app::router;
