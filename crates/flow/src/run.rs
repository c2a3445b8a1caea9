//! The persisted state of one contact's run through a workflow version, and
//! what the interpreter reads and emits around it.

use crate::condition::{EventQuery, EventScope, Facts};
use crate::definition::{Definition, NodeId, SendAction};
use chrono_tz::Tz;
use recado_core::consent::{Channel, LegalBasis, SubscriptionStatus};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Enrolled; the next advance starts it at its node.
    Ready,
    /// Claimed by a worker (the store's lease state); advances like `ready`.
    Running,
    /// Parked: on a timer, an event or a send result (see [`Parked`]).
    Waiting,
    Completed,
    Exited,
    Failed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Ready => "ready",
            RunStatus::Running => "running",
            RunStatus::Waiting => "waiting",
            RunStatus::Completed => "completed",
            RunStatus::Exited => "exited",
            RunStatus::Failed => "failed",
        }
    }

    pub fn is_ended(self) -> bool {
        matches!(self, RunStatus::Completed | RunStatus::Exited | RunStatus::Failed)
    }
}

/// What a waiting run waits for. Exactly the inputs that fit it move the run;
/// every other input is a stale or repeated delivery and changes nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Parked {
    /// A `Send` effect went out; the run waits for its result.
    SendResult { node: NodeId, idempotency_key: String },
    /// A delay; at `until` the run goes on to the delay's `next`.
    Delay { until: i64 },
    /// A send refused because a messaging limit was reached (`defer_on_limit`);
    /// at `until` the send is attempted again.
    DeferredSend { until: i64 },
    /// One advance reached its step limit; at `at` the run enters its node.
    Continue { at: i64 },
    /// A `wait_event` on the message of send node `of`.
    Event {
        of: NodeId,
        events: Vec<String>,
        until: i64,
    },
}

/// What the run knows about the message one of its send nodes sent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendRecord {
    /// Set once the send was accepted; None for a refused send.
    pub message_id: Option<String>,
    /// Events of that message in arrival order, without exact repeats.
    pub events: Vec<RecordedEvent>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedEvent {
    pub event: String,
    pub at: i64,
}

/// One contact's run, as the store keeps it between advances.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    pub id: String,
    pub status: RunStatus,
    /// The node the run is at (the one it waits in, or ended in).
    pub node: NodeId,
    /// Monotonic transition counter; every log line carries a new value and
    /// every send's idempotency key contains the value of its attempt.
    pub step: u64,
    /// When the run wants to be woken; the store's due-time index.
    pub wake_at: Option<i64>,
    pub parked: Option<Parked>,
    pub sends: BTreeMap<NodeId, SendRecord>,
    pub visits: BTreeMap<NodeId, u32>,
    pub entered_at: i64,
    /// The latest `now` the run advanced at; time never goes backwards for a run.
    pub last_advanced_at: i64,
    pub end_reason: Option<String>,
}

impl Run {
    /// A run enrolled at `now`, ready to start at the definition's start node.
    pub fn new(id: impl Into<String>, def: &Definition, now: i64) -> Run {
        Run {
            id: id.into(),
            status: RunStatus::Ready,
            node: def.start.clone(),
            step: 0,
            wake_at: Some(now),
            parked: None,
            sends: BTreeMap::new(),
            visits: BTreeMap::new(),
            entered_at: now,
            last_advanced_at: now,
            end_reason: None,
        }
    }

    /// Whether the run is ended, or parked on something that will move it.
    pub fn is_settled(&self) -> bool {
        self.status.is_ended()
            || (self.status == RunStatus::Waiting
                && (self.wake_at.is_some()
                    || matches!(
                        self.parked,
                        Some(Parked::SendResult { .. }) | Some(Parked::Event { .. })
                    )))
    }
}

/// Facts about the contact seen through a run: event leaves that name a send
/// of this workflow (`"of"`) are answered from the run's own send records;
/// everything else from the contact's facts. The caller evaluates `exit_when`
/// through this too.
pub struct RunFacts<'a> {
    pub facts: &'a dyn Facts,
    pub run: &'a Run,
}

impl Facts for RunFacts<'_> {
    fn property(&self, key: &str) -> Option<String> {
        self.facts.property(key)
    }

    fn subscription(&self, channel: Channel) -> Option<SubscriptionStatus> {
        self.facts.subscription(channel)
    }

    fn event_times(&self, query: &EventQuery) -> Vec<i64> {
        match &query.scope {
            EventScope::Send(of) => self
                .run
                .sends
                .get(of)
                .map(|record| {
                    record
                        .events
                        .iter()
                        .filter(|e| e.event == query.event && query.admits(e.at))
                        .map(|e| e.at)
                        .collect()
                })
                .unwrap_or_default(),
            EventScope::Campaign(_) | EventScope::AnyMessage => self.facts.event_times(query),
        }
    }
}

