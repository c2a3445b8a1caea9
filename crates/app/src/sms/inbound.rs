//! Inbound SMS from any provider: the contact (found by number or created),
//! the message in the contact's SMS thread with `SMS_RESPONSE` on the
//! timeline, and keyword consent for the `sms` channel.

use crate::channels::registry::LoadedSms;
use crate::consent::service::{apply_inbound_keyword, confirmation_text};
use crate::contacts::service::Contacts;
use crate::error::AppError;
use crate::whatsapp::send::SendSource;
use crate::AppState;
use recado_core::consent::Channel;
use recado_core::keywords::KeywordKind;
use recado_store::consent::ChangeOutcome;
use recado_store::messages::{InboundWrite, MessageRecord, TimelineNote};
use serde_json::json;

pub struct InboundSms<'a> {
    pub from: &'a str,
    /// The hub-side number or sender the message was sent to.
    pub to: &'a str,
    pub text: &'a str,
    pub provider_message_id: Option<&'a str>,
}

/// Records an inbound SMS. Returns the stored message id, or None when the
/// provider delivered the same message before.
pub async fn receive(state: &AppState, channel: &LoadedSms, sms: InboundSms<'_>) -> Result<Option<String>, AppError> {
    // A NUL character from a provider is replaced, never a reason to lose the message.
    use recado_core::text::without_nul;
    let (to, text) = (without_nul(sms.to), without_nul(sms.text));
    let provider_message_id = sms.provider_message_id.map(without_nul);
    let sms = InboundSms {
        from: sms.from,
        to: &to,
        text: &text,
        provider_message_id: provider_message_id.as_deref(),
    };
    let ws = state.store.workspace(&channel.record.workspace_id).await?;
    let ctx = recado_core::phone::PhoneContext {
        mobile_prefix: None,
        country: None,
        default_country: ws.default_country.as_deref(),
    };
    let from = recado_core::phone::normalize(sms.from, &ctx)
        .map_err(|e| AppError::invalid("invalid_phone", "from", e.to_string()))?;
    let contacts = Contacts {
        store: &state.store,
        clock: state.clock.as_ref(),
        workspace_id: &ws.id,
        default_country: ws.default_country.as_deref(),
    };
    let (contact, _) = contacts
        .find_or_create_by_phone(
            &from,
            [("mobilephone".to_string(), Some(from.clone()))].into_iter().collect(),
        )
        .await?;
    let now = state.clock.now_ms();
    let message = MessageRecord {
        text: Some(sms.text.to_string()),
        sender: Some(from.clone()),
        recipient: Some(sms.to.to_string()),
        provider_message_id: sms.provider_message_id.map(str::to_string),
        ..MessageRecord::received(&ws.id, Channel::Sms, &channel.record.id, contact.id.clone(), now)
    };
    let write = InboundWrite {
        message: &message,
        account: sms.to,
        at: now,
        timeline: TimelineNote {
            kind: "SMS_RESPONSE",
            details: json!({ "to": sms.to }),
        },
    };
    let outcome = state.store.record_inbound(&write).await?;
    if outcome.duplicate {
        return Ok(None);
    }
    crate::messages::delivery::count_received(Channel::Sms);
    crate::live::publish(state, &ws.id, &outcome.thread_id, &outcome.message_id);
    if let Some((found, ChangeOutcome::Changed(_))) =
        apply_inbound_keyword(&state.store, &contact, Channel::Sms, sms.text, now).await?
    {
        if found.kind == KeywordKind::OptOut {
            state
                .store
                .add_timeline_event(&recado_store::timeline::NewTimelineEvent {
                    workspace_id: &ws.id,
                    contact_id: &contact.id,
                    kind: "SMS_UNSUBSCRIBED",
                    at: now,
                    message_id: Some(&message.id),
                    campaign: None,
                    sender: Some(&from),
                    details: json!({ "source": "keyword", "keyword": found.keyword }),
                })
                .await?;
        }
        // The confirmation goes back through the same channel and sender.
        let reply = confirmation_text(&state.store, &ws.id, &found).await?;
        if let Ok(sender) = channel
            .sms
            .pick_sender(Some(sms.to))
            .or_else(|_| channel.sms.pick_sender(None))
        {
            let plan = super::send::SmsPlan {
                workspace: &ws,
                channel,
                contact: &contact,
                to: from.clone(),
                from: sender,
                text: reply,
                campaign: None,
                source: SendSource::System,
                policy: None,
                national_language: None,
                shorten_urls: false,
                utm: Default::default(),
                subscriptions: None,
            };
            if let Err(e) = super::send::send(state, plan).await {
                tracing::warn!(error = %e.message, "keyword confirmation SMS not sent");
            }
        }
    }
    Ok(Some(outcome.message_id))
}
