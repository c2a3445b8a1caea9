//! Feeding a call: one input (the hub's decision to dial, a provider's
//! report, a timer, the end of a key's action) goes through recado-core's
//! call machine under the call row's lock, and what it decides commits in
//! one transaction — the call's new state, the message's status with its
//! `VOICE_*` events and timeline entries (so campaign counters and waiting
//! workflow runs see them), and the jobs that carry out its commands: a
//! dial, a command for the provider, a key's SMS or opt-out, and the
//! call's one timer job (moved when armed again, removed when the call
//! ends, so no timer runs for a call that is over).

use super::send::CallContent;
use crate::{AppError, AppResult, AppState};
use recado_core::delivery::OutboundStatus;
use recado_core::jobs::Task;
use recado_core::voice::call::{apply, Call, Command, Emitted, Input, Phase, Settings, VoiceEvent};
use recado_core::voice::ivr::{KeyAction, Reaction};
use recado_store::calls::{CallRecord, CallState};
use recado_store::jobs::NewJob;
use recado_store::messages::{DeliveryUpdate, MessageRecord};
use recado_store::timers::{timer_job_id, Timer};

/// Attempts of a voice job before it is buried.
const JOB_ATTEMPTS: i64 = 8;

/// What one input did to a call.
#[derive(Clone, Debug)]
pub struct Fed {
    pub call: CallRecord,
    /// The call's state before the input.
    pub before: Call,
    pub state: Call,
    pub content: CallContent,
    pub emitted: Emitted,
}

/// The call machine's settings for a call's content.
pub fn settings_of(content: &CallContent) -> Settings {
    match content {
        CallContent::Message(_) => Settings::default(),
        CallContent::Ivr(ivr) => ivr.call_settings(),
    }
}

pub fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Queued => "queued",
        Phase::Dialing => "dialing",
        Phase::Placed => "placed",
        Phase::Answered => "answered",
        Phase::RetryWaiting => "retry_waiting",
        Phase::Ended => "ended",
    }
}

/// A stored call's state and content read back.
pub fn read(call: &CallRecord) -> AppResult<(Call, CallContent)> {
    let state: Call = serde_json::from_str(&call.state).map_err(AppError::internal)?;
    let content = CallContent::read(&call.kind, &call.definition)?;
    Ok((state, content))
}

/// Feeds `input` to the call of `message_id`. `provider_call_id` is the
/// provider's id of the call when this input is the one that taught it.
/// None when there is no such call.
pub async fn feed(
    state: &AppState,
    workspace_id: &str,
    message_id: &str,
    input: Input,
    provider_call_id: Option<&str>,
) -> AppResult<Option<Fed>> {
    feed_with(state, workspace_id, message_id, |_| input, provider_call_id).await
}

