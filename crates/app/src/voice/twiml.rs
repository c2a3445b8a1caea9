//! Calls over an HTTP voice provider of the TwiML dialect (`voice_http`:
//! Twilio, Telnyx TeXML, SignalWire). The provider keeps none of the call's
//! state: the hub places the call through the Calls API, and answers every
//! request the provider makes while the call is up — its status callbacks,
//! the document of the answered call, each `<Gather>`, `<Redirect>` and
//! `<Dial>` action — from the call row alone, after feeding what the request
//! reports to the call machine (`engine::feed`).
//!
//! Every URL the provider is given names the channel, the hub's message id
//! and the attempt (`/webhooks/voice/{channel}/{leg}/{message}?attempt=n`),
//! so a call whose Calls API answer was lost is still recognised by its first
//! status callback, and a report about an earlier attempt changes nothing.
//!
//! | request | fed to the machine | answered with |
//! |---|---|---|
//! | `status` | each `ProviderEvent` of the callback | 204 |
//! | `twiml` (the call's `Url`) | `Answered` | the menu's `<Gather>`, or a message's `<Play>` then `<Hangup/>` |
//! | `gather?play=p` | `Dtmf { key, seq: p }`, or `NoInput { play: p }` on silence | the document of the reaction |
//! | `done` (a key's narration played) | `ActionDone` | the document of the reaction |
//! | `dial` (the transfer ended) | `ActionDone` | `<Hangup/>` |
//!
//! Narrations are played with `<Play>` of the audio the hub renders itself
//! (`media::narration_url`), so the contact hears exactly what the hub's
//! preview plays; they are rendered before the call is placed, so no
//! request of the provider waits for the speech engine.
//!
//! Pacing: the channel's `max_cps` is kept by every node together — each dial
//! reserves the next free slot of its channel (1 / `max_cps` seconds apart)
//! in the database (`Store::reserve_slot`) and waits for it when it is near,
//! or goes back to the queue when it is not.

use super::engine::{feed, read, settings_of, Fed};
use super::jobs::Dialled;
use super::media::narration_url;
use super::send::CallContent;
use crate::channels::voice_config::HttpSettings;
use crate::{AppError, AppResult, AppState};
use recado_channels::voice::twiml::{
    parse_dial_action, parse_gather, parse_status_callback, parse_voice_request, verify_signature, CallError,
    CallRequest, CallSid, CallsClient, Dial, Gather, ParseError, Response, TwimlConfig,
};
use recado_core::voice::call::{Call, Command, Input, Phase};
use recado_core::voice::definition::{IvrDefinition, Narration};
use recado_core::voice::ivr::{KeyAction, MenuStatus, Reaction};
use recado_core::voice::Key;
use recado_store::calls::CallRecord;
use recado_store::pacing::Slot;
use std::time::Duration;

/// `Content-Type` of the documents the hub answers with.
pub const CONTENT_TYPE: &str = "application/xml";
/// Seconds of silence after the menu before the provider reports no input,
/// when the IVR definition does not say.
pub const DEFAULT_NO_INPUT_S: u32 = 5;
/// Ring time of a transfer's leg, in seconds.
pub const TRANSFER_RING_S: u32 = 30;
/// The longest a dial waits for its pacing slot before going back to the
/// queue.
const MAX_PACING_WAIT_MS: i64 = 2_000;

/// The requests the provider makes about a call, each at its own path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leg {
    /// Status callbacks.
    Status,
    /// The call's `Url`: the document once it is answered.
    Twiml,
    /// A `<Gather>` action.
    Gather,
    /// The `<Redirect>` after a key's narration.
    Done,
    /// The transfer's `<Dial>` action.
    Dial,
}

impl Leg {
    pub fn as_str(self) -> &'static str {
        match self {
            Leg::Status => "status",
            Leg::Twiml => "twiml",
            Leg::Gather => "gather",
            Leg::Done => "done",
            Leg::Dial => "dial",
        }
    }
}

