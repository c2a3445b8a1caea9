//! One ARI event of a call, on the node holding its application: reports
//! fed to the call machine (ringing, the answer, keys numbered per call,
//! the end), the menu stopped when a key is taken (barge-in), what follows
//! a narration once it has played, and a transfer's leg bridged with the
//! contact when it answers.

use super::commands::{action_narrated, barge_in, hang_up, narrate, steered, transfers};
use super::links::{CallOf, Link};
use super::playbacks::{self, Part};
use crate::voice::engine::{feed, feed_with, read};
use crate::voice::send::CallContent;
use crate::workers::JobError;
use crate::AppState;
use recado_channels::voice::asterisk::{report_of, AriError, AriEvent, ChannelRef, Leg, Report};
use recado_core::jobs::Task;
use recado_core::voice::call::{Call, Command, Input, Phase, ProviderEvent};
use recado_core::voice::ivr::{MenuStatus, Reaction};
use recado_core::voice::Key;
use recado_store::calls::CallRecord;
use recado_store::jobs::NewJob;
use std::time::Instant;

/// Seconds of silence after the menu before the no-input narration, when
/// the definition does not say.
const DEFAULT_NO_INPUT_S: u32 = 5;

/// An event of one of the hub's channels, as read.
#[derive(Debug)]
pub(super) struct Routed {
    pub channel: ChannelRef,
    pub event: AriEvent,
    /// When it was read from the WebSocket.
    pub at: Instant,
}

pub(super) async fn handle(state: &AppState, link: &Link, routed: &Routed) -> Result<(), JobError> {
    tracing::debug!(channel = %routed.channel, event = ?routed.event, "ARI event");
    let Some(call) = link.call_of(state, &routed.channel).await? else {
        return Ok(());
    };
    match routed.channel.leg {
        Leg::Main => contact_leg(state, link, &call, routed).await,
        Leg::Transfer => agent_leg(state, link, &call, routed).await,
    }
}

/// The call's current row, when it is still the attempt of `channel` and
/// answered.
async fn answered_call(
    state: &AppState,
    call: &CallOf,
    channel: &ChannelRef,
) -> Result<Option<(CallRecord, Call, CallContent)>, JobError> {
    let Some(row) = state.store.call(&call.workspace_id, &channel.call_id).await? else {
        return Ok(None);
    };
    let (now, content) = read(&row)?;
    if now.attempt != channel.attempt || now.phase != Phase::Answered {
        return Ok(None);
    }
    Ok(Some((row, now, content)))
}

async fn contact_leg(state: &AppState, link: &Link, call: &CallOf, routed: &Routed) -> Result<(), JobError> {
    let channel = &routed.channel;
    if let AriEvent::PlaybackFinished {
        playback_id,
        state: how,
        ..
    } = &routed.event
    {
        return narration_over(state, link, call, channel, playback_id, how).await;
    }
    let Some((_, report)) = report_of(&routed.event) else {
        return Ok(());
    };
    match report {
        Report::Key(key) => key_pressed(state, link, call, channel, key, routed.at).await,
        Report::Event(event) => {
            let input = Input::Provider {
                attempt: channel.attempt,
                event,
            };
            let fed = feed(state, &call.workspace_id, &channel.call_id, input, None).await?;
            if let AriEvent::ChannelDestroyed { .. } = routed.event {
                // The contact is gone: so is a transfer's leg with them.
                if fed.is_some_and(|f| transfers(&f.content)) {
                    let agent = link.client.hang_up(&channel.transfer().channel_id()).await;
                    steered(agent, "hang up the transfer")?;
                    let bridge = link.client.destroy_bridge(&channel.bridge_id()).await;
                    steered(bridge, "remove the transfer's bridge")?;
                }
                link.forget(&channel.call_id);
            }
            Ok(())
        }
    }
}

/// A key: numbered after the call's last one, fed, and — when the menu
/// takes it — the menu stops at once.
async fn key_pressed(
    state: &AppState,
    link: &Link,
    call: &CallOf,
    channel: &ChannelRef,
    key: Key,
    at: Instant,
) -> Result<(), JobError> {
    let input = |before: &Call| {
        let seq = if before.attempt == channel.attempt {
            before.key_seq + 1
        } else {
            1
        };
        Input::Provider {
            attempt: channel.attempt,
            event: ProviderEvent::Dtmf { key, seq },
        }
    };
    let Some(fed) = feed_with(state, &call.workspace_id, &channel.call_id, input, None).await? else {
        return Ok(());
    };
    metrics::histogram!("recado_voice_key_seconds").record(at.elapsed().as_secs_f64());
    let taken = fed
        .emitted
        .commands
        .iter()
        .any(|c| matches!(c, Command::Ivr(Reaction::Run { .. } | Reaction::WrongKey { .. })));
    if let (true, Some(menu)) = (taken, fed.before.menu) {
        // Stopped beside the queue: the key is recorded, and the events of
        // the other calls in this queue need not wait for Asterisk's answer.
        let (client, channel) = (link.client.clone(), channel.clone());
        tokio::spawn(async move { barge_in(&client, &channel, menu.plays).await });
    }
    Ok(())
}

