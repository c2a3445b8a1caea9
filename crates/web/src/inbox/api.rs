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

#[derive(Deserialize, Debug, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ThreadQuery {
    /// `open` or `closed`.
    status: Option<String>,
    /// `whatsapp`, `sms` or `voice`.
    channel: Option<String>,
    /// `me`, `none` or a user id.
    owner: Option<String>,
    /// Words of message texts and contact names.
    q: Option<String>,
    /// A saved view's id: its filters apply, the other parameters override them.
    view: Option<String>,
    /// Items per page: 50 by default, at most 500 (a larger number reads as 500, a smaller than 1 as 1).
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
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

#[utoipa::path(get, path = "/api/v1/threads", params(ThreadQuery),
    responses((status = 200, description = "threads, latest message first", body = ListBody<ThreadItem>),
        (status = 404, description = "`not_found`: no such saved view", body = crate::error::ErrorBody),
        (status = 422, description = "`invalid_status`, `invalid_channel`, `invalid_owner`, `invalid_cursor`", body = crate::error::ErrorBody)))]
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

#[utoipa::path(get, path = "/api/v1/threads/counts", responses((status = 200, description = "threads in each built-in view and each of the caller's saved views", body = CountsView)))]
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

#[utoipa::path(get, path = "/api/v1/threads/{id}", params(("id" = String, Path, description = "the thread's id")),
    responses((status = 200, description = "the thread with its messages and session", body = ThreadDetail)))]
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
    #[serde(default, deserialize_with = "recado_core::json_members::optional_object")]
    template: Option<TemplateInput>,
}

#[utoipa::path(post, path = "/api/v1/threads/{id}/messages", params(("id" = String, Path, description = "the thread's id")), request_body = ThreadMessageInput,
    responses((status = 202, description = "the reply, queued", body = MessageView),
        (status = 409, description = "the refusals of `POST /api/v1/messages`: `not_subscribed`, `outside_session_window`, `quota_exhausted`, `messaging_limit_reached`", body = crate::error::ErrorBody),
        (status = 422, description = "`content_required`, `ambiguous_content`, `empty_text`, `template_not_approved`, `template_parameters`, `too_many_segments`", body = crate::error::ErrorBody)))]
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
    #[schema(schema_with = ticket_status)]
    status: Option<String>,
    /// A user of the workspace, or null to unassign.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    owner_id: Option<Option<String>>,
    /// `low`, `normal`, `high` or `urgent`.
    #[schema(schema_with = ticket_priority)]
    priority: Option<String>,
}

fn ticket_status() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    crate::openapi::schema(serde_json::json!({"type": ["string", "null"], "enum": ["open", "closed", null]}))
}

fn ticket_priority() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    crate::openapi::schema(
        serde_json::json!({"type": ["string", "null"], "enum": ["low", "normal", "high", "urgent", null]}),
    )
}

#[utoipa::path(patch, path = "/api/v1/threads/{id}", params(("id" = String, Path, description = "the thread's id")), request_body = ThreadPatch,
    responses((status = 200, description = "the thread", body = ThreadItem),
        (status = 422, description = "`invalid_status`, `invalid_owner`, `invalid_priority`", body = crate::error::ErrorBody)))]
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
