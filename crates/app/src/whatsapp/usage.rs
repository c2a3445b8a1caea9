//! The monthly conversation limit as users see it: usage in the current
//! period, settings, packs, threshold notifications and the forecast.

use crate::error::{AppError, AppResult};
use crate::AppState;
use recado_core::clock::to_rfc3339;
use recado_core::whatsapp::{thresholds_reached, usage_period, UsagePeriod, UsageSettings};
use recado_store::whatsapp::UsageSettingsRecord;
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

pub async fn current(state: &AppState, workspace_id: &str) -> AppResult<Usage> {
    let settings = state.store.usage_settings(workspace_id).await?;
    let tz: chrono_tz::Tz = settings.timezone.parse().unwrap_or(chrono_tz::UTC);
    let period =
        usage_period(state.clock.now(), settings.wa_billing_anchor_day as u32, tz).map_err(AppError::internal)?;
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
pub async fn notify_thresholds(state: &AppState, workspace_id: &str) -> AppResult<Vec<u32>> {
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
