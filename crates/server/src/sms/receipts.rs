//! Delivery state of SMS: the provider's acceptance makes a message `sent`
//! (`SMS_SENT`), receipts make it `delivered` or `not_delivered`. A receipt
//! that is processed before the acceptance still records `SMS_SENT` first.

use crate::app::AppState;
use crate::workers::JobError;
use recado_core::delivery::{advance, implied_earlier, OutboundStatus};
use recado_store::messages::{DeliveryUpdate, MessageRecord};
use serde_json::json;

pub fn timeline_kind(status: OutboundStatus) -> &'static str {
    match status {
        OutboundStatus::Queued => "SMS_QUEUED",
        OutboundStatus::Uncertain => "SMS_UNCERTAIN",
        OutboundStatus::Sent => "SMS_SENT",
        OutboundStatus::Delivered | OutboundStatus::Read => "SMS_DELIVERED",
        OutboundStatus::NotDelivered => "SMS_NOT_DELIVERED",
        OutboundStatus::Failed | OutboundStatus::NotSent => "SMS_NOT_SENT",
    }
}

/// The update a provider report makes to `current`, if any.
pub fn transition(
    current: &MessageRecord,
    incoming: OutboundStatus,
    error: Option<(String, String)>,
    provider_id: Option<&str>,
) -> Option<DeliveryUpdate> {
    let now_status: OutboundStatus = current.status.parse().unwrap_or(OutboundStatus::Queued);
    let next = advance(now_status, incoming);
    let mut update = DeliveryUpdate::default();
    if current.provider_message_id.is_none() {
        update.provider_message_id = provider_id.map(str::to_string);
    }
    if next == now_status {
        return update.provider_message_id.is_some().then_some(update);
    }
    for implied in implied_earlier(next) {
        if advance(now_status, *implied) != now_status {
            update
                .events
                .push((implied.as_str().into(), json!({ "implied": true })));
            update
                .timeline
                .push((timeline_kind(*implied).into(), json!({ "status": implied.as_str() })));
        }
    }
    if let Some((code, message)) = &error {
        update.error_code = Some(Some(code.clone()));
        update.error_message = Some(Some(message.clone()));
    }
    update.status = Some(next.as_str().into());
    update.events.push((next.as_str().into(), json!({})));
    update.timeline.push((
        timeline_kind(next).into(),
        json!({ "status": next.as_str(), "error": error.map(|e| e.0) }),
    ));
    Some(update)
}

pub async fn apply(
    state: &AppState,
    message_id: &str,
    incoming: OutboundStatus,
    error: Option<(String, String)>,
    provider_id: Option<&str>,
) -> Result<Option<MessageRecord>, JobError> {
    state
        .store
        .update_delivery(message_id, state.clock.now_ms(), |current| {
            transition(current, incoming, error, provider_id)
        })
        .await
        .map_err(|e| JobError::Retry {
            message: e.to_string(),
            retry_after_ms: None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(status: &str) -> MessageRecord {
        MessageRecord {
            id: "msg_1".into(),
            workspace_id: "ws".into(),
            channel: "sms".into(),
            channel_id: "ch".into(),
            thread_id: None,
            contact_id: Some("ct".into()),
            direction: "out".into(),
            status: status.into(),
            kind: "text".into(),
            text: Some("hi".into()),
            content: "{}".into(),
            template: None,
            campaign: None,
            sender: None,
            recipient: None,
            provider_message_id: None,
            segments: Some(1),
            encoding: Some("GSM-7".into()),
            error_code: None,
            error_message: None,
            quarantined: false,
            counted: false,
            send_attempted_at: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn a_receipt_before_the_acceptance_still_records_sent_first() {
        let u = transition(&message("queued"), OutboundStatus::Delivered, None, Some("SM1")).unwrap();
        let kinds: Vec<&str> = u.timeline.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(kinds, vec!["SMS_SENT", "SMS_DELIVERED"]);
        assert_eq!(u.status.as_deref(), Some("delivered"));
    }

    #[test]
    fn a_late_acceptance_after_a_receipt_changes_nothing() {
        let mut m = message("delivered");
        m.provider_message_id = Some("SM1".into());
        assert!(transition(&m, OutboundStatus::Sent, None, Some("SM1")).is_none());
    }

    #[test]
    fn not_delivered_carries_the_providers_error() {
        let u = transition(
            &message("sent"),
            OutboundStatus::NotDelivered,
            Some(("30006".into(), "landline".into())),
            None,
        )
        .unwrap();
        assert_eq!(u.error_code, Some(Some("30006".into())));
        assert_eq!(u.timeline.last().unwrap().0, "SMS_NOT_DELIVERED");
    }
}
