//! The SMS channel: composition (tokens, short links, UTM, unsubscribe URL),
//! sending with consent, sender and segment rules, provider dispatch, delivery
//! receipts, inbound replies and keywords, and the public link pages.

pub mod http;
pub use recado_app::sms::{compose, inbound, providers, receipts, send, smpp, unsubscribe};
pub mod public;
pub mod sandbox;

use crate::app::AppState;
use axum::routing::get;
use axum::Router;

pub fn public_routes() -> Router<AppState> {
    Router::new()
        .route("/s/{code}", get(public::follow_link))
        .route("/u/{token}", get(public::unsubscribe_page).post(public::unsubscribe))
        .route("/webhooks/sms/{channel_id}", axum::routing::post(http::receive))
}
