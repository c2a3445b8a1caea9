//! Outbound webhooks: endpoints, and events fanned out to them as delivery
//! jobs in the same transaction that records the event.

use crate::{on_reader, on_writer, Result, Store, StoreError};

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct Endpoint {
    pub id: String,
    pub workspace_id: String,
    pub url: String,
    /// Sealed signing secret.
    pub secret: String,
    /// Comma-separated event types, or `*`.
    pub events: String,
    pub enabled: bool,
    pub consecutive_failures: i64,
    pub disabled_reason: Option<String>,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct OutboundEvent {
    pub id: String,
    pub workspace_id: String,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub payload: String,
    pub at: i64,
}

const ENDPOINT_COLUMNS: &str =
    "id, workspace_id, url, secret, events, enabled, consecutive_failures, disabled_reason, created_at";

/// Records an outbound event and its delivery jobs inside an open
/// transaction: the event commits with the change it reports (outbox). An
/// event no enabled endpoint subscribes to is not stored: it is kept only to
/// be delivered.
#[macro_export]
macro_rules! emit_in_tx {
    ($tx:expr, $workspace_id:expr, $kind:expr, $payload:expr, $now:expr) => {{
        let workspace_id: &str = $workspace_id;
        let kind: &str = $kind;
        let payload: &serde_json::Value = $payload;
        let now: i64 = $now;
        let id = recado_core::ids::new_id(recado_core::ids::IdKind::Event);
        let endpoints: Vec<(String, String)> =
            sqlx::query_as("SELECT id, events FROM webhook_endpoints WHERE workspace_id = $1 AND enabled = $2")
                .bind(workspace_id)
                .bind(true)
                .fetch_all(&mut *$tx)
                .await?;
        let subscribers: Vec<String> = endpoints
            .into_iter()
            .filter(|(_, events)| $crate::outbound::subscribed(events, kind))
            .map(|(endpoint_id, _)| endpoint_id)
            .collect();
        if !subscribers.is_empty() {
            sqlx::query(
                "INSERT INTO outbound_events (id, workspace_id, type, payload, at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&id)
            .bind(workspace_id)
            .bind(kind)
            .bind(payload.to_string())
            .bind(now)
            .execute(&mut *$tx)
            .await?;
        }
        for endpoint_id in subscribers {
            let job = $crate::jobs::NewJob {
                task: recado_core::jobs::Task::WebhookDelivery {
                    endpoint_id,
                    event_id: id.clone(),
                },
                workspace_id: Some(workspace_id),
                run_at: now,
                max_attempts: 8,
            };
            $crate::insert_job!(&mut *$tx, &job, now)?;
        }
    }};
}

/// Whether an endpoint's event list covers `kind`.
pub fn subscribed(events: &str, kind: &str) -> bool {
    events.split(',').map(str::trim).any(|e| e == "*" || e == kind)
}

impl Store {
    pub async fn create_endpoint(&self, e: &Endpoint) -> Result<()> {
        on_writer!(self, |pool| {
            sqlx::query(&format!(
                "INSERT INTO webhook_endpoints ({ENDPOINT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            ))
            .bind(&e.id)
            .bind(&e.workspace_id)
            .bind(&e.url)
            .bind(&e.secret)
            .bind(&e.events)
            .bind(e.enabled)
            .bind(e.consecutive_failures)
            .bind(&e.disabled_reason)
            .bind(e.created_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    pub async fn endpoints(&self, workspace_id: &str) -> Result<Vec<Endpoint>> {
        let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE workspace_id = $1 ORDER BY id");
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, Endpoint>(&sql)
            .bind(workspace_id)
            .fetch_all(pool)
            .await?))
    }

    pub async fn endpoint(&self, id: &str) -> Result<Option<Endpoint>> {
        let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1");
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, Endpoint>(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await?))
    }

    pub async fn delete_endpoint(&self, workspace_id: &str, id: &str) -> Result<()> {
        let n = on_writer!(self, |pool| {
            sqlx::query("DELETE FROM webhook_endpoints WHERE workspace_id = $1 AND id = $2")
                .bind(workspace_id)
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        StoreError::found(n)
    }

    /// Re-enables an endpoint an admin has fixed.
    pub async fn enable_endpoint(&self, workspace_id: &str, id: &str) -> Result<()> {
        let n = on_writer!(self, |pool| {
            sqlx::query("UPDATE webhook_endpoints SET enabled = $1, consecutive_failures = 0, disabled_reason = NULL WHERE workspace_id = $2 AND id = $3")
                .bind(true)
                .bind(workspace_id)
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        StoreError::found(n)
    }

    /// Records an event and one delivery job per enabled endpoint that wants it.
    pub async fn emit_event(
        &self,
        workspace_id: &str,
        kind: &str,
        payload: &serde_json::Value,
        now: i64,
    ) -> Result<()> {
        on_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            emit_in_tx!(tx, workspace_id, kind, payload, now);
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn outbound_event(&self, id: &str) -> Result<Option<OutboundEvent>> {
        let sql = "SELECT id, workspace_id, type, payload, at FROM outbound_events WHERE id = $1";
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, OutboundEvent>(sql)
            .bind(id)
            .fetch_optional(pool)
            .await?))
    }

    /// A failed delivery attempt; the endpoint is disabled once `disable_after`
    /// attempts in a row have failed. Returns whether it is now disabled.
    pub async fn endpoint_failed(&self, id: &str, disable_after: i64, reason: &str) -> Result<bool> {
        Ok(on_writer!(self, |pool| {
            let row: Option<bool> = sqlx::query_scalar(
                "UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1, \
                 enabled = CASE WHEN consecutive_failures + 1 >= $1 THEN $2 ELSE enabled END, \
                 disabled_reason = CASE WHEN consecutive_failures + 1 >= $1 THEN $3 ELSE disabled_reason END \
                 WHERE id = $4 RETURNING enabled",
            )
            .bind(disable_after)
            .bind(false)
            .bind(reason)
            .bind(id)
            .fetch_optional(pool)
            .await?;
            row == Some(false)
        }))
    }

    pub async fn endpoint_succeeded(&self, id: &str) -> Result<()> {
        on_writer!(self, |pool| {
            sqlx::query("UPDATE webhook_endpoints SET consecutive_failures = 0 WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}

/// One delivery attempt of an outbound webhook.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct Delivery {
    pub id: String,
    pub endpoint_id: String,
    pub workspace_id: String,
    pub event_id: String,
    pub event_type: String,
    pub at: i64,
    /// The endpoint's HTTP status; none when it could not be reached.
    pub status_code: Option<i64>,
    pub ok: bool,
    /// The start of the answer, or why there was none.
    pub response: String,
}

/// Attempts kept per endpoint.
pub const DELIVERIES_KEPT: i64 = 50;

impl Store {
    /// Records an attempt and forgets the endpoint's attempts beyond the
    /// latest [`DELIVERIES_KEPT`].
    pub async fn record_delivery(&self, d: &Delivery) -> Result<()> {
        on_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO webhook_deliveries (id, endpoint_id, workspace_id, event_id, event_type, at, status_code, ok, response) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&d.id)
            .bind(&d.endpoint_id)
            .bind(&d.workspace_id)
            .bind(&d.event_id)
            .bind(&d.event_type)
            .bind(d.at)
            .bind(d.status_code)
            .bind(d.ok)
            .bind(&d.response)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "DELETE FROM webhook_deliveries WHERE endpoint_id = $1 AND id NOT IN \
                 (SELECT id FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY at DESC, id DESC LIMIT $2)",
            )
            .bind(&d.endpoint_id)
            .bind(DELIVERIES_KEPT)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The latest attempts of an endpoint, newest first.
    pub async fn deliveries(&self, workspace_id: &str, endpoint_id: &str, limit: i64) -> Result<Vec<Delivery>> {
        let sql = "SELECT id, endpoint_id, workspace_id, event_id, event_type, at, status_code, ok, response \
                   FROM webhook_deliveries WHERE workspace_id = $1 AND endpoint_id = $2 ORDER BY at DESC, id DESC LIMIT $3";
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, Delivery>(sql)
            .bind(workspace_id)
            .bind(endpoint_id)
            .bind(limit)
            .fetch_all(pool)
            .await?))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn endpoints_subscribe_to_listed_types_or_everything() {
        assert!(super::subscribed("*", "message.received"));
        assert!(super::subscribed("consent.changed, message.status", "message.status"));
        assert!(!super::subscribed("consent.changed", "message.status"));
    }
}
