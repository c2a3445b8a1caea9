//! The SMS channel's HTTP side: the provider webhook and the public link and
//! unsubscribe pages (the channel's services are `recado_app::sms`).

pub mod http;
pub mod public;

use axum::routing::get;
use axum::Router;
use recado_app::AppState;

pub fn public_routes() -> Router<AppState> {
    Router::new()
        .route("/s/{code}", get(public::follow_link))
        .route("/u/{token}", get(public::unsubscribe_page).post(public::unsubscribe))
        .route("/webhooks/sms/{channel_id}", axum::routing::post(http::receive))
}
