//! `GET /inbox/media/{message_id}`: the media of an inbound message, fetched
//! from the provider for the signed-in agent. Provider media URLs need the
//! account's token and expire within minutes, so browsers get them through
//! the hub; a quarantined message's media is never served.

use super::page::{UiError, UiResult};
use super::session::WebUser;
use crate::error::ApiError;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use recado_app::channels::config::ChannelKind;
use recado_app::AppState;

/// Largest media WhatsApp carries (documents, 100 MB).
const MAX_MEDIA_BYTES: usize = 100 * 1024 * 1024;

fn unavailable() -> UiError {
    UiError(ApiError::not_found("media"))
}

fn provider_error(e: impl std::fmt::Display) -> UiError {
    tracing::warn!(error = %e, "media download failed");
    UiError(ApiError::new(
        StatusCode::BAD_GATEWAY,
        "provider_error",
        "the provider did not hand over the media",
    ))
}

pub async fn media(State(state): State<AppState>, user: WebUser, Path(id): Path<String>) -> UiResult<Response> {
    let m = state
        .store
        .message(user.workspace_id(), &id)
        .await
        .map_err(|_| unavailable())?;
    if m.quarantined {
        return Err(unavailable());
    }
    let content: serde_json::Value = serde_json::from_str(&m.content).unwrap_or_default();
    let media_id = content["content"]["media"]["id"]
        .as_str()
        .ok_or_else(unavailable)?
        .to_string();
    let channel = recado_app::channels::registry::load(&state, user.workspace_id(), &m.channel_id)
        .await
        .map_err(|_| unavailable())?;
    let wa = &channel.whatsapp;
    if wa.kind != ChannelKind::WhatsappCloud {
        return Err(unavailable());
    }
    let token = wa.access_token.clone().unwrap_or_default();
    let info: serde_json::Value = state
        .http
        .get(format!(
            "{}/{}/{}",
            wa.graph_base_url.trim_end_matches('/'),
            wa.graph_version,
            media_id
        ))
        .bearer_auth(&token)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(provider_error)?
        .json()
        .await
        .map_err(provider_error)?;
    let url = info["url"].as_str().ok_or_else(|| provider_error("no url"))?;
    let download = state
        .http
        .get(url)
        .bearer_auth(&token)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(provider_error)?;
    if download.content_length().unwrap_or(0) as usize > MAX_MEDIA_BYTES {
        return Err(provider_error("media too large"));
    }
    let mime = info["mime_type"]
        .as_str()
        .unwrap_or("application/octet-stream")
        .to_string();
    let bytes = download.bytes().await.map_err(provider_error)?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&mime).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=300"));
    // Served from the hub's origin: never let a file run as a page there.
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("inline"));
    headers.insert(
        "content-security-policy",
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    Ok(response)
}
