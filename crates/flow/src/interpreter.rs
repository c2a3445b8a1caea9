//! The pure interpreter: one input moves a run along its definition until it
//! parks or ends, and says what the application must do ([`Effect`]s).
//!
//! Why it is safe to redeliver anything: every transition increments
//! `run.step`, and a parked run names exactly the input that moves it
//! ([`Parked`]). An input that does not fit (a wake before its time, a result
//! for another send, an event nobody waits for, anything after the end) changes
//! nothing and emits nothing, so a duplicated or late delivery is a no-op and
//! the same send is never asked for twice.
//!
//! * **Sends** emit [`Effect::Send`] with the key `<run id>:<step>:<node id>` and
//!   park until [`Input::SendResult`] for that node. Accepted: the message id is
//!   recorded and the run goes to `next`. Refused: with `defer_on_limit` and a
//!   limit refusal the run retries after [`crate::run::Limits::defer_retry_ms`]
//!   (a new attempt, a new key); otherwise it follows `on_failure`, or fails
//!   with the refusal's reason. A final refusal is recorded as the channel's
//!   `*_NOT_SENT` event of that send, so branches can test it.
//! * **Waits** resume at once when the awaited send already has one of the
//!   events; otherwise they park until a matching [`Input::Event`] whose time is
//!   not after the deadline, or a wake at the deadline (`on.timeout`).
//! * **Loops** are bounded by `max_visits` (entering a node more often fails
//!   the run with reason `max_visits`) and each advance by
//!   `max_steps_per_advance` (the run parks with a wake at `now`).
//! * **Time** never goes backwards: `now` earlier than the run's last advance
//!   is taken as that last advance.

use crate::calendar::{parse_instant, TimeOfDay};
use crate::definition::{Definition, Node, NodeId, NodeKind, SendNode, WaitEvent, TIMEOUT_KEY};
use crate::duration::IsoDuration;
use crate::run::{
    Context, Effect, EndStatus, Input, Outcome, Overlay, Parked, RecordedEvent, Run, RunFacts, RunStatus, SendOutcome,
    SendRecord, Step,
};
use crate::schedule::next_fire;
use recado_core::delivery::{timeline_kind, OutboundStatus};

/// Applies `input` to `run` at `now` (ms since the epoch).
pub fn advance(def: &Definition, run: Run, input: Input, ctx: &Context, now: i64) -> Step {
    let now = now.max(run.last_advanced_at);
    if run.status.is_ended() {
        return Step {
            run,
            effects: Vec::new(),
        };
    }
    let mut machine = Machine {
        def,
        ctx,
        now,
        entered: 0,
        written: Overlay::new(ctx.facts),
        run: run.clone(),
        effects: Vec::new(),
    };
    let moved = match input {
        // A ready run (or one the store marked running before its first
        // advance) has nothing parked; a parked run moves only by what it awaits.
        Input::Start | Input::Wake
            if run.parked.is_none() && matches!(run.status, RunStatus::Ready | RunStatus::Running) =>
        {
            let start = machine.run.node.clone();
            machine.walk(start, true);
            true
        }
        Input::Start => false,
        Input::Wake => machine.on_wake(),
        Input::Event { of, event, at } => machine.on_event(of, event, at),
        Input::SendResult { node, result } => machine.on_send_result(node, result),
        Input::Exit { reason } => machine.on_exit(reason),
    };
    if !moved {
        return Step {
            run,
            effects: Vec::new(),
        };
    }
    machine.run.last_advanced_at = now;
    Step {
        run: machine.run,
        effects: machine.effects,
    }
}

struct Machine<'a> {
    def: &'a Definition,
    ctx: &'a Context<'a>,
    now: i64,
    /// Nodes entered during this advance, against the step limit.
    entered: u32,
    /// The contact's facts with this advance's own changes.
    written: Overlay<'a>,
    run: Run,
    effects: Vec<Effect>,
}

/// What executing a node leads to.
enum Flow {
    Next(NodeId),
    Stop,
}

impl<'a> Machine<'a> {
    // ---- inputs --------------------------------------------------------------

