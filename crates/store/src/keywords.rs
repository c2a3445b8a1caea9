//! Per-workspace consent keywords, added to the built-in ones.

use crate::{on_reader, on_writer, Result, Store, StoreError};
use recado_core::keywords::KeywordKind;

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct StoredKeyword {
    pub word: String,
    #[sqlx(try_from = "String")]
    pub kind: KeywordKind,
    pub language: Option<String>,
    pub created_at: i64,
}

impl Store {
    /// The workspace's replies per language: `(kind, language, text)`.
    pub async fn language_replies(&self, workspace_id: &str) -> Result<Vec<(String, String, String)>> {
        let sql = "SELECT kind, language, text FROM keyword_replies WHERE workspace_id = $1 ORDER BY language, kind";
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, (String, String, String)>(
            sql
        )
        .bind(workspace_id)
        .fetch_all(pool)
        .await?))
    }

    /// The workspace's reply of `kind` in `language`, if it set one.
    pub async fn language_reply(
        &self,
        workspace_id: &str,
        kind: KeywordKind,
        language: &str,
    ) -> Result<Option<String>> {
        let sql = "SELECT text FROM keyword_replies WHERE workspace_id = $1 AND kind = $2 AND language = $3";
        Ok(on_reader!(self, |pool| sqlx::query_scalar::<_, String>(sql)
            .bind(workspace_id)
            .bind(kind.as_str())
            .bind(language)
            .fetch_optional(pool)
            .await?))
    }

    /// Sets (or with `None` removes) the reply of `kind` in `language`.
    pub async fn set_language_reply(
        &self,
        workspace_id: &str,
        kind: KeywordKind,
        language: &str,
        text: Option<&str>,
    ) -> Result<()> {
        on_writer!(self, |pool| {
            match text {
                Some(text) => {
                    sqlx::query(
                        "INSERT INTO keyword_replies (workspace_id, kind, language, text) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (workspace_id, kind, language) DO UPDATE SET text = excluded.text",
                    )
                    .bind(workspace_id)
                    .bind(kind.as_str())
                    .bind(language)
                    .bind(text)
                    .execute(pool)
                    .await?
                }
                None => {
                    sqlx::query("DELETE FROM keyword_replies WHERE workspace_id = $1 AND kind = $2 AND language = $3")
                        .bind(workspace_id)
                        .bind(kind.as_str())
                        .bind(language)
                        .execute(pool)
                        .await?
                }
            };
        });
        Ok(())
    }

    pub async fn custom_keywords(&self, workspace_id: &str) -> Result<Vec<StoredKeyword>> {
        let sql = "SELECT word, kind, language, created_at FROM custom_keywords WHERE workspace_id = $1 ORDER BY word";
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, StoredKeyword>(sql)
            .bind(workspace_id)
            .fetch_all(pool)
            .await?))
    }

    pub async fn add_custom_keyword(&self, workspace_id: &str, k: &StoredKeyword) -> Result<()> {
        on_writer!(self, |pool| {
            sqlx::query("INSERT INTO custom_keywords (workspace_id, word, kind, language, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(workspace_id)
                .bind(&k.word)
                .bind(k.kind.as_str())
                .bind(&k.language)
                .bind(k.created_at)
                .execute(pool)
                .await
                .map_err(|e| StoreError::unique_as_conflict(e, "keyword exists"))?;
        });
        Ok(())
    }

    pub async fn remove_custom_keyword(&self, workspace_id: &str, word: &str) -> Result<()> {
        let n = on_writer!(self, |pool| {
            sqlx::query("DELETE FROM custom_keywords WHERE workspace_id = $1 AND word = $2")
                .bind(workspace_id)
                .bind(word)
                .execute(pool)
                .await?
                .rows_affected()
        });
        StoreError::found(n)
    }
}
