//! Short links: `PUBLIC_URL/s/CODE` redirects to the original URL and records
//! the click.

use crate::{on_reader, on_writer, Result, Store, StoreError};

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct ShortLink {
    pub code: String,
    pub workspace_id: String,
    pub message_id: String,
    pub contact_id: Option<String>,
    pub target_url: String,
    pub clicks: i64,
    pub created_at: i64,
}

impl Store {
    pub async fn insert_short_links(&self, links: &[ShortLink]) -> Result<()> {
        on_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            for l in links {
                sqlx::query(
                    "INSERT INTO short_links (code, workspace_id, message_id, contact_id, target_url, clicks, created_at) VALUES ($1, $2, $3, $4, $5, 0, $6)",
                )
                .bind(&l.code)
                .bind(&l.workspace_id)
                .bind(&l.message_id)
                .bind(&l.contact_id)
                .bind(&l.target_url)
                .bind(l.created_at)
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::unique_as_conflict(e, "short code taken"))?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn short_link(&self, code: &str) -> Result<Option<ShortLink>> {
        let sql = "SELECT code, workspace_id, message_id, contact_id, target_url, clicks, created_at FROM short_links WHERE code = $1";
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, ShortLink>(sql)
            .bind(code)
            .fetch_optional(pool)
            .await?))
    }

    pub async fn count_click(&self, code: &str) -> Result<()> {
        on_writer!(self, |pool| {
            sqlx::query("UPDATE short_links SET clicks = clicks + 1 WHERE code = $1")
                .bind(code)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
