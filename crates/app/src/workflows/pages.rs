//! What the web pages read of workflows that the API does not: every
//! workflow with its run counts, the definition a workflow's page draws,
//! and a contact's runs across workflows.

use super::service::{current_definition, get};
use crate::{AppError, AppResult, AppState};
use recado_flow::Definition;
use recado_store::workflows::{ContactRun, StatusCounts, WorkflowRecord};
use serde_json::Value;
use std::collections::HashMap;

/// How many workflows the list shows.
pub const LIST_LIMIT: i64 = 500;

/// The workspace's workflows, oldest first, each with its runs by status.
pub async fn list_with_counts(state: &AppState, workspace_id: &str) -> AppResult<Vec<(WorkflowRecord, StatusCounts)>> {
    let workflows = state.store.workflows(workspace_id, None, LIST_LIMIT).await?;
    let mut counts: HashMap<String, StatusCounts> = HashMap::new();
    for c in state.store.workflow_status_counts(workspace_id).await? {
        counts.entry(c.workflow_id).or_default().add(c.status, c.n);
    }
    Ok(workflows
        .into_iter()
        .map(|w| {
            let c = counts.remove(&w.id).unwrap_or_default();
            (w, c)
        })
        .collect())
}

/// A workflow's runs by status.
pub async fn counts_of(state: &AppState, workflow_id: &str) -> AppResult<StatusCounts> {
    let mut counts = StatusCounts::default();
    for c in state.store.run_counts(workflow_id).await? {
        counts.add(c.status, c.n);
    }
    Ok(counts)
}

/// The draft as saved (it was validated then).
pub fn draft_definition(workflow: &WorkflowRecord) -> AppResult<Definition> {
    let value: Value = serde_json::from_str(&workflow.draft).map_err(AppError::internal)?;
    Definition::parse(&value).map_err(AppError::internal)
}

/// The definition a workflow's page shows: the published version runs
/// start on, or the draft before the first publish (version None).
pub async fn shown_definition(state: &AppState, workflow: &WorkflowRecord) -> AppResult<(Option<i64>, Definition)> {
    match current_definition(state, workflow).await? {
        Some((version, def)) => Ok((Some(version), def)),
        None => Ok((None, draft_definition(workflow)?)),
    }
}

/// Active workflows a contact can be enrolled in by hand.
pub async fn enrollable(state: &AppState, workspace_id: &str) -> AppResult<Vec<WorkflowRecord>> {
    Ok(state.store.active_workflows(workspace_id).await?)
}

/// How many of a contact's runs its page lists.
pub const CONTACT_RUNS: i64 = 50;

/// The contact's runs of every workflow, newest first.
pub async fn contact_runs(state: &AppState, workspace_id: &str, contact_id: &str) -> AppResult<Vec<ContactRun>> {
    Ok(state.store.contact_runs(workspace_id, contact_id, CONTACT_RUNS).await?)
}

/// A workflow of the workspace (404 otherwise).
pub async fn workflow(state: &AppState, workspace_id: &str, id: &str) -> AppResult<WorkflowRecord> {
    get(state, workspace_id, id).await
}
