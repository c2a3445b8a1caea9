//! Saved custom views: a user's named thread filters (stored as JSON so the
//! filter set can grow without a migration).

use crate::{on_reader, on_writer, Result, Store, StoreError};

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct SavedView {
    pub id: String,
    pub workspace_id: String,
    pub user_id: String,
    pub name: String,
    /// JSON object of the view's filters.
    pub filters: String,
    pub created_at: i64,
}

const VIEW_COLUMNS: &str = "id, workspace_id, user_id, name, filters, created_at";

impl Store {
    /// Stores a view; a name the user already used is a conflict.
    pub async fn create_saved_view(&self, v: &SavedView) -> Result<()> {
        on_writer!(self, |pool| {
            sqlx::query(
                "INSERT INTO saved_views (id, workspace_id, user_id, name, filters, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&v.id)
            .bind(&v.workspace_id)
            .bind(&v.user_id)
            .bind(&v.name)
            .bind(&v.filters)
            .bind(v.created_at)
            .execute(pool)
            .await
            .map_err(|e| StoreError::unique_as_conflict(e, "a view with this name exists"))?;
        });
        Ok(())
    }

    /// A user's views, in the order they were made.
    pub async fn saved_views(&self, workspace_id: &str, user_id: &str) -> Result<Vec<SavedView>> {
        let sql =
            format!("SELECT {VIEW_COLUMNS} FROM saved_views WHERE workspace_id = $1 AND user_id = $2 ORDER BY id");
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, SavedView>(&sql)
            .bind(workspace_id)
            .bind(user_id)
            .fetch_all(pool)
            .await?))
    }

    pub async fn saved_view(&self, workspace_id: &str, user_id: &str, id: &str) -> Result<SavedView> {
        let sql =
            format!("SELECT {VIEW_COLUMNS} FROM saved_views WHERE workspace_id = $1 AND user_id = $2 AND id = $3");
        on_reader!(self, |pool| sqlx::query_as::<_, SavedView>(&sql)
            .bind(workspace_id)
            .bind(user_id)
            .bind(id)
            .fetch_optional(pool)
            .await?)
        .ok_or(StoreError::NotFound)
    }

    pub async fn delete_saved_view(&self, workspace_id: &str, user_id: &str, id: &str) -> Result<()> {
        let n = on_writer!(self, |pool| {
            sqlx::query("DELETE FROM saved_views WHERE workspace_id = $1 AND user_id = $2 AND id = $3")
                .bind(workspace_id)
                .bind(user_id)
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        StoreError::found(n)
    }
}
