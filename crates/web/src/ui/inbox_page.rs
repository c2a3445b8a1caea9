//! The views page: the thread list of a view (built-in or saved), search,
//! paging, and saving the current filters as a view.

use super::page::{html, local_time, timezone, Chrome, UiError, UiResult};
use super::session::{urlencode, Posted, WebUser};
use crate::inbox::views::{save, NewView};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use recado_app::inbox::filters::{parse_cursor, ViewFilters};
use recado_app::inbox::service::contact_name;
use recado_app::AppState;
use recado_store::inbox::{ThreadCursor, ThreadPreview};
use serde::Deserialize;
use std::collections::HashMap;

/// Threads per page of the list.
pub const PAGE_SIZE: i64 = 50;

pub struct ThreadRow {
    pub id: String,
    pub name: String,
    pub channel: String,
    pub preview: String,
    pub time: String,
    pub unread: i64,
    pub status: String,
    pub priority: String,
    pub owner: String,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    chrome: Chrome,
    view: String,
    view_label: String,
    q: String,
    rows: Vec<ThreadRow>,
    older: Option<String>,
    saved_view: bool,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "thread_list.html")]
struct ListFragment {
    view: String,
    q: String,
    rows: Vec<ThreadRow>,
    older: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct InboxQuery {
    view: Option<String>,
    q: Option<String>,
    cursor: Option<String>,
    error: Option<String>,
    saved: Option<String>,
}

/// The filters and label of a view key: a built-in view or a saved view id.
async fn view_filters(state: &AppState, user: &WebUser, view: &str) -> UiResult<(ViewFilters, String)> {
    let f = |status: Option<&str>, channel: Option<&str>, owner: Option<&str>| ViewFilters {
        status: status.map(str::to_string),
        channel: channel.map(str::to_string),
        owner: owner.map(str::to_string),
        q: None,
    };
    Ok(match view {
        "open" => (f(Some("open"), None, None), "All open".into()),
        "closed" => (f(Some("closed"), None, None), "All closed".into()),
        "mine" => (f(Some("open"), None, Some("me")), "Assigned to me".into()),
        "unassigned" => (f(Some("open"), None, Some("none")), "Unassigned".into()),
        "whatsapp" => (f(Some("open"), Some("whatsapp"), None), "WhatsApp".into()),
        "sms" => (f(Some("open"), Some("sms"), None), "SMS".into()),
        "all" => (ViewFilters::default(), "All conversations".into()),
        id => {
            let v = state
                .store
                .saved_view(user.workspace_id(), user.user_id(), id)
                .await
                .map_err(|e| match e {
                    recado_store::StoreError::NotFound => crate::error::ApiError::not_found("view"),
                    other => other.into(),
                })?;
            (serde_json::from_str(&v.filters).unwrap_or_default(), v.name)
        }
    })
}

fn preview_text(p: Option<&ThreadPreview>) -> String {
    let Some(p) = p else { return String::new() };
    if p.quarantined {
        return "Message hidden (content policy)".into();
    }
    let body = p
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| t.chars().take(90).collect::<String>())
        .unwrap_or_else(|| format!("[{}]", p.kind.replace('_', " ")));
    if p.direction == "out" {
        format!("You: {body}")
    } else {
        body
    }
}

/// One page of a view's threads as rows, and the cursor of the next page.
async fn rows(
    state: &AppState,
    user: &WebUser,
    view: &str,
    q: &str,
    cursor: Option<&str>,
) -> UiResult<(Vec<ThreadRow>, Option<String>, String)> {
    let (mut filters, label) = view_filters(state, user, view).await?;
    if !q.trim().is_empty() {
        filters.q = Some(q.to_string());
    }
    let mut filter = filters.check(state, user.workspace_id(), user.user_id()).await?;
    filter.limit = PAGE_SIZE;
    filter.after = parse_cursor(cursor)?;
    let threads = state.store.inbox_threads(user.workspace_id(), &filter).await?;
    let ids: Vec<String> = threads.iter().map(|t| t.id.clone()).collect();
    let previews: HashMap<String, ThreadPreview> = state
        .store
        .thread_previews(&ids)
        .await?
        .into_iter()
        .map(|p| (p.thread_id.clone(), p))
        .collect();
    let users: HashMap<String, String> = state
        .store
        .list_users(user.workspace_id(), None, 500)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let tz = timezone(state, user.workspace_id()).await?;
    let older = (threads.len() as i64 >= PAGE_SIZE)
        .then(|| threads.last())
        .flatten()
        .map(|t| {
            ThreadCursor {
                last_message_at: t.last_message_at,
                id: t.id.clone(),
            }
            .encode()
        });
    let rows = threads
        .into_iter()
        .map(|t| ThreadRow {
            name: contact_name(t.contact_properties.as_deref()).unwrap_or_else(|| "Unknown contact".into()),
            preview: preview_text(previews.get(&t.id)),
            time: local_time(t.last_message_at, &tz),
            unread: t.unread,
            status: t.ticket_status.unwrap_or_default(),
            priority: t.priority.unwrap_or_default(),
            owner: t.owner_id.and_then(|o| users.get(&o).cloned()).unwrap_or_default(),
            channel: t.channel,
            id: t.id,
        })
        .collect();
    Ok((rows, older, label))
}

