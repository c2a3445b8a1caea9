//! Settings → WhatsApp usage: the current period's bar (used of the limit,
//! packs), the day the limit is reached at the current pace, the thresholds
//! already notified, the settings (limit, anchor day, counting rule), packs
//! added or removed, and the last 12 periods.

use super::{admin_form, admins_only, Admin, Notice, SettingsNav};
use crate::ui::page::{html, Chrome, UiResult};
use crate::ui::session::Posted;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use recado_app::whatsapp::usage::{self, SettingsChange};
use recado_app::AppState;
use recado_core::whatsapp::{percent_used, percent_used_text, PACK_SIZE};
use serde::Deserialize;

/// Periods of the history table.
const HISTORY_PERIODS: usize = 12;

pub struct PeriodRow {
    pub from: String,
    pub to: String,
    pub used: u64,
    /// Width of its bar against the current limit, 0–100.
    pub width: u32,
}

#[derive(Template)]
#[template(path = "settings_usage.html")]
struct UsagePage {
    chrome: Chrome,
    nav: SettingsNav,
    notice: Notice,
    used: u64,
    limit: u64,
    percent: String,
    width: u32,
    level: &'static str,
    period_from: String,
    period_to: String,
    forecast: Option<String>,
    notified: Vec<u32>,
    monthly_limit: i64,
    packs: i64,
    pack_size: u64,
    anchor_day: i64,
    count_user_initiated: bool,
    history: Vec<PeriodRow>,
}

#[derive(Deserialize, Default)]
pub struct UsageQuery {
    error: Option<String>,
    done: Option<String>,
}

fn day(t: chrono::DateTime<chrono::Utc>, tz: &chrono_tz::Tz) -> String {
    t.with_timezone(tz).format("%-d %b %Y").to_string()
}

/// The last day inside a period that ends at `end` (exclusive).
fn last_day(end: chrono::DateTime<chrono::Utc>, tz: &chrono_tz::Tz) -> String {
    day(end - chrono::Duration::milliseconds(1), tz)
}

fn message(code: &str) -> String {
    match code {
        "invalid_limit" => "The monthly limit is a whole number of conversations.".into(),
        "invalid_anchor_day" => "The reset day is a day of the month, 1 to 31.".into(),
        "invalid_pack_count" => {
            "Packs are added or removed one or more at a time, and the total stays between 0 and 1,000,000.".into()
        }
        "saved" => "Usage settings saved.".into(),
        "packs" => "Packs changed.".into(),
        other => format!("Not possible ({other})."),
    }
}

/// `GET /settings/usage`.
pub async fn page(
    State(state): State<AppState>,
    Admin(user): Admin,
    Query(q): Query<UsageQuery>,
) -> UiResult<Response> {
    let ws = user.workspace_id();
    let o = usage::overview(&state, ws).await?;
    let tz: chrono_tz::Tz = o.settings.timezone.parse().unwrap_or(chrono_tz::UTC);
    let (used, limit) = (o.usage.used, o.usage.limit);
    let percent = percent_used(used, limit);
    let history = usage::history(&state, ws, HISTORY_PERIODS)
        .await?
        .into_iter()
        .map(|p| PeriodRow {
            from: day(p.period.start, &tz),
            to: last_day(p.period.end, &tz),
            used: p.used,
            width: percent_used(p.used, limit).min(100),
        })
        .collect();
    let notice = match (q.error, q.done) {
        (Some(code), _) => Some((true, message(&code))),
        (None, Some(done)) => Some((false, message(&done))),
        _ => None,
    };
    html(UsagePage {
        chrome: Chrome::build(&state, &user, "WhatsApp usage", "").await?,
        nav: SettingsNav::new("usage"),
        notice,
        used,
        limit,
        percent: percent_used_text(used, limit),
        width: percent.min(100),
        level: match percent {
            p if p >= 100 => "full",
            p if p >= 80 => "high",
            _ => "fine",
        },
        period_from: day(o.usage.period.start, &tz),
        period_to: last_day(o.usage.period.end, &tz),
        forecast: o.forecast.map(|t| day(t, &tz)),
        notified: o.notified,
        monthly_limit: o.settings.wa_monthly_limit,
        packs: o.settings.wa_packs,
        pack_size: PACK_SIZE,
        anchor_day: o.settings.wa_billing_anchor_day,
        count_user_initiated: o.settings.wa_count_user_initiated,
        history,
    })
}

fn back(query: &str) -> Response {
    Redirect::to(&format!("/settings/usage?{query}")).into_response()
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    monthly_limit: String,
    #[serde(default)]
    billing_anchor_day: String,
    /// A checkbox: present when ticked.
    count_user_initiated: Option<String>,
}

/// `POST /settings/usage/settings`.
pub async fn save_settings(State(state): State<AppState>, posted: Posted<SettingsForm>) -> UiResult<Response> {
    let Some(posted) = admin_form(posted) else {
        return Ok(admins_only());
    };
    let f = &posted.form;
    let Ok(monthly_limit) = f.monthly_limit.trim().parse::<u64>() else {
        return Ok(back("error=invalid_limit"));
    };
    let Ok(anchor) = f.billing_anchor_day.trim().parse::<u32>() else {
        return Ok(back("error=invalid_anchor_day"));
    };
    let change = SettingsChange {
        monthly_limit: Some(monthly_limit),
        billing_anchor_day: Some(anchor),
        count_user_initiated: Some(f.count_user_initiated.is_some()),
    };
    match usage::change_settings(&state, posted.user.workspace_id(), change).await {
        Ok(()) => Ok(back("done=saved")),
        Err(e) if !e.is_internal() => Ok(back(&format!("error={}", e.code))),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct PacksForm {
    #[serde(default)]
    count: String,
}

/// `POST /settings/usage/packs` (`count` negative removes).
pub async fn packs(State(state): State<AppState>, posted: Posted<PacksForm>) -> UiResult<Response> {
    let Some(posted) = admin_form(posted) else {
        return Ok(admins_only());
    };
    let Ok(count) = posted.form.count.trim().parse::<i64>() else {
        return Ok(back("error=invalid_pack_count"));
    };
    match usage::add_packs(&state, posted.user.workspace_id(), count).await {
        Ok(()) => Ok(back("done=packs")),
        Err(e) if !e.is_internal() => Ok(back(&format!("error={}", e.code))),
        Err(e) => Err(e.into()),
    }
}
