//! What every channel's send job does before it may call a provider: find
//! the queued message, leave settled ones alone, turn a send that may have
//! reached the provider before a crash into `uncertain` (never repeated),
//! and notice a channel deleted since the message was queued.

use crate::app::AppState;
use crate::workers::JobError;
use recado_core::delivery::OutboundStatus;
use recado_store::channels::ChannelRecord;
use recado_store::jobs::Job;
use recado_store::messages::MessageRecord;
use recado_store::StoreError;

/// The state of a send job's message.
pub enum Queued {
    /// Already settled (sent, refused, reconciled): nothing to do.
    Settled,
    /// An earlier attempt may have reached the provider: settle as uncertain.
    Uncertain(MessageRecord),
    /// The channel was deleted before the send: the message was never sent.
    ChannelGone(MessageRecord),
    /// Ready to hand to the provider through this channel.
    Ready(MessageRecord, ChannelRecord),
}

/// A store error a later attempt may not meet.
pub fn retry(e: impl std::fmt::Display) -> JobError {
    JobError::Retry {
        message: e.to_string(),
        retry_after_ms: None,
    }
}

/// Loads the message of a send job (`{"message_id"}`) and its channel.
pub async fn load_queued(state: &AppState, job: &Job) -> Result<Queued, JobError> {
    let payload = job.payload_json();
    let id = payload["message_id"]
        .as_str()
        .ok_or_else(|| JobError::Permanent("payload without message_id".into()))?;
    let workspace_id = job.workspace_id.clone().unwrap_or_default();
    let message = match state.store.message(&workspace_id, id).await {
        Ok(m) => m,
        Err(StoreError::NotFound) => return Err(JobError::Permanent(format!("message {id} is gone"))),
        Err(e) => return Err(retry(e)),
    };
    if message.status != OutboundStatus::Queued.as_str() {
        return Ok(Queued::Settled);
    }
    if message.send_attempted_at.is_some() {
        return Ok(Queued::Uncertain(message));
    }
    Ok(
        match state.store.channel_by_id(&message.channel_id).await.map_err(retry)? {
            Some(record) => Queued::Ready(message, record),
            None => Queued::ChannelGone(message),
        },
    )
}

/// The reason a message whose channel was deleted was not sent.
pub fn channel_gone_reason() -> (String, String) {
    (
        "channel_deleted".into(),
        "the channel was deleted before the message was sent".into(),
    )
}
