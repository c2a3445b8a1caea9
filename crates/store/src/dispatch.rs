//! What the send dispatcher does many rows at a time: claim a batch of send
//! jobs in one statement, read their messages in one, mark them attempted
//! in one, and complete the jobs in one. The guarantees are those of the
//! single-job path ([`crate::jobs`]): leases, attempts, and a send marked
//! attempted before its request leaves.

use crate::jobs::{Job, JOB_COLUMNS};
use crate::messages::{MessageRecord, MESSAGE_COLUMNS};
use crate::write::on_tx;
use crate::{on_reader, on_writer, Result, Store, WriteTx};
use recado_core::jobs::JobKind;
use std::collections::HashSet;

/// Ids per `IN (…)` list: far below either backend's limit of bound values.
const IDS_PER_STATEMENT: usize = 500;

/// `$first, $first+1, …` for `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// Claims up to `limit` due jobs of `kinds` for `worker`, leased until
    /// `now + lease_ms`, in one statement (skipping rows other claimers hold
    /// on PostgreSQL). Oldest due first.
    pub async fn claim_jobs(
        &self,
        worker: &str,
        kinds: &[JobKind],
        now: i64,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<Job>> {
        if kinds.is_empty() || limit <= 0 {
            return Ok(Vec::new());
        }
        let pick = format!(
            "SELECT id FROM jobs WHERE status = 'queued' AND run_at <= $3 AND kind IN ({}) ORDER BY run_at, id LIMIT $4{}",
            placeholders(5, kinds.len()),
            self.dialect().skip_locked()
        );
        let sql = format!(
            "UPDATE jobs SET status = 'running', lease_owner = $1, lease_expires_at = $2, attempts = attempts + 1, updated_at = $3 \
             WHERE id IN ({pick}) RETURNING {JOB_COLUMNS}"
        );
        let mut jobs = on_writer!(self, |pool| {
            let mut q = sqlx::query_as::<_, Job>(&sql)
                .bind(worker)
                .bind(now + lease_ms)
                .bind(now)
                .bind(limit);
            for kind in kinds {
                q = q.bind(kind.as_str());
            }
            q.fetch_all(pool).await?
        });
        jobs.sort_by(|a, b| (a.run_at, &a.id).cmp(&(b.run_at, &b.id)));
        Ok(jobs)
    }

    /// The messages among `ids` (unknown ids are absent), a few statements
    /// whatever their number.
    pub async fn messages_by_ids(&self, ids: &[&str]) -> Result<Vec<MessageRecord>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            let sql = format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages WHERE id IN ({})",
                placeholders(1, chunk.len())
            );
            let rows = on_reader!(self, |pool| {
                let mut q = sqlx::query_as::<_, MessageRecord>(&sql);
                for id in chunk {
                    q = q.bind(*id);
                }
                q.fetch_all(pool).await?
            });
            out.extend(rows);
        }
        Ok(out)
    }
}

impl WriteTx {
    /// Marks the sends `ids` as attempted, as [`Store::mark_send_attempted`]
    /// does one by one, and returns those that were still queued and never
    /// attempted: only they may be handed to a provider. A message that
    /// settled or was attempted meanwhile is left alone.
    pub async fn mark_sends_attempted(&mut self, ids: &[&str], now: i64) -> Result<HashSet<String>> {
        let mut marked = HashSet::with_capacity(ids.len());
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            let sql = format!(
                "UPDATE messages SET send_attempted_at = $1, updated_at = $1 \
                 WHERE id IN ({}) AND status = 'queued' AND send_attempted_at IS NULL RETURNING id",
                placeholders(2, chunk.len())
            );
            let rows: Vec<String> = on_tx!(self, |conn| {
                let mut q = sqlx::query_scalar(&sql).bind(now);
                for id in chunk {
                    q = q.bind(*id);
                }
                q.fetch_all(&mut *conn).await?
            });
            marked.extend(rows);
        }
        Ok(marked)
    }

    /// Undoes [`WriteTx::mark_sends_attempted`] for sends the provider
    /// certainly did not get (refused connection, told to retry).
    pub async fn clear_sends_attempted(&mut self, ids: &[&str]) -> Result<()> {
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            let sql = format!(
                "UPDATE messages SET send_attempted_at = NULL WHERE id IN ({})",
                placeholders(1, chunk.len())
            );
            on_tx!(self, |conn| {
                let mut q = sqlx::query(&sql);
                for id in chunk {
                    q = q.bind(*id);
                }
                q.execute(&mut *conn).await?;
            });
        }
        Ok(())
    }

    /// Marks the jobs `ids` done that `worker` still holds; returns how many.
    pub async fn complete_jobs(&mut self, ids: &[&str], worker: &str, now: i64) -> Result<u64> {
        let mut done = 0;
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            let sql = format!(
                "UPDATE jobs SET status = 'done', lease_owner = NULL, lease_expires_at = NULL, updated_at = $1 \
                 WHERE status = 'running' AND lease_owner = $2 AND id IN ({})",
                placeholders(3, chunk.len())
            );
            done += on_tx!(self, |conn| {
                let mut q = sqlx::query(&sql).bind(now).bind(worker);
                for id in chunk {
                    q = q.bind(*id);
                }
                q.execute(&mut *conn).await?.rows_affected()
            });
        }
        Ok(done)
    }

    /// Records the provider's ids of messages' parts (SMPP), which their
    /// receipts name: `(channel id, message id, part ids in order)`.
    pub async fn insert_message_parts_many(&mut self, messages: &[(&str, &str, &[String])]) -> Result<()> {
        let rows: Vec<(&str, &str, &String, i64)> = messages
            .iter()
            .flat_map(|(channel_id, message_id, parts)| {
                parts
                    .iter()
                    .enumerate()
                    .map(move |(i, part)| (*channel_id, *message_id, part, i64::try_from(i).unwrap_or(i64::MAX)))
            })
            .collect();
        for chunk in rows.chunks(IDS_PER_STATEMENT) {
            on_tx!(self, |conn| {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO message_parts (channel_id, provider_part_id, message_id, part_index, state) ",
                );
                q.push_values(chunk, |mut b, (channel_id, message_id, part, index)| {
                    b.push_bind(*channel_id)
                        .push_bind(*part)
                        .push_bind(*message_id)
                        .push_bind(*index)
                        .push_bind("accepted");
                });
                q.push(" ON CONFLICT (channel_id, provider_part_id) DO NOTHING");
                q.build().execute(&mut *conn).await?;
            });
        }
        Ok(())
    }
}
