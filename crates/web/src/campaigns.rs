//! Campaigns (API "Campaigns and broadcasts"): `/api/v1/campaigns`, their
//! statistics, time series, recipients and CSV export. Every role reads
//! them; rules live in `recado_app::campaigns`.

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiQuery};
use crate::list::ListBody;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use recado_app::campaigns::{self as service, CampaignWithStats};
use recado_app::{AppError, AppState};
use recado_core::campaigns::{recipient_state, Bucket, Point, Source};
use recado_core::clock::to_rfc3339;
use recado_core::consent::Channel;
use recado_store::campaigns::{CampaignFilter, RecipientRow};
use serde::{Deserialize, Serialize};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/campaigns", get(list_campaigns).post(create_campaign))
        .route("/campaigns/{id}", get(get_campaign).patch(rename_campaign))
        .route("/campaigns/{id}/series", get(campaign_series))
        .route("/campaigns/{id}/recipients", get(campaign_recipients))
        .route("/campaigns/{id}/export.csv", get(export_recipients))
}

#[derive(Serialize, utoipa::ToSchema, Debug)]
pub struct CampaignView {
    pub id: String,
    pub name: String,
    /// `sms`, `whatsapp` or `voice`.
    pub channel: String,
    /// `api`, `workflow`, `broadcast`, `crm`, `ivr`, `inbox` or `system`.
    pub source: String,
    pub created_at: String,
    /// Counters and rates; each rate is `null` when its denominator is 0.
    #[schema(value_type = Object)]
    pub stats: recado_core::campaigns::Stats,
}

impl From<CampaignWithStats> for CampaignView {
    fn from(c: CampaignWithStats) -> Self {
        CampaignView {
            id: c.campaign.id,
            name: c.campaign.name,
            channel: c.campaign.channel.as_str().to_string(),
            source: c.campaign.source.as_str().to_string(),
            created_at: to_rfc3339(c.campaign.created_at),
            stats: c.stats,
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Black Friday", "channel": "sms"}))]
pub struct CampaignInput {
    /// 1 to 200 characters without control characters, unique in the workspace.
    #[schema(
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$",
        max_length = 200
    )]
    pub name: String,
    #[schema(value_type = crate::consent::routes::ChannelName)]
    pub channel: Channel,
    /// Defaults to `api`.
    #[schema(schema_with = campaign_source)]
    pub source: Option<Source>,
}

fn campaign_source() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    crate::openapi::schema(serde_json::json!({"type": ["string", "null"],
        "enum": ["api", "workflow", "broadcast", "crm", "ivr", "inbox", "system", null]}))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignPatch {
    /// 1 to 200 characters without control characters, unique in the workspace.
    #[schema(
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$",
        max_length = 200
    )]
    pub name: String,
}

#[utoipa::path(post, path = "/api/v1/campaigns", request_body = CampaignInput,
    responses((status = 201, body = CampaignView),
        (status = 409, description = "`campaign_exists`", body = crate::error::ErrorBody),
        (status = 422, description = "`invalid_campaign`: 1 to 200 characters without control characters", body = crate::error::ErrorBody)))]
pub async fn create_campaign(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<CampaignInput>,
) -> ApiResult<(StatusCode, Json<CampaignView>)> {
    let created = service::create(
        &state,
        &caller.workspace_id,
        &input.name,
        input.channel,
        input.source.unwrap_or(Source::Api),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `sms`, `whatsapp` or `voice` (empty: every channel).
    channel: Option<String>,
    /// RFC 3339: campaigns created since then.
    #[param(format = DateTime)]
    since: Option<String>,
    /// Items per page: 50 by default, at most 500 (a larger number reads as 500, a smaller than 1 as 1).
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The list position after a campaign: `<created_at ms>:<id>`.
fn campaign_cursor(c: &CampaignWithStats) -> String {
    format!("{}:{}", c.campaign.created_at, c.campaign.id)
}

fn parse_cursor(cursor: &str) -> Result<(i64, String), AppError> {
    cursor
        .split_once(':')
        .and_then(|(at, id)| Some((at.parse().ok()?, id.to_string())))
        .ok_or_else(|| AppError::invalid("invalid_cursor", "cursor", "not a cursor this list gave"))
}

/// Newest first, each with its statistics.
#[utoipa::path(get, path = "/api/v1/campaigns",
    params(ListQuery),
    responses((status = 200, description = "campaigns, newest first", body = ListBody<CampaignView>),
        (status = 422, description = "`invalid_channel`, `invalid_time`, `invalid_cursor`", body = crate::error::ErrorBody)))]
