//! One call's state machine (SPEC §6, §10), fed by every voice provider
//! (sandbox, Asterisk over ARI, TwiML-style HTTP) through the same
//! [`ProviderEvent`]s: [`apply`] takes the stored [`Call`], one [`Input`] and
//! the time, and returns the new `Call` with the timeline events to record
//! and the commands for the adapter, all to be written in one transaction.
//!
//! The rules:
//!
//! * `VOICE_SENT` is recorded before `VOICE_DELIVERED` or
//!   `VOICE_NOT_DELIVERED`; a report that proves an earlier step (ringing,
//!   an answer, a key before the provider's acceptance arrived) records that
//!   step first, like delivery receipts (`delivery::transition`).
//! * Exactly one outcome per call: `VOICE_NOT_SENT`, `VOICE_DELIVERED` or
//!   `VOICE_NOT_DELIVERED`. Busy, no answer, rejected and failed become
//!   `VOICE_NOT_DELIVERED` with the reason — once retries (if any) are spent.
//!   An answering machine is delivered with `answered_by: machine`, unless
//!   the settings count it as not delivered.
//! * `VOICE_KEY_PRESSED` (with the key) only after `VOICE_DELIVERED`; a key
//!   reported before the answer proves the answer (by a person).
//!   `VOICE_UNSUBSCRIBED` right after the key of the menu's opt-out action,
//!   at most once.
//! * A call is dialled once per attempt: only [`Input::Dial`] on a queued
//!   call and the retry timer produce [`Command::Dial`], with attempt numbers
//!   1, 2, … up to the retry budget. The provider's call id should be derived
//!   from the call and the attempt (ARI: the channel id), so a repeated
//!   request is refused by the provider too.
//! * Every call that was dialled ends: each phase arms a timer (ring time +
//!   grace until the provider confirms the dial and again until an answer,
//!   longest call + grace after it, the retry delay
//!   while waiting), and when it fires with no report the call moves on —
//!   a call that never rang is `failed`, one that rang is `no_answer`, one
//!   never confirmed by the provider is `VOICE_NOT_SENT` (`unconfirmed`)
//!   with the message `failed`, since the provider may have rung. An
//!   attempt still waiting for its turn to be dialled (the channel's pacing
//!   holds it back; no provider has seen it) is not over: its timer starts
//!   again ([`Input::TimerBeforeDial`]), so a long campaign's last calls are
//!   dialled, not closed unheard.
//! * Reports are at-least-once and in any order: a report about another
//!   attempt, a repeated one, or one that contradicts what is already
//!   recorded (busy after the answer) changes nothing; after the end nothing
//!   does.

use super::ivr::{self, KeyAction, Menu, MenuState, Reaction};
use super::Key;
use serde::{Deserialize, Serialize};

/// Milliseconds since the epoch, as everywhere in Recado.
pub type Millis = i64;

/// Who answered, as answering-machine detection says (`unknown` without it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnsweredBy {
    Human,
    Machine,
    Unknown,
}

impl AnsweredBy {
    pub fn as_str(self) -> &'static str {
        match self {
            AnsweredBy::Human => "human",
            AnsweredBy::Machine => "machine",
            AnsweredBy::Unknown => "unknown",
        }
    }
}

/// Why a call that was placed failed, beyond `busy`, `no_answer`, `rejected`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    /// The network or trunk is overloaded (Q.850 34, 38, 41, 42); worth a retry.
    Congestion,
    /// Nothing answered the signalling (Q.850 18 without ringing).
    Unreachable,
    /// The number does not exist (Q.850 1, 3, 28).
    InvalidNumber,
    /// Cancelled at the provider.
    Cancelled,
    Other,
}

impl Failure {
    pub fn as_str(self) -> &'static str {
        match self {
            Failure::Congestion => "congestion",
            Failure::Unreachable => "unreachable",
            Failure::InvalidNumber => "invalid_number",
            Failure::Cancelled => "cancelled",
            Failure::Other => "other",
        }
    }
}

/// Why a placed call was not delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason", content = "cause")]
pub enum Unreached {
    Busy,
    NoAnswer,
    Rejected,
    Failed(Failure),
    /// An answering machine, when the settings do not count it as delivered.
    Machine,
}

