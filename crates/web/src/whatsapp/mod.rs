//! The WhatsApp channel: webhook intake, inbound processing, sending with the
//! session, consent, template, quota and tier rules, usage and templates.

pub mod sandbox;
pub mod session;
pub mod templates;
pub mod usage;
pub mod webhook;

use axum::routing::{get, post, put};
use axum::Router;
use recado_app::AppState;

pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/whatsapp/usage", get(usage::get_usage))
        .route("/whatsapp/usage/settings", put(usage::put_settings))
        .route("/whatsapp/usage/packs", post(usage::add_packs))
        .route("/notifications", get(usage::list_notifications))
        .route("/contacts/{id}/whatsapp/session", get(session::get_session))
        .route("/whatsapp/templates", get(templates::list_templates))
        .route("/whatsapp/templates/sync", post(templates::sync_templates))
        .route("/channels/{id}/simulate", post(sandbox::simulate))
}

pub fn webhook_routes() -> Router<AppState> {
    Router::new().route(
        "/webhooks/whatsapp/{channel_id}",
        get(webhook::handshake).post(webhook::receive),
    )
}
