//! Raw inbound webhook events, stored before the provider gets its 200 and
//! processed later by a job (so a crash after the 200 loses nothing).

use crate::jobs::NewJob;
use crate::{insert_job, on_reader, on_writer, Result, Store};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct WebhookEvent {
    pub id: String,
    pub workspace_id: String,
    pub channel_id: String,
    pub body: String,
    pub received_at: i64,
    pub processed_at: Option<i64>,
}

/// One event to store with the job that will process it.
pub struct IncomingWebhook<'a> {
    pub id: &'a str,
    pub workspace_id: &'a str,
    pub channel_id: &'a str,
    /// Identical deliveries share this key (a digest of the body) and are stored once.
    pub dedupe_key: &'a str,
    pub body: &'a str,
    pub received_at: i64,
    /// The job that will process the event.
    pub job_kind: &'a str,
}

impl Store {
    /// Stores the event and enqueues its processing job in one transaction.
    /// Returns false when the same delivery was already stored.
    pub async fn store_webhook(&self, event: &IncomingWebhook<'_>) -> Result<bool> {
        self.store_webhooks(std::slice::from_ref(event)).await.map(|v| v[0])
    }

    /// Many events in one transaction (group commit): one fsync for all.
    pub async fn store_webhooks(&self, events: &[IncomingWebhook<'_>]) -> Result<Vec<bool>> {
        let mut inserted = Vec::with_capacity(events.len());
        on_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            for e in events {
                let n = sqlx::query(
                    "INSERT INTO webhook_events (id, workspace_id, channel_id, dedupe_key, body, received_at) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (channel_id, dedupe_key) DO NOTHING",
                )
                .bind(e.id)
                .bind(e.workspace_id)
                .bind(e.channel_id)
                .bind(e.dedupe_key)
                .bind(e.body)
                .bind(e.received_at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 1 {
                    let job = NewJob {
                        kind: e.job_kind,
                        workspace_id: Some(e.workspace_id),
                        payload: serde_json::json!({ "event_id": e.id }),
                        run_at: e.received_at,
                        max_attempts: 10,
                    };
                    insert_job!(&mut *tx, &job, e.received_at)?;
                }
                inserted.push(n == 1);
            }
            tx.commit().await?;
        });
        Ok(inserted)
    }

    pub async fn webhook_event(&self, id: &str) -> Result<Option<WebhookEvent>> {
        let sql =
            "SELECT id, workspace_id, channel_id, body, received_at, processed_at FROM webhook_events WHERE id = $1";
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, WebhookEvent>(sql)
            .bind(id)
            .fetch_optional(pool)
            .await?))
    }

    pub async fn mark_webhook_processed(&self, id: &str, now: i64) -> Result<()> {
        on_writer!(self, |pool| {
            sqlx::query("UPDATE webhook_events SET processed_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    pub async fn count_webhook_events(&self, channel_id: &str) -> Result<i64> {
        Ok(on_reader!(self, |pool| {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM webhook_events WHERE channel_id = $1")
                .bind(channel_id)
                .fetch_one(pool)
                .await?
        }))
    }
}