impl Unreached {
    /// The `reason` of `VOICE_NOT_DELIVERED` (API "Voice").
    pub fn reason(self) -> &'static str {
        match self {
            Unreached::Busy => "busy",
            Unreached::NoAnswer => "no_answer",
            Unreached::Rejected => "rejected",
            Unreached::Failed(_) => "failed",
            Unreached::Machine => "machine",
        }
    }

    /// Which retry rule applies, if any.
    pub fn retryable(self) -> Option<Retryable> {
        match self {
            Unreached::Busy => Some(Retryable::Busy),
            Unreached::NoAnswer => Some(Retryable::NoAnswer),
            Unreached::Failed(Failure::Congestion) => Some(Retryable::Congestion),
            Unreached::Machine => Some(Retryable::Machine),
            Unreached::Rejected | Unreached::Failed(_) => None,
        }
    }
}

/// Outcomes a call may be retried on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Retryable {
    Busy,
    NoAnswer,
    Congestion,
    Machine,
}

/// Why a call was never placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotSentReason {
    /// No voice subscription (SPEC §3).
    NotSubscribed,
    /// The contact's number is missing or not possible.
    InvalidNumber,
    /// The provider refused the call request (an API 4xx).
    ProviderRefused,
    /// The provider never confirmed the call, and no report followed before
    /// the timer closed it.
    Unconfirmed,
    /// The provider could not be reached to place the call, however often
    /// the hub tried.
    ProviderUnreachable,
}

impl NotSentReason {
    pub fn as_str(self) -> &'static str {
        match self {
            NotSentReason::NotSubscribed => "not_subscribed",
            NotSentReason::InvalidNumber => "invalid_number",
            NotSentReason::ProviderRefused => "provider_refused",
            NotSentReason::Unconfirmed => "unconfirmed",
            NotSentReason::ProviderUnreachable => "provider_unreachable",
        }
    }

    /// The message status of a call that ended for this reason. An
    /// unconfirmed attempt was handed to the provider (its attempt claimed)
    /// and never confirmed: the phone may have rung with no hub to answer
    /// it, so the call `failed` — `not_sent` would claim that no provider
    /// ever saw it. Every other reason is the hub's or the provider's
    /// refusal before any line was used.
    pub fn status(self) -> crate::delivery::OutboundStatus {
        use crate::delivery::OutboundStatus;
        match self {
            NotSentReason::Unconfirmed => OutboundStatus::Failed,
            _ => OutboundStatus::NotSent,
        }
    }
}

/// What a provider reported about one attempt, in Recado's words. Adapters
/// map their own statuses (Twilio `CallStatus`, ARI events and Q.850 causes
/// — [`ProviderEvent::from_q850`] — Vonage statuses) onto these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "event")]
pub enum ProviderEvent {
    /// The provider took the call request (ARI originate 200, Twilio 201).
    Accepted,
    /// The provider refused the call request.
    Refused,
    Ringing,
    Answered {
        answered_by: AnsweredBy,
    },
    /// A key; `seq` numbers the keys of one attempt (1, 2, …) so a repeated
    /// report of the same press is recognised.
    Dtmf {
        key: Key,
        seq: u32,
    },
    Busy,
    NoAnswer,
    Rejected,
    Failed {
        failure: Failure,
    },
    /// The call ended (after an answer: normally; before: without one).
    HungUp,
}

impl ProviderEvent {
    /// The end of a channel by its Q.850 cause, as Asterisk reports it in
    /// `ChannelDestroyed` (measured on the rig: 16 normal, 17 busy, 19 rang
    /// out, 18 nothing answered; 0 when the phone hung up with a bare BYE).
    pub fn from_q850(cause: u16) -> ProviderEvent {
        match cause {
            0 | 16 | 31 => ProviderEvent::HungUp,
            17 => ProviderEvent::Busy,
            19 => ProviderEvent::NoAnswer,
            21 => ProviderEvent::Rejected,
            18 | 20 | 27 => ProviderEvent::Failed {
                failure: Failure::Unreachable,
            },
            1 | 3 | 28 => ProviderEvent::Failed {
                failure: Failure::InvalidNumber,
            },
            34 | 38 | 41 | 42 => ProviderEvent::Failed {
                failure: Failure::Congestion,
            },
            _ => ProviderEvent::Failed {
                failure: Failure::Other,
            },
        }
    }
}

