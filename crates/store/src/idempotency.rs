//! Idempotency keys of `POST /api/v1/messages`: the same key and body within
//! 24 h returns the first response; another body with the key is a conflict.

use crate::{on_reader, on_writer, Result, Store};

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct IdempotencyRecord {
    pub request_hash: String,
    /// 0 while the first request is still being handled.
    pub status_code: i64,
    pub response: String,
    pub created_at: i64,
}

impl Store {
    /// Claims `key` for a request. Returns None when the key is new (the
    /// caller handles the request and then calls `finish_idempotency`), or the
    /// record of the earlier request with this key. Keys older than `ttl_ms`
    /// are forgotten.
    pub async fn claim_idempotency(
        &self,
        workspace_id: &str,
        key: &str,
        request_hash: &str,
        now: i64,
        ttl_ms: i64,
    ) -> Result<Option<IdempotencyRecord>> {
        on_writer!(self, |pool| {
            sqlx::query("DELETE FROM idempotency_keys WHERE workspace_id = $1 AND key = $2 AND created_at < $3")
                .bind(workspace_id)
                .bind(key)
                .bind(now - ttl_ms)
                .execute(pool)
                .await?;
            let inserted = sqlx::query(
                "INSERT INTO idempotency_keys (workspace_id, key, request_hash, status_code, response, created_at) VALUES ($1, $2, $3, 0, '', $4) \
                 ON CONFLICT (workspace_id, key) DO NOTHING",
            )
            .bind(workspace_id)
            .bind(key)
            .bind(request_hash)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected();
            if inserted == 1 {
                return Ok(None);
            }
        });
        let sql = "SELECT request_hash, status_code, response, created_at FROM idempotency_keys WHERE workspace_id = $1 AND key = $2";
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, IdempotencyRecord>(sql)
            .bind(workspace_id)
            .bind(key)
            .fetch_optional(pool)
            .await?))
    }

    pub async fn finish_idempotency(
        &self,
        workspace_id: &str,
        key: &str,
        status_code: u16,
        response: &str,
    ) -> Result<()> {
        on_writer!(self, |pool| {
            sqlx::query(
                "UPDATE idempotency_keys SET status_code = $1, response = $2 WHERE workspace_id = $3 AND key = $4",
            )
            .bind(status_code as i64)
            .bind(response)
            .bind(workspace_id)
            .bind(key)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Forgets a key whose request failed before producing a response.
    pub async fn release_idempotency(&self, workspace_id: &str, key: &str) -> Result<()> {
        on_writer!(self, |pool| {
            sqlx::query("DELETE FROM idempotency_keys WHERE workspace_id = $1 AND key = $2 AND status_code = 0")
                .bind(workspace_id)
                .bind(key)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
