//! Calls: one row per voice message or IVR call beside its message, holding
//! what the call plays and the state of recado-core's call machine. The row
//! is written with the message, before any provider is asked to dial; every
//! report about the call reads it under a row lock (PostgreSQL; SQLite's
//! single writer serialises) and writes it back in the same transaction as
//! the events it records.

use crate::write::on_tx;
use crate::{on_reader, on_writer, Result, Store, WriteTx};

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct CallRecord {
    pub message_id: String,
    pub workspace_id: String,
    pub channel_id: String,
    pub contact_id: Option<String>,
    /// `message` or `ivr`.
    pub kind: String,
    /// The voice message or IVR definition as JSON, tokens filled.
    pub definition: String,
    /// `recado_core::voice::call::Call` as JSON.
    pub state: String,
    /// The call's phase (as in `state`), for indexed lookups.
    pub phase: String,
    pub attempt: i64,
    /// The last attempt handed to the provider.
    pub dialled_attempt: i64,
    pub provider_call_id: Option<String>,
    pub answered_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

const CALL_COLUMNS: &str =
    "message_id, workspace_id, channel_id, contact_id, kind, definition, state, phase, attempt, \
     dialled_attempt, provider_call_id, answered_at, ended_at, created_at, updated_at";

/// A call's state after a report, as [`WriteTx::save_call`] writes it.
#[derive(Clone, Debug)]
pub struct CallState<'a> {
    pub state: &'a str,
    pub phase: &'a str,
    pub attempt: i64,
    pub answered_at: Option<i64>,
    pub ended_at: Option<i64>,
}

impl WriteTx {
    pub async fn insert_call(&mut self, c: &CallRecord) -> Result<()> {
        self.insert_calls(&[c]).await
    }

    /// Inserts calls, many rows per statement.
    pub async fn insert_calls(&mut self, calls: &[&CallRecord]) -> Result<()> {
        // 15 values a row.
        for chunk in calls.chunks(500) {
            on_tx!(self, |conn| {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO calls (message_id, workspace_id, channel_id, contact_id, kind, definition, state, phase, \
                     attempt, dialled_attempt, provider_call_id, answered_at, ended_at, created_at, updated_at) ",
                );
                q.push_values(chunk, |mut b, c| {
                    b.push_bind(&c.message_id)
                        .push_bind(&c.workspace_id)
                        .push_bind(&c.channel_id)
                        .push_bind(&c.contact_id)
                        .push_bind(&c.kind)
                        .push_bind(&c.definition)
                        .push_bind(&c.state)
                        .push_bind(&c.phase)
                        .push_bind(c.attempt)
                        .push_bind(c.dialled_attempt)
                        .push_bind(&c.provider_call_id)
                        .push_bind(c.answered_at)
                        .push_bind(c.ended_at)
                        .push_bind(c.created_at)
                        .push_bind(c.updated_at);
                });
                q.build().execute(&mut *conn).await?;
            });
        }
        Ok(())
    }

    /// The call of `message_id` in `workspace_id`, locked until the
    /// transaction ends.
    pub async fn call_for_update(&mut self, workspace_id: &str, message_id: &str) -> Result<Option<CallRecord>> {
        let sql = format!(
            "SELECT {CALL_COLUMNS} FROM calls WHERE message_id = $1 AND workspace_id = $2{}",
            self.dialect.for_update()
        );
        Ok(on_tx!(self, |conn| {
            sqlx::query_as::<_, CallRecord>(&sql)
                .bind(message_id)
                .bind(workspace_id)
                .fetch_optional(&mut *conn)
                .await?
        }))
    }

    /// Records the provider's id of a call once it is known.
    pub async fn set_provider_call_id(&mut self, message_id: &str, provider_call_id: &str, now: i64) -> Result<()> {
        on_tx!(self, |conn| {
            sqlx::query("UPDATE calls SET provider_call_id = $1, updated_at = $2 WHERE message_id = $3")
                .bind(provider_call_id)
                .bind(now)
                .bind(message_id)
                .execute(&mut *conn)
                .await?;
        });
        Ok(())
    }

    /// Marks the key action `marker` of a call done; false when it was
    /// already, so its effect is written once.
    pub async fn mark_action_done(&mut self, message_id: &str, marker: &str) -> Result<bool> {
        let marked = format!("{marker};");
        let done = on_tx!(self, |conn| {
            sqlx::query(
                "UPDATE calls SET actions_done = actions_done || $1 WHERE message_id = $2 AND actions_done NOT LIKE $3",
            )
            .bind(&marked)
            .bind(message_id)
            .bind(format!("%{marked}%"))
            .execute(&mut *conn)
            .await?
            .rows_affected()
        });
        Ok(done == 1)
    }

    pub async fn save_call(&mut self, message_id: &str, s: &CallState<'_>, now: i64) -> Result<()> {
        on_tx!(self, |conn| {
            sqlx::query(
                "UPDATE calls SET state = $1, phase = $2, attempt = $3, answered_at = COALESCE(answered_at, $4), \
                 ended_at = COALESCE(ended_at, $5), updated_at = $6 WHERE message_id = $7",
            )
            .bind(s.state)
            .bind(s.phase)
            .bind(s.attempt)
            .bind(s.answered_at)
            .bind(s.ended_at)
            .bind(now)
            .bind(message_id)
            .execute(&mut *conn)
            .await?;
        });
        Ok(())
    }
}