/// What [`apply`] is fed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "input")]
pub enum Input {
    /// Place the call: consent, call window and pacing allow it now. Only a
    /// queued call dials; a repeated `Dial` changes nothing.
    Dial,
    /// The hub refuses the call before any provider sees it.
    Refuse { reason: NotSentReason },
    /// A provider report about attempt `attempt`.
    Provider { attempt: u32, event: ProviderEvent },
    /// The key's narration (or SMS) of the running IVR action is done.
    ActionDone,
    /// The no-input timeout of menu play `play` expired.
    NoInput { play: u32 },
    /// A timer armed by [`Command::ArmTimer`] fired (possibly late, possibly
    /// one armed for an earlier phase — then it changes nothing).
    TimerExpired,
    /// The timer fired while the current attempt had not been handed to any
    /// provider yet (it waits for its turn to dial): the attempt's time
    /// starts again instead of ending it.
    TimerBeforeDial,
    /// The hub gave up handing attempt `attempt` to its provider (it could
    /// not be reached, however often it tried): no provider saw it.
    DialAbandoned { attempt: u32 },
}

/// What the call records on the timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum VoiceEvent {
    Sent,
    NotSent { reason: NotSentReason },
    Delivered { answered_by: AnsweredBy },
    NotDelivered { why: Unreached, attempts: u32 },
    KeyPressed { key: Key },
    Unsubscribed { key: Key },
}

impl VoiceEvent {
    /// The timeline name (SPEC §6).
    pub fn kind(&self) -> &'static str {
        match self {
            VoiceEvent::Sent => "VOICE_SENT",
            VoiceEvent::NotSent { .. } => "VOICE_NOT_SENT",
            VoiceEvent::Delivered { .. } => "VOICE_DELIVERED",
            VoiceEvent::NotDelivered { .. } => "VOICE_NOT_DELIVERED",
            VoiceEvent::KeyPressed { .. } => "VOICE_KEY_PRESSED",
            VoiceEvent::Unsubscribed { .. } => "VOICE_UNSUBSCRIBED",
        }
    }

    /// The timeline details (API "Voice": `answered_by`, `reason`, `key`).
    pub fn details(&self) -> serde_json::Value {
        use serde_json::json;
        match *self {
            VoiceEvent::Sent => json!({}),
            VoiceEvent::NotSent { reason } => json!({"reason": reason.as_str()}),
            VoiceEvent::Delivered { answered_by } => json!({"answered_by": answered_by.as_str()}),
            VoiceEvent::NotDelivered { why, attempts } => match why {
                Unreached::Failed(failure) => {
                    json!({"reason": why.reason(), "cause": failure.as_str(), "attempts": attempts})
                }
                _ => json!({"reason": why.reason(), "attempts": attempts}),
            },
            VoiceEvent::KeyPressed { key } => json!({"key": key.to_string()}),
            VoiceEvent::Unsubscribed { key } => json!({"key": key.to_string(), "source": "ivr_key"}),
        }
    }

    /// Whether this is the call's outcome (exactly one per call).
    pub fn is_outcome(&self) -> bool {
        matches!(
            self,
            VoiceEvent::NotSent { .. } | VoiceEvent::Delivered { .. } | VoiceEvent::NotDelivered { .. }
        )
    }
}

/// What the adapter must do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "command")]
pub enum Command {
    /// Place attempt `attempt` (its provider id derived from the call and
    /// the attempt).
    Dial { attempt: u32 },
    /// Feed [`Input::TimerExpired`] at `at`.
    ArmTimer { at: Millis },
    /// Carry out an IVR reaction (play the menu, run a key's action…).
    Ivr(Reaction),
    /// Drop attempt `attempt` if it is still up (the timer gave up on it).
    HangUp { attempt: u32 },
}

/// Timeline events and commands of one step, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Emitted {
    pub events: Vec<VoiceEvent>,
    pub commands: Vec<Command>,
}

