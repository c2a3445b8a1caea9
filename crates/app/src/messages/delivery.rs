//! The storage change of a delivery report, for every channel: the one
//! transition of `recado_core::delivery` turned into the message's new status,
//! its events and timeline entries (implied steps first), the provider's id
//! when the hub learns it, and the error.

use recado_core::delivery::{timeline_kind, transition, OutboundStatus};
use recado_store::messages::{DeliveryUpdate, MessageRecord};
use serde_json::json;

/// A report about a message: from its provider, or decided by the hub
/// (`uncertain` after an interrupted attempt, `failed` after the last one).
pub struct Report<'a> {
    pub status: OutboundStatus,
    /// Stable code and text of a failure.
    pub error: Option<(String, String)>,
    /// The provider's id of the message, learnt when the hub did not know it.
    pub provider_id: Option<&'a str>,
}

/// What `report` changes on `current`; None when it changes nothing.
pub fn update_for(current: &MessageRecord, report: Report<'_>) -> Option<DeliveryUpdate> {
    let channel = current.channel;
    // A received message has no delivery to report on.
    let now_status = current.status.outbound()?;
    let mut update = DeliveryUpdate::default();
    if current.provider_message_id.is_none() {
        update.provider_message_id = report.provider_id.map(str::to_string);
    }
    let Some(step) = transition(now_status, report.status) else {
        return update.provider_message_id.is_some().then_some(update);
    };
    for implied in &step.implied {
        update
            .events
            .push((implied.as_str().into(), json!({ "implied": true })));
        update.timeline.push((
            timeline_kind(channel, *implied).into(),
            json!({ "status": implied.as_str() }),
        ));
    }
    let code = report.error.as_ref().map(|(code, _)| code.clone());
    if let Some((code, text)) = report.error {
        update.error_code = Some(Some(code));
        update.error_message = Some(Some(text));
    }
    update.status = Some(step.next);
    update.events.push((step.next.as_str().into(), json!({})));
    update.timeline.push((
        timeline_kind(channel, step.next).into(),
        json!({ "status": step.next.as_str(), "error": code }),
    ));
    Some(update)
}

/// Counts an outbound message that reached its status, for
/// `recado_message_status_total{channel,direction="outbound",status}`.
pub fn count_status(message: &MessageRecord) {
    metrics::counter!("recado_message_status_total", "channel" => message.channel.as_str(), "direction" => "outbound", "status" => message.status.as_str())
        .increment(1);
}

/// Counts a message received from a contact (duplicates of one already
/// stored are not counted), as `direction="inbound"`, `status="received"`.
pub fn count_received(channel: recado_core::consent::Channel) {
    metrics::counter!("recado_message_status_total", "channel" => channel.as_str(), "direction" => "inbound", "status" => "received")
        .increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(channel: &str, status: &str) -> MessageRecord {
        MessageRecord {
            id: "msg_1".into(),
            workspace_id: "ws".into(),
            channel: channel.parse().unwrap(),
            channel_id: "ch".into(),
            thread_id: None,
            contact_id: Some("ct".into()),
            direction: recado_core::delivery::Direction::Out,
            status: status.parse().unwrap(),
            kind: "text".into(),
            text: Some("hi".into()),
            content: "{}".into(),
            template: None,
            campaign: None,
            campaign_id: None,
            campaign_source: None,
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

    fn report(status: OutboundStatus, provider_id: Option<&str>) -> Report<'_> {
        Report {
            status,
            error: None,
            provider_id,
        }
    }

    #[test]
    fn a_receipt_before_the_acceptance_still_records_sent_first() {
        let u = update_for(
            &message("sms", "queued"),
            report(OutboundStatus::Delivered, Some("SM1")),
        )
        .unwrap();
        let kinds: Vec<&str> = u.timeline.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(kinds, vec!["SMS_SENT", "SMS_DELIVERED"]);
        assert_eq!(u.status, Some(OutboundStatus::Delivered));
    }

    #[test]
    fn a_late_acceptance_after_a_receipt_changes_nothing() {
        let mut m = message("sms", "delivered");
        m.provider_message_id = Some("SM1".into());
        assert!(update_for(&m, report(OutboundStatus::Sent, Some("SM1"))).is_none());
    }

    #[test]
    fn a_late_report_still_teaches_the_providers_id() {
        let u = update_for(
            &message("whatsapp", "delivered"),
            report(OutboundStatus::Sent, Some("wamid.1")),
        )
        .unwrap();
        assert_eq!((u.status, u.provider_message_id.as_deref()), (None, Some("wamid.1")));
    }

    #[test]
    fn not_delivered_carries_the_providers_error() {
        let r = Report {
            status: OutboundStatus::NotDelivered,
            error: Some(("30006".into(), "landline".into())),
            provider_id: None,
        };
        let u = update_for(&message("sms", "sent"), r).unwrap();
        assert_eq!(u.error_code, Some(Some("30006".into())));
        assert_eq!(u.timeline.last().unwrap().0, "SMS_NOT_DELIVERED");
    }

    #[test]
    fn a_reconciled_message_is_never_moved_back_to_uncertain() {
        assert!(update_for(
            &message("whatsapp", "delivered"),
            report(OutboundStatus::Uncertain, None)
        )
        .is_none());
    }
}
