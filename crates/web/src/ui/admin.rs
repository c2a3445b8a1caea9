//! Admin pages: the workspace's users, adding one, resetting a password.

use super::login::admins_only;
use super::page::{html, Chrome, UiResult};
use super::session::{urlencode, Posted, WebUser};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use recado_app::settings::MIN_PASSWORD_CHARS;
use recado_app::AppState;
use recado_store::workspaces::User;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    chrome: Chrome,
    nav: super::settings::SettingsNav,
    users: Vec<User>,
    notice: Option<(bool, String)>,
    min_password: usize,
}

#[derive(Deserialize, Default)]
pub struct UsersQuery {
    error: Option<String>,
    done: Option<String>,
}

fn message(code: &str) -> String {
    match code {
        "email_taken" => "A user with this e-mail exists.".into(),
        "invalid_email" => "The e-mail must look like name@domain.".into(),
        "invalid_name" => "Give the user a name.".into(),
        "weak_password" => format!("Passwords have at least {MIN_PASSWORD_CHARS} characters."),
        "invalid_role" => "The role is admin or agent.".into(),
        "created" => "User added. They can sign in now.".into(),
        "reset" => "Password changed; the user was signed out everywhere.".into(),
        other => format!("Not possible ({other})."),
    }
}

pub async fn users_page(
    State(state): State<AppState>,
    user: WebUser,
    Query(q): Query<UsersQuery>,
) -> UiResult<Response> {
    if !user.is_admin() {
        return Ok(admins_only());
    }
    let users = state.store.list_users(user.workspace_id(), None, 500).await?;
    let notice = match (q.error, q.done) {
        (Some(code), _) => Some((true, message(&code))),
        (None, Some(done)) => Some((false, message(&done))),
        _ => None,
    };
    html(UsersPage {
        chrome: Chrome::build(&state, &user, "Users", "").await?,
        nav: super::settings::SettingsNav::new("users"),
        users,
        notice,
        min_password: MIN_PASSWORD_CHARS,
    })
}

fn back(query: &str) -> Response {
    Redirect::to(&format!("/admin/users?{query}")).into_response()
}

#[derive(Deserialize)]
pub struct NewUserForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    role: String,
}

pub async fn add_user(State(state): State<AppState>, posted: Posted<NewUserForm>) -> UiResult<Response> {
    if !posted.user.is_admin() {
        return Ok(admins_only());
    }
    let f = posted.form;
    let request = recado_app::users::NewUser {
        email: f.email,
        name: f.name,
        role: f.role,
        password: f.password,
    };
    match recado_app::users::create_user(&state, posted.user.workspace_id(), request).await {
        Ok(_) => Ok(back("done=created")),
        // A refusal goes back to the form with its code.
        Err(e) if !e.is_internal() => Ok(back(&format!("error={}", e.code))),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    password: String,
}

/// Sets a new password and ends the user's sessions, so a leaked session
/// does not outlive the reset.
pub async fn reset_password(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<PasswordForm>,
) -> UiResult<Response> {
    if !posted.user.is_admin() {
        return Ok(admins_only());
    }
    let ws = posted.user.workspace_id().to_string();
    match recado_app::users::reset_password(&state, &ws, &id, posted.form.password).await {
        Ok(()) => Ok(back("done=reset")),
        Err(e) if e.code == "weak_password" => Ok(back(&format!("error=weak_password&user={}", urlencode(&id)))),
        Err(e) => Err(e.into()),
    }
}