/// A narration played out (or was stopped, or could not be fetched): what
/// follows it, if the call is still where the narration left it.
async fn narration_over(
    state: &AppState,
    link: &Link,
    call: &CallOf,
    channel: &ChannelRef,
    id: &str,
    how: &str,
) -> Result<(), JobError> {
    let Some((of, part)) = playbacks::parse(id) else {
        return Ok(());
    };
    if of != *channel {
        return Ok(());
    }
    if how == "failed" {
        tracing::warn!(playback = %id, "Asterisk could not play a narration (not fetched from the hub, or unreadable)");
        if let Some(line) = link.line(&call.channel_id) {
            let now = state.clock.now_ms();
            let message = format!("narration {id} could not be played");
            state
                .health
                .failed(&line.workspace_id, &call.channel_id, now, "media_failed", &message);
        }
    }
    let Some((row, now, content)) = answered_call(state, call, channel).await? else {
        return Ok(());
    };
    let CallContent::Ivr(ivr) = &content else {
        // A voice message is over once its narration is.
        if part == Part::Message {
            hang_up(&link.client, channel, &content).await?;
        }
        return Ok(());
    };
    let Some(menu) = now.menu else {
        return Ok(());
    };
    let listening_to = |play: u32| menu.status == MenuStatus::Listening && menu.plays == play;
    match part {
        Part::Menu(play) if listening_to(play) => {
            let timeout_s = ivr.no_input.as_ref().map_or(DEFAULT_NO_INPUT_S, |n| n.timeout_s);
            let at = state.clock.now_ms() + i64::from(timeout_s) * 1000;
            let job = NewJob {
                task: Task::VoiceInput {
                    workspace_id: row.workspace_id.clone(),
                    message_id: row.message_id.clone(),
                    input: Input::NoInput { play },
                },
                workspace_id: Some(&row.workspace_id),
                run_at: at,
                max_attempts: 8,
            };
            state.store.enqueue_job(&job, state.clock.now_ms()).await?;
        }
        Part::Key(key, _) => {
            let Some(line) = link.line(&call.channel_id) else {
                return Ok(());
            };
            action_narrated(state, &link.client, &line.settings, &row, channel, &now, key).await?;
        }
        Part::WrongKey(play) | Part::NoInput(play) if listening_to(play) => {
            narrate(state, &link.client, channel, Part::Menu(play), &ivr.narration).await?;
        }
        Part::WrongKey(_) | Part::NoInput(_) if menu.status == MenuStatus::Done => {
            hang_up(&link.client, channel, &content).await?;
        }
        _ => {}
    }
    Ok(())
}

/// The agent of a transfer: bridged with the contact when they answer; when
/// their leg ends (after talking, or never answered) the key's action is
/// done and the menu says goodbye.
async fn agent_leg(state: &AppState, link: &Link, call: &CallOf, routed: &Routed) -> Result<(), JobError> {
    let agent = &routed.channel;
    let contact = ChannelRef::main(agent.call_id.clone(), agent.attempt);
    match &routed.event {
        AriEvent::StasisStart { .. } => {
            let Some((_, now, _)) = answered_call(state, call, &contact).await? else {
                return steered(
                    link.client.hang_up(&agent.channel_id()).await,
                    "hang up a late transfer",
                );
            };
            // Nothing may play on the contact's channel as it joins the
            // bridge: a queued playback blocks it.
            if let Some(menu) = now.menu {
                barge_in(&link.client, &contact, menu.plays).await;
            }
            let bridge = contact.bridge_id();
            let joined = match link.client.create_bridge(&bridge).await {
                Ok(()) | Err(AriError::AlreadyExists(_)) => {
                    link.client
                        .add_to_bridge(&bridge, &[&contact.channel_id(), &agent.channel_id()])
                        .await
                }
                Err(e) => Err(e),
            };
            if let Err(e) = joined {
                tracing::warn!(call = %contact, error = %e, "a transfer could not be bridged");
                steered(link.client.hang_up(&agent.channel_id()).await, "hang up the transfer")?;
            }
            Ok(())
        }
        AriEvent::ChannelDestroyed { .. } => {
            steered(
                link.client.destroy_bridge(&contact.bridge_id()).await,
                "remove the transfer's bridge",
            )?;
            let fed = feed(state, &call.workspace_id, &agent.call_id, Input::ActionDone, None).await?;
            if fed.is_none_or(|f| f.state.is_ended()) {
                link.forget(&agent.call_id);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}
