//! The IVR simulator: a call played in the browser before any is made.
//! Each step feeds recado-core's one call machine ([`call::apply`]) with the
//! definition's own settings, from the state the page sends back, so the
//! simulator reaches exactly what a real call reaches — every key's action,
//! the wrong-key and silent paths, goodbye — while nothing is stored,
//! dialled or sent. It returns what the call would record on the timeline,
//! what it would do (an SMS, a transfer), and each narration to play,
//! rendered as a provider would fetch it.

use super::media::narration_url;
use super::send::{personalised, CallContent};
use crate::{AppError, AppResult, AppState};
use recado_core::voice::call::{self, AnsweredBy, Call, Command, Input, Phase, ProviderEvent, Settings, VoiceEvent};
use recado_core::voice::definition::{IvrDefinition, Narration};
use recado_core::voice::ivr::{KeyAction, MenuStatus, Reaction};
use recado_core::voice::Key;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// What the person on the simulated phone does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "do", content = "key")]
pub enum Press {
    /// Picks up: the call is sent, delivered, and the menu plays.
    Answer,
    /// Presses a key of the keypad.
    Key(Key),
    /// Says nothing until the menu's no-input timeout.
    Silence,
    /// Hangs up.
    HangUp,
}

impl Press {
    /// `answer`, `silence`, `hangup` or one keypad symbol.
    pub fn parse(s: &str) -> Option<Press> {
        match s.trim() {
            "answer" => Some(Press::Answer),
            "silence" => Some(Press::Silence),
            "hangup" => Some(Press::HangUp),
            other => Key::try_from(other.to_string()).ok().map(Press::Key),
        }
    }
}

/// One line of the simulator's log, in the order the call lives it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Entry {
    /// What the timeline would record (`VOICE_SENT`, `VOICE_KEY_PRESSED` …).
    Event { event: String, details: Value },
    /// A narration the contact hears: its words (or recording), and where
    /// the browser plays it from.
    Play {
        what: String,
        text: String,
        audio_url: Option<String>,
    },
    /// Something the hub would do: an SMS, a transfer.
    Would { text: String },
    /// The call ends.
    HangUp { text: String },
}

/// The outcome of one step.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Simulated {
    /// The call as it is now: sent back with the next step.
    pub call: Call,
    pub entries: Vec<Entry>,
    /// The menu waits for a key (the keypad and "stay silent" do something).
    pub listening: bool,
    /// The call is over; only a new answer starts another.
    pub ended: bool,
}

/// A definition to simulate: an IVR call, or a voice message played once.
pub fn content_of(ivr: Option<&Value>, voice: Option<&Value>) -> AppResult<CallContent> {
    match (ivr, voice) {
        (Some(ivr), None) => CallContent::parse_ivr(ivr),
        (None, Some(voice)) => CallContent::parse_message(voice),
        _ => Err(AppError::invalid(
            "invalid_voice",
            "ivr",
            "give the call to simulate as `ivr` or as `voice`, one of them",
        )),
    }
}

/// The settings the call runs with: the IVR's own, or a plain message's.
fn settings_of(content: &CallContent) -> Settings {
    match content {
        CallContent::Ivr(ivr) => ivr.call_settings(),
        CallContent::Message(_) => Settings::default(),
    }
}

