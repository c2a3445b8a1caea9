//! The Twilio-compatible HTTP provider: sending, and the one webhook URL that
//! receives both its status callbacks and inbound messages (form posts signed
//! with `X-Twilio-Signature`, stored before the answer, processed by a job).

use super::receipts;
use crate::app::AppState;
use crate::channels::routes::{decode_sms, LoadedSms};
use crate::channels::sms_config::{HttpSettings, SmsProviderSettings};
use crate::consent::service::change;
use crate::error::{ApiError, ApiResult};
use crate::webhook_writer::OwnedWebhook;
use crate::workers::JobError;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use recado_channels::sms::http::{
    parse_inbound, parse_status_callback, twiml_empty_response, verify_signature, HttpSmsClient, HttpSmsConfig,
};
use recado_channels::sms::{DeliveryState, SmsSendError};
use recado_core::consent::{ChangeRequest, Channel, ConsentSource, SubscriptionStatus};
use recado_core::delivery::OutboundStatus;
use recado_core::ids::{new_id, IdKind};
use recado_store::jobs::Job;
use recado_store::messages::MessageRecord;
use sha2::{Digest, Sha256};

pub const JOB_WEBHOOK: &str = "sms.webhook";

fn retry(e: impl std::fmt::Display) -> JobError {
    JobError::Retry {
        message: e.to_string(),
        retry_after_ms: None,
    }
}

fn client(state: &AppState, settings: &HttpSettings) -> HttpSmsClient {
    let config = HttpSmsConfig {
        base_url: settings.base_url.clone(),
        account_sid: settings.account_sid.clone(),
        auth_token: settings.auth_token.clone(),
        messaging_service_sid: settings.messaging_service_sid.clone(),
    };
    HttpSmsClient::new(config, state.http.clone())
}

/// Where the provider posts status callbacks and inbound messages.
pub fn webhook_url(state: &AppState, channel_id: &str) -> String {
    format!("{}/webhooks/sms/{channel_id}", state.settings.public_url)
}

/// The `StatusCallback` of one message: the webhook URL naming the hub's own
/// message id, so its callbacks settle it even when the provider's id never
/// reached the hub (a crash or timeout while the send was in flight). The
/// provider signs the whole URL, so the id cannot be forged.
pub fn status_callback_url(state: &AppState, channel_id: &str, message_id: &str) -> String {
    format!("{}?message_id={message_id}", webhook_url(state, channel_id))
}

/// A stored delivery of the HTTP provider: the posted fields and the hub's
/// message id from the callback URL, when it named one.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredDelivery {
    form: Vec<(String, String)>,
    #[serde(default)]
    message_id: Option<String>,
}

impl StoredDelivery {
    /// Reads a stored body; deliveries stored before the message id was kept
    /// are a bare list of fields.
    fn parse(body: &str) -> Result<StoredDelivery, serde_json::Error> {
        serde_json::from_str(body)
            .or_else(|_| serde_json::from_str(body).map(|form| StoredDelivery { form, message_id: None }))
    }
}

pub async fn submit(state: &AppState, channel: &LoadedSms, message: &MessageRecord) -> Result<(), JobError> {
    let SmsProviderSettings::Http(settings) = &channel.sms.provider else {
        return Err(JobError::Permanent("not an HTTP SMS channel".into()));
    };
    let from = message.sender.clone().unwrap_or_default();
    let to = message.recipient.clone().unwrap_or_default();
    let text = message.text.clone().unwrap_or_default();
    match client(state, settings)
        .send(
            &from,
            &to,
            &text,
            &status_callback_url(state, &channel.record.id, &message.id),
        )
        .await
    {
        Ok(sent) => {
            receipts::apply(state, &message.id, OutboundStatus::Sent, None, Some(&sent.sid)).await?;
            Ok(())
        }
        Err(SmsSendError::Rejected { code, message: text }) => {
            receipts::apply(
                state,
                &message.id,
                OutboundStatus::NotSent,
                Some((code.clone(), text)),
                None,
            )
            .await?;
            if code == "provider_opt_out" {
                unsubscribe_provider(state, message).await?;
            }
            Ok(())
        }
        Err(SmsSendError::RetryLater {
            message: text,
            retry_after_ms,
        }) => {
            state.store.clear_send_attempted(&message.id).await.map_err(retry)?;
            Err(JobError::Retry {
                message: text,
                retry_after_ms,
            })
        }
        Err(SmsSendError::Unreachable(text)) => {
            state.store.clear_send_attempted(&message.id).await.map_err(retry)?;
            Err(JobError::Retry {
                message: text,
                retry_after_ms: None,
            })
        }
        Err(SmsSendError::Uncertain(_)) => {
            receipts::apply(state, &message.id, OutboundStatus::Uncertain, None, None).await?;
            Ok(())
        }
    }
}

