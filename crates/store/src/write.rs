//! A composable write transaction: a service opens one, writes what its
//! change consists of — a message, its thread, short links, jobs, timeline
//! entries, outbound events — and commits them together, so nothing is half
//! written (a refused send leaves no orphan short link, a queued job always
//! has its message). Dropping it without [`WriteTx::commit`] rolls back.

use crate::campaigns::tally::CampaignEvent;
use crate::jobs::NewJob;
use crate::links::ShortLink;
use crate::messages::{ConversationWrite, MessageRecord, OutboundRefusal, QuotaCheck, ThreadRecord, THREAD_COLUMNS};
use crate::{emit_in_tx, insert_job, Backend, Dialect, Result, Store, StoreError};
use recado_core::ids::{new_id, IdKind, ThreadId};
use recado_core::whatsapp::{admit, ConversationCounts, TIER_WINDOW_MS};
use sqlx::{Postgres, Sqlite, Transaction};

/// Most rows one multi-row `INSERT` carries (below SQLite's 32,766 bound
/// parameters for the widest row written in batches).
const ROWS_PER_STATEMENT: usize = 500;

/// An open write transaction on either backend.
pub struct WriteTx {
    pub(crate) tx: Tx,
    pub(crate) dialect: Dialect,
    /// The shard of the campaign counters this transaction adds to, once
    /// chosen (see `campaigns::tally`).
    pub(crate) count_shard: Option<i16>,
}

pub(crate) enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs `$body` with `$conn` bound to the open transaction's connection; the
/// body is compiled once per backend, like [`crate::on_writer!`].
macro_rules! on_tx {
    ($self:expr, |$conn:ident| $body:expr) => {
        match &mut $self.tx {
            $crate::write::Tx::Sqlite(tx) => {
                let $conn = &mut **tx;
                $body
            }
            $crate::write::Tx::Postgres(tx) => {
                let $conn = &mut **tx;
                $body
            }
        }
    };
}
pub(crate) use on_tx;

impl From<Transaction<'static, Sqlite>> for Tx {
    fn from(tx: Transaction<'static, Sqlite>) -> Tx {
        Tx::Sqlite(tx)
    }
}

impl From<Transaction<'static, Postgres>> for Tx {
    fn from(tx: Transaction<'static, Postgres>) -> Tx {
        Tx::Postgres(tx)
    }
}

impl WriteTx {
    /// A transaction already open on one backend, to go on writing through
    /// the composable steps.
    pub(crate) fn wrap(tx: impl Into<Tx>, dialect: Dialect) -> WriteTx {
        WriteTx {
            tx: tx.into(),
            dialect,
            count_shard: None,
        }
    }
}

impl Store {
    /// Opens a write transaction (on SQLite it waits for the single writer).
    pub async fn write(&self) -> Result<WriteTx> {
        let tx = match self.backend() {
            Backend::Sqlite { writer, .. } => Tx::Sqlite(writer.begin().await?),
            Backend::Postgres { pool } => Tx::Postgres(pool.begin().await?),
        };
        Ok(WriteTx {
            tx,
            dialect: self.dialect(),
            count_shard: None,
        })
    }
}

impl WriteTx {
    pub async fn commit(self) -> Result<()> {
        match self.tx {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }

    /// Checks the monthly limit and the tier cap for a new conversation and
    /// records it when admitted. The counts are read inside this
    /// transaction (under a per-workspace lock on PostgreSQL), so concurrent
    /// sends cannot overrun a limit; the decision is core's [`admit`].
    pub async fn admit_conversation(
        &mut self,
        m: &MessageRecord,
        quota: Option<&QuotaCheck>,
        conversation: &ConversationWrite<'_>,
    ) -> Result<std::result::Result<(), OutboundRefusal>> {
        let lock = self.dialect.advisory_xact_lock();
        if let Some(quota) = quota {
            let counts = on_tx!(self, |conn| {
                if let Some(lock) = lock {
                    sqlx::query(lock).bind(&m.workspace_id).execute(&mut *conn).await?;
                }
                let used: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM wa_conversations WHERE workspace_id = $1 AND at >= $2 AND at < $3",
                )
                .bind(&m.workspace_id)
                .bind(quota.period_start)
                .bind(quota.period_end)
                .fetch_one(&mut *conn)
                .await?;
                let window_start = m.created_at - TIER_WINDOW_MS;
                let recipients: i64 = sqlx::query_scalar(
                    "SELECT COUNT(DISTINCT recipient) FROM wa_conversations WHERE channel_id = $1 AND business_initiated = $2 AND at > $3",
                )
                .bind(&m.channel_id)
                .bind(true)
                .bind(window_start)
                .fetch_one(&mut *conn)
                .await?;
                let already: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM wa_conversations WHERE channel_id = $1 AND business_initiated = $2 AND at > $3 AND recipient = $4",
                )
                .bind(&m.channel_id)
                .bind(true)
                .bind(window_start)
                .bind(conversation.recipient)
                .fetch_one(&mut *conn)
                .await?;
                ConversationCounts {
                    used_in_period: used.max(0) as u64,
                    tier_recipients: recipients.max(0) as u64,
                    recipient_already_counted: already > 0,
                }
            });
            if let Err(refusal) = admit(quota.limit, quota.tier_cap, conversation.business_initiated, &counts) {
                return Ok(Err(refusal));
            }
        }
        on_tx!(self, |conn| {
            sqlx::query(
                "INSERT INTO wa_conversations (id, workspace_id, channel_id, contact_id, recipient, message_id, business_initiated, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(new_id(IdKind::Event))
            .bind(&m.workspace_id)
            .bind(&m.channel_id)
            .bind(m.contact_id.as_deref().unwrap_or(""))
            .bind(conversation.recipient)
            .bind(&m.id)
            .bind(conversation.business_initiated)
            .bind(m.created_at)
            .execute(&mut *conn)
            .await?;
        });
        Ok(Ok(()))
    }

