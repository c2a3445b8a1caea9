//! The monthly conversation limit as users see it: usage in the current
//! period, settings, packs, threshold notifications and the forecast.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery};
use axum::extract::State;
use axum::Json;
use recado_app::whatsapp::usage::*;
use recado_app::AppState;
use recado_core::clock::to_rfc3339;
use recado_core::whatsapp::{forecast_exhausted_at, percent_used};
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

#[utoipa::path(get, path = "/api/v1/whatsapp/usage", responses((status = 200, body = UsageView)))]
pub async fn get_usage(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<UsageView>> {
    let usage = current(&state, &caller.workspace_id).await?;
    let settings = state.store.usage_settings(&caller.workspace_id).await?;
    let start = usage.period.start.timestamp_millis();
    let mut notified: Vec<u32> = state
        .store
        .notifications(&caller.workspace_id, Some(USAGE_THRESHOLD), Some(start), 100)
        .await?
        .into_iter()
        .map(|n| n.percent as u32)
        .collect();
    notified.sort_unstable();
    Ok(Json(UsageView {
        period_start: to_rfc3339(start),
        period_end: to_rfc3339(usage.period.end.timestamp_millis()),
        limit: usage.limit,
        used: usage.used,
        remaining: usage.limit.saturating_sub(usage.used),
        percent: percent_used(usage.used, usage.limit),
        notified_thresholds: notified,
        forecast_exhausted_at: forecast_exhausted_at(&usage.period, usage.used, usage.limit, state.clock.now())
            .map(|t| to_rfc3339(t.timestamp_millis())),
        monthly_limit: settings.wa_monthly_limit.max(0) as u64,
        packs: settings.wa_packs.max(0) as u64,
        billing_anchor_day: settings.wa_billing_anchor_day as u32,
        count_user_initiated: settings.wa_count_user_initiated,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UsageSettingsInput {
    monthly_limit: Option<u64>,
    billing_anchor_day: Option<u32>,
    count_user_initiated: Option<bool>,
}

#[utoipa::path(put, path = "/api/v1/whatsapp/usage/settings", request_body = UsageSettingsInput, responses((status = 200, body = UsageView)))]
pub async fn put_settings(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<UsageSettingsInput>,
) -> ApiResult<Json<UsageView>> {
    caller.require_admin()?;
    let mut settings = state.store.usage_settings(&caller.workspace_id).await?;
    if let Some(limit) = input.monthly_limit {
        if limit > i64::MAX as u64 {
            return Err(ApiError::invalid(
                "invalid_limit",
                "monthly_limit",
                "monthly_limit is too large",
            ));
        }
        settings.wa_monthly_limit = limit as i64;
    }
    if let Some(day) = input.billing_anchor_day {
        if !(1..=31).contains(&day) {
            return Err(ApiError::invalid(
                "invalid_anchor_day",
                "billing_anchor_day",
                "billing_anchor_day is a day of the month, 1 to 31",
            ));
        }
        settings.wa_billing_anchor_day = day as i64;
    }
    if let Some(flag) = input.count_user_initiated {
        settings.wa_count_user_initiated = flag;
    }
    state.store.set_usage_settings(&caller.workspace_id, &settings).await?;
    notify_thresholds(&state, &caller.workspace_id).await?;
    get_usage(State(state), caller).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PacksInput {
    /// Packs of 1,000 conversations to add (negative removes).
    count: i64,
}

#[utoipa::path(post, path = "/api/v1/whatsapp/usage/packs", request_body = PacksInput, responses((status = 200, body = UsageView)))]
pub async fn add_packs(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<PacksInput>,
) -> ApiResult<Json<UsageView>> {
    caller.require_admin()?;
    let mut settings = state.store.usage_settings(&caller.workspace_id).await?;
    let packs = settings.wa_packs + input.count;
    if input.count == 0 || !(0..=1_000_000).contains(&packs) {
        return Err(ApiError::invalid(
            "invalid_pack_count",
            "count",
            "count adds (or removes) packs; the total stays between 0 and 1,000,000",
        ));
    }
    settings.wa_packs = packs;
    state.store.set_usage_settings(&caller.workspace_id, &settings).await?;
    get_usage(State(state), caller).await
}

#[derive(Deserialize)]
pub struct NotificationQuery {
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/notifications", responses((status = 200)))]
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