pub async fn page(State(state): State<AppState>, user: WebUser, Query(q): Query<InboxQuery>) -> UiResult<Response> {
    let view = q.view.clone().unwrap_or_else(|| "open".into());
    let search = q.q.clone().unwrap_or_default();
    let (rows, older, label) = rows(&state, &user, &view, &search, q.cursor.as_deref()).await?;
    let chrome = Chrome::build(&state, &user, &label, &view).await?;
    let notice = match (&q.error, &q.saved) {
        (Some(code), _) => Some(match code.as_str() {
            "view_name_taken" => "You already have a view with this name.".to_string(),
            "invalid_name" => "Give the view a name of 1 to 60 characters.".to_string(),
            "too_many_views" => "You have too many views; delete one first.".to_string(),
            other => format!("The view could not be saved ({other})."),
        }),
        (None, Some(_)) => Some("View saved.".to_string()),
        _ => None,
    };
    html(InboxPage {
        saved_view: view.starts_with("vw_"),
        chrome,
        view,
        view_label: label,
        q: search,
        rows,
        older,
        notice,
    })
}

/// `GET /inbox/list`: the list alone, for live updates.
pub async fn list_fragment(
    State(state): State<AppState>,
    user: WebUser,
    Query(q): Query<InboxQuery>,
) -> UiResult<Response> {
    let view = q.view.clone().unwrap_or_else(|| "open".into());
    let search = q.q.clone().unwrap_or_default();
    let (rows, older, _) = rows(&state, &user, &view, &search, q.cursor.as_deref()).await?;
    html(ListFragment {
        view,
        q: search,
        rows,
        older,
    })
}

#[derive(Template)]
#[template(path = "nav.html")]
struct NavFragment {
    chrome: Chrome,
}

/// `GET /inbox/nav?view=`: the views menu with fresh counts.
pub async fn nav_fragment(
    State(state): State<AppState>,
    user: WebUser,
    Query(q): Query<InboxQuery>,
) -> UiResult<Response> {
    let view = q.view.unwrap_or_default();
    html(NavFragment {
        chrome: Chrome::build(&state, &user, "", &view).await?,
    })
}

#[derive(Deserialize)]
pub struct SaveViewForm {
    name: String,
    view: String,
    #[serde(default)]
    q: String,
}

/// Saves the filters of the view being looked at (and its search) under a name.
pub async fn save_view(State(state): State<AppState>, posted: Posted<SaveViewForm>) -> UiResult<Response> {
    let user = &posted.user;
    let (mut filters, _) = view_filters(&state, user, &posted.form.view).await?;
    if !posted.form.q.trim().is_empty() {
        filters.q = Some(posted.form.q.clone());
    }
    let input = NewView {
        name: posted.form.name.clone(),
        filters,
    };
    match save(&state, user.workspace_id(), user.user_id(), input).await {
        Ok(v) => Ok(Redirect::to(&format!("/inbox?view={}&saved=1", v.id)).into_response()),
        Err(e) if !e.is_internal() => Ok(Redirect::to(&format!(
            "/inbox?view={}&q={}&error={}",
            urlencode(&posted.form.view),
            urlencode(&posted.form.q),
            e.code
        ))
        .into_response()),
        Err(e) => Err(UiError(e)),
    }
}

#[derive(Deserialize)]
pub struct Empty {}

pub async fn delete_view(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<Empty>,
) -> UiResult<Response> {
    let user = &posted.user;
    state
        .store
        .delete_saved_view(user.workspace_id(), user.user_id(), &id)
        .await
        .map_err(|e| match e {
            recado_store::StoreError::NotFound => UiError(crate::error::ApiError::not_found("view")),
            other => other.into(),
        })?;
    Ok(Redirect::to("/inbox").into_response())
}
