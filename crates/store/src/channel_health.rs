//! Each channel's health as the channels page shows it: the last webhook
//! received, the last accepted submission and the last provider error.
//! Written in batches by each node; every column keeps the latest value
//! whichever node writes last.

use crate::{on_reader, on_writer, Result, Store};

#[derive(Clone, Debug, Default, PartialEq, sqlx::FromRow)]
pub struct ChannelHealth {
    pub channel_id: String,
    pub workspace_id: String,
    pub last_webhook_at: Option<i64>,
    pub last_send_at: Option<i64>,
    pub last_error_at: Option<i64>,
    pub last_error_code: Option<String>,
    pub last_error_message: Option<String>,
}

/// Keeps the later of the stored and the written time of `column`.
macro_rules! latest {
    ($column:literal) => {
        concat!(
            $column,
            " = CASE WHEN excluded.",
            $column,
            " > COALESCE(channel_health.",
            $column,
            ", 0) THEN excluded.",
            $column,
            " ELSE channel_health.",
            $column,
            " END"
        )
    };
}

const UPSERT: &str = concat!(
    "INSERT INTO channel_health (channel_id, workspace_id, last_webhook_at, last_send_at, last_error_at, last_error_code, last_error_message) ",
    "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (channel_id) DO UPDATE SET ",
    latest!("last_webhook_at"),
    ", ",
    latest!("last_send_at"),
    ", last_error_code = CASE WHEN excluded.last_error_at > COALESCE(channel_health.last_error_at, 0) THEN excluded.last_error_code ELSE channel_health.last_error_code END",
    ", last_error_message = CASE WHEN excluded.last_error_at > COALESCE(channel_health.last_error_at, 0) THEN excluded.last_error_message ELSE channel_health.last_error_message END, ",
    latest!("last_error_at"),
);

impl Store {
    /// Merges noted health into the stored rows (latest of each wins).
    pub async fn record_channel_health(&self, rows: &[ChannelHealth]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        on_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            for r in rows {
                sqlx::query(UPSERT)
                    .bind(&r.channel_id)
                    .bind(&r.workspace_id)
                    .bind(r.last_webhook_at)
                    .bind(r.last_send_at)
                    .bind(r.last_error_at)
                    .bind(&r.last_error_code)
                    .bind(&r.last_error_message)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// The health of every channel of a workspace that has any.
    pub async fn channel_health(&self, workspace_id: &str) -> Result<Vec<ChannelHealth>> {
        let sql = "SELECT channel_id, workspace_id, last_webhook_at, last_send_at, last_error_at, last_error_code, last_error_message \
                   FROM channel_health WHERE workspace_id = $1";
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, ChannelHealth>(sql)
            .bind(workspace_id)
            .fetch_all(pool)
            .await?))
    }
}
