//! Job workers: each loop claims a due job from the database queue, runs the
//! handler registered for its kind and records the outcome. Every node runs
//! workers; the queue's leases make sure a job runs on one of them at a time.

use crate::AppState;
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

/// Settles what a job leaves behind once it is buried (no attempts left, or
/// a permanent failure): e.g. a send's message must still end in a final state.
pub type BuriedHandler = Arc<dyn Fn(AppState, Job) -> BoxFuture<'static, Result<(), JobError>> + Send + Sync>;

/// Handlers by job kind.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<String, Handler>,
    on_buried: HashMap<String, BuriedHandler>,
}

impl Registry {
    pub fn register(&mut self, kind: &str, handler: Handler) {
        self.handlers.insert(kind.to_string(), handler);
    }

    /// Registers what to do when a job of `kind` is buried.
    pub fn on_buried(&mut self, kind: &str, handler: BuriedHandler) {
        self.on_buried.insert(kind.to_string(), handler);
    }

    /// Runs the buried-job handler of `job`'s kind, if any. `job.last_error`
    /// holds the last failure.
    async fn settle_buried(&self, state: &AppState, job: Job) {
        metrics::counter!("recado_jobs_total", "kind" => job.kind.clone(), "outcome" => "dead").increment(1);
        let Some(handler) = self.on_buried.get(&job.kind) else {
            return;
        };
        let (id, kind) = (job.id.clone(), job.kind.clone());
        if let Err(e) = handler(state.clone(), job).await {
            tracing::error!(job = %id, %kind, error = ?e, "could not settle a buried job");
        }
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

/// How often a node says it is alive, and how long after its last heartbeat
/// its leases go to the other nodes (a crashed node's work resumes within
/// seconds instead of after the whole lease).
pub const HEARTBEAT_EVERY_MS: i64 = 5_000;
pub const NODE_DEAD_AFTER_MS: i64 = 20_000;

/// Claims and runs at most one due job. Returns whether a job was run; tests
/// drive the queue step by step with it.
pub async fn run_once(state: &AppState, registry: &Registry, worker: &str) -> anyhow::Result<bool> {
    let now = state.clock.now_ms();
    let dead_before = Some(now - NODE_DEAD_AFTER_MS);
    let claim = state.store.claim_next(worker, None, now, LEASE_MS, dead_before).await?;
    for buried in claim.buried {
        tracing::error!(job = %buried.id, kind = %buried.kind, "job buried: its lease ran out on its last attempt");
        registry.settle_buried(state, buried).await;
    }
    let Some(job) = claim.job else {
        return Ok(false);
    };
    let outcome = match registry.handlers.get(&job.kind) {
        Some(handler) => handler(state.clone(), job.clone()).await,
        None => Err(JobError::Permanent(format!("no handler for job kind `{}`", job.kind))),
    };
    let now = state.clock.now_ms();
    let (message, retry_at) = match outcome {
        Ok(()) => {
            state.store.complete_job(&job.id, worker, now).await?;
            metrics::counter!("recado_jobs_total", "kind" => job.kind.clone(), "outcome" => "done").increment(1);
            return Ok(true);
        }
        Err(JobError::Retry {
            message,
            retry_after_ms,
        }) => {
            let at = now + retry_delay_ms(job.attempts - 1, retry_after_ms);
            (message, Some(at))
        }
        Err(JobError::Permanent(message)) => (message, None),
    };
    let status = state.store.fail_job(&job.id, worker, &message, retry_at, now).await?;
    if status == Some(recado_store::jobs::DEAD) {
        tracing::error!(job = %job.id, kind = %job.kind, attempt = job.attempts, error = %message, "job failed for good");
        let buried = Job {
            last_error: Some(message),
            status: recado_store::jobs::DEAD.into(),
            ..job
        };
        registry.settle_buried(state, buried).await;
    } else {
        tracing::warn!(job = %job.id, kind = %job.kind, attempt = job.attempts, error = %message, ?status, "job failed");
        metrics::counter!("recado_jobs_total", "kind" => job.kind.clone(), "outcome" => "retry").increment(1);
    }
    Ok(true)
}

/// The workers of this process: its node id and the running loops.
pub struct Workers {
    node: String,
    loops: Vec<tokio::task::JoinHandle<()>>,
}

impl Workers {
    /// Waits until every loop has finished its current job (they stop when
    /// shutdown turns true), then removes the node, releasing any lease it
    /// still holds so other nodes take the work at once.
    pub async fn drain(self, state: &AppState) {
        for handle in self.loops {
            let _ = handle.await;
        }
        if let Err(e) = state.store.remove_node(&self.node, state.clock.now_ms()).await {
            tracing::error!(error = %e, "could not remove this node from the queue");
        }
    }
}

/// Starts `settings.workers` worker loops that stop when `shutdown` turns
/// true, on a node that beats every few seconds. Worker names are
/// `{node}:{n}`, which ties their leases to the node.
pub fn spawn(state: &AppState, shutdown: watch::Receiver<bool>) -> Workers {
    let registry = Registry::builtin();
    let node = recado_core::ids::new_id(recado_core::ids::IdKind::Node);
    let mut loops = Vec::new();
    if state.settings.workers == 0 {
        return Workers { node, loops };
    }
    {
        let (state, node, mut shutdown) = (state.clone(), node.clone(), shutdown.clone());
        loops.push(tokio::spawn(async move {
            loop {
                if let Err(e) = state.store.node_heartbeat(&node, state.clock.now_ms()).await {
                    tracing::error!(error = %e, "node heartbeat failed");
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(HEARTBEAT_EVERY_MS as u64)) => {}
                    _ = shutdown.changed() => {}
                }
                if *shutdown.borrow() {
                    break;
                }
            }
        }));
    }
    for n in 0..state.settings.workers {
        let (state, registry, mut shutdown) = (state.clone(), registry.clone(), shutdown.clone());
        let worker = format!("{node}:{n}");
        loops.push(tokio::spawn(async move {
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
        }));
    }
    Workers { node, loops }
}
