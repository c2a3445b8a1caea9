//! Web sign-in sessions. The cookie carries a random token; only its SHA-256
//! hash is stored, like API tokens, so a copy of the database signs nobody in.

use crate::{on_reader, on_writer, Result, Store};

/// A session as found by its token hash, with the user it signs in.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct WebSession {
    pub token_hash: String,
    pub workspace_id: String,
    pub user_id: String,
    pub csrf_token: String,
    pub expires_at: i64,
    pub email: String,
    pub name: String,
    pub role: String,
}

#[derive(Clone, Debug)]
pub struct WebSessionWrite<'a> {
    pub token_hash: &'a str,
    pub workspace_id: &'a str,
    pub user_id: &'a str,
    pub csrf_token: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

impl Store {
    /// Stores a new session and drops the expired ones of every user, so the
    /// table does not grow with sessions nobody signed out of.
    pub async fn create_web_session(&self, s: &WebSessionWrite<'_>) -> Result<()> {
        on_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM web_sessions WHERE expires_at <= $1")
                .bind(s.now)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO web_sessions (token_hash, workspace_id, user_id, csrf_token, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(s.token_hash)
            .bind(s.workspace_id)
            .bind(s.user_id)
            .bind(s.csrf_token)
            .bind(s.now)
            .bind(s.expires_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The live session with this token hash; expired sessions are not found.
    pub async fn web_session(&self, token_hash: &str, now: i64) -> Result<Option<WebSession>> {
        let sql =
            "SELECT s.token_hash, s.workspace_id, s.user_id, s.csrf_token, s.expires_at, u.email, u.name, u.role \
                   FROM web_sessions s JOIN users u ON u.id = s.user_id \
                   WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.workspace_id = s.workspace_id";
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, WebSession>(sql)
            .bind(token_hash)
            .bind(now)
            .fetch_optional(pool)
            .await?))
    }

    pub async fn delete_web_session(&self, token_hash: &str) -> Result<()> {
        on_writer!(self, |pool| {
            sqlx::query("DELETE FROM web_sessions WHERE token_hash = $1")
                .bind(token_hash)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Signs a user out everywhere (after a password reset).
    pub async fn delete_user_web_sessions(&self, workspace_id: &str, user_id: &str) -> Result<u64> {
        Ok(on_writer!(self, |pool| {
            sqlx::query("DELETE FROM web_sessions WHERE workspace_id = $1 AND user_id = $2")
                .bind(workspace_id)
                .bind(user_id)
                .execute(pool)
                .await?
                .rows_affected()
        }))
    }
}
