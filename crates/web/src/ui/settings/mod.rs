//! The admin's settings pages: channels, WhatsApp usage, templates,
//! keywords, outbound webhooks, API tokens, users and the workspace. Every
//! page and form here is for admins only: an agent gets the 403 page
//! whether they follow a link or type the address.

pub mod channel_form;
pub mod channels;
pub mod keywords;
pub mod templates;
pub mod usage;
pub mod voice_check;
pub mod webhooks;
pub mod workspace;

use super::page::error_page;
use super::session::{Posted, WebUser};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use recado_app::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/settings",
            get(|_: Admin| async { Redirect::to("/settings/channels") }),
        )
        .route("/settings/channels", get(channels::list))
        .route("/settings/channels/new", get(channels::new_page).post(channels::create))
        .route("/settings/channels/{id}", get(channels::page).post(channels::update))
        .route("/settings/channels/{id}/test", post(channels::test))
        .route(
            "/settings/channels/{id}/delete",
            get(channels::confirm_delete).post(channels::delete),
        )
        .route("/settings/usage", get(usage::page))
        .route("/settings/usage/settings", post(usage::save_settings))
        .route("/settings/usage/packs", post(usage::packs))
        .route("/settings/templates", get(templates::page))
        .route("/settings/templates/sync", post(templates::sync))
        .route("/settings/keywords", get(keywords::page).post(keywords::add))
        .route("/settings/keywords/remove", post(keywords::remove))
        .route("/settings/keywords/replies", post(keywords::language_replies))
        .route("/settings/webhooks", get(webhooks::page).post(webhooks::create))
        .route("/settings/webhooks/{id}/enable", post(webhooks::enable))
        .route("/settings/webhooks/{id}/test", post(webhooks::test))
        .route("/settings/webhooks/{id}/delete", post(webhooks::delete))
        .route("/settings/workspace", get(workspace::page).post(workspace::save))
}

/// The settings pages' own menu; `active` is the section shown.
pub struct SettingsNav {
    pub items: Vec<(&'static str, &'static str, bool)>,
}

impl SettingsNav {
    pub fn new(active: &str) -> SettingsNav {
        let items = [
            ("channels", "Channels", "/settings/channels"),
            ("usage", "WhatsApp usage", "/settings/usage"),
            ("templates", "Templates", "/settings/templates"),
            ("keywords", "Keywords", "/settings/keywords"),
            ("webhooks", "Outbound webhooks", "/settings/webhooks"),
            ("tokens", "API tokens", "/account/tokens"),
            ("users", "Users", "/admin/users"),
            ("workspace", "Workspace", "/settings/workspace"),
        ];
        SettingsNav {
            items: items
                .into_iter()
                .map(|(key, label, href)| (label, href, key == active))
                .collect(),
        }
    }
}

/// The 403 page of every settings page for a user who is not an admin.
pub fn admins_only() -> Response {
    error_page(
        StatusCode::FORBIDDEN,
        "Not allowed",
        "Only admins can open the settings. Ask an admin of this workspace.",
    )
}

/// A signed-in admin; anyone else gets the 403 page.
pub struct Admin(pub WebUser);

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let user = WebUser::from_request_parts(parts, state).await?;
        if !user.is_admin() {
            return Err(admins_only());
        }
        Ok(Admin(user))
    }
}

/// A form posted by an admin (CSRF checked); `None` for anyone else, who
/// gets [`admins_only`].
pub fn admin_form<T>(posted: Posted<T>) -> Option<Posted<T>> {
    posted.user.is_admin().then_some(posted)
}

/// A notice at the top of a settings page: `(is_error, text)`.
pub type Notice = Option<(bool, String)>;
