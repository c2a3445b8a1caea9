//! The WhatsApp channel: webhook intake, inbound processing, sending with the
//! session, consent, template, quota and tier rules, usage and templates.

pub mod inbound;
pub mod sandbox;
pub mod send;
pub mod status;
pub mod templates;
pub mod usage;
pub mod webhook;

/// Job kinds of this channel.
pub const JOB_WEBHOOK: &str = "whatsapp.webhook";
pub const JOB_SEND: &str = "whatsapp.send";
pub const JOB_TEMPLATE_SYNC: &str = "whatsapp.template_sync";

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