pub async fn list_campaigns(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<ListBody<CampaignView>>> {
    let channel = match q.channel.as_deref() {
        None | Some("") => None,
        Some(c) => Some(
            Channel::ALL
                .into_iter()
                .find(|k| k.as_str() == c)
                .ok_or_else(|| AppError::invalid("invalid_channel", "channel", "channel is sms, whatsapp or voice"))?,
        ),
    };
    let limit = recado_store::clamp_limit(q.limit);
    let filter = CampaignFilter {
        channel,
        since: crate::extract::time_param(q.since.as_deref(), "since")?,
        after: q.cursor.as_deref().map(parse_cursor).transpose()?,
        limit,
    };
    let rows = service::list(&state, &caller.workspace_id, &filter).await?;
    let next_cursor = (rows.len() as i64 >= limit)
        .then(|| rows.last().map(campaign_cursor))
        .flatten();
    Ok(Json(ListBody {
        items: rows.into_iter().map(CampaignView::from).collect(),
        next_cursor,
    }))
}

#[utoipa::path(get, path = "/api/v1/campaigns/{id}", params(("id" = String, Path, description = "the campaign's id")),
    responses((status = 200, description = "the campaign and its statistics", body = CampaignView)))]
pub async fn get_campaign(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<CampaignView>> {
    Ok(Json(service::get(&state, &caller.workspace_id, &id).await?.into()))
}

/// Renames a campaign; its statistics stay.
#[utoipa::path(patch, path = "/api/v1/campaigns/{id}", params(("id" = String, Path, description = "the campaign's id")), request_body = CampaignPatch,
    responses((status = 200, description = "the campaign", body = CampaignView),
        (status = 409, description = "`campaign_exists`", body = crate::error::ErrorBody),
        (status = 422, description = "`invalid_campaign`: 1 to 200 characters without control characters", body = crate::error::ErrorBody)))]
pub async fn rename_campaign(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<CampaignPatch>,
) -> ApiResult<Json<CampaignView>> {
    Ok(Json(
        service::rename(&state, &caller.workspace_id, &id, &input.name)
            .await?
            .into(),
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SeriesQuery {
    /// `hour` (default) or `day`.
    #[param(schema_with = bucket)]
    bucket: Option<Bucket>,
}

fn recipient_state_schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    let mut states = vec![""];
    states.extend(recado_core::campaigns::RECIPIENT_STATES);
    crate::openapi::schema(serde_json::json!({"type": "string", "enum": states}))
}

fn bucket() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    crate::openapi::schema(serde_json::json!({"type": "string", "enum": ["hour", "day"]}))
}

#[derive(Serialize, utoipa::ToSchema, Debug)]
pub struct PointView {
    pub at: String,
    pub sent: i64,
    pub delivered: i64,
    pub not_delivered: i64,
    pub clicked: i64,
    pub replied: i64,
    pub unsubscribed: i64,
}

impl PointView {
    fn of((at, p): (i64, Point)) -> PointView {
        PointView {
            at: to_rfc3339(at),
            sent: p.sent,
            delivered: p.delivered,
            not_delivered: p.not_delivered,
            clicked: p.clicked,
            replied: p.replied,
            unsubscribed: p.unsubscribed,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema, Debug)]
pub struct SeriesView {
    pub items: Vec<PointView>,
}

/// Counters per hour (default) or per day in the workspace's time zone,
/// oldest first; buckets where nothing happened are left out.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/series",
    params(("id" = String, Path, description = "the campaign's id"), SeriesQuery),
    responses((status = 200, description = "counters per bucket, oldest first", body = SeriesView)))]
pub async fn campaign_series(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<SeriesQuery>,
) -> ApiResult<Json<SeriesView>> {
    let points = service::time_series(&state, &caller.workspace_id, &id, q.bucket.unwrap_or(Bucket::Hour)).await?;
    Ok(Json(SeriesView {
        items: points.into_iter().map(PointView::of).collect(),
    }))
}

#[derive(Serialize, utoipa::ToSchema, Debug)]
pub struct RecipientView {
    pub contact_id: Option<String>,
    pub message_id: String,
    pub state: &'static str,
    pub sent_at: Option<String>,
    pub delivered_at: Option<String>,
    pub clicked_at: Option<String>,
    pub replied_at: Option<String>,
    pub unsubscribed_at: Option<String>,
    /// Why it was not sent or not delivered.
    pub reason: Option<String>,
}

fn state_of(r: &RecipientRow) -> &'static str {
    recipient_state(
        &r.status,
        r.clicked_at.is_some(),
        r.replied_at.is_some(),
        r.unsubscribed_at.is_some(),
    )
}

/// The reason a recipient shows: only for a send that failed.
fn reason_of(r: &RecipientRow) -> Option<String> {
    matches!(r.status.as_str(), "not_sent" | "not_delivered" | "failed")
        .then(|| r.error_code.clone())
        .flatten()
}

