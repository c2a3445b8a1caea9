//! Workflows as an admin manages them: drafts validated on every save,
//! published as immutable versions, activated (triggers installed, existing
//! segment members enrolled if asked), paused, resumed, deleted.

use super::references::Workspace as Refs;
use crate::{AppError, AppResult, AppState};
use rand::RngCore;
use recado_core::ids::{new_id, IdKind};
use recado_core::jobs::Task;
use recado_flow::condition::Leaf;
use recado_flow::definition::Trigger;
use recado_flow::events::MEMBERSHIP_EVENTS;
use recado_flow::schedule::{next_fire, parse_schedule};
use recado_flow::{validate, Definition, LifecycleAction, LifecycleError, WorkflowStatus};
use recado_store::jobs::NewJob;
use recado_store::workflows::{NewWorkflow, WorkflowRecord};
use recado_store::StoreError;
use serde_json::Value;

/// A workflow with its draft read back, and the webhook secret when it was
/// just made (shown once).
pub struct Saved {
    pub workflow: WorkflowRecord,
    pub webhook_secret: Option<String>,
}

fn not_found(e: StoreError) -> AppError {
    match e {
        StoreError::NotFound => AppError::not_found("workflow"),
        other => other.into(),
    }
}

/// Parses and validates a definition against the workspace: 422
/// `invalid_workflow` naming the node (or `triggers[i]`, `settings.…`).
pub async fn check_definition(state: &AppState, workspace_id: &str, value: &Value) -> AppResult<Definition> {
    let def = Definition::parse(value).map_err(|e| AppError::invalid("invalid_workflow", e.field, e.message))?;
    let refs = Refs::read(state, workspace_id, &def).await?;
    validate(&def, &refs).map_err(|e| AppError::invalid("invalid_workflow", e.field, e.message))?;
    Ok(def)
}

pub fn check_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::invalid(
            "invalid_name",
            "name",
            "give the workflow a name of 1 to 200 characters",
        ));
    }
    Ok(name.to_string())
}

fn has_webhook(def: &Definition) -> bool {
    def.triggers.iter().any(|t| matches!(t, Trigger::Webhook(_)))
}

fn new_secret() -> String {
    let mut bytes = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("whsec_{}", hex::encode(bytes))
}

fn seal(state: &AppState, secret: &str) -> String {
    state.secrets.seal(&serde_json::json!({ "webhook_secret": secret }))
}

/// The webhook secret of a workflow, unsealed.
pub fn webhook_secret(state: &AppState, workflow: &WorkflowRecord) -> AppResult<Option<String>> {
    let Some(sealed) = &workflow.webhook_secret else {
        return Ok(None);
    };
    let open = state.secrets.open(sealed).map_err(AppError::internal)?;
    Ok(open["webhook_secret"].as_str().map(str::to_string))
}

pub async fn create(state: &AppState, workspace_id: &str, name: &str, definition: &Value) -> AppResult<Saved> {
    let name = check_name(name)?;
    let def = check_definition(state, workspace_id, definition).await?;
    let secret = has_webhook(&def).then(new_secret);
    let sealed = secret.as_deref().map(|s| seal(state, s));
    let id = new_id(IdKind::Workflow);
    let draft = serde_json::to_string(&def).map_err(AppError::internal)?;
    state
        .store
        .insert_workflow(&NewWorkflow {
            id: &id,
            workspace_id,
            name: &name,
            draft: &draft,
            webhook_secret: sealed.as_deref(),
            now: state.clock.now_ms(),
        })
        .await?;
    Ok(Saved {
        workflow: get(state, workspace_id, &id).await?,
        webhook_secret: secret,
    })
}

pub async fn get(state: &AppState, workspace_id: &str, id: &str) -> AppResult<WorkflowRecord> {
    state.store.workflow(workspace_id, id).await.map_err(not_found)
}

/// Replaces the draft (and the name when given). A draft that gains a
/// webhook trigger gets its secret now, shown once.
pub async fn update_draft(
    state: &AppState,
    workspace_id: &str,
    id: &str,
    name: Option<&str>,
    definition: &Value,
) -> AppResult<Saved> {
    let current = get(state, workspace_id, id).await?;
    let name = name.map(check_name).transpose()?;
    let def = check_definition(state, workspace_id, definition).await?;
    let draft = serde_json::to_string(&def).map_err(AppError::internal)?;
    state
        .store
        .update_workflow(workspace_id, id, name.as_deref(), Some(&draft), state.clock.now_ms())
        .await
        .map_err(not_found)?;
    let mut secret = None;
    if has_webhook(&def) && current.webhook_secret.is_none() {
        let s = new_secret();
        state
            .store
            .set_workflow_secret(workspace_id, id, &seal(state, &s))
            .await?;
        secret = Some(s);
    }
    Ok(Saved {
        workflow: get(state, workspace_id, id).await?,
        webhook_secret: secret,
    })
}

/// Publishes the draft as the next immutable version. It is validated again:
/// a channel or template may have gone since it was saved.
pub async fn publish(state: &AppState, workspace_id: &str, id: &str) -> AppResult<i64> {
    let workflow = get(state, workspace_id, id).await?;
    let draft: Value = serde_json::from_str(&workflow.draft).map_err(AppError::internal)?;
    let def = check_definition(state, workspace_id, &draft).await?;
    let text = serde_json::to_string(&def).map_err(AppError::internal)?;
    let version = state
        .store
        .publish_workflow(workspace_id, id, &text, state.clock.now_ms())
        .await
        .map_err(not_found)?;
    if workflow.status == WorkflowStatus::Active {
        // New contacts enter the new version: triggers follow it.
        install_triggers(state, &workflow, &def).await?;
    }
    Ok(version)
}

