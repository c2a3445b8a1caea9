//! The workflow pages: the list with run counts, a workflow's graph with
//! per-node counts and its lifecycle buttons, the editor (fields for the
//! common case, JSON import for the rest), JSON export, performance and the
//! action log. Every change goes through `recado_app::workflows::service`,
//! the same calls as the API, so a page refuses exactly what the API
//! refuses; everyone reads, admins change.

pub mod editor;
pub mod graph;
pub mod reports;

use super::login::admins_only;
use super::page::{error_page, html, local_time, timezone, Chrome, UiError, UiResult};
use super::session::{urlencode, Posted, WebUser};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use editor::{Choices, EditorForm};
use graph::{Graph, NodeCounts};
use recado_app::workflows::{pages, reports as app_reports, service};
use recado_app::{AppError, AppState};
use recado_flow::events::{message_events, CONTACT_EVENTS};
use recado_flow::{LifecycleAction, WorkflowStatus};
use recado_store::workflows::WorkflowRecord;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

pub struct ListRow {
    pub id: String,
    pub name: String,
    pub status: &'static str,
    pub version: String,
    pub enrolled: i64,
    pub active: i64,
    pub completed: i64,
    pub exited: i64,
    pub errors: i64,
    pub updated: String,
}

#[derive(Template)]
#[template(path = "workflows.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<ListRow>,
}

/// `GET /workflows`.
pub async fn list(State(state): State<AppState>, user: WebUser) -> UiResult<Response> {
    let ws = user.workspace_id().to_string();
    let tz = timezone(&state, &ws).await?;
    let rows = pages::list_with_counts(&state, &ws)
        .await?
        .into_iter()
        .map(|(w, c)| ListRow {
            status: w.status.as_str(),
            version: w.version.map(|v| format!("v{v}")).unwrap_or_else(|| "—".into()),
            enrolled: w.enrolled,
            active: c.active,
            completed: c.completed,
            exited: c.exited,
            errors: c.failed,
            updated: local_time(w.updated_at, &tz),
            id: w.id,
            name: w.name,
        })
        .collect();
    html(ListPage {
        chrome: Chrome::build(&state, &user, "Workflows", "").await?,
        rows,
    })
}

// ---- one workflow ---------------------------------------------------------------

/// What the head of every page of one workflow shows.
pub struct Head {
    pub id: String,
    pub name: String,
    pub status: &'static str,
    pub version: Option<i64>,
}

impl Head {
    fn of(w: &WorkflowRecord) -> Head {
        Head {
            id: w.id.clone(),
            name: w.name.clone(),
            status: w.status.as_str(),
            version: w.version,
        }
    }
}

/// The head of a workflow's page (404 for another workspace's workflow).
pub async fn pages_head(state: &AppState, workspace_id: &str, id: &str) -> UiResult<Head> {
    Ok(Head::of(&pages::workflow(state, workspace_id, id).await?))
}

pub struct Totals {
    pub enrolled: i64,
    pub active: i64,
    pub completed: i64,
    pub exited: i64,
    pub errors: i64,
}

#[derive(Template)]
#[template(path = "workflow.html")]
struct WorkflowPage {
    chrome: Chrome,
    head: Head,
    /// The version drawn; None when the draft is drawn (never published).
    shown: Option<i64>,
    graph: Graph,
    totals: Totals,
    notice: Option<(bool, String)>,
    webhook_url: Option<String>,
    /// The webhook secret, shown once after the save that made it.
    secret: Option<String>,
    can_activate: bool,
    can_pause: bool,
    can_resume: bool,
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    done: Option<String>,
}

fn done_text(done: &str) -> String {
    match done {
        "saved" => "Draft saved. Publish it to make it the version new runs start on.".into(),
        "published" => "Published: new runs start on this version.".into(),
        "activated" => "Active: its triggers enrol contacts now.".into(),
        "paused" => "Paused: nothing enrols and no run moves until resumed.".into(),
        "resumed" => "Resumed.".into(),
        other => other.to_string(),
    }
}

