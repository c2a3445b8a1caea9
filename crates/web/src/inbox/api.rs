//! `GET /api/v1/threads`, `GET|PATCH /api/v1/threads/{id}`,
//! `POST /api/v1/threads/{id}/messages` and the view counts.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery};
use crate::list::ListBody;
use crate::messages::view::{message_view, MessageView};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use recado_app::inbox::filters::{parse_cursor, ViewFilters};
use recado_app::inbox::service::{self, SessionView, ThreadItem, TicketPatch, TicketView};
use recado_app::whatsapp::send::{TemplateInput, WhatsAppContent};
use recado_app::AppState;
use recado_channels::whatsapp::OutboundContent;
use recado_store::inbox::ThreadCursor;
use serde::{Deserialize, Deserializer, Serialize};

#[derive(Deserialize, Debug, Default)]
pub struct ThreadQuery {
    status: Option<String>,
    channel: Option<String>,
    owner: Option<String>,
    q: Option<String>,
    /// A saved view's id: its filters apply, the other parameters override them.
    view: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// The filters of a list request, a saved view's filled in.
async fn filters_of(state: &AppState, caller: &Caller, q: &ThreadQuery) -> ApiResult<ViewFilters> {
    let mut base = match q.view.as_deref() {
        Some(id) => super::views::load_filters(state, &caller.workspace_id, &caller.user_id, id).await?,
        None => ViewFilters::default(),
    };
    for (slot, given) in [
        (&mut base.status, &q.status),
        (&mut base.channel, &q.channel),
        (&mut base.owner, &q.owner),
        (&mut base.q, &q.q),
    ] {
        if given.is_some() {
            slot.clone_from(given);
        }
    }
    Ok(base)
}

#[utoipa::path(get, path = "/api/v1/threads",
    params(("status" = Option<String>, Query, description = "open or closed"), ("channel" = Option<String>, Query, description = "whatsapp, sms or voice"),
           ("owner" = Option<String>, Query, description = "me, none or a user id"), ("q" = Option<String>, Query, description = "words of message texts and contact names"),
           ("view" = Option<String>, Query, description = "a saved view id"), ("limit" = Option<i64>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, description = "{items: [thread], next_cursor}"), (status = 422, body = crate::error::ErrorBody)))]
