//! Idempotency keys of `POST /api/v1/messages`: the same key and body within
//! 24 h returns the first response; another body with the key is a conflict.
//!
//! A key being handled names its holder, the node handling it. A holder
//! that is gone (no live row in `nodes`: it crashed and stopped beating, or
//! its restart replaced it) leaves its key to be taken over, unless the
//! send's own transaction already finished it (then the stored answer is
//! the answer: the send was made once).

use crate::write::on_tx;
use crate::{on_reader, on_writer, Result, Store, StoreError, WriteTx};

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct IdempotencyRecord {
    pub request_hash: String,
    /// 0 while the first request is still being handled.
    pub status_code: i64,
    pub response: String,
    pub created_at: i64,
    /// The node handling the first request ('' for keys claimed before
    /// holders were recorded).
    pub holder: String,
    /// The message the request recorded, once its transaction committed.
    pub message_id: Option<String>,
    /// Whether `holder` is still alive (a `nodes` row beating since
    /// `dead_before`).
    pub holder_alive: bool,
}

/// What claiming a key found.
#[derive(Clone, Debug, PartialEq)]
pub enum Claim {
    /// The key is the caller's: handle the request, then finish the key.
    Claimed,
    /// The key was claimed before (its record); it may still be in hand.
    Earlier(IdempotencyRecord),
}

/// Who claims a key, and from when its holder counts as gone.
#[derive(Clone, Copy, Debug)]
pub struct Holder<'a> {
    pub node: &'a str,
    /// A holder whose last heartbeat is older than this is gone.
    pub dead_before: i64,
}

/// The request whose send a transaction records: the key is finished with
/// the answer in that same transaction.
#[derive(Clone, Debug)]
pub struct KeyFinish<'a> {
    pub workspace_id: &'a str,
    pub key: &'a str,
    pub holder: &'a str,
    pub status_code: u16,
    pub response: &'a str,
    pub message_id: &'a str,
}

const RECORD: &str = "SELECT request_hash, status_code, response, created_at, holder, message_id, \
     EXISTS (SELECT 1 FROM nodes n WHERE n.id = idempotency_keys.holder AND n.heartbeat_at >= $3) AS holder_alive \
     FROM idempotency_keys WHERE workspace_id = $1 AND key = $2";

impl Store {
    /// Claims `key` for a request. Keys older than `ttl_ms` are forgotten.
    /// A key still being handled by a holder that is gone, with no message
    /// recorded, is taken over (by one claimant only).
    pub async fn claim_idempotency(
        &self,
        workspace_id: &str,
        key: &str,
        request_hash: &str,
        holder: Holder<'_>,
        now: i64,
        ttl_ms: i64,
    ) -> Result<Claim> {
        on_writer!(self, |pool| {
            sqlx::query("DELETE FROM idempotency_keys WHERE workspace_id = $1 AND key = $2 AND created_at < $3")
                .bind(workspace_id)
                .bind(key)
                .bind(now - ttl_ms)
                .execute(pool)
                .await?;
            let inserted = sqlx::query(
                "INSERT INTO idempotency_keys (workspace_id, key, request_hash, status_code, response, created_at, holder) \
                 VALUES ($1, $2, $3, 0, '', $4, $5) ON CONFLICT (workspace_id, key) DO NOTHING",
            )
            .bind(workspace_id)
            .bind(key)
            .bind(request_hash)
            .bind(now)
            .bind(holder.node)
            .execute(pool)
            .await?
            .rows_affected();
            if inserted == 1 {
                return Ok(Claim::Claimed);
            }
        });
        let earlier = on_reader!(self, |pool| sqlx::query_as::<_, IdempotencyRecord>(RECORD)
            .bind(workspace_id)
            .bind(key)
            .bind(holder.dead_before)
            .fetch_optional(pool)
            .await?);
        let Some(earlier) = earlier else {
            // Forgotten between the insert and the read: claim it afresh.
            return Box::pin(self.claim_idempotency(workspace_id, key, request_hash, holder, now, ttl_ms)).await;
        };
        let orphaned = earlier.status_code == 0
            && earlier.message_id.is_none()
            && !earlier.holder_alive
            && earlier.request_hash == request_hash;
        if !orphaned {
            return Ok(Claim::Earlier(earlier));
        }
        // Compare-and-set on the holder: of two claimants taking over, one wins.
        let taken = on_writer!(self, |pool| sqlx::query(
            "UPDATE idempotency_keys SET holder = $1 WHERE workspace_id = $2 AND key = $3 \
             AND holder = $4 AND status_code = 0 AND message_id IS NULL"
        )
        .bind(holder.node)
        .bind(workspace_id)
        .bind(key)
        .bind(&earlier.holder)
        .execute(pool)
        .await?
        .rows_affected());
        if taken == 1 {
            Ok(Claim::Claimed)
        } else {
            Ok(Claim::Earlier(IdempotencyRecord {
                holder_alive: true,
                ..earlier
            }))
        }
    }

    /// Stores the answer under a key its holder still holds (a no-op when
    /// the send's transaction finished it already).
    pub async fn finish_idempotency(
        &self,
        workspace_id: &str,
        key: &str,
        holder: &str,
        status_code: u16,
        response: &str,
    ) -> Result<()> {
        on_writer!(self, |pool| {
            sqlx::query(
                "UPDATE idempotency_keys SET status_code = $1, response = $2 \
                 WHERE workspace_id = $3 AND key = $4 AND holder = $5 AND status_code = 0",
            )
            .bind(status_code as i64)
            .bind(response)
            .bind(workspace_id)
            .bind(key)
            .bind(holder)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Forgets a key whose request failed before producing a response.
    pub async fn release_idempotency(&self, workspace_id: &str, key: &str, holder: &str) -> Result<()> {
        on_writer!(self, |pool| {
            sqlx::query(
                "DELETE FROM idempotency_keys WHERE workspace_id = $1 AND key = $2 AND holder = $3 \
                 AND status_code = 0 AND message_id IS NULL",
            )
            .bind(workspace_id)
            .bind(key)
            .bind(holder)
            .execute(pool)
            .await?;
        });
        Ok(())
    }
}

impl WriteTx {
    /// Finishes a key with the answer to the send this transaction records.
    /// A key no longer held by `holder` (taken over: this node was counted
    /// as gone) fails the transaction, so the send is not made twice.
    pub async fn finish_idempotency(&mut self, f: &KeyFinish<'_>) -> Result<()> {
        let finished = on_tx!(self, |conn| sqlx::query(
            "UPDATE idempotency_keys SET status_code = $1, response = $2, message_id = $3 \
             WHERE workspace_id = $4 AND key = $5 AND holder = $6 AND status_code = 0"
        )
        .bind(f.status_code as i64)
        .bind(f.response)
        .bind(f.message_id)
        .bind(f.workspace_id)
        .bind(f.key)
        .bind(f.holder)
        .execute(&mut *conn)
        .await?
        .rows_affected());
        if finished == 1 {
            Ok(())
        } else {
            Err(StoreError::Conflict(format!(
                "the idempotency key `{}` is no longer held by this node",
                f.key
            )))
        }
    }
}
