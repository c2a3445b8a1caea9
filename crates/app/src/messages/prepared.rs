//! A send decided but not yet written. Every rule of a channel's send path is
//! applied by its `prepare` (reads only); the result is written into a
//! [`WriteTx`] the caller owns. The API writes one send per transaction; the
//! workflow engine writes the sends of many runs, with the runs' own
//! changes, in one.

use crate::messages::refusal::SendRefusal;
use crate::voice::engine::{StartedCall, STARTED_JOB_ATTEMPTS};
use recado_core::consent::Channel;
use recado_core::delivery::OutboundStatus;
use recado_core::jobs::Task;
use recado_store::jobs::NewJob;
use recado_store::links::ShortLink;
use recado_store::messages::{ConversationWrite, MessageRecord, QuotaCheck};
use recado_store::timers::Timer;
use recado_store::{OutboundRow, StoreError, WriteTx};
use serde_json::json;

/// A send that passed every rule, ready to be queued.
#[derive(Clone, Debug)]
pub struct QueuedSend {
    pub message: MessageRecord,
    /// The sender account the message is filed under (thread).
    pub account: String,
    pub links: Vec<ShortLink>,
    /// The timeline entry of the queued message.
    pub timeline_kind: &'static str,
    pub details: serde_json::Value,
    /// A WhatsApp conversation to admit against the monthly limit and the
    /// tier cap, inside the transaction that records it.
    pub conversation: Option<Conversation>,
    /// A voice message's or IVR call's call row, written with the message
    /// before anything is dialled.
    pub call: Option<StartedCall>,
}

#[derive(Clone, Debug)]
pub struct Conversation {
    pub recipient: String,
    pub business_initiated: bool,
    pub quota: Option<QuotaCheck>,
}

#[derive(Clone, Debug)]
pub enum Prepared {
    Queued(Box<QueuedSend>),
    /// Refused by a rule; stored as `not_sent` with the reason.
    Refused {
        message: Box<MessageRecord>,
        refusal: SendRefusal,
    },
}

/// What was written.
#[derive(Clone, Debug)]
pub enum Written {
    Queued(MessageRecord),
    Refused(MessageRecord, SendRefusal),
}

impl Written {
    pub fn message(&self) -> &MessageRecord {
        match self {
            Written::Queued(m) | Written::Refused(m, _) => m,
        }
    }
}

/// The `*_NOT_SENT` timeline entry of a channel.
pub fn not_sent_kind(channel: Channel) -> &'static str {
    match channel {
        Channel::Sms => "SMS_NOT_SENT",
        Channel::Whatsapp => "WHATSAPP_NOT_SENT",
        Channel::Voice => "VOICE_NOT_SENT",
    }
}

impl Prepared {
    /// Writes the send: a queued message with its thread, conversation, short
    /// links, send job and timeline entry, or, when refused here (the
    /// conversation limits are only known inside the transaction), a
    /// `not_sent` message with its reason.
    pub async fn write(self, tx: &mut WriteTx, now: i64) -> Result<Written, StoreError> {
        match self {
            Prepared::Refused { message, refusal } => {
                let refused = write_refused(tx, &message, &refusal).await?;
                Ok(Written::Refused(refused, refusal))
            }
            Prepared::Queued(send) => {
                let mut send = *send;
                if let Some(c) = &send.conversation {
                    let write = ConversationWrite {
                        recipient: &c.recipient,
                        business_initiated: c.business_initiated,
                    };
                    if let Err(refusal) = tx.admit_conversation(&send.message, c.quota.as_ref(), &write).await? {
                        let refusal: SendRefusal = refusal.into();
                        let refused = write_refused(tx, &send.message, &refusal).await?;
                        return Ok(Written::Refused(refused, refusal));
                    }
                }
                let workspace_id = send.message.workspace_id.clone();
                let jobs: Vec<NewJob<'_>> = match &send.call {
                    // A call's first step was taken: its jobs are the dial's.
                    Some(call) => call
                        .jobs
                        .iter()
                        .map(|(task, run_at)| NewJob {
                            task: task.clone(),
                            workspace_id: Some(&workspace_id),
                            run_at: *run_at,
                            max_attempts: STARTED_JOB_ATTEMPTS,
                        })
                        .collect(),
                    None => vec![NewJob {
                        task: send_task(&send.message),
                        workspace_id: Some(&workspace_id),
                        run_at: now,
                        max_attempts: SEND_ATTEMPTS,
                    }],
                };
                tx.file_outbound(&mut send.message, &send.account).await?;
                tx.insert_message(&mut send.message).await?;
                if let Some(call) = &send.call {
                    tx.insert_call(&call.record).await?;
                    let timers: Vec<&Timer> = call.timer.iter().collect();
                    tx.arm_timers(&timers, now).await?;
                }
                tx.insert_short_links(&send.links).await?;
                tx.enqueue_many(&jobs, now).await?;
                tx.timeline(&send.message, send.timeline_kind, now, &send.details)
                    .await?;
                Ok(Written::Queued(send.message))
            }
        }
    }
}

