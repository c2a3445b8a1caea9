//! Processing a stored WhatsApp webhook event: inbound messages become
//! contacts, messages, threads, tickets and sessions; statuses move outbound
//! messages; template-status events update templates.

use crate::channels::registry::{decode, LoadedChannel};
use crate::consent::service::{apply_inbound_keyword, change};
use crate::contacts::service::Contacts;
use crate::workers::JobError;
use crate::AppState;
use recado_channels::whatsapp::templates::is_marketing_opt_out;
use recado_channels::whatsapp::{parse_webhook, InboundContent, InboundMessage, WebhookItem};
use recado_core::consent::{ChangeRequest, Channel, ConsentSource, SubscriptionStatus};
use recado_core::whatsapp::TemplateStatus;
use recado_store::contacts::Contact;
use recado_store::messages::{InboundWrite, MessageRecord, TimelineNote};
use serde_json::json;

/// The delivery with every NUL character replaced: the raw body is kept as
/// it came, but what is made of it must be storable as text.
fn storable(body: &str) -> std::borrow::Cow<'_, [u8]> {
    if !recado_core::text::json_text_may_hold_nul(body.as_bytes()) {
        return std::borrow::Cow::Borrowed(body.as_bytes());
    }
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(mut value) => {
            recado_core::text::scrub_json_nul(&mut value);
            std::borrow::Cow::Owned(value.to_string().into_bytes())
        }
        Err(_) => std::borrow::Cow::Borrowed(body.as_bytes()),
    }
}

pub async fn process_event_job(state: AppState, event_id: String) -> Result<(), JobError> {
    let event_id = event_id.as_str();
    let event = state
        .store
        .webhook_event(event_id)
        .await?
        .ok_or_else(|| JobError::Permanent(format!("event {event_id} is gone")))?;
    let record = state
        .store
        .channel_by_id(&event.channel_id)
        .await?
        .ok_or_else(|| JobError::Permanent(format!("channel {} was deleted", event.channel_id)))?;
    let channel = decode(&state, record)?;
    // The body was checked to be JSON before it was stored; a shape that is
    // not a WhatsApp envelope can never be processed.
    let items = parse_webhook(&storable(&event.body))
        .map_err(|e| JobError::Permanent(format!("not a WhatsApp webhook: {e}")))?;
    for item in items {
        match item {
            WebhookItem::Message(message) => process_message(&state, &channel, message).await?,
            WebhookItem::Status(status) => super::status::apply(&state, &channel, &status).await?,
            WebhookItem::TemplateStatus(t) => match TemplateStatus::from_provider(&t.event) {
                Some(status) => {
                    state
                        .store
                        .set_template_status(&channel.record.id, &t.name, &t.language, status, state.clock.now_ms())
                        .await?;
                }
                None => tracing::warn!(template = %t.name, language = %t.language, event = %t.event,
                    "a template status update the hub does not know; the stored status is kept"),
            },
            _ => {}
        }
    }
    state
        .store
        .mark_webhook_processed(event_id, state.clock.now_ms())
        .await?;
    Ok(())
}

/// The contact an inbound message belongs to: found by any phone property, or
/// created with the WhatsApp profile name.
async fn contact_for(state: &AppState, channel: &LoadedChannel, message: &InboundMessage) -> Result<Contact, JobError> {
    let ws = state.store.workspace(&channel.record.workspace_id).await?;
    let e164 = format!("+{}", message.from.trim_start_matches('+'));
    let contacts = Contacts {
        store: &state.store,
        clock: state.clock.as_ref(),
        workspace_id: &ws.id,
        default_country: ws.default_country.as_deref(),
    };
    let mut changes: crate::contacts::service::PropertyChanges = [("whatsapp_phone".to_string(), Some(e164.clone()))]
        .into_iter()
        .collect();
    if let Some(name) = message
        .profile_name
        .as_ref()
        .map(|n| n.trim())
        .filter(|n| !n.is_empty())
    {
        changes.insert("firstname".into(), Some(name.to_string()));
    }
    let (contact, created) = contacts.find_or_create_by_phone(&e164, changes).await?;
    if !created && !contact.phones.contains_key("whatsapp_phone") {
        let changes = [("whatsapp_phone".to_string(), Some(e164))].into_iter().collect();
        return Ok(contacts.update(contact, changes).await?);
    }
    Ok(contact)
}