pub async fn list_threads(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ThreadQuery>,
) -> ApiResult<Json<ListBody<ThreadItem>>> {
    let filters = filters_of(&state, &caller, &q).await?;
    let mut filter = filters.check(&state, &caller.workspace_id, &caller.user_id).await?;
    filter.limit = recado_store::clamp_limit(q.limit);
    filter.after = parse_cursor(q.cursor.as_deref())?;
    let rows = state.store.inbox_threads(&caller.workspace_id, &filter).await?;
    let next_cursor = (rows.len() as i64 >= filter.limit)
        .then(|| rows.last())
        .flatten()
        .map(|t| {
            ThreadCursor {
                last_message_at: t.last_message_at,
                id: t.id.clone(),
            }
            .encode()
        });
    Ok(Json(ListBody {
        items: rows.into_iter().map(ThreadItem::from).collect(),
        next_cursor,
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ViewCount {
    id: String,
    name: String,
    count: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CountsView {
    open: i64,
    closed: i64,
    mine: i64,
    unassigned: i64,
    whatsapp: i64,
    sms: i64,
    views: Vec<ViewCount>,
}

/// The thread counts of every view the caller sees: the built-in ones and
/// the caller's saved views.
pub async fn counts_for(
    state: &AppState,
    workspace_id: &str,
    user_id: &str,
) -> ApiResult<(
    recado_store::inbox::InboxCounts,
    Vec<(recado_store::inbox::SavedView, i64)>,
)> {
    let counts = state.store.inbox_counts(workspace_id, user_id).await?;
    let mut views = Vec::new();
    for v in state.store.saved_views(workspace_id, user_id).await? {
        let filters: ViewFilters = serde_json::from_str(&v.filters).unwrap_or_default();
        // A view whose owner was deleted since counts what it can: nothing.
        let n = match filters.check(state, workspace_id, user_id).await {
            Ok(f) => state.store.count_inbox_threads(workspace_id, &f).await?,
            Err(e) if !e.is_internal() => 0,
            Err(e) => return Err(e.into()),
        };
        views.push((v, n));
    }
    Ok((counts, views))
}

#[utoipa::path(get, path = "/api/v1/threads/counts", responses((status = 200, body = CountsView)))]
pub async fn counts(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<CountsView>> {
    let (c, views) = counts_for(&state, &caller.workspace_id, &caller.user_id).await?;
    Ok(Json(CountsView {
        open: c.open,
        closed: c.closed,
        mine: c.mine,
        unassigned: c.unassigned,
        whatsapp: c.whatsapp,
        sms: c.sms,
        views: views
            .into_iter()
            .map(|(v, count)| ViewCount {
                id: v.id,
                name: v.name,
                count,
            })
            .collect(),
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ThreadDetail {
    id: String,
    contact_id: String,
    channel: String,
    channel_id: String,
    /// The hub-side number the thread is on (phone_number_id for WhatsApp).
    account: String,
    ticket: Option<TicketView>,
    last_message_at: String,
    unread: i64,
    session: SessionView,
    messages: Vec<MessageView>,
}

#[utoipa::path(get, path = "/api/v1/threads/{id}", responses((status = 200, body = ThreadDetail), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_thread(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ThreadDetail>> {
    let mut c = service::conversation(&state, &caller.workspace_id, &id).await?;
    let messages = c
        .messages
        .into_iter()
        .map(|m| {
            let events = c.events.remove(m.id.as_str()).unwrap_or_default();
            message_view(m, events)
        })
        .collect();
    Ok(Json(ThreadDetail {
        id: c.thread.id.into(),
        contact_id: c.thread.contact_id.into(),
        channel: c.thread.channel,
        channel_id: c.thread.channel_id,
        account: c.thread.account,
        ticket: c.ticket.map(TicketView::from),
        last_message_at: recado_core::clock::to_rfc3339(c.thread.last_message_at),
        unread: c.thread.unread,
        session: c.session,
        messages,
    }))
}

#[derive(Deserialize, utoipa::ToSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct ThreadMessageInput {
    text: Option<String>,
    template: Option<TemplateInput>,
}

#[utoipa::path(post, path = "/api/v1/threads/{id}/messages", request_body = ThreadMessageInput,
    responses((status = 202, body = MessageView), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn post_message(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ThreadMessageInput>,
) -> ApiResult<(StatusCode, Json<MessageView>)> {
    let thread = service::load_thread(&state, &caller.workspace_id, &id).await?;
    let content = content_of(input.text, input.template)?;
    let record = service::reply(&state, &thread, content).await?;
    let events = state.store.message_events(&record.id).await?;
    Ok((StatusCode::ACCEPTED, Json(message_view(record, events))))
}

/// Text or template, exactly one of them.
pub fn content_of(text: Option<String>, template: Option<TemplateInput>) -> ApiResult<WhatsAppContent> {
    match (text, template) {
        (Some(text), None) => {
            if text.trim().is_empty() {
                return Err(ApiError::invalid("empty_text", "text", "the text is empty"));
            }
            Ok(WhatsAppContent::FreeForm(OutboundContent::Text {
                preview_url: text.contains("http"),
                body: text,
            }))
        }
        (None, Some(t)) => Ok(WhatsAppContent::Template(t)),
        (None, None) => Err(ApiError::invalid(
            "content_required",
            "text",
            "send a text or a template",
        )),
        (Some(_), Some(_)) => Err(ApiError::invalid(
            "ambiguous_content",
            "template",
            "send either a text or a template, not both",
        )),
    }
}

/// `owner_id` absent leaves the owner alone; `null` clears it.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Deserialize, utoipa::ToSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct ThreadPatch {
    /// `open` or `closed`.
    status: Option<String>,
    /// A user of the workspace, or null to unassign.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    owner_id: Option<Option<String>>,
    /// `low`, `normal`, `high` or `urgent`.
    priority: Option<String>,
}

#[utoipa::path(patch, path = "/api/v1/threads/{id}", request_body = ThreadPatch,
    responses((status = 200, body = ThreadItem), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn patch_thread(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ThreadPatch>,
) -> ApiResult<Json<ThreadItem>> {
    service::load_thread(&state, &caller.workspace_id, &id).await?;
    let patch = TicketPatch {
        status: input.status,
        owner_id: input.owner_id,
        priority: input.priority,
    };
    service::change_ticket(&state, &caller.workspace_id, &id, patch).await?;
    let thread = service::load_thread(&state, &caller.workspace_id, &id).await?;
    let ticket = state.store.current_ticket(&thread.id).await?;
    let contact = state.store.contact(&caller.workspace_id, &thread.contact_id).await.ok();
    Ok(Json(ThreadItem {
        id: thread.id.into(),
        contact_name: contact.and_then(|c| service::contact_name(serde_json::to_string(&c.properties).ok().as_deref())),
        contact_id: thread.contact_id.into(),
        channel: thread.channel,
        channel_id: thread.channel_id,
        ticket: ticket.map(TicketView::from),
        last_message_at: recado_core::clock::to_rfc3339(thread.last_message_at),
        unread: thread.unread,
    }))
}
