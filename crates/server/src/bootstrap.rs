//! First start on an empty database: the `default` workspace and its first
//! admin, whose API token comes from `RECADO_ADMIN_TOKEN` or is generated and
//! returned so it can be printed once.

use crate::auth::{generate_token, hash_token};
use crate::config::Settings;
use recado_core::clock::Clock;
use recado_core::ids::{new_id, IdKind};
use recado_store::workspaces::{User, Workspace};
use recado_store::{Store, StoreError};

pub const DEFAULT_WORKSPACE: &str = "default";

pub async fn first_start(store: &Store, settings: &Settings, clock: &dyn Clock) -> anyhow::Result<Option<String>> {
    if store.count_workspaces().await? > 0 {
        return Ok(None);
    }
    let (given, token) = match &settings.admin_token {
        Some(t) => (true, t.expose().to_string()),
        None => (false, generate_token()),
    };
    match create_workspace_with_admin(
        store,
        DEFAULT_WORKSPACE,
        settings.default_country.clone(),
        "admin@localhost",
        &token,
        clock,
    )
    .await
    {
        Ok(_) => Ok(if given { None } else { Some(token) }),
        // Another node sharing the database bootstrapped first.
        Err(StoreError::Conflict(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A workspace with one admin user holding `token`. Returns the workspace id.
pub async fn create_workspace_with_admin(
    store: &Store,
    name: &str,
    default_country: Option<String>,
    admin_email: &str,
    token: &str,
    clock: &dyn Clock,
) -> Result<String, StoreError> {
    let now = clock.now_ms();
    let ws = Workspace {
        id: new_id(IdKind::Workspace),
        name: name.to_string(),
        default_country,
        timezone: "UTC".into(),
        created_at: now,
    };
    let admin = User {
        id: new_id(IdKind::User),
        workspace_id: ws.id.clone(),
        email: admin_email.to_string(),
        name: "Administrator".into(),
        role: "admin".into(),
        password_hash: None,
        created_at: now,
    };
    // One transaction: a taken name or e-mail leaves nothing behind.
    store
        .create_workspace_with_admin(&ws, &admin, &new_id(IdKind::Token), "bootstrap", &hash_token(token))
        .await?;
    Ok(ws.id)
}