    /// Files an outbound message in its contact's thread for the channel
    /// account `account` (created when missing) and sets its `thread_id`.
    pub async fn file_outbound(&mut self, m: &mut MessageRecord, account: &str) -> Result<()> {
        let Some(contact_id) = m.contact_id.clone() else {
            return Ok(());
        };
        let thread_sql = format!(
            "SELECT {THREAD_COLUMNS} FROM threads WHERE workspace_id = $1 AND contact_id = $2 AND channel_id = $3 AND account = $4"
        );
        let thread_id = on_tx!(self, |conn| {
            let thread: Option<ThreadRecord> = sqlx::query_as(&thread_sql)
                .bind(&m.workspace_id)
                .bind(&contact_id)
                .bind(&m.channel_id)
                .bind(account)
                .fetch_optional(&mut *conn)
                .await?;
            match thread {
                Some(t) => {
                    sqlx::query("UPDATE threads SET last_message_at = $1 WHERE id = $2 AND last_message_at < $1")
                        .bind(m.created_at)
                        .bind(&t.id)
                        .execute(&mut *conn)
                        .await?;
                    t.id
                }
                None => {
                    let id = new_id(IdKind::Thread);
                    sqlx::query(
                        "INSERT INTO threads (id, workspace_id, contact_id, channel, channel_id, account, last_message_at, last_inbound_at, \
                         session_started_at, unread, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL, 0, $7)",
                    )
                    .bind(&id)
                    .bind(&m.workspace_id)
                    .bind(&contact_id)
                    .bind(m.channel.as_str())
                    .bind(&m.channel_id)
                    .bind(account)
                    .bind(m.created_at)
                    .execute(&mut *conn)
                    .await
                    .map_err(|e| StoreError::unique_as_conflict(e, "thread created concurrently"))?;
                    ThreadId::from(id)
                }
            }
        });
        m.thread_id = Some(thread_id);
        Ok(())
    }

    /// Inserts a message with the message event of its first status.
    /// Sets the message's campaign from its name first (created on first
    /// use).
    pub async fn insert_message(&mut self, m: &mut MessageRecord) -> Result<()> {
        self.file_in_campaigns(vec![&mut *m]).await?;
        let m: &MessageRecord = m;
        on_tx!(self, |conn| {
            crate::messages::insert_message!(&mut *conn, m)?;
            crate::messages::insert_event!(
                &mut *conn,
                &m.workspace_id,
                &m.id,
                m.status.as_str(),
                m.created_at,
                serde_json::json!({})
            )?;
        });
        self.count_recipients(&[m]).await
    }

