//! The monthly conversation limit as users see it: usage in the current
//! period, settings, packs, threshold notifications and the forecast.

use crate::error::{AppError, AppResult};
use crate::AppState;
use recado_core::clock::to_rfc3339;
use recado_core::whatsapp::{thresholds_reached, usage_period, UsagePeriod, UsageSettings};
use recado_store::whatsapp::{NewNotification, UsageSettingsRecord};
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
            .add_notification(&NewNotification {
                workspace_id,
                kind: USAGE_THRESHOLD,
                period_start: start,
                percent: i64::from(percent),
                details: &details,
                event: Some("usage.threshold"),
                email: state.settings.smtp.is_some(),
                at: state.clock.now_ms(),
            })
            .await?
        {
            tracing::info!(workspace = %workspace_id, percent, "WhatsApp usage threshold reached");
            new.push(percent);
        }
    }
    Ok(new)
}

/// Everything the usage page and API show of the current period.
pub struct Overview {
    pub usage: Usage,
    pub settings: UsageSettingsRecord,
    /// Thresholds already notified this period, ascending.
    pub notified: Vec<u32>,
    pub forecast: Option<chrono::DateTime<chrono::Utc>>,
}

pub async fn overview(state: &AppState, workspace_id: &str) -> AppResult<Overview> {
    let usage = current(state, workspace_id).await?;
    let settings = state.store.usage_settings(workspace_id).await?;
    let start = usage.period.start.timestamp_millis();
    let mut notified: Vec<u32> = state
        .store
        .notifications(workspace_id, Some(USAGE_THRESHOLD), Some(start), 100)
        .await?
        .into_iter()
        .map(|n| u32::try_from(n.percent).unwrap_or(0))
        .collect();
    notified.sort_unstable();
    let forecast =
        recado_core::whatsapp::forecast_exhausted_at(&usage.period, usage.used, usage.limit, state.clock.now());
    Ok(Overview {
        usage,
        settings,
        notified,
        forecast,
    })
}

/// A change of the usage settings; fields left `None` keep their value.
#[derive(Debug, Default)]
pub struct SettingsChange {
    pub monthly_limit: Option<u64>,
    pub billing_anchor_day: Option<u32>,
    pub count_user_initiated: Option<bool>,
}

/// Changes the limit, the anchor day or the counting rule (422
/// `invalid_limit`, `invalid_anchor_day`), then notifies any threshold the
/// new limit makes reached.
pub async fn change_settings(state: &AppState, workspace_id: &str, change: SettingsChange) -> AppResult<()> {
    let mut settings = state.store.usage_settings(workspace_id).await?;
    if let Some(limit) = change.monthly_limit {
        settings.wa_monthly_limit = i64::try_from(limit)
            .map_err(|_| AppError::invalid("invalid_limit", "monthly_limit", "monthly_limit is too large"))?;
    }
    if let Some(day) = change.billing_anchor_day {
        if !(1..=31).contains(&day) {
            return Err(AppError::invalid(
                "invalid_anchor_day",
                "billing_anchor_day",
                "billing_anchor_day is a day of the month, 1 to 31",
            ));
        }
        settings.wa_billing_anchor_day = i64::from(day);
    }
    if let Some(flag) = change.count_user_initiated {
        settings.wa_count_user_initiated = flag;
    }
    state.store.set_usage_settings(workspace_id, &settings).await?;
    notify_thresholds(state, workspace_id).await?;
    Ok(())
}

/// Most packs a workspace may hold.
pub const MAX_PACKS: i64 = 1_000_000;

/// Adds `count` packs of 1,000 conversations (negative removes; 422
/// `invalid_pack_count` for 0 or a total outside 0..=1,000,000).
pub async fn add_packs(state: &AppState, workspace_id: &str, count: i64) -> AppResult<()> {
    let mut settings = state.store.usage_settings(workspace_id).await?;
    let packs = settings.wa_packs.saturating_add(count);
    if count == 0 || !(0..=MAX_PACKS).contains(&packs) {
        return Err(AppError::invalid(
            "invalid_pack_count",
            "count",
            "count adds (or removes) packs; the total stays between 0 and 1,000,000",
        ));
    }
    settings.wa_packs = packs;
    state.store.set_usage_settings(workspace_id, &settings).await?;
    Ok(())
}

/// One past period: its bounds and the conversations counted in it.
pub struct PastPeriod {
    pub period: UsagePeriod,
    pub used: u64,
}

/// The `n` periods before the current one, newest first.
pub async fn history(state: &AppState, workspace_id: &str, n: usize) -> AppResult<Vec<PastPeriod>> {
    let settings = state.store.usage_settings(workspace_id).await?;
    let tz: chrono_tz::Tz = settings.timezone.parse().unwrap_or(chrono_tz::UTC);
    let anchor = u32::try_from(settings.wa_billing_anchor_day).unwrap_or(1);
    let mut at = current(state, workspace_id).await?.period.start;
    let mut periods = Vec::with_capacity(n);
    for _ in 0..n {
        let period = usage_period(at - chrono::Duration::milliseconds(1), anchor, tz).map_err(AppError::internal)?;
        let used = state
            .store
            .count_conversations(
                workspace_id,
                period.start.timestamp_millis(),
                period.end.timestamp_millis(),
            )
            .await?;
        at = period.start;
        periods.push(PastPeriod { period, used });
    }
    Ok(periods)
}
