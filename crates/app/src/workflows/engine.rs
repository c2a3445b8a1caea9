//! The workflow engine: claims due runs in batches, feeds each what happened
//! since it last moved (events of its sends, replies, its timer, the exit
//! condition), and writes what the interpreter decided — the run, its sends,
//! its log lines and counters, contact changes (as jobs), timeline entries
//! and outbound events — in one transaction per batch. A crash before the
//! commit loses nothing: the leases run out, the runs are claimed again and
//! the same steps produce the same idempotency keys.

use super::sends::{prepare, Channels, Recipient};
use crate::messages::prepared::{Prepared, Written};
use crate::whatsapp::send::SendSource;
use crate::{AppError, AppResult, AppState};
use chrono_tz::Tz;
use recado_core::consent::Channel;
use recado_core::jobs::{Task, WorkflowChange};
use recado_flow::definition::{NodeKind, TimezoneSource};
use recado_flow::run::{EndStatus, Overlay, Parked, RunFacts};
use recado_flow::{advance, Condition, Context, Definition, Effect, Input, Outcome, Run, RunStatus, SendOutcome};
use recado_store::consent::SubscriptionRecord;
use recado_store::contacts::Contact;
use recado_store::jobs::NewJob;
use recado_store::timeline::TimelineEvent;
use recado_store::workflows::{RunRow, RunUpdate, StepLog, WorkflowSend};
use recado_store::workspaces::Workspace;
use recado_store::{OutboundRow, WriteTx};
use serde_json::{json, Map, Value};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// How long a worker holds the runs it claimed.
pub const LEASE_MS: i64 = 30_000;
/// Runs advanced per transaction.
pub const BATCH: i64 = 200;
/// Inputs one run may take in one claim (events, results, wakes).
const MAX_INPUTS: usize = 500;
/// The reason a run ends with when the exit condition holds.
pub const EXIT_WHEN_REASON: &str = "exit_when";

/// Published versions are immutable: parsed once per batch.
#[derive(Default)]
struct Versions(HashMap<(String, i64), Arc<Definition>>);

impl Versions {
    async fn get(&mut self, state: &AppState, workflow_id: &str, version: i64) -> AppResult<Arc<Definition>> {
        let key = (workflow_id.to_string(), version);
        if let Some(def) = self.0.get(&key) {
            return Ok(def.clone());
        }
        let text = state.store.workflow_version(workflow_id, version).await?;
        let value: Value = serde_json::from_str(&text).map_err(AppError::internal)?;
        let def = Arc::new(Definition::parse(&value).map_err(AppError::internal)?);
        self.0.insert(key, def.clone());
        Ok(def)
    }
}

/// Claims and advances one batch of due runs. Returns how many were claimed.
pub async fn advance_due(state: &AppState, owner: &str) -> AppResult<usize> {
    let now = state.clock.now_ms();
    let rows = state.store.claim_runs(owner, now, LEASE_MS, BATCH).await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let read = BatchReads::load(state, &rows, now).await?;
    let mut versions = Versions::default();
    let mut out = BatchWrites::default();
    let mut channels = Channels::default();
    let mut tx = state.store.write().await?;
    for row in &rows {
        let ws = &read.workspaces[&row.workspace_id];
        let def = versions.get(state, &row.workflow_id, row.version).await?;
        let mut batch = Batch {
            state,
            tx: &mut tx,
            ws,
            row,
            def: &def,
            now,
            read: &read,
            out: &mut out,
            channels: &mut channels,
        };
        batch.advance_row().await?;
    }
    // Run state first: the sends' timeline hooks that follow wake runs by
    // their stored `awaits`, as they did when each run was written at once.
    out.write_runs(&mut tx, owner, now).await?;
    out.write(&mut tx, now).await?;
    tx.commit().await?;
    for w in &out.written {
        if w.message().channel == Channel::Whatsapp {
            crate::whatsapp::send::after_written(state, w).await?;
        }
    }
    metrics::counter!("recado_workflow_runs_advanced_total").increment(rows.len() as u64);
    Ok(rows.len())
}

/// Advances due runs until none is due (tests and the worker loop).
pub async fn advance_all_due(state: &AppState, owner: &str) -> AppResult<usize> {
    let mut total = 0;
    loop {
        let n = advance_due(state, owner).await?;
        total += n;
        if n == 0 {
            return Ok(total);
        }
    }
}