/// The URLs of one attempt of a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallUrls {
    base: String,
    message_id: String,
    attempt: u32,
}

impl CallUrls {
    pub fn new(public_url: &str, channel_id: &str, message_id: &str, attempt: u32) -> CallUrls {
        CallUrls {
            base: format!("{}/webhooks/voice/{channel_id}", public_url.trim_end_matches('/')),
            message_id: message_id.to_string(),
            attempt,
        }
    }

    pub fn leg(&self, leg: Leg) -> String {
        format!(
            "{}/{}/{}?attempt={}",
            self.base,
            leg.as_str(),
            self.message_id,
            self.attempt
        )
    }

    /// The action of menu play `play`.
    pub fn gather(&self, play: u32) -> String {
        format!("{}&play={play}", self.leg(Leg::Gather))
    }
}

/// Whether a request is the provider's: `X-Twilio-Signature` over the URL it
/// requested (the hub's public URL, path and query) and the posted form,
/// with the channel's auth token.
pub fn authentic(
    settings: &HttpSettings,
    public_url: &str,
    path_and_query: &str,
    params: &[(String, String)],
    signature: Option<&str>,
) -> bool {
    let url = format!("{}{path_and_query}", public_url.trim_end_matches('/'));
    verify_signature(&settings.auth_token, &url, params, signature)
}

/// The Calls API client of a channel.
pub fn client(state: &AppState, settings: &HttpSettings) -> CallsClient {
    let config = TwimlConfig {
        base_url: settings.base_url.clone(),
        account_sid: settings.account_sid.clone(),
        auth_token: settings.auth_token.clone(),
    };
    CallsClient::new(config, state.http.clone())
}

/// What a dial comes to.
pub enum DialStep {
    /// The provider's answer.
    Dialled(Dialled),
    /// The channel's pacing has no slot soon: dial again after this long.
    Later { after_ms: i64 },
}

/// Places attempt `attempt` of `call` (already claimed): renders its
/// narrations, waits for the channel's pacing slot, asks the provider.
pub async fn dial(state: &AppState, call: &CallRecord, attempt: u32, settings: &HttpSettings) -> AppResult<DialStep> {
    let message = state.store.message(&call.workspace_id, &call.message_id).await?;
    let (Some(to), Some(from)) = (message.recipient.clone(), message.sender.clone()) else {
        return Ok(DialStep::Dialled(Dialled::Refused {
            reason: "the call has no number to call or no caller id".into(),
        }));
    };
    let (_, content) = read(call)?;
    // Rendered now, so the provider's requests never wait for speech.
    for narration in narrations(&content) {
        narration_url(state, narration).await?;
    }
    // Real time, not the hub's clock: the rate is the provider's, kept in
    // seconds as they pass (nodes' clocks agree to NTP's precision).
    let now = wall_ms();
    let interval_ms = 1000 / i64::from(settings.max_cps.max(1));
    let key = format!("voice:{}", call.channel_id);
    match state
        .store
        .reserve_slot(&key, now, interval_ms, MAX_PACING_WAIT_MS)
        .await?
    {
        Slot::Reserved { at } => tokio::time::sleep(Duration::from_millis((at - now).max(0) as u64)).await,
        Slot::TooFar { retry_after_ms } => {
            return Ok(DialStep::Later {
                after_ms: retry_after_ms,
            })
        }
    }
    let machine = settings_of(&content);
    let urls = CallUrls::new(&state.settings.public_url, &call.channel_id, &call.message_id, attempt);
    let request = CallRequest {
        to,
        from,
        url: urls.leg(Leg::Twiml),
        status_callback: urls.leg(Leg::Status),
        timeout_s: seconds(machine.ring_timeout_ms),
        machine_detection: false,
        time_limit_s: Some(seconds(machine.max_duration_ms)),
    };
    let answer = match client(state, settings).create_call(&request).await {
        Ok(sid) => Dialled::Accepted {
            provider_call_id: Some(sid.0),
        },
        Err(CallError::Refused { code, message, .. }) => Dialled::Refused {
            reason: format!("{code}: {message}"),
        },
        Err(CallError::RetryLater {
            message,
            retry_after_ms,
        }) => Dialled::Retry {
            message,
            retry_after_ms,
        },
        Err(CallError::Unreachable(message)) => Dialled::Retry {
            message,
            retry_after_ms: None,
        },
        Err(CallError::Uncertain(message)) => Dialled::Unknown { message },
    };
    Ok(DialStep::Dialled(answer))
}

