use super::view::{message_view, MessageView};
use crate::auth::Caller;
use crate::contacts::routes::workspace_of;
use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_json, read_body, require_json_content_type, ApiQuery};
use crate::list::{page, ListBody};
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use recado_app::error::AppError;
use recado_app::messages::prepared::Written;
use recado_app::messages::request::{send_requested, MessageInput};
use recado_app::AppState;
use recado_core::consent::Channel;
use recado_core::delivery::MessageStatus;
use recado_store::messages::MessageRecord;
use serde::Deserialize;

/// The routes; a send takes an `Idempotency-Key` (see `crate::idempotency`).
pub fn routes(state: &AppState) -> Router<AppState> {
    // `route_layer`: a method the route does not have stays a plain 405.
    let idempotent = axum::middleware::from_fn_with_state(state.clone(), crate::idempotency::idempotent);
    Router::new()
        .route(
            "/messages",
            post(create_message).route_layer(idempotent).get(list_messages),
        )
        .route("/messages/{id}", get(get_message))
}

#[utoipa::path(post, path = "/api/v1/messages", request_body = MessageInput,
    params(("Idempotency-Key" = Option<String>, Header,
        description = "The same key and body within 24 h answers the first response again and sends nothing new (at most 255 characters)")),
    responses((status = 202, description = "the message, queued", body = MessageView),
        (status = 404, description = "`not_found`: the contact or channel named does not exist", body = crate::error::ErrorBody),
        (status = 409, description = "refused, recorded as `NOT_SENT`: `not_subscribed`, `outside_session_window`, `quota_exhausted`, `messaging_limit_reached`; `idempotency_key_reused` (the key came with another body), `idempotency_key_in_use`", body = crate::error::ErrorBody),
        (status = 422, description = "`template_not_approved`, `template_parameters`, `invalid_sender`, `too_many_segments`, `invalid_phone`, `invalid_channel`, `no_channel`, `empty_text`, `invalid_idempotency_key` …; `field` names the member", body = crate::error::ErrorBody)))]
pub async fn create_message(
    State(state): State<AppState>,
    caller: Caller,
    req: Request,
) -> ApiResult<(StatusCode, Json<MessageView>)> {
    require_json_content_type(req.headers())?;
    let body = read_body(req, &state).await?;
    let input: MessageInput = parse_json(&body)?;
    let ws = workspace_of(&state, &caller).await?;
    let record = send_requested(&state, &ws, input).await?;
    Ok((StatusCode::ACCEPTED, Json(as_recorded(record))))
}

/// A send is answered as it was recorded: queued, with that one event
/// (reading it back would cost a query per send).
fn as_recorded(record: MessageRecord) -> MessageView {
    let queued = recado_store::messages::MessageEvent {
        id: String::new(),
        message_id: record.id.to_string(),
        kind: record.status.as_str().to_string(),
        at: record.created_at,
        details: "{}".into(),
    };
    message_view(record, vec![queued])
}

/// The answer `create_message` gives for what the send path wrote: status
/// and body, stored under the request's idempotency key in the send's own
/// transaction.
pub fn answer_for(written: &Written) -> (u16, String) {
    match written {
        Written::Queued(record) => (
            StatusCode::ACCEPTED.as_u16(),
            serde_json::to_string(&as_recorded(record.clone())).unwrap_or_default(),
        ),
        Written::Refused(_, refusal) => {
            let error = ApiError::from(AppError::from(refusal.clone()));
            let status = error.status.as_u16();
            (status, serde_json::to_string(&error.into_body()).unwrap_or_default())
        }
    }
}

#[derive(Deserialize, Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MessageQuery {
    /// A message status (`queued`, `sent`, `delivered`, `read`, `failed`,
    /// `not_sent`, `not_delivered`, `uncertain`, `received`).
    #[param(schema_with = message_status)]
    status: Option<String>,
    #[param(value_type = Option<crate::consent::routes::ChannelName>)]
    channel: Option<String>,
    /// Items per page: 50 by default, at most 500 (a larger number reads as 500, a smaller than 1 as 1).
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

fn message_status() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    crate::openapi::schema(serde_json::json!({"type": "string", "enum": MESSAGE_STATUSES}))
}

/// Every status a message can have.
pub const MESSAGE_STATUSES: [&str; 9] = [
    "queued",
    "sent",
    "delivered",
    "read",
    "failed",
    "not_sent",
    "not_delivered",
    "uncertain",
    "received",
];

/// The workspace's messages, newest first; `?status=uncertain` lists the
/// sends whose outcome the hub cannot know (a lost SMPP answer), which are
/// never sent again silently.
#[utoipa::path(get, path = "/api/v1/messages", params(MessageQuery),
    responses((status = 200, description = "messages, newest first, without their events", body = ListBody<MessageView>),
        (status = 422, description = "`invalid_status`, `invalid_channel`", body = crate::error::ErrorBody)))]
pub async fn list_messages(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<MessageQuery>,
) -> ApiResult<Json<ListBody<MessageView>>> {
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(
            s.parse::<MessageStatus>()
                .map_err(|_| ApiError::invalid("invalid_status", "status", format!("`{s}` is not a message status")))?,
        ),
    };
    let channel = match q.channel.as_deref() {
        None => None,
        Some(c) => Some(c.parse::<Channel>().map_err(|_| {
            ApiError::invalid(
                "invalid_channel",
                "channel",
                format!("`{c}` is not a channel (whatsapp, sms, voice)"),
            )
        })?),
    };
    let limit = recado_store::clamp_limit(q.limit);
    let rows = state
        .store
        .messages(&caller.workspace_id, status, channel, q.cursor.as_deref(), limit)
        .await?;
    // The list shows each message as GET /api/v1/messages/{id} does, without its events.
    Ok(Json(page(rows, limit, |m| &m.id, |m| message_view(m, Vec::new()))))
}

#[utoipa::path(get, path = "/api/v1/messages/{id}", params(("id" = String, Path, description = "the message's id")),
    responses((status = 200, description = "the message and its events", body = MessageView)))]
pub async fn get_message(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<MessageView>> {
    let m = state
        .store
        .message(&caller.workspace_id, &id)
        .await
        .map_err(|e| match e {
            recado_store::StoreError::NotFound => ApiError::not_found("message"),
            other => other.into(),
        })?;
    let events = state.store.message_events(&m.id).await?;
    Ok(Json(message_view(m, events)))
}
