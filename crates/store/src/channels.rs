//! Provider channels (a WhatsApp account, an SMS or voice provider) and the
//! WhatsApp phone numbers that belong to them.

use crate::{on_reader, on_writer, Result, Store, StoreError};

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct ChannelRecord {
    pub id: String,
    pub workspace_id: String,
    pub kind: String,
    pub name: String,
    /// Public settings as JSON.
    pub config: String,
    /// Encrypted secrets (never returned by the API).
    pub secrets: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct ChannelNumber {
    pub channel_id: String,
    pub phone_number_id: String,
    pub display_phone_number: Option<String>,
}

const COLUMNS: &str = "id, workspace_id, kind, name, config, secrets, created_at, updated_at";

impl Store {
    pub async fn insert_channel(&self, c: &ChannelRecord, numbers: &[ChannelNumber]) -> Result<()> {
        on_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO channels (id, workspace_id, kind, name, config, secrets, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&c.id)
            .bind(&c.workspace_id)
            .bind(&c.kind)
            .bind(&c.name)
            .bind(&c.config)
            .bind(&c.secrets)
            .bind(c.created_at)
            .bind(c.updated_at)
            .execute(&mut *tx)
            .await?;
            for n in numbers {
                sqlx::query(
                    "INSERT INTO channel_numbers (channel_id, phone_number_id, workspace_id, display_phone_number) VALUES ($1, $2, $3, $4)",
                )
                .bind(&c.id)
                .bind(&n.phone_number_id)
                .bind(&c.workspace_id)
                .bind(&n.display_phone_number)
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::unique_as_conflict(e, "phone number listed twice"))?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Replaces a channel's name, settings, secrets and numbers.
    pub async fn update_channel(&self, c: &ChannelRecord, numbers: &[ChannelNumber]) -> Result<()> {
        let n = on_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            let n = sqlx::query(
                "UPDATE channels SET name = $1, config = $2, secrets = $3, updated_at = $4 \
                 WHERE workspace_id = $5 AND id = $6 AND deleted_at IS NULL",
            )
            .bind(&c.name)
            .bind(&c.config)
            .bind(&c.secrets)
            .bind(c.updated_at)
            .bind(&c.workspace_id)
            .bind(&c.id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                sqlx::query("DELETE FROM channel_numbers WHERE channel_id = $1")
                    .bind(&c.id)
                    .execute(&mut *tx)
                    .await?;
                for num in numbers {
                    sqlx::query(
                        "INSERT INTO channel_numbers (channel_id, phone_number_id, workspace_id, display_phone_number) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(&c.id)
                    .bind(&num.phone_number_id)
                    .bind(&c.workspace_id)
                    .bind(&num.display_phone_number)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| StoreError::unique_as_conflict(e, "phone number listed twice"))?;
                }
            }
            tx.commit().await?;
            n
        });
        StoreError::found(n)
    }

    pub async fn channel(&self, workspace_id: &str, id: &str) -> Result<ChannelRecord> {
        let sql = format!("SELECT {COLUMNS} FROM channels WHERE workspace_id = $1 AND id = $2 AND deleted_at IS NULL");
        on_reader!(self, |pool| sqlx::query_as::<_, ChannelRecord>(&sql)
            .bind(workspace_id)
            .bind(id)
            .fetch_optional(pool)
            .await?)
        .ok_or(StoreError::NotFound)
    }

    /// A channel by id alone: webhooks name their channel in the URL and carry
    /// no token, so the workspace is learnt from the channel.
    pub async fn channel_by_id(&self, id: &str) -> Result<Option<ChannelRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM channels WHERE id = $1 AND deleted_at IS NULL");
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, ChannelRecord>(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await?))
    }

    pub async fn channels(&self, workspace_id: &str, kind_prefix: Option<&str>) -> Result<Vec<ChannelRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM channels WHERE workspace_id = $1 AND deleted_at IS NULL AND ($2 IS NULL OR kind LIKE $2 || '%') ORDER BY id"
        );
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, ChannelRecord>(&sql)
            .bind(workspace_id)
            .bind(kind_prefix)
            .fetch_all(pool)
            .await?))
    }

    pub async fn channel_numbers(&self, channel_id: &str) -> Result<Vec<ChannelNumber>> {
        let sql = "SELECT channel_id, phone_number_id, display_phone_number FROM channel_numbers WHERE channel_id = $1 ORDER BY phone_number_id";
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, ChannelNumber>(sql)
            .bind(channel_id)
            .fetch_all(pool)
            .await?))
    }

    pub async fn delete_channel(&self, workspace_id: &str, id: &str, now: i64) -> Result<()> {
        let n = on_writer!(self, |pool| {
            sqlx::query(
                "UPDATE channels SET deleted_at = $1 WHERE workspace_id = $2 AND id = $3 AND deleted_at IS NULL",
            )
            .bind(now)
            .bind(workspace_id)
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        StoreError::found(n)
    }
}

impl Store {
    /// Channels of one kind across every workspace (for connections a node
    /// keeps open, such as SMPP binds).
    pub async fn channels_of_kind(&self, kind: &str) -> Result<Vec<ChannelRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM channels WHERE kind = $1 AND deleted_at IS NULL ORDER BY id");
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, ChannelRecord>(&sql)
            .bind(kind)
            .fetch_all(pool)
            .await?))
    }
}