async fn render_workflow(
    state: &AppState,
    user: &WebUser,
    id: &str,
    notice: Option<(bool, String)>,
    secret: Option<String>,
    status: StatusCode,
) -> UiResult<Response> {
    let ws = user.workspace_id();
    let w = pages::workflow(state, ws, id).await?;
    let (shown, def) = pages::shown_definition(state, &w).await?;
    let perf = app_reports::performance(state, ws, id).await?;
    let counts: BTreeMap<String, NodeCounts> = perf
        .nodes
        .iter()
        .filter(|n| Some(n.version) == shown)
        .map(|n| {
            (
                n.node_id.clone(),
                NodeCounts {
                    attempts: n.attempts,
                    successes: n.successes,
                    failures: n.failures.values().sum(),
                    waiting: n.waiting,
                },
            )
        })
        .collect();
    let has_version = w.version.is_some();
    let can = |action| w.status.after(action, has_version).is_ok();
    let page = WorkflowPage {
        chrome: Chrome::build(state, user, &w.name, "").await?,
        head: Head::of(&w),
        shown,
        graph: graph::layout(&def, &counts),
        totals: Totals {
            enrolled: perf.enrolled,
            active: perf.counts.active,
            completed: perf.counts.completed,
            exited: perf.counts.exited,
            errors: perf.counts.failed,
        },
        notice,
        webhook_url: w
            .webhook_secret
            .as_ref()
            .map(|_| format!("{}/hooks/workflows/{}", state.settings.public_url, w.id)),
        secret,
        // Activation is offered before the first publish too: the refusal
        // says to publish first.
        can_activate: w.status != WorkflowStatus::Active,
        can_pause: can(LifecycleAction::Pause),
        can_resume: can(LifecycleAction::Resume),
    };
    let mut response = html(page)?;
    *response.status_mut() = status;
    Ok(response)
}

