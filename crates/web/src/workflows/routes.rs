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
#[schema(example = json!({"name": "Welcome", "definition": {"triggers": [{"type": "manual"}], "start": "hello",
    "nodes": {"hello": {"type": "send_sms", "from": "Recado", "text": "Hi {{contact.firstname}}", "next": "end"}, "end": {"type": "end"}}}}))]
pub struct WorkflowInput {
    /// 1 to 200 characters.
    #[schema(pattern = "\\S", max_length = 200)]
    pub name: String,
    /// The definition (API.md "Workflows": triggers, settings, start, nodes).
    #[schema(value_type = Object)]
    pub definition: Value,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftInput {
    /// 1 to 200 characters.
    #[schema(pattern = "\\S", max_length = 200)]
    pub name: Option<String>,
    /// The definition (API.md "Workflows": triggers, settings, start, nodes).
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
    responses((status = 201, description = "the workflow, a draft (its webhook secret shown once)", body = WorkflowView), (status = 403, description = "`forbidden`: admins only", body = crate::error::ErrorBody),
        (status = 422, description = "`invalid_name`, `invalid_workflow` (`field` is the node id, `triggers[i]` or `settings.…`)", body = crate::error::ErrorBody)))]
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

#[utoipa::path(get, path = "/api/v1/workflows", params(crate::extract::Page),
    responses((status = 200, description = "workflows with their run counts", body = ListBody<WorkflowView>)))]
pub async fn list_workflows(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<crate::extract::Page>,
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

#[utoipa::path(get, path = "/api/v1/workflows/{id}", params(("id" = String, Path, description = "the workflow's id")),
    responses((status = 200, description = "the workflow", body = WorkflowView)))]
pub async fn get_workflow(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<WorkflowView>> {
    let w = service::get(&state, &caller.workspace_id, &id).await?;
    Ok(Json(view(&state, w, None).await?))
}

#[utoipa::path(delete, path = "/api/v1/workflows/{id}", params(("id" = String, Path, description = "the workflow's id")),
    responses((status = 204, description = "the workflow and its runs are gone"), (status = 403, description = "`forbidden`: admins only", body = crate::error::ErrorBody)))]
pub async fn delete_workflow(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require_admin()?;
    service::delete(&state, &caller.workspace_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/api/v1/workflows/{id}/draft", params(("id" = String, Path, description = "the workflow's id")), request_body = DraftInput,
    responses((status = 200, description = "the workflow", body = WorkflowView), (status = 403, description = "`forbidden`: admins only", body = crate::error::ErrorBody),
        (status = 422, description = "`invalid_name`, `invalid_workflow` (`field` is the node id, `triggers[i]` or `settings.…`)", body = crate::error::ErrorBody)))]
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

/// The version a publish made.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Published {
    version: i64,
}

#[utoipa::path(post, path = "/api/v1/workflows/{id}/publish", params(("id" = String, Path, description = "the workflow's id")),
    responses((status = 200, description = "the new version, immutable", body = Published), (status = 403, description = "`forbidden`: admins only", body = crate::error::ErrorBody),
        (status = 422, description = "`invalid_workflow`: the draft does not validate", body = crate::error::ErrorBody)))]
pub async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Published>> {
    caller.require_admin()?;
    let version = service::publish(&state, &caller.workspace_id, &id).await?;
    Ok(Json(Published { version }))
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

#[utoipa::path(post, path = "/api/v1/workflows/{id}/activate", params(("id" = String, Path, description = "the workflow's id")),
    request_body(content = ActivateInput, description = "optional; no body is `{}`"),
    responses((status = 200, description = "the workflow, active", body = WorkflowView), (status = 403, description = "`forbidden`: admins only", body = crate::error::ErrorBody), (status = 409, description = "`invalid_workflow_state` (not from this status), `workflow_not_published`", body = crate::error::ErrorBody)))]
pub async fn activate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Json<WorkflowView>> {
    // The body is optional (`{"enrol_existing": true}` or nothing); one that
    // is sent reads as any JSON body does.
    let input: ActivateInput = if body.iter().all(u8::is_ascii_whitespace) {
        ActivateInput::default()
    } else {
        crate::extract::require_json_content_type(&headers)?;
        crate::extract::parse_json(&body)?
    };
    let enrol_existing = input.enrol_existing;
    lifecycle(&state, &caller, &id, LifecycleAction::Activate, enrol_existing).await
}

#[utoipa::path(post, path = "/api/v1/workflows/{id}/pause", params(("id" = String, Path, description = "the workflow's id")),
    responses((status = 200, description = "the workflow, paused", body = WorkflowView), (status = 403, description = "`forbidden`: admins only", body = crate::error::ErrorBody), (status = 409, description = "`invalid_workflow_state` (not from this status), `workflow_not_published`", body = crate::error::ErrorBody)))]
