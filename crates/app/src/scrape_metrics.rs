//! Gauges read from the database when metrics are scraped: the job queue and
//! each workspace's WhatsApp usage are cluster-wide figures that every node
//! reports alike (alert on their `max`); an SMPP channel is bound by one node,
//! which alone reports it as 1. Every series is set on each scrape, so a
//! queue that drained reads 0 rather than its last non-zero value.

use crate::{AppResult, AppState};
use recado_core::delivery::{MessageStatus, OutboundStatus};
use recado_core::jobs::JobKind;
use recado_store::jobs::{DEAD, QUEUED, RUNNING};
use recado_store::Store;

/// The states a job waits or stops in (done jobs are not counted).
const STATES: [&str; 3] = [QUEUED, RUNNING, DEAD];

/// Sets every scraped gauge.
pub async fn record(state: &AppState) -> AppResult<()> {
    let now = state.clock.now_ms();
    record_queue(&state.store, now).await?;
    record_workflow_runs(&state.store, now).await?;
    record_usage_and_binds(state).await
}

/// A run whose wake-up time passed longer ago than this is overdue: the
/// engine advances due runs within a second or two when it keeps up.
pub const RUN_OVERDUE_AFTER_MS: i64 = 60_000;

/// Sets `recado_workflow_runs{state}` (ready, running, waiting),
/// `recado_workflow_runs_overdue` (due more than a minute ago) and
/// `recado_workflow_run_oldest_due_seconds`.
async fn record_workflow_runs(store: &Store, now_ms: i64) -> AppResult<()> {
    let runs = store.workflow_run_gauges(now_ms, now_ms - RUN_OVERDUE_AFTER_MS).await?;
    for (state, count) in [
        ("ready", runs.ready),
        ("running", runs.running),
        ("waiting", runs.waiting),
    ] {
        metrics::gauge!("recado_workflow_runs", "state" => state).set(count as f64);
    }
    metrics::gauge!("recado_workflow_runs_overdue").set(runs.overdue as f64);
    let oldest_due_ms = runs.earliest_due.map_or(0, |at| (now_ms - at).max(0));
    metrics::gauge!("recado_workflow_run_oldest_due_seconds").set(oldest_due_ms as f64 / 1000.0);
    Ok(())
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
/// current period against the effective limit),
/// `recado_messages_uncertain{workspace}` (sends that may or may not have
/// reached the provider, waiting for reconciliation or a person) and
/// `recado_smpp_bound{channel}` (1 on the node holding the bind).
async fn record_usage_and_binds(state: &AppState) -> AppResult<()> {
    for workspace_id in state.store.workspace_ids().await? {
        let usage = crate::whatsapp::usage::current(state, &workspace_id).await?;
        let percent = recado_core::whatsapp::percent_used(usage.used, usage.limit);
        metrics::gauge!("recado_whatsapp_usage_percent", "workspace" => workspace_id.clone()).set(f64::from(percent));
        let uncertain = state
            .store
            .count_messages_in_status(&workspace_id, MessageStatus::Outbound(OutboundStatus::Uncertain))
            .await?;
        metrics::gauge!("recado_messages_uncertain", "workspace" => workspace_id.clone()).set(uncertain as f64);
        for channel in state.store.channels(&workspace_id, Some("sms_smpp")).await? {
            let bound = state.smpp.holds(&channel.id).await;
            metrics::gauge!("recado_smpp_bound", "channel" => channel.id).set(if bound { 1.0 } else { 0.0 });
        }
    }
    Ok(())
}
