//! Provider status reports (sent, delivered, read, failed) applied to outbound
//! messages. Reports arrive at least once and out of order: the status only
//! moves forward, and a receipt that arrives first still records the events
//! it implies (sent before delivered before read).

use crate::app::AppState;
use crate::channels::routes::LoadedChannel;
use crate::consent::service::change;
use crate::workers::JobError;
use recado_channels::whatsapp::webhook::{ProviderStatus, StatusUpdate};
use recado_channels::whatsapp::{classify, ErrorAction};
use recado_core::consent::{ChangeRequest, Channel, ConsentSource, SubscriptionStatus};
use recado_core::delivery::{advance, implied_earlier, OutboundStatus};
use recado_store::messages::{DeliveryUpdate, MessageRecord};
use serde_json::json;

fn retry(e: impl std::fmt::Display) -> JobError {
    JobError::Retry {
        message: e.to_string(),
        retry_after_ms: None,
    }
}

/// The timeline event of a WhatsApp status.
pub fn timeline_kind(status: OutboundStatus) -> &'static str {
    match status {
        OutboundStatus::Queued => "WHATSAPP_QUEUED",
        OutboundStatus::Uncertain => "WHATSAPP_UNCERTAIN",
        OutboundStatus::Sent => "WHATSAPP_SENT",
        OutboundStatus::Delivered => "WHATSAPP_DELIVERED",
        OutboundStatus::Read => "WHATSAPP_READ",
        OutboundStatus::Failed | OutboundStatus::NotDelivered => "WHATSAPP_FAILED",
        OutboundStatus::NotSent => "WHATSAPP_NOT_SENT",
    }
}

/// The result of one provider report for a message in state `current`.
#[derive(Debug, Clone)]
pub struct Transition {
    pub update: DeliveryUpdate,
    pub unsubscribe: bool,
}

/// Decides what a report does to a message. `error` is the provider's code
/// and text on failures. None when the report changes nothing.
pub fn transition(
    current: &MessageRecord,
    incoming: OutboundStatus,
    error: Option<(i64, String)>,
    provider_id: Option<&str>,
) -> Option<Transition> {
    let now_status: OutboundStatus = current.status.parse().unwrap_or(OutboundStatus::Queued);
    let next = advance(now_status, incoming);
    let mut update = DeliveryUpdate::default();
    if current.provider_message_id.is_none() {
        update.provider_message_id = provider_id.map(str::to_string);
    }
    if next == now_status {
        return (update.provider_message_id.is_some()).then_some(Transition {
            update,
            unsubscribe: false,
        });
    }
    let mut unsubscribe = false;
    let mut stored = next;
    if matches!(next, OutboundStatus::Failed) {
        let (code, text) = error.unwrap_or((0, "the provider reported a failure".into()));
        let (error_code, final_status) = match classify(code, None) {
            ErrorAction::NotSent { reason } => (reason.to_string(), OutboundStatus::NotSent),
            ErrorAction::OptedOut => {
                unsubscribe = true;
                ("marketing_opt_out".to_string(), OutboundStatus::Failed)
            }
            ErrorAction::Permanent { reason } => (reason.to_string(), OutboundStatus::Failed),
            ErrorAction::RetryLater => (format!("provider_{code}"), OutboundStatus::Failed),
        };
        stored = final_status;
        update.error_code = Some(Some(error_code));
        update.error_message = Some(Some(format!("{code}: {text}")));
    }
    // Receipts that arrive first still record the steps they imply.
    for implied in implied_earlier(next) {
        if advance(now_status, *implied) != now_status {
            update
                .events
                .push((implied.as_str().to_string(), json!({ "implied": true })));
            update.timeline.push((
                timeline_kind(*implied).to_string(),
                json!({ "status": implied.as_str() }),
            ));
        }
    }
    update.status = Some(stored.as_str().to_string());
    update.events.push((stored.as_str().to_string(), json!({})));
    update.timeline.push((
        timeline_kind(stored).to_string(),
        json!({ "status": stored.as_str(), "error": update.error_code.clone().flatten() }),
    ));
    Some(Transition { update, unsubscribe })
}

pub async fn apply(state: &AppState, channel: &LoadedChannel, report: &StatusUpdate) -> Result<(), JobError> {
    let by_provider = state
        .store
        .message_by_provider_id(&channel.record.id, &report.message_id)
        .await
        .map_err(retry)?;
    let message = match by_provider {
        Some(m) => Some(m),
        // A send whose HTTP answer was lost: the hub's own id comes back in
        // biz_opaque_callback_data and reconciles it.
        None => match &report.biz_opaque_callback_data {
            Some(own_id) => state
                .store
                .message(&channel.record.workspace_id, own_id)
                .await
                .ok()
                .filter(|m| m.channel_id == channel.record.id),
            None => None,
        },
    };
    let Some(message) = message else {
        return Ok(());
    };
    let incoming = match report.status {
        ProviderStatus::Sent => OutboundStatus::Sent,
        ProviderStatus::Delivered => OutboundStatus::Delivered,
        ProviderStatus::Read | ProviderStatus::Played => OutboundStatus::Read,
        ProviderStatus::Failed => OutboundStatus::Failed,
    };
    let error = report
        .errors
        .first()
        .map(|e| (e.code, e.details.clone().unwrap_or_else(|| e.title.clone())));
    let mut unsubscribe = false;
    let provider_id = report.message_id.clone();
    let updated = state
        .store
        .update_delivery(&message.id, state.clock.now_ms(), |current| {
            let t = transition(current, incoming, error.clone(), Some(&provider_id))?;
            unsubscribe = t.unsubscribe;
            Some(t.update)
        })
        .await
        .map_err(retry)?;
    if let (true, Some(m)) = (unsubscribe, updated) {
        if let Some(contact_id) = &m.contact_id {
            if let Ok(contact) = state.store.contact(&m.workspace_id, contact_id).await {
                let request = ChangeRequest {
                    channel: Channel::Whatsapp,
                    status: SubscriptionStatus::Unsubscribed,
                    legal_basis: None,
                    explanation: Some("WhatsApp reported that the contact stopped marketing messages (131050)".into()),
                    source: ConsentSource::Provider,
                };
                change(&state.store, &contact, &request, "system", state.clock.now_ms()).await?;
            }
        }
    }
    Ok(())
}
