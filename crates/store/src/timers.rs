//! Timers kept as one job each: a job with an id of its owner's making
//! (a call's timer is `job_timer_{message id}`), moved when armed again and
//! removed when no longer needed, instead of a new job for every arming.
//! A call's timer is armed when it is dialled, again when it is answered,
//! and is not needed once the call ends: as separate jobs, every one of
//! them used to be claimed and run for nothing after the call was over.

use crate::write::on_tx;
use crate::{Result, WriteTx};
use recado_core::jobs::Task;

/// Rows per multi-row statement (10 values a row).
const ROWS: usize = 500;

/// The id of the one timer job of `owner`.
pub fn timer_job_id(owner: &str) -> String {
    format!("job_timer_{owner}")
}

/// A timer job to arm: `task` runs at `run_at`.
#[derive(Clone, Debug, PartialEq)]
pub struct Timer {
    /// From [`timer_job_id`].
    pub id: String,
    pub workspace_id: String,
    pub task: Task,
    pub run_at: i64,
    pub max_attempts: i64,
}

impl WriteTx {
    /// Arms each timer for its `run_at`: created, or moved and queued again
    /// whatever it was (waiting, done, or running now — a run of a timer
    /// that was moved finds nothing to do, and its completion no longer
    /// matches the job).
    pub async fn arm_timers(&mut self, timers: &[&Timer], now: i64) -> Result<()> {
        for chunk in timers.chunks(ROWS) {
            on_tx!(self, |conn| {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO jobs (id, workspace_id, kind, payload, status, run_at, attempts, max_attempts, created_at, updated_at) ",
                );
                q.push_values(chunk, |mut b, t| {
                    b.push_bind(&t.id)
                        .push_bind(&t.workspace_id)
                        .push_bind(t.task.kind().as_str())
                        .push_bind(t.task.payload().to_string())
                        .push_bind("queued")
                        .push_bind(t.run_at)
                        .push_bind(0i64)
                        .push_bind(t.max_attempts)
                        .push_bind(now)
                        .push_bind(now);
                });
                q.push(
                    " ON CONFLICT (id) DO UPDATE SET payload = excluded.payload, status = 'queued', \
                     run_at = excluded.run_at, attempts = 0, max_attempts = excluded.max_attempts, \
                     lease_owner = NULL, lease_expires_at = NULL, last_error = NULL, updated_at = excluded.updated_at",
                );
                q.build().execute(&mut *conn).await?;
            });
        }
        Ok(())
    }

    /// Removes the timer job `id` while it waits (one running now ends by
    /// itself).
    pub async fn disarm_timer(&mut self, id: &str) -> Result<()> {
        on_tx!(self, |conn| {
            sqlx::query("DELETE FROM jobs WHERE id = $1 AND status = 'queued'")
                .bind(id)
                .execute(&mut *conn)
                .await?;
        });
        Ok(())
    }
}
