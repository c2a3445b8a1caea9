//! Raw inbound webhook events, stored before the provider gets its 200 and
//! processed later by a job (so a crash after the 200 loses nothing).

use crate::{on_reader, on_writer, Result, Store};
use recado_core::ids::{new_id, IdKind};
use recado_core::jobs::Task;
use std::collections::HashSet;

/// Rows per multi-row insert: 6 values a row stays far below both backends'
/// limits on bound values (32,766 on SQLite, 65,535 on PostgreSQL).
const ROWS_PER_STATEMENT: usize = 512;
/// Attempts of the job that processes an event.
const WEBHOOK_JOB_ATTEMPTS: i64 = 10;

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
    /// The job that will process the event, given the event's id.
    pub job: fn(event_id: String) -> Task,
}

impl Store {
    /// Stores the event and enqueues its processing job in one transaction.
    /// Returns false when the same delivery was already stored.
    pub async fn store_webhook(&self, event: &IncomingWebhook<'_>) -> Result<bool> {
        self.store_webhooks(std::slice::from_ref(event)).await.map(|v| v[0])
    }

    /// Many events in one transaction (group commit): one fsync for all.
    /// Each chunk is one multi-row insert of events and one of their jobs:
    /// once many events share a commit, the cost per statement (a hand-off to
    /// the database thread each) is what limits intake, not the fsync.
    pub async fn store_webhooks(&self, events: &[IncomingWebhook<'_>]) -> Result<Vec<bool>> {
        let mut fresh: HashSet<String> = HashSet::with_capacity(events.len());
        on_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            for chunk in events.chunks(ROWS_PER_STATEMENT) {
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO webhook_events (id, workspace_id, channel_id, dedupe_key, body, received_at) ",
                );
                insert.push_values(chunk, |mut row, e| {
                    row.push_bind(e.id)
                        .push_bind(e.workspace_id)
                        .push_bind(e.channel_id)
                        .push_bind(e.dedupe_key)
                        .push_bind(e.body)
                        .push_bind(e.received_at);
                });
                // A repeated delivery (also twice in one chunk) is skipped and
                // not returned.
                insert.push(" ON CONFLICT (channel_id, dedupe_key) DO NOTHING RETURNING id");
                let stored: Vec<String> = insert.build_query_scalar().fetch_all(&mut *tx).await?;
                let stored: HashSet<String> = stored.into_iter().collect();
                let new_events: Vec<&IncomingWebhook<'_>> = chunk.iter().filter(|e| stored.contains(e.id)).collect();
                if !new_events.is_empty() {
                    let mut jobs = sqlx::QueryBuilder::new(
                        "INSERT INTO jobs (id, workspace_id, kind, payload, status, run_at, attempts, max_attempts, created_at, updated_at) ",
                    );
                    jobs.push_values(new_events, |mut row, e| {
                        let task = (e.job)(e.id.to_string());
                        row.push_bind(new_id(IdKind::Job))
                            .push_bind(e.workspace_id)
                            .push_bind(task.kind().as_str())
                            .push_bind(task.payload().to_string())
                            .push_bind("queued")
                            .push_bind(e.received_at)
                            .push_bind(0i64)
                            .push_bind(WEBHOOK_JOB_ATTEMPTS)
                            .push_bind(e.received_at)
                            .push_bind(e.received_at);
                    });
                    jobs.build().execute(&mut *tx).await?;
                }
                fresh.extend(stored);
            }
            tx.commit().await?;
        });
        Ok(events.iter().map(|e| fresh.contains(e.id)).collect())
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
