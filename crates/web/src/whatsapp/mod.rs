//! The WhatsApp channel: webhook intake, inbound processing, sending with the
//! session, consent, template, quota and tier rules, usage and templates.

pub mod inbound;
pub mod sandbox;
pub mod send;
pub mod status;
pub mod templates;
pub mod usage;
pub mod webhook;

use crate::app::AppState;
use axum::routing::{get, post, put};
use axum::Router;

/// Job kinds of this channel.
pub const JOB_WEBHOOK: &str = "whatsapp.webhook";
pub const JOB_SEND: &str = "whatsapp.send";
pub const JOB_TEMPLATE_SYNC: &str = "whatsapp.template_sync";

pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/whatsapp/usage", get(usage::get_usage))
        .route("/whatsapp/usage/settings", put(usage::put_settings))
        .route("/whatsapp/usage/packs", post(usage::add_packs))
        .route("/notifications", get(usage::list_notifications))
        .route("/contacts/{id}/whatsapp/session", get(send::get_session))
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

pub fn register_jobs(registry: &mut crate::workers::Registry) {
    registry.register(
        JOB_WEBHOOK,
        std::sync::Arc::new(|state, job| Box::pin(inbound::process_event_job(state, job))),
    );
    registry.register(
        JOB_SEND,
        std::sync::Arc::new(|state, job| Box::pin(send::send_job(state, job))),
    );
    registry.on_buried(
        JOB_SEND,
        std::sync::Arc::new(|state, job| Box::pin(send::send_buried(state, job))),
    );
    registry.register(
        JOB_TEMPLATE_SYNC,
        std::sync::Arc::new(|state, job| Box::pin(templates::sync_job(state, job))),
    );
}
