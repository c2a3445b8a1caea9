//! The router of every route.

use crate::error::ApiError;
use crate::{consent, contacts, ops, request_trace, users};
use axum::extract::DefaultBodyLimit;
use axum::Router;
use recado_app::AppState;

/// Every route of the hub.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .merge(contacts::routes())
        .merge(crate::inbox::routes())
        .merge(consent::routes())
        .merge(users::routes())
        .merge(ops::api_routes())
        .merge(crate::sms_api::routes())
        .merge(crate::voice::routes())
        .merge(crate::channels::routes())
        .merge(crate::messages::routes(&state))
        .merge(crate::whatsapp::api_routes())
        .merge(crate::outbound_webhooks::routes())
        .merge(crate::segments::routes())
        .merge(crate::campaigns::routes())
        .merge(crate::broadcasts::routes())
        .merge(crate::workflows::routes());
    Router::new()
        .nest("/api/v1", api)
        .merge(ops::routes())
        .merge(crate::whatsapp::webhook_routes())
        .merge(crate::sms::public_routes())
        .merge(crate::voice::public_routes())
        .merge(crate::voice_webhooks::routes())
        .merge(crate::workflows::hook_routes())
        .merge(crate::ui::routes())
        .fallback(|| async { ApiError::not_found("route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this method is not allowed here",
            )
        })
        .layer(DefaultBodyLimit::max(state.settings.max_body_bytes))
        .layer(axum::middleware::from_fn(crate::extract::refuse_nul_in_uri))
        .layer(axum::middleware::from_fn(ops::track_requests))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            axum::response::IntoResponse::into_response(ApiError::internal("a request handler panicked"))
        }))
        // Outermost, so a refused or panicked request still gets its id
        // and is logged inside its span.
        .layer(request_trace::propagate_request_id_layer())
        .layer(request_trace::trace_layer())
        .layer(request_trace::set_request_id_layer())
        .with_state(state)
}
