//! Broadcasts (API "Campaigns and broadcasts"): estimate, create (now or
//! scheduled), read, pause, resume and cancel. Admins run them, as they own
//! the workspace's other shared sends; rules live in
//! `recado_app::broadcasts`.

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::ApiQuery;
use crate::extract::{ApiJson, Page};
use crate::list::{page, ListBody};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use recado_app::broadcasts::estimate::Estimate;
use recado_app::broadcasts::{self as service, BroadcastRequest, BroadcastState};
use recado_app::{AppError, AppState};
use recado_core::broadcasts::Command;
use recado_core::clock::to_rfc3339;
use recado_core::consent::Channel;
use recado_flow::definition::{TemplateRef, Utm};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/broadcasts", post(create_broadcast).get(list_broadcasts))
        .route("/broadcasts/estimate", post(estimate_broadcast))
        .route("/broadcasts/{id}", get(get_broadcast))
        .route("/broadcasts/{id}/pause", post(pause_broadcast))
        .route("/broadcasts/{id}/resume", post(resume_broadcast))
        .route("/broadcasts/{id}/cancel", post(cancel_broadcast))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BroadcastInput {
    /// The campaign's name; `BROADCAST_{CHANNEL}_{YEAR}_{MONTH}` when absent.
    pub name: Option<String>,
    pub segment_id: String,
    /// `sms` or `whatsapp`.
    #[schema(value_type = crate::consent::routes::ChannelName)]
    pub channel: Channel,
    pub channel_id: Option<String>,
    /// The SMS sender; the channel's default when absent.
    pub from: Option<String>,
    /// The SMS text, with `{{contact.*}}` tokens and `{UNSUB_URL}`.
    pub text: Option<String>,
    /// The WhatsApp template: `{"name", "language", "parameters"}`.
    #[schema(value_type = Option<Object>)]
    #[serde(default, deserialize_with = "recado_core::json_members::optional_object")]
    pub template: Option<TemplateRef>,
    #[serde(default)]
    pub shorten_urls: bool,
    #[schema(value_type = Option<Object>)]
    #[serde(default, deserialize_with = "recado_core::json_members::optional_object")]
    pub utm: Option<Utm>,
    /// `transliterate` (default) or `auto`.
    #[schema(schema_with = crate::sms_api::policy)]
    pub policy: Option<String>,
    /// RFC 3339; now when absent.
    #[schema(format = DateTime)]
    pub scheduled_at: Option<String>,
}

impl BroadcastInput {
    fn request(self) -> Result<BroadcastRequest, AppError> {
        let scheduled_at = crate::extract::time_param(self.scheduled_at.as_deref(), "scheduled_at")?;
        Ok(BroadcastRequest {
            name: self.name,
            segment_id: self.segment_id,
            channel: Some(self.channel),
            channel_id: self.channel_id,
            from: self.from,
            text: self.text,
            template: self.template,
            shorten_urls: self.shorten_urls,
            utm: self.utm,
            policy: self.policy,
            scheduled_at,
        })
    }
}

#[derive(Serialize, utoipa::ToSchema, Debug)]
pub struct BroadcastView {
    pub id: String,
    pub campaign_id: String,
    /// The campaign's name.
    pub name: String,
    pub segment_id: String,
    pub channel: String,
    /// `scheduled`, `preparing`, `sending`, `paused`, `done` or `cancelled`.
    pub status: String,
    /// Recipients prepared (each has a message: queued or refused).
    pub prepared: i64,
    /// Messages submitted to the provider.
    pub sent: i64,
    pub scheduled_at: String,
    pub created_at: String,
    pub finished_at: Option<String>,
}

impl From<BroadcastState> for BroadcastView {
    fn from(s: BroadcastState) -> Self {
        let b = s.broadcast;
        BroadcastView {
            id: b.id,
            campaign_id: b.campaign_id,
            name: s.campaign_name,
            segment_id: b.segment_id,
            channel: b.channel.as_str().to_string(),
            status: b.status.as_str().to_string(),
            prepared: b.prepared,
            sent: s.sent,
            scheduled_at: to_rfc3339(b.scheduled_at),
            created_at: to_rfc3339(b.created_at),
            finished_at: b.finished_at.map(to_rfc3339),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema, Debug)]
pub struct PartsView {
    pub total: u64,
    pub gsm7_messages: u64,
    pub ucs2_messages: u64,
}

#[derive(Serialize, utoipa::ToSchema, Debug)]
pub struct EstimateView {
    /// Members of the segment now.
    pub recipients: u64,
    /// Members that will not be sent to, by reason (`not_subscribed`,
    /// `invalid_phone`, `quota_exhausted`, …).
    pub excluded: BTreeMap<String, u64>,
    /// Messages that will be sent.
    pub messages: u64,
    pub parts: PartsView,
    /// WhatsApp conversations the sends open.
    pub conversations: u64,
    /// What is left of the monthly WhatsApp conversation quota.
    pub quota_remaining: Option<u64>,
    /// The quota runs out part way: the rest is refused `quota_exhausted`.
    pub stops_at_quota: bool,
    /// Seconds the sends take at the channel's rate.
    pub eta_seconds: u64,
}

impl From<Estimate> for EstimateView {
    fn from(e: Estimate) -> Self {
        EstimateView {
            recipients: e.recipients,
            excluded: e.excluded,
            messages: e.messages,
            parts: PartsView {
                total: e.parts,
                gsm7_messages: e.gsm7_messages,
                ucs2_messages: e.ucs2_messages,
            },
            conversations: e.conversations,
            quota_remaining: e.quota_remaining,
            stops_at_quota: e.stops_at_quota,
            eta_seconds: e.eta_seconds,
        }
    }
}

async fn workspace(state: &AppState, caller: &Caller) -> Result<recado_store::workspaces::Workspace, AppError> {
    Ok(state.store.workspace(&caller.workspace_id).await?)
}

/// What a broadcast would do, member by member, without sending anything.
#[utoipa::path(post, path = "/api/v1/broadcasts/estimate", request_body = BroadcastInput,
    responses((status = 200, description = "what the broadcast would do", body = EstimateView), (status = 403, description = "`forbidden`: admins only", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: the segment or channel named does not exist", body = crate::error::ErrorBody),
        (status = 422, description = "`invalid_time`, `invalid_channel`, `no_channel`, `content_required`, `empty_text`, `invalid_sender`, `template_not_approved`, `template_parameters` …; `field` names the member", body = crate::error::ErrorBody)))]
