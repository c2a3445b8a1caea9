//! What every channel's send job does before it may call a provider: find
//! the queued message, leave settled ones alone, turn a send that may have
//! reached the provider before a crash into `uncertain` (never repeated),
//! and notice a channel deleted since the message was queued.

use crate::app::AppState;
use crate::error::ApiError;
use crate::workers::JobError;
use recado_core::delivery::OutboundStatus;
use recado_store::channels::ChannelRecord;
use recado_store::jobs::Job;
use recado_store::messages::{MessageRecord, OutboundWrite, TimelineNote};
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

/// Stores a refused send as `not_sent` (never counted) with its reason and a
/// timeline entry of `timeline_kind`, then hands back the error for the caller.
pub async fn record_refusal(
    state: &AppState,
    message: &MessageRecord,
    error: ApiError,
    timeline_kind: &'static str,
) -> ApiError {
    let mut refused = message.clone();
    refused.status = OutboundStatus::NotSent.as_str().into();
    refused.error_code = Some(error.code.to_string());
    refused.error_message = Some(error.message.clone());
    refused.counted = false;
    let write = OutboundWrite {
        message: &refused,
        account: refused.sender.as_deref(),
        conversation: None,
        quota: None,
        job: None,
        timeline: Some(TimelineNote {
            kind: timeline_kind,
            details: serde_json::json!({ "reason": error.code }),
        }),
    };
    if let Err(e) = state.store.record_outbound(&write).await {
        tracing::error!(error = %e, kind = timeline_kind, "could not record a refused send");
    }
    error
}