fn seconds(ms: i64) -> u32 {
    u32::try_from(ms.max(0) / 1000).unwrap_or(u32::MAX).max(1)
}

/// Every narration a call may play.
fn narrations(content: &CallContent) -> Vec<&Narration> {
    match content {
        CallContent::Message(m) => vec![&m.narration],
        CallContent::Ivr(ivr) => std::iter::once(&ivr.narration)
            .chain(ivr.keys.values().filter_map(|k| k.narration.as_ref()))
            .chain(ivr.wrong_key.as_ref().map(|w| &w.narration))
            .chain(ivr.no_input.as_ref().and_then(|n| n.narration.as_ref()))
            .collect(),
    }
}

fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// Hangs attempt's call up at the provider. A call the provider never named
/// (its dial's answer was lost) cannot be hung up; its timer ends it.
pub async fn hang_up(state: &AppState, call: &CallRecord, settings: &HttpSettings) -> Result<(), CallError> {
    let Some(sid) = &call.provider_call_id else {
        return Ok(());
    };
    match client(state, settings).hang_up(&CallSid(sid.clone())).await {
        Err(CallError::Refused { code, message, .. }) => {
            tracing::warn!(message_id = %call.message_id, %code, %message, "the voice provider refused to hang a call up");
            Ok(())
        }
        other => other,
    }
}

/// A provider request that does not read.
pub fn unreadable(e: ParseError) -> AppError {
    AppError::invalid("invalid_callback", "form", e.to_string())
}

/// A status callback about attempt `attempt`: each of its events is fed in
/// order; the provider's id of the call is learnt from it when the dial's
/// answer has not taught it yet.
pub async fn status(state: &AppState, call: &CallRecord, attempt: u32, params: &[(String, String)]) -> AppResult<()> {
    let callback = parse_status_callback(params).map_err(unreadable)?;
    let (current, _) = read(call)?;
    let learn = (current.attempt == attempt && call.provider_call_id.as_deref() != Some(callback.call_sid.as_str()))
        .then_some(callback.call_sid.as_str());
    for (i, event) in callback.events().into_iter().enumerate() {
        let input = Input::Provider { attempt, event };
        let id = if i == 0 { learn } else { None };
        feed(state, &call.workspace_id, &call.message_id, input, id).await?;
    }
    Ok(())
}

/// A call the provider took that has had no news for a while: its record
/// at the provider (`GET …/Calls/{Sid}.json`) is asked for, and when it says
/// the call is over, its events are fed as the lost status callback would
/// have fed them. A call still ringing or in progress is left to its
/// callbacks (and, failing them, to its timer). Returns whether it ended.
pub async fn reconcile(state: &AppState, call: &CallRecord, settings: &HttpSettings) -> AppResult<bool> {
    let Some(sid) = call.provider_call_id.clone() else {
        return Ok(false);
    };
    let info = client(state, settings)
        .fetch_call(&CallSid(sid))
        .await
        .map_err(|e| AppError::internal(format!("the provider's record of the call could not be read: {e}")))?;
    if !info.status.is_final() {
        return Ok(false);
    }
    let (current, _) = read(call)?;
    for event in info.events() {
        let input = Input::Provider {
            attempt: current.attempt,
            event,
        };
        feed(state, &call.workspace_id, &call.message_id, input, None).await?;
    }
    Ok(true)
}

