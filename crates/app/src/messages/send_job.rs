//! What every channel's send job does before it may call a provider: find
//! the queued message, leave settled ones alone, turn a send that may have
//! reached the provider before a crash into `uncertain` (never repeated),
//! and notice a channel deleted since the message was queued.

use crate::error::AppError;
use crate::whatsapp::send::SendSource;
use crate::workers::JobError;
use crate::AppState;
use recado_core::consent::Channel;
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

/// Loads the message `id` of a send job and its channel.
pub async fn load_queued(state: &AppState, job: &Job, id: &str) -> Result<Queued, JobError> {
    let workspace_id = job.workspace_id.clone().unwrap_or_default();
    let message = match state.store.message(&workspace_id, id).await {
        Ok(m) => m,
        Err(StoreError::NotFound) => return Err(JobError::Permanent(format!("message {id} is gone"))),
        Err(e) => return Err(JobError::retry(e)),
    };
    if message.status != OutboundStatus::Queued {
        return Ok(Queued::Settled);
    }
    if message.send_attempted_at.is_some() {
        return Ok(Queued::Uncertain(message));
    }
    Ok(match state.store.channel_by_id(&message.channel_id).await? {
        Some(record) => Queued::Ready(message, record),
        None => Queued::ChannelGone(message),
    })
}

/// The status a buried send job's message must end in, if it is still
/// queued: `uncertain` when the last attempt may have reached the provider
/// (its lease ran out mid-request), otherwise `failed` with the last error —
/// every accepted send ends in a final state, however long the provider
/// stays down (SPEC §10).
pub async fn buried_settlement(
    state: &AppState,
    job: &Job,
    message_id: &str,
) -> Result<Option<(MessageRecord, OutboundStatus, Option<(String, String)>)>, JobError> {
    let message = match load_queued(state, job, message_id).await {
        Ok(Queued::Uncertain(m)) => return Ok(Some((m, OutboundStatus::Uncertain, None))),
        Ok(Queued::Ready(m, _)) | Ok(Queued::ChannelGone(m)) => m,
        Ok(Queued::Settled) | Err(JobError::Permanent(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let last = job
        .last_error
        .clone()
        .unwrap_or_else(|| "the send failed on every attempt".into());
    let error = (
        "provider_error".to_string(),
        format!("gave up after {} attempts: {last}", job.attempts),
    );
    Ok(Some((message, OutboundStatus::Failed, Some(error))))
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
    error: AppError,
    timeline_kind: &'static str,
) -> AppError {
    let mut refused = message.clone();
    refused.status = OutboundStatus::NotSent.into();
    refused.error_code = Some(error.code.to_string());
    refused.error_message = Some(error.message.clone());
    refused.counted = false;
    let details = serde_json::json!({ "reason": error.code });
    if let Err(e) = record_not_sent(state, refused, timeline_kind, &details).await {
        tracing::error!(error = %e, kind = timeline_kind, "could not record a refused send");
    }
    error
}

/// Writes a refused message in its thread with its timeline entry.
async fn record_not_sent(
    state: &AppState,
    mut refused: MessageRecord,
    timeline_kind: &str,
    details: &serde_json::Value,
) -> Result<(), StoreError> {
    let mut tx = state.store.write().await?;
    if let Some(account) = refused.sender.clone() {
        tx.file_outbound(&mut refused, &account).await?;
    }
    tx.insert_message(&mut refused).await?;
    tx.timeline(&refused, timeline_kind, refused.created_at, details)
        .await?;
    tx.commit().await
}

/// A send refused before its message could be planned: the sender is not the
/// channel's, or the number is not a phone number.
pub struct Unplanned<'a> {
    pub workspace_id: &'a str,
    pub channel: Channel,
    pub channel_id: &'a str,
    pub contact_id: Option<String>,
    /// The recipient as given.
    pub to: Option<String>,
    /// The sender as given.
    pub from: Option<&'a str>,
    pub text: Option<&'a str>,
    /// The campaign the send names (its default otherwise).
    pub campaign: Option<String>,
}

/// Stores an unplanned refusal as `not_sent` with its reason and
/// `{CHANNEL}_NOT_SENT` on the contact's timeline (when there is a contact),
/// like every other refusal, and hands back the error.
pub async fn record_unplanned(state: &AppState, u: Unplanned<'_>, error: AppError) -> AppError {
    let now = state.clock.now_ms();
    let campaign = crate::campaigns::name_of_send(state, u.campaign.as_deref(), SendSource::Api, u.channel);
    let message = MessageRecord {
        text: u.text.map(str::to_string),
        campaign: Some(campaign),
        campaign_source: Some(SendSource::Api.campaign_source()),
        sender: u.from.map(str::to_string),
        recipient: u.to,
        ..MessageRecord::queued_outbound(u.workspace_id, u.channel, u.channel_id, u.contact_id, now)
    };
    let kind = crate::messages::prepared::not_sent_kind(u.channel);
    record_refusal(state, &message, error, kind).await
}
