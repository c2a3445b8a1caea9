//! Outbound webhooks (Standard Webhooks): admins register endpoints; the hub
//! posts its events to them signed with `webhook-id`, `webhook-timestamp` and
//! `webhook-signature`, retries failures with back-off, and disables an
//! endpoint after persistent failure.
//!
//! Events: `message.received`, `message.status`, `consent.changed`,
//! `usage.threshold`.

use crate::workers::JobError;
use crate::{AppError, AppResult, AppState};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use recado_core::ids::{new_id, IdKind};
use recado_store::outbound::{Delivery, Endpoint, OutboundEvent};
use serde_json::{json, Value};
use sha2::Sha256;

pub const EVENT_TYPES: [&str; 6] = [
    "message.received",
    "message.status",
    "consent.changed",
    "usage.threshold",
    "workflow.run.completed",
    "workflow.action.failed",
];

/// Failed attempts in a row after which an endpoint is disabled.
pub const DISABLE_AFTER_FAILURES: i64 = 30;

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

/// Longest part of an endpoint's answer kept with a delivery, in characters.
const RESPONSE_KEPT_CHARS: usize = 500;

/// Registers an endpoint for `events` (`["*"]` when none are named; 422
/// `invalid_url`, `invalid_events`) and returns it with its signing secret,
/// which is shown only now.
pub async fn create_endpoint(
    state: &AppState,
    workspace_id: &str,
    url: &str,
    events: Option<Vec<String>>,
) -> AppResult<(Endpoint, String)> {
    let url = url.trim().to_string();
    if reqwest::Url::parse(&url)
        .map(|u| !matches!(u.scheme(), "http" | "https"))
        .unwrap_or(true)
    {
        return Err(AppError::invalid(
            "invalid_url",
            "url",
            "the endpoint must be an http(s) URL",
        ));
    }
    let events = events.unwrap_or_else(|| vec!["*".into()]);
    if events.is_empty() || events.iter().any(|e| e != "*" && !EVENT_TYPES.contains(&e.as_str())) {
        return Err(AppError::invalid(
            "invalid_events",
            "events",
            format!("events are `*` or some of {}", EVENT_TYPES.join(", ")),
        ));
    }
    let mut raw = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let secret = format!("whsec_{}", B64.encode(raw));
    let endpoint = Endpoint {
        id: new_id(IdKind::WebhookEndpoint),
        workspace_id: workspace_id.to_string(),
        url,
        secret: state.secrets.seal(&json!(secret)),
        events: events.join(","),
        enabled: true,
        consecutive_failures: 0,
        disabled_reason: None,
        created_at: state.clock.now_ms(),
    };
    state.store.create_endpoint(&endpoint).await?;
    Ok((endpoint, secret))
}

/// What an endpoint answered to one delivery.
struct Attempt {
    status: Option<u16>,
    ok: bool,
    response: String,
}

/// Posts one signed event to an endpoint and records the attempt.
async fn post_signed(state: &AppState, endpoint: &Endpoint, event: &OutboundEvent) -> Result<Attempt, JobError> {
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
    let attempt = match result {
        Ok(r) => {
            let status = r.status();
            let text = r.text().await.unwrap_or_default();
            Attempt {
                status: Some(status.as_u16()),
                ok: status.is_success(),
                response: text.chars().take(RESPONSE_KEPT_CHARS).collect(),
            }
        }
        Err(e) => Attempt {
            status: None,
            ok: false,
            response: format!("unreachable: {}", e.without_url()),
        },
    };
    let delivery = Delivery {
        id: new_id(IdKind::WebhookDelivery),
        endpoint_id: endpoint.id.clone(),
        workspace_id: endpoint.workspace_id.clone(),
        event_id: event.id.clone(),
        event_type: event.kind.clone(),
        at: state.clock.now_ms(),
        status_code: attempt.status.map(i64::from),
        ok: attempt.ok,
        response: attempt.response.clone(),
    };
    if let Err(e) = state.store.record_delivery(&delivery).await {
        tracing::warn!(endpoint = %endpoint.id, error = %e, "a webhook delivery could not be recorded");
    }
    Ok(attempt)
}

pub async fn deliver_job(state: AppState, endpoint_id: String, event_id: String) -> Result<(), JobError> {
    let (endpoint_id, event_id) = (endpoint_id.as_str(), event_id.as_str());
    let Some(endpoint) = state.store.endpoint(endpoint_id).await? else {
        return Ok(());
    };
    if !endpoint.enabled {
        return Ok(());
    }
    let Some(event) = state.store.outbound_event(event_id).await? else {
        return Ok(());
    };
    let attempt = post_signed(&state, &endpoint, &event).await?;
    if attempt.ok {
        state.store.endpoint_succeeded(&endpoint.id).await?;
        return Ok(());
    }
    let reason = match attempt.status {
        Some(code) => format!("endpoint answered {code}"),
        None => format!("endpoint {}", attempt.response),
    };
    let disabled = state
        .store
        .endpoint_failed(&endpoint.id, DISABLE_AFTER_FAILURES, &reason)
        .await?;
    if disabled {
        tracing::warn!(endpoint = %endpoint.id, "webhook endpoint disabled after persistent failure");
        return Ok(());
    }
    Err(JobError::Retry {
        message: reason,
        retry_after_ms: None,
    })
}

/// The event type of a test delivery.
pub const TEST_EVENT: &str = "webhook.test";

/// Sends a `webhook.test` event to one endpoint now (enabled or not, so an
/// admin can check a repaired endpoint before re-enabling it) and returns
/// the recorded attempt (404 for no such endpoint).
pub async fn send_test(state: &AppState, workspace_id: &str, endpoint_id: &str) -> AppResult<Delivery> {
    let endpoint = state
        .store
        .endpoint(endpoint_id)
        .await?
        .filter(|e| e.workspace_id == workspace_id)
        .ok_or_else(|| AppError::not_found("webhook endpoint"))?;
    let now = state.clock.now_ms();
    let event = OutboundEvent {
        id: new_id(IdKind::Event),
        workspace_id: workspace_id.to_string(),
        kind: TEST_EVENT.into(),
        payload: json!({"message": "A test event from Recado: this endpoint receives signed webhooks."}).to_string(),
        at: now,
    };
    post_signed(state, &endpoint, &event)
        .await
        .map_err(|e| AppError::internal(format!("{e:?}")))?;
    state
        .store
        .deliveries(workspace_id, endpoint_id, 1)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::internal("the test delivery was not recorded"))
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
