//! Segments (saved filters over contacts): `/api/v1/segments`. Every role
//! reads them and lists their contacts; only admins create, change and
//! delete them, as with the workspace's other shared settings. Rules live in
//! `recado_app::segments::service`.

use crate::auth::Caller;
use crate::contacts::ContactView;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiQuery};
use crate::list::{page, ListBody};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use recado_app::segments::service::{self, CountedSegment};
use recado_app::AppState;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/segments", post(create_segment).get(list_segments))
        .route(
            "/segments/{id}",
            get(get_segment).patch(update_segment).delete(delete_segment),
        )
        .route("/segments/{id}/contacts", get(segment_contacts))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "SMS subscribers", "filter": {"subscription": "sms", "op": "eq", "value": "subscribed"}}))]
pub struct SegmentInput {
    /// 1 to 200 characters.
    #[schema(pattern = "\\S", max_length = 200)]
    pub name: String,
    /// A condition (API "Segments (lists)"): `{"all": [...]}`, `{"any":
    /// [...]}` or a leaf about a property, a subscription or an event.
    #[schema(value_type = Object)]
    pub filter: Value,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentPatch {
    /// 1 to 200 characters.
    #[schema(pattern = "\\S", max_length = 200)]
    pub name: Option<String>,
    /// A new condition; absent keeps the current one.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    pub filter: Option<Value>,
}

/// A member that is present, even as `null` (which is then refused as a
/// condition rather than taken for "unchanged").
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

#[derive(Serialize, utoipa::ToSchema, Debug)]
pub struct SegmentView {
    pub id: String,
    pub name: String,
    #[schema(value_type = Object)]
    pub filter: Value,
    /// How many contacts match now.
    pub count: u64,
    pub created_at: String,
    pub updated_at: String,
}

impl From<CountedSegment> for SegmentView {
    fn from(c: CountedSegment) -> Self {
        SegmentView {
            filter: c.segment.filter.to_json(),
            id: c.segment.id,
            name: c.segment.name,
            count: c.count,
            created_at: recado_core::clock::to_rfc3339(c.segment.created_at),
            updated_at: recado_core::clock::to_rfc3339(c.segment.updated_at),
        }
    }
}

#[utoipa::path(post, path = "/api/v1/segments", request_body = SegmentInput,
    responses((status = 201, description = "the segment and how many contacts match now", body = SegmentView), (status = 403, description = "`forbidden`: admins only", body = crate::error::ErrorBody),
        (status = 422, description = "`invalid_name`, `invalid_condition` (`field` points into the filter)", body = crate::error::ErrorBody)))]
pub async fn create_segment(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<SegmentInput>,
) -> ApiResult<(StatusCode, Json<SegmentView>)> {
    caller.require_admin()?;
    let created = service::create(&state, &caller.workspace_id, &input.name, &input.filter).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Items per page: 50 by default, at most 500 (a larger number reads as 500, a smaller than 1 as 1).
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Newest first, each with its count.
#[utoipa::path(get, path = "/api/v1/segments",
    params(ListQuery),
    responses((status = 200, description = "segments, newest first", body = ListBody<SegmentView>)))]
pub async fn list_segments(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<ListBody<SegmentView>>> {
    let limit = recado_store::clamp_limit(q.limit);
    let rows = service::list(&state, &caller.workspace_id, q.cursor.as_deref(), limit).await?;
    Ok(Json(page(rows, limit, |s| &s.segment.id, SegmentView::from)))
}

#[utoipa::path(get, path = "/api/v1/segments/{id}", params(("id" = String, Path, description = "the segment's id")),
    responses((status = 200, description = "the segment", body = SegmentView)))]
pub async fn get_segment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<SegmentView>> {
    Ok(Json(service::get(&state, &caller.workspace_id, &id).await?.into()))
}

/// Renames a segment and/or replaces its filter.
#[utoipa::path(patch, path = "/api/v1/segments/{id}", params(("id" = String, Path, description = "the segment's id")), request_body = SegmentPatch,
    responses((status = 200, description = "the segment", body = SegmentView), (status = 403, description = "`forbidden`: admins only", body = crate::error::ErrorBody),
        (status = 422, description = "`invalid_name`, `invalid_condition` (`field` points into the filter)", body = crate::error::ErrorBody)))]
pub async fn update_segment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<SegmentPatch>,
) -> ApiResult<Json<SegmentView>> {
    caller.require_admin()?;
    let updated = service::update(
        &state,
        &caller.workspace_id,
        &id,
        input.name.as_deref(),
        input.filter.as_ref(),
    )
    .await?;
    Ok(Json(updated.into()))
}

#[utoipa::path(delete, path = "/api/v1/segments/{id}", params(("id" = String, Path, description = "the segment's id")),
    responses((status = 204, description = "the segment is gone"), (status = 403, description = "`forbidden`: admins only", body = crate::error::ErrorBody),
        (status = 409, description = "`segment_in_use`: a workflow names the segment", body = crate::error::ErrorBody)))]
pub async fn delete_segment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require_admin()?;
    service::delete(&state, &caller.workspace_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The contacts that match the segment now, by ascending id (as the
/// contacts API shows them).
#[utoipa::path(get, path = "/api/v1/segments/{id}/contacts", params(("id" = String, Path, description = "the segment's id"), ListQuery),
    responses((status = 200, description = "the members", body = ListBody<ContactView>)))]
pub async fn segment_contacts(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<ListBody<ContactView>>> {
    let limit = recado_store::clamp_limit(q.limit);
    let rows = service::members(
        &state,
        &caller.workspace_id,
        &id,
        q.cursor.as_deref(),
        u32::try_from(limit).unwrap_or(500),
    )
    .await?;
    Ok(Json(page(rows, limit, |c| &c.id, ContactView::from)))
}