/// [`feed`] with the input made from the call's state as locked (a key's
/// number follows the call's last key), so no read comes before the
/// transaction.
pub async fn feed_with(
    state: &AppState,
    workspace_id: &str,
    message_id: &str,
    input: impl FnOnce(&Call) -> Input,
    provider_call_id: Option<&str>,
) -> AppResult<Option<Fed>> {
    let now = state.clock.now_ms();
    let mut tx = state.store.write().await?;
    let Some(mut row) = tx.call_for_update(workspace_id, message_id).await? else {
        return Ok(None);
    };
    let (before, content) = read(&row)?;
    let settings = settings_of(&content);
    let (after, emitted) = apply(&settings, &before, input(&before), now);
    if after == before && emitted == Emitted::default() && provider_call_id.is_none() {
        return Ok(Some(Fed {
            call: row,
            before,
            state: after,
            content,
            emitted,
        }));
    }
    let answered = emitted.events.iter().any(|e| matches!(e, VoiceEvent::Delivered { .. }));
    let encoded = serde_json::to_string(&after).map_err(AppError::internal)?;
    let saved = CallState {
        state: &encoded,
        phase: phase_name(after.phase),
        attempt: i64::from(after.attempt),
        answered_at: answered.then_some(now),
        ended_at: after.is_ended().then_some(now),
    };
    tx.save_call(message_id, &saved, now).await?;
    if let Some(id) = provider_call_id {
        tx.set_provider_call_id(message_id, id, now).await?;
        row.provider_call_id = Some(id.to_string());
    }
    if !emitted.events.is_empty() || provider_call_id.is_some() {
        let events = emitted.events.clone();
        tx.update_delivery(message_id, now, |m| update_for(m, &events, provider_call_id))
            .await?;
    }
    let jobs = jobs_for(&row, &content, &emitted, now);
    tx.enqueue_many(&jobs, now).await?;
    match armed(&emitted) {
        Some(at) => tx.arm_timers(&[&timer_of(&row, at)], now).await?,
        None if after.is_ended() && !before.is_ended() => tx.disarm_timer(&timer_job_id(message_id)).await?,
        None => {}
    }
    tx.commit().await?;
    row.state = encoded;
    row.phase = phase_name(after.phase).to_string();
    row.attempt = i64::from(after.attempt);
    Ok(Some(Fed {
        call: row,
        before,
        state: after,
        content,
        emitted,
    }))
}

/// A new call with its first step taken: told to dial (`Input::Dial`)
/// when its message is written, so it needs no job of its own to start.
#[derive(Clone, Debug)]
pub struct StartedCall {
    pub record: CallRecord,
    /// The jobs of that step (the dial): task and when.
    pub jobs: Vec<(Task, i64)>,
    /// The call's timer, as armed by that step.
    pub timer: Option<Timer>,
}

/// When the machine armed the call's timer, if it did: the latest arming
/// stands (each call has one timer).
fn armed(emitted: &Emitted) -> Option<i64> {
    emitted.commands.iter().rev().find_map(|c| match c {
        Command::ArmTimer { at } => Some(*at),
        _ => None,
    })
}

/// The call's one timer job, firing at `at`.
fn timer_of(call: &CallRecord, at: i64) -> Timer {
    Timer {
        id: timer_job_id(&call.message_id),
        workspace_id: call.workspace_id.clone(),
        task: Task::VoiceInput {
            workspace_id: call.workspace_id.clone(),
            message_id: call.message_id.clone(),
            input: Input::TimerExpired,
        },
        run_at: at,
        max_attempts: JOB_ATTEMPTS,
    }
}

/// Attempts of a started call's jobs, as of every voice job.
pub const STARTED_JOB_ATTEMPTS: i64 = JOB_ATTEMPTS;

/// Takes a new call's first step at `now`: the hub decided to call (the
/// dial's pacing and the call window are the dial step's to decide).
pub fn start(mut record: CallRecord, content: &CallContent, now: i64) -> AppResult<StartedCall> {
    let (before, _) = read(&record)?;
    let (after, emitted) = apply(&settings_of(content), &before, Input::Dial, now);
    record.state = serde_json::to_string(&after).map_err(AppError::internal)?;
    record.phase = phase_name(after.phase).to_string();
    record.attempt = i64::from(after.attempt);
    let jobs = jobs_for(&record, content, &emitted, now)
        .into_iter()
        .map(|job| (job.task, job.run_at))
        .collect();
    let timer = armed(&emitted).map(|at| timer_of(&record, at));
    Ok(StartedCall { record, jobs, timer })
}