impl QueuedSend {
    /// The rows of a send that needs no check inside the transaction (no
    /// conversation to admit), for [`WriteTx::queue_outbound_many`]; the
    /// send back otherwise.
    pub fn into_outbound_row(self: Box<Self>) -> Result<OutboundRow, Box<QueuedSend>> {
        if self.conversation.is_some() {
            return Err(self);
        }
        // A started call's one job is its dial, due now, as the bulk write
        // queues every send's job.
        let task = match &self.call {
            None => send_task(&self.message),
            Some(call) => match call.jobs.as_slice() {
                [(task, run_at)] if *run_at <= self.message.created_at => task.clone(),
                _ => return Err(self),
            },
        };
        let this = *self;
        let max_attempts = if this.call.is_some() {
            STARTED_JOB_ATTEMPTS
        } else {
            SEND_ATTEMPTS
        };
        Ok(OutboundRow {
            task,
            message: this.message,
            account: this.account,
            links: this.links,
            max_attempts,
            timeline_kind: this.timeline_kind,
            details: this.details,
            call: this.call.map(|c| (c.record, c.timer)),
        })
    }
}

/// Attempts of a send job before the message is settled as failed.
const SEND_ATTEMPTS: i64 = 8;

/// The job that hands a queued message to its provider.
fn send_task(message: &MessageRecord) -> Task {
    match message.channel {
        Channel::Sms => Task::SmsSend {
            message_id: message.id.to_string(),
        },
        // A call that was not started when prepared starts by being told
        // to dial; pacing and the call window are the dial step's to decide.
        Channel::Voice => Task::VoiceInput {
            workspace_id: message.workspace_id.clone(),
            message_id: message.id.to_string(),
            input: recado_core::voice::call::Input::Dial,
        },
        Channel::Whatsapp => Task::WhatsAppSend {
            message_id: message.id.to_string(),
        },
    }
}

/// Writes a refused send as `not_sent` (never counted) in its thread, with
/// the reason and the channel's `*_NOT_SENT` timeline entry.
pub async fn write_refused(
    tx: &mut WriteTx,
    message: &MessageRecord,
    refusal: &SendRefusal,
) -> Result<MessageRecord, StoreError> {
    let mut refused = message.clone();
    refused.status = OutboundStatus::NotSent.into();
    refused.error_code = Some(refusal.code().to_string());
    refused.error_message = Some(refusal.message());
    refused.counted = false;
    if let Some(account) = refused.sender.clone() {
        tx.file_outbound(&mut refused, &account).await?;
    }
    tx.insert_message(&mut refused).await?;
    let details = json!({ "reason": refusal.code() });
    tx.timeline(&refused, not_sent_kind(refused.channel), refused.created_at, &details)
        .await?;
    Ok(refused)
}