/// What a claimed batch reads before it moves, a few statements for all its
/// runs: workspaces, contacts, subscriptions, the sends already recorded and
/// the timeline events since the runs entered.
struct BatchReads {
    workspaces: HashMap<String, Workspace>,
    contacts: HashMap<String, Contact>,
    subscriptions: HashMap<String, Vec<SubscriptionRecord>>,
    /// Idempotency key → message id.
    sends: HashMap<String, String>,
    /// Per contact, oldest first.
    events: HashMap<String, Vec<TimelineEvent>>,
}

impl BatchReads {
    async fn load(state: &AppState, rows: &[RunRow], _now: i64) -> AppResult<BatchReads> {
        let store = &state.store;
        let mut by_workspace: HashMap<&str, Vec<&RunRow>> = HashMap::new();
        for row in rows {
            by_workspace.entry(row.workspace_id.as_str()).or_default().push(row);
        }
        let mut read = BatchReads {
            workspaces: HashMap::new(),
            contacts: HashMap::new(),
            subscriptions: HashMap::new(),
            sends: HashMap::new(),
            events: HashMap::new(),
        };
        for (ws, runs) in by_workspace {
            read.workspaces.insert(ws.to_string(), store.workspace(ws).await?);
            let mut ids: Vec<&str> = runs.iter().map(|r| r.contact_id.as_str()).collect();
            ids.sort_unstable();
            ids.dedup();
            for contact in store.contacts_by_ids(ws, &ids).await? {
                read.contacts.insert(contact.id.to_string(), contact);
            }
            for (contact_id, record) in store.subscriptions_of_contacts(ws, &ids).await? {
                read.subscriptions.entry(contact_id).or_default().push(record);
            }
            // Runs that moved before may have sends whose events they await.
            let moved: Vec<&&RunRow> = runs.iter().filter(|r| r.state.is_some()).collect();
            if let Some(since) = moved.iter().map(|r| r.entered_at).min() {
                let mut contacts: Vec<&str> = moved.iter().map(|r| r.contact_id.as_str()).collect();
                contacts.sort_unstable();
                contacts.dedup();
                for e in store.contacts_events_since(ws, &contacts, since).await? {
                    read.events.entry(e.contact_id.clone()).or_default().push(e);
                }
            }
        }
        let run_ids: Vec<&str> = rows
            .iter()
            .filter(|r| r.state.is_some())
            .map(|r| r.id.as_str())
            .collect();
        read.sends = store.workflow_sends_of_runs(&run_ids).await?.into_iter().collect();
        Ok(read)
    }
}

/// What a batch writes besides each run's own row: queued sends, send
/// records and log lines, many rows per statement at the end of the batch.
#[derive(Default)]
struct BatchWrites {
    /// Each run's state to write back, all in a few statements.
    runs: Vec<OwnedRunUpdate>,
    outbound: Vec<OutboundRow>,
    sends: Vec<SendRecord>,
    lines: Vec<RunLog>,
    /// Sends written one by one (refusals, WhatsApp conversations).
    written: Vec<Written>,
}

struct SendRecord {
    key: String,
    workspace_id: String,
    workflow_id: String,
    version: i64,
    run_id: String,
    node_id: String,
    message_id: String,
}

struct RunLog {
    run_id: String,
    workspace_id: String,
    workflow_id: String,
    version: i64,
    contact_id: String,
    line: OwnedLog,
}

struct OwnedRunUpdate {
    id: String,
    status: RunStatus,
    node_id: String,
    wake_at: Option<i64>,
    awaits: Option<String>,
    state: String,
    ended_at: Option<i64>,
    end_reason: Option<String>,
}

impl BatchWrites {
    /// Writes back every run of the batch. A run whose lease another worker
    /// took over is not written, and the whole batch is rolled back.
    async fn write_runs(&mut self, tx: &mut WriteTx, owner: &str, now: i64) -> AppResult<()> {
        let updates: Vec<RunUpdate> = self
            .runs
            .iter()
            .map(|u| RunUpdate {
                id: &u.id,
                owner,
                status: u.status,
                node_id: &u.node_id,
                wake_at: u.wake_at,
                awaits: u.awaits.clone(),
                state: &u.state,
                ended_at: u.ended_at,
                end_reason: u.end_reason.as_deref(),
                now,
            })
            .collect();
        let written = tx.update_runs(owner, &updates).await?;
        if written != updates.len() as u64 {
            return Err(AppError::internal(format!(
                "{} of {} runs were taken over by another worker; the batch is rolled back",
                updates.len() as u64 - written,
                updates.len()
            )));
        }
        Ok(())
    }

