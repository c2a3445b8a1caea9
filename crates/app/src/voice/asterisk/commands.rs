//! What the call machine decided, carried out over ARI (`voice.command`
//! jobs, on any node): play the menu or a voice message's narration, a
//! key's narration, the wrong-key and no-input narrations; transfer; hang
//! up. One narration plays at a time: what follows a narration is decided
//! when it ends, by the node reading the call's events
//! ([`super::events`]), from the playback's id ([`super::playbacks`]).

use super::links::client_for;
use super::playbacks::{listening, playback_id, Part};
use crate::channels::voice_config::AsteriskSettings;
use crate::voice::engine::{feed, read, settings_of};
use crate::voice::media::narration_url;
use crate::voice::send::CallContent;
use crate::workers::JobError;
use crate::AppState;
use recado_channels::voice::asterisk::{AriClient, AriError, ChannelRef, Originate};
use recado_core::voice::call::{Call, Command, Input};
use recado_core::voice::definition::Narration;
use recado_core::voice::ivr::{KeyAction, MenuStatus, Reaction};
use recado_core::voice::Key;
use recado_store::calls::CallRecord;

/// What a failed ARI request means for the call. A refusal (the channel is
/// gone or left the application) changes nothing: the channel's own events
/// end the call. Asterisk unreachable, or silent, is worth another try.
pub(super) fn steered(result: Result<(), AriError>, what: &str) -> Result<(), JobError> {
    match result {
        Ok(()) | Err(AriError::AlreadyExists(_)) => Ok(()),
        Err(AriError::Refused { status, message }) => {
            tracing::debug!(status, %message, "Asterisk refused to {what}");
            Ok(())
        }
        Err(e @ (AriError::Unavailable(_) | AriError::Uncertain(_) | AriError::Protocol(_))) => Err(JobError::Retry {
            message: format!("could not {what}: {e}"),
            retry_after_ms: None,
        }),
        Err(e @ AriError::Config(_)) => Err(JobError::Permanent(format!("could not {what}: {e}"))),
    }
}

/// `voice.command` for a call on a `voice_asterisk` channel.
pub async fn act(
    state: &AppState,
    call: &CallRecord,
    settings: &AsteriskSettings,
    attempt: u32,
    command: Command,
) -> Result<(), JobError> {
    let client = client_for(state, settings);
    let channel = ChannelRef::main(call.message_id.clone(), attempt);
    tracing::debug!(call = %channel, ?command, "carrying out a voice command");
    let (now, content) = read(call)?;
    let reaction = match command {
        Command::Ivr(reaction) => reaction,
        Command::HangUp { .. } => return hang_up(&client, &channel, &content).await,
        Command::Dial { .. } | Command::ArmTimer { .. } => return Ok(()),
    };
    let play = plays(&now);
    match (reaction, &content) {
        (Reaction::PlayMenu { .. }, CallContent::Message(message)) => {
            narrate(state, &client, &channel, Part::Message, &message.narration).await
        }
        (Reaction::PlayMenu { play }, CallContent::Ivr(ivr)) => {
            narrate(state, &client, &channel, Part::Menu(play), &ivr.narration).await
        }
        (Reaction::Run { key, .. }, CallContent::Ivr(ivr)) => {
            // The key stopped the menu already where its events are read;
            // again here, in case its play request crossed the key.
            barge_in(&client, &channel, play).await;
            match ivr.keys.get(&key).and_then(|k| k.narration.as_ref()) {
                Some(narration) => narrate(state, &client, &channel, Part::Key(key, play), narration).await,
                None => action_narrated(state, &client, settings, call, &channel, &now, key).await,
            }
        }
        (Reaction::WrongKey { again }, CallContent::Ivr(ivr)) => {
            barge_in(&client, &channel, if again { play.saturating_sub(1) } else { play }).await;
            let narration = ivr.wrong_key.as_ref().map(|w| &w.narration);
            narrate_or_go_on(
                state,
                &client,
                &channel,
                Part::WrongKey(play),
                narration,
                again,
                &content,
            )
            .await
        }
        (Reaction::NoInput { again }, CallContent::Ivr(ivr)) => {
            let narration = ivr.no_input.as_ref().and_then(|n| n.narration.as_ref());
            narrate_or_go_on(
                state,
                &client,
                &channel,
                Part::NoInput(play),
                narration,
                again,
                &content,
            )
            .await
        }
        (Reaction::Goodbye, _) => hang_up(&client, &channel, &content).await,
        _ => Ok(()),
    }
}

/// The menu's current play (1 before the menu starts).
pub(super) fn plays(call: &Call) -> u32 {
    call.menu.map_or(1, |m| m.plays)
}

/// Plays `narration` as `part` on the call's channel, rendered and served
/// by the hub when spoken.
pub(super) async fn narrate(
    state: &AppState,
    client: &AriClient,
    channel: &ChannelRef,
    part: Part,
    narration: &Narration,
) -> Result<(), JobError> {
    let url = narration_url(state, narration).await?;
    let media = format!("sound:{url}");
    let id = playback_id(channel, part);
    steered(
        client.play(&channel.channel_id(), &id, &media).await,
        "play a narration",
    )
}

