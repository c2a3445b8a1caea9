//! Figures read when metrics are scraped: each one an indexed count, so a
//! scrape stays cheap however many messages and runs the database holds.

use crate::{on_reader, Result, Store};
use recado_core::delivery::MessageStatus;

/// The workflow runs that are not finished, and those late.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunGauges {
    /// Runs due to advance now (`ready`).
    pub ready: i64,
    /// Runs a worker is advancing.
    pub running: i64,
    /// Runs waiting for a time or an event.
    pub waiting: i64,
    /// Runs whose wake-up time passed more than the allowed delay ago.
    pub overdue: i64,
    /// The earliest wake-up time among ready and waiting runs that is due.
    pub earliest_due: Option<i64>,
}

impl Store {
    /// How many of the workspace's messages are in `status`.
    pub async fn count_messages_in_status(&self, workspace_id: &str, status: MessageStatus) -> Result<i64> {
        let sql = "SELECT COUNT(*) FROM messages WHERE workspace_id = $1 AND status = $2";
        Ok(on_reader!(self, |pool| sqlx::query_scalar::<_, i64>(sql)
            .bind(workspace_id)
            .bind(status.as_str())
            .fetch_one(pool)
            .await?))
    }

    /// Unfinished runs by state; `overdue` counts those due before
    /// `overdue_before`, `earliest_due` is read among those due by `now`.
    pub async fn workflow_run_gauges(&self, now: i64, overdue_before: i64) -> Result<RunGauges> {
        let by_status = "SELECT status, COUNT(*) FROM workflow_runs \
                         WHERE status IN ('ready', 'running', 'waiting') GROUP BY status";
        let overdue_sql = "SELECT COUNT(*) FROM workflow_runs \
                           WHERE status IN ('ready', 'waiting') AND wake_at <= $1";
        let earliest_sql = "SELECT MIN(wake_at) FROM workflow_runs \
                            WHERE status IN ('ready', 'waiting') AND wake_at <= $1";
        let (counts, overdue, earliest_due) = on_reader!(self, |pool| {
            let counts = sqlx::query_as::<_, (String, i64)>(by_status).fetch_all(pool).await?;
            let overdue: i64 = sqlx::query_scalar(overdue_sql)
                .bind(overdue_before)
                .fetch_one(pool)
                .await?;
            let earliest: Option<i64> = sqlx::query_scalar(earliest_sql).bind(now).fetch_one(pool).await?;
            (counts, overdue, earliest)
        });
        let count = |s: &str| counts.iter().find(|(status, _)| status == s).map_or(0, |(_, n)| *n);
        Ok(RunGauges {
            ready: count("ready"),
            running: count("running"),
            waiting: count("waiting"),
            overdue,
            earliest_due,
        })
    }
}