/// `GET /workflows/{id}`.
pub async fn page(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> UiResult<Response> {
    let notice = q.done.as_deref().map(|d| (false, done_text(d)));
    render_workflow(&state, &user, &id, notice, None, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct LifecycleForm {
    #[serde(default)]
    enrol_existing: Option<String>,
}

/// `POST /workflows/{id}/{publish|activate|pause|resume}`: the service's
/// answer, as a redirect back or the page with the refusal.
pub async fn lifecycle(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    posted: Posted<LifecycleForm>,
) -> UiResult<Response> {
    let user = &posted.user;
    if !user.is_admin() {
        return Ok(admins_only());
    }
    let ws = user.workspace_id();
    let enrol_existing = posted.form.enrol_existing.is_some();
    let result = match action.as_str() {
        "publish" => service::publish(&state, ws, &id).await.map(|_| "published"),
        "activate" => service::change_status(&state, ws, &id, LifecycleAction::Activate, enrol_existing)
            .await
            .map(|_| "activated"),
        "pause" => service::change_status(&state, ws, &id, LifecycleAction::Pause, false)
            .await
            .map(|_| "paused"),
        "resume" => service::change_status(&state, ws, &id, LifecycleAction::Resume, false)
            .await
            .map(|_| "resumed"),
        _ => return Err(UiError::from(AppError::not_found("page"))),
    };
    match result {
        Ok(done) => Ok(Redirect::to(&format!("/workflows/{}?done={done}", urlencode(&id))).into_response()),
        Err(e) if !e.is_internal() && e.kind != recado_app::error::ErrorKind::NotFound => {
            let text = match &e.field {
                Some(field) => format!("Not possible: {} ({field}).", e.message),
                None => format!("Not possible: {}.", e.message),
            };
            let status = crate::error::ApiError::from(e).status;
            render_workflow(&state, user, &id, Some((true, text)), None, status).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /workflows/{id}/definition.json`: the draft, as a download.
pub async fn export(State(state): State<AppState>, user: WebUser, Path(id): Path<String>) -> UiResult<Response> {
    let w = pages::workflow(&state, user.workspace_id(), &id).await?;
    let value: Value = serde_json::from_str(&w.draft).map_err(AppError::internal)?;
    let body = serde_json::to_string_pretty(&value).map_err(AppError::internal)?;
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let disposition = format!("attachment; filename=\"workflow-{}.json\"", id.replace(['"', '\\'], ""));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

// ---- the editor --------------------------------------------------------------------

#[derive(Template)]
#[template(path = "workflow_edit.html")]
struct EditorPage {
    chrome: Chrome,
    /// None for a new workflow.
    head: Option<Head>,
    form: EditorForm,
    action: String,
    import_action: String,
    import_json: String,
    import_name: String,
    import_error: Option<String>,
    trigger_events: Vec<&'static str>,
    message_events: Vec<&'static str>,
}

async fn choices(state: &AppState, workspace_id: &str) -> UiResult<Choices> {
    let named = |records: Vec<recado_store::channels::ChannelRecord>| {
        records.into_iter().map(|c| (c.id, c.name)).collect::<Vec<_>>()
    };
    Ok(Choices {
        sms_channels: named(state.store.channels(workspace_id, Some("sms")).await?),
        wa_channels: named(state.store.channels(workspace_id, Some("whatsapp")).await?),
        voice_channels: named(state.store.channels(workspace_id, Some("voice")).await?),
        segments: state
            .store
            .segments(workspace_id, None, 500)
            .await?
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect(),
    })
}

fn event_names() -> (Vec<&'static str>, Vec<&'static str>) {
    let mut messages: Vec<&'static str> = Vec::new();
    for channel in recado_core::consent::Channel::ALL {
        messages.extend(message_events(channel));
    }
    let mut triggers: Vec<&'static str> = CONTACT_EVENTS.to_vec();
    triggers.extend(messages.iter().copied().filter(|e| !CONTACT_EVENTS.contains(e)));
    (triggers, messages)
}

struct ImportState {
    json: String,
    name: String,
    error: Option<String>,
}

async fn render_editor(
    state: &AppState,
    user: &WebUser,
    head: Option<Head>,
    mut form: EditorForm,
    import: Option<ImportState>,
    status: StatusCode,
) -> UiResult<Response> {
    let ws = user.workspace_id();
    form.prepare(&choices(state, ws).await?);
    let (trigger_events, message_events) = event_names();
    let (action, import_action, title) = match &head {
        Some(h) => (
            format!("/workflows/{}/edit", h.id),
            format!("/workflows/{}/import", h.id),
            format!("Edit {}", h.name),
        ),
        None => (
            "/workflows/new".into(),
            "/workflows/import".into(),
            "New workflow".into(),
        ),
    };
    let import = import.unwrap_or(ImportState {
        json: String::new(),
        name: head.as_ref().map(|h| h.name.clone()).unwrap_or_default(),
        error: None,
    });
    let page = EditorPage {
        chrome: Chrome::build(state, user, &title, "").await?,
        head,
        form,
        action,
        import_action,
        import_json: import.json,
        import_name: import.name,
        import_error: import.error,
        trigger_events,
        message_events,
    };
    let mut response = html(page)?;
    *response.status_mut() = status;
    Ok(response)
}

/// `GET /workflows/new`.
pub async fn new_page(State(state): State<AppState>, user: WebUser) -> UiResult<Response> {
    if !user.is_admin() {
        return Ok(admins_only_workflows());
    }
    render_editor(&state, &user, None, EditorForm::blank(), None, StatusCode::OK).await
}

/// `GET /workflows/{id}/edit`: the draft in the form.
pub async fn edit_page(State(state): State<AppState>, user: WebUser, Path(id): Path<String>) -> UiResult<Response> {
    if !user.is_admin() {
        return Ok(admins_only_workflows());
    }
    let w = pages::workflow(&state, user.workspace_id(), &id).await?;
    let def = pages::draft_definition(&w)?;
    let form = EditorForm::from_definition(&w.name, &def);
    render_editor(&state, &user, Some(Head::of(&w)), form, None, StatusCode::OK).await
}

pub fn admins_only_workflows() -> Response {
    error_page(
        StatusCode::FORBIDDEN,
        "Not allowed",
        "Only admins can change workflows.",
    )
}

#[derive(Deserialize)]
pub struct Ignored {}

/// `POST /workflows/new` and `POST /workflows/{id}/edit`: `op` is `save`,
/// `add_step`, `refresh` (show the changes, one more empty row per list)
/// or `remove:<n>` (drop step n).
async fn editor_post(state: &AppState, posted: &Posted<Ignored>, id: Option<&str>) -> UiResult<Response> {
    let user = &posted.user;
    if !user.is_admin() {
        return Ok(admins_only_workflows());
    }
    let ws = user.workspace_id();
    let head = match id {
        Some(id) => Some(Head::of(&pages::workflow(state, ws, id).await?)),
        None => None,
    };
    let mut form = EditorForm::from_fields(&posted.fields);
    let op = posted
        .fields
        .iter()
        .find(|(k, _)| k == "op")
        .map(|(_, v)| v.as_str())
        .unwrap_or("save");
    if op == "add_step" {
        form.add_step();
        return render_editor(state, user, head, form, None, StatusCode::OK).await;
    }
    if let Some(n) = op.strip_prefix("remove:").and_then(|n| n.parse::<usize>().ok()) {
        if n < form.steps.len() {
            form.steps.remove(n);
        }
        return render_editor(state, user, head, form, None, StatusCode::OK).await;
    }
    if op != "save" {
        return render_editor(state, user, head, form, None, StatusCode::OK).await;
    }
    let Some(definition) = form.to_definition() else {
        return render_editor(state, user, head, form, None, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let saved = match id {
        Some(id) => service::update_draft(state, ws, id, Some(&form.name), &definition).await,
        None => service::create(state, ws, &form.name, &definition).await,
    };
    match saved {
        Ok(saved) => saved_response(state, user, saved).await,
        Err(e) if e.kind == recado_app::error::ErrorKind::Invalid => {
            form.attach_error(e.field.as_deref(), &e.message);
            render_editor(state, user, head, form, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e.into()),
    }
}

/// After a save: back to the workflow, or its page with the webhook secret
/// when the save made one (it is shown this once).
async fn saved_response(state: &AppState, user: &WebUser, saved: service::Saved) -> UiResult<Response> {
    let id = saved.workflow.id.clone();
    match saved.webhook_secret {
        Some(secret) => {
            let notice = Some((false, done_text("saved")));
            render_workflow(state, user, &id, notice, Some(secret), StatusCode::OK).await
        }
        None => Ok(Redirect::to(&format!("/workflows/{}?done=saved", urlencode(&id))).into_response()),
    }
}

pub async fn new_post(State(state): State<AppState>, posted: Posted<Ignored>) -> UiResult<Response> {
    editor_post(&state, &posted, None).await
}

pub async fn edit_post(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<Ignored>,
) -> UiResult<Response> {
    editor_post(&state, &posted, Some(&id)).await
}

#[derive(Deserialize)]
pub struct ImportForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    definition: String,
}

/// `POST /workflows/import` (a new workflow) and `/workflows/{id}/import`
/// (replaces the draft): the definition as JSON text, checked by the same
/// service as the API.
async fn import(state: &AppState, posted: &Posted<ImportForm>, id: Option<&str>) -> UiResult<Response> {
    let user = &posted.user;
    if !user.is_admin() {
        return Ok(admins_only_workflows());
    }
    let ws = user.workspace_id();
    let w = match id {
        Some(id) => Some(pages::workflow(state, ws, id).await?),
        None => None,
    };
    let f = &posted.form;
    let refused = |message: String| ImportState {
        json: f.definition.clone(),
        name: f.name.clone(),
        error: Some(message),
    };
    let form_of = |w: &Option<WorkflowRecord>| -> UiResult<EditorForm> {
        Ok(match w {
            Some(w) => EditorForm::from_definition(&w.name, &pages::draft_definition(w)?),
            None => EditorForm::blank(),
        })
    };
    let value: Value = match serde_json::from_str(&f.definition) {
        Ok(v) => v,
        Err(e) => {
            let form = form_of(&w)?;
            let head = w.as_ref().map(Head::of);
            let import = refused(format!("The JSON does not read: {e}."));
            return render_editor(state, user, head, form, Some(import), StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    // An exported workflow may come wrapped as the API shows it.
    let value = match value.get("definition") {
        Some(inner) if value.get("nodes").is_none() => inner.clone(),
        _ => value,
    };
    let name = (!f.name.trim().is_empty()).then_some(f.name.as_str());
    let saved = match &w {
        Some(w) => service::update_draft(state, ws, &w.id, name, &value).await,
        None => service::create(state, ws, name.unwrap_or(""), &value).await,
    };
    match saved {
        Ok(saved) => saved_response(state, user, saved).await,
        Err(e) if e.kind == recado_app::error::ErrorKind::Invalid => {
            let text = match &e.field {
                Some(field) => format!("{field}: {}", e.message),
                None => e.message.clone(),
            };
            let form = form_of(&w)?;
            let head = w.as_ref().map(Head::of);
            render_editor(
                state,
                user,
                head,
                form,
                Some(refused(text)),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn import_new(State(state): State<AppState>, posted: Posted<ImportForm>) -> UiResult<Response> {
    import(&state, &posted, None).await
}

pub async fn import_draft(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<ImportForm>,
) -> UiResult<Response> {
    import(&state, &posted, Some(&id)).await
}
