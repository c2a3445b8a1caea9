//! Short links: `PUBLIC_URL/s/CODE` redirects to the original URL and records
//! the click.

use crate::{on_reader, on_writer, Result, Store, StoreError};
use recado_core::delivery::PartState;

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

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct MessagePart {
    pub channel_id: String,
    pub provider_part_id: String,
    pub message_id: String,
    pub part_index: i64,
    #[sqlx(try_from = "String")]
    pub state: PartState,
}

impl Store {
    /// Changes a part's delivery state to what `decide` makes of the current
    /// one (nothing when it returns None), in one transaction, and returns
    /// every part of its message (None when the part id is unknown).
    pub async fn update_part_state(
        &self,
        channel_id: &str,
        provider_part_id: &str,
        decide: impl FnOnce(PartState) -> Option<PartState>,
    ) -> Result<Option<Vec<MessagePart>>> {
        let current_sql = format!(
            "SELECT state FROM message_parts WHERE channel_id = $1 AND provider_part_id = $2{}",
            self.dialect().for_update()
        );
        let select = "SELECT channel_id, provider_part_id, message_id, part_index, state FROM message_parts WHERE message_id = \
                      (SELECT message_id FROM message_parts WHERE channel_id = $1 AND provider_part_id = $2) ORDER BY part_index";
        Ok(on_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            let current: Option<String> = sqlx::query_scalar(&current_sql)
                .bind(channel_id)
                .bind(provider_part_id)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(current) = current else {
                return Ok(None);
            };
            let current: PartState = current
                .parse()
                .map_err(|e| StoreError::Corrupt(format!("message part: {e}")))?;
            if let Some(next) = decide(current) {
                sqlx::query("UPDATE message_parts SET state = $1 WHERE channel_id = $2 AND provider_part_id = $3")
                    .bind(next.as_str())
                    .bind(channel_id)
                    .bind(provider_part_id)
                    .execute(&mut *tx)
                    .await?;
            }
            let parts = sqlx::query_as::<_, MessagePart>(select)
                .bind(channel_id)
                .bind(provider_part_id)
                .fetch_all(&mut *tx)
                .await?;
            tx.commit().await?;
            Some(parts)
        }))
    }
}
