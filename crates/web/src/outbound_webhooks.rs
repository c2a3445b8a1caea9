//! Outbound webhooks (Standard Webhooks): admins register endpoints; the hub
//! posts its events to them signed with `webhook-id`, `webhook-timestamp` and
//! `webhook-signature`, retries failures with back-off, and disables an
//! endpoint after persistent failure.
//!
//! Events: `message.received`, `message.status`, `consent.changed`,
//! `usage.threshold`.

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::workers::JobError;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, post};
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use recado_core::ids::{new_id, IdKind};
use recado_store::jobs::Job;
use recado_store::outbound::{Endpoint, DELIVER_JOB};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::Sha256;

pub const EVENT_TYPES: [&str; 4] = [
    "message.received",
    "message.status",
    "consent.changed",
    "usage.threshold",
];

/// Failed attempts in a row after which an endpoint is disabled.
pub const DISABLE_AFTER_FAILURES: i64 = 30;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/webhooks", post(create).get(list))
        .route("/webhooks/{id}", delete(remove))
        .route("/webhooks/{id}/enable", post(enable))
}

pub fn register_jobs(registry: &mut crate::workers::Registry) {
    registry.register(
        DELIVER_JOB,
        std::sync::Arc::new(|state, job| Box::pin(deliver_job(state, job))),
    );
}

/// The Standard Webhooks signature: `v1,` + base64 HMAC-SHA256 over
/// `{id}.{timestamp}.{body}` with the secret's bytes.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &str) -> String {
    let key = secret
        .strip_prefix("whsec_")
        .and_then(|s| B64.decode(s).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec());
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("any key length");
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", B64.encode(mac.finalize().into_bytes()))
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
    let url = input.url.trim().to_string();
    if reqwest::Url::parse(&url)
        .map(|u| !matches!(u.scheme(), "http" | "https"))
        .unwrap_or(true)
    {
        return Err(ApiError::invalid(
            "invalid_url",
            "url",
            "the endpoint must be an http(s) URL",
        ));
    }
    let events = input.events.unwrap_or_else(|| vec!["*".into()]);
    if events.is_empty() || events.iter().any(|e| e != "*" && !EVENT_TYPES.contains(&e.as_str())) {
        return Err(ApiError::invalid(
            "invalid_events",
            "events",
            format!("events are `*` or some of {}", EVENT_TYPES.join(", ")),
        ));
    }
    let mut raw = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let secret = format!("whsec_{}", B64.encode(raw));
    let endpoint = Endpoint {
        id: new_id(IdKind::Channel).replacen("ch_", "whk_", 1),
        workspace_id: caller.workspace_id.clone(),
        url,
        secret: state.secrets.seal(&json!(secret)),
        events: events.join(","),
        enabled: true,
        consecutive_failures: 0,
        disabled_reason: None,
        created_at: state.clock.now_ms(),
    };
    state.store.create_endpoint(&endpoint).await?;
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

fn retry(e: impl std::fmt::Display) -> JobError {
    JobError::Retry {
        message: e.to_string(),
        retry_after_ms: None,
    }
}

pub async fn deliver_job(state: AppState, job: Job) -> Result<(), JobError> {
    let payload = job.payload_json();
    let (Some(endpoint_id), Some(event_id)) = (payload["endpoint_id"].as_str(), payload["event_id"].as_str()) else {
        return Err(JobError::Permanent("payload without endpoint_id or event_id".into()));
    };
    let Some(endpoint) = state.store.endpoint(endpoint_id).await.map_err(retry)? else {
        return Ok(());
    };
    if !endpoint.enabled {
        return Ok(());
    }
    let Some(event) = state.store.outbound_event(event_id).await.map_err(retry)? else {
        return Ok(());
    };
    let secret: String = serde_json::from_value(
        state
            .secrets
            .open(&endpoint.secret)
            .map_err(|e| JobError::Permanent(e.to_string()))?,
    )
    .map_err(|e| JobError::Permanent(e.to_string()))?;
    let body = json!({
        "type": event.kind,
        "timestamp": recado_core::clock::to_rfc3339(event.at),
        "data": serde_json::from_str::<Value>(&event.payload).unwrap_or(Value::Null),
    })
    .to_string();
    let timestamp = state.clock.now_ms() / 1000;
    let result = state
        .http
        .post(&endpoint.url)
        .header("content-type", "application/json")
        .header("webhook-id", &event.id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature(&secret, &event.id, timestamp, &body))
        .timeout(std::time::Duration::from_secs(10))
        .body(body)
        .send()
        .await;
    match result {
        Ok(r) if r.status().is_success() => {
            state.store.endpoint_succeeded(&endpoint.id).await.map_err(retry)?;
            Ok(())
        }
        outcome => {
            let reason = match outcome {
                Ok(r) => format!("endpoint answered {}", r.status()),
                Err(e) => format!("endpoint unreachable: {e}"),
            };
            let disabled = state
                .store
                .endpoint_failed(&endpoint.id, DISABLE_AFTER_FAILURES, &reason)
                .await
                .map_err(retry)?;
            if disabled {
                tracing::warn!(endpoint = %endpoint.id, "webhook endpoint disabled after persistent failure");
                return Ok(());
            }
            Err(JobError::Retry {
                message: reason,
                retry_after_ms: None,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn signatures_follow_the_standard_webhooks_scheme() {
        // Vector from the Standard Webhooks specification.
        let sig = super::signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
