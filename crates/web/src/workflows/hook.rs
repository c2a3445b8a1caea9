//! `POST /hooks/workflows/{id}`: a signed call enrols the contact it names.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use recado_app::workflows::enrol::{webhook, WebhookRefusal};
use recado_app::AppState;
use serde_json::{json, Value};

pub fn hook_routes() -> Router<AppState> {
    Router::new().route("/hooks/workflows/{id}", post(receive))
}

/// 202 `{"run_id"}`; 401 `bad_signature`; 404 without a webhook trigger;
/// 409 `workflow_not_active`.
pub async fn receive(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let signature = headers.get("x-recado-signature").and_then(|v| v.to_str().ok());
    match webhook(&state, &id, signature, &body).await {
        Ok(run_id) => Ok((StatusCode::ACCEPTED, Json(json!({ "run_id": run_id })))),
        Err(WebhookRefusal::NoWebhook) => Err(ApiError::not_found("workflow webhook")),
        Err(WebhookRefusal::BadSignature) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_signature",
            "the X-Recado-Signature header does not match the workflow's webhook secret",
        )),
        Err(WebhookRefusal::Other(e)) => Err(e.into()),
    }
}