    async fn write(&mut self, tx: &mut WriteTx, now: i64) -> AppResult<()> {
        tx.queue_outbound_many(&mut self.outbound, now).await?;
        let sends: Vec<WorkflowSend> = self
            .sends
            .iter()
            .map(|s| WorkflowSend {
                idempotency_key: &s.key,
                workspace_id: &s.workspace_id,
                workflow_id: &s.workflow_id,
                version: s.version,
                run_id: &s.run_id,
                node_id: &s.node_id,
                message_id: &s.message_id,
                at: now,
            })
            .collect();
        tx.record_workflow_sends(&sends).await?;
        let logs: Vec<StepLog> = self
            .lines
            .iter()
            .map(|l| StepLog {
                run_id: &l.run_id,
                step: l.line.step,
                workspace_id: &l.workspace_id,
                workflow_id: &l.workflow_id,
                version: l.version,
                contact_id: &l.contact_id,
                node_id: &l.line.node,
                action_type: &l.line.action_type,
                outcome: l.line.outcome,
                reason: l.line.reason.as_deref(),
                message_id: l.line.message_id.as_deref(),
                at: now,
            })
            .collect();
        tx.log_steps(&logs).await?;
        Ok(())
    }
}

struct Batch<'a> {
    state: &'a AppState,
    tx: &'a mut WriteTx,
    ws: &'a Workspace,
    row: &'a RunRow,
    def: &'a Definition,
    now: i64,
    read: &'a BatchReads,
    out: &'a mut BatchWrites,
    channels: &'a mut Channels,
}