/// Per-call settings (from the voice action or IVR definition and the channel).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// How long the phone may ring (the provider's own timeout).
    pub ring_timeout_ms: Millis,
    /// The longest answered call.
    pub max_duration_ms: Millis,
    /// Added to each timer so the provider's own report normally comes first.
    pub grace_ms: Millis,
    /// Attempts in all (at least 1) and the delay before a retry, by outcome;
    /// outcomes without a delay are not retried.
    pub max_attempts: u32,
    pub retry_delays: Vec<(Retryable, Millis)>,
    /// Whether an answering machine counts as delivered (the default).
    pub machine_is_delivered: bool,
    /// The IVR menu; `None` for a voice message.
    pub menu: Option<Menu>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            ring_timeout_ms: 30_000,
            max_duration_ms: 600_000,
            grace_ms: 60_000,
            max_attempts: 1,
            retry_delays: Vec::new(),
            machine_is_delivered: true,
            menu: None,
        }
    }
}

impl Settings {
    fn retry_delay(&self, why: Unreached) -> Option<Millis> {
        let rule = why.retryable()?;
        self.retry_delays
            .iter()
            .find(|(r, _)| *r == rule)
            .map(|(_, delay)| *delay)
    }
}

/// Where a call is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Written, not dialled.
    Queued,
    /// Attempt requested; the provider has not confirmed it.
    Dialing,
    /// The provider took the attempt; not answered yet.
    Placed,
    /// Answered (`VOICE_DELIVERED` recorded).
    Answered,
    /// Not reached; the next attempt waits for its time.
    RetryWaiting,
    /// Over: the outcome is recorded and nothing changes any more.
    Ended,
}

/// A call as stored between inputs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    pub phase: Phase,
    /// The current attempt (0 before the first dial).
    pub attempt: u32,
    /// `VOICE_SENT` recorded.
    pub sent: bool,
    /// The current attempt rang.
    pub rang: bool,
    /// When the armed timer closes the current phase.
    pub deadline: Option<Millis>,
    /// The highest key `seq` seen in the current attempt.
    pub key_seq: u32,
    /// The running key action, while the menu is acting.
    pub action: Option<KeyAction>,
    pub menu: Option<MenuState>,
    pub unsubscribed: bool,
    /// Why the last attempt failed, while waiting to retry.
    pub last_unreached: Option<Unreached>,
}

impl Default for Call {
    fn default() -> Call {
        Call::new()
    }
}

impl Call {
    pub fn new() -> Call {
        Call {
            phase: Phase::Queued,
            attempt: 0,
            sent: false,
            rang: false,
            deadline: None,
            key_seq: 0,
            action: None,
            menu: None,
            unsubscribed: false,
            last_unreached: None,
        }
    }

    pub fn is_ended(&self) -> bool {
        self.phase == Phase::Ended
    }
}

/// One step of the call: the new call and what to record and do.
pub fn apply(settings: &Settings, call: &Call, input: Input, now: Millis) -> (Call, Emitted) {
    let mut step = Stepper {
        settings,
        call: call.clone(),
        out: Emitted::default(),
        now,
    };
    step.input(input);
    (step.call, step.out)
}

struct Stepper<'a> {
    settings: &'a Settings,
    call: Call,
    out: Emitted,
    now: Millis,
}

