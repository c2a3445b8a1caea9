//! The people of a workspace and their API tokens: one set of rules for the
//! API and the pages (e-mail, name, password and role of a new user; a
//! token's name), so the two cannot drift apart.

use crate::auth::{check_email, check_password, generate_token, hash_password, hash_token, Role};
use crate::{AppError, AppResult, AppState};
use recado_core::ids::{new_id, IdKind};
use recado_store::workspaces::{User, LAST_ADMIN};
use recado_store::StoreError;

/// Longest token name, in characters.
pub const MAX_TOKEN_NAME_CHARS: usize = 100;

/// What a new user is made from.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: String,
    pub password: String,
}

/// Checks and creates a user of `workspace_id`: 422 `invalid_email`,
/// `invalid_name`, `weak_password` or `invalid_role`; 409 `email_taken`.
pub async fn create_user(state: &AppState, workspace_id: &str, input: NewUser) -> AppResult<User> {
    let email = check_email(&input.email)?;
    let name = input.name.trim().to_string();
    if name.is_empty() {
        return Err(AppError::invalid("invalid_name", "name", "name must not be empty"));
    }
    check_password(&input.password)?;
    let role = Role::parse(&input.role)
        .ok_or_else(|| AppError::invalid("invalid_role", "role", "role must be `admin` or `agent`"))?;
    let cost = state.settings.password_cost;
    let password = input.password;
    // argon2 takes tens of milliseconds: off the request threads.
    let password_hash = tokio::task::spawn_blocking(move || hash_password(&password, cost))
        .await
        .map_err(AppError::internal)??;
    let user = User {
        id: new_id(IdKind::User),
        workspace_id: workspace_id.to_string(),
        email,
        name,
        role: role.as_str().to_string(),
        password_hash: Some(password_hash),
        created_at: state.clock.now_ms(),
    };
    state.store.create_user(&user).await.map_err(|e| match e {
        StoreError::Conflict(_) => {
            AppError::conflict("email_taken", "a user with this e-mail exists").with_field("email")
        }
        other => other.into(),
    })?;
    Ok(user)
}

/// A token's name, trimmed; 422 `invalid_name` unless it has 1 to 100
/// characters.
pub fn token_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_TOKEN_NAME_CHARS {
        return Err(AppError::invalid(
            "invalid_name",
            "name",
            format!("token names are 1 to {MAX_TOKEN_NAME_CHARS} characters"),
        ));
    }
    Ok(name.to_string())
}

/// A new API token of `user_id`, named `name`. Returns its id and the token,
/// to be shown once: only its hash is kept.
pub async fn create_token(
    state: &AppState,
    workspace_id: &str,
    user_id: &str,
    name: &str,
) -> AppResult<(String, String)> {
    let name = token_name(name)?;
    let id = new_id(IdKind::Token);
    let token = generate_token();
    state
        .store
        .create_token(
            &id,
            workspace_id,
            user_id,
            &name,
            &hash_token(&token),
            state.clock.now_ms(),
        )
        .await?;
    Ok((id, token))
}

/// Deletes a user and their tokens: 404 when there is no such user, 409
/// `last_admin` for the workspace's last admin (the store checks it in the
/// same transaction as the delete).
pub async fn delete_user(state: &AppState, workspace_id: &str, user_id: &str) -> AppResult<()> {
    let deleted = state
        .store
        .delete_user(workspace_id, user_id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => AppError::not_found("user"),
            StoreError::Conflict(_) => AppError::conflict("last_admin", LAST_ADMIN),
            other => other.into(),
        });
    // Their tokens stop working on this node at once.
    state.caches.tokens.clear();
    deleted
}

/// Revokes an API token (`owner`: only if it is theirs): 404 when there is
/// no such token. It stops working on this node at once.
pub async fn revoke_token(state: &AppState, workspace_id: &str, id: &str, owner: Option<&str>) -> AppResult<()> {
    let revoked = state
        .store
        .delete_token(workspace_id, id, owner)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => AppError::not_found("token"),
            other => other.into(),
        });
    state.caches.tokens.clear();
    revoked
}

/// Sets a user's web sign-in password (422 `weak_password`, 404 for no such
/// user) and ends their web sessions, so a leaked session does not outlive
/// the reset.
pub async fn reset_password(state: &AppState, workspace_id: &str, user_id: &str, password: String) -> AppResult<()> {
    state.store.user(workspace_id, user_id).await.map_err(|e| match e {
        StoreError::NotFound => AppError::not_found("user"),
        other => other.into(),
    })?;
    check_password(&password)?;
    let cost = state.settings.password_cost;
    let hash = tokio::task::spawn_blocking(move || hash_password(&password, cost))
        .await
        .map_err(AppError::internal)??;
    state.store.set_user_password(workspace_id, user_id, &hash).await?;
    state.store.delete_user_web_sessions(workspace_id, user_id).await?;
    Ok(())
}
