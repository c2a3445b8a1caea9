//! The monthly conversation limit as users see it: usage in the current
//! period, settings, packs, threshold notifications and the forecast.

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiQuery};
use axum::extract::State;
use axum::Json;
use recado_app::whatsapp::usage::*;
use recado_app::AppState;
use recado_core::clock::to_rfc3339;
use recado_core::whatsapp::percent_used;
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Serialize, utoipa::ToSchema)]
pub struct UsageView {
    period_start: String,
    period_end: String,
    limit: u64,
    used: u64,
    remaining: u64,
    percent: u32,
    notified_thresholds: Vec<u32>,
    forecast_exhausted_at: Option<String>,
    monthly_limit: u64,
    packs: u64,
    billing_anchor_day: u32,
    count_user_initiated: bool,
}

#[utoipa::path(get, path = "/api/v1/whatsapp/usage", responses((status = 200, description = "the current period's usage and the settings", body = UsageView)))]
pub async fn get_usage(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<UsageView>> {
    let o = overview(&state, &caller.workspace_id).await?;
    Ok(Json(UsageView {
        period_start: to_rfc3339(o.usage.period.start.timestamp_millis()),
        period_end: to_rfc3339(o.usage.period.end.timestamp_millis()),
        limit: o.usage.limit,
        used: o.usage.used,
        remaining: o.usage.limit.saturating_sub(o.usage.used),
        percent: percent_used(o.usage.used, o.usage.limit),
        notified_thresholds: o.notified,
        forecast_exhausted_at: o.forecast.map(|t| to_rfc3339(t.timestamp_millis())),
        monthly_limit: o.settings.wa_monthly_limit.max(0) as u64,
        packs: o.settings.wa_packs.max(0) as u64,
        billing_anchor_day: o.settings.wa_billing_anchor_day as u32,
        count_user_initiated: o.settings.wa_count_user_initiated,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UsageSettingsInput {
    /// Conversations a month before packs.
    monthly_limit: Option<u64>,
    /// The day of the month periods start on.
    #[schema(minimum = 1, maximum = 31)]
    billing_anchor_day: Option<u32>,
    /// Whether conversations the contact started count.
    count_user_initiated: Option<bool>,
}

#[utoipa::path(put, path = "/api/v1/whatsapp/usage/settings", request_body = UsageSettingsInput,
    responses((status = 200, description = "the usage with the new settings", body = UsageView), (status = 403, description = "`forbidden`: admins only", body = crate::error::ErrorBody),
        (status = 422, description = "`invalid_anchor_day`, `invalid_limit`", body = crate::error::ErrorBody)))]
pub async fn put_settings(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<UsageSettingsInput>,
) -> ApiResult<Json<UsageView>> {
    caller.require_admin()?;
    let change = SettingsChange {
        monthly_limit: input.monthly_limit,
        billing_anchor_day: input.billing_anchor_day,
        count_user_initiated: input.count_user_initiated,
    };
    change_settings(&state, &caller.workspace_id, change).await?;
    get_usage(State(state), caller).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PacksInput {
    /// Packs of 1,000 conversations to add (negative removes).
    count: i64,
}

#[utoipa::path(post, path = "/api/v1/whatsapp/usage/packs", request_body = PacksInput,
    responses((status = 200, description = "the usage with the packs", body = UsageView), (status = 403, description = "`forbidden`: admins only", body = crate::error::ErrorBody),
        (status = 422, description = "`invalid_count`", body = crate::error::ErrorBody)))]
pub async fn add_packs(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<PacksInput>,
) -> ApiResult<Json<UsageView>> {
    caller.require_admin()?;
    recado_app::whatsapp::usage::add_packs(&state, &caller.workspace_id, input.count).await?;
    get_usage(State(state), caller).await
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// Items: 50 by default, at most 500 (a larger number reads as 500, a smaller than 1 as 1).
    limit: Option<i64>,
}

/// A notification (`usage_threshold`: the monthly usage passed `percent`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct NotificationView {
    id: String,
    kind: String,
    percent: Option<i64>,
    at: String,
}

/// Notifications, newest first.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct NotificationList {
    items: Vec<NotificationView>,
    /// Always `null`: the newest `limit` are shown.
    next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/notifications", params(NotificationQuery),
    responses((status = 200, description = "notifications, newest first", body = NotificationList)))]
pub async fn list_notifications(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<NotificationQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let limit = recado_store::clamp_limit(q.limit);
    let rows = state
        .store
        .notifications(&caller.workspace_id, None, None, limit)
        .await?;
    let items: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|n| {
            let mut v = serde_json::from_str::<serde_json::Value>(&n.details).unwrap_or_else(|_| json!({}));
            let map = v.as_object_mut().expect("details are an object");
            map.insert("id".into(), json!(n.id));
            map.insert("kind".into(), json!(n.kind));
            map.insert("percent".into(), json!(n.percent));
            map.insert("at".into(), json!(to_rfc3339(n.at)));
            v
        })
        .collect();
    Ok(Json(json!({ "items": items, "next_cursor": null })))
}