/// One step of the simulated call. `call` is the state the previous step
/// returned (None before the answer); `properties` fill the narrations'
/// `{{contact.*}}` tokens (empty when no contact is named); `to` is the
/// number an SMS key would go to.
pub async fn step(
    state: &AppState,
    content: &CallContent,
    properties: &BTreeMap<String, String>,
    to: Option<&str>,
    call: Option<Call>,
    press: Press,
) -> AppResult<Simulated> {
    let content = personalised(content, properties);
    let settings = settings_of(&content);
    let mut sim = Sim {
        state,
        content: &content,
        settings: &settings,
        to,
        call: call.unwrap_or_default(),
        entries: Vec::new(),
        now: state.clock.now_ms(),
    };
    match press {
        Press::Answer => {
            // A new call each time the phone is picked up.
            sim.call = Call::new();
            sim.feed(Input::Dial).await?;
            sim.provider(ProviderEvent::Accepted).await?;
            sim.provider(ProviderEvent::Answered {
                answered_by: AnsweredBy::Human,
            })
            .await?;
            if matches!(content, CallContent::Message(_)) {
                // A message plays once and the call ends.
                sim.play_opening(1).await?;
                sim.hang_up("hangs up after the message").await?;
            }
        }
        Press::Key(key) if sim.call.phase == Phase::Answered => {
            let seq = sim.call.key_seq.saturating_add(1);
            sim.provider(ProviderEvent::Dtmf { key, seq }).await?;
        }
        Press::Silence if sim.call.phase == Phase::Answered => match sim.call.menu {
            Some(menu) => sim.feed(Input::NoInput { play: menu.plays }).await?,
            None => sim.hang_up("hangs up: the message is over").await?,
        },
        Press::HangUp if sim.call.phase == Phase::Answered => {
            sim.provider(ProviderEvent::HungUp).await?;
            sim.entries.push(Entry::HangUp {
                text: "The contact hangs up.".into(),
            });
        }
        Press::Key(_) | Press::Silence | Press::HangUp => {
            return Err(AppError::invalid(
                "call_not_answered",
                "press",
                "the simulated phone is not in a call: answer first",
            ))
        }
    }
    let listening = sim
        .call
        .menu
        .is_some_and(|m| m.status == MenuStatus::Listening && sim.call.phase == Phase::Answered);
    Ok(Simulated {
        ended: sim.call.is_ended(),
        listening,
        entries: sim.entries,
        call: sim.call,
    })
}

struct Sim<'a> {
    state: &'a AppState,
    content: &'a CallContent,
    settings: &'a Settings,
    to: Option<&'a str>,
    call: Call,
    entries: Vec<Entry>,
    now: i64,
}

