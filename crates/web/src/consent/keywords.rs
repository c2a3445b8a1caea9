//! Per-workspace consent keywords, matched with the built-in ones.

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::ApiJson;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use recado_app::AppState;
use recado_core::keywords::{builtin_keywords, KeywordKind};
use serde::{Deserialize, Serialize};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/keywords", get(list).post(add))
        .route("/keywords/{word}", delete(remove))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct KeywordView {
    word: String,
    #[schema(schema_with = keyword_kind)]
    kind: KeywordKind,
    language: Option<String>,
    builtin: bool,
}

/// Built-in keywords and the workspace's own.
#[utoipa::path(get, path = "/api/v1/keywords", responses((status = 200, description = "built-in keywords, then the workspace's", body = crate::list::ListBody<KeywordView>)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<crate::list::ListBody<KeywordView>>> {
    let mut items: Vec<KeywordView> = builtin_keywords()
        .iter()
        .map(|k| KeywordView {
            word: k.word.to_string(),
            kind: k.kind,
            language: Some(k.language.to_string()),
            builtin: true,
        })
        .collect();
    for k in state.store.custom_keywords(&caller.workspace_id).await? {
        items.push(KeywordView {
            word: k.word,
            kind: k.kind,
            language: k.language,
            builtin: false,
        });
    }
    Ok(Json(crate::list::ListBody {
        items,
        next_cursor: None,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeywordInput {
    /// One word of at most 32 characters.
    #[schema(pattern = "^\\s*\\S+\\s*$")]
    word: String,
    #[schema(schema_with = keyword_kind)]
    kind: KeywordKind,
    /// The language of its confirmation reply (`pt`, `es`, `en`, …).
    language: Option<String>,
}

fn keyword_kind() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    crate::openapi::schema(serde_json::json!({"type": "string", "enum": ["opt_in", "opt_out"]}))
}

#[utoipa::path(post, path = "/api/v1/keywords", request_body = KeywordInput,
    responses((status = 201, description = "the keyword", body = KeywordView), (status = 403, description = "`forbidden`: admins only", body = crate::error::ErrorBody),
        (status = 409, description = "`keyword_exists`", body = crate::error::ErrorBody),
        (status = 422, description = "`invalid_keyword`, `invalid_language`", body = crate::error::ErrorBody)))]
pub async fn add(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<KeywordInput>,
) -> ApiResult<(StatusCode, Json<KeywordView>)> {
    caller.require_admin()?;
    let keyword =
        recado_app::consent::keywords::add(&state, &caller.workspace_id, &input.word, input.kind, input.language)
            .await?;
    Ok((
        StatusCode::CREATED,
        Json(KeywordView {
            word: keyword.word,
            kind: keyword.kind,
            language: keyword.language,
            builtin: false,
        }),
    ))
}

#[utoipa::path(delete, path = "/api/v1/keywords/{word}", params(("word" = String, Path, description = "the keyword")),
    responses((status = 204, description = "the keyword is gone"), (status = 403, description = "`forbidden`: admins only", body = crate::error::ErrorBody)))]
pub async fn remove(State(state): State<AppState>, caller: Caller, Path(word): Path<String>) -> ApiResult<StatusCode> {
    caller.require_admin()?;
    recado_app::consent::keywords::remove(&state, &caller.workspace_id, &word).await?;
    Ok(StatusCode::NO_CONTENT)
}