impl Store {
    pub async fn call(&self, workspace_id: &str, message_id: &str) -> Result<Option<CallRecord>> {
        let sql = format!("SELECT {CALL_COLUMNS} FROM calls WHERE message_id = $1 AND workspace_id = $2");
        Ok(on_reader!(self, |pool| {
            sqlx::query_as::<_, CallRecord>(&sql)
                .bind(message_id)
                .bind(workspace_id)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// The call a provider names by its own id on channel `channel_id`.
    pub async fn call_by_provider_id(&self, channel_id: &str, provider_call_id: &str) -> Result<Option<CallRecord>> {
        let sql = format!("SELECT {CALL_COLUMNS} FROM calls WHERE channel_id = $1 AND provider_call_id = $2");
        Ok(on_reader!(self, |pool| {
            sqlx::query_as::<_, CallRecord>(&sql)
                .bind(channel_id)
                .bind(provider_call_id)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Gives attempt `attempt` back when the provider surely did not get it
    /// (connection refused, told to retry), so a retry of the job dials.
    pub async fn release_dial(&self, message_id: &str, attempt: i64) -> Result<()> {
        on_writer!(self, |pool| {
            sqlx::query("UPDATE calls SET dialled_attempt = $1 - 1 WHERE message_id = $2 AND dialled_attempt = $1")
                .bind(attempt)
                .bind(message_id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Claims attempt `attempt` of a call for dialling: true exactly once
    /// per attempt, however often the dial job runs.
    pub async fn claim_dial(&self, message_id: &str, attempt: i64, now: i64) -> Result<bool> {
        let done = on_writer!(self, |pool| {
            sqlx::query(
                "UPDATE calls SET dialled_attempt = $1, updated_at = $2 WHERE message_id = $3 AND dialled_attempt < $1",
            )
            .bind(attempt)
            .bind(now)
            .bind(message_id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(done == 1)
    }

    /// How many calls of a channel hold a line now: handed to the provider
    /// and not over (`placed` or `answered`). The concurrency cap of a
    /// channel counts these.
    pub async fn count_calls_on_line(&self, channel_id: &str) -> Result<i64> {
        Ok(on_reader!(self, |pool| {
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM calls WHERE channel_id = $1 AND phase IN ('placed', 'answered')",
            )
            .bind(channel_id)
            .fetch_one(pool)
            .await?
        }))
    }

    /// Calls of a channel that may have a line with the provider — placed,
    /// answered, or dialling an attempt already claimed — after `after`
    /// (message ids), by message id: what a provider's connection reconciles
    /// when it (re)connects.
    pub async fn calls_on_line(&self, channel_id: &str, after: &str, limit: i64) -> Result<Vec<CallRecord>> {
        let sql = format!(
            "SELECT {CALL_COLUMNS} FROM calls WHERE channel_id = $1 AND message_id > $2 \
             AND (phase IN ('placed', 'answered') OR (phase = 'dialing' AND dialled_attempt = attempt)) \
             ORDER BY message_id LIMIT $3"
        );
        Ok(on_reader!(self, |pool| {
            sqlx::query_as::<_, CallRecord>(&sql)
                .bind(channel_id)
                .bind(after)
                .bind(limit)
                .fetch_all(pool)
                .await?
        }))
    }

    /// Calls of a channel that have not ended, oldest first (reconciled
    /// after a restart).
    pub async fn open_calls(&self, channel_id: &str, limit: i64) -> Result<Vec<CallRecord>> {
        let sql = format!(
            "SELECT {CALL_COLUMNS} FROM calls WHERE channel_id = $1 AND phase <> 'ended' ORDER BY message_id LIMIT $2"
        );
        Ok(on_reader!(self, |pool| {
            sqlx::query_as::<_, CallRecord>(&sql)
                .bind(channel_id)
                .bind(limit)
                .fetch_all(pool)
                .await?
        }))
    }

    /// Calls handed to their provider (the attempt claimed) whose provider
    /// has not answered since `before`: a crash may have come between the
    /// claim and the answer. Oldest first.
    pub async fn calls_dialled_without_answer(&self, before: i64, limit: i64) -> Result<Vec<CallRecord>> {
        let sql = format!(
            "SELECT {CALL_COLUMNS} FROM calls WHERE phase = 'dialing' AND updated_at < $1 \
             AND dialled_attempt = attempt ORDER BY updated_at LIMIT $2"
        );
        Ok(on_reader!(self, |pool| {
            sqlx::query_as::<_, CallRecord>(&sql)
                .bind(before)
                .bind(limit)
                .fetch_all(pool)
                .await?
        }))
    }

    /// Calls their provider took (its id of the call known) that have had
    /// no news since `before`: their provider's final report may have been
    /// lost while no node was listening. Oldest first.
    pub async fn calls_placed_without_news(&self, before: i64, limit: i64) -> Result<Vec<CallRecord>> {
        let sql = format!(
            "SELECT {CALL_COLUMNS} FROM calls WHERE phase IN ('placed', 'answered') AND updated_at < $1 \
             AND provider_call_id IS NOT NULL ORDER BY updated_at LIMIT $2"
        );
        Ok(on_reader!(self, |pool| {
            sqlx::query_as::<_, CallRecord>(&sql)
                .bind(before)
                .bind(limit)
                .fetch_all(pool)
                .await?
        }))
    }

    /// The calls of some messages of a workspace.
    pub async fn calls_of_messages(&self, workspace_id: &str, message_ids: &[&str]) -> Result<Vec<CallRecord>> {
        if message_ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (2..message_ids.len() + 2).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT {CALL_COLUMNS} FROM calls WHERE workspace_id = $1 AND message_id IN ({})",
            placeholders.join(", ")
        );
        Ok(on_reader!(self, |pool| {
            let mut q = sqlx::query_as::<_, CallRecord>(&sql).bind(workspace_id);
            for id in message_ids {
                q = q.bind(*id);
            }
            q.fetch_all(pool).await?
        }))
    }
}
