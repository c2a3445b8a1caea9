//! The monthly conversation limit as users see it: usage in the current
//! period, settings, packs, threshold notifications and the forecast.

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery};
use axum::extract::State;
use axum::Json;
use recado_core::clock::to_rfc3339;
use recado_core::whatsapp::{
    forecast_exhausted_at, percent_used, thresholds_reached, usage_period, UsagePeriod, UsageSettings,
};
use recado_store::whatsapp::UsageSettingsRecord;
use serde::{Deserialize, Serialize};
use serde_json::json;

pub const USAGE_THRESHOLD: &str = "usage_threshold";

/// The workspace's usage settings as the core rules take them.
pub fn usage_settings(record: &UsageSettingsRecord) -> UsageSettings {
    UsageSettings {
        monthly_limit: record.wa_monthly_limit.max(0) as u64,
        billing_anchor_day: record.wa_billing_anchor_day.clamp(1, 31) as u32,
        count_user_initiated: record.wa_count_user_initiated,
        packs: record.wa_packs.max(0) as u64,
    }
}

/// The limit of the current period (`UsageSettings::effective_limit`).
pub fn effective_limit(record: &UsageSettingsRecord) -> u64 {
    usage_settings(record).effective_limit()
}

/// The current period and what was used of it.
pub struct Usage {
    pub period: UsagePeriod,
    pub limit: u64,
    pub used: u64,
}

pub async fn current(state: &AppState, workspace_id: &str) -> ApiResult<Usage> {
    let settings = state.store.usage_settings(workspace_id).await?;
    let tz: chrono_tz::Tz = settings.timezone.parse().unwrap_or(chrono_tz::UTC);
    let period =
        usage_period(state.clock.now(), settings.wa_billing_anchor_day as u32, tz).map_err(ApiError::internal)?;
    let used = state
        .store
        .count_conversations(
            workspace_id,
            period.start.timestamp_millis(),
            period.end.timestamp_millis(),
        )
        .await?;
    let limit = effective_limit(&settings);
    Ok(Usage { period, limit, used })
}

/// Records the thresholds the workspace just reached (once per period each).
pub async fn notify_thresholds(state: &AppState, workspace_id: &str) -> ApiResult<Vec<u32>> {
    let usage = current(state, workspace_id).await?;
    let start = usage.period.start.timestamp_millis();
    let already: Vec<u32> = state
        .store
        .notifications(workspace_id, Some(USAGE_THRESHOLD), Some(start), 100)
        .await?
        .into_iter()
        .map(|n| n.percent as u32)
        .collect();
    let mut new = Vec::new();
    for percent in thresholds_reached(usage.used, usage.limit, &already) {
        let details =
            json!({ "percent": percent, "used": usage.used, "limit": usage.limit, "period_start": to_rfc3339(start) });
        if state
            .store
            .add_notification(
                workspace_id,
                USAGE_THRESHOLD,
                start,
                percent as i64,
                &details,
                Some("usage.threshold"),
                state.clock.now_ms(),
            )
            .await?
        {
            tracing::info!(workspace = %workspace_id, percent, "WhatsApp usage threshold reached");
            new.push(percent);
        }
    }
    Ok(new)
}

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
