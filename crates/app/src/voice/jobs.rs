//! The voice jobs: dialling an attempt, feeding a call an input, carrying
//! out a command through the call's provider, and a key's action beyond
//! the call (its SMS, the opt-out).

use super::engine::{feed, read};
use super::send::CallContent;
use crate::channels::registry::{load_voice, LoadedVoice};
use crate::channels::voice_config::VoiceProviderSettings;
use crate::whatsapp::send::SendSource;
use crate::workers::JobError;
use crate::{AppError, AppState};
use recado_core::consent::{ChangeRequest, Channel, ConsentSource, SubscriptionStatus};
use recado_core::voice::call::{Command, Input, Phase, ProviderEvent};
use recado_core::voice::definition::ActionKind;
use recado_core::voice::Key;
use recado_store::calls::CallRecord;
use recado_store::jobs::Job;

/// What a provider answered a dial.
pub enum Dialled {
    /// It took the call; its id for the call when it has one.
    Accepted { provider_call_id: Option<String> },
    /// It refused the call (a number it cannot call, a bad caller id).
    Refused { reason: String },
    /// It surely did not get the request: try again later.
    Retry {
        message: String,
        retry_after_ms: Option<i64>,
    },
    /// It may have got the request; its reports (or the call's timer) will tell.
    Unknown { message: String },
}

async fn call_of(state: &AppState, workspace_id: &str, message_id: &str) -> Result<Option<CallRecord>, JobError> {
    Ok(state.store.call(workspace_id, message_id).await?)
}

async fn channel_of(state: &AppState, call: &CallRecord) -> Result<LoadedVoice, JobError> {
    Ok(load_voice(state, &call.workspace_id, &call.channel_id).await?)
}

/// `voice.dial`: hands attempt `attempt` to the provider, once. The attempt
/// is claimed right before the request, so a job run again after a crash
/// never dials it a second time; the provider's reports or the call's
/// timer end it.
pub async fn dial_job(state: AppState, workspace_id: String, message_id: String, attempt: u32) -> Result<(), JobError> {
    let Some(call) = call_of(&state, &workspace_id, &message_id).await? else {
        return Ok(());
    };
    let (current, _) = read(&call)?;
    if current.attempt != attempt || current.phase != Phase::Dialing {
        return Ok(());
    }
    let channel = match channel_of(&state, &call).await {
        Ok(channel) => channel,
        Err(_) => {
            // The channel is gone: nothing can dial this call.
            let refused = Input::Provider {
                attempt,
                event: ProviderEvent::Refused,
            };
            feed(&state, &workspace_id, &message_id, refused, None).await?;
            return Ok(());
        }
    };
    let answer = match &channel.voice.provider {
        // Claimed by the node holding the channel once the dial's slot has
        // come, and an acceptance recorded there; `None`: nothing left.
        VoiceProviderSettings::Asterisk(s) => match super::asterisk::dial(&state, &call, &channel, s, attempt).await? {
            Some(answer) => answer,
            None => return Ok(()),
        },
        VoiceProviderSettings::Sandbox(s) => {
            if claim(&state, &message_id, attempt).await? {
                super::sandbox::dial(&state, &call, attempt, s.ring_ms).await?;
            }
            return Ok(());
        }
        VoiceProviderSettings::Http(http) => {
            if !claim(&state, &message_id, attempt).await? {
                return Ok(());
            }
            match super::twiml::dial(&state, &call, attempt, http).await? {
                super::twiml::DialStep::Dialled(answer) => answer,
                super::twiml::DialStep::Later { after_ms } => {
                    // The channel's pacing has no slot for it yet: the attempt
                    // is given back and dialled when its turn comes.
                    state.store.release_dial(&message_id, i64::from(attempt)).await?;
                    return Err(JobError::Later { after_ms });
                }
            }
        }
    };
    settle_dial(&state, &call, attempt, answer).await
}

/// Claims attempt `attempt` for dialling: false when an earlier run did.
async fn claim(state: &AppState, message_id: &str, attempt: u32) -> Result<bool, JobError> {
    let now = state.clock.now_ms();
    Ok(state.store.claim_dial(message_id, i64::from(attempt), now).await?)
}

