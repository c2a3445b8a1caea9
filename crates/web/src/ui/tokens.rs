//! Every user's own API tokens: make one (shown once), list, revoke. An agent
//! gets a token for their own programs here, with the agent's role; an admin
//! sees and may revoke every token of the workspace.

use super::page::{html, Chrome, UiResult};
use super::session::{Posted, WebUser};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use recado_app::AppState;
use serde::Deserialize;
use std::collections::HashMap;

pub struct TokenRow {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub created_at: String,
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    chrome: Chrome,
    role: &'static str,
    tokens: Vec<TokenRow>,
    show_owner: bool,
    created: Option<String>,
    error: Option<String>,
}

async fn render(
    state: &AppState,
    user: &WebUser,
    created: Option<String>,
    error: Option<String>,
) -> UiResult<Response> {
    let owner = (!user.is_admin()).then_some(user.user_id());
    let records = state.store.tokens(user.workspace_id(), owner).await?;
    let names: HashMap<String, String> = state
        .store
        .list_users(user.workspace_id(), None, 500)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let tokens = records
        .into_iter()
        .map(|t| TokenRow {
            owner: names.get(&t.user_id).cloned().unwrap_or_default(),
            id: t.id,
            name: t.name,
            created_at: recado_core::clock::from_ms(t.created_at)
                .format("%Y-%m-%d %H:%M UTC")
                .to_string(),
        })
        .collect();
    html(TokensPage {
        chrome: Chrome::build(state, user, "API tokens", "").await?,
        role: if user.is_admin() { "admin" } else { "agent" },
        tokens,
        show_owner: user.is_admin(),
        created,
        error,
    })
}

pub async fn page(State(state): State<AppState>, user: WebUser) -> UiResult<Response> {
    render(&state, &user, None, None).await
}

#[derive(Deserialize)]
pub struct NewTokenForm {
    #[serde(default)]
    name: String,
}

/// Makes a token and shows it once, on this response only (never in a URL).
pub async fn create(State(state): State<AppState>, posted: Posted<NewTokenForm>) -> UiResult<Response> {
    let user = posted.user;
    match recado_app::users::create_token(&state, user.workspace_id(), user.user_id(), &posted.form.name).await {
        Ok((_, token)) => render(&state, &user, Some(token), None).await,
        Err(e) if e.code == "invalid_name" => {
            let error = "Give the token a name of 1 to 100 characters.".to_string();
            render(&state, &user, None, Some(error)).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<serde::de::IgnoredAny>,
) -> UiResult<Response> {
    let user = posted.user;
    let owner = (!user.is_admin()).then_some(user.user_id());
    match recado_app::users::revoke_token(&state, user.workspace_id(), &id, owner).await {
        Ok(()) => Ok(Redirect::to("/account/tokens").into_response()),
        Err(e) if e.kind == recado_app::ErrorKind::NotFound => Ok(Redirect::to("/account/tokens").into_response()),
        Err(e) => Err(e.into()),
    }
}
