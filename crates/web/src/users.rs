//! Users, API tokens and workspaces.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery};
use crate::list::{page, ListBody};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use recado_app::auth::Role;
use recado_app::bootstrap::DEFAULT_WORKSPACE;
use recado_app::AppState;
use recado_store::workspaces::User;
use serde::{Deserialize, Serialize};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/users", post(create_user).get(list_users))
        .route("/users/{id}", delete(delete_user))
        .route("/tokens", post(create_token).get(list_tokens))
        .route("/tokens/{id}", delete(revoke_token))
        .route("/workspace", get(get_workspace).patch(update_workspace))
        .route("/workspaces", post(create_workspace))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Unique in the workspace.
    #[schema(format = Email)]
    email: String,
    #[schema(pattern = "\\S")]
    name: String,
    /// At least 10 characters.
    #[schema(min_length = 10)]
    password: String,
    role: Role,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UserView {
    id: String,
    /// Shown to admins and to the user themself.
    /// Shown to admins only: agents see their colleagues' names.
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    name: String,
    #[schema(value_type = Role)]
    role: String,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        UserView {
            id: u.id,
            email: Some(u.email),
            name: u.name,
            role: u.role,
        }
    }
}

/// 422 `weak_password` for a password shorter than the minimum.
pub fn check_password(password: &str) -> ApiResult<()> {
    Ok(recado_app::auth::check_password(password)?)
}

#[utoipa::path(post, path = "/api/v1/users", request_body = NewUser,
    responses((status = 201, description = "the user", body = UserView), (status = 403, description = "`forbidden`: admins only", body = crate::error::ErrorBody),
        (status = 409, description = "`email_taken`", body = crate::error::ErrorBody),
        (status = 422, description = "`invalid_email`, `invalid_name`, `weak_password`, `invalid_role`", body = crate::error::ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<NewUser>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    caller.require_admin()?;
    let request = recado_app::users::NewUser {
        email: input.email,
        name: input.name,
        role: input.role.as_str().to_string(),
        password: input.password,
    };
    let user = recado_app::users::create_user(&state, &caller.workspace_id, request).await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

#[utoipa::path(get, path = "/api/v1/users", params(crate::extract::Page),
    responses((status = 200, description = "the workspace's users", body = ListBody<UserView>)))]
pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<crate::extract::Page>,
) -> ApiResult<Json<ListBody<UserView>>> {
    let limit = recado_store::clamp_limit(q.limit);
    let users = state
        .store
        .list_users(&caller.workspace_id, q.cursor.as_deref(), limit)
        .await?;
    let admin = caller.role == Role::Admin;
    Ok(Json(page(
        users,
        limit,
        |u| &u.id,
        |u| {
            let own = u.id == caller.user_id;
            let mut view = UserView::from(u);
            if !admin && !own {
                view.email = None;
            }
            view
        },
    )))
}

#[utoipa::path(delete, path = "/api/v1/users/{id}", params(("id" = String, Path, description = "the user's id")),
    responses((status = 204, description = "the user and their tokens are gone"), (status = 403, description = "`forbidden`: admins only", body = crate::error::ErrorBody),
        (status = 409, description = "`last_admin`: the workspace's last admin stays", body = crate::error::ErrorBody)))]
pub async fn delete_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require_admin()?;
    recado_app::users::delete_user(&state, &caller.workspace_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// 1 to 100 characters.
    #[schema(pattern = "\\S", max_length = 100)]
    name: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenCreated {
    id: String,
    /// Shown only in this response; only its hash is stored.
    token: String,
}

#[utoipa::path(post, path = "/api/v1/tokens", request_body = NewToken,
    responses((status = 201, description = "the token, shown once", body = TokenCreated),
        (status = 422, description = "`invalid_name`", body = crate::error::ErrorBody)))]
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<NewToken>,
) -> ApiResult<(StatusCode, Json<TokenCreated>)> {
    let (id, token) =
        recado_app::users::create_token(&state, &caller.workspace_id, &caller.user_id, &input.name).await?;
    Ok((StatusCode::CREATED, Json(TokenCreated { id, token })))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenView {
    id: String,
    name: String,
    user_id: String,
    created_at: String,
}

/// `GET /api/v1/tokens`: the caller's own tokens; an admin sees every token
/// of the workspace. Names and dates only.
#[utoipa::path(get, path = "/api/v1/tokens", responses((status = 200, description = "names and dates of the tokens (never the tokens)", body = ListBody<TokenView>)))]
pub async fn list_tokens(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<ListBody<TokenView>>> {
    let owner = (caller.role != Role::Admin).then_some(caller.user_id.as_str());
    let items: Vec<TokenView> = state
        .store
        .tokens(&caller.workspace_id, owner)
        .await?
        .into_iter()
        .map(|t| TokenView {
            id: t.id,
            name: t.name,
            user_id: t.user_id,
            created_at: recado_core::clock::to_rfc3339(t.created_at),
        })
        .collect();
    Ok(Json(ListBody {
        items,
        next_cursor: None,
    }))
}

/// `DELETE /api/v1/tokens/{id}`: revokes one of the caller's tokens (an admin
/// may revoke any token of the workspace); 404 for anyone else's.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", params(("id" = String, Path, description = "the token's id")),
    responses((status = 204, description = "the token no longer works")))]
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let owner = (caller.role != Role::Admin).then_some(caller.user_id.as_str());
    recado_app::users::revoke_token(&state, &caller.workspace_id, &id, owner).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct WorkspaceView {
    id: String,
    name: String,
    default_country: Option<String>,
    timezone: String,
}

