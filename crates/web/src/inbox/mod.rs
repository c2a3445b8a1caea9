//! The help desk: threads with their tickets, listed by view (open, closed,
//! mine, unassigned, by channel, saved views), searched, answered and
//! assigned. `service` holds what the API and the web UI share; `api` is the
//! JSON contract of API.md "Help desk"; `views` the saved views.

pub mod api;
pub mod views;

use axum::routing::{delete, get, post};
use axum::Router;
use recado_app::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/threads", get(api::list_threads))
        .route("/threads/counts", get(api::counts))
        .route("/threads/{id}", get(api::get_thread).patch(api::patch_thread))
        .route("/threads/{id}/messages", post(api::post_message))
        .route("/views", get(views::list_views).post(views::create_view))
        .route("/views/{id}", delete(views::delete_view))
}
