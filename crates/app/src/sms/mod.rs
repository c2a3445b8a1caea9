//! The SMS channel: composition (tokens, short links, UTM, unsubscribe URL),
//! sending with consent, sender and segment rules, provider dispatch, delivery
//! receipts, inbound replies and keywords, and the public link pages.

pub mod compose;
pub mod http;
pub mod inbound;
pub mod providers;
pub mod receipts;
pub mod send;
pub mod smpp;
pub mod unsubscribe;

pub const JOB_SEND: &str = "sms.send";
pub const JOB_SANDBOX_RECEIPT: &str = "sms.sandbox_receipt";

pub fn register_jobs(registry: &mut crate::workers::Registry) {
    registry.register(
        JOB_SEND,
        std::sync::Arc::new(|state, job| Box::pin(send::send_job(state, job))),
    );
    registry.on_buried(
        JOB_SEND,
        std::sync::Arc::new(|state, job| Box::pin(send::send_buried(state, job))),
    );
    registry.register(
        http::JOB_WEBHOOK,
        std::sync::Arc::new(|state, job| Box::pin(http::process_job(state, job))),
    );
    registry.register(
        smpp::JOB_RECEIPT,
        std::sync::Arc::new(|state, job| Box::pin(smpp::receipt_job(state, job))),
    );
    registry.register(
        smpp::JOB_INBOUND,
        std::sync::Arc::new(|state, job| Box::pin(smpp::inbound_job(state, job))),
    );
    registry.register(
        JOB_SANDBOX_RECEIPT,
        std::sync::Arc::new(|state, job| Box::pin(providers::sandbox_receipt_job(state, job))),
    );
}
