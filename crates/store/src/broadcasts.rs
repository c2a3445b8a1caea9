//! Broadcasts: their records, the guarded moves of their status, and the
//! step that records a prepared page. Each broadcast has its own campaign,
//! created with it, so a campaign's messages tell which broadcast they
//! belong to.

use crate::campaigns::CampaignRecord;
use crate::jobs::NewJob;
use crate::write::on_tx;
use crate::{insert_job, on_reader, on_writer, Result, Store, StoreError, WriteTx};
use recado_core::broadcasts::Status;
use recado_core::consent::Channel;

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct BroadcastRecord {
    pub id: String,
    pub workspace_id: String,
    pub campaign_id: String,
    pub segment_id: String,
    #[sqlx(try_from = "String")]
    pub channel: Channel,
    /// The send as asked (JSON).
    pub spec: String,
    #[sqlx(try_from = "String")]
    pub status: Status,
    pub prepared_all: bool,
    pub scheduled_at: i64,
    /// The last contact prepared ('' before the first).
    pub cursor: String,
    pub prepared: i64,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
}

const BROADCAST_COLUMNS: &str = "id, workspace_id, campaign_id, segment_id, channel, spec, status, prepared_all, \
     scheduled_at, cursor, prepared, created_by, created_at, updated_at, finished_at";

/// A page of recipients written: where the cursor was and where it goes.
#[derive(Clone, Debug)]
pub struct PageWritten<'a> {
    pub broadcast_id: &'a str,
    pub from_cursor: &'a str,
    pub to_cursor: &'a str,
    pub recipients: i64,
    /// The page was the last one.
    pub last: bool,
    pub now: i64,
}

impl Store {
    /// Creates a broadcast with its own campaign and its first prepare job,
    /// in one transaction. `Conflict` when the campaign name is taken.
    pub async fn insert_broadcast(
        &self,
        b: &BroadcastRecord,
        campaign: &CampaignRecord,
        job: &NewJob<'_>,
    ) -> Result<()> {
        on_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO campaigns (id, workspace_id, name, channel, source, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&campaign.id)
            .bind(&campaign.workspace_id)
            .bind(&campaign.name)
            .bind(campaign.channel.as_str())
            .bind(campaign.source.as_str())
            .bind(campaign.created_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::unique_as_conflict(e, "campaign name taken"))?;
            sqlx::query(&format!(
                "INSERT INTO broadcasts ({BROADCAST_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
            ))
            .bind(&b.id)
            .bind(&b.workspace_id)
            .bind(&b.campaign_id)
            .bind(&b.segment_id)
            .bind(b.channel.as_str())
            .bind(&b.spec)
            .bind(b.status.as_str())
            .bind(b.prepared_all)
            .bind(b.scheduled_at)
            .bind(&b.cursor)
            .bind(b.prepared)
            .bind(&b.created_by)
            .bind(b.created_at)
            .bind(b.updated_at)
            .bind(b.finished_at)
            .execute(&mut *tx)
            .await?;
            insert_job!(&mut *tx, job, b.created_at)?;
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn broadcast(&self, workspace_id: &str, id: &str) -> Result<BroadcastRecord> {
        let sql = format!("SELECT {BROADCAST_COLUMNS} FROM broadcasts WHERE workspace_id = $1 AND id = $2");
        on_reader!(self, |pool| sqlx::query_as(&sql)
            .bind(workspace_id)
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound))
    }

    /// The broadcast whose campaign this is, if any.
    pub async fn broadcast_of_campaign(
        &self,
        workspace_id: &str,
        campaign_id: &str,
    ) -> Result<Option<BroadcastRecord>> {
        let sql = format!("SELECT {BROADCAST_COLUMNS} FROM broadcasts WHERE workspace_id = $1 AND campaign_id = $2");
        on_reader!(self, |pool| Ok(sqlx::query_as(&sql)
            .bind(workspace_id)
            .bind(campaign_id)
            .fetch_optional(pool)
            .await?))
    }

    /// Newest first, after the broadcast `after` (an id).
    pub async fn broadcasts(
        &self,
        workspace_id: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<BroadcastRecord>> {
        let sql = format!(
            "SELECT {BROADCAST_COLUMNS} FROM broadcasts WHERE workspace_id = $1 AND ($2 = '' OR id < $2) \
             ORDER BY id DESC LIMIT $3"
        );
        on_reader!(self, |pool| Ok(sqlx::query_as(&sql)
            .bind(workspace_id)
            .bind(after.unwrap_or(""))
            .bind(limit)
            .fetch_all(pool)
            .await?))
    }

    /// Moves a broadcast from `from` to `to`, unless it moved meanwhile
    /// (false then). A job, when given, is queued with the move.
    pub async fn move_broadcast(
        &self,
        id: &str,
        from: Status,
        to: Status,
        job: Option<&NewJob<'_>>,
        now: i64,
    ) -> Result<bool> {
        on_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            let moved = sqlx::query(
                "UPDATE broadcasts SET status = $3, updated_at = $4, \
                 finished_at = CASE WHEN $3 IN ('done', 'cancelled') THEN $4 ELSE finished_at END \
                 WHERE id = $1 AND status = $2",
            )
            .bind(id)
            .bind(from.as_str())
            .bind(to.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if moved {
                if let Some(job) = job {
                    insert_job!(&mut *tx, job, now)?;
                }
                tx.commit().await?;
            }
            Ok(moved)
        })
    }

    /// How many of a campaign's messages wait to be sent.
    pub async fn queued_in_campaign(&self, campaign_id: &str) -> Result<i64> {
        on_reader!(self, |pool| Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM messages WHERE campaign_id = $1 AND status = 'queued'"
        )
        .bind(campaign_id)
        .fetch_one(pool)
        .await?))
    }

    /// The campaigns among `campaign_ids` whose broadcast holds its messages
    /// back (paused or cancelled), with that status.
    pub async fn held_campaigns(&self, campaign_ids: &[&str]) -> Result<Vec<(String, Status)>> {
        if campaign_ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders = (1..=campaign_ids.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT campaign_id, status FROM broadcasts WHERE campaign_id IN ({placeholders}) \
             AND status IN ('paused', 'cancelled')"
        );
        let rows: Vec<(String, String)> = on_reader!(self, |pool| {
            let mut q = sqlx::query_as(&sql);
            for id in campaign_ids {
                q = q.bind(*id);
            }
            q.fetch_all(pool).await?
        });
        Ok(rows
            .into_iter()
            .filter_map(|(c, s)| Some((c, Status::parse(&s)?)))
            .collect())
    }
}

impl WriteTx {
    /// Records a prepared page: moves the cursor and the count, and to
    /// `sending` after the last page. False when the broadcast is no longer
    /// preparing from that cursor (paused, cancelled, or the page written
    /// already): the caller must roll back.
    pub async fn page_written(&mut self, p: &PageWritten<'_>) -> Result<bool> {
        let done = on_tx!(self, |conn| sqlx::query(
            "UPDATE broadcasts SET cursor = $3, prepared = prepared + $4, updated_at = $5, \
             prepared_all = $6, status = CASE WHEN $6 THEN 'sending' ELSE status END \
             WHERE id = $1 AND cursor = $2 AND status = 'preparing'"
        )
        .bind(p.broadcast_id)
        .bind(p.from_cursor)
        .bind(p.to_cursor)
        .bind(p.recipients)
        .bind(p.now)
        .bind(p.last)
        .execute(&mut *conn)
        .await?
        .rows_affected());
        Ok(done == 1)
    }
}