/// The call's `Url`: the provider asks for the first document of an answered
/// call, which proves the answer.
pub async fn document(
    state: &AppState,
    call: &CallRecord,
    attempt: u32,
    params: &[(String, String)],
) -> AppResult<Response> {
    let request = parse_voice_request(params).map_err(unreadable)?;
    let input = Input::Provider {
        attempt,
        event: request.event(),
    };
    let sid = request.call_sid.as_str();
    let learn = (call.provider_call_id.as_deref() != Some(sid)).then_some(sid);
    let fed = feed_current(state, call, attempt, input, learn).await?;
    answer(state, fed, attempt).await
}

/// A `<Gather>` action of menu play `play`: the key pressed (counted once
/// however often the provider posts it: its sequence is the play), or
/// silence.
pub async fn gather(
    state: &AppState,
    call: &CallRecord,
    attempt: u32,
    play: u32,
    params: &[(String, String)],
) -> AppResult<Response> {
    let result = parse_gather(params).map_err(unreadable)?;
    let input = match result.event(play) {
        Some(event) => Input::Provider { attempt, event },
        None => Input::NoInput { play },
    };
    let fed = feed_current(state, call, attempt, input, None).await?;
    answer(state, fed, attempt).await
}

/// The `<Redirect>` after a key's narration: the action is done.
pub async fn action_done(state: &AppState, call: &CallRecord, attempt: u32) -> AppResult<Response> {
    let fed = feed_current(state, call, attempt, Input::ActionDone, None).await?;
    answer(state, fed, attempt).await
}

/// The transfer's `<Dial>` action: the transferred leg ended, so does the call.
pub async fn dial_done(
    state: &AppState,
    call: &CallRecord,
    attempt: u32,
    params: &[(String, String)],
) -> AppResult<Response> {
    let result = parse_dial_action(params).map_err(unreadable)?;
    tracing::info!(message_id = %call.message_id, status = result.status.as_str(), "a call's transfer ended");
    feed_current(state, call, attempt, Input::ActionDone, None).await?;
    Ok(Response::new().hangup())
}

/// Feeds `input` when `attempt` is the call's current attempt; a request
/// about an earlier attempt feeds nothing (its call is over).
async fn feed_current(
    state: &AppState,
    call: &CallRecord,
    attempt: u32,
    input: Input,
    learn: Option<&str>,
) -> AppResult<Option<Fed>> {
    let (current, _) = read(call)?;
    if current.attempt != attempt {
        return Ok(None);
    }
    feed(state, &call.workspace_id, &call.message_id, input, learn).await
}

/// What a document does next.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Next {
    /// The menu's play `play`, after the narrations `before` (a wrong key's,
    /// silence's).
    Menu {
        play: u32,
        before: Vec<Narration>,
    },
    /// A key's action; its narration first when the key is known.
    Run {
        key: Option<Key>,
        action: KeyAction,
    },
    /// A voice message: its narration, then hang up.
    Message(Narration),
    HangUp,
}

/// What follows one input: the IVR reaction the machine emitted, or, when
/// it emitted none (a repeated request), what the call's state says.
fn next(fed: &Fed, attempt: u32) -> Next {
    let hang_up = fed.emitted.commands.iter().any(|c| matches!(c, Command::HangUp { .. }));
    if hang_up || fed.state.attempt != attempt || fed.state.phase != Phase::Answered {
        return Next::HangUp;
    }
    let ivr = match &fed.content {
        CallContent::Message(m) => return Next::Message(m.narration.clone()),
        CallContent::Ivr(ivr) => ivr,
    };
    let emitted = fed.emitted.commands.iter().find_map(|c| match c {
        Command::Ivr(r) if *r != Reaction::Ignored => Some(*r),
        _ => None,
    });
    let plays = fed.state.menu.map_or(1, |m| m.plays);
    match emitted {
        Some(Reaction::PlayMenu { play }) => Next::Menu {
            play,
            before: Vec::new(),
        },
        Some(Reaction::WrongKey { again: true }) => Next::Menu {
            play: plays,
            before: ivr.wrong_key.iter().map(|w| w.narration.clone()).collect(),
        },
        Some(Reaction::NoInput { again: true }) => Next::Menu {
            play: plays,
            before: ivr.no_input.iter().filter_map(|n| n.narration.clone()).collect(),
        },
        Some(Reaction::Run { key, action }) => Next::Run { key: Some(key), action },
        Some(_) => Next::HangUp,
        None => current(ivr, &fed.state),
    }
}

