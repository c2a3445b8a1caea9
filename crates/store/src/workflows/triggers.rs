//! When each schedule trigger of an active workflow fires next. Firing is a
//! compare-and-set from the stored time to the following one, so with several
//! nodes sharing a database each occurrence enrols once.

use crate::{on_reader, on_writer, Result, Store};

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct DueTrigger {
    pub workflow_id: String,
    pub trigger_index: i64,
    pub workspace_id: String,
    pub next_at: i64,
}

impl Store {
    /// Replaces the workflow's trigger times (on activation and resume).
    pub async fn set_trigger_times(&self, workspace_id: &str, workflow_id: &str, times: &[(i64, i64)]) -> Result<()> {
        on_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM workflow_triggers WHERE workflow_id = $1")
                .bind(workflow_id)
                .execute(&mut *tx)
                .await?;
            for (index, next_at) in times {
                sqlx::query(
                    "INSERT INTO workflow_triggers (workflow_id, trigger_index, workspace_id, next_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(workflow_id)
                .bind(index)
                .bind(workspace_id)
                .bind(next_at)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Schedule triggers due at `now` (of active workflows).
    pub async fn due_triggers(&self, now: i64, limit: i64) -> Result<Vec<DueTrigger>> {
        Ok(on_reader!(self, |pool| sqlx::query_as::<_, DueTrigger>(
            "SELECT t.workflow_id, t.trigger_index, t.workspace_id, t.next_at FROM workflow_triggers t \
             JOIN workflows w ON w.id = t.workflow_id AND w.status = 'active' \
             WHERE t.next_at <= $1 ORDER BY t.next_at LIMIT $2"
        )
        .bind(now)
        .bind(limit)
        .fetch_all(pool)
        .await?))
    }

    /// Moves a trigger from the occurrence `from` to `to`; false when another
    /// node fired it first.
    pub async fn advance_trigger(&self, workflow_id: &str, index: i64, from: i64, to: i64) -> Result<bool> {
        let done = on_writer!(self, |pool| {
            sqlx::query(
            "UPDATE workflow_triggers SET next_at = $4 WHERE workflow_id = $1 AND trigger_index = $2 AND next_at = $3"
        )
        .bind(workflow_id)
        .bind(index)
        .bind(from)
        .bind(to)
        .execute(pool)
        .await?
        .rows_affected()
        });
        Ok(done == 1)
    }
}