/// The published definition runs start on.
pub async fn current_definition(state: &AppState, workflow: &WorkflowRecord) -> AppResult<Option<(i64, Definition)>> {
    let Some(version) = workflow.version else {
        return Ok(None);
    };
    let text = state.store.workflow_version(&workflow.id, version).await?;
    let value: Value = serde_json::from_str(&text).map_err(AppError::internal)?;
    let def = Definition::parse(&value).map_err(AppError::internal)?;
    Ok(Some((version, def)))
}

fn lifecycle_error(e: LifecycleError) -> AppError {
    match e {
        LifecycleError::NotPublished => AppError::conflict("workflow_not_published", e.to_string()),
        _ => AppError::conflict("invalid_workflow_state", e.to_string()),
    }
}

/// Activates, pauses or resumes. Activation with `enrol_existing` enrols the
/// contacts already in the segments of its segment triggers.
pub async fn change_status(
    state: &AppState,
    workspace_id: &str,
    id: &str,
    action: LifecycleAction,
    enrol_existing: bool,
) -> AppResult<WorkflowRecord> {
    let workflow = get(state, workspace_id, id).await?;
    let next = workflow
        .status
        .after(action, workflow.version.is_some())
        .map_err(lifecycle_error)?;
    let now = state.clock.now_ms();
    state
        .store
        .set_workflow_status(workspace_id, id, workflow.status, next, now)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(m) => AppError::conflict("invalid_workflow_state", m),
            other => other.into(),
        })?;
    let updated = get(state, workspace_id, id).await?;
    match next {
        WorkflowStatus::Active => {
            let (version, def) = current_definition(state, &updated)
                .await?
                .ok_or_else(|| lifecycle_error(LifecycleError::NotPublished))?;
            install_triggers(state, &updated, &def).await?;
            if action == LifecycleAction::Activate {
                // The segment's members are recorded either way, so only
                // contacts that come to match later enrol when the admin
                // chose not to enrol those already in it.
                for trigger in &def.triggers {
                    if let Trigger::Segment(t) = trigger {
                        enrol_segment_later(state, &updated, version, &t.segment_id, enrol_existing, now).await?;
                    }
                }
            }
        }
        WorkflowStatus::Paused | WorkflowStatus::Draft => {
            state.store.set_event_triggers(workspace_id, id, &[]).await?;
        }
    }
    Ok(updated)
}

/// Queues the enrolment of a segment's members, page by page.
pub async fn enrol_segment_later(
    state: &AppState,
    workflow: &WorkflowRecord,
    version: i64,
    segment_id: &str,
    enrol: bool,
    now: i64,
) -> AppResult<()> {
    let job = NewJob {
        task: Task::WorkflowEnrolSegment {
            workspace_id: workflow.workspace_id.clone(),
            workflow_id: workflow.id.clone(),
            version,
            segment_id: segment_id.to_string(),
            after: None,
            enrol,
        },
        workspace_id: Some(&workflow.workspace_id),
        run_at: now,
        max_attempts: 8,
    };
    state.store.enqueue_job(&job, now).await?;
    Ok(())
}

/// Event triggers by event name, and the next time of each schedule trigger
/// (missed occurrences while paused are not made up).
async fn install_triggers(state: &AppState, workflow: &WorkflowRecord, def: &Definition) -> AppResult<()> {
    let now = state.clock.now_ms();
    let mut events: Vec<String> = Vec::new();
    let mut times = Vec::new();
    let ws = state.store.workspace(&workflow.workspace_id).await?;
    let tz: chrono_tz::Tz = ws.timezone.parse().unwrap_or(chrono_tz::UTC);
    for (i, trigger) in def.triggers.iter().enumerate() {
        match trigger {
            Trigger::Event(t) => events.push(t.event.clone()),
            // A contact may come to match the segment when it is created,
            // when a property or subscription changes, or when an event the
            // segment's condition names happens to it.
            Trigger::Segment(t) => {
                events.extend(MEMBERSHIP_EVENTS.iter().map(|e| e.to_string()));
                match state.store.segment(&workflow.workspace_id, &t.segment_id).await {
                    Ok(segment) => events.extend(segment.filter.leaves().into_iter().filter_map(|leaf| match leaf {
                        Leaf::Event(e) => Some(e.event.clone()),
                        _ => None,
                    })),
                    Err(StoreError::NotFound) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Trigger::Schedule(t) => {
                let (at, days) = parse_schedule(&t.at, &t.days).map_err(AppError::internal)?;
                times.push((i as i64, next_fire(at, &days, tz, now)));
            }
            _ => {}
        }
    }
    events.sort();
    events.dedup();
    state
        .store
        .set_event_triggers(&workflow.workspace_id, &workflow.id, &events)
        .await?;
    state
        .store
        .set_trigger_times(&workflow.workspace_id, &workflow.id, &times)
        .await?;
    Ok(())
}

pub async fn delete(state: &AppState, workspace_id: &str, id: &str) -> AppResult<()> {
    state.store.delete_workflow(workspace_id, id).await.map_err(not_found)
}
