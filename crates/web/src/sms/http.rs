//! The Twilio-compatible HTTP provider: sending, and the one webhook URL that
//! receives both its status callbacks and inbound messages (form posts signed
//! with `X-Twilio-Signature`, stored before the answer, processed by a job).

use crate::error::{ApiError, ApiResult};
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use recado_app::channels::registry::decode_sms;
use recado_app::channels::sms_config::SmsProviderSettings;
use recado_app::sms::http::*;
use recado_app::webhook_writer::OwnedWebhook;
use recado_app::AppState;
use recado_channels::sms::http::{twiml_empty_response, verify_signature};
use recado_core::ids::{new_id, IdKind};
use sha2::{Digest, Sha256};

/// `POST /webhooks/sms/{channel_id}`: checks the signature over the URL the
/// provider called and the posted fields, stores the delivery, answers with
/// empty TwiML so the provider sends nothing on its own.
pub async fn receive(
    State(state): State<AppState>,
    Path(channel_id): Path<String>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let record = state
        .store
        .channel_by_id(&channel_id)
        .await?
        .ok_or_else(|| ApiError::not_found("channel"))?;
    let channel = decode_sms(&state, record)?;
    let SmsProviderSettings::Http(settings) = &channel.sms.provider else {
        return Err(ApiError::not_found("channel"));
    };
    let params: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let url = format!(
        "{}{}",
        state.settings.public_url,
        uri.0.path_and_query().map(|p| p.as_str()).unwrap_or(uri.0.path())
    );
    let signature = headers.get("x-twilio-signature").and_then(|v| v.to_str().ok());
    if !verify_signature(&settings.auth_token, &url, &params, signature) {
        metrics::counter!("recado_webhooks_total", "provider" => "sms_http", "outcome" => "bad_signature").increment(1);
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_signature",
            "the webhook signature does not match",
        ));
    }
    let message_id = form_urlencoded::parse(uri.0.query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == "message_id")
        .map(|(_, v)| v.into_owned());
    let delivery = StoredDelivery {
        form: params,
        message_id,
    };
    let text = serde_json::to_string(&delivery).map_err(ApiError::internal)?;
    let event = OwnedWebhook {
        id: new_id(IdKind::Event),
        workspace_id: channel.record.workspace_id.clone(),
        channel_id: channel.record.id.clone(),
        dedupe_key: hex::encode(Sha256::digest(&body)),
        body: text,
        received_at: state.clock.now_ms(),
    };
    let stored = state
        .webhook_writer
        .store(event, |event_id| recado_core::jobs::Task::SmsWebhook { event_id })
        .await?;
    metrics::counter!("recado_webhooks_total", "provider" => "sms_http", "outcome" => if stored { "stored" } else { "duplicate" }).increment(1);
    state
        .health
        .webhook(&channel.record.workspace_id, &channel.record.id, state.clock.now_ms());
    Ok(([(header::CONTENT_TYPE, "text/xml")], twiml_empty_response()).into_response())
}
