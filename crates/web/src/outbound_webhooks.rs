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
    /// An http(s) URL.
    #[schema(format = "uri", pattern = "^\\s*[hH][tT][tT][pP][sS]?://[^\\s/?#]+")]
    url: String,
    /// Event types, or `["*"]` (default) for all.
    #[schema(schema_with = event_types)]
    events: Option<Vec<String>>,
}

fn event_types() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    let mut names = vec!["*"];
    names.extend(recado_app::outbound_webhooks::EVENT_TYPES);
    crate::openapi::schema(
        json!({"type": ["array", "null"], "minItems": 1, "items": {"type": "string", "enum": names}}),
    )
}

fn view(e: &Endpoint) -> Value {
    json!({
        "id": e.id, "url": e.url, "events": e.events.split(',').collect::<Vec<_>>(), "enabled": e.enabled,
        "consecutive_failures": e.consecutive_failures, "disabled_reason": e.disabled_reason,
        "created_at": recado_core::clock::to_rfc3339(e.created_at),
    })
}

/// An endpoint the hub posts its events to.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct EndpointView {
    id: String,
    url: String,
    events: Vec<String>,
    enabled: bool,
    consecutive_failures: i64,
    /// Why the hub stopped delivering, when it did.
    disabled_reason: Option<String>,
    created_at: String,
    /// The signing secret: only in the answer to the creation.
    secret: Option<String>,
}

/// The endpoints.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct EndpointList {
    items: Vec<EndpointView>,
    /// Always `null`: every endpoint is listed.
    next_cursor: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/webhooks", request_body = EndpointInput,
    responses((status = 201, description = "the endpoint and its signing secret, shown once", body = EndpointView), (status = 403, description = "`forbidden`: admins only", body = crate::error::ErrorBody),
        (status = 422, description = "`invalid_url`, `invalid_events`", body = crate::error::ErrorBody)))]
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

#[utoipa::path(get, path = "/api/v1/webhooks", responses((status = 200, description = "the workspace's endpoints", body = EndpointList), (status = 403, description = "`forbidden`: admins only", body = crate::error::ErrorBody)))]
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

#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", params(("id" = String, Path, description = "the endpoint's id")), responses((status = 204, description = "the endpoint is gone"), (status = 403, description = "`forbidden`: admins only", body = crate::error::ErrorBody)))]
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

#[utoipa::path(post, path = "/api/v1/webhooks/{id}/enable", params(("id" = String, Path, description = "the endpoint's id")), responses((status = 204, description = "deliveries start again"), (status = 403, description = "`forbidden`: admins only", body = crate::error::ErrorBody)))]
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
