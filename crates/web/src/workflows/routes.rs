//! The workflow API. Every role reads; admins change workflows and enrol.

use super::views::{LogView, PerformanceView, RunView, WorkflowView};
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiQuery};
use crate::list::{page, ListBody};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use recado_app::workflows::{enrol, reports, service};
use recado_app::{AppError, AppState};
use recado_flow::{LifecycleAction, Outcome, RunStatus};
use recado_store::workflows::{LogFilter, RunFilter, StatusCounts};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/workflows", post(create_workflow).get(list_workflows))
        .route("/workflows/{id}", get(get_workflow).delete(delete_workflow))
        .route("/workflows/{id}/draft", put(put_draft))
        .route("/workflows/{id}/publish", post(publish))
        .route("/workflows/{id}/activate", post(activate))
        .route("/workflows/{id}/pause", post(pause))
        .route("/workflows/{id}/resume", post(resume))
        .route("/workflows/{id}/enrolments", post(enrol_contacts))
        .route("/workflows/{id}/runs", get(list_runs))
        .route("/workflows/{id}/log", get(action_log))
        .route("/workflows/{id}/performance", get(performance))
        .route("/workflows/{id}/simulate", post(simulate))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkflowInput {
    pub name: String,
    #[schema(value_type = Object)]
    pub definition: Value,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftInput {
    pub name: Option<String>,
    #[schema(value_type = Object)]
    pub definition: Value,
}

async fn counts(state: &AppState, id: &str) -> ApiResult<StatusCounts> {
    let mut counts = StatusCounts::default();
    for c in state.store.run_counts(id).await.map_err(AppError::from)? {
        counts.add(c.status, c.n);
    }
    Ok(counts)
}

async fn view(
    state: &AppState,
    w: recado_store::workflows::WorkflowRecord,
    secret: Option<String>,
) -> ApiResult<WorkflowView> {
    let c = counts(state, &w.id).await?;
    Ok(WorkflowView::of(state, w, &c, secret))
}

#[utoipa::path(post, path = "/api/v1/workflows", request_body = WorkflowInput,
    responses((status = 201, body = WorkflowView), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_workflow(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<WorkflowInput>,
) -> ApiResult<(StatusCode, Json<WorkflowView>)> {
    caller.require_admin()?;
    let saved = service::create(&state, &caller.workspace_id, &input.name, &input.definition).await?;
    Ok((
        StatusCode::CREATED,
        Json(view(&state, saved.workflow, saved.webhook_secret).await?),
    ))
}

#[derive(Deserialize)]
pub struct ListQuery {
    limit: Option<i64>,
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/workflows", responses((status = 200)))]
pub async fn list_workflows(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<ListBody<WorkflowView>>> {
    let limit = recado_store::clamp_limit(q.limit);
    let rows = state
        .store
        .workflows(&caller.workspace_id, q.cursor.as_deref(), limit)
        .await
        .map_err(AppError::from)?;
    let last = rows.last().map(|w| w.id.clone());
    let full = rows.len() as i64 >= limit;
    let mut items = Vec::with_capacity(rows.len());
    for w in rows {
        items.push(view(&state, w, None).await?);
    }
    Ok(Json(ListBody {
        items,
        next_cursor: if full { last } else { None },
    }))
}

#[utoipa::path(get, path = "/api/v1/workflows/{id}",
    responses((status = 200, body = WorkflowView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_workflow(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<WorkflowView>> {
    let w = service::get(&state, &caller.workspace_id, &id).await?;
    Ok(Json(view(&state, w, None).await?))
}

#[utoipa::path(delete, path = "/api/v1/workflows/{id}", responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_workflow(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require_admin()?;
    service::delete(&state, &caller.workspace_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/api/v1/workflows/{id}/draft", request_body = DraftInput,
    responses((status = 200, body = WorkflowView), (status = 422, body = crate::error::ErrorBody)))]
pub async fn put_draft(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<DraftInput>,
) -> ApiResult<Json<WorkflowView>> {
    caller.require_admin()?;
    let saved = service::update_draft(
        &state,
        &caller.workspace_id,
        &id,
        input.name.as_deref(),
        &input.definition,
    )
    .await?;
    Ok(Json(view(&state, saved.workflow, saved.webhook_secret).await?))
}

#[utoipa::path(post, path = "/api/v1/workflows/{id}/publish",
    responses((status = 200), (status = 422, body = crate::error::ErrorBody)))]
pub async fn publish(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    caller.require_admin()?;
    let version = service::publish(&state, &caller.workspace_id, &id).await?;
    Ok(Json(json!({ "version": version })))
}

#[derive(Deserialize, utoipa::ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ActivateInput {
    #[serde(default)]
    pub enrol_existing: bool,
}

async fn lifecycle(
    state: &AppState,
    caller: &Caller,
    id: &str,
    action: LifecycleAction,
    enrol_existing: bool,
) -> ApiResult<Json<WorkflowView>> {
    caller.require_admin()?;
    let w = service::change_status(state, &caller.workspace_id, id, action, enrol_existing).await?;
    Ok(Json(view(state, w, None).await?))
}

#[utoipa::path(post, path = "/api/v1/workflows/{id}/activate", request_body = ActivateInput,
    responses((status = 200, body = WorkflowView), (status = 409, body = crate::error::ErrorBody)))]
pub async fn activate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<WorkflowView>> {
    // The body is optional: `{"enrol_existing": true}` or nothing.
    let input: ActivateInput = if body.iter().all(u8::is_ascii_whitespace) {
        ActivateInput::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            crate::error::ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("the body does not read: {e}"),
            )
        })?
    };
    let enrol_existing = input.enrol_existing;
    lifecycle(&state, &caller, &id, LifecycleAction::Activate, enrol_existing).await
}