pub async fn pause(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<WorkflowView>> {
    lifecycle(&state, &caller, &id, LifecycleAction::Pause, false).await
}

#[utoipa::path(post, path = "/api/v1/workflows/{id}/resume", params(("id" = String, Path, description = "the workflow's id")),
    responses((status = 200, description = "the workflow, active", body = WorkflowView), (status = 403, description = "`forbidden`: admins only", body = crate::error::ErrorBody), (status = 409, description = "`invalid_workflow_state` (not from this status), `workflow_not_published`", body = crate::error::ErrorBody)))]
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
    /// At most 1,000; a segment trigger enrols more.
    #[schema(max_items = 1000)]
    pub contact_ids: Vec<String>,
}

/// A run started by an enrolment.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct EnrolledRun {
    run_id: String,
    contact_id: String,
}

/// A contact not enrolled, and why.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SkippedContact {
    contact_id: String,
    reason: String,
}

/// What an enrolment did.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct Enrolled {
    enrolled: u64,
    runs: Vec<EnrolledRun>,
    skipped: Vec<SkippedContact>,
}

#[utoipa::path(post, path = "/api/v1/workflows/{id}/enrolments", params(("id" = String, Path, description = "the workflow's id")), request_body = EnrolInput,
    responses((status = 200, description = "runs started and contacts skipped", body = Enrolled), (status = 403, description = "`forbidden`: admins only", body = crate::error::ErrorBody),
        (status = 409, description = "`workflow_not_published`", body = crate::error::ErrorBody)))]
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

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunsQuery {
    #[param(schema_with = run_status)]
    status: Option<String>,
    contact_id: Option<String>,
    /// Items per page: 50 by default, at most 500 (a larger number reads as 500, a smaller than 1 as 1).
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

fn run_status() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    crate::openapi::schema(json!({"type": "string", "enum": ["active", "completed", "exited", "failed"]}))
}

#[utoipa::path(get, path = "/api/v1/workflows/{id}/runs", params(("id" = String, Path, description = "the workflow's id"), RunsQuery),
    responses((status = 200, description = "runs", body = ListBody<RunView>),
        (status = 422, description = "`invalid_status`", body = crate::error::ErrorBody)))]
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

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// A node type such as `send_sms`.
    action_type: Option<String>,
    #[param(schema_with = outcome)]
    outcome: Option<String>,
    /// RFC 3339.
    #[param(format = DateTime)]
    since: Option<String>,
    /// RFC 3339.
    #[param(format = DateTime)]
    until: Option<String>,
    /// Items per page: 50 by default, at most 500 (a larger number reads as 500, a smaller than 1 as 1).
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

fn outcome() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    crate::openapi::schema(
        json!({"type": "string", "enum": ["ok", "failed", "skipped", "waited", "resumed", "timed_out", "exited"]}),
    )
}

#[utoipa::path(get, path = "/api/v1/workflows/{id}/log", params(("id" = String, Path, description = "the workflow's id"), LogQuery),
    responses((status = 200, description = "actions, newest first", body = ListBody<LogView>),
        (status = 422, description = "`invalid_outcome`, `invalid_time`, `invalid_cursor`", body = crate::error::ErrorBody)))]
/// Newest first; the cursor is `<at ms>:<run id>:<step>` of the last line.
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

#[utoipa::path(get, path = "/api/v1/workflows/{id}/performance", params(("id" = String, Path, description = "the workflow's id")),
    responses((status = 200, description = "counts per version and per step", body = PerformanceView)))]
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
    #[serde(default, deserialize_with = "simulated_events")]
    pub events: Vec<SimulatedEvent>,
}

/// Events are objects (a struct would also read an array by position).
fn simulated_events<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<SimulatedEvent>, D::Error> {
    use serde::de::Error;
    let items = Vec::<Value>::deserialize(d)?;
    items
        .into_iter()
        .map(|item| {
            if item.is_object() {
                SimulatedEvent::deserialize(item).map_err(D::Error::custom)
            } else {
                Err(D::Error::custom("invalid type: an event is an object"))
            }
        })
        .collect()
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulatedEvent {
    /// An ISO 8601 duration after the start (`PT2H`).
    pub after: String,
    /// An event name such as `SMS_CLICKED`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The node id of the send the event is about.
    pub of: String,
}

/// One step the run would take.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SimulatedStep {
    at: String,
    node_id: String,
    action_type: String,
    outcome: String,
    reason: Option<String>,
    /// What a send step would send.
    would_send: Option<Value>,
}

/// What a run for the contact would do.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct Simulation {
    steps: Vec<SimulatedStep>,
}

#[utoipa::path(post, path = "/api/v1/workflows/{id}/simulate", params(("id" = String, Path, description = "the workflow's id")), request_body = SimulateInput,
    responses((status = 200, description = "the steps; nothing is sent or stored", body = Simulation),
        (status = 422, description = "`invalid_event`", body = crate::error::ErrorBody)))]
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