impl From<RecipientRow> for RecipientView {
    fn from(r: RecipientRow) -> Self {
        RecipientView {
            state: state_of(&r),
            reason: reason_of(&r),
            contact_id: r.contact_id,
            message_id: r.message_id,
            sent_at: r.sent_at.map(to_rfc3339),
            delivered_at: r.delivered_at.map(to_rfc3339),
            clicked_at: r.clicked_at.map(to_rfc3339),
            replied_at: r.replied_at.map(to_rfc3339),
            unsubscribed_at: r.unsubscribed_at.map(to_rfc3339),
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecipientsQuery {
    /// `queued`, `sent`, `delivered`, `not_delivered`, `not_sent`,
    /// `uncertain`, `clicked`, `replied` or `unsubscribed` (empty: all).
    #[param(schema_with = recipient_state_schema)]
    state: Option<String>,
    /// Items per page: 50 by default, at most 500 (a larger number reads as 500, a smaller than 1 as 1).
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// One message per recipient, in the order they were created; `state`
/// narrows to one state (`queued`, `sent`, `delivered`, `not_delivered`,
/// `not_sent`, `uncertain`, `clicked`, `replied`, `unsubscribed`).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/recipients",
    params(("id" = String, Path, description = "the campaign's id"), RecipientsQuery),
    responses((status = 200, description = "one message per recipient", body = ListBody<RecipientView>),
        (status = 422, description = "`invalid_state`", body = crate::error::ErrorBody)))]
pub async fn campaign_recipients(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<RecipientsQuery>,
) -> ApiResult<Json<ListBody<RecipientView>>> {
    let limit = recado_store::clamp_limit(q.limit);
    let rows = service::recipients(
        &state,
        &caller.workspace_id,
        &id,
        q.state.as_deref().filter(|s| !s.is_empty()),
        q.cursor.as_deref(),
        limit,
    )
    .await?;
    Ok(Json(crate::list::page(
        rows,
        limit,
        |r| &r.message_id,
        RecipientView::from,
    )))
}

/// Rows read per page of the export: memory stays constant however many
/// recipients the campaign has.
const EXPORT_PAGE: i64 = 1000;

const EXPORT_COLUMNS: [&str; 10] = [
    "contact_id",
    "phone",
    "message_id",
    "state",
    "reason",
    "sent_at",
    "delivered_at",
    "clicked_at",
    "replied_at",
    "unsubscribed_at",
];

fn csv_rows(rows: &[RecipientRow], header: bool) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 160));
    if header {
        out.write_record(EXPORT_COLUMNS)?;
    }
    let time = |t: Option<i64>| t.map(to_rfc3339).unwrap_or_default();
    for r in rows {
        out.write_record([
            r.contact_id.clone().unwrap_or_default(),
            r.recipient.clone().unwrap_or_default(),
            r.message_id.clone(),
            state_of(r).to_string(),
            reason_of(r).unwrap_or_default(),
            time(r.sent_at),
            time(r.delivered_at),
            time(r.clicked_at),
            time(r.replied_at),
            time(r.unsubscribed_at),
        ])?;
    }
    out.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// Every recipient as CSV, streamed page by page.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/export.csv", params(("id" = String, Path, description = "the campaign's id")),
    responses((status = 200, content_type = "text/csv", body = String,
        description = "contact_id,phone,message_id,state,reason,sent_at,delivered_at,clicked_at,replied_at,unsubscribed_at"),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn export_recipients(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let campaign = service::get(&state, &caller.workspace_id, &id).await?;
    let workspace_id = caller.workspace_id.clone();
    // (after, header written, finished)
    let pages = futures::stream::unfold((None::<String>, false, false), move |(after, headed, done)| {
        let state = state.clone();
        let workspace_id = workspace_id.clone();
        let id = id.clone();
        async move {
            if done {
                return None;
            }
            let rows = match state
                .store
                .campaign_recipients(&workspace_id, &id, None, after.as_deref(), EXPORT_PAGE)
                .await
            {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::error!(error = %e, "campaign export stopped");
                    return Some((Err(std::io::Error::other("export stopped")), (after, true, true)));
                }
            };
            let last = rows.last().map(|r| r.message_id.clone());
            let finished = (rows.len() as i64) < EXPORT_PAGE;
            let chunk = csv_rows(&rows, !headed).map_err(std::io::Error::other);
            Some((chunk, (last.or(after), true, finished)))
        }
    });
    let filename = format!(
        "{}.csv",
        campaign
            .campaign
            .name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            })
            .collect::<String>()
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        Body::from_stream(pages),
    )
        .into_response())
}