#[utoipa::path(post, path = "/api/v1/workflows/{id}/pause",
    responses((status = 200, body = WorkflowView), (status = 409, body = crate::error::ErrorBody)))]
pub async fn pause(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<WorkflowView>> {
    lifecycle(&state, &caller, &id, LifecycleAction::Pause, false).await
}

#[utoipa::path(post, path = "/api/v1/workflows/{id}/resume",
    responses((status = 200, body = WorkflowView), (status = 409, body = crate::error::ErrorBody)))]
pub async fn resume(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<WorkflowView>> {
    lifecycle(&state, &caller, &id, LifecycleAction::Resume, false).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolInput {
    pub contact_ids: Vec<String>,
}

#[utoipa::path(post, path = "/api/v1/workflows/{id}/enrolments", request_body = EnrolInput,
    responses((status = 200), (status = 409, body = crate::error::ErrorBody)))]
pub async fn enrol_contacts(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<EnrolInput>,
) -> ApiResult<Json<Value>> {
    caller.require_admin()?;
    let done = enrol::enrol_contacts(&state, &caller.workspace_id, &id, &input.contact_ids).await?;
    let skipped: Vec<Value> = done
        .skipped
        .iter()
        .map(|(c, r)| json!({"contact_id": c, "reason": r}))
        .collect();
    let runs: Vec<Value> = done
        .enrolled
        .iter()
        .map(|(run, c)| json!({"run_id": run, "contact_id": c}))
        .collect();
    Ok(Json(
        json!({ "enrolled": done.enrolled.len(), "runs": runs, "skipped": skipped }),
    ))
}

