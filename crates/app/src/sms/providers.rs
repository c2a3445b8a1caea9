//! Provider dispatch for SMS: the built-in sandbox here; the HTTP and SMPP
//! providers in their own modules. Every provider reports back through
//! `receipts::apply`, so the state machine is the same whoever delivers.

use crate::channels::registry::LoadedSms;
use crate::channels::sms_config::SmsProviderSettings;
use crate::consent::service::change;
use crate::provider_metrics::ProviderOutcome;
use crate::workers::JobError;
use crate::AppState;
use recado_channels::sms::SmsSendError;
use recado_core::consent::{ChangeRequest, Channel, ConsentSource, SubscriptionStatus};
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

/// What a provider answered to a submission it accepted.
#[derive(Debug)]
pub struct Accepted {
    /// The provider's id of the message (its first part's, for SMPP).
    pub provider_id: String,
    /// SMPP: the id of every part, which its receipts name.
    pub parts: Vec<String>,
    /// Sandbox: when the delivery receipt is due.
    pub receipt_at: Option<i64>,
}

/// Why a submission was not accepted.
#[derive(Debug)]
pub enum NotAccepted {
    /// The provider's answer, or the lack of one.
    Send(SmsSendError),
    /// Another node holds the channel's SMPP bind: nothing left this node.
    Elsewhere,
    /// The stored message cannot be submitted as it is; nothing left.
    Permanent(String),
}

/// Hands a stored message to its channel's provider. Writes nothing to the
/// database: the caller marked the send attempted before and records the
/// outcome after (the dispatcher, for many sends per transaction).
pub async fn request(state: &AppState, channel: &LoadedSms, message: &MessageRecord) -> Result<Accepted, NotAccepted> {
    let started = std::time::Instant::now();
    let outcome = submit(state, channel, message).await;
    let (workspace_id, channel_id, now) = (&channel.record.workspace_id, &channel.record.id, state.clock.now_ms());
    match &outcome {
        Ok(_) => state.health.sent(workspace_id, channel_id, now),
        Err(NotAccepted::Send(error)) => {
            state
                .health
                .failed(workspace_id, channel_id, now, error_code(error), &error.to_string())
        }
        Err(NotAccepted::Permanent(text)) => state.health.failed(workspace_id, channel_id, now, "unsendable", text),
        Err(NotAccepted::Elsewhere) => {}
    }
    if let Some(counted) = provider_outcome(&outcome) {
        crate::provider_metrics::record(&channel.record.kind, counted, started.elapsed());
    }
    outcome
}

/// What a request's outcome counts as; None when no request was made.
fn provider_outcome(outcome: &Result<Accepted, NotAccepted>) -> Option<ProviderOutcome> {
    Some(match outcome {
        Ok(_) => ProviderOutcome::Accepted,
        Err(NotAccepted::Send(SmsSendError::Rejected { .. })) => ProviderOutcome::Refused,
        Err(NotAccepted::Send(SmsSendError::RetryLater { .. })) => ProviderOutcome::RetryLater,
        Err(NotAccepted::Send(SmsSendError::Unreachable(_))) => ProviderOutcome::Unreachable,
        Err(NotAccepted::Send(SmsSendError::Uncertain(_))) => ProviderOutcome::Uncertain,
        Err(NotAccepted::Elsewhere | NotAccepted::Permanent(_)) => return None,
    })
}

/// A short name of a provider's refusal or failure for the channels page.
fn error_code(error: &SmsSendError) -> &str {
    match error {
        SmsSendError::Rejected { code, .. } => code,
        SmsSendError::RetryLater { .. } => "retry_later",
        SmsSendError::Unreachable(_) => "unreachable",
        SmsSendError::Uncertain(_) => "uncertain",
    }
}

async fn submit(state: &AppState, channel: &LoadedSms, message: &MessageRecord) -> Result<Accepted, NotAccepted> {
    match &channel.sms.provider {
        SmsProviderSettings::Sandbox(settings) => {
            let now = state.clock.now_ms();
            if let Err(e) = super::sandbox_outbox::record(&state.settings.data_dir, message, now) {
                // Like a provider that could not be reached: nothing left.
                let text = format!("the SMS sandbox could not record the send: {e}");
                return Err(NotAccepted::Send(SmsSendError::Unreachable(text)));
            }
            Ok(Accepted {
                provider_id: format!("sbx-{}", message.id),
                parts: Vec::new(),
                receipt_at: Some(now + settings.latency_ms as i64),
            })
        }
        SmsProviderSettings::Http(_) => super::http::request(state, channel, message).await,
        SmsProviderSettings::Smpp(_) => super::smpp::request(state, channel, message).await,
    }
}

/// What a provider's refusal or failure of a send means, the same for every
/// provider: a refusal is `not_sent` with its reason (and a provider opt-out
/// unsubscribes the contact), "try later" and "unreachable" leave the message
/// queued for another attempt (it never reached the provider), and a failure
/// after the request left makes it `uncertain`, never sent again.
pub fn settlement_of(error: &SmsSendError) -> Settlement {
    match error {
        SmsSendError::Rejected { code, message } => Settlement::NotSent {
            opt_out: code == recado_channels::sms::http::errors::PROVIDER_OPT_OUT,
            error: (code.clone(), message.clone()),
        },
        SmsSendError::RetryLater {
            message,
            retry_after_ms,
        } => Settlement::Retry {
            message: message.clone(),
            retry_after_ms: *retry_after_ms,
        },
        SmsSendError::Unreachable(message) => Settlement::Retry {
            message: message.clone(),
            retry_after_ms: None,
        },
        SmsSendError::Uncertain(_) => Settlement::Uncertain,
    }
}

/// What becomes of a send the provider did not accept.
#[derive(Debug, PartialEq)]
pub enum Settlement {
    /// Refused for good: `not_sent` with the provider's reason.
    NotSent { error: (String, String), opt_out: bool },
    /// Certainly not received: the job tries again later.
    Retry {
        message: String,
        retry_after_ms: Option<i64>,
    },
    /// May have been received: `uncertain`, never sent again.
    Uncertain,
}

/// The provider refused because the contact opted out with it (its own STOP
/// handling): the hub records that opt-out with source `provider`.
pub(crate) async fn unsubscribe_provider(state: &AppState, message: &MessageRecord) -> Result<(), JobError> {
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
