//! Test mode: one contact walks a workflow in virtual time, sending nothing
//! (API `POST /workflows/{id}/simulate`).
//!
//! The real interpreter runs; only the world around it is simulated. Sends get
//! the outcome `outcomes` gives (usually accepted); scripted events arrive at
//! `start_at + after_ms`; timers jump virtual time forward to the next due
//! wake; properties and subscriptions the workflow sets are seen by later
//! branches; `exit_when` is checked before each advance as the worker does.
//! An event scripted for a send that has not happened yet at its time is
//! dropped, as the real engine would never see it.

use crate::condition::{EventQuery, Facts};
use crate::definition::{Definition, NodeId, SendAction};
use crate::interpreter::advance;
use crate::run::{Context, Effect, Input, Outcome, Run, RunFacts, SendOutcome};
use chrono_tz::Tz;
use recado_core::consent::{Channel, SubscriptionStatus};
use std::collections::{BTreeMap, HashMap};

/// At most this many advances per simulation, so a pathological definition
/// still answers.
pub const MAX_SIMULATED_ADVANCES: usize = 1_000;

/// The reason logged when `exit_when` ends a simulated run.
pub const EXIT_WHEN_REASON: &str = "exit_when";

/// A scripted event: `event` on the message of send node `of`, `after_ms`
/// after the simulation starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimEvent {
    pub after_ms: i64,
    pub event: String,
    pub of: NodeId,
}

/// One line of the simulated log.
#[derive(Clone, Debug, PartialEq)]
pub struct SimStep {
    pub at: i64,
    pub node_id: NodeId,
    pub action_type: String,
    pub outcome: Outcome,
    pub reason: Option<String>,
    /// For a send's log line: what would have been sent.
    pub would_send: Option<SendAction>,
}

pub fn simulate(
    def: &Definition,
    facts: &dyn Facts,
    tz: Tz,
    start_at: i64,
    events: &[SimEvent],
    outcomes: impl Fn(&SendAction) -> SendOutcome,
) -> Vec<SimStep> {
    let mut world = SimFacts {
        base: facts,
        properties: BTreeMap::new(),
        subscriptions: HashMap::new(),
    };
    let mut script: Vec<(i64, &SimEvent)> = events
        .iter()
        .map(|e| (start_at.saturating_add(e.after_ms), e))
        .collect();
    script.sort_by_key(|(at, _)| *at);
    let mut script = script.into_iter().peekable();

    let mut run = Run::new("simulation", def, start_at);
    let mut now = start_at;
    let mut input = Input::Start;
    let mut in_flight: Option<(NodeId, SendAction)> = None;
    let mut steps = Vec::new();
    for _ in 0..MAX_SIMULATED_ADVANCES {
        if let Some(exit_when) = &def.settings.exit_when {
            if exit_when.matches(
                &RunFacts {
                    facts: &world,
                    run: &run,
                },
                now,
            ) {
                input = Input::Exit {
                    reason: EXIT_WHEN_REASON.into(),
                };
            }
        }
        let step = advance(def, run, input, &Context::new(&world, tz), now);
        run = step.run;
        let mut send_result = None;
        for effect in step.effects {
            match effect {
                Effect::Send { node, action, .. } => {
                    send_result = Some(Input::SendResult {
                        node: node.clone(),
                        result: outcomes(&action),
                    });
                    in_flight = Some((node, action));
                }
                Effect::SetProperty { property, value, .. } => {
                    world.properties.insert(property, value);
                }
                Effect::SetSubscription { channel, status, .. } => {
                    world.subscriptions.insert(channel, status);
                }
                Effect::Log {
                    node,
                    action_type,
                    outcome,
                    reason,
                    ..
                } => {
                    let would_send = match &in_flight {
                        Some((sent, _)) if *sent == node && outcome != Outcome::Exited => {
                            in_flight.take().map(|(_, action)| action)
                        }
                        _ => None,
                    };
                    steps.push(SimStep {
                        at: now,
                        node_id: node,
                        action_type,
                        outcome,
                        reason,
                        would_send,
                    });
                }
                Effect::ScheduleWake { .. } | Effect::WaitFor { .. } | Effect::Ended { .. } => {}
            }
        }
        if run.status.is_ended() {
            break;
        }
        input = match send_result {
            Some(result) => result,
            None => {
                let next_event = script.peek().map(|(at, _)| *at);
                let event_first = match (next_event, run.wake_at) {
                    (Some(at), Some(wake)) => at <= wake,
                    (Some(_), None) => true,
                    (None, _) => false,
                };
                if event_first {
                    let (at, event) = script.next().expect("peeked");
                    now = now.max(at);
                    Input::Event {
                        of: event.of.clone(),
                        event: event.event.clone(),
                        at,
                    }
                } else if let Some(wake) = run.wake_at {
                    now = now.max(wake);
                    Input::Wake
                } else {
                    break;
                }
            }
        };
    }
    steps
}

/// The contact's facts with what the simulated workflow changed laid over them.
struct SimFacts<'a> {
    base: &'a dyn Facts,
    properties: BTreeMap<String, Option<String>>,
    subscriptions: HashMap<Channel, SubscriptionStatus>,
}

impl Facts for SimFacts<'_> {
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
