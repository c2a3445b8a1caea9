//! First start on an empty database: the `default` workspace and its first
//! admin, whose API token comes from `RECADO_ADMIN_TOKEN` and web password
//! from `RECADO_ADMIN_PASSWORD`, or are generated and returned so they can be
//! printed once.

use crate::auth::{generate_password, generate_token, hash_password, hash_token, PasswordCost};
use crate::Settings;
use recado_core::clock::Clock;
use recado_core::ids::{new_id, IdKind};
use recado_store::workspaces::{User, Workspace};
use recado_store::{Store, StoreError};

pub const DEFAULT_WORKSPACE: &str = "default";
/// The e-mail of the first admin, their web sign-in name.
pub const FIRST_ADMIN_EMAIL: &str = "admin@localhost";

/// What a first start generated, to be printed once (given values are not).
#[derive(Debug, Default)]
pub struct FirstStart {
    pub token: Option<String>,
    pub password: Option<String>,
}

pub async fn first_start(store: &Store, settings: &Settings, clock: &dyn Clock) -> anyhow::Result<FirstStart> {
    if store.count_workspaces().await? > 0 {
        return Ok(FirstStart::default());
    }
    let (token, generated_token) = match &settings.admin_token {
        Some(t) => (t.expose().to_string(), None),
        None => {
            let t = generate_token();
            (t.clone(), Some(t))
        }
    };
    let (password, generated_password) = match &settings.admin_password {
        Some(p) => (p.expose().to_string(), None),
        None => {
            let p = generate_password();
            (p.clone(), Some(p))
        }
    };
    let password_hash = hash_password(&password, settings.password_cost).map_err(|e| anyhow::anyhow!(e.message))?;
    let admin = NewAdmin {
        email: FIRST_ADMIN_EMAIL,
        token: &token,
        password_hash: &password_hash,
    };
    match create_workspace_with_admin(
        store,
        DEFAULT_WORKSPACE,
        settings.default_country.clone(),
        &admin,
        clock,
    )
    .await
    {
        Ok(_) => Ok(FirstStart {
            token: generated_token,
            password: generated_password,
        }),
        // Another node sharing the database bootstrapped first.
        Err(StoreError::Conflict(_)) => Ok(FirstStart::default()),
        Err(e) => Err(e.into()),
    }
}

/// The first admin of a new workspace: an API token and a web password
/// (argon2 hash).
pub struct NewAdmin<'a> {
    pub email: &'a str,
    pub token: &'a str,
    pub password_hash: &'a str,
}

/// A workspace with one admin user holding `admin`'s token and password.
/// Returns the workspace id.
pub async fn create_workspace_with_admin(
    store: &Store,
    name: &str,
    default_country: Option<String>,
    admin: &NewAdmin<'_>,
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
    let user = User {
        id: new_id(IdKind::User),
        workspace_id: ws.id.clone(),
        email: admin.email.to_string(),
        name: "Administrator".into(),
        role: "admin".into(),
        password_hash: Some(admin.password_hash.to_string()),
        created_at: now,
    };
    // One transaction: a taken name or e-mail leaves nothing behind.
    store
        .create_workspace_with_admin(
            &ws,
            &user,
            &new_id(IdKind::Token),
            "bootstrap",
            &hash_token(admin.token),
        )
        .await?;
    Ok(ws.id)
}

/// Gives the user with `email` a new generated password and ends their web
/// sessions. Returns the password, to be shown once; `None` for an unknown
/// e-mail.
pub async fn reset_password(store: &Store, email: &str, cost: PasswordCost) -> anyhow::Result<Option<String>> {
    let Some(user) = store.user_by_email(&email.trim().to_lowercase()).await? else {
        return Ok(None);
    };
    let password = generate_password();
    let hash = hash_password(&password, cost).map_err(|e| anyhow::anyhow!(e.message))?;
    store.set_user_password(&user.workspace_id, &user.id, &hash).await?;
    store.delete_user_web_sessions(&user.workspace_id, &user.id).await?;
    Ok(Some(password))
}