/// Records a provider's answer to a dial.
async fn settle_dial(state: &AppState, call: &CallRecord, attempt: u32, answer: Dialled) -> Result<(), JobError> {
    let (ws, id) = (&call.workspace_id, &call.message_id);
    let report = |event| Input::Provider { attempt, event };
    match answer {
        Dialled::Accepted { provider_call_id } => {
            feed(
                state,
                ws,
                id,
                report(ProviderEvent::Accepted),
                provider_call_id.as_deref(),
            )
            .await?;
            Ok(())
        }
        Dialled::Refused { reason } => {
            tracing::info!(message_id = %id, %reason, "voice provider refused a call");
            feed(state, ws, id, report(ProviderEvent::Refused), None).await?;
            Ok(())
        }
        Dialled::Retry {
            message,
            retry_after_ms,
        } => {
            state.store.release_dial(id, i64::from(attempt)).await?;
            Err(JobError::Retry {
                message,
                retry_after_ms,
            })
        }
        Dialled::Unknown { message } => {
            tracing::warn!(message_id = %id, %message, "a call's dial may or may not have reached its provider");
            Ok(())
        }
    }
}

/// `voice.input`: a timer or a queued report. A timer that finds the
/// current attempt not yet handed to the provider (the channel's pacing
/// still holds its dial back) says so: the attempt is not over.
pub async fn input_job(
    state: AppState,
    workspace_id: String,
    message_id: String,
    input: Input,
) -> Result<(), JobError> {
    let input = match input {
        Input::TimerExpired => match call_of(&state, &workspace_id, &message_id).await? {
            Some(call) if waits_to_dial(&call) => Input::TimerBeforeDial,
            _ => input,
        },
        other => other,
    };
    feed(&state, &workspace_id, &message_id, input, None).await?;
    Ok(())
}

/// Whether the call's current attempt is still to be handed to its provider.
fn waits_to_dial(call: &CallRecord) -> bool {
    call.phase == super::engine::phase_name(Phase::Dialing) && call.dialled_attempt < call.attempt
}

/// A buried `voice.dial` job: an attempt no provider was handed will never
/// be dialled, so the call is told the hub gave up on it; one that was
/// handed over is left to the provider's reports and the call's timer.
pub async fn dial_buried(
    state: AppState,
    workspace_id: String,
    message_id: String,
    attempt: u32,
) -> Result<(), JobError> {
    let Some(call) = call_of(&state, &workspace_id, &message_id).await? else {
        return Ok(());
    };
    if waits_to_dial(&call) {
        feed(
            &state,
            &workspace_id,
            &message_id,
            Input::DialAbandoned { attempt },
            None,
        )
        .await?;
    }
    Ok(())
}

/// `voice.command`: the provider carries out what the call decided.
pub async fn command_job(
    state: AppState,
    workspace_id: String,
    message_id: String,
    attempt: u32,
    command: Command,
) -> Result<(), JobError> {
    let Some(call) = call_of(&state, &workspace_id, &message_id).await? else {
        return Ok(());
    };
    let (current, _) = read(&call)?;
    // A command for an earlier attempt, or for a call already over (its
    // hang-up aside), has nothing left to act on.
    if current.attempt != attempt || (current.is_ended() && !matches!(command, Command::HangUp { .. })) {
        return Ok(());
    }
    let channel = channel_of(&state, &call).await?;
    match &channel.voice.provider {
        VoiceProviderSettings::Sandbox(_) => super::sandbox::act(&state, &call, attempt, command).await?,
        // The documents of an HTTP provider's call answer its IVR reactions
        // inline; only a hang-up is asked of its Calls API.
        VoiceProviderSettings::Http(http) => {
            if let Command::HangUp { .. } = command {
                super::twiml::hang_up(&state, &call, http)
                    .await
                    .map_err(JobError::retry)?;
            }
        }
        VoiceProviderSettings::Asterisk(s) => super::asterisk::act(&state, &call, s, attempt, command).await?,
    }
    Ok(())
}

