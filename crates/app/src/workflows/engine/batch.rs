//! One run of a claimed batch moved: fed what happened since it last
//! moved, advanced by the interpreter, its effects carried out.

use super::writes::{OwnedLog, OwnedRunUpdate, RunLog, SendRecord};
use super::*;

pub(super) struct Batch<'a> {
    pub(super) state: &'a AppState,
    pub(super) tx: &'a mut WriteTx,
    pub(super) ws: &'a Workspace,
    pub(super) row: &'a RunRow,
    pub(super) def: &'a Definition,
    pub(super) now: i64,
    pub(super) read: &'a BatchReads,
    pub(super) out: &'a mut BatchWrites,
    pub(super) channels: &'a mut Channels,
}

impl Batch<'_> {
    pub(super) async fn advance_row(&mut self) -> AppResult<()> {
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
    pub(super) fn time_zone(&self, contact: Option<&recado_store::contacts::Contact>) -> Tz {
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
    pub(super) fn events_since(&self, run: &Run) -> Vec<Input> {
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
    pub(super) async fn send(
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
    pub(super) async fn write_now(&mut self, prepared: Prepared) -> AppResult<(String, SendOutcome)> {
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

    pub(super) async fn queue_change(&mut self, node: &str, change: WorkflowChange) -> AppResult<()> {
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

    pub(super) async fn write_back(
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

/// Refusals that `defer_on_limit` turns into a later retry.
pub(super) fn is_limit(code: &str) -> bool {
    matches!(code, "messaging_limit_reached" | "quota_exhausted")
}

/// The result of a send already made, read from its stored message.
pub(super) fn outcome_of_stored(message: &recado_store::messages::MessageRecord) -> SendOutcome {
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

pub(super) fn exit_holds(def: &Definition, facts: &Overlay, run: &Run, now: i64) -> bool {
    def.settings
        .exit_when
        .as_ref()
        .is_some_and(|c| c.matches(&RunFacts { facts, run }, now))
}

/// The key of a `VOICE_KEY_PRESSED` timeline entry.
pub(super) fn key_of(e: &recado_store::timeline::TimelineEvent) -> Option<String> {
    let details: serde_json::Value = serde_json::from_str(&e.details).ok()?;
    details["key"].as_str().map(str::to_string)
}
