//! Outbound webhooks (Standard Webhooks): admins register endpoints; the hub
//! posts its events to them signed with `webhook-id`, `webhook-timestamp` and
//! `webhook-signature`, retries failures with back-off, and disables an
//! endpoint after persistent failure.
//!
//! Events: `message.received`, `message.status`, `consent.changed`,
//! `usage.threshold`.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, post};
use axum::{Json, Router};
use recado_app::outbound_webhooks::*;
use recado_app::AppState;
use recado_store::outbound::Endpoint;
use serde::Deserialize;
use serde_json::{json, Value};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/webhooks", post(create).get(list))
        .route("/webhooks/{id}", delete(remove))
        .route("/webhooks/{id}/enable", post(enable))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointInput {
    url: String,
    /// Event types, or `["*"]` (default) for all.
    events: Option<Vec<String>>,
}

fn view(e: &Endpoint) -> Value {
    json!({
        "id": e.id, "url": e.url, "events": e.events.split(',').collect::<Vec<_>>(), "enabled": e.enabled,
        "consecutive_failures": e.consecutive_failures, "disabled_reason": e.disabled_reason,
        "created_at": recado_core::clock::to_rfc3339(e.created_at),
    })
}

#[utoipa::path(post, path = "/api/v1/webhooks", request_body = EndpointInput, responses((status = 201, description = "the endpoint and its signing secret, shown once")))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<EndpointInput>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require_admin()?;
    let (endpoint, secret) = create_endpoint(&state, &caller.workspace_id, &input.url, input.events).await?;
    let mut body = view(&endpoint);
    body["secret"] = json!(secret);
    Ok((StatusCode::CREATED, Json(body)))
}

#[utoipa::path(get, path = "/api/v1/webhooks", responses((status = 200)))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require_admin()?;
    let items: Vec<Value> = state
        .store
        .endpoints(&caller.workspace_id)
        .await?
        .iter()
        .map(view)
        .collect();
    Ok(Json(json!({ "items": items, "next_cursor": null })))
}

#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", responses((status = 204)))]
pub async fn remove(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    caller.require_admin()?;
    state
        .store
        .delete_endpoint(&caller.workspace_id, &id)
        .await
        .map_err(|e| match e {
            recado_store::StoreError::NotFound => ApiError::not_found("webhook endpoint"),
            other => other.into(),
        })?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/webhooks/{id}/enable", responses((status = 204)))]
pub async fn enable(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<StatusCode> {
    caller.require_admin()?;
    state
        .store
        .enable_endpoint(&caller.workspace_id, &id)
        .await
        .map_err(|e| match e {
            recado_store::StoreError::NotFound => ApiError::not_found("webhook endpoint"),
            other => other.into(),
        })?;
    Ok(StatusCode::NO_CONTENT)
}
