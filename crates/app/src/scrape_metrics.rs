//! Gauges read from the database when metrics are scraped: the job queue and
//! each workspace's WhatsApp usage are cluster-wide figures that every node
//! reports alike (alert on their `max`); an SMPP channel is bound by one node,
//! which alone reports it as 1. Every series is set on each scrape, so a
//! queue that drained reads 0 rather than its last non-zero value.

use crate::{AppResult, AppState};
use recado_core::jobs::JobKind;
use recado_store::jobs::{DEAD, QUEUED, RUNNING};
use recado_store::Store;

/// The states a job waits or stops in (done jobs are not counted).
const STATES: [&str; 3] = [QUEUED, RUNNING, DEAD];

/// Sets every scraped gauge.
pub async fn record(state: &AppState) -> AppResult<()> {
    record_queue(&state.store, state.clock.now_ms()).await?;
    record_usage_and_binds(state).await
}

/// Sets `recado_jobs{kind,state}` and `recado_job_oldest_due_seconds{kind}`
/// (how long the earliest queued job of a kind has been due; 0 when none
/// is). Webhook deliveries are jobs too, so the latter is the intake's lag.
async fn record_queue(store: &Store, now_ms: i64) -> AppResult<()> {
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

/// Sets `recado_whatsapp_usage_percent{workspace}` (conversations of the
/// current period against the effective limit) and
/// `recado_smpp_bound{channel}` (1 on the node holding the bind).
async fn record_usage_and_binds(state: &AppState) -> AppResult<()> {
    for workspace_id in state.store.workspace_ids().await? {
        let usage = crate::whatsapp::usage::current(state, &workspace_id).await?;
        let percent = recado_core::whatsapp::percent_used(usage.used, usage.limit);
        metrics::gauge!("recado_whatsapp_usage_percent", "workspace" => workspace_id.clone()).set(f64::from(percent));
        for channel in state.store.channels(&workspace_id, Some("sms_smpp")).await? {
            let bound = state.smpp.holds(&channel.id).await;
            metrics::gauge!("recado_smpp_bound", "channel" => channel.id).set(if bound { 1.0 } else { 0.0 });
        }
    }
    Ok(())
}
