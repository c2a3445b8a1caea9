//! Another workspace (another business on this hub) with its first admin:
//! one validated service for `POST /api/v1/workspaces` and `recado workspace
//! create`, so the command line refuses what the API refuses.

use crate::auth::{check_email, check_password, generate_password, generate_token, hash_password};
use crate::bootstrap::{create_workspace_with_admin, NewAdmin};
use crate::settings::PasswordCost;
use crate::{AppError, AppResult};
use recado_core::clock::Clock;
use recado_store::{Store, StoreError};

/// Longest workspace name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// What a new workspace is made from.
#[derive(Clone, Debug)]
pub struct NewWorkspace {
    pub name: String,
    pub default_country: Option<String>,
    pub admin_email: String,
    /// The admin's web sign-in password; one is generated when absent.
    pub admin_password: Option<String>,
}

/// A created workspace and its admin's credentials, to be shown once.
#[derive(Debug)]
pub struct CreatedWorkspace {
    pub id: String,
    pub name: String,
    pub admin_email: String,
    pub admin_token: String,
    /// The generated password, when none was given.
    pub generated_password: Option<String>,
}

/// Checks the request, then creates the workspace and its admin in one
/// transaction (a taken name or e-mail leaves nothing behind).
pub async fn create(
    store: &Store,
    clock: &dyn Clock,
    cost: PasswordCost,
    input: NewWorkspace,
) -> AppResult<CreatedWorkspace> {
    let name = input.name.trim().to_string();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::invalid(
            "invalid_name",
            "name",
            format!("workspace names are 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    let country = input.default_country.map(|c| c.trim().to_ascii_uppercase());
    if let Some(c) = &country {
        if recado_core::phone::calling_code_of(c).is_none() {
            return Err(AppError::invalid(
                "invalid_country",
                "default_country",
                format!("`{c}` is not an ISO 3166-1 alpha-2 code"),
            ));
        }
    }
    let admin_email = check_email(&input.admin_email)?;
    let (password, generated_password) = match input.admin_password {
        Some(p) => {
            check_password(&p)?;
            (p, None)
        }
        None => {
            let p = generate_password();
            (p.clone(), Some(p))
        }
    };
    let admin_token = generate_token();
    let password_hash = hash_password(&password, cost)?;
    let admin = NewAdmin {
        email: &admin_email,
        token: &admin_token,
        password_hash: &password_hash,
    };
    let id = create_workspace_with_admin(store, &name, country, &admin, clock)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(what) => AppError::conflict("conflict", what),
            other => other.into(),
        })?;
    Ok(CreatedWorkspace {
        id,
        name,
        admin_email,
        admin_token,
        generated_password,
    })
}
