//! Campaign records, their counters and their recipients. A campaign is
//! found by name and created on first use, when its first message is
//! written ([`WriteTx::file_in_campaigns`](crate::WriteTx));
//! counters are added as events are recorded ([`tally`]) and read here
//! summed; recipients are the campaign's messages with the moments stamped
//! on them.

pub(crate) mod tally;

use crate::{on_reader, on_writer, Result, Store, StoreError};
use recado_core::campaigns::Source;
use recado_core::consent::Channel;

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct CampaignRecord {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub channel: Channel,
    #[sqlx(try_from = "String")]
    pub source: Source,
    pub created_at: i64,
}

const CAMPAIGN_COLUMNS: &str = "id, workspace_id, name, channel, source, created_at";

/// Which campaigns a list shows.
#[derive(Clone, Debug, Default)]
pub struct CampaignFilter {
    pub channel: Option<Channel>,
    /// Created at or after (ms).
    pub since: Option<i64>,
    /// Only campaigns listed after this one (created_at, id), newest first.
    pub after: Option<(i64, String)>,
    pub limit: i64,
}

/// One recipient of a campaign: its message and the moments stamped on it.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct RecipientRow {
    pub message_id: String,
    pub contact_id: Option<String>,
    pub recipient: Option<String>,
    pub status: String,
    pub error_code: Option<String>,
    pub sent_at: Option<i64>,
    pub delivered_at: Option<i64>,
    pub clicked_at: Option<i64>,
    pub replied_at: Option<i64>,
    pub unsubscribed_at: Option<i64>,
}

/// The recipients of one state (`recado_core::campaigns::RECIPIENT_STATES`),
/// as a condition on their messages.
fn state_condition(state: &str) -> Option<&'static str> {
    Some(match state {
        "queued" => "m.status = 'queued'",
        "sent" => "m.status = 'sent'",
        "delivered" => "m.status IN ('delivered', 'read')",
        "not_delivered" => "m.status IN ('not_delivered', 'failed')",
        "not_sent" => "m.status = 'not_sent'",
        "uncertain" => "m.status = 'uncertain'",
        "clicked" => "m.clicked_at IS NOT NULL",
        "replied" => "m.replied_at IS NOT NULL",
        "unsubscribed" => "m.unsubscribed_at IS NOT NULL",
        _ => return None,
    })
}

impl Store {
    /// Creates a campaign; `Conflict` when the name is taken.
    pub async fn insert_campaign(&self, c: &CampaignRecord) -> Result<()> {
        on_writer!(self, |pool| {
            sqlx::query(
                "INSERT INTO campaigns (id, workspace_id, name, channel, source, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&c.id)
            .bind(&c.workspace_id)
            .bind(&c.name)
            .bind(c.channel.as_str())
            .bind(c.source.as_str())
            .bind(c.created_at)
            .execute(pool)
            .await
            .map_err(|e| StoreError::unique_as_conflict(e, "campaign name taken"))?;
        });
        Ok(())
    }

    pub async fn campaign(&self, workspace_id: &str, id: &str) -> Result<CampaignRecord> {
        let sql = format!("SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE workspace_id = $1 AND id = $2");
        on_reader!(self, |pool| sqlx::query_as(&sql)
            .bind(workspace_id)
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound))
    }

    /// Newest first.
    pub async fn campaigns(&self, workspace_id: &str, filter: &CampaignFilter) -> Result<Vec<CampaignRecord>> {
        let sql = format!(
            "SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE workspace_id = $1 AND ($2 IS NULL OR channel = $2) \
             AND created_at >= $3 AND (created_at < $4 OR (created_at = $4 AND id < $5)) \
             ORDER BY created_at DESC, id DESC LIMIT $6"
        );
        let (before_at, before_id) = filter.after.clone().unwrap_or((i64::MAX, String::new()));
        on_reader!(self, |pool| Ok(sqlx::query_as(&sql)
            .bind(workspace_id)
            .bind(filter.channel.map(Channel::as_str))
            .bind(filter.since.unwrap_or(i64::MIN))
            .bind(before_at)
            .bind(before_id)
            .bind(filter.limit)
            .fetch_all(pool)
            .await?))
    }

    /// Renames a campaign (its id, and so its counters, stay); `Conflict`
    /// when another campaign has the name.
    pub async fn rename_campaign(&self, workspace_id: &str, id: &str, name: &str) -> Result<()> {
        let done = on_writer!(self, |pool| sqlx::query(
            "UPDATE campaigns SET name = $3 WHERE workspace_id = $1 AND id = $2"
        )
        .bind(workspace_id)
        .bind(id)
        .bind(name)
        .execute(pool)
        .await
        .map_err(|e| StoreError::unique_as_conflict(e, "campaign name taken"))?
        .rows_affected());
        StoreError::found(done)
    }

    /// The counters of campaigns summed over time: `(campaign id, key, n)`.
    pub async fn campaign_counters(&self, workspace_id: &str, ids: &[&str]) -> Result<Vec<(String, String, i64)>> {
        let mut all = Vec::new();
        for chunk in ids.chunks(500) {
            let placeholders = (2..chunk.len() + 2)
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "SELECT campaign_id, counter, CAST(SUM(n) AS BIGINT) FROM campaign_counts WHERE workspace_id = $1 \
                 AND campaign_id IN ({placeholders}) GROUP BY campaign_id, counter"
            );
            let rows: Vec<(String, String, i64)> = on_reader!(self, |pool| {
                let mut q = sqlx::query_as(&sql).bind(workspace_id);
                for id in chunk {
                    q = q.bind(*id);
                }
                q.fetch_all(pool).await?
            });
            all.extend(rows);
        }
        Ok(all)
    }

    /// A campaign's counters by hour: `(hour, key, n)`, oldest first.
    pub async fn campaign_hours(&self, workspace_id: &str, id: &str) -> Result<Vec<(i64, String, i64)>> {
        on_reader!(self, |pool| {
            Ok(sqlx::query_as(
            "SELECT hour, counter, CAST(SUM(n) AS BIGINT) FROM campaign_counts WHERE workspace_id = $1 AND campaign_id = $2 \
             GROUP BY hour, counter ORDER BY hour"
        )
        .bind(workspace_id)
        .bind(id)
        .fetch_all(pool)
        .await?)
        })
    }

    /// A page of a campaign's recipients by message id, after `after`;
    /// `state` narrows to one recipient state (unknown states match none).
    pub async fn campaign_recipients(
        &self,
        workspace_id: &str,
        campaign_id: &str,
        state: Option<&str>,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<RecipientRow>> {
        let condition = match state {
            None => "TRUE",
            Some(s) => state_condition(s).unwrap_or("FALSE"),
        };
        let sql = format!(
            "SELECT m.id AS message_id, m.contact_id, m.recipient, m.status, m.error_code, m.sent_at, m.delivered_at, \
             m.clicked_at, m.replied_at, m.unsubscribed_at FROM messages m \
             WHERE m.campaign_id = $1 AND m.workspace_id = $2 AND m.id > $3 AND {condition} ORDER BY m.id LIMIT $4"
        );
        on_reader!(self, |pool| Ok(sqlx::query_as(&sql)
            .bind(campaign_id)
            .bind(workspace_id)
            .bind(after.unwrap_or(""))
            .bind(limit)
            .fetch_all(pool)
            .await?))
    }
}
