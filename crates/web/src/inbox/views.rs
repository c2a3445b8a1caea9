//! Saved views: a user's named thread filters (`GET|POST /api/v1/views`,
//! `DELETE /api/v1/views/{id}`).

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use recado_app::inbox::filters::ViewFilters;
use recado_app::AppState;
use recado_core::ids::{new_id, IdKind};
use recado_store::inbox::SavedView;
use recado_store::StoreError;
use serde::{Deserialize, Serialize};

/// Longest view name.
const MAX_NAME_CHARS: usize = 60;
/// Most views one user keeps (each is counted on every inbox page).
const MAX_VIEWS: usize = 30;

#[derive(Serialize, utoipa::ToSchema)]
pub struct ViewBody {
    pub id: String,
    pub name: String,
    pub filters: ViewFilters,
    pub created_at: String,
}

impl From<SavedView> for ViewBody {
    fn from(v: SavedView) -> Self {
        ViewBody {
            filters: serde_json::from_str(&v.filters).unwrap_or_default(),
            id: v.id,
            name: v.name,
            created_at: recado_core::clock::to_rfc3339(v.created_at),
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewView {
    /// 1 to 60 characters, unique among the user's views.
    #[schema(pattern = "\\S", max_length = 60)]
    pub name: String,
    #[serde(default, deserialize_with = "recado_core::json_members::object")]
    pub filters: ViewFilters,
}

pub async fn load_filters(state: &AppState, workspace_id: &str, user_id: &str, id: &str) -> ApiResult<ViewFilters> {
    let v = state
        .store
        .saved_view(workspace_id, user_id, id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found("view"),
            other => other.into(),
        })?;
    Ok(serde_json::from_str(&v.filters).unwrap_or_default())
}

/// Checks and stores a view for `user_id`.
pub async fn save(state: &AppState, workspace_id: &str, user_id: &str, input: NewView) -> ApiResult<SavedView> {
    let name = input.name.trim().to_string();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::invalid(
            "invalid_name",
            "name",
            format!("view names are 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    let filters = input.filters.normalized();
    // Checked now so that a saved view always lists something sensible.
    filters.check(state, workspace_id, user_id).await?;
    if state.store.saved_views(workspace_id, user_id).await?.len() >= MAX_VIEWS {
        return Err(ApiError::conflict(
            "too_many_views",
            format!("a user keeps at most {MAX_VIEWS} views; delete one first"),
        ));
    }
    let view = SavedView {
        // Views get their own prefix so their ids are never mistaken for others.
        id: new_id(IdKind::Event).replacen("evt_", "vw_", 1),
        workspace_id: workspace_id.to_string(),
        user_id: user_id.to_string(),
        name,
        filters: serde_json::to_string(&filters).map_err(ApiError::internal)?,
        created_at: state.clock.now_ms(),
    };
    state.store.create_saved_view(&view).await.map_err(|e| match e {
        StoreError::Conflict(_) => {
            ApiError::conflict("view_name_taken", "you already have a view with this name").with_field("name")
        }
        other => other.into(),
    })?;
    Ok(view)
}

#[utoipa::path(get, path = "/api/v1/views", responses((status = 200, description = "the caller's saved views", body = crate::list::ListBody<ViewBody>)))]
pub async fn list_views(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<crate::list::ListBody<ViewBody>>> {
    let views: Vec<ViewBody> = state
        .store
        .saved_views(&caller.workspace_id, &caller.user_id)
        .await?
        .into_iter()
        .map(ViewBody::from)
        .collect();
    Ok(Json(crate::list::ListBody {
        items: views,
        next_cursor: None,
    }))
}

#[utoipa::path(post, path = "/api/v1/views", request_body = NewView,
    responses((status = 201, description = "the view", body = ViewBody),
        (status = 409, description = "`too_many_views` (30 per user), `view_name_taken`", body = crate::error::ErrorBody),
        (status = 422, description = "`invalid_name`, and the refusals of the filters (`invalid_status`, `invalid_channel`, `invalid_owner`)", body = crate::error::ErrorBody)))]
pub async fn create_view(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<NewView>,
) -> ApiResult<(StatusCode, Json<ViewBody>)> {
    let view = save(&state, &caller.workspace_id, &caller.user_id, input).await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

#[utoipa::path(delete, path = "/api/v1/views/{id}", params(("id" = String, Path, description = "the view's id")),
    responses((status = 204, description = "the view is gone")))]
pub async fn delete_view(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_saved_view(&caller.workspace_id, &caller.user_id, &id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found("view"),
            other => other.into(),
        })?;
    Ok(StatusCode::NO_CONTENT)
}
