//! The requests of an HTTP voice provider (`voice_http`, the TwiML dialect)
//! about a call the hub placed: status callbacks, the call's document, and
//! the actions of its `<Gather>`, `<Redirect>` and `<Dial>`. Each is a form
//! post signed with `X-Twilio-Signature` over the URL the hub gave (its
//! public URL, path and query) with the channel's auth token: a missing or
//! wrong signature is 401 `bad_signature` and changes nothing. Documents are
//! answered from the call's stored state (`recado_app::voice::twiml`).

use crate::error::{ApiError, ApiResult};
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use recado_app::channels::registry::decode_voice;
use recado_app::channels::voice_config::VoiceProviderSettings;
use recado_app::voice::twiml::{self, CONTENT_TYPE};
use recado_app::AppState;
use recado_store::calls::CallRecord;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/webhooks/voice/{channel_id}/status/{message_id}", post(status))
        .route("/webhooks/voice/{channel_id}/twiml/{message_id}", post(document))
        .route("/webhooks/voice/{channel_id}/gather/{message_id}", post(gather))
        .route("/webhooks/voice/{channel_id}/done/{message_id}", post(done))
        .route("/webhooks/voice/{channel_id}/dial/{message_id}", post(dial))
}

/// A provider's request, authenticated, about a call of its channel.
struct Hook {
    call: CallRecord,
    params: Vec<(String, String)>,
    query: Vec<(String, String)>,
}

impl Hook {
    /// A whole number of the query (`attempt`, `play`).
    fn number(&self, name: &'static str) -> ApiResult<u32> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.parse().ok())
            .ok_or_else(|| ApiError::invalid("invalid_query", name, format!("`{name}` is a whole number")))
    }
}

/// The channel (an HTTP voice channel, else 404), the signature (else 401),
/// then the call (one of the channel's, else 404).
async fn hook(
    state: &AppState,
    channel_id: &str,
    message_id: &str,
    uri: &OriginalUri,
    headers: &HeaderMap,
    body: &[u8],
) -> ApiResult<Hook> {
    let record = state
        .store
        .channel_by_id(channel_id)
        .await?
        .ok_or_else(|| ApiError::not_found("channel"))?;
    let channel = decode_voice(state, record).map_err(|_| ApiError::not_found("channel"))?;
    let VoiceProviderSettings::Http(settings) = &channel.voice.provider else {
        return Err(ApiError::not_found("channel"));
    };
    let params: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    let path_and_query = uri.0.path_and_query().map(|p| p.as_str()).unwrap_or(uri.0.path());
    let signature = headers.get("x-twilio-signature").and_then(|v| v.to_str().ok());
    if !twiml::authentic(settings, &state.settings.public_url, path_and_query, &params, signature) {
        metrics::counter!("recado_webhooks_total", "provider" => "voice_http", "outcome" => "bad_signature")
            .increment(1);
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_signature",
            "the webhook signature does not match",
        ));
    }
    let call = state
        .store
        .call(&channel.record.workspace_id, message_id)
        .await?
        .filter(|c| c.channel_id == channel.record.id)
        .ok_or_else(|| ApiError::not_found("call"))?;
    metrics::counter!("recado_webhooks_total", "provider" => "voice_http", "outcome" => "accepted").increment(1);
    let query = form_urlencoded::parse(uri.0.query().unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    Ok(Hook { call, params, query })
}

fn xml(document: recado_channels::voice::twiml::Response) -> Response {
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], document.to_xml()).into_response()
}

/// A call's progress (`CallStatus`), fed to the call as it comes.
#[utoipa::path(post, path = "/webhooks/voice/{channel_id}/status/{message_id}", security(()), tag = "voice",
    params(("channel_id" = String, Path, description = "the HTTP voice channel's id"),
        ("message_id" = String, Path, description = "the call's message id"),
        ("attempt" = u32, Query, description = "the attempt the callback is about"),
        ("X-Twilio-Signature" = String, Header, description = "the provider's signature of the URL and the form")),
    request_body(content = Object, content_type = "application/x-www-form-urlencoded",
        description = "the provider's status callback (`CallSid`, `CallStatus`, `CallDuration`, `SipResponseCode`, …)"),
    responses((status = 204, description = "recorded"),
        (status = 401, description = "`bad_signature`: the signature does not match", body = crate::error::ErrorBody),
        (status = 422, description = "`invalid_callback`: the form is not a status callback", body = crate::error::ErrorBody)))]
