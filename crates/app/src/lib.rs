//! Recado's services, job handlers and workers: the hub without HTTP. The web
//! crate maps what happens here to the API's status codes and pages; nothing
//! here knows about them.

pub mod auth;
pub mod bootstrap;
pub mod broadcasts;
pub mod caches;
pub mod campaigns;
pub mod channel_cache;
pub mod channels;
pub mod consent;
pub mod contacts;
pub mod dispatch;
pub mod email;
pub mod error;
pub mod idempotency;
pub mod inbox;
pub mod live;
pub mod messages;
pub mod node;
pub mod outbound_webhooks;
pub mod provider_metrics;
pub mod sandbox;
pub mod scrape_metrics;
pub mod secrets;
pub mod segments;
pub mod settings;
pub mod sms;
pub mod state;
pub mod throttle;
pub mod users;
pub mod voice;
pub mod webhook_writer;
pub mod whatsapp;
pub mod workers;
pub mod workflows;
pub mod workspaces;

pub use error::{AppError, AppResult, ErrorKind};
pub use settings::{PasswordCost, Secret, Settings};
pub use state::AppState;