/// After a wrong key or a silence: its narration, else straight to the
/// menu's next play or goodbye.
async fn narrate_or_go_on(
    state: &AppState,
    client: &AriClient,
    channel: &ChannelRef,
    part: Part,
    narration: Option<&Narration>,
    again: bool,
    content: &CallContent,
) -> Result<(), JobError> {
    match (narration, part, content) {
        (Some(narration), _, _) => narrate(state, client, channel, part, narration).await,
        (None, Part::WrongKey(play) | Part::NoInput(play), CallContent::Ivr(ivr)) if again => {
            narrate(state, client, channel, Part::Menu(play), &ivr.narration).await
        }
        (None, _, _) => hang_up(client, channel, content).await,
    }
}

/// A key's narration is over (or it had none): a transfer calls its
/// number; any other action is done.
pub(super) async fn action_narrated(
    state: &AppState,
    client: &AriClient,
    settings: &AsteriskSettings,
    call: &CallRecord,
    channel: &ChannelRef,
    now: &Call,
    key: Key,
) -> Result<(), JobError> {
    let acting = now.menu.is_some_and(|m| m.status == MenuStatus::Acting);
    if !acting || now.action.is_none() {
        return Ok(());
    }
    if now.action == Some(KeyAction::Transfer) {
        let (_, content) = read(call)?;
        let to = match &content {
            CallContent::Ivr(ivr) => ivr.keys.get(&key).and_then(|k| k.to.clone()),
            CallContent::Message(_) => None,
        };
        if let Some(to) = to {
            return transfer(state, client, settings, call, channel, &to).await;
        }
    }
    feed(state, &call.workspace_id, &call.message_id, Input::ActionDone, None).await?;
    Ok(())
}

/// Calls the transfer's number on a second leg (`…-t`) into the
/// application; its answer bridges it with the contact ([`super::events`]).
/// A number that cannot be called ends the action (the menu says goodbye).
async fn transfer(
    state: &AppState,
    client: &AriClient,
    settings: &AsteriskSettings,
    call: &CallRecord,
    channel: &ChannelRef,
    to: &str,
) -> Result<(), JobError> {
    let message = state.store.message(&call.workspace_id, &call.message_id).await?;
    let (_, content) = read(call)?;
    let ring_s = settings_of(&content).ring_timeout_ms / 1000;
    let originate = Originate {
        channel_id: channel.transfer().channel_id(),
        endpoint: settings.dial_template.replace("{number}", to),
        caller_id: message.sender,
        timeout_s: u32::try_from(ring_s).unwrap_or(30),
        app_args: vec![channel.call_id.clone(), channel.attempt.to_string(), "transfer".into()],
    };
    match client.originate(&originate).await {
        Ok(_) | Err(AriError::AlreadyExists(_)) | Err(AriError::Uncertain(_)) => Ok(()),
        Err(e) => {
            tracing::warn!(message_id = %call.message_id, error = %e, "a transfer could not be placed");
            feed(state, &call.workspace_id, &call.message_id, Input::ActionDone, None).await?;
            Ok(())
        }
    }
}

/// Stops what may play while menu play `play` listens (barge-in). What is
/// already over is no error.
pub(super) async fn barge_in(client: &AriClient, channel: &ChannelRef, play: u32) {
    let ids: Vec<String> = listening(play).iter().map(|p| playback_id(channel, *p)).collect();
    let stops = ids.iter().map(|id| client.stop_playback(id));
    for (id, result) in ids.iter().zip(futures::future::join_all(stops).await) {
        if let Err(e) = result {
            tracing::debug!(playback = %id, error = %e, "a narration could not be stopped");
        }
    }
}

/// Whether a call may have a transfer's leg and bridge.
pub(super) fn transfers(content: &CallContent) -> bool {
    match content {
        CallContent::Ivr(ivr) => ivr.keys.values().any(|k| k.action() == KeyAction::Transfer),
        CallContent::Message(_) => false,
    }
}

/// Hangs the call up: the contact's leg, and a transfer's leg and bridge
/// when the menu has a transfer.
pub(super) async fn hang_up(client: &AriClient, channel: &ChannelRef, content: &CallContent) -> Result<(), JobError> {
    let id = channel.channel_id();
    let contact = client.hang_up(&id);
    if !transfers(content) {
        return steered(contact.await, "hang up");
    }
    let (agent, bridge) = (channel.transfer().channel_id(), channel.bridge_id());
    let (a, b, c) = tokio::join!(contact, client.hang_up(&agent), client.destroy_bridge(&bridge));
    steered(a, "hang up")?;
    steered(b, "hang up the transfer")?;
    steered(c, "remove the transfer's bridge")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_left_to_the_channels_events_and_silence_is_tried_again() {
        let refused = AriError::Refused {
            status: 404,
            message: "Channel not found".into(),
        };
        assert!(steered(Err(refused), "play").is_ok());
        assert!(steered(Err(AriError::AlreadyExists("x".into())), "bridge").is_ok());
        assert!(matches!(
            steered(Err(AriError::Unavailable("down".into())), "play"),
            Err(JobError::Retry { .. })
        ));
        assert!(matches!(
            steered(Err(AriError::Uncertain("timeout".into())), "hang up"),
            Err(JobError::Retry { .. })
        ));
    }
}