async fn process_message(state: &AppState, channel: &LoadedChannel, message: InboundMessage) -> Result<(), JobError> {
    if !channel.whatsapp.has_number(&message.phone_number_id) {
        tracing::warn!(channel = %channel.record.id, "message for a phone number this channel does not list; ignored");
        return Ok(());
    }
    let contact = contact_for(state, channel, &message).await?;
    let at = message.timestamp.saturating_mul(1000);
    let now = state.clock.now_ms();
    let record = MessageRecord {
        kind: message.content.type_name().to_string(),
        text: message.content.text(),
        content: json!({ "content": message.content, "context_message_id": message.context_message_id }).to_string(),
        sender: Some(format!("+{}", message.from.trim_start_matches('+'))),
        recipient: Some(message.phone_number_id.clone()),
        provider_message_id: Some(message.id.clone()),
        quarantined: message.quarantined,
        ..MessageRecord::received(
            &channel.record.workspace_id,
            Channel::Whatsapp,
            &channel.record.id,
            contact.id.clone(),
            now,
        )
    };
    let details = json!({ "type": record.kind, "channel_id": channel.record.id });
    let write = InboundWrite {
        message: &record,
        account: &message.phone_number_id,
        at,
        timeline: TimelineNote {
            kind: "WHATSAPP_RECEIVED",
            details,
        },
    };
    let outcome = match state.store.record_inbound(&write).await {
        Ok(o) => o,
        // Another worker stored the same message a moment ago.
        Err(recado_store::StoreError::Conflict(_)) => {
            return Err(JobError::retry("inbound message raced with another worker"))
        }
        Err(e) => return Err(JobError::retry(e)),
    };
    if outcome.duplicate {
        return Ok(());
    }
    crate::messages::delivery::count_received(Channel::Whatsapp);
    crate::live::publish(
        state,
        &channel.record.workspace_id,
        &outcome.thread_id,
        &outcome.message_id,
    );
    if message.quarantined {
        return Ok(());
    }
    if let Some(text) = message.content.keyword_text() {
        if let Some((found, recado_store::consent::ChangeOutcome::Changed(_))) =
            apply_inbound_keyword(&state.store, &contact, Channel::Whatsapp, text, now).await?
        {
            let reply =
                crate::consent::service::confirmation_text(&state.store, &channel.record.workspace_id, &found).await?;
            super::send::send_system_reply(state, channel, &contact, &message.phone_number_id, &reply).await?;
        }
    }
    if let InboundContent::TemplateButton { payload, text } = &message.content {
        if tapped_marketing_opt_out(state, channel, message.context_message_id.as_deref(), payload, text).await? {
            let request = ChangeRequest {
                channel: Channel::Whatsapp,
                status: SubscriptionStatus::Unsubscribed,
                legal_basis: None,
                explanation: Some(format!("marketing opt-out button `{text}` tapped")),
                source: ConsentSource::TemplateButton,
            };
            change(&state.store, &contact, &request, "system", now).await?;
        }
    }
    Ok(())
}

/// Whether a template quick reply is the template's marketing opt-out button:
/// decided from the definition of the template the contact tapped it on.
async fn tapped_marketing_opt_out(
    state: &AppState,
    channel: &LoadedChannel,
    context_id: Option<&str>,
    payload: &str,
    text: &str,
) -> Result<bool, JobError> {
    let Some(context_id) = context_id else {
        return Ok(false);
    };
    let Some(sent) = state
        .store
        .message_by_provider_id(&channel.record.id, context_id)
        .await?
    else {
        return Ok(false);
    };
    let Some(template) = sent
        .template
        .as_deref()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
    else {
        return Ok(false);
    };
    let (name, language) = (
        template["name"].as_str().unwrap_or(""),
        template["language"].as_str().unwrap_or(""),
    );
    let Some(stored) = state.store.template(&channel.record.id, name, language).await? else {
        return Ok(false);
    };
    let definition = super::send::template_of(&stored);
    Ok(is_marketing_opt_out(&definition, payload) || is_marketing_opt_out(&definition, text))
}
