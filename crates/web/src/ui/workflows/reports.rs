//! A workflow's performance page (the API's report as tables) and its
//! action log (filters in a GET form, newest first, a page at a time), and
//! enrolling a contact from the contact page.

use super::{pages_head, Head};
use crate::ui::page::{html, local_time, timezone, Chrome, UiResult};
use crate::ui::session::WebUser;
use crate::ui::session::{urlencode, Posted};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use recado_app::workflows::{enrol, reports as app_reports};
use recado_app::AppState;
use recado_flow::definition::NODE_TYPES;
use recado_flow::Outcome;
use recado_store::workflows::LogFilter;
use serde::Deserialize;

pub struct VersionRow {
    pub version: i64,
    pub published: String,
    pub active: i64,
    pub completed: i64,
    pub exited: i64,
    pub errors: i64,
}

pub struct NodeRow {
    pub version: i64,
    pub node_id: String,
    pub type_label: &'static str,
    pub attempts: i64,
    pub successes: i64,
    pub failures: Vec<(String, i64)>,
    pub failed: i64,
    pub waiting: i64,
}

#[derive(Template)]
#[template(path = "workflow_performance.html")]
struct PerformancePage {
    chrome: Chrome,
    head: Head,
    totals: super::Totals,
    versions: Vec<VersionRow>,
    nodes: Vec<NodeRow>,
}

/// `GET /workflows/{id}/performance`: newest version first.
pub async fn performance(State(state): State<AppState>, user: WebUser, Path(id): Path<String>) -> UiResult<Response> {
    let ws = user.workspace_id();
    let head = pages_head(&state, ws, &id).await?;
    let tz = timezone(&state, ws).await?;
    let p = app_reports::performance(&state, ws, &id).await?;
    let mut versions: Vec<VersionRow> = p
        .versions
        .iter()
        .map(|v| VersionRow {
            version: v.version,
            published: local_time(v.published_at, &tz),
            active: v.counts.active,
            completed: v.counts.completed,
            exited: v.counts.exited,
            errors: v.counts.failed,
        })
        .collect();
    versions.reverse();
    let mut nodes: Vec<NodeRow> = p
        .nodes
        .iter()
        .map(|n| NodeRow {
            version: n.version,
            node_id: n.node_id.clone(),
            type_label: super::graph::type_label(&n.node_type),
            attempts: n.attempts,
            successes: n.successes,
            failed: n.failures.values().sum(),
            failures: n.failures.iter().map(|(r, c)| (r.clone(), *c)).collect(),
            waiting: n.waiting,
        })
        .collect();
    nodes.sort_by(|a, b| b.version.cmp(&a.version).then(a.node_id.cmp(&b.node_id)));
    html(PerformancePage {
        chrome: Chrome::build(&state, &user, &format!("{} · performance", head.name), "").await?,
        head,
        totals: super::Totals {
            enrolled: p.enrolled,
            active: p.counts.active,
            completed: p.counts.completed,
            exited: p.counts.exited,
            errors: p.counts.failed,
        },
        versions,
        nodes,
    })
}

/// Lines per page of the log.
const LOG_PAGE: i64 = 100;

pub struct LogRow {
    pub at: String,
    pub contact_id: String,
    pub version: i64,
    pub node_id: String,
    pub action_type: String,
    pub outcome: &'static str,
    pub reason: String,
    pub message_id: String,
}

#[derive(Deserialize, Default)]
pub struct LogQuery {
    action_type: Option<String>,
    outcome: Option<String>,
    since: Option<String>,
    until: Option<String>,
    cursor: Option<String>,
}

#[derive(Template)]
#[template(path = "workflow_log.html")]
struct LogPage {
    chrome: Chrome,
    head: Head,
    rows: Vec<LogRow>,
    action_types: Vec<crate::ui::page::Opt>,
    outcomes: Vec<crate::ui::page::Opt>,
    since: String,
    until: String,
    error: Option<String>,
    older: Option<String>,
}

const OUTCOMES: [&str; 7] = ["ok", "failed", "skipped", "waited", "resumed", "timed_out", "exited"];

/// A time of the filter form: RFC 3339, or a local `YYYY-MM-DDTHH:MM` (what
/// a datetime field sends) or `YYYY-MM-DD` in the workspace's time zone.
fn parse_time(text: &str, tz: &chrono_tz::Tz) -> Option<i64> {
    use chrono::{NaiveDate, NaiveDateTime, TimeZone};
    let text = text.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp_millis());
    }
    let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    tz.from_local_datetime(&local).earliest().map(|t| t.timestamp_millis())
}

