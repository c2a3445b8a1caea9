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

/// The body of a webhook trigger call (for the OpenAPI document; the
/// handler reads the raw bytes, since the signature covers them exactly).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct HookCall {
    /// `{"phone"?, "email"?, "properties"?}`: the contact to enrol, matched by
    /// the trigger's `match` fields and created when it allows.
    #[schema(value_type = Object)]
    contact: Value,
    /// Fields usable in the workflow's texts as `{{trigger.data.x}}`.
    #[schema(value_type = Option<Object>)]
    data: Option<Value>,
}

/// 202 `{"run_id"}`; 401 `bad_signature`; 404 without a webhook trigger;
/// 409 `workflow_not_active`.
/// The run a webhook call started.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct HookAccepted {
    run_id: String,
}

#[utoipa::path(post, path = "/hooks/workflows/{id}", security(()),
    params(("id" = String, Path),
        ("X-Recado-Signature" = String, Header,
         description = "`sha256=<hex HMAC-SHA256 of the raw body with the workflow's webhook secret>`")),
    request_body = HookCall,
    responses((status = 202, description = "the contact is enrolled", body = HookAccepted),
        (status = 401, description = "`bad_signature`", body = crate::error::ErrorBody),
        (status = 404, description = "no such workflow, or it has no webhook trigger", body = crate::error::ErrorBody),
        (status = 409, description = "`workflow_not_active`", body = crate::error::ErrorBody),
        (status = 422, description = "`bad_request`: a signed body that does not read as `{contact, data}`", body = crate::error::ErrorBody)))]
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