/// The provider refused because the contact opted out with it (its own STOP
/// handling): the hub records that opt-out with source `provider`.
async fn unsubscribe_provider(state: &AppState, message: &MessageRecord) -> Result<(), JobError> {
    let Some(contact_id) = &message.contact_id else {
        return Ok(());
    };
    let Ok(contact) = state.store.contact(&message.workspace_id, contact_id).await else {
        return Ok(());
    };
    let request = ChangeRequest {
        channel: Channel::Sms,
        status: SubscriptionStatus::Unsubscribed,
        legal_basis: None,
        explanation: Some("the SMS provider reported that the contact opted out".into()),
        source: ConsentSource::Provider,
    };
    change(&state.store, &contact, &request, "system", state.clock.now_ms()).await?;
    Ok(())
}

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
    state.webhook_writer.store(event, JOB_WEBHOOK).await?;
    Ok(([(header::CONTENT_TYPE, "text/xml")], twiml_empty_response()).into_response())
}

/// Processes a stored HTTP-provider delivery: a status callback or an inbound message.
pub async fn process_job(state: AppState, job: Job) -> Result<(), JobError> {
    let payload = job.payload_json();
    let event_id = payload["event_id"]
        .as_str()
        .ok_or_else(|| JobError::Permanent("payload without event_id".into()))?;
    let event = state
        .store
        .webhook_event(event_id)
        .await
        .map_err(retry)?
        .ok_or_else(|| JobError::Permanent("event is gone".into()))?;
    let delivery = StoredDelivery::parse(&event.body).map_err(|e| JobError::Permanent(e.to_string()))?;
    let params = delivery.form;
    let record = state
        .store
        .channel_by_id(&event.channel_id)
        .await
        .map_err(retry)?
        .ok_or_else(|| JobError::Permanent("channel deleted".into()))?;
    let channel = decode_sms(&state, record)?;
    if let Ok(callback) = parse_status_callback(&params) {
        let mut found = state
            .store
            .message_by_provider_id(&channel.record.id, &callback.message_sid)
            .await
            .map_err(retry)?;
        if found.is_none() {
            if let Some(id) = &delivery.message_id {
                found = state
                    .store
                    .message(&channel.record.workspace_id, id)
                    .await
                    .ok()
                    .filter(|m| m.channel_id == channel.record.id && m.direction == "out");
            }
        }
        let Some(message) = found else {
            // The callback can overtake the send's own answer: try again
            // shortly, when the message knows its provider id.
            return Err(JobError::Retry {
                message: format!("no message with provider id {} yet", callback.message_sid),
                retry_after_ms: Some(1_000),
            });
        };
        let (status, error) = match callback.state {
            DeliveryState::Accepted => (OutboundStatus::Sent, None),
            DeliveryState::Delivered => (OutboundStatus::Delivered, None),
            DeliveryState::NotDelivered { code } => {
                let code = code.unwrap_or_else(|| callback.raw_status.clone());
                (
                    OutboundStatus::NotDelivered,
                    Some((code, format!("provider status {}", callback.raw_status))),
                )
            }
        };
        // The provider's id is learnt here when the send's own answer was lost.
        receipts::apply(&state, &message.id, status, error, Some(&callback.message_sid)).await?;
    } else {
        let inbound = parse_inbound(&params)
            .map_err(|e| JobError::Permanent(format!("neither a status callback nor an inbound message: {e}")))?;
        let sms = super::inbound::InboundSms {
            from: &inbound.from,
            to: &inbound.to,
            text: &inbound.body,
            provider_message_id: Some(&inbound.message_sid),
        };
        super::inbound::receive(&state, &channel, sms).await?;
    }
    state
        .store
        .mark_webhook_processed(event_id, state.clock.now_ms())
        .await
        .map_err(retry)?;
    Ok(())
}
