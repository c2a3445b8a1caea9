//! Workspaces, users and API tokens.

use crate::{on_reader, on_writer, Result, Store, StoreError};

/// The conflict [`Store::delete_user`] reports for a workspace's last admin.
pub const LAST_ADMIN: &str = "the last admin of a workspace cannot be deleted";

#[derive(Clone, Debug, sqlx::FromRow, PartialEq)]
pub struct Workspace {
    pub id: String,
    pub name: String,
    pub default_country: Option<String>,
    pub timezone: String,
    pub created_at: i64,
}

#[derive(Clone, Debug, sqlx::FromRow, PartialEq)]
pub struct User {
    pub id: String,
    pub workspace_id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub password_hash: Option<String>,
    pub created_at: i64,
}

/// An API token as listed: never the token itself.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct TokenRecord {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub created_at: i64,
}

/// A token's owner as found by the token's hash.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TokenOwner {
    pub token_id: String,
    pub workspace_id: String,
    pub user_id: String,
    pub role: String,
}

const USER_COLUMNS: &str = "id, workspace_id, email, name, role, password_hash, created_at";

impl Store {
    pub async fn create_workspace(&self, ws: &Workspace) -> Result<()> {
        on_writer!(self, |pool| {
            sqlx::query(
                "INSERT INTO workspaces (id, name, default_country, timezone, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&ws.id)
            .bind(&ws.name)
            .bind(&ws.default_country)
            .bind(&ws.timezone)
            .bind(ws.created_at)
            .execute(pool)
            .await
            .map_err(|e| StoreError::unique_as_conflict(e, "workspace name taken"))?;
        });
        Ok(())
    }

    /// A workspace, its first admin and the admin's token, all or nothing: a
    /// taken name or e-mail leaves no workspace without an admin behind.
    pub async fn create_workspace_with_admin(
        &self,
        ws: &Workspace,
        admin: &User,
        token_id: &str,
        token_name: &str,
        token_hash: &str,
    ) -> Result<()> {
        on_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO workspaces (id, name, default_country, timezone, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&ws.id)
            .bind(&ws.name)
            .bind(&ws.default_country)
            .bind(&ws.timezone)
            .bind(ws.created_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::unique_as_conflict(e, "workspace name taken"))?;
            sqlx::query(
                "INSERT INTO users (id, workspace_id, email, name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&admin.id)
            .bind(&admin.workspace_id)
            .bind(&admin.email)
            .bind(&admin.name)
            .bind(&admin.role)
            .bind(&admin.password_hash)
            .bind(admin.created_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::unique_as_conflict(e, "email already in use"))?;
            sqlx::query("INSERT INTO api_tokens (id, workspace_id, user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(token_id)
                .bind(&ws.id)
                .bind(&admin.id)
                .bind(token_name)
                .bind(token_hash)
                .bind(ws.created_at)
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::unique_as_conflict(e, "token exists"))?;
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn workspace(&self, id: &str) -> Result<Workspace> {
        let sql = "SELECT id, name, default_country, timezone, created_at FROM workspaces WHERE id = $1";
        on_reader!(self, |pool| sqlx::query_as::<_, Workspace>(sql)
            .bind(id)
            .fetch_optional(pool)
            .await?)
        .ok_or(StoreError::NotFound)
    }

    pub async fn workspace_by_name(&self, name: &str) -> Result<Option<Workspace>> {
        let sql = "SELECT id, name, default_country, timezone, created_at FROM workspaces WHERE name = $1";
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, Workspace>(sql)
            .bind(name)
            .fetch_optional(pool)
            .await?))
    }

    pub async fn count_workspaces(&self) -> Result<i64> {
        Ok(on_reader!(self, |pool| sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM workspaces"
        )
        .fetch_one(pool)
        .await?))
    }

    pub async fn update_workspace_settings(
        &self,
        id: &str,
        name: &str,
        default_country: Option<&str>,
        timezone: &str,
    ) -> Result<()> {
        let done = on_writer!(self, |pool| {
            sqlx::query("UPDATE workspaces SET name = $4, default_country = $1, timezone = $2 WHERE id = $3")
                .bind(default_country)
                .bind(timezone)
                .bind(id)
                .bind(name)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn create_user(&self, user: &User) -> Result<()> {
        on_writer!(self, |pool| {
            sqlx::query(
                "INSERT INTO users (id, workspace_id, email, name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&user.id)
            .bind(&user.workspace_id)
            .bind(&user.email)
            .bind(&user.name)
            .bind(&user.role)
            .bind(&user.password_hash)
            .bind(user.created_at)
            .execute(pool)
            .await
            .map_err(|e| StoreError::unique_as_conflict(e, "email already in use"))?;
        });
        Ok(())
    }

    pub async fn user(&self, workspace_id: &str, id: &str) -> Result<User> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE workspace_id = $1 AND id = $2");
        on_reader!(self, |pool| sqlx::query_as::<_, User>(&sql)
            .bind(workspace_id)
            .bind(id)
            .fetch_optional(pool)
            .await?)
        .ok_or(StoreError::NotFound)
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, User>(&sql)
            .bind(email)
            .fetch_optional(pool)
            .await?))
    }

    /// Users of a workspace, oldest first, after `cursor`.
    pub async fn list_users(&self, workspace_id: &str, cursor: Option<&str>, limit: i64) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE workspace_id = $1 AND id > $2 ORDER BY id LIMIT $3");
        Ok(on_reader!(self, |pool| {
            sqlx::query_as::<_, User>(&sql)
                .bind(workspace_id)
                .bind(cursor.unwrap_or(""))
                .bind(limit)
                .fetch_all(pool)
                .await?
        }))
    }