/// `GET /workflows/{id}/log?action_type=&outcome=&since=&until=&cursor=`.
pub async fn log(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<String>,
    Query(q): Query<LogQuery>,
) -> UiResult<Response> {
    let ws = user.workspace_id();
    let head = pages_head(&state, ws, &id).await?;
    let tz = timezone(&state, ws).await?;
    let nonempty = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let action_type = nonempty(&q.action_type);
    let outcome = nonempty(&q.outcome);
    let (since_text, until_text) = (nonempty(&q.since), nonempty(&q.until));
    let mut error = None;
    let mut time = |text: &Option<String>, what: &str| {
        text.as_deref().and_then(|t| {
            let parsed = parse_time(t, &tz);
            if parsed.is_none() {
                error = Some(format!(
                    "“{t}” is not a time: use the date picker or write 2026-12-24T09:00 (for {what})."
                ));
            }
            parsed
        })
    };
    let since = time(&since_text, "since");
    let until = time(&until_text, "until");
    let before = q.cursor.as_deref().and_then(|c| {
        let mut parts = c.splitn(3, ':');
        let at = parts.next()?.parse::<i64>().ok()?;
        let run = parts.next()?.to_string();
        let step = parts.next()?.parse::<i64>().ok()?;
        Some((at, run, step))
    });
    let filter = LogFilter {
        action_type: action_type.clone(),
        outcome: outcome.as_deref().and_then(|o| o.parse::<Outcome>().ok()),
        since,
        until,
        before,
        limit: LOG_PAGE,
    };
    let lines = state.store.workflow_log(ws, &id, &filter).await?;
    let older = (lines.len() as i64 >= LOG_PAGE)
        .then(|| lines.last().map(|l| format!("{}:{}:{}", l.at, l.run_id, l.step)))
        .flatten()
        .map(|cursor| {
            let mut query = form_urlencoded::Serializer::new(String::new());
            for (k, v) in [
                ("action_type", &action_type),
                ("outcome", &outcome),
                ("since", &since_text),
                ("until", &until_text),
            ] {
                if let Some(v) = v {
                    query.append_pair(k, v);
                }
            }
            query.append_pair("cursor", &cursor);
            query.finish()
        });
    let rows = lines
        .into_iter()
        .map(|l| LogRow {
            at: local_time(l.at, &tz),
            outcome: l.outcome.as_str(),
            contact_id: l.contact_id,
            version: l.version,
            node_id: l.node_id,
            action_type: l.action_type,
            reason: l.reason.unwrap_or_default(),
            message_id: l.message_id.unwrap_or_default(),
        })
        .collect();
    let select = |choices: &[&str], chosen: &Option<String>| {
        let mut out = vec![crate::ui::page::Opt {
            value: String::new(),
            label: "Any".into(),
            selected: chosen.is_none(),
        }];
        out.extend(choices.iter().map(|c| crate::ui::page::Opt {
            value: c.to_string(),
            label: c.to_string(),
            selected: chosen.as_deref() == Some(*c),
        }));
        out
    };
    html(LogPage {
        chrome: Chrome::build(&state, &user, &format!("{} · log", head.name), "").await?,
        head,
        rows,
        action_types: select(&NODE_TYPES, &action_type),
        outcomes: select(&OUTCOMES, &outcome),
        since: since_text.unwrap_or_default(),
        until: until_text.unwrap_or_default(),
        error,
        older,
    })
}

#[derive(Deserialize)]
pub struct EnrolForm {
    #[serde(default)]
    workflow_id: String,
}

/// `POST /contacts/{id}/workflows`: enrols the contact through the same
/// service as `POST /api/v1/workflows/{id}/enrolments`, then back to the
/// contact page with what happened.
pub async fn enrol_contact(
    State(state): State<AppState>,
    Path(contact_id): Path<String>,
    posted: Posted<EnrolForm>,
) -> UiResult<Response> {
    if !posted.user.is_admin() {
        return Ok(super::admins_only_workflows());
    }
    let ws = posted.user.workspace_id();
    // The contact must be of this workspace (404 otherwise).
    state.store.contact(ws, &contact_id).await?;
    let back = |query: String| {
        Redirect::to(&format!("/contacts/{}?{query}#workflows", urlencode(&contact_id))).into_response()
    };
    match enrol::enrol_contacts(&state, ws, &posted.form.workflow_id, std::slice::from_ref(&contact_id)).await {
        Ok(done) => Ok(match done.skipped.first() {
            Some((_, reason)) => back(format!("enrol_skipped={}", urlencode(reason))),
            None => back("enrolled=1".into()),
        }),
        Err(e) if !e.is_internal() => Ok(back(format!("enrol_error={}", urlencode(e.code)))),
        Err(e) => Err(e.into()),
    }
}

/// What the contact page says after an enrolment.
pub fn enrol_notice(enrolled: bool, skipped: Option<&str>, error: Option<&str>) -> Option<(bool, String)> {
    if let Some(reason) = skipped {
        let why = match reason {
            "already_enrolled" => "they already have an active run of this workflow",
            "enrolled_before" => "they ran through this workflow before and it does not re-enrol",
            "not_found" => "the contact was not found",
            other => other,
        };
        return Some((true, format!("Not enrolled ({reason}): {why}.")));
    }
    if let Some(code) = error {
        let why = match code {
            "workflow_not_active" => "the workflow is not active; activate it first",
            "workflow_not_published" => "the workflow has no published version",
            "not_found" => "choose a workflow",
            other => other,
        };
        return Some((true, format!("Not enrolled ({code}): {why}.")));
    }
    enrolled.then(|| (false, "Enrolled in the workflow.".to_string()))
}
