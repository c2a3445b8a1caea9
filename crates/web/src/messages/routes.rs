use super::view::{message_view, MessageView};
use crate::app::AppState;
use crate::auth::Caller;
use crate::contacts::routes_support::workspace_of;
use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_json, read_body, require_json_content_type};
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
pub use recado_app::messages::request::{send_requested, MediaInput, MessageInput};

/// The routes; a send takes an `Idempotency-Key` (see `crate::idempotency`).
pub fn routes(state: &AppState) -> Router<AppState> {
    // `route_layer`: a method the route does not have stays a plain 405.
    let idempotent = axum::middleware::from_fn_with_state(state.clone(), crate::idempotency::idempotent);
    Router::new()
        .route("/messages", post(create_message).route_layer(idempotent))
        .route("/messages/{id}", get(get_message))
}

#[utoipa::path(post, path = "/api/v1/messages", request_body = MessageInput,
    responses((status = 202, body = MessageView), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_message(
    State(state): State<AppState>,
    caller: Caller,
    req: Request,
) -> ApiResult<(StatusCode, Json<MessageView>)> {
    require_json_content_type(req.headers())?;
    let body = read_body(req, &state).await?;
    let input: MessageInput = parse_json(&body)?;
    let ws = workspace_of(&state, &caller).await?;
    let record = send_requested(&state, &ws, input).await?;
    let events = state.store.message_events(&record.id).await?;
    Ok((StatusCode::ACCEPTED, Json(message_view(record, events))))
}

#[utoipa::path(get, path = "/api/v1/messages/{id}", responses((status = 200, body = MessageView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_message(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<MessageView>> {
    let m = state
        .store
        .message(&caller.workspace_id, &id)
        .await
        .map_err(|e| match e {
            recado_store::StoreError::NotFound => ApiError::not_found("message"),
            other => other.into(),
        })?;
    let events = state.store.message_events(&m.id).await?;
    Ok(Json(message_view(m, events)))
}