impl Sim<'_> {
    fn ivr(&self) -> Option<&IvrDefinition> {
        match self.content {
            CallContent::Ivr(ivr) => Some(ivr),
            CallContent::Message(_) => None,
        }
    }

    async fn provider(&mut self, event: ProviderEvent) -> AppResult<()> {
        let attempt = self.call.attempt;
        self.feed(Input::Provider { attempt, event }).await
    }

    /// Applies one input and carries out what the machine asks, as the
    /// provider adapters do — but only in words and sounds.
    async fn feed(&mut self, input: Input) -> AppResult<()> {
        let (call, emitted) = call::apply(self.settings, &self.call, input, self.now);
        self.call = call;
        for event in &emitted.events {
            self.record(event);
        }
        for command in emitted.commands {
            if let Command::Ivr(reaction) = command {
                Box::pin(self.react(reaction)).await?;
            }
        }
        Ok(())
    }

    fn record(&mut self, event: &VoiceEvent) {
        self.entries.push(Entry::Event {
            event: event.kind().to_string(),
            details: event.details(),
        });
    }

    async fn react(&mut self, reaction: Reaction) -> AppResult<()> {
        match reaction {
            Reaction::PlayMenu { play } => self.play_opening(play).await,
            Reaction::Run { key, action } => {
                self.run(key, action).await?;
                // The action's narration (or SMS) is done.
                self.feed(Input::ActionDone).await
            }
            Reaction::WrongKey { again } => {
                let narration = self
                    .ivr()
                    .and_then(|i| i.wrong_key.as_ref())
                    .map(|w| w.narration.clone());
                self.play_optional("the wrong-key narration", narration).await?;
                self.after_replay(again).await
            }
            Reaction::NoInput { again } => {
                let narration = self
                    .ivr()
                    .and_then(|i| i.no_input.as_ref())
                    .and_then(|n| n.narration.clone());
                self.play_optional("the no-input narration", narration).await?;
                self.after_replay(again).await
            }
            Reaction::Goodbye => self.hang_up("says goodbye and hangs up").await,
            Reaction::Ignored => Ok(()),
        }
    }

    /// After a wrong key or silence: the menu again, or goodbye.
    async fn after_replay(&mut self, again: bool) -> AppResult<()> {
        if again {
            let play = self.call.menu.map_or(1, |m| m.plays);
            self.play_opening(play).await
        } else {
            self.hang_up("no plays of the menu left: says goodbye and hangs up")
                .await
        }
    }

    async fn run(&mut self, key: Key, action: KeyAction) -> AppResult<()> {
        let Some(definition) = self.ivr().and_then(|i| i.keys.get(&key)).cloned() else {
            return Ok(());
        };
        let narration = definition.narration.clone();
        match action {
            KeyAction::Play { .. } => {
                self.play_optional(&format!("key {key}'s narration"), narration).await?;
            }
            KeyAction::Transfer => {
                self.play_optional(&format!("key {key}'s narration"), narration).await?;
                let to = definition.to.as_deref().unwrap_or("?");
                self.entries.push(Entry::Would {
                    text: format!("Would transfer the call to {to}."),
                });
            }
            KeyAction::SendSms { .. } => {
                let text = definition.text.as_deref().unwrap_or_default();
                let to = self.to.unwrap_or("the contact's mobilephone");
                let from = definition
                    .sender
                    .as_deref()
                    .unwrap_or("the SMS channel's default sender");
                self.entries.push(Entry::Would {
                    text: format!(
                        "Would send the SMS «{text}» to {to} from {from} (unless the contact unsubscribed from SMS)."
                    ),
                });
                self.play_optional(&format!("key {key}'s narration"), narration).await?;
            }
            KeyAction::Unsubscribe => {
                self.entries.push(Entry::Would {
                    text: "Would unsubscribe the contact from voice calls (source ivr_key).".into(),
                });
                self.play_optional(&format!("key {key}'s confirmation"), narration)
                    .await?;
            }
        }
        Ok(())
    }

    async fn play_opening(&mut self, play: u32) -> AppResult<()> {
        let (narration, what) = match self.content {
            CallContent::Ivr(ivr) => (
                ivr.narration.clone(),
                format!("the menu (play {play} of {})", ivr.max_menu_plays),
            ),
            CallContent::Message(m) => (m.narration.clone(), "the message".to_string()),
        };
        self.play(&what, &narration).await
    }

    async fn play_optional(&mut self, what: &str, narration: Option<Narration>) -> AppResult<()> {
        match narration {
            Some(n) => self.play(what, &n).await,
            None => Ok(()),
        }
    }

    async fn play(&mut self, what: &str, narration: &Narration) -> AppResult<()> {
        let text = match narration {
            Narration::Tts { text, .. } => text.clone(),
            Narration::Audio { url } => format!("(recording) {url}"),
        };
        let audio_url = Some(narration_url(self.state, narration).await?);
        self.entries.push(Entry::Play {
            what: format!("Plays {what}"),
            text,
            audio_url,
        });
        Ok(())
    }

    async fn hang_up(&mut self, why: &str) -> AppResult<()> {
        if self.call.phase == Phase::Answered {
            let attempt = self.call.attempt;
            let (call, emitted) = call::apply(
                self.settings,
                &self.call,
                Input::Provider {
                    attempt,
                    event: ProviderEvent::HungUp,
                },
                self.now,
            );
            self.call = call;
            for event in &emitted.events {
                self.record(event);
            }
        }
        self.entries.push(Entry::HangUp {
            text: format!("The call {why}."),
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_keypad_answer_silence_and_hang_up_are_presses() {
        assert_eq!(Press::parse("answer"), Some(Press::Answer));
        assert_eq!(Press::parse("silence"), Some(Press::Silence));
        assert_eq!(Press::parse("#"), Key::new('#').map(Press::Key));
        assert_eq!(Press::parse("7"), Key::digit(7).map(Press::Key));
        assert_eq!(Press::parse("A"), None);
        assert_eq!(Press::parse("12"), None);
    }
}