    fn on_wake(&mut self) -> bool {
        let Some(parked) = self.run.parked.clone() else {
            return false;
        };
        match parked {
            Parked::Delay { until } if self.now >= until => {
                let node = self.run.node.clone();
                self.log(&node, Outcome::Resumed, None, None);
                match self.node(&node).map(|n| &n.kind) {
                    Some(NodeKind::Delay(delay)) => {
                        let next = delay.next.clone();
                        self.walk(next, true);
                    }
                    _ => self.end(EndStatus::Failed, Some(invalid_definition("the delay node is gone"))),
                }
                true
            }
            Parked::DeferredSend { until } if self.now >= until => {
                let node = self.run.node.clone();
                self.walk(node, false);
                true
            }
            Parked::Continue { at } if self.now >= at => {
                let node = self.run.node.clone();
                self.walk(node, true);
                true
            }
            Parked::Event { until, .. } if self.now >= until => {
                self.time_out();
                true
            }
            _ => false,
        }
    }

    fn on_event(&mut self, of: NodeId, event: String, at: i64) -> bool {
        let Some(record) = self.run.sends.get_mut(&of) else {
            return false;
        };
        let recorded = RecordedEvent { event, at };
        let is_new = !record.events.contains(&recorded);
        if is_new {
            record.events.push(recorded.clone());
        }
        let awaited = match &self.run.parked {
            Some(Parked::Event {
                of: waited,
                events,
                until,
            }) if *waited == of && events.contains(&recorded.event) => Some(*until),
            _ => None,
        };
        match awaited {
            Some(until) if recorded.at <= until => {
                self.resume_on(&recorded.event);
                true
            }
            // The event came after the deadline: the wait had already timed out.
            Some(until) if self.now >= until => {
                self.time_out();
                true
            }
            _ => is_new,
        }
    }

    fn on_send_result(&mut self, node: NodeId, result: SendOutcome) -> bool {
        match &self.run.parked {
            Some(Parked::SendResult { node: awaited, .. }) if *awaited == node => {}
            _ => return false,
        }
        self.run.parked = None;
        let Some(NodeKind::Send(send)) = self.node(&node).map(|n| &n.kind) else {
            self.end(EndStatus::Failed, Some(invalid_definition("the send node is gone")));
            return true;
        };
        let send: &SendNode = send;
        match result {
            SendOutcome::Accepted { message_id } => {
                self.run.sends.insert(
                    node.clone(),
                    SendRecord {
                        message_id: Some(message_id.clone()),
                        events: Vec::new(),
                    },
                );
                self.log(&node, Outcome::Ok, None, Some(message_id));
                self.walk(send.routing.next.clone(), true);
            }
            SendOutcome::Refused { reason, limit_reached } => {
                if limit_reached && send.routing.defer_on_limit {
                    self.log(&node, Outcome::Waited, Some(reason), None);
                    let until = self.now.saturating_add(self.ctx.limits.defer_retry_ms.max(1));
                    self.park_on_timer(Parked::DeferredSend { until }, until);
                    return true;
                }
                let not_sent = timeline_kind(send.action.channel(), OutboundStatus::NotSent);
                self.run.sends.insert(
                    node.clone(),
                    SendRecord {
                        message_id: None,
                        events: vec![RecordedEvent {
                            event: not_sent.to_string(),
                            at: self.now,
                        }],
                    },
                );
                self.log(&node, Outcome::Failed, Some(reason.clone()), None);
                match &send.routing.on_failure {
                    Some(on_failure) => self.walk(on_failure.clone(), true),
                    None => self.end(EndStatus::Failed, Some(reason)),
                }
            }
        }
        true
    }

    fn on_exit(&mut self, reason: String) -> bool {
        let node = self.run.node.clone();
        self.log(&node, Outcome::Exited, Some(reason.clone()), None);
        self.end(EndStatus::Exited, Some(reason));
        true
    }

    // ---- walking the graph ------------------------------------------------------