/// Where the call's menu is: listening for play `p`, or running a key's
/// action (the key is found from its action when only one key has it).
fn current(ivr: &IvrDefinition, call: &Call) -> Next {
    let Some(menu) = call.menu else {
        return Next::HangUp;
    };
    match (menu.status, call.action) {
        (MenuStatus::Listening, _) => Next::Menu {
            play: menu.plays,
            before: Vec::new(),
        },
        (MenuStatus::Acting, Some(action)) => {
            let mut keys = ivr.keys.iter().filter(|(_, k)| k.action() == action).map(|(k, _)| *k);
            match (keys.next(), keys.next()) {
                (Some(key), None) => Next::Run { key: Some(key), action },
                // A transfer needs its key's number.
                _ if action == KeyAction::Transfer => Next::HangUp,
                _ => Next::Run { key: None, action },
            }
        }
        _ => Next::HangUp,
    }
}

/// The document of what follows one input.
async fn answer(state: &AppState, fed: Option<Fed>, attempt: u32) -> AppResult<Response> {
    let Some(fed) = fed else {
        return Ok(Response::new().hangup());
    };
    let urls = CallUrls::new(
        &state.settings.public_url,
        &fed.call.channel_id,
        &fed.call.message_id,
        attempt,
    );
    match next(&fed, attempt) {
        Next::HangUp => Ok(Response::new().hangup()),
        Next::Message(narration) => Ok(Response::new().play(narration_url(state, &narration).await?).hangup()),
        Next::Menu { play, before } => {
            let CallContent::Ivr(ivr) = &fed.content else {
                return Ok(Response::new().hangup());
            };
            let timeout = ivr.no_input.as_ref().map_or(DEFAULT_NO_INPUT_S, |n| n.timeout_s);
            let mut gather = Gather::one_key(urls.gather(play), timeout);
            for narration in before.iter().chain(std::iter::once(&ivr.narration)) {
                gather = gather.play(narration_url(state, narration).await?);
            }
            Ok(Response::new().gather(gather))
        }
        Next::Run { key, action } => {
            let CallContent::Ivr(ivr) = &fed.content else {
                return Ok(Response::new().hangup());
            };
            let definition = key.and_then(|k| ivr.keys.get(&k));
            let mut response = Response::new();
            if let Some(narration) = definition.and_then(|d| d.narration.as_ref()) {
                response = response.play(narration_url(state, narration).await?);
            }
            if action != KeyAction::Transfer {
                return Ok(response.redirect(urls.leg(Leg::Done)));
            }
            let Some(to) = definition.and_then(|d| d.to.clone()) else {
                return Ok(response.hangup());
            };
            let mut dial = Dial::new(to).action(urls.leg(Leg::Dial)).timeout(TRANSFER_RING_S);
            // The transferred leg shows the call's own caller id.
            let message = state
                .store
                .message(&fed.call.workspace_id, &fed.call.message_id)
                .await?;
            if let Some(caller_id) = message.sender {
                dial = dial.caller_id(caller_id);
            }
            Ok(response.dial(dial))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_url_of_an_attempt_names_the_channel_the_message_and_the_attempt() {
        let urls = CallUrls::new("https://hub.example/", "ch1", "msg1", 2);
        assert_eq!(
            urls.leg(Leg::Twiml),
            "https://hub.example/webhooks/voice/ch1/twiml/msg1?attempt=2"
        );
        assert_eq!(
            urls.leg(Leg::Status),
            "https://hub.example/webhooks/voice/ch1/status/msg1?attempt=2"
        );
        assert_eq!(
            urls.gather(3),
            "https://hub.example/webhooks/voice/ch1/gather/msg1?attempt=2&play=3"
        );
    }
}
