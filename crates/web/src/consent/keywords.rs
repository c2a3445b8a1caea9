//! Per-workspace consent keywords, matched with the built-in ones.

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use recado_core::keywords::{builtin_keywords, fold_keyword, validate_custom_keyword, KeywordKind};
use recado_store::keywords::StoredKeyword;
use serde::{Deserialize, Serialize};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/keywords", get(list).post(add))
        .route("/keywords/{word}", delete(remove))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct KeywordView {
    word: String,
    #[schema(value_type = String)]
    kind: KeywordKind,
    language: Option<String>,
    builtin: bool,
}

/// Built-in keywords and the workspace's own.
#[utoipa::path(get, path = "/api/v1/keywords", responses((status = 200)))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<serde_json::Value>> {
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
        let kind = if k.kind == "opt_in" {
            KeywordKind::OptIn
        } else {
            KeywordKind::OptOut
        };
        items.push(KeywordView {
            word: k.word,
            kind,
            language: k.language,
            builtin: false,
        });
    }
    Ok(Json(serde_json::json!({ "items": items, "next_cursor": null })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeywordInput {
    word: String,
    #[schema(value_type = String)]
    kind: KeywordKind,
    language: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/keywords", request_body = KeywordInput, responses((status = 201, body = KeywordView)))]
pub async fn add(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<KeywordInput>,
) -> ApiResult<(StatusCode, Json<KeywordView>)> {
    caller.require_admin()?;
    let word = validate_custom_keyword(&input.word)
        .map_err(|e| ApiError::invalid("invalid_keyword", "word", e.to_string()))?;
    let existing = state.store.custom_keywords(&caller.workspace_id).await?;
    if existing.iter().any(|k| fold_keyword(&k.word) == fold_keyword(&word)) {
        return Err(ApiError::conflict(
            "keyword_exists",
            format!("`{word}` is already a keyword of this workspace"),
        ));
    }
    let kind = match input.kind {
        KeywordKind::OptIn => "opt_in",
        KeywordKind::OptOut => "opt_out",
    };
    let stored = StoredKeyword {
        word: word.clone(),
        kind: kind.into(),
        language: input.language.clone(),
        created_at: state.clock.now_ms(),
    };
    state
        .store
        .add_custom_keyword(&caller.workspace_id, &stored)
        .await
        .map_err(|e| match e {
            recado_store::StoreError::Conflict(_) => {
                ApiError::conflict("keyword_exists", format!("`{word}` is already a keyword"))
            }
            other => other.into(),
        })?;
    Ok((
        StatusCode::CREATED,
        Json(KeywordView {
            word,
            kind: input.kind,
            language: input.language,
            builtin: false,
        }),
    ))
}

#[utoipa::path(delete, path = "/api/v1/keywords/{word}", responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn remove(State(state): State<AppState>, caller: Caller, Path(word): Path<String>) -> ApiResult<StatusCode> {
    caller.require_admin()?;
    // A keyword is the same keyword in any case or normalisation form (as when
    // it was added), so it is removed by that form too.
    let wanted = fold_keyword(&word);
    let stored = state
        .store
        .custom_keywords(&caller.workspace_id)
        .await?
        .into_iter()
        .find(|k| fold_keyword(&k.word) == wanted)
        .ok_or_else(|| ApiError::not_found("keyword"))?;
    state
        .store
        .remove_custom_keyword(&caller.workspace_id, &stored.word)
        .await
        .map_err(|e| match e {
            recado_store::StoreError::NotFound => ApiError::not_found("keyword"),
            other => other.into(),
        })?;
    Ok(StatusCode::NO_CONTENT)
}