pub async fn estimate_broadcast(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<BroadcastInput>,
) -> ApiResult<Json<EstimateView>> {
    caller.require_admin()?;
    let ws = workspace(&state, &caller).await?;
    let estimate = recado_app::broadcasts::estimate::estimate(&state, &ws, &input.request()?).await?;
    Ok(Json(estimate.into()))
}

#[utoipa::path(post, path = "/api/v1/broadcasts", request_body = BroadcastInput,
    responses((status = 201, description = "the broadcast, scheduled or preparing", body = BroadcastView), (status = 403, description = "`forbidden`: admins only", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: the segment or channel named does not exist", body = crate::error::ErrorBody),
        (status = 409, description = "`campaign_exists`", body = crate::error::ErrorBody),
        (status = 422, description = "`invalid_time`, `invalid_channel`, `no_channel`, `content_required`, `empty_text`, `invalid_sender`, `template_not_approved`, `template_parameters` …; `field` names the member", body = crate::error::ErrorBody)))]
pub async fn create_broadcast(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<BroadcastInput>,
) -> ApiResult<(StatusCode, Json<BroadcastView>)> {
    caller.require_admin()?;
    let ws = workspace(&state, &caller).await?;
    let created = service::create(&state, &ws, Some(&caller.user_id), &input.request()?).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Newest first.
#[utoipa::path(get, path = "/api/v1/broadcasts",
    params(Page),
    responses((status = 200, description = "broadcasts, newest first", body = ListBody<BroadcastView>)))]
pub async fn list_broadcasts(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<Page>,
) -> ApiResult<Json<ListBody<BroadcastView>>> {
    let limit = q.limit();
    let rows = service::list(&state, &caller.workspace_id, q.cursor.as_deref(), limit).await?;
    Ok(Json(page(rows, limit, |s| &s.broadcast.id, BroadcastView::from)))
}

#[utoipa::path(get, path = "/api/v1/broadcasts/{id}", params(("id" = String, Path, description = "the broadcast's id")),
    responses((status = 200, description = "the broadcast", body = BroadcastView)))]
pub async fn get_broadcast(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<BroadcastView>> {
    Ok(Json(service::get(&state, &caller.workspace_id, &id).await?.into()))
}

async fn run(state: AppState, caller: Caller, id: String, command: Command) -> ApiResult<Json<BroadcastView>> {
    caller.require_admin()?;
    Ok(Json(
        service::command(&state, &caller.workspace_id, &id, command)
            .await?
            .into(),
    ))
}

/// Stops preparing and submitting at once; messages not yet submitted wait.
#[utoipa::path(post, path = "/api/v1/broadcasts/{id}/pause", params(("id" = String, Path, description = "the broadcast's id")),
    responses((status = 200, description = "the broadcast", body = BroadcastView), (status = 403, description = "`forbidden`: admins only", body = crate::error::ErrorBody),
        (status = 409, description = "`broadcast_state`", body = crate::error::ErrorBody)))]
pub async fn pause_broadcast(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<BroadcastView>> {
    run(state, caller, id, Command::Pause).await
}

#[utoipa::path(post, path = "/api/v1/broadcasts/{id}/resume", params(("id" = String, Path, description = "the broadcast's id")),
    responses((status = 200, description = "the broadcast", body = BroadcastView), (status = 403, description = "`forbidden`: admins only", body = crate::error::ErrorBody),
        (status = 409, description = "`broadcast_state`", body = crate::error::ErrorBody)))]
pub async fn resume_broadcast(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<BroadcastView>> {
    run(state, caller, id, Command::Resume).await
}

/// Stops for good: recipients not prepared get nothing, messages not yet
/// submitted are settled `not_sent` (`broadcast_cancelled`).
#[utoipa::path(post, path = "/api/v1/broadcasts/{id}/cancel", params(("id" = String, Path, description = "the broadcast's id")),
    responses((status = 200, description = "the broadcast", body = BroadcastView), (status = 403, description = "`forbidden`: admins only", body = crate::error::ErrorBody),
        (status = 409, description = "`broadcast_state`", body = crate::error::ErrorBody)))]
pub async fn cancel_broadcast(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<BroadcastView>> {
    run(state, caller, id, Command::Cancel).await
}