impl Stepper<'_> {
    fn input(&mut self, input: Input) {
        match (self.call.phase, input) {
            (Phase::Ended, _) => {}
            (Phase::Queued, Input::Dial) => self.dial(),
            (Phase::Queued, Input::Refuse { reason }) => self.end_not_sent(reason),
            (_, Input::Dial | Input::Refuse { .. }) => {}
            (_, Input::Provider { attempt, event }) => {
                if attempt == self.call.attempt && attempt > 0 {
                    self.provider(event);
                }
            }
            (Phase::Answered, Input::ActionDone) => {
                if let (Some(menu), Some(state), Some(action)) =
                    (&self.settings.menu, self.call.menu, self.call.action.take())
                {
                    let (state, reaction) = ivr::on_action_done(menu, state, action);
                    self.react(state, reaction);
                }
            }
            (Phase::Answered, Input::NoInput { play }) => {
                if let (Some(menu), Some(state)) = (&self.settings.menu, self.call.menu) {
                    let (state, reaction) = ivr::on_no_input(menu, state, play);
                    self.react(state, reaction);
                }
            }
            (_, Input::ActionDone | Input::NoInput { .. }) => {}
            (_, Input::TimerExpired) => {
                if self.deadline_passed() {
                    self.timer();
                }
            }
            (Phase::Dialing, Input::TimerBeforeDial) => {
                if self.deadline_passed() {
                    self.arm_dial_timer();
                }
            }
            // Only a dialling attempt can wait for its turn: elsewhere it is
            // the timer it is.
            (_, Input::TimerBeforeDial) => self.input(Input::TimerExpired),
            (Phase::Dialing, Input::DialAbandoned { attempt }) if attempt == self.call.attempt => {
                if self.call.sent {
                    // An earlier attempt was sent: the call is not delivered.
                    self.unreached(Unreached::Failed(Failure::Unreachable), false);
                } else {
                    self.end_not_sent(NotSentReason::ProviderUnreachable);
                }
            }
            (_, Input::DialAbandoned { .. }) => {}
        }
    }

    fn record(&mut self, event: VoiceEvent) {
        self.out.events.push(event);
    }

    fn command(&mut self, command: Command) {
        self.out.commands.push(command);
    }

    fn deadline_passed(&self) -> bool {
        self.call.deadline.is_some_and(|at| self.now >= at)
    }

    /// A provider confirms a dial at once (an API answer, ARI's originate
    /// reply): an attempt still unconfirmed after the ring time and the
    /// grace was lost on the way (the hub died between claiming and
    /// dialling it, or its reports were lost), and is over.
    fn arm_dial_timer(&mut self) {
        let s = self.settings;
        self.arm(self.now + s.ring_timeout_ms + s.grace_ms);
    }

    fn arm(&mut self, at: Millis) {
        self.call.deadline = Some(at);
        self.command(Command::ArmTimer { at });
    }

    fn dial(&mut self) {
        self.call.attempt += 1;
        self.call.phase = Phase::Dialing;
        self.call.rang = false;
        self.call.key_seq = 0;
        self.call.last_unreached = None;
        self.command(Command::Dial {
            attempt: self.call.attempt,
        });
        self.arm_dial_timer();
    }

    fn end(&mut self) {
        self.call.phase = Phase::Ended;
        self.call.deadline = None;
        self.call.action = None;
    }

    fn end_not_sent(&mut self, reason: NotSentReason) {
        self.record(VoiceEvent::NotSent { reason });
        self.end();
    }

    /// `VOICE_SENT`, if not yet recorded: a report proves the provider took
    /// the call.
    fn sent(&mut self) {
        if !self.call.sent {
            self.call.sent = true;
            self.record(VoiceEvent::Sent);
        }
    }

    fn placed(&mut self) {
        self.sent();
        if self.call.phase == Phase::Dialing {
            self.call.phase = Phase::Placed;
            let s = self.settings;
            self.arm(self.now + s.ring_timeout_ms + s.grace_ms);
        }
    }

    fn provider(&mut self, event: ProviderEvent) {
        let before_answer = matches!(self.call.phase, Phase::Dialing | Phase::Placed);
        match event {
            ProviderEvent::Accepted if before_answer => self.placed(),
            ProviderEvent::Refused if self.call.phase == Phase::Dialing => {
                if self.call.sent {
                    // A retry refused: the call was sent once, so it ends
                    // as not delivered.
                    self.unreached(Unreached::Failed(Failure::Other), false);
                } else {
                    self.end_not_sent(NotSentReason::ProviderRefused);
                }
            }
            ProviderEvent::Ringing if before_answer => {
                self.placed();
                self.call.rang = true;
            }
            ProviderEvent::Answered { answered_by } if before_answer => {
                self.placed();
                if answered_by == AnsweredBy::Machine && !self.settings.machine_is_delivered {
                    self.unreached(Unreached::Machine, true);
                } else {
                    self.answered(answered_by);
                }
            }
            ProviderEvent::Dtmf { key, seq } if before_answer => {
                // A key proves a person answered, whatever report is late.
                self.placed();
                self.answered(AnsweredBy::Human);
                self.key(key, seq);
            }
            ProviderEvent::Dtmf { key, seq } if self.call.phase == Phase::Answered => self.key(key, seq),
            ProviderEvent::Busy if before_answer => self.unreached(Unreached::Busy, false),
            ProviderEvent::NoAnswer if before_answer => self.unreached(Unreached::NoAnswer, false),
            ProviderEvent::Rejected if before_answer => self.unreached(Unreached::Rejected, false),
            ProviderEvent::Failed { failure } if before_answer => self.unreached(Unreached::Failed(failure), false),
            ProviderEvent::HungUp if before_answer => {
                let why = if self.call.rang {
                    Unreached::NoAnswer
                } else {
                    Unreached::Failed(Failure::Other)
                };
                self.unreached(why, false);
            }
            ProviderEvent::HungUp if self.call.phase == Phase::Answered => self.end(),
            // Repeated, late or contradicting what is recorded.
            _ => {}
        }
    }

    fn answered(&mut self, answered_by: AnsweredBy) {
        self.record(VoiceEvent::Delivered { answered_by });
        self.call.phase = Phase::Answered;
        let s = self.settings;
        self.arm(self.now + s.max_duration_ms + s.grace_ms);
        if let Some(_menu) = &self.settings.menu {
            let (state, reaction) = ivr::start();
            self.react(state, reaction);
        }
    }

    fn key(&mut self, key: Key, seq: u32) {
        if seq <= self.call.key_seq {
            return;
        }
        self.call.key_seq = seq;
        let (Some(menu), Some(state)) = (&self.settings.menu, self.call.menu) else {
            // A voice message has no menu: the key is recorded, nothing follows.
            self.record(VoiceEvent::KeyPressed { key });
            return;
        };
        let (state, reaction) = ivr::on_key(menu, state, key);
        if let Reaction::Run { key, action } = reaction {
            self.record(VoiceEvent::KeyPressed { key });
            self.call.action = Some(action);
            if action == KeyAction::Unsubscribe && !self.call.unsubscribed {
                self.call.unsubscribed = true;
                self.record(VoiceEvent::Unsubscribed { key });
            }
        }
        self.react(state, reaction);
    }

    fn react(&mut self, state: MenuState, reaction: Reaction) {
        self.call.menu = Some(state);
        if reaction != Reaction::Ignored {
            self.command(Command::Ivr(reaction));
        }
    }

    /// The attempt did not reach the contact: retry when the settings allow,
    /// else record the outcome. `hang_up`: the line may still be up.
    fn unreached(&mut self, why: Unreached, hang_up: bool) {
        self.sent();
        if hang_up {
            self.command(Command::HangUp {
                attempt: self.call.attempt,
            });
        }
        match self.settings.retry_delay(why) {
            Some(delay) if self.call.attempt < self.settings.max_attempts => {
                self.call.phase = Phase::RetryWaiting;
                self.call.last_unreached = Some(why);
                self.arm(self.now + delay);
            }
            _ => {
                self.record(VoiceEvent::NotDelivered {
                    why,
                    attempts: self.call.attempt,
                });
                self.end();
            }
        }
    }

    fn timer(&mut self) {
        match self.call.phase {
            Phase::Dialing => {
                self.command(Command::HangUp {
                    attempt: self.call.attempt,
                });
                if self.call.sent {
                    self.unreached(Unreached::Failed(Failure::Other), false);
                } else {
                    self.end_not_sent(NotSentReason::Unconfirmed);
                }
            }
            Phase::Placed => {
                let why = if self.call.rang {
                    Unreached::NoAnswer
                } else {
                    Unreached::Failed(Failure::Unreachable)
                };
                self.unreached(why, true);
            }
            Phase::Answered => {
                self.command(Command::HangUp {
                    attempt: self.call.attempt,
                });
                self.end();
            }
            Phase::RetryWaiting => self.dial(),
            Phase::Queued | Phase::Ended => {}
        }
    }
}

#[cfg(test)]
mod tests;
