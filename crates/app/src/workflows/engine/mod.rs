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

mod batch;
mod reads;
mod writes;

use batch::Batch;
use reads::BatchReads;
use writes::BatchWrites;

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
