//! Another workspace (another business on this hub) with its first admin:
//! one validated service for `POST /api/v1/workspaces` and `recado workspace
//! create`, so the command line refuses what the API refuses.

use crate::auth::{check_email, check_password, generate_password, generate_token, hash_password};
use crate::bootstrap::{create_workspace_with_admin, NewAdmin};
use crate::settings::PasswordCost;
use crate::{AppError, AppResult};
use recado_core::clock::Clock;
use recado_store::workspaces::Workspace;
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
    let country = input.default_country.as_deref().map(check_country).transpose()?;
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

/// A country code as stored: trimmed, upper case, and one the phone rules
/// know (422 `invalid_country`).
fn check_country(code: &str) -> AppResult<String> {
    let code = code.trim().to_ascii_uppercase();
    if recado_core::phone::calling_code_of(&code).is_none() {
        return Err(AppError::invalid(
            "invalid_country",
            "default_country",
            format!("`{code}` is not an ISO 3166-1 alpha-2 code"),
        ));
    }
    Ok(code)
}

/// Longest keyword confirmation reply, in characters.
pub const MAX_REPLY_CHARS: usize = 1024;

/// A change of a workspace's settings. For each field, `None` keeps the
/// current value; for the nullable ones `Some(None)` clears it (the keyword
/// replies then fall back to the built-in texts).
#[derive(Clone, Debug, Default)]
pub struct SettingsChange {
    pub name: Option<String>,
    pub default_country: Option<Option<String>>,
    pub timezone: Option<String>,
    pub opt_in_reply: Option<Option<String>>,
    pub opt_out_reply: Option<Option<String>>,
}

/// Checks and applies a settings change (422 `invalid_country`,
/// `invalid_name`, `invalid_timezone` or `invalid_reply`, nothing written on refusal) and
/// returns the workspace as it now is.
pub async fn update_settings(store: &Store, workspace_id: &str, change: SettingsChange) -> AppResult<Workspace> {
    let mut ws = store.workspace(workspace_id).await?;
    if let Some(name) = change.name {
        let name = name.trim().to_string();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return Err(AppError::invalid(
                "invalid_name",
                "name",
                format!("workspace names are 1 to {MAX_NAME_CHARS} characters"),
            ));
        }
        ws.name = name;
    }
    if let Some(country) = change.default_country {
        ws.default_country = country.as_deref().map(check_country).transpose()?;
    }
    if let Some(timezone) = change.timezone {
        ws.timezone = timezone.trim().to_string();
    }
    if ws.timezone.parse::<chrono_tz::Tz>().is_err() {
        return Err(AppError::invalid(
            "invalid_timezone",
            "timezone",
            format!("`{}` is not an IANA time zone", ws.timezone),
        ));
    }
    let replies = if change.opt_in_reply.is_some() || change.opt_out_reply.is_some() {
        let (old_in, old_out) = store.keyword_replies(workspace_id).await?;
        let pick = |new: Option<Option<String>>, old: Option<String>| match new {
            None => old,
            Some(v) => v.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()),
        };
        let (opt_in, opt_out) = (pick(change.opt_in_reply, old_in), pick(change.opt_out_reply, old_out));
        for (field, text) in [("opt_in_reply", &opt_in), ("opt_out_reply", &opt_out)] {
            if text.as_ref().is_some_and(|t| t.chars().count() > MAX_REPLY_CHARS) {
                return Err(AppError::invalid(
                    "invalid_reply",
                    field,
                    format!("keyword replies are at most {MAX_REPLY_CHARS} characters"),
                ));
            }
        }
        Some((opt_in, opt_out))
    } else {
        None
    };
    store
        .update_workspace_settings(workspace_id, &ws.name, ws.default_country.as_deref(), &ws.timezone)
        .await?;
    if let Some((opt_in, opt_out)) = replies {
        store
            .set_keyword_replies(workspace_id, opt_in.as_deref(), opt_out.as_deref())
            .await?;
    }
    Ok(ws)
}
