//! The job queue as Prometheus gauges, read from the database when metrics
//! are scraped: every node reports the same cluster-wide figures (alert on
//! their `max`). Every kind and state is set on each scrape, so a queue that
//! drained reads 0 rather than its last non-zero value.

use crate::AppResult;
use recado_core::jobs::JobKind;
use recado_store::jobs::{DEAD, QUEUED, RUNNING};
use recado_store::Store;

/// The states a job waits or stops in (done jobs are not counted).
const STATES: [&str; 3] = [QUEUED, RUNNING, DEAD];

/// Sets `recado_jobs{kind,state}` and `recado_job_oldest_due_seconds{kind}`
/// (how long the earliest queued job of a kind has been due; 0 when none
/// is). Webhook deliveries are jobs too, so the latter is the intake's lag.
pub async fn record(store: &Store, now_ms: i64) -> AppResult<()> {
    let counts = store.queue_counts().await?;
    for kind in JobKind::ALL {
        for state in STATES {
            let count = counts
                .iter()
                .find(|c| c.kind == kind && c.status == state)
                .map_or(0, |c| c.count);
            metrics::gauge!("recado_jobs", "kind" => kind.as_str(), "state" => state).set(count as f64);
        }
        let oldest_due_ms = counts
            .iter()
            .find(|c| c.kind == kind && c.status == QUEUED)
            .map_or(0, |c| (now_ms - c.earliest_run_at).max(0));
        metrics::gauge!("recado_job_oldest_due_seconds", "kind" => kind.as_str()).set(oldest_due_ms as f64 / 1000.0);
    }
    Ok(())
}
