//! The hub's background work as one enum: every kind of job and the payload
//! it carries. A job is stored as its kind (TEXT, checked by the database)
//! and its payload (JSON); [`Task`] is the two read back together, so a
//! handler never digs in untyped JSON and an unreadable job is an error, not
//! a job with empty fields.

use crate::consent::UnknownValue;
use crate::delivery::PartState;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a job does, as stored in `jobs.kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobKind {
    WhatsAppWebhook,
    WhatsAppSend,
    WhatsAppTemplateSync,
    SmsSend,
    SmsSandboxReceipt,
    SmsWebhook,
    SmppReceipt,
    SmppInbound,
    WebhookDelivery,
    WorkflowContactChange,
    WorkflowEnrolSegment,
    WorkflowEvent,
    BroadcastPrepare,
    EmailNotify,
    VoiceDial,
    VoiceInput,
    VoiceCommand,
    VoiceKeyAction,
}

fn enrol_by_default() -> bool {
    true
}

impl JobKind {
    pub const ALL: [JobKind; 18] = [
        JobKind::WhatsAppWebhook,
        JobKind::WhatsAppSend,
        JobKind::WhatsAppTemplateSync,
        JobKind::SmsSend,
        JobKind::SmsSandboxReceipt,
        JobKind::SmsWebhook,
        JobKind::SmppReceipt,
        JobKind::SmppInbound,
        JobKind::WebhookDelivery,
        JobKind::WorkflowContactChange,
        JobKind::WorkflowEnrolSegment,
        JobKind::WorkflowEvent,
        JobKind::BroadcastPrepare,
        JobKind::EmailNotify,
        JobKind::VoiceDial,
        JobKind::VoiceInput,
        JobKind::VoiceCommand,
        JobKind::VoiceKeyAction,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::WhatsAppWebhook => "whatsapp.webhook",
            JobKind::WhatsAppSend => "whatsapp.send",
            JobKind::WhatsAppTemplateSync => "whatsapp.template_sync",
            JobKind::SmsSend => "sms.send",
            JobKind::SmsSandboxReceipt => "sms.sandbox_receipt",
            JobKind::SmsWebhook => "sms.webhook",
            JobKind::SmppReceipt => "sms.smpp_receipt",
            JobKind::SmppInbound => "sms.smpp_inbound",
            JobKind::WebhookDelivery => "webhook.deliver",
            JobKind::WorkflowContactChange => "workflow.contact_change",
            JobKind::WorkflowEnrolSegment => "workflow.enrol_segment",
            JobKind::WorkflowEvent => "workflow.event",
            JobKind::BroadcastPrepare => "broadcast.prepare",
            JobKind::EmailNotify => "email.notify",
            JobKind::VoiceDial => "voice.dial",
            JobKind::VoiceInput => "voice.input",
            JobKind::VoiceCommand => "voice.command",
            JobKind::VoiceKeyAction => "voice.key_action",
        }
    }
}

impl FromStr for JobKind {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, UnknownValue> {
        JobKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownValue(s.to_string()))
    }
}

impl TryFrom<String> for JobKind {
    type Error = UnknownValue;
    fn try_from(s: String) -> Result<Self, UnknownValue> {
        s.parse()
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an SMSC reported for one part of a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartReport {
    pub state: PartState,
    /// The SMSC's error code when the part was not delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// A job: its kind and its payload. The serialized form is
/// `{"kind": "...", "payload": {...}}`, of which the store keeps the two
/// halves in their own columns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "payload")]
pub enum Task {
    /// Process a stored WhatsApp webhook event.
    #[serde(rename = "whatsapp.webhook")]
    WhatsAppWebhook { event_id: String },
    /// Send a recorded WhatsApp message.
    #[serde(rename = "whatsapp.send")]
    WhatsAppSend { message_id: String },
    /// Read a workspace's message templates from Meta again.
    #[serde(rename = "whatsapp.template_sync")]
    WhatsAppTemplateSync {},
    /// Send a recorded SMS.
    #[serde(rename = "sms.send")]
    SmsSend { message_id: String },
    /// The sandbox SMS provider's delivery receipt, some time after the send.
    #[serde(rename = "sms.sandbox_receipt")]
    SmsSandboxReceipt { message_id: String },
    /// Process a stored SMS provider webhook event.
    #[serde(rename = "sms.webhook")]
    SmsWebhook { event_id: String },
    /// An SMPP delivery receipt for one part.
    #[serde(rename = "sms.smpp_receipt")]
    SmppReceipt {
        channel_id: String,
        part_id: String,
        delivery: PartReport,
        #[serde(default)]
        error: Option<String>,
    },
    /// An SMS received over SMPP.
    #[serde(rename = "sms.smpp_inbound")]
    SmppInbound {
        channel_id: String,
        from: String,
        to: String,
        text: String,
    },
    /// Deliver one outbound event to one webhook endpoint.
    #[serde(rename = "webhook.deliver")]
    WebhookDelivery { endpoint_id: String, event_id: String },
    /// A workflow step's change to a contact, queued in the transaction of
    /// the step and applied through the contact and consent services.
    #[serde(rename = "workflow.contact_change")]
    WorkflowContactChange {
        workspace_id: String,
        contact_id: String,
        run_id: String,
        node_id: String,
        change: WorkflowChange,
    },
    /// Enrols the next page of a segment's contacts (after `after`) in a
    /// workflow version, then queues the page after it.
    #[serde(rename = "workflow.enrol_segment")]
    WorkflowEnrolSegment {
        workspace_id: String,
        workflow_id: String,
        version: i64,
        segment_id: String,
        #[serde(default)]
        after: Option<String>,
        /// False when activation only records who already matches (so
        /// that only contacts that come to match later are enrolled).
        #[serde(default = "enrol_by_default")]
        enrol: bool,
    },
    /// A timeline event that an active workflow's event trigger names,
    /// queued in the transaction that recorded it.
    #[serde(rename = "workflow.event")]
    WorkflowEvent {
        workspace_id: String,
        workflow_id: String,
        contact_id: String,
        event: String,
        event_id: String,
        #[serde(default)]
        message_id: Option<String>,
    },
    /// Prepares the next page of a broadcast's recipients when few of its
    /// messages are waiting, then queues itself again until every
    /// recipient is prepared and sent.
    #[serde(rename = "broadcast.prepare")]
    BroadcastPrepare { workspace_id: String, broadcast_id: String },
    /// E-mails the workspace's admins about a notification (a usage
    /// threshold reached), when the hub has an SMTP server.
    #[serde(rename = "email.notify")]
    EmailNotify {
        workspace_id: String,
        notification_id: String,
    },
    /// Hands attempt `attempt` of a call to its provider. Queued in the
    /// transaction that recorded the attempt, so a call is dialled only
    /// once the hub knows it did.
    #[serde(rename = "voice.dial")]
    VoiceDial {
        workspace_id: String,
        message_id: String,
        attempt: u32,
    },
    /// Feeds a call one input: a timer that fell due, or a provider report
    /// (the sandbox's simulated network reports this way).
    #[serde(rename = "voice.input")]
    VoiceInput {
        workspace_id: String,
        message_id: String,
        input: crate::voice::call::Input,
    },
    /// Carries out a call's command through its provider (play the menu, a
    /// key's narration, transfer, hang up).
    #[serde(rename = "voice.command")]
    VoiceCommand {
        workspace_id: String,
        message_id: String,
        attempt: u32,
        command: crate::voice::call::Command,
    },
    /// What an IVR key does beyond the call: its SMS, or the opt-out from
    /// voice (history source `ivr_key`), through the SMS and consent services.
    #[serde(rename = "voice.key_action")]
    VoiceKeyAction {
        workspace_id: String,
        message_id: String,
        key: crate::voice::Key,
    },
}

/// A contact change a workflow step makes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WorkflowChange {
    Property {
        property: String,
        value: Option<String>,
    },
    Subscription {
        channel: crate::consent::Channel,
        status: crate::consent::SubscriptionStatus,
        legal_basis: Option<crate::consent::LegalBasis>,
        explanation: Option<String>,
    },
}

/// A stored job whose payload does not match its kind.
#[derive(Debug, thiserror::Error)]
#[error("the payload of a `{kind}` job cannot be read: {reason}")]
pub struct UnreadableTask {
    pub kind: String,
    pub reason: String,
}

impl Task {
    pub fn kind(&self) -> JobKind {
        match self {
            Task::WhatsAppWebhook { .. } => JobKind::WhatsAppWebhook,
            Task::WhatsAppSend { .. } => JobKind::WhatsAppSend,
            Task::WhatsAppTemplateSync {} => JobKind::WhatsAppTemplateSync,
            Task::SmsSend { .. } => JobKind::SmsSend,
            Task::SmsSandboxReceipt { .. } => JobKind::SmsSandboxReceipt,
            Task::SmsWebhook { .. } => JobKind::SmsWebhook,
            Task::SmppReceipt { .. } => JobKind::SmppReceipt,
            Task::SmppInbound { .. } => JobKind::SmppInbound,
            Task::WebhookDelivery { .. } => JobKind::WebhookDelivery,
            Task::WorkflowContactChange { .. } => JobKind::WorkflowContactChange,
            Task::WorkflowEnrolSegment { .. } => JobKind::WorkflowEnrolSegment,
            Task::WorkflowEvent { .. } => JobKind::WorkflowEvent,
            Task::BroadcastPrepare { .. } => JobKind::BroadcastPrepare,
            Task::EmailNotify { .. } => JobKind::EmailNotify,
            Task::VoiceDial { .. } => JobKind::VoiceDial,
            Task::VoiceInput { .. } => JobKind::VoiceInput,
            Task::VoiceCommand { .. } => JobKind::VoiceCommand,
            Task::VoiceKeyAction { .. } => JobKind::VoiceKeyAction,
        }
    }

    /// The payload half, as stored in `jobs.payload`.
    pub fn payload(&self) -> serde_json::Value {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(mut whole)) => whole.remove("payload").unwrap_or_default(),
            _ => serde_json::Value::Null,
        }
    }

    /// The task stored as `kind` and `payload`.
    pub fn read(kind: &str, payload: &str) -> Result<Task, UnreadableTask> {
        let unreadable = |reason: String| UnreadableTask {
            kind: kind.to_string(),
            reason,
        };
        let payload: serde_json::Value = serde_json::from_str(payload).map_err(|e| unreadable(e.to_string()))?;
        serde_json::from_value(serde_json::json!({ "kind": kind, "payload": payload }))
            .map_err(|e| unreadable(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_of_each() -> Vec<Task> {
        vec![
            Task::WhatsAppWebhook {
                event_id: "ev_1".into(),
            },
            Task::WhatsAppSend {
                message_id: "msg_1".into(),
            },
            Task::WhatsAppTemplateSync {},
            Task::SmsSend {
                message_id: "msg_2".into(),
            },
            Task::SmsSandboxReceipt {
                message_id: "msg_3".into(),
            },
            Task::SmsWebhook {
                event_id: "ev_2".into(),
            },
            Task::SmppReceipt {
                channel_id: "ch_1".into(),
                part_id: "p1".into(),
                delivery: PartReport {
                    state: PartState::NotDelivered,
                    code: Some("0x0b".into()),
                },
                error: None,
            },
            Task::SmppInbound {
                channel_id: "ch_1".into(),
                from: "+5511912345678".into(),
                to: "+15550001111".into(),
                text: "SAIR".into(),
            },
            Task::WebhookDelivery {
                endpoint_id: "we_1".into(),
                event_id: "ev_3".into(),
            },
            Task::WorkflowContactChange {
                workspace_id: "ws_1".into(),
                contact_id: "ct_1".into(),
                run_id: "run_1".into(),
                node_id: "n2".into(),
                change: WorkflowChange::Property {
                    property: "customer".into(),
                    value: Some("yes".into()),
                },
            },
            Task::WorkflowEnrolSegment {
                workspace_id: "ws_1".into(),
                workflow_id: "wf_1".into(),
                version: 1,
                segment_id: "sg_1".into(),
                after: Some("ct_9".into()),
                enrol: false,
            },
            Task::WorkflowEvent {
                workspace_id: "ws_1".into(),
                workflow_id: "wf_1".into(),
                contact_id: "ct_1".into(),
                event: "SMS_CLICKED".into(),
                event_id: "evt_1".into(),
                message_id: Some("msg_1".into()),
            },
            Task::BroadcastPrepare {
                workspace_id: "ws_1".into(),
                broadcast_id: "bc_1".into(),
            },
            Task::EmailNotify {
                workspace_id: "ws_1".into(),
                notification_id: "evt_1".into(),
            },
            Task::VoiceDial {
                workspace_id: "ws_1".into(),
                message_id: "msg_1".into(),
                attempt: 2,
            },
            Task::VoiceInput {
                workspace_id: "ws_1".into(),
                message_id: "msg_1".into(),
                input: crate::voice::call::Input::Provider {
                    attempt: 1,
                    event: crate::voice::call::ProviderEvent::Dtmf {
                        key: crate::voice::Key::digit(2).unwrap(),
                        seq: 1,
                    },
                },
            },
            Task::VoiceCommand {
                workspace_id: "ws_1".into(),
                message_id: "msg_1".into(),
                attempt: 1,
                command: crate::voice::call::Command::HangUp { attempt: 1 },
            },
            Task::VoiceKeyAction {
                workspace_id: "ws_1".into(),
                message_id: "msg_1".into(),
                key: crate::voice::Key::digit(9).unwrap(),
            },
        ]
    }

    #[test]
    fn every_task_reads_back_from_its_kind_and_payload() {
        let tasks = one_of_each();
        assert_eq!(tasks.len(), JobKind::ALL.len());
        for task in tasks {
            let kind = task.kind();
            assert_eq!(kind.as_str().parse::<JobKind>().unwrap(), kind);
            let back = Task::read(kind.as_str(), &task.payload().to_string()).unwrap();
            assert_eq!(back, task);
        }
    }

    #[test]
    fn a_payload_that_does_not_match_its_kind_is_unreadable() {
        assert!(Task::read("sms.send", r#"{"event_id": "ev_1"}"#).is_err());
        assert!(Task::read("sms.send", "not json").is_err());
        assert!(Task::read("no.such_kind", "{}").is_err());
    }

    #[test]
    fn payloads_written_before_typed_jobs_still_read() {
        // Jobs queued by an earlier version are read by the new one.
        let receipt = r#"{"channel_id":"ch_1","part_id":"p1","delivery":{"state":"delivered"},"error":null}"#;
        assert!(matches!(
            Task::read("sms.smpp_receipt", receipt).unwrap(),
            Task::SmppReceipt {
                delivery: PartReport {
                    state: PartState::Delivered,
                    ..
                },
                ..
            }
        ));
        assert_eq!(
            Task::read("whatsapp.template_sync", "{}").unwrap(),
            Task::WhatsAppTemplateSync {}
        );
    }
}
