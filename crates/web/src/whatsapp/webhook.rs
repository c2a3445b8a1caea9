//! `GET|POST /webhooks/whatsapp/{channel_id}`: Meta's verification handshake,
//! and signed deliveries stored raw before the 200, processed by a job.

use crate::error::{ApiError, ApiResult};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use recado_app::channels::registry::{decode, LoadedChannel};
use recado_app::channels::ChannelKind;
use recado_app::whatsapp::webhook::ingest;
use recado_app::AppState;
use recado_channels::whatsapp::{verify_signature, verify_token_matches};
use std::collections::HashMap;
use std::sync::Arc;

async fn channel_for_webhook(state: &AppState, channel_id: &str) -> ApiResult<Arc<LoadedChannel>> {
    if let Some(hit) = state.channel_cache.get(channel_id) {
        return Ok(hit);
    }
    let record = state
        .store
        .channel_by_id(channel_id)
        .await?
        .ok_or_else(|| ApiError::not_found("channel"))?;
    if ChannelKind::parse(&record.kind).is_none() {
        return Err(ApiError::not_found("channel"));
    }
    let channel = Arc::new(decode(state, record)?);
    state.channel_cache.put(channel_id, channel.clone());
    Ok(channel)
}

/// Meta's subscription check: echo `hub.challenge` when `hub.verify_token`
/// matches the channel's token.
#[utoipa::path(get, path = "/webhooks/whatsapp/{channel_id}", security(()), tag = "whatsapp",
    params(("channel_id" = String, Path, description = "the WhatsApp channel's id"),
        ("hub.mode" = Option<String>, Query, description = "`subscribe`"),
        ("hub.verify_token" = Option<String>, Query, description = "the channel's verify token"),
        ("hub.challenge" = Option<String>, Query, description = "echoed when the token matches")),
    responses((status = 200, description = "the challenge, echoed", content_type = "text/plain", body = String),
        (status = 403, description = "`verification_failed`: `hub.mode` or `hub.verify_token` is wrong", body = crate::error::ErrorBody)))]
pub async fn handshake(
    State(state): State<AppState>,
    Path(channel_id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let channel = match channel_for_webhook(&state, &channel_id).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let mode_ok = q.get("hub.mode").map(String::as_str) == Some("subscribe");
    let token_ok = q
        .get("hub.verify_token")
        .is_some_and(|t| verify_token_matches(&channel.whatsapp.verify_token, t));
    match (mode_ok && token_ok, q.get("hub.challenge")) {
        (true, Some(challenge)) => (StatusCode::OK, challenge.clone()).into_response(),
        _ => ApiError::new(
            StatusCode::FORBIDDEN,
            "verification_failed",
            "hub.mode or hub.verify_token is wrong",
        )
        .into_response(),
    }
}

/// Checks the delivery's authenticity: the `X-Hub-Signature-256` HMAC over the
/// raw bytes with the app secret (required of every provider kind).
fn authentic(channel: &LoadedChannel, headers: &HeaderMap, body: &[u8]) -> bool {
    let header = headers.get("x-hub-signature-256").and_then(|v| v.to_str().ok());
    verify_signature(channel.whatsapp.app_secret.as_bytes(), body, header)
}

/// A delivery of Meta's (messages, statuses, template changes), signed with
/// the app secret; stored before the 200 and processed by a job.
#[utoipa::path(post, path = "/webhooks/whatsapp/{channel_id}", security(()), tag = "whatsapp",
    params(("channel_id" = String, Path, description = "the WhatsApp channel's id"),
        ("X-Hub-Signature-256" = String, Header, description = "`sha256=<hex HMAC-SHA256 of the raw body with the app secret>`")),
    request_body(content = Object, description = "the WhatsApp Business webhook payload, as Meta sends it"),
    responses((status = 200, description = "stored; processed shortly"),
        (status = 401, description = "`bad_signature`: the signature does not match", body = crate::error::ErrorBody)))]
pub async fn receive(
    State(state): State<AppState>,
    Path(channel_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let channel = channel_for_webhook(&state, &channel_id).await?;
    if !authentic(&channel, &headers, &body) {
        metrics::counter!("recado_webhooks_total", "provider" => "whatsapp", "outcome" => "bad_signature").increment(1);
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_signature",
            "the webhook signature does not match",
        ));
    }
    ingest(&state, &channel, &body).await?;
    Ok(StatusCode::OK)
}