/// Contact facts with the changes a run made laid over them: a branch after a
/// `set_property` in the same advance must see the new value, although the
/// application stores it only after the advance.
pub struct Overlay<'a> {
    base: &'a dyn Facts,
    properties: BTreeMap<String, Option<String>>,
    subscriptions: HashMap<Channel, SubscriptionStatus>,
}

impl<'a> Overlay<'a> {
    pub fn new(base: &'a dyn Facts) -> Overlay<'a> {
        Overlay {
            base,
            properties: BTreeMap::new(),
            subscriptions: HashMap::new(),
        }
    }

    /// Takes in the contact change an effect makes; other effects change nothing.
    pub fn apply(&mut self, effect: &Effect) {
        match effect {
            Effect::SetProperty { property, value, .. } => {
                self.properties.insert(property.clone(), value.clone());
            }
            Effect::SetSubscription { channel, status, .. } => {
                self.subscriptions.insert(*channel, *status);
            }
            _ => {}
        }
    }
}

impl Facts for Overlay<'_> {
    fn property(&self, key: &str) -> Option<String> {
        match self.properties.get(key) {
            Some(value) => value.clone(),
            None => self.base.property(key),
        }
    }

    fn subscription(&self, channel: Channel) -> Option<SubscriptionStatus> {
        self.subscriptions
            .get(&channel)
            .copied()
            .or_else(|| self.base.subscription(channel))
    }

    fn event_times(&self, query: &EventQuery) -> Vec<i64> {
        self.base.event_times(query)
    }
}

/// Bounds on the work of one advance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Nodes one advance may enter before it parks the run to continue at once
    /// in a later advance (so one advance, and one transaction, stays small).
    pub max_steps_per_advance: u32,
    /// How long a send refused for a messaging limit waits before it is tried
    /// again (`defer_on_limit`). WhatsApp tiers count over a rolling 24 hours
    /// and quotas reset on their own clock, so the next window is not known
    /// here: trying hourly finds it within an hour.
    pub defer_retry_ms: i64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_steps_per_advance: 200,
            defer_retry_ms: 3_600_000,
        }
    }
}

/// What one advance needs from outside: the contact's facts, the time zone
/// delays use (the caller resolves `settings.timezone`), and limits.
pub struct Context<'a> {
    pub facts: &'a dyn Facts,
    pub tz: Tz,
    pub limits: Limits,
}

impl<'a> Context<'a> {
    pub fn new(facts: &'a dyn Facts, tz: Tz) -> Context<'a> {
        Context {
            facts,
            tz,
            limits: Limits::default(),
        }
    }
}

/// Something that happened to a run, fed to [`crate::interpreter::advance`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// Start a ready run.
    Start,
    /// A timer is due (delay, wait timeout, deferred send, continuation).
    Wake,
    /// An event of a message an earlier send of this run sent.
    Event { of: NodeId, event: String, at: i64 },
    /// The result of the send the run is waiting on.
    SendResult { node: NodeId, result: SendOutcome },
    /// The caller found `exit_when` to hold.
    Exit { reason: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendOutcome {
    Accepted {
        message_id: String,
    },
    /// Nothing was sent. `limit_reached` marks a messaging-limit or quota
    /// refusal, which `defer_on_limit` turns into a later retry.
    Refused {
        reason: String,
        limit_reached: bool,
    },
}

/// The outcome column of the workflow log (API "Runs and logs").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    Failed,
    Skipped,
    Waited,
    Resumed,
    TimedOut,
    Exited,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
            Outcome::Skipped => "skipped",
            Outcome::Waited => "waited",
            Outcome::Resumed => "resumed",
            Outcome::TimedOut => "timed_out",
            Outcome::Exited => "exited",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndStatus {
    Completed,
    Exited,
    Failed,
}

/// What the application must do after an advance, in the same transaction
/// that stores the run.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Send through the normal send path with this idempotency key, then feed
    /// back [`Input::SendResult`].
    Send {
        node: NodeId,
        idempotency_key: String,
        action: SendAction,
    },
    SetProperty {
        node: NodeId,
        property: String,
        value: Option<String>,
    },
    SetSubscription {
        node: NodeId,
        channel: Channel,
        status: SubscriptionStatus,
        legal_basis: Option<LegalBasis>,
        explanation: Option<String>,
    },
    /// A line of the workflow log; `step` is unique within the run.
    Log {
        step: u64,
        node: NodeId,
        action_type: String,
        outcome: Outcome,
        reason: Option<String>,
        message_id: Option<String>,
    },
    /// Wake the run (feed [`Input::Wake`]) at `at`.
    ScheduleWake {
        at: i64,
    },
    /// Feed the message's `events` as [`Input::Event`]; the run also sets
    /// `wake_at = until` for the timeout.
    WaitFor {
        of: NodeId,
        message_id: Option<String>,
        events: Vec<String>,
        until: i64,
    },
    Ended {
        status: EndStatus,
        reason: Option<String>,
    },
}

/// The run after an advance and what to do about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub run: Run,
    pub effects: Vec<Effect>,
}
