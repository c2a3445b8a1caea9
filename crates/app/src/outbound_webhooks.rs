//! Outbound webhooks (Standard Webhooks): admins register endpoints; the hub
//! posts its events to them signed with `webhook-id`, `webhook-timestamp` and
//! `webhook-signature`, retries failures with back-off, and disables an
//! endpoint after persistent failure.
//!
//! Events: `message.received`, `message.status`, `consent.changed`,
//! `usage.threshold`.

use crate::workers::JobError;
use crate::AppState;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
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
            state.store.endpoint_succeeded(&endpoint.id).await?;
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
