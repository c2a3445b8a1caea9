//! The Twilio-compatible HTTP provider: sending, and the one webhook URL that
//! receives both its status callbacks and inbound messages (form posts signed
//! with `X-Twilio-Signature`, stored before the answer, processed by a job).

use super::providers::{Accepted, NotAccepted};
use super::receipts;
use crate::channels::registry::{decode_sms, LoadedSms};
use crate::channels::sms_config::{HttpSettings, SmsProviderSettings};
use crate::workers::JobError;
use crate::AppState;
use recado_channels::sms::http::{parse_inbound, parse_status_callback, HttpSmsClient, HttpSmsConfig, StatusCallback};
use recado_channels::sms::DeliveryState;
use recado_core::delivery::Direction;
use recado_core::delivery::OutboundStatus;
use recado_store::messages::MessageRecord;

pub(crate) fn client(state: &AppState, settings: &HttpSettings) -> HttpSmsClient {
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
pub struct StoredDelivery {
    pub form: Vec<(String, String)>,
    #[serde(default)]
    pub message_id: Option<String>,
}

impl StoredDelivery {
    /// Reads a stored body; deliveries stored before the message id was kept
    /// are a bare list of fields.
    fn parse(body: &str) -> Result<StoredDelivery, serde_json::Error> {
        serde_json::from_str(body)
            .or_else(|_| serde_json::from_str(body).map(|form| StoredDelivery { form, message_id: None }))
    }
}

/// Posts a message to the provider (see [`super::providers::request`]).
pub async fn request(state: &AppState, channel: &LoadedSms, message: &MessageRecord) -> Result<Accepted, NotAccepted> {
    let SmsProviderSettings::Http(settings) = &channel.sms.provider else {
        return Err(NotAccepted::Permanent("not an HTTP SMS channel".into()));
    };
    let from = message.sender.clone().unwrap_or_default();
    let to = message.recipient.clone().unwrap_or_default();
    let text = message.text.clone().unwrap_or_default();
    let sent = client(state, settings)
        .send(
            &from,
            &to,
            &text,
            &status_callback_url(state, &channel.record.id, &message.id),
        )
        .await
        .map_err(NotAccepted::Send)?;
    Ok(Accepted {
        provider_id: sent.sid,
        parts: Vec::new(),
        receipt_at: None,
    })
}

/// The status a provider's report of a message gives it, and the error of
/// a message not delivered (its code, or the provider's status name).
pub(crate) fn report_of(callback: &StatusCallback) -> (OutboundStatus, Option<(String, String)>) {
    match &callback.state {
        DeliveryState::Accepted => (OutboundStatus::Sent, None),
        DeliveryState::Delivered => (OutboundStatus::Delivered, None),
        DeliveryState::NotDelivered { code } => {
            let code = code
                .clone()
                .filter(|c| !c.is_empty())
                .unwrap_or_else(|| callback.raw_status.clone());
            (
                OutboundStatus::NotDelivered,
                Some((code, format!("provider status {}", callback.raw_status))),
            )
        }
    }
}

/// Processes a stored HTTP-provider delivery: a status callback or an inbound message.
pub async fn process_job(state: AppState, event_id: String) -> Result<(), JobError> {
    let event = state
        .store
        .webhook_event(&event_id)
        .await?
        .ok_or_else(|| JobError::Permanent("event is gone".into()))?;
    let delivery = StoredDelivery::parse(&event.body).map_err(|e| JobError::Permanent(e.to_string()))?;
    let params = delivery.form;
    let record = state
        .store
        .channel_by_id(&event.channel_id)
        .await?
        .ok_or_else(|| JobError::Permanent("channel deleted".into()))?;
    let channel = decode_sms(&state, record)?;
    if let Ok(callback) = parse_status_callback(&params) {
        let mut found = state
            .store
            .message_by_provider_id(&channel.record.id, &callback.message_sid)
            .await?;
        if found.is_none() {
            if let Some(id) = &delivery.message_id {
                found = state
                    .store
                    .message(&channel.record.workspace_id, id)
                    .await
                    .ok()
                    .filter(|m| m.channel_id == channel.record.id && m.direction == Direction::Out);
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
        let (status, error) = report_of(&callback);
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
        .mark_webhook_processed(&event_id, state.clock.now_ms())
        .await?;
    Ok(())
}