#[derive(Deserialize)]
pub struct RunsQuery {
    status: Option<String>,
    contact_id: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/workflows/{id}/runs", responses((status = 200)))]
pub async fn list_runs(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<RunsQuery>,
) -> ApiResult<Json<ListBody<RunView>>> {
    service::get(&state, &caller.workspace_id, &id).await?;
    let statuses = match q.status.as_deref() {
        None => vec![],
        Some("active") => vec![RunStatus::Ready, RunStatus::Running, RunStatus::Waiting],
        Some("completed") => vec![RunStatus::Completed],
        Some("exited") => vec![RunStatus::Exited],
        Some("failed") => vec![RunStatus::Failed],
        Some(other) => {
            return Err(AppError::invalid(
                "invalid_status",
                "status",
                format!("`{other}` is not a run status (active, completed, exited, failed)"),
            )
            .into())
        }
    };
    let limit = recado_store::clamp_limit(q.limit);
    let filter = RunFilter {
        statuses,
        contact_id: q.contact_id,
        after: q.cursor,
        limit,
    };
    let rows = state
        .store
        .runs(&caller.workspace_id, &id, &filter)
        .await
        .map_err(AppError::from)?;
    Ok(Json(page(rows, limit, |r| &r.id, RunView::from)))
}

#[derive(Deserialize)]
pub struct LogQuery {
    action_type: Option<String>,
    outcome: Option<String>,
    since: Option<String>,
    until: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// Newest first; the cursor is `<at ms>:<run id>:<step>` of the last line.
#[utoipa::path(get, path = "/api/v1/workflows/{id}/log", responses((status = 200)))]
pub async fn action_log(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<LogQuery>,
) -> ApiResult<Json<ListBody<LogView>>> {
    service::get(&state, &caller.workspace_id, &id).await?;
    let outcome = q
        .outcome
        .as_deref()
        .map(|o| {
            o.parse::<Outcome>().map_err(|_| {
                AppError::invalid(
                    "invalid_outcome",
                    "outcome",
                    "outcome is one of ok, failed, skipped, waited, resumed, timed_out, exited",
                )
            })
        })
        .transpose()?;
    let before = match q.cursor.as_deref() {
        None => None,
        Some(c) => {
            let mut parts = c.splitn(3, ':');
            let parsed = (|| {
                let at = parts.next()?.parse::<i64>().ok()?;
                let run = parts.next()?.to_string();
                let step = parts.next()?.parse::<i64>().ok()?;
                Some((at, run, step))
            })();
            Some(parsed.ok_or_else(|| AppError::invalid("invalid_cursor", "cursor", "the cursor does not read"))?)
        }
    };
    let limit = recado_store::clamp_limit(q.limit);
    let filter = LogFilter {
        action_type: q.action_type,
        outcome,
        since: crate::extract::time_param(q.since.as_deref(), "since")?,
        until: crate::extract::time_param(q.until.as_deref(), "until")?,
        before,
        limit,
    };
    let lines = state
        .store
        .workflow_log(&caller.workspace_id, &id, &filter)
        .await
        .map_err(AppError::from)?;
    let next_cursor = if lines.len() as i64 >= limit {
        lines.last().map(|l| format!("{}:{}:{}", l.at, l.run_id, l.step))
    } else {
        None
    };
    Ok(Json(ListBody {
        items: lines.into_iter().map(LogView::from).collect(),
        next_cursor,
    }))
}

#[utoipa::path(get, path = "/api/v1/workflows/{id}/performance", responses((status = 200, body = PerformanceView)))]
pub async fn performance(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<PerformanceView>> {
    Ok(Json(
        reports::performance(&state, &caller.workspace_id, &id).await?.into(),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulateInput {
    pub contact_id: String,
    #[serde(default)]
    pub events: Vec<SimulatedEvent>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulatedEvent {
    /// An ISO 8601 duration after the start (`PT2H`).
    pub after: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub of: String,
}

#[utoipa::path(post, path = "/api/v1/workflows/{id}/simulate", request_body = SimulateInput, responses((status = 200)))]
pub async fn simulate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<SimulateInput>,
) -> ApiResult<Json<Value>> {
    let events = input
        .events
        .iter()
        .map(|e| reports::sim_event(&e.after, &e.kind, &e.of))
        .collect::<Result<Vec<_>, _>>()?;
    let steps = reports::simulate_for(&state, &caller.workspace_id, &id, &input.contact_id, &events).await?;
    let steps: Vec<Value> = steps
        .into_iter()
        .map(|s| {
            json!({
                "at": recado_core::clock::to_rfc3339(s.step.at), "node_id": s.step.node_id.as_str(),
                "action_type": s.step.action_type, "outcome": s.step.outcome.as_str(),
                "reason": s.step.reason, "would_send": s.would_send,
            })
        })
        .collect();
    Ok(Json(json!({ "steps": steps })))
}
