//! What every page shares: the chrome (signed-in user, views with counts,
//! the WhatsApp usage banner), error pages, and time formatting in the
//! workspace's time zone.

use super::session::WebUser;
use crate::error::ApiError;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use recado_app::AppState;
use recado_core::whatsapp::{forecast_exhausted_at, percent_used};

/// Usage at which every user sees the banner.
pub const BANNER_PERCENT: u32 = 70;

pub struct UsageBanner {
    pub percent: u32,
    pub used: u64,
    pub limit: u64,
    /// The day the limit is reached at the current pace, if it is.
    pub forecast: Option<String>,
    pub exhausted: bool,
}

/// An option of a select.
#[derive(Clone, Debug)]
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// One entry of the views menu.
pub struct NavItem {
    pub label: String,
    pub href: String,
    pub count: i64,
    pub active: bool,
    pub key: String,
}

pub struct Chrome {
    pub title: String,
    pub user_name: String,
    pub is_admin: bool,
    pub csrf: String,
    pub banner: Option<UsageBanner>,
    pub nav: Vec<NavItem>,
    pub saved: Vec<NavItem>,
    /// For admins: what in the settings needs a look, if anything.
    pub attention: Option<String>,
}

impl Chrome {
    pub async fn build(state: &AppState, user: &WebUser, title: &str, active: &str) -> Result<Chrome, UiError> {
        let (counts, saved) = crate::inbox::api::counts_for(state, user.workspace_id(), user.user_id()).await?;
        let item = |key: &str, label: &str, count: i64| NavItem {
            label: label.to_string(),
            href: format!("/inbox?view={key}"),
            count,
            active: active == key,
            key: key.to_string(),
        };
        let nav = vec![
            item("open", "All open", counts.open),
            item("mine", "Assigned to me", counts.mine),
            item("unassigned", "Unassigned", counts.unassigned),
            item("whatsapp", "WhatsApp", counts.whatsapp),
            item("sms", "SMS", counts.sms),
            item("closed", "All closed", counts.closed),
        ];
        let saved = saved.into_iter().map(|(v, n)| item(&v.id, &v.name, n)).collect();
        let banner = usage_banner(state, user.workspace_id()).await?;
        let attention = if user.is_admin() {
            attention(state, user.workspace_id(), banner.as_ref()).await?
        } else {
            None
        };
        Ok(Chrome {
            attention,
            title: title.to_string(),
            user_name: user.session.name.clone(),
            is_admin: user.is_admin(),
            csrf: user.csrf().to_string(),
            banner,
            nav,
            saved,
        })
    }
}

/// Usage at which the settings link asks admins for attention.
pub const ATTENTION_PERCENT: u32 = 80;

/// How far back a buried job still asks for attention.
const DEAD_JOBS_WINDOW_MS: i64 = 24 * 3600 * 1000;

/// What an admin should look at, named on the settings link: WhatsApp usage
/// at 80 % or more, a channel whose latest provider answer was an error,
/// jobs buried in the last day.
async fn attention(
    state: &AppState,
    workspace_id: &str,
    banner: Option<&UsageBanner>,
) -> Result<Option<String>, UiError> {
    let mut reasons = Vec::new();
    if let Some(b) = banner.filter(|b| b.percent >= ATTENTION_PERCENT) {
        reasons.push(format!("WhatsApp usage at {} %", b.percent));
    }
    let failing = state
        .store
        .channel_health(workspace_id)
        .await?
        .iter()
        .filter(|h| recado_app::channels::health::in_error(h))
        .count();
    if failing > 0 {
        reasons.push(format!("{failing} channel(s) reporting errors"));
    }
    let since = state.clock.now_ms() - DEAD_JOBS_WINDOW_MS;
    let dead = state.store.dead_jobs_since(workspace_id, since).await?;
    if dead > 0 {
        reasons.push(format!("{dead} job(s) failed for good in the last day"));
    }
    Ok((!reasons.is_empty()).then(|| reasons.join("; ")))
}

/// The banner every user sees once the month's WhatsApp conversations are
/// 70 % used or more, with the day they run out at the current pace.
pub async fn usage_banner(state: &AppState, workspace_id: &str) -> Result<Option<UsageBanner>, UiError> {
    let usage = recado_app::whatsapp::usage::current(state, workspace_id).await?;
    let percent = percent_used(usage.used, usage.limit);
    if percent < BANNER_PERCENT {
        return Ok(None);
    }
    let forecast = forecast_exhausted_at(&usage.period, usage.used, usage.limit, state.clock.now())
        .map(|t| t.format("%-d %B %Y").to_string());
    Ok(Some(UsageBanner {
        percent,
        used: usage.used,
        limit: usage.limit,
        forecast,
        exhausted: usage.used >= usage.limit,
    }))
}

/// Formats a time in the workspace's zone, e.g. `3 May 14:05`.
pub fn local_time(ms: i64, tz: &chrono_tz::Tz) -> String {
    recado_core::clock::from_ms(ms)
        .with_timezone(tz)
        .format("%-d %b %H:%M")
        .to_string()
}

pub async fn timezone(state: &AppState, workspace_id: &str) -> Result<chrono_tz::Tz, UiError> {
    let ws = state.store.workspace(workspace_id).await.map_err(ApiError::from)?;
    Ok(ws.timezone.parse().unwrap_or(chrono_tz::UTC))
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorTemplate<'a> {
    status: u16,
    title: &'a str,
    message: &'a str,
}

/// A plain page for a refused or failed request.
pub fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    let page = ErrorTemplate {
        status: status.as_u16(),
        title,
        message,
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, message.to_string()).into_response(),
    }
}

/// An error of a page handler, shown as an HTML page.
#[derive(Debug)]
pub struct UiError(pub ApiError);

impl From<ApiError> for UiError {
    fn from(e: ApiError) -> Self {
        UiError(e)
    }
}

impl From<recado_app::AppError> for UiError {
    fn from(e: recado_app::AppError) -> Self {
        UiError(e.into())
    }
}

impl From<recado_store::StoreError> for UiError {
    fn from(e: recado_store::StoreError) -> Self {
        UiError(e.into())
    }
}

impl From<askama::Error> for UiError {
    fn from(e: askama::Error) -> Self {
        UiError(ApiError::internal(e))
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let e = self.0;
        let title = match e.status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::FORBIDDEN => "Not allowed",
            s if s.is_server_error() => "Something went wrong",
            _ => "Not possible",
        };
        error_page(e.status, title, &e.message)
    }
}

pub type UiResult<T> = Result<T, UiError>;

/// Renders a page template into a response.
pub fn html(t: impl Template) -> UiResult<Response> {
    Ok(Html(t.render()?).into_response())
}
