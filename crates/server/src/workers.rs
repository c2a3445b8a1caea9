//! Job workers: each loop claims a due job from the database queue, runs the
//! handler registered for its kind and records the outcome. Every node runs
//! workers; the queue's leases make sure a job runs on one of them at a time.

use crate::app::AppState;
use futures::future::BoxFuture;
use recado_store::jobs::{retry_delay_ms, Job};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How a handler failed.
#[derive(Debug)]
pub enum JobError {
    /// Worth another attempt later (a provider was down, asked us to slow down).
    Retry {
        message: String,
        retry_after_ms: Option<i64>,
    },
    /// Will never succeed; the job is buried at once.
    Permanent(String),
}

pub type Handler = Arc<dyn Fn(AppState, Job) -> BoxFuture<'static, Result<(), JobError>> + Send + Sync>;

/// Handlers by job kind.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<String, Handler>,
}

impl Registry {
    pub fn register(&mut self, kind: &str, handler: Handler) {
        self.handlers.insert(kind.to_string(), handler);
    }

    /// The handlers the hub ships with.
    pub fn builtin() -> Registry {
        let mut registry = Registry::default();
        crate::whatsapp::register_jobs(&mut registry);
        crate::sms::register_jobs(&mut registry);
        crate::outbound_webhooks::register_jobs(&mut registry);
        registry
    }
}

/// How long a claimed job may run before another worker may take it over.
const LEASE_MS: i64 = 60_000;

/// Claims and runs at most one due job. Returns whether a job was run; tests
/// drive the queue step by step with it.
pub async fn run_once(state: &AppState, registry: &Registry, worker: &str) -> anyhow::Result<bool> {
    let now = state.clock.now_ms();
    let Some(job) = state.store.claim_job(worker, None, now, LEASE_MS).await? else {
        return Ok(false);
    };
    let outcome = match registry.handlers.get(&job.kind) {
        Some(handler) => handler(state.clone(), job.clone()).await,
        None => Err(JobError::Permanent(format!("no handler for job kind `{}`", job.kind))),
    };
    let now = state.clock.now_ms();
    match outcome {
        Ok(()) => {
            state.store.complete_job(&job.id, worker, now).await?;
            metrics::counter!("recado_jobs_total", "kind" => job.kind.clone(), "outcome" => "done").increment(1);
        }
        Err(JobError::Retry {
            message,
            retry_after_ms,
        }) => {
            let at = now + retry_delay_ms(job.attempts - 1, retry_after_ms);
            let status = state.store.fail_job(&job.id, worker, &message, Some(at), now).await?;
            tracing::warn!(job = %job.id, kind = %job.kind, attempt = job.attempts, error = %message, ?status, "job failed");
            metrics::counter!("recado_jobs_total", "kind" => job.kind.clone(), "outcome" => "retry").increment(1);
        }
        Err(JobError::Permanent(message)) => {
            state.store.fail_job(&job.id, worker, &message, None, now).await?;
            tracing::error!(job = %job.id, kind = %job.kind, error = %message, "job failed permanently");
            metrics::counter!("recado_jobs_total", "kind" => job.kind.clone(), "outcome" => "dead").increment(1);
        }
    }
    Ok(true)
}

/// Starts `settings.workers` worker loops that stop when `shutdown` turns true.
pub fn spawn(state: &AppState, shutdown: watch::Receiver<bool>) {
    let registry = Registry::builtin();
    let node = recado_core::ids::new_id(recado_core::ids::IdKind::Job);
    for n in 0..state.settings.workers {
        let (state, registry, mut shutdown) = (state.clone(), registry.clone(), shutdown.clone());
        let worker = format!("{node}-{n}");
        tokio::spawn(async move {
            loop {
                if *shutdown.borrow() {
                    break;
                }
                match run_once(&state, &registry, &worker).await {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(e) => tracing::error!(error = %e, "worker could not reach the queue"),
                }
                // Idle: poll again soon, or stop at once when asked to.
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(250)) => {}
                    _ = shutdown.changed() => {}
                }
            }
        });
    }
}
