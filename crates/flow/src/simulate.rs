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

use crate::condition::Facts;
use crate::definition::{Definition, NodeId, SendAction};
use crate::interpreter::advance;
use crate::run::{Context, Effect, Input, Outcome, Overlay, Run, RunFacts, SendOutcome};
use chrono_tz::Tz;

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
    let mut world = Overlay::new(facts);
    let mut script: Vec<(i64, &SimEvent)> = events
        .iter()
        .map(|e| (start_at.saturating_add(e.after_ms), e))
        .collect();
    script.sort_by_key(|(at, _)| *at);
    let mut script = script.into_iter().peekable();
    let exit_holds = |world: &Overlay, run: &Run, now: i64| {
        def.settings
            .exit_when
            .as_ref()
            .is_some_and(|exit_when| exit_when.matches(&RunFacts { facts: world, run }, now))
    };

    let mut run = Run::new("simulation", def, start_at);
    let mut now = start_at;
    let exit = || Input::Exit {
        reason: EXIT_WHEN_REASON.into(),
    };
    let mut input = if exit_holds(&world, &run, now) {
        exit()
    } else {
        Input::Start
    };
    let mut in_flight: Option<(NodeId, SendAction)> = None;
    let mut steps = Vec::new();
    for _ in 0..MAX_SIMULATED_ADVANCES {
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
                Effect::SetProperty { .. } | Effect::SetSubscription { .. } => world.apply(&effect),
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
        // `exit_when` is checked as soon as the advance changed the contact (as
        // the worker's contact-change handler does), and again at the time of
        // the next input (as the worker does before every advance).
        if exit_holds(&world, &run, now) {
            input = exit();
            continue;
        }
        let next = match send_result {
            Some(result) => result,
            None => match next_input(&mut script, &run, &mut now) {
                Some(input) => input,
                None => break,
            },
        };
        input = if exit_holds(&world, &run, now) { exit() } else { next };
    }
    steps
}

/// The next scripted event or due wake, whichever comes first (an event at
/// the same instant as a wake comes first), moving virtual time to it.
fn next_input(
    script: &mut std::iter::Peekable<std::vec::IntoIter<(i64, &SimEvent)>>,
    run: &Run,
    now: &mut i64,
) -> Option<Input> {
    let next_event = script.peek().map(|(at, _)| *at);
    let event_first = match (next_event, run.wake_at) {
        (Some(at), Some(wake)) => at <= wake,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if event_first {
        let (at, event) = script.next()?;
        *now = (*now).max(at);
        return Some(Input::Event {
            of: event.of.clone(),
            event: event.event.clone(),
            at,
        });
    }
    let wake = run.wake_at?;
    *now = (*now).max(wake);
    Some(Input::Wake)
}