    /// Inserts short links, many per statement.
    pub async fn insert_short_links(&mut self, links: &[ShortLink]) -> Result<()> {
        for chunk in links.chunks(ROWS_PER_STATEMENT) {
            on_tx!(self, |conn| {
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO short_links (code, workspace_id, message_id, contact_id, target_url, clicks, created_at) ",
                );
                insert.push_values(chunk, |mut row, l| {
                    row.push_bind(&l.code)
                        .push_bind(&l.workspace_id)
                        .push_bind(&l.message_id)
                        .push_bind(&l.contact_id)
                        .push_bind(&l.target_url)
                        .push_bind(0i64)
                        .push_bind(l.created_at);
                });
                insert
                    .build()
                    .execute(&mut *conn)
                    .await
                    .map_err(|e| StoreError::unique_as_conflict(e, "short code taken"))?;
            });
        }
        Ok(())
    }

    /// Queues a job that commits with the rest (outbox). Returns its id.
    pub async fn enqueue(&mut self, job: &NewJob<'_>, now: i64) -> Result<String> {
        Ok(on_tx!(self, |conn| insert_job!(&mut *conn, job, now)?))
    }

    /// Queues many jobs, many per statement. Returns their ids in order.
    pub async fn enqueue_many(&mut self, jobs: &[NewJob<'_>], now: i64) -> Result<Vec<String>> {
        let mut ids = Vec::with_capacity(jobs.len());
        for chunk in jobs.chunks(ROWS_PER_STATEMENT) {
            let chunk_ids: Vec<String> = chunk.iter().map(|_| new_id(IdKind::Job)).collect();
            on_tx!(self, |conn| {
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO jobs (id, workspace_id, kind, payload, status, run_at, attempts, max_attempts, created_at, updated_at) ",
                );
                insert.push_values(chunk.iter().zip(&chunk_ids), |mut row, (job, id)| {
                    row.push_bind(id)
                        .push_bind(job.workspace_id)
                        .push_bind(job.task.kind().as_str())
                        .push_bind(job.task.payload().to_string())
                        .push_bind("queued")
                        .push_bind(job.run_at)
                        .push_bind(0i64)
                        .push_bind(job.max_attempts)
                        .push_bind(now)
                        .push_bind(now);
                });
                insert.build().execute(&mut *conn).await?;
            });
            ids.extend(chunk_ids);
        }
        Ok(ids)
    }

    /// A timeline entry of `kind` for the message's contact (none when the
    /// message has no contact).
    pub async fn timeline(
        &mut self,
        m: &MessageRecord,
        kind: &str,
        at: i64,
        details: &serde_json::Value,
    ) -> Result<()> {
        on_tx!(self, |conn| crate::messages::insert_timeline!(
            &mut *conn, m, kind, at, details
        )?);
        self.tally(&[CampaignEvent {
            message: m,
            kind,
            at,
            details,
        }])
        .await
    }

    /// Records outbound events of one kind for one workspace, many per
    /// statement, with their deliveries to the subscribed endpoints (what
    /// [`WriteTx::emit`] does one by one).
    pub async fn emit_many(
        &mut self,
        workspace_id: &str,
        kind: &str,
        payloads: &[serde_json::Value],
        now: i64,
    ) -> Result<()> {
        if payloads.is_empty() {
            return Ok(());
        }
        let endpoints: Vec<(String, String)> = on_tx!(self, |conn| sqlx::query_as(
            "SELECT id, events FROM webhook_endpoints WHERE workspace_id = $1 AND enabled = $2"
        )
        .bind(workspace_id)
        .bind(true)
        .fetch_all(&mut *conn)
        .await?);
        let subscribers: Vec<String> = endpoints
            .into_iter()
            .filter(|(_, events)| crate::outbound::subscribed(events, kind))
            .map(|(endpoint_id, _)| endpoint_id)
            .collect();
        // Events are kept only to be delivered (see `emit_in_tx!`).
        if subscribers.is_empty() {
            return Ok(());
        }
        let events: Vec<(String, &serde_json::Value)> = payloads.iter().map(|p| (new_id(IdKind::Event), p)).collect();
        for chunk in events.chunks(ROWS_PER_STATEMENT) {
            on_tx!(self, |conn| {
                let mut insert =
                    sqlx::QueryBuilder::new("INSERT INTO outbound_events (id, workspace_id, type, payload, at) ");
                insert.push_values(chunk, |mut row, (id, payload)| {
                    row.push_bind(id)
                        .push_bind(workspace_id)
                        .push_bind(kind)
                        .push_bind(payload.to_string())
                        .push_bind(now);
                });
                insert.build().execute(&mut *conn).await?;
            });
        }
        let mut jobs = Vec::new();
        for endpoint_id in &subscribers {
            for (event_id, _) in &events {
                jobs.push(NewJob {
                    task: recado_core::jobs::Task::WebhookDelivery {
                        endpoint_id: endpoint_id.clone(),
                        event_id: event_id.clone(),
                    },
                    workspace_id: Some(workspace_id),
                    run_at: now,
                    max_attempts: 8,
                });
            }
        }
        self.enqueue_many(&jobs, now).await?;
        Ok(())
    }

    /// Records an outbound event (`message.status`, `consent.changed` …)
    /// and its deliveries to the subscribed webhook endpoints.
    pub async fn emit(&mut self, workspace_id: &str, kind: &str, payload: &serde_json::Value, now: i64) -> Result<()> {
        on_tx!(self, |conn| emit_in_tx!(conn, workspace_id, kind, payload, now));
        Ok(())
    }
}