#[utoipa::path(get, path = "/api/v1/workspace", responses((status = 200, description = "the caller's workspace", body = WorkspaceView)))]
pub async fn get_workspace(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<WorkspaceView>> {
    let ws = state.store.workspace(&caller.workspace_id).await?;
    Ok(Json(WorkspaceView {
        id: ws.id,
        name: ws.name,
        default_country: ws.default_country,
        timezone: ws.timezone,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceSettings {
    /// 1 to 100 characters.
    #[schema(pattern = "\\S", max_length = 100)]
    name: Option<String>,
    /// ISO 3166-1 alpha-2; `null` removes it.
    #[schema(schema_with = crate::openapi::nullable_country)]
    #[serde(default, deserialize_with = "double_option")]
    default_country: Option<Option<String>>,
    /// IANA time zone name such as `America/Sao_Paulo`.
    #[schema(schema_with = timezone_schema)]
    timezone: Option<String>,
    /// Reply confirming an opt-in keyword (`null` restores the built-in text).
    #[serde(default, deserialize_with = "double_option")]
    opt_in_reply: Option<Option<String>>,
    /// Reply confirming an opt-out keyword (`null` restores the built-in text).
    #[serde(default, deserialize_with = "double_option")]
    opt_out_reply: Option<Option<String>>,
}

/// The time zones the hub knows (the IANA database it is built with).
fn timezone_schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    let mut names: Vec<serde_json::Value> = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name().into()).collect();
    names.push(serde_json::Value::Null);
    crate::openapi::schema(serde_json::json!({"type": ["string", "null"], "enum": names}))
}

fn double_option<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[utoipa::path(patch, path = "/api/v1/workspace", request_body = WorkspaceSettings,
    responses((status = 200, description = "the workspace", body = WorkspaceView), (status = 403, description = "`forbidden`: admins only", body = crate::error::ErrorBody),
        (status = 422, description = "`invalid_name`, `invalid_country`, `invalid_timezone`, `invalid_reply`", body = crate::error::ErrorBody)))]
pub async fn update_workspace(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<WorkspaceSettings>,
) -> ApiResult<Json<WorkspaceView>> {
    caller.require_admin()?;
    let change = recado_app::workspaces::SettingsChange {
        name: input.name,
        default_country: input.default_country,
        timezone: input.timezone,
        opt_in_reply: input.opt_in_reply,
        opt_out_reply: input.opt_out_reply,
    };
    let ws = recado_app::workspaces::update_settings(&state.store, &caller.workspace_id, change).await?;
    state.caches.workspaces.forget(&caller.workspace_id);
    Ok(Json(WorkspaceView {
        id: ws.id,
        name: ws.name,
        default_country: ws.default_country,
        timezone: ws.timezone,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWorkspace {
    /// 1 to 100 characters, unique on the hub.
    #[schema(pattern = "\\S", max_length = 100)]
    name: String,
    /// ISO 3166-1 alpha-2.
    #[schema(schema_with = crate::openapi::nullable_country)]
    default_country: Option<String>,
    #[schema(format = Email)]
    admin_email: String,
    /// The admin's web sign-in password (at least 10 characters); generated and returned when absent.
    #[schema(min_length = 10)]
    admin_password: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct WorkspaceCreated {
    id: String,
    name: String,
    /// The new workspace admin's API token, shown once.
    admin_token: String,
    /// The admin's web sign-in password when none was given, shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    admin_password: Option<String>,
}

/// Creates another workspace (another business on this hub). Only admins of
/// the `default` workspace, the hub's operators, may do this.
#[utoipa::path(post, path = "/api/v1/workspaces", request_body = NewWorkspace,
    responses((status = 201, description = "the workspace and its admin's token, shown once", body = WorkspaceCreated),
        (status = 403, description = "`forbidden`: only admins of the `default` workspace", body = crate::error::ErrorBody),
        (status = 409, description = "`workspace_exists`, `email_taken`", body = crate::error::ErrorBody),
        (status = 422, description = "`invalid_name`, `invalid_country`, `invalid_email`, `weak_password`", body = crate::error::ErrorBody)))]
pub async fn create_workspace(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<NewWorkspace>,
) -> ApiResult<(StatusCode, Json<WorkspaceCreated>)> {
    caller.require_admin()?;
    let own = state.store.workspace(&caller.workspace_id).await?;
    if own.name != DEFAULT_WORKSPACE {
        return Err(ApiError::forbidden());
    }
    let request = recado_app::workspaces::NewWorkspace {
        name: input.name,
        default_country: input.default_country,
        admin_email: input.admin_email,
        admin_password: input.admin_password,
    };
    let created = recado_app::workspaces::create(
        &state.store,
        state.clock.as_ref(),
        state.settings.password_cost,
        request,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(WorkspaceCreated {
            id: created.id,
            name: created.name,
            admin_token: created.admin_token,
            admin_password: created.generated_password,
        }),
    ))
}
