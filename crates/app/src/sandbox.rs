//! Messages from a pretend contact to a sandbox channel (`whatsapp_sandbox`,
//! `sms_sandbox`). They take the same path as a provider's webhook: the
//! WhatsApp one is built and stored like a signed delivery from Meta, the SMS
//! one is received like a provider's inbound message.

use crate::channels::registry::{decode, decode_sms};
use crate::channels::ChannelKind;
use crate::{AppError, AppResult, AppState};
use recado_core::ids::{new_id, IdKind};
use recado_store::StoreError;
use serde_json::json;

/// A message a contact "sends" to a sandbox channel.
#[derive(Clone, Debug, Default)]
pub struct SimulatedInbound {
    /// The contact's number.
    pub from: String,
    /// The contact's WhatsApp profile name.
    pub name: Option<String>,
    pub text: String,
    /// The hub-side number written to: a `phone_number_id` of a WhatsApp
    /// sandbox, a sender of an SMS sandbox (default: the first number or the
    /// default sender).
    pub to: Option<String>,
    /// Marks a WhatsApp message as flagged by the content policy.
    pub policy_violation: bool,
}

/// What a simulated message became.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Simulated {
    /// The stored SMS (none when it was a repeat).
    Sms { message_id: Option<String> },
    /// The WhatsApp message id the pretend provider gave it; the message is
    /// stored when its webhook job runs.
    WhatsApp { provider_message_id: String },
}

/// Injects a message into sandbox channel `channel_id`: 404 for no such
/// channel, 409 `not_a_sandbox` for a real provider's, 422 `empty_text`,
/// `invalid_phone` or `invalid_sender`.
pub async fn simulate_inbound(
    state: &AppState,
    workspace_id: &str,
    channel_id: &str,
    input: SimulatedInbound,
) -> AppResult<Simulated> {
    let record = state
        .store
        .channel(workspace_id, channel_id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => AppError::not_found("channel"),
            other => other.into(),
        })?;
    let not_a_sandbox = || {
        AppError::conflict(
            "not_a_sandbox",
            "only sandbox channels (whatsapp_sandbox, sms_sandbox) simulate inbound messages",
        )
    };
    let empty_text = || AppError::invalid("empty_text", "text", "the text is empty");
    if record.kind == "sms_sandbox" {
        let channel = decode_sms(state, record)?;
        if input.text.trim().is_empty() {
            return Err(empty_text());
        }
        let to = match input.to.as_deref() {
            Some(asked) => channel.sms.pick_sender(Some(asked)).map_err(|e| e.with_field("to"))?,
            None => channel.sms.default_sender.clone().unwrap_or_else(|| "sandbox".into()),
        };
        let sms = crate::sms::inbound::InboundSms {
            from: &input.from,
            to: &to,
            text: &input.text,
            provider_message_id: None,
        };
        let message_id = crate::sms::inbound::receive(state, &channel, sms).await?;
        return Ok(Simulated::Sms { message_id });
    }
    if ChannelKind::parse(&record.kind) != Some(ChannelKind::WhatsappSandbox) {
        return Err(not_a_sandbox());
    }
    let channel = decode(state, record)?;
    let from = recado_core::phone::normalize(&input.from, &Default::default())
        .map_err(|e| AppError::invalid("invalid_phone", "from", e.to_string()))?;
    if input.text.trim().is_empty() {
        return Err(empty_text());
    }
    let number = match input.to.as_deref() {
        None => &channel.whatsapp.phone_numbers[0],
        Some(to) => channel
            .whatsapp
            .phone_numbers
            .iter()
            .find(|n| n.phone_number_id == to)
            .ok_or_else(|| {
                AppError::invalid(
                    "invalid_sender",
                    "to",
                    format!("`{to}` is not a phone_number_id of this account"),
                )
            })?,
    };
    let wamid = format!("wamid.sim.{}", new_id(IdKind::Message));
    let mut message = json!({
        "from": from.trim_start_matches('+'),
        "id": wamid,
        "timestamp": (state.clock.now_ms() / 1000).to_string(),
        "type": "text",
        "text": { "body": input.text },
    });
    if input.policy_violation {
        message["errors"] = json!([{ "code": 368, "title": "Temporarily blocked for policies violations", "message": "content policy" }]);
    }
    let body = json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": channel.whatsapp.waba_id.clone().unwrap_or_else(|| "sandbox-waba".into()),
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": { "display_phone_number": number.display_phone_number, "phone_number_id": number.phone_number_id },
                    "contacts": [{ "profile": { "name": input.name.unwrap_or_default() }, "wa_id": from.trim_start_matches('+') }],
                    "messages": [message],
                }
            }]
        }]
    });
    let raw = serde_json::to_vec(&body).map_err(AppError::internal)?;
    crate::whatsapp::webhook::ingest(state, &channel, &raw).await?;
    Ok(Simulated::WhatsApp {
        provider_message_id: wamid,
    })
}