pub async fn status(
    State(state): State<AppState>,
    Path((channel_id, message_id)): Path<(String, String)>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let hook = hook(&state, &channel_id, &message_id, &uri, &headers, &body).await?;
    let attempt = hook.number("attempt")?;
    twiml::status(&state, &hook.call, attempt, &hook.params).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The document of the answered call: the menu, or the message then goodbye.
#[utoipa::path(post, path = "/webhooks/voice/{channel_id}/twiml/{message_id}", security(()), tag = "voice",
    params(("channel_id" = String, Path, description = "the HTTP voice channel's id"),
        ("message_id" = String, Path, description = "the call's message id"),
        ("attempt" = u32, Query, description = "the attempt asking"),
        ("X-Twilio-Signature" = String, Header, description = "the provider's signature of the URL and the form")),
    request_body(content = Object, content_type = "application/x-www-form-urlencoded",
        description = "the provider's request for the call's document (`CallSid`, `CallStatus`, `AnsweredBy`, …)"),
    responses((status = 200, description = "the TwiML document", content_type = "application/xml", body = String),
        (status = 401, description = "`bad_signature`: the signature does not match", body = crate::error::ErrorBody),
        (status = 422, description = "`invalid_callback`: the form is not a document request", body = crate::error::ErrorBody)))]
pub async fn document(
    State(state): State<AppState>,
    Path((channel_id, message_id)): Path<(String, String)>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let hook = hook(&state, &channel_id, &message_id, &uri, &headers, &body).await?;
    let attempt = hook.number("attempt")?;
    Ok(xml(twiml::document(&state, &hook.call, attempt, &hook.params).await?))
}

/// The key pressed during menu play `play` (`Digits`; empty: silence).
#[utoipa::path(post, path = "/webhooks/voice/{channel_id}/gather/{message_id}", security(()), tag = "voice",
    params(("channel_id" = String, Path, description = "the HTTP voice channel's id"),
        ("message_id" = String, Path, description = "the call's message id"),
        ("attempt" = u32, Query, description = "the attempt asking"),
        ("play" = u32, Query, description = "the play of the menu the key answers"),
        ("X-Twilio-Signature" = String, Header, description = "the provider's signature of the URL and the form")),
    request_body(content = Object, content_type = "application/x-www-form-urlencoded",
        description = "the `<Gather>` action (`CallSid`, `Digits`, …)"),
    responses((status = 200, description = "the TwiML document of what follows", content_type = "application/xml", body = String),
        (status = 401, description = "`bad_signature`: the signature does not match", body = crate::error::ErrorBody),
        (status = 422, description = "`invalid_callback`: `Digits` is not one phone key", body = crate::error::ErrorBody)))]
pub async fn gather(
    State(state): State<AppState>,
    Path((channel_id, message_id)): Path<(String, String)>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let hook = hook(&state, &channel_id, &message_id, &uri, &headers, &body).await?;
    let attempt = hook.number("attempt")?;
    let play = hook.number("play")?;
    Ok(xml(
        twiml::gather(&state, &hook.call, attempt, play, &hook.params).await?
    ))
}

/// A key's narration has played: what follows it.
#[utoipa::path(post, path = "/webhooks/voice/{channel_id}/done/{message_id}", security(()), tag = "voice",
    params(("channel_id" = String, Path, description = "the HTTP voice channel's id"),
        ("message_id" = String, Path, description = "the call's message id"),
        ("attempt" = u32, Query, description = "the attempt asking"),
        ("X-Twilio-Signature" = String, Header, description = "the provider's signature of the URL and the form")),
    request_body(content = Object, content_type = "application/x-www-form-urlencoded",
        description = "the `<Redirect>` request (`CallSid`, …)"),
    responses((status = 200, description = "the TwiML document of what follows", content_type = "application/xml", body = String),
        (status = 401, description = "`bad_signature`: the signature does not match", body = crate::error::ErrorBody)))]
pub async fn done(
    State(state): State<AppState>,
    Path((channel_id, message_id)): Path<(String, String)>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let hook = hook(&state, &channel_id, &message_id, &uri, &headers, &body).await?;
    let attempt = hook.number("attempt")?;
    Ok(xml(twiml::action_done(&state, &hook.call, attempt).await?))
}

/// A transfer's leg ended (`DialCallStatus`): the call ends.
#[utoipa::path(post, path = "/webhooks/voice/{channel_id}/dial/{message_id}", security(()), tag = "voice",
    params(("channel_id" = String, Path, description = "the HTTP voice channel's id"),
        ("message_id" = String, Path, description = "the call's message id"),
        ("attempt" = u32, Query, description = "the attempt asking"),
        ("X-Twilio-Signature" = String, Header, description = "the provider's signature of the URL and the form")),
    request_body(content = Object, content_type = "application/x-www-form-urlencoded",
        description = "the `<Dial>` action (`CallSid`, `DialCallStatus`, …)"),
    responses((status = 200, description = "the TwiML document that hangs up", content_type = "application/xml", body = String),
        (status = 401, description = "`bad_signature`: the signature does not match", body = crate::error::ErrorBody),
        (status = 422, description = "`invalid_callback`: the form is not a `<Dial>` action", body = crate::error::ErrorBody)))]
pub async fn dial(
    State(state): State<AppState>,
    Path((channel_id, message_id)): Path<(String, String)>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let hook = hook(&state, &channel_id, &message_id, &uri, &headers, &body).await?;
    let attempt = hook.number("attempt")?;
    Ok(xml(twiml::dial_done(&state, &hook.call, attempt, &hook.params).await?))
}