impl Batch<'_> {
    async fn advance_row(&mut self) -> AppResult<()> {
        let (state, row, def, now) = (self.state, self.row, self.def, self.now);
        let mut run: Run = match &row.state {
            Some(text) => serde_json::from_str(text).map_err(AppError::internal)?,
            None => Run::new(row.id.clone(), def, row.entered_at),
        };
        let read: &BatchReads = self.read;
        let contact = read.contacts.get(&row.contact_id);
        let subscriptions = read
            .subscriptions
            .get(&row.contact_id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let facts = match contact {
            Some(contact) => Some(
                crate::segments::ContactFacts::from_loaded(state, contact, subscriptions, &conditions_of(def), now)
                    .await?,
            ),
            None => None,
        };
        let empty = crate::segments::ContactFacts::default();
        let mut overlay = Overlay::new(facts.as_ref().unwrap_or(&empty));
        let tz = self.time_zone(contact);
        let trigger_data: Map<String, Value> = row
            .trigger_data
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default();

        let mut inputs: VecDeque<Input> = VecDeque::new();
        if contact.is_none() {
            inputs.push_back(Input::Exit {
                reason: "contact_deleted".into(),
            });
        } else if row.state.is_none() {
            inputs.push_back(Input::Start);
        } else {
            inputs.extend(self.events_since(&run));
            inputs.push_back(Input::Wake);
        }
        let mut lines: Vec<OwnedLog> = Vec::new();
        let mut ended: Option<(EndStatus, Option<String>)> = None;
        let mut taken = 0;
        while let Some(mut input) = inputs.pop_front() {
            taken += 1;
            if taken > MAX_INPUTS || run.status.is_ended() {
                break;
            }
            if !matches!(input, Input::Exit { .. }) && exit_holds(def, &overlay, &run, now) {
                input = Input::Exit {
                    reason: EXIT_WHEN_REASON.into(),
                };
                inputs.clear();
            }
            let step = advance(def, run, input, &Context::new(&overlay, tz), now);
            run = step.run;
            for effect in step.effects {
                match effect {
                    Effect::Send {
                        node,
                        idempotency_key,
                        action,
                    } => {
                        let result = match contact {
                            Some(contact) => {
                                let to = Recipient {
                                    workspace: self.ws,
                                    contact,
                                    trigger_data: &trigger_data,
                                    subscriptions: Some(subscriptions),
                                    source: SendSource::Workflow,
                                };
                                self.send(&to, &node, &idempotency_key, &action).await?
                            }
                            None => SendOutcome::Refused {
                                reason: "contact_deleted".into(),
                                limit_reached: false,
                            },
                        };
                        inputs.push_front(Input::SendResult { node, result });
                    }
                    Effect::SetProperty { node, property, value } => {
                        let change = WorkflowChange::Property {
                            property: property.clone(),
                            value: value.clone(),
                        };
                        overlay.apply(&Effect::SetProperty {
                            node: node.clone(),
                            property,
                            value,
                        });
                        self.queue_change(node.as_str(), change).await?;
                    }
                    Effect::SetSubscription {
                        node,
                        channel,
                        status,
                        legal_basis,
                        explanation,
                    } => {
                        let change = WorkflowChange::Subscription {
                            channel,
                            status,
                            legal_basis,
                            explanation: explanation.clone(),
                        };
                        overlay.apply(&Effect::SetSubscription {
                            node: node.clone(),
                            channel,
                            status,
                            legal_basis,
                            explanation,
                        });
                        self.queue_change(node.as_str(), change).await?;
                    }
                    Effect::Log {
                        step,
                        node,
                        action_type,
                        outcome,
                        reason,
                        message_id,
                    } => lines.push(OwnedLog {
                        step: step as i64,
                        node: node.as_str().to_string(),
                        action_type,
                        outcome,
                        reason,
                        message_id,
                    }),
                    Effect::Ended { status, reason } => ended = Some((status, reason)),
                    Effect::ScheduleWake { .. } | Effect::WaitFor { .. } => {}
                }
            }
        }
        self.write_back(&run, &lines, ended).await
    }

    /// The time zone delays use: the workspace's, or the contact's
    /// `timezone` property when the definition asks for it and it reads.
    fn time_zone(&self, contact: Option<&recado_store::contacts::Contact>) -> Tz {
        let workspace: Tz = self.ws.timezone.parse().unwrap_or(chrono_tz::UTC);
        match self.def.settings.timezone {
            TimezoneSource::Workspace => workspace,
            TimezoneSource::Contact => contact
                .and_then(|c| c.properties.get("timezone"))
                .and_then(|t| t.parse().ok())
                .unwrap_or(workspace),
        }
    }

    /// What happened to the run's sends since it entered: their message
    /// events, and the contact's replies, each credited to the latest send
    /// on its channel made before it.
    fn events_since(&self, run: &Run) -> Vec<Input> {
        let sends: Vec<(&str, &str, Channel)> = run
            .sends
            .iter()
            .filter_map(|(node, record)| {
                let message_id = record.message_id.as_deref()?;
                let channel = match self.def.node(node.as_str()).map(|n| &n.kind) {
                    Some(NodeKind::Send(send)) => send.action.channel(),
                    _ => return None,
                };
                Some((node.as_str(), message_id, channel))
            })
            .collect();
        if sends.is_empty() {
            return Vec::new();
        }
        let events = self
            .read
            .events
            .get(&self.row.contact_id)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter(|e| e.at >= run.entered_at);
        let mut inputs = Vec::new();
        for e in events {
            let Some(message_id) = e.message_id.as_deref() else {
                continue;
            };
            if let Some((node, _, _)) = sends.iter().find(|(_, m, _)| *m == message_id) {
                // A key of an IVR call is also offered under its own name
                // first, so a wait on `VOICE_KEY_PRESSED:2` takes it before
                // a wait on any key would.
                if e.kind == "VOICE_KEY_PRESSED" {
                    if let Some(key) = key_of(e) {
                        inputs.push(Input::Event {
                            of: recado_flow::NodeId::new(*node),
                            event: recado_flow::events::key_pressed_event(&key),
                            at: e.at,
                        });
                    }
                }
                inputs.push(Input::Event {
                    of: recado_flow::NodeId::new(*node),
                    event: e.kind.clone(),
                    at: e.at,
                });
                continue;
            }
            let reply = match e.kind.as_str() {
                "SMS_RESPONSE" | "SMS_UNSUBSCRIBED" => Some((Channel::Sms, e.kind.clone())),
                "WHATSAPP_RECEIVED" => Some((Channel::Whatsapp, "WHATSAPP_REPLIED".to_string())),
                _ => None,
            };
            if let Some((channel, event)) = reply {
                // Ids sort by creation: the send just before the reply.
                let answered = sends
                    .iter()
                    .filter(|(_, m, c)| *c == channel && *m < message_id)
                    .max_by_key(|(_, m, _)| *m);
                if let Some((node, _, _)) = answered {
                    inputs.push(Input::Event {
                        of: recado_flow::NodeId::new(*node),
                        event,
                        at: e.at,
                    });
                }
            }
        }
        inputs
    }

    /// Sends once per idempotency key: a step carried out again after a
    /// crash finds the message it made.
    async fn send(
        &mut self,
        to: &Recipient<'_>,
        node: &recado_flow::NodeId,
        key: &str,
        action: &recado_flow::SendAction,
    ) -> AppResult<SendOutcome> {
        if let Some(message_id) = self.read.sends.get(key) {
            let message = self.state.store.message(&self.row.workspace_id, message_id).await?;
            return Ok(outcome_of_stored(&message));
        }
        let prepared = match prepare(self.state, to, action, self.channels).await {
            Ok(p) => p,
            Err(e) if e.is_internal() => return Err(e),
            Err(e) => {
                return Ok(SendOutcome::Refused {
                    reason: e.code.to_string(),
                    limit_reached: false,
                })
            }
        };
        let (message_id, outcome) = match prepared {
            // Queued with nothing to check in the transaction: written with
            // the rest of the batch, many rows per statement.
            Prepared::Queued(send) => match send.into_outbound_row() {
                Ok(row) => {
                    let id = row.message.id.to_string();
                    self.out.outbound.push(row);
                    (id.clone(), SendOutcome::Accepted { message_id: id })
                }
                Err(send) => self.write_now(Prepared::Queued(send)).await?,
            },
            refused => self.write_now(refused).await?,
        };
        self.out.sends.push(SendRecord {
            key: key.to_string(),
            workspace_id: self.row.workspace_id.clone(),
            workflow_id: self.row.workflow_id.clone(),
            version: self.row.version,
            run_id: self.row.id.clone(),
            node_id: node.as_str().to_string(),
            message_id,
        });
        Ok(outcome)
    }

    /// Writes a send whose outcome is only known inside the transaction
    /// (a WhatsApp conversation against the limits) or a refusal.
    async fn write_now(&mut self, prepared: Prepared) -> AppResult<(String, SendOutcome)> {
        let written = prepared.write(self.tx, self.now).await?;
        let message_id = written.message().id.to_string();
        let outcome = match &written {
            Written::Queued(m) => SendOutcome::Accepted {
                message_id: m.id.to_string(),
            },
            Written::Refused(_, refusal) => SendOutcome::Refused {
                reason: refusal.code().to_string(),
                limit_reached: is_limit(refusal.code()),
            },
        };
        self.out.written.push(written);
        Ok((message_id, outcome))
    }

    async fn queue_change(&mut self, node: &str, change: WorkflowChange) -> AppResult<()> {
        let job = NewJob {
            task: Task::WorkflowContactChange {
                workspace_id: self.row.workspace_id.clone(),
                contact_id: self.row.contact_id.clone(),
                run_id: self.row.id.clone(),
                node_id: node.to_string(),
                change,
            },
            workspace_id: Some(&self.row.workspace_id),
            run_at: self.now,
            max_attempts: 8,
        };
        self.tx.enqueue(&job, self.now).await?;
        Ok(())
    }

    async fn write_back(
        &mut self,
        run: &Run,
        lines: &[OwnedLog],
        ended: Option<(EndStatus, Option<String>)>,
    ) -> AppResult<()> {
        let row = self.row;
        let state_json = serde_json::to_string(run).map_err(AppError::internal)?;
        let status = match run.status {
            RunStatus::Ready | RunStatus::Running => RunStatus::Waiting,
            other => other,
        };
        let awaits = awaits_of(self.def, run);
        self.out.runs.push(OwnedRunUpdate {
            id: row.id.clone(),
            status,
            node_id: run.node.as_str().to_string(),
            wake_at: if status.is_ended() { None } else { run.wake_at },
            awaits,
            state: state_json,
            ended_at: status.is_ended().then_some(self.now),
            end_reason: run.end_reason.clone(),
        });
        for l in lines {
            self.out.lines.push(RunLog {
                run_id: row.id.clone(),
                workspace_id: row.workspace_id.clone(),
                workflow_id: row.workflow_id.clone(),
                version: row.version,
                contact_id: row.contact_id.clone(),
                line: l.clone(),
            });
        }
        for l in lines.iter().filter(|l| l.outcome == Outcome::Failed) {
            let event = json!({
                "workflow_id": row.workflow_id, "run_id": row.id, "contact_id": row.contact_id,
                "version": row.version, "node_id": l.node, "action_type": l.action_type,
                "reason": l.reason, "at": recado_core::clock::to_rfc3339(self.now),
            });
            self.tx
                .emit(&row.workspace_id, "workflow.action.failed", &event, self.now)
                .await?;
        }
        if let Some((end, reason)) = ended {
            let kind = match end {
                EndStatus::Completed => "WORKFLOW_COMPLETED",
                EndStatus::Exited => "WORKFLOW_EXITED",
                EndStatus::Failed => "WORKFLOW_FAILED",
            };
            let runs = [(row.id.clone(), row.contact_id.clone())];
            self.tx
                .run_timeline(
                    &row.workspace_id,
                    &row.workflow_id,
                    kind,
                    self.now,
                    &runs,
                    reason.as_deref(),
                )
                .await?;
            let event = json!({
                "workflow_id": row.workflow_id, "run_id": row.id, "contact_id": row.contact_id,
                "version": row.version, "status": status.as_str(), "end_reason": reason,
                "at": recado_core::clock::to_rfc3339(self.now),
            });
            self.tx
                .emit(&row.workspace_id, "workflow.run.completed", &event, self.now)
                .await?;
        }
        Ok(())
    }
}