    pub async fn set_user_password(&self, workspace_id: &str, id: &str, password_hash: &str) -> Result<()> {
        let done = on_writer!(self, |pool| {
            sqlx::query("UPDATE users SET password_hash = $1 WHERE workspace_id = $2 AND id = $3")
                .bind(password_hash)
                .bind(workspace_id)
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Deletes a user and, with it, every token of theirs. The last admin of a
    /// workspace is never deleted ([`LAST_ADMIN`] conflict): the check and the
    /// delete share one transaction, with the workspace's admins locked on
    /// PostgreSQL, so two admins deleting each other at once cannot both win.
    pub async fn delete_user(&self, workspace_id: &str, id: &str) -> Result<()> {
        let admins_sql = format!(
            "SELECT id FROM users WHERE workspace_id = $1 AND role = 'admin' ORDER BY id{}",
            self.dialect().for_update()
        );
        on_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            let role: Option<String> = sqlx::query_scalar("SELECT role FROM users WHERE workspace_id = $1 AND id = $2")
                .bind(workspace_id)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(role) = role else {
                return Err(StoreError::NotFound);
            };
            if role == "admin" {
                let admins: Vec<String> = sqlx::query_scalar(&admins_sql)
                    .bind(workspace_id)
                    .fetch_all(&mut *tx)
                    .await?;
                if !admins.iter().any(|a| a != id) {
                    return Err(StoreError::Conflict(LAST_ADMIN.to_string()));
                }
            }
            sqlx::query("DELETE FROM api_tokens WHERE workspace_id = $1 AND user_id = $2")
                .bind(workspace_id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let n = sqlx::query("DELETE FROM users WHERE workspace_id = $1 AND id = $2")
                .bind(workspace_id)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
        });
        Ok(())
    }

    /// The id of every workspace of the hub.
    pub async fn workspace_ids(&self) -> Result<Vec<String>> {
        Ok(on_reader!(self, |pool| sqlx::query_scalar::<_, String>(
            "SELECT id FROM workspaces ORDER BY id"
        )
        .fetch_all(pool)
        .await?))
    }

    /// Stores a token by its hash; the token itself is never stored.
    pub async fn create_token(
        &self,
        id: &str,
        workspace_id: &str,
        user_id: &str,
        name: &str,
        token_hash: &str,
        now: i64,
    ) -> Result<()> {
        on_writer!(self, |pool| {
            sqlx::query("INSERT INTO api_tokens (id, workspace_id, user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(id)
                .bind(workspace_id)
                .bind(user_id)
                .bind(name)
                .bind(token_hash)
                .bind(now)
                .execute(pool)
                .await
                .map_err(|e| StoreError::unique_as_conflict(e, "token exists"))?;
        });
        Ok(())
    }

    /// The API tokens of a workspace (of one user when `user_id` is given),
    /// newest first. Only names and dates: the tokens themselves are not kept.
    pub async fn tokens(&self, workspace_id: &str, user_id: Option<&str>) -> Result<Vec<TokenRecord>> {
        let sql = "SELECT id, user_id, name, created_at FROM api_tokens WHERE workspace_id = $1 \
                   AND ($2 IS NULL OR user_id = $2) ORDER BY created_at DESC, id DESC";
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, TokenRecord>(sql)
            .bind(workspace_id)
            .bind(user_id)
            .fetch_all(pool)
            .await?))
    }

    /// Revokes a token of the workspace (only one of `user_id`'s when given).
    pub async fn delete_token(&self, workspace_id: &str, id: &str, user_id: Option<&str>) -> Result<()> {
        let n = on_writer!(self, |pool| {
            sqlx::query("DELETE FROM api_tokens WHERE workspace_id = $1 AND id = $2 AND ($3 IS NULL OR user_id = $3)")
                .bind(workspace_id)
                .bind(id)
                .bind(user_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        StoreError::found(n)
    }

    pub async fn token_owner(&self, token_hash: &str) -> Result<Option<TokenOwner>> {
        let sql = "SELECT t.id AS token_id, t.workspace_id, t.user_id, u.role \
                   FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1";
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, TokenOwner>(sql)
            .bind(token_hash)
            .fetch_optional(pool)
            .await?))
    }
}

/// Failed sign-ins of one e-mail address in its current window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SignInFailures {
    pub count: i64,
    pub window_start: i64,
}

impl Store {
    pub async fn sign_in_failures(&self, email: &str) -> Result<Option<SignInFailures>> {
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, SignInFailures>(
            "SELECT count, window_start FROM sign_in_failures WHERE email = $1"
        )
        .bind(email)
        .fetch_optional(pool)
        .await?))
    }

    /// Records a failure as `next` decides from the current failures, in one
    /// write (the row is locked on PostgreSQL; SQLite's writer is single).
    pub async fn record_sign_in_failure(
        &self,
        email: &str,
        next: impl FnOnce(Option<SignInFailures>) -> SignInFailures,
    ) -> Result<()> {
        let select = format!(
            "SELECT count, window_start FROM sign_in_failures WHERE email = $1{}",
            self.dialect().for_update()
        );
        on_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            let current = sqlx::query_as::<_, SignInFailures>(&select)
                .bind(email)
                .fetch_optional(&mut *tx)
                .await?;
            let n = next(current);
            sqlx::query(
                "INSERT INTO sign_in_failures (email, count, window_start) VALUES ($1, $2, $3) \
                 ON CONFLICT (email) DO UPDATE SET count = excluded.count, window_start = excluded.window_start",
            )
            .bind(email)
            .bind(n.count)
            .bind(n.window_start)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn clear_sign_in_failures(&self, email: &str) -> Result<()> {
        on_writer!(self, |pool| {
            sqlx::query("DELETE FROM sign_in_failures WHERE email = $1")
                .bind(email)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