    /// Enters `id` and the nodes after it until the run parks or ends.
    /// `count_visit` is false only for a deferred send's retry, which is the
    /// same visit.
    fn walk(&mut self, mut id: NodeId, mut count_visit: bool) {
        self.run.parked = None;
        self.run.wake_at = None;
        self.run.status = RunStatus::Running;
        loop {
            if self.entered >= self.ctx.limits.max_steps_per_advance.max(1) {
                self.run.node = id;
                let at = self.now;
                self.park_on_timer(Parked::Continue { at }, at);
                return;
            }
            self.entered += 1;
            self.run.node = id.clone();
            let Some(node) = self.node(&id) else {
                self.end(EndStatus::Failed, Some(invalid_definition(&format!("no node `{id}`"))));
                return;
            };
            if count_visit {
                let visits = self.run.visits.entry(id.clone()).or_insert(0);
                *visits += 1;
                if node.max_visits.is_some_and(|max| *visits > max) {
                    self.log(&id, Outcome::Failed, Some("max_visits".into()), None);
                    self.end(EndStatus::Failed, Some("max_visits".into()));
                    return;
                }
            }
            count_visit = true;
            match self.execute(&id, node) {
                Flow::Next(next) => id = next,
                Flow::Stop => return,
            }
        }
    }

    fn execute(&mut self, id: &NodeId, node: &Node) -> Flow {
        match &node.kind {
            NodeKind::Send(send) => {
                self.run.step += 1;
                let idempotency_key = format!("{}:{}:{}", self.run.id, self.run.step, id);
                self.effects.push(Effect::Send {
                    node: id.clone(),
                    idempotency_key: idempotency_key.clone(),
                    action: send.action.clone(),
                });
                self.run.status = RunStatus::Waiting;
                self.run.parked = Some(Parked::SendResult {
                    node: id.clone(),
                    idempotency_key,
                });
                Flow::Stop
            }
            NodeKind::SetProperty(n) => {
                self.emit_change(Effect::SetProperty {
                    node: id.clone(),
                    property: n.property.clone(),
                    value: n.value.clone(),
                });
                self.log(id, Outcome::Ok, None, None);
                Flow::Next(n.next.clone())
            }
            NodeKind::SetSubscription(n) => {
                self.emit_change(Effect::SetSubscription {
                    node: id.clone(),
                    channel: n.channel,
                    status: n.status,
                    legal_basis: n.legal_basis,
                    explanation: n.explanation.clone(),
                });
                self.log(id, Outcome::Ok, None, None);
                Flow::Next(n.next.clone())
            }
            NodeKind::Delay(delay) => {
                let until = match self.delay_end(delay) {
                    Ok(until) => until,
                    Err(problem) => {
                        self.end(EndStatus::Failed, Some(invalid_definition(&problem)));
                        return Flow::Stop;
                    }
                };
                if until <= self.now {
                    self.log(id, Outcome::Skipped, Some("already_due".into()), None);
                    return Flow::Next(delay.next.clone());
                }
                self.log(id, Outcome::Waited, None, None);
                self.park_on_timer(Parked::Delay { until }, until);
                Flow::Stop
            }
            NodeKind::WaitEvent(wait) => self.enter_wait(id, wait),
            NodeKind::Branch(branch) => {
                let facts = RunFacts {
                    facts: &self.written,
                    run: &self.run,
                };
                let holds = branch.condition.matches(&facts, self.now);
                let (way, next) = if holds {
                    ("then", &branch.then)
                } else {
                    ("else", &branch.otherwise)
                };
                self.log(id, Outcome::Ok, Some(way.into()), None);
                Flow::Next(next.clone())
            }
            NodeKind::End => {
                self.log(id, Outcome::Ok, None, None);
                self.end(EndStatus::Completed, None);
                Flow::Stop
            }
        }
    }

    fn delay_end(&self, delay: &crate::definition::Delay) -> Result<i64, String> {
        if let Some(duration) = &delay.duration {
            let duration = IsoDuration::parse(duration).map_err(|e| e.to_string())?;
            return Ok(self.now.saturating_add(duration.as_millis()));
        }
        if let Some(time) = &delay.until_time {
            let time = TimeOfDay::parse(time)?;
            return Ok(next_fire(time, &[], self.ctx.tz, self.now));
        }
        if let Some(date) = &delay.until_date {
            return parse_instant(date);
        }
        Err("a delay without duration, until_time or until_date".into())
    }

