//! Channels: the WhatsApp accounts (and later SMS and voice providers) a
//! workspace connects. Settings are validated per kind; secrets are
//! encrypted at rest and never returned.

pub mod routes;

pub use routes::routes;
