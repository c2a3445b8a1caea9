//! Provider status reports (sent, delivered, read, failed) applied to outbound
//! messages. Reports arrive at least once and out of order: the status only
//! moves forward, and a receipt that arrives first still records the events
//! it implies (sent before delivered before read).

use crate::channels::registry::LoadedChannel;
use crate::consent::service::change;
use crate::messages::delivery::{update_for, Report};
use crate::workers::JobError;
use crate::AppState;
use recado_channels::whatsapp::webhook::{ProviderStatus, StatusUpdate};
use recado_channels::whatsapp::{classify, ErrorAction};
use recado_core::consent::{ChangeRequest, Channel, ConsentSource, SubscriptionStatus};
use recado_core::delivery::{timeline_kind, OutboundStatus};
use recado_store::messages::{DeliveryUpdate, MessageRecord};
use serde_json::json;

/// The result of one provider report for a message in state `current`.
#[derive(Debug, Clone)]
pub struct Transition {
    pub update: DeliveryUpdate,
    pub unsubscribe: bool,
}

/// Decides what a report does to a message, through the one delivery
/// transition. `error` is the provider's code and text on failures; WhatsApp's
/// failure codes then say whether the message was never sent (131047 and the
/// template errors: `not_sent`) or the contact opted out of marketing
/// (131050: unsubscribe). None when the report changes nothing.
pub fn transition(
    current: &MessageRecord,
    incoming: OutboundStatus,
    error: Option<(i64, String)>,
    provider_id: Option<&str>,
) -> Option<Transition> {
    let mut settle_as = None;
    let mut opted_out = false;
    let error = (incoming == OutboundStatus::Failed).then(|| {
        let (code, text) = error.unwrap_or((0, "the provider reported a failure".into()));
        let name = match classify(code, None) {
            ErrorAction::NotSent { reason } => {
                settle_as = Some(OutboundStatus::NotSent);
                reason.to_string()
            }
            ErrorAction::OptedOut => {
                opted_out = true;
                "marketing_opt_out".to_string()
            }
            ErrorAction::Permanent { reason } => reason.to_string(),
            ErrorAction::RetryLater => format!("provider_{code}"),
        };
        (name, format!("{code}: {text}"))
    });
    let mut update = update_for(
        current,
        Report {
            status: incoming,
            error,
            provider_id,
        },
    )?;
    let failed = update.status == Some(OutboundStatus::Failed);
    if let (true, Some(status)) = (failed, settle_as) {
        // The provider refused the message outright: it was never sent.
        update.status = Some(status);
        if let Some(event) = update.events.last_mut() {
            event.0 = status.as_str().into();
        }
        if let Some(entry) = update.timeline.last_mut() {
            entry.0 = timeline_kind(Channel::Whatsapp, status).into();
            entry.1["status"] = json!(status.as_str());
        }
    }
    Some(Transition {
        update,
        unsubscribe: failed && opted_out,
    })
}

pub async fn apply(state: &AppState, channel: &LoadedChannel, report: &StatusUpdate) -> Result<(), JobError> {
    let by_provider = state
        .store
        .message_by_provider_id(&channel.record.id, &report.message_id)
        .await?;
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
        .await?;
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