#[derive(Clone)]
struct OwnedLog {
    step: i64,
    node: String,
    action_type: String,
    outcome: Outcome,
    reason: Option<String>,
    message_id: Option<String>,
}

/// Refusals that `defer_on_limit` turns into a later retry.
fn is_limit(code: &str) -> bool {
    matches!(code, "messaging_limit_reached" | "quota_exhausted")
}

/// The result of a send already made, read from its stored message.
fn outcome_of_stored(message: &recado_store::messages::MessageRecord) -> SendOutcome {
    if message.status.as_str() == "not_sent" {
        let reason = message.error_code.clone().unwrap_or_else(|| "not_sent".into());
        SendOutcome::Refused {
            limit_reached: is_limit(&reason),
            reason,
        }
    } else {
        SendOutcome::Accepted {
            message_id: message.id.to_string(),
        }
    }
}

fn exit_holds(def: &Definition, facts: &Overlay, run: &Run, now: i64) -> bool {
    def.settings
        .exit_when
        .as_ref()
        .is_some_and(|c| c.matches(&RunFacts { facts, run }, now))
}

/// Every condition a run of the definition may evaluate, so the contact's
/// facts are loaded once for all of them.
pub fn conditions_of(def: &Definition) -> Condition {
    let mut all: Vec<Condition> = def.settings.exit_when.iter().cloned().collect();
    for node in def.nodes.values() {
        if let NodeKind::Branch(branch) = &node.kind {
            all.push(branch.condition.clone());
        }
    }
    Condition::All(all)
}

/// The key of a `VOICE_KEY_PRESSED` timeline entry.
fn key_of(e: &recado_store::timeline::TimelineEvent) -> Option<String> {
    let details: serde_json::Value = serde_json::from_str(&e.details).ok()?;
    details["key"].as_str().map(str::to_string)
}

/// The events that wake a parked run before its timer: those its wait
/// awaits (a WhatsApp reply is recorded as `WHATSAPP_RECEIVED`), and `EXIT`
/// and `SUBSCRIPTION_CHANGED` (contact changes) when the workflow has an exit
/// condition.
pub fn awaits_of(def: &Definition, run: &Run) -> Option<String> {
    if run.status.is_ended() {
        return None;
    }
    let mut names: Vec<&str> = Vec::new();
    if let Some(Parked::Event { events, .. }) = &run.parked {
        for e in events {
            names.push(recado_flow::events::recorded_name(e));
            if e == "WHATSAPP_REPLIED" {
                names.push("WHATSAPP_RECEIVED");
            }
        }
    }
    if def.settings.exit_when.is_some() {
        names.push("EXIT");
        names.push("SUBSCRIPTION_CHANGED");
    }
    (!names.is_empty()).then(|| format!(",{},", names.join(",")))
}