/// The message's change for the call's events: its status moves with the
/// outcome, every event is a message event and a timeline entry.
fn update_for(
    current: &MessageRecord,
    events: &[VoiceEvent],
    provider_call_id: Option<&str>,
) -> Option<DeliveryUpdate> {
    let mut update = DeliveryUpdate::default();
    if current.provider_message_id.is_none() {
        update.provider_message_id = provider_call_id.map(str::to_string);
    }
    for event in events {
        let status = match event {
            VoiceEvent::Sent => Some(OutboundStatus::Sent),
            VoiceEvent::NotSent { reason } => Some(reason.status()),
            VoiceEvent::Delivered { .. } => Some(OutboundStatus::Delivered),
            VoiceEvent::NotDelivered { .. } => Some(OutboundStatus::NotDelivered),
            VoiceEvent::KeyPressed { .. } | VoiceEvent::Unsubscribed { .. } => None,
        };
        if let Some(status) = status {
            update.status = Some(status);
        }
        let details = event.details();
        if let Some(reason) = details.get("reason").and_then(|r| r.as_str()) {
            update.error_code = Some(Some(reason.to_string()));
            update.error_message = Some(Some(reason_text(reason)));
        }
        update.events.push((
            event.kind().to_ascii_lowercase().replacen("voice_", "", 1),
            details.clone(),
        ));
        update.timeline.push((event.kind().to_string(), details));
    }
    (!update.events.is_empty() || update.provider_message_id.is_some()).then_some(update)
}

fn reason_text(reason: &str) -> String {
    match reason {
        "busy" => "the line was busy".into(),
        "no_answer" => "nobody answered".into(),
        "rejected" => "the call was rejected".into(),
        "failed" => "the call could not be completed".into(),
        "not_subscribed" => "the contact is not subscribed to voice calls".into(),
        "provider_refused" => "the voice provider refused the call".into(),
        "provider_unreachable" => "the voice provider could not be reached".into(),
        other => other.replace('_', " "),
    }
}

/// The jobs that carry out what the machine decided.
fn jobs_for<'a>(call: &'a CallRecord, content: &CallContent, emitted: &Emitted, now: i64) -> Vec<NewJob<'a>> {
    let ws = call.workspace_id.as_str();
    let message_id = &call.message_id;
    let job = |task: Task, run_at: i64| NewJob {
        task,
        workspace_id: Some(ws),
        run_at,
        max_attempts: JOB_ATTEMPTS,
    };
    let command = |attempt: u32, command: Command| Task::VoiceCommand {
        workspace_id: ws.to_string(),
        message_id: message_id.clone(),
        attempt,
        command,
    };
    let attempt = emitted
        .commands
        .iter()
        .find_map(|c| match c {
            Command::Dial { attempt } => Some(*attempt),
            _ => None,
        })
        .unwrap_or(call.attempt as u32)
        .max(call.attempt as u32);
    let mut jobs = Vec::new();
    for c in &emitted.commands {
        match *c {
            Command::Dial { attempt } => jobs.push(job(
                Task::VoiceDial {
                    workspace_id: ws.to_string(),
                    message_id: message_id.clone(),
                    attempt,
                },
                now,
            )),
            // The call's one timer job is armed beside these.
            Command::ArmTimer { .. } => {}
            Command::Ivr(reaction) => {
                if let Reaction::Run { key, action } = reaction {
                    if matches!(action, KeyAction::SendSms { .. } | KeyAction::Unsubscribe) {
                        jobs.push(job(
                            Task::VoiceKeyAction {
                                workspace_id: ws.to_string(),
                                message_id: message_id.clone(),
                                key,
                            },
                            now,
                        ));
                    }
                }
                if reaction != Reaction::Ignored {
                    jobs.push(job(command(attempt, *c), now));
                }
            }
            Command::HangUp { attempt } => jobs.push(job(command(attempt, *c), now)),
        }
    }
    // A voice message has no menu: once answered, its narration is played
    // (as the menu's first play) and the call hangs up after it.
    let answered = emitted.events.iter().any(|e| matches!(e, VoiceEvent::Delivered { .. }));
    if answered && matches!(content, CallContent::Message(_)) {
        jobs.push(job(command(attempt, Command::Ivr(Reaction::PlayMenu { play: 1 })), now));
    }
    jobs
}
