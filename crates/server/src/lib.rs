//! Recado, the hub: configuration, HTTP routes, services and workers. `main.rs`
//! only parses the command line; tests build the same [`app::Application`].

pub mod app;
pub mod auth;
pub mod bootstrap;
pub mod channel_cache;
pub mod channels;
pub mod cli;
pub mod config;
pub mod consent;
pub mod contacts;
pub mod demo;
pub mod error;
pub mod extract;
pub mod inbox;
pub mod list;
pub mod live;
pub mod messages;
pub mod openapi;
pub mod ops;
pub mod outbound_webhooks;
pub mod secrets;
pub mod sms;
pub mod sms_api;
pub mod ui;
pub mod users;
pub mod webhook_writer;
pub mod whatsapp;
pub mod workers;

pub use app::{AppState, Application};
