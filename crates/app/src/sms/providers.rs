//! Provider dispatch for SMS: the built-in sandbox here; the HTTP and SMPP
//! providers in their own modules. Every provider reports back through
//! `receipts::apply`, so the state machine is the same whoever delivers.

use super::receipts;
use crate::channels::registry::LoadedSms;
use crate::channels::sms_config::SmsProviderSettings;
use crate::consent::service::change;
use crate::workers::JobError;
use crate::AppState;
use recado_channels::sms::SmsSendError;
use recado_core::consent::{ChangeRequest, Channel, ConsentSource, SubscriptionStatus};
use recado_core::delivery::OutboundStatus;
use recado_core::jobs::Task;
use recado_store::jobs::{Job, NewJob};
use recado_store::messages::MessageRecord;

/// Whether this node may submit on `channel` now. Only an SMPP channel can
/// say no: another node holds its bind (`JobError::Elsewhere`). Asked before
/// the send is marked as attempted, so a send handed to the binding node is
/// not taken for one that may have reached the provider.
pub async fn ready_here(state: &AppState, channel: &LoadedSms) -> Result<(), JobError> {
    match &channel.sms.provider {
        SmsProviderSettings::Smpp(_) => super::smpp::bound_here(state, channel).await,
        _ => Ok(()),
    }
}

/// Submits a stored message to its channel's provider.
pub async fn submit(state: &AppState, channel: &LoadedSms, message: &MessageRecord) -> Result<(), JobError> {
    match &channel.sms.provider {
        SmsProviderSettings::Sandbox(settings) => {
            let provider_id = format!("sbx-{}", message.id);
            if let Err(e) = super::sandbox_outbox::record(&state.settings.data_dir, message, state.clock.now_ms()) {
                // Like a provider that could not be reached: nothing left.
                let text = format!("the SMS sandbox could not record the send: {e}");
                return settle_send_error(state, message, SmsSendError::Unreachable(text)).await;
            }
            receipts::apply(state, &message.id, OutboundStatus::Sent, None, Some(&provider_id)).await?;
            let job = NewJob {
                task: Task::SmsSandboxReceipt {
                    message_id: message.id.to_string(),
                },
                workspace_id: Some(&message.workspace_id),
                run_at: state.clock.now_ms() + settings.latency_ms as i64,
                max_attempts: 5,
            };
            state.store.enqueue_job(&job, state.clock.now_ms()).await?;
            Ok(())
        }
        SmsProviderSettings::Http(_) => super::http::submit(state, channel, message).await,
        SmsProviderSettings::Smpp(_) => super::smpp::submit(state, channel, message).await,
    }
}

/// What a provider's refusal or failure of a send means, the same for every
/// provider: a refusal is `not_sent` with its reason (and a provider opt-out
/// unsubscribes the contact), "try later" and "unreachable" leave the message
/// queued for another attempt (it never reached the provider), and a failure
/// after the request left makes it `uncertain`, never sent again.
pub async fn settle_send_error(state: &AppState, message: &MessageRecord, error: SmsSendError) -> Result<(), JobError> {
    match error {
        SmsSendError::Rejected { code, message: text } => {
            receipts::apply(
                state,
                &message.id,
                OutboundStatus::NotSent,
                Some((code.clone(), text)),
                None,
            )
            .await?;
            if code == recado_channels::sms::http::errors::PROVIDER_OPT_OUT {
                unsubscribe_provider(state, message).await?;
            }
            Ok(())
        }
        SmsSendError::RetryLater {
            message: text,
            retry_after_ms,
        } => {
            state.store.clear_send_attempted(&message.id).await?;
            Err(JobError::Retry {
                message: text,
                retry_after_ms,
            })
        }
        SmsSendError::Unreachable(text) => {
            state.store.clear_send_attempted(&message.id).await?;
            Err(JobError::Retry {
                message: text,
                retry_after_ms: None,
            })
        }
        SmsSendError::Uncertain(_) => {
            receipts::apply(state, &message.id, OutboundStatus::Uncertain, None, None).await?;
            Ok(())
        }
    }
}

/// The provider refused because the contact opted out with it (its own STOP
/// handling): the hub records that opt-out with source `provider`.
async fn unsubscribe_provider(state: &AppState, message: &MessageRecord) -> Result<(), JobError> {
    let Some(contact_id) = &message.contact_id else {
        return Ok(());
    };
    let Ok(contact) = state.store.contact(&message.workspace_id, contact_id).await else {
        return Ok(());
    };
    let request = ChangeRequest {
        channel: Channel::Sms,
        status: SubscriptionStatus::Unsubscribed,
        legal_basis: None,
        explanation: Some("the SMS provider reported that the contact opted out".into()),
        source: ConsentSource::Provider,
    };
    change(&state.store, &contact, &request, "system", state.clock.now_ms()).await?;
    Ok(())
}

/// Whether the sandbox delivers a message: a stable function of its id, so
/// a given message always ends the same way and the share matches the ratio.
pub fn sandbox_delivers(message_id: &str, ratio: f64) -> bool {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(message_id.as_bytes());
    let draw = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes")) as f64 / u64::MAX as f64;
    draw < ratio
}

/// The sandbox's delivery receipt, after the configured latency.
pub async fn sandbox_receipt_job(state: AppState, job: Job, message_id: String) -> Result<(), JobError> {
    let id = message_id.as_str();
    let message = state
        .store
        .message(job.workspace_id.as_deref().unwrap_or(""), id)
        .await?;
    let record = state
        .store
        .channel_by_id(&message.channel_id)
        .await?
        .ok_or_else(|| JobError::Permanent("channel deleted".into()))?;
    let channel = crate::channels::registry::decode_sms(&state, record)?;
    let SmsProviderSettings::Sandbox(settings) = &channel.sms.provider else {
        return Err(JobError::Permanent("not a sandbox channel".into()));
    };
    if sandbox_delivers(&message.id, settings.delivery_ratio) {
        receipts::apply(&state, &message.id, OutboundStatus::Delivered, None, None).await?;
    } else {
        let error = (
            settings.failure_code.clone(),
            "the sandbox network did not deliver the message".to_string(),
        );
        receipts::apply(&state, &message.id, OutboundStatus::NotDelivered, Some(error), None).await?;
    }
    Ok(())
}

/// Called when an SMS channel is created or changed (for providers that keep
/// a connection).
pub async fn channel_changed(state: &AppState, channel: &LoadedSms) {
    if let SmsProviderSettings::Smpp(_) = channel.sms.provider {
        super::smpp::restart(state, channel).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sandbox_delivers_about_the_configured_share_and_always_the_same_way() {
        let ids: Vec<String> = (0..2000).map(|i| format!("msg_{i}")).collect();
        let delivered = ids.iter().filter(|id| sandbox_delivers(id, 0.7)).count();
        assert!((1300..=1500).contains(&delivered), "{delivered}");
        assert!(ids.iter().all(|id| sandbox_delivers(id, 1.0)));
        assert!(ids.iter().all(|id| !sandbox_delivers(id, 0.0)));
        assert_eq!(sandbox_delivers("msg_7", 0.5), sandbox_delivers("msg_7", 0.5));
    }
}