    fn enter_wait(&mut self, id: &NodeId, wait: &WaitEvent) -> Flow {
        let timeout = match wait.timeout.as_deref().map(IsoDuration::parse) {
            Some(Ok(timeout)) => timeout,
            _ => {
                self.end(
                    EndStatus::Failed,
                    Some(invalid_definition("a wait without a valid timeout")),
                );
                return Flow::Stop;
            }
        };
        let record = self.run.sends.get(&wait.of);
        let already = record.and_then(|record| {
            record
                .events
                .iter()
                .filter(|e| wait.events.contains(&e.event))
                .min_by_key(|e| e.at)
                .map(|e| e.event.clone())
        });
        if let Some(event) = already {
            return match wait.on.get(&event) {
                Some(next) => {
                    self.log(id, Outcome::Resumed, Some(event), None);
                    Flow::Next(next.clone())
                }
                None => {
                    self.end(EndStatus::Failed, Some(invalid_definition("no target for the event")));
                    Flow::Stop
                }
            };
        }
        let message_id = record.and_then(|r| r.message_id.clone());
        let until = self.now.saturating_add(timeout.as_millis());
        self.log(id, Outcome::Waited, None, None);
        self.effects.push(Effect::WaitFor {
            of: wait.of.clone(),
            message_id,
            events: wait.events.clone(),
            until,
        });
        self.run.status = RunStatus::Waiting;
        self.run.wake_at = Some(until);
        self.run.parked = Some(Parked::Event {
            of: wait.of.clone(),
            events: wait.events.clone(),
            until,
        });
        Flow::Stop
    }

    /// A parked wait moves on to the target of `event`.
    fn resume_on(&mut self, event: &str) {
        self.leave_wait(Some(event), Outcome::Resumed);
    }

    fn time_out(&mut self) {
        self.leave_wait(None, Outcome::TimedOut);
    }

    fn leave_wait(&mut self, event: Option<&str>, outcome: Outcome) {
        let node = self.run.node.clone();
        let target = match self.node(&node).map(|n| &n.kind) {
            Some(NodeKind::WaitEvent(wait)) => wait.on.get(event.unwrap_or(TIMEOUT_KEY)).cloned(),
            _ => None,
        };
        self.log(&node, outcome, event.map(str::to_string), None);
        match target {
            Some(next) => self.walk(next, true),
            None => self.end(EndStatus::Failed, Some(invalid_definition("no target for the wait"))),
        }
    }

    // ---- bookkeeping -------------------------------------------------------------

    fn node(&self, id: &NodeId) -> Option<&'a Node> {
        self.def.nodes.get(id)
    }

    fn log(&mut self, node: &NodeId, outcome: Outcome, reason: Option<String>, message_id: Option<String>) {
        self.run.step += 1;
        let action_type = self.node(node).map_or("unknown", Node::type_name).to_string();
        self.effects.push(Effect::Log {
            step: self.run.step,
            node: node.clone(),
            action_type,
            outcome,
            reason,
            message_id,
        });
    }

    fn emit_change(&mut self, effect: Effect) {
        self.written.apply(&effect);
        self.effects.push(effect);
    }

    fn park_on_timer(&mut self, parked: Parked, at: i64) {
        self.run.status = RunStatus::Waiting;
        self.run.parked = Some(parked);
        self.run.wake_at = Some(at);
        self.effects.push(Effect::ScheduleWake { at });
    }

    fn end(&mut self, status: EndStatus, reason: Option<String>) {
        self.run.status = match status {
            EndStatus::Completed => RunStatus::Completed,
            EndStatus::Exited => RunStatus::Exited,
            EndStatus::Failed => RunStatus::Failed,
        };
        self.run.parked = None;
        self.run.wake_at = None;
        self.run.end_reason = reason.clone();
        self.effects.push(Effect::Ended { status, reason });
    }
}

fn invalid_definition(problem: &str) -> String {
    format!("invalid_definition: {problem}")
}
