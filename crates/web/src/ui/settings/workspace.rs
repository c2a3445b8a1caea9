//! Settings → Workspace: its name, default country (for numbers typed
//! without a country code), time zone (days, periods and call windows), and
//! a check that the public URL — which providers post webhooks to and
//! contacts open links from — reaches this hub.

use super::{admin_form, admins_only, Admin, Notice, SettingsNav};
use crate::ui::page::{html, Chrome, UiResult};
use crate::ui::session::{urlencode, Posted};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use recado_app::workspaces::{update_settings, SettingsChange};
use recado_app::AppState;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "settings_workspace.html")]
struct WorkspacePage {
    chrome: Chrome,
    nav: SettingsNav,
    notice: Notice,
    name: String,
    country: String,
    timezone: String,
    zones: Vec<&'static str>,
    public_url: String,
    check: Option<(bool, String)>,
}

#[derive(Deserialize, Default)]
pub struct WorkspaceQuery {
    error: Option<String>,
    done: Option<String>,
}

fn message(code: &str) -> String {
    match code {
        "saved" => "Workspace saved.".into(),
        "invalid_name" => "The name is 1 to 100 characters.".into(),
        "invalid_country" => "The country is a two-letter ISO code such as BR, ES or PL.".into(),
        "invalid_timezone" => "The time zone is an IANA name such as America/Sao_Paulo.".into(),
        other => format!("Not possible ({other})."),
    }
}

async fn render(
    state: &AppState,
    user: &crate::ui::session::WebUser,
    notice: Notice,
    check: Option<(bool, String)>,
) -> UiResult<Response> {
    let ws = state.store.workspace(user.workspace_id()).await?;
    html(WorkspacePage {
        chrome: Chrome::build(state, user, "Workspace", "").await?,
        nav: SettingsNav::new("workspace"),
        notice,
        name: ws.name,
        country: ws.default_country.unwrap_or_default(),
        timezone: ws.timezone,
        zones: chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()).collect(),
        public_url: state.settings.public_url.clone(),
        check,
    })
}

/// `GET /settings/workspace`.
pub async fn page(
    State(state): State<AppState>,
    Admin(user): Admin,
    Query(q): Query<WorkspaceQuery>,
) -> UiResult<Response> {
    let notice = match (q.error, q.done) {
        (Some(code), _) => Some((true, message(&code))),
        (None, Some(done)) => Some((false, message(&done))),
        _ => None,
    };
    render(&state, &user, notice, None).await
}

#[derive(Deserialize)]
pub struct WorkspaceForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    default_country: String,
    #[serde(default)]
    timezone: String,
    /// Set by the "check the public URL" button instead of saving.
    check: Option<String>,
}

/// `POST /settings/workspace`: saves, or checks the public URL.
pub async fn save(State(state): State<AppState>, posted: Posted<WorkspaceForm>) -> UiResult<Response> {
    let Some(posted) = admin_form(posted) else {
        return Ok(admins_only());
    };
    if posted.form.check.is_some() {
        let checked = check_public_url(&state).await;
        return render(&state, &posted.user, None, Some(checked)).await;
    }
    let f = &posted.form;
    let country = f.default_country.trim();
    let change = SettingsChange {
        name: Some(f.name.clone()),
        default_country: Some((!country.is_empty()).then(|| country.to_string())),
        timezone: Some(f.timezone.clone()),
        ..SettingsChange::default()
    };
    let ws = posted.user.workspace_id();
    match update_settings(&state.store, ws, change).await {
        Ok(_) => {
            state.caches.workspaces.forget(ws);
            Ok(Redirect::to("/settings/workspace?done=saved").into_response())
        }
        Err(e) if !e.is_internal() => {
            Ok(Redirect::to(&format!("/settings/workspace?error={}", urlencode(e.code))).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// Asks the hub's own health check through the public URL, as a provider
/// posting a webhook would reach it.
async fn check_public_url(state: &AppState) -> (bool, String) {
    let url = format!("{}/healthz", state.settings.public_url.trim_end_matches('/'));
    let answer = state
        .http
        .get(&url)
        .timeout(std::time::Duration::from_secs(5))
        .send()
        .await;
    match answer {
        Ok(r) if r.status().is_success() => match r.json::<serde_json::Value>().await {
            Ok(body) if body["status"] == "ok" => {
                (true, format!("{url} answers: this hub is reachable at its public URL."))
            }
            _ => (
                false,
                format!("{url} answered, but not as this hub does: another server is at that address."),
            ),
        },
        Ok(r) => (false, format!("{url} answered {}.", r.status())),
        Err(e) => (false, format!("{url} cannot be reached from here: {}", e.without_url())),
    }
}
