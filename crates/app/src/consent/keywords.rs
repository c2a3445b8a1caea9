//! A workspace's own consent keywords, matched with the built-in ones: a
//! keyword is the same keyword in any letter case or normalisation form, so
//! it is added once and removed by any of its forms.

use crate::{AppError, AppResult, AppState};
use recado_core::keywords::{fold_keyword, validate_custom_keyword, KeywordKind};
use recado_store::keywords::StoredKeyword;
use recado_store::StoreError;

/// Adds a keyword: 422 `invalid_keyword` for a word the rules refuse, 409
/// `keyword_exists` when the workspace has it in any form.
pub async fn add(
    state: &AppState,
    workspace_id: &str,
    word: &str,
    kind: KeywordKind,
    language: Option<String>,
) -> AppResult<StoredKeyword> {
    let word =
        validate_custom_keyword(word).map_err(|e| AppError::invalid("invalid_keyword", "word", e.to_string()))?;
    let exists = || {
        AppError::conflict(
            "keyword_exists",
            format!("`{word}` is already a keyword of this workspace"),
        )
    };
    if stored_form(state, workspace_id, &word).await?.is_some() {
        return Err(exists());
    }
    let keyword = StoredKeyword {
        word: word.clone(),
        kind,
        language,
        created_at: state.clock.now_ms(),
    };
    state
        .store
        .add_custom_keyword(workspace_id, &keyword)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => exists(),
            other => other.into(),
        })?;
    Ok(keyword)
}

/// Removes a keyword given in any of its forms: 404 when the workspace has
/// no such keyword.
pub async fn remove(state: &AppState, workspace_id: &str, word: &str) -> AppResult<()> {
    let stored = stored_form(state, workspace_id, word)
        .await?
        .ok_or_else(|| AppError::not_found("keyword"))?;
    state
        .store
        .remove_custom_keyword(workspace_id, &stored.word)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => AppError::not_found("keyword"),
            other => other.into(),
        })
}

/// The workspace's keyword that `word` is a form of.
async fn stored_form(state: &AppState, workspace_id: &str, word: &str) -> AppResult<Option<StoredKeyword>> {
    let wanted = fold_keyword(word);
    Ok(state
        .store
        .custom_keywords(workspace_id)
        .await?
        .into_iter()
        .find(|k| fold_keyword(&k.word) == wanted))
}

/// Sets the workspace's confirmation replies in one language (an empty or
/// absent text removes it, so the reply for every language or the built-in
/// text applies again; 422 `invalid_language`, `invalid_reply`).
pub async fn set_language_replies(
    state: &AppState,
    workspace_id: &str,
    language: &str,
    opt_in: Option<&str>,
    opt_out: Option<&str>,
) -> AppResult<()> {
    let language = language.trim().to_ascii_lowercase();
    if !recado_core::keywords::is_reply_language(&language) {
        return Err(AppError::invalid(
            "invalid_language",
            "language",
            "the language is two or three letters, such as pt or es",
        ));
    }
    let clean = |text: Option<&str>, field: &str| -> AppResult<Option<String>> {
        let text = text.map(str::trim).filter(|t| !t.is_empty());
        if text.is_some_and(|t| t.chars().count() > crate::workspaces::MAX_REPLY_CHARS) {
            return Err(AppError::invalid(
                "invalid_reply",
                field.to_string(),
                format!(
                    "keyword replies are at most {} characters",
                    crate::workspaces::MAX_REPLY_CHARS
                ),
            ));
        }
        Ok(text.map(str::to_string))
    };
    let (opt_in, opt_out) = (clean(opt_in, "opt_in_reply")?, clean(opt_out, "opt_out_reply")?);
    for (kind, text) in [(KeywordKind::OptIn, opt_in), (KeywordKind::OptOut, opt_out)] {
        state
            .store
            .set_language_reply(workspace_id, kind, &language, text.as_deref())
            .await?;
    }
    Ok(())
}