/// `voice.key_action`: a key's SMS (through the SMS engine, sent unless the
/// contact unsubscribed from SMS) or the opt-out from voice calls (history
/// source `ivr_key`). Written once per job, however often it runs.
pub async fn key_action_job(
    state: AppState,
    job: Job,
    workspace_id: String,
    message_id: String,
    key: Key,
) -> Result<(), JobError> {
    let Some(call) = call_of(&state, &workspace_id, &message_id).await? else {
        return Ok(());
    };
    let (_, content) = read(&call)?;
    let CallContent::Ivr(ivr) = content else {
        return Ok(());
    };
    let Some(definition) = ivr.keys.get(&key) else {
        return Ok(());
    };
    let Some(contact_id) = &call.contact_id else {
        return Ok(());
    };
    let contact = state.store.contact(&workspace_id, contact_id).await?;
    match definition.action {
        ActionKind::Unsubscribe => {
            let request = ChangeRequest {
                channel: Channel::Voice,
                status: SubscriptionStatus::Unsubscribed,
                legal_basis: None,
                explanation: Some(format!("key {key} pressed in call {message_id}")),
                source: ConsentSource::IvrKey,
            };
            crate::consent::service::change(&state.store, &contact, &request, "system", state.clock.now_ms()).await?;
            Ok(())
        }
        ActionKind::SendSms => {
            let Some(text) = &definition.text else {
                return Ok(());
            };
            send_key_sms(&state, &job, &call, &contact, definition.sender.as_deref(), text).await
        }
        ActionKind::Play | ActionKind::Transfer => Ok(()),
    }
}

async fn send_key_sms(
    state: &AppState,
    job: &Job,
    call: &CallRecord,
    contact: &recado_store::contacts::Contact,
    sender: Option<&str>,
    text: &str,
) -> Result<(), JobError> {
    use crate::sms::send::{prepare, SmsPlan};
    let ws = state.store.workspace(&call.workspace_id).await?;
    let channel = sms_channel_for(state, &ws, sender).await?;
    let Some(to) = super::send::number_of(&ws, contact, &Default::default()) else {
        return Err(JobError::Permanent(
            "the contact has no number for the key's SMS".into(),
        ));
    };
    let plan = SmsPlan {
        workspace: &ws,
        channel: &channel,
        contact,
        to,
        from: channel.sms.pick_sender(sender)?,
        text: text.to_string(),
        campaign: None,
        source: SendSource::IvrKey,
        policy: None,
        national_language: None,
        shorten_urls: false,
        utm: Default::default(),
        subscriptions: None,
    };
    let prepared = prepare(state, plan).await?;
    let now = state.clock.now_ms();
    let mut tx = state.store.write().await?;
    if !tx.mark_action_done(&call.message_id, &job.id).await? {
        return Ok(());
    }
    let written = prepared.write(&mut tx, now).await?;
    tx.commit().await?;
    crate::messages::delivery::count_status(written.message());
    Ok(())
}

/// The SMS channel that sends a key's SMS: the one whose senders include
/// it, else the workspace's only SMS channel.
async fn sms_channel_for(
    state: &AppState,
    ws: &recado_store::workspaces::Workspace,
    sender: Option<&str>,
) -> Result<crate::channels::registry::LoadedSms, JobError> {
    let records = state.store.channels(&ws.id, Some("sms")).await?;
    let mut decoded = Vec::new();
    for record in records {
        decoded.push(crate::channels::decode_sms(state, record)?);
    }
    if let Some(sender) = sender {
        if let Some(i) = decoded.iter().position(|c| c.sms.senders.iter().any(|s| s == sender)) {
            return Ok(decoded.swap_remove(i));
        }
    }
    match decoded.len() {
        1 => Ok(decoded.remove(0)),
        0 => Err(AppError::invalid(
            "no_channel",
            "channel",
            "the workspace has no SMS channel for the key's SMS",
        )
        .into()),
        _ => Err(AppError::invalid(
            "channel_id_required",
            "sender",
            format!("no SMS channel lists sender `{}`", sender.unwrap_or_default()),
        )
        .into()),
    }
}
