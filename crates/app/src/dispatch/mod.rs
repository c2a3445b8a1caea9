//! The send path, many messages at a time. Sends are accepted by group
//! commit ([`accept`]); dispatcher loops claim their jobs in batches, mark
//! them attempted in one statement, submit them concurrently (the SMPP
//! window and the provider's connection pool stay full) and record the
//! outcomes as they arrive, many per transaction ([`sms`]). Sandbox receipts
//! are settled the same way ([`receipts`]), and the recipients of concurrent
//! sends are looked up together ([`recipients`]).
//!
//! Every guarantee of the one-job-at-a-time path holds: a send is recorded
//! before it is accepted, marked attempted before its request leaves (after
//! a crash it becomes `uncertain`, never sent again), and ends in a final
//! state (a buried job settles its message). The generic workers run these
//! jobs through the same code with batches of one ([`process`]).

pub mod accept;
mod receipts;
pub mod recipients;
mod sms;

use crate::AppState;
use recado_core::jobs::{JobKind, Task};
use recado_store::jobs::Job;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// The kinds of job the dispatcher runs in batches.
pub const KINDS: [JobKind; 2] = [JobKind::SmsSend, JobKind::SmsSandboxReceipt];

/// Jobs one dispatcher loop claims at a time.
const BATCH: i64 = 256;

/// Dispatcher loops per node: while one waits on providers, another claims
/// and records, so the database and the providers are both kept busy.
const LOOPS: usize = 2;

/// How long an idle loop waits before looking again when nothing wakes it
/// (sends accepted by another node, retries coming due).
const IDLE_POLL: Duration = Duration::from_millis(250);

/// The accepting side's writer and the signal that wakes idle dispatchers.
#[derive(Clone)]
pub struct Sends {
    pub writer: accept::SendWriter,
    pub accepted: Arc<Notify>,
    pub recipients: recipients::Recipients,
}

impl Sends {
    pub fn start(store: recado_store::Store, clock: Arc<dyn recado_core::clock::Clock>) -> Sends {
        let accepted = Arc::new(Notify::new());
        Sends {
            writer: accept::SendWriter::start(store.clone(), clock, accepted.clone()),
            accepted,
            recipients: recipients::Recipients::start(store),
        }
    }
}

/// Claims up to `limit` due jobs of [`KINDS`] for `worker` and runs them.
/// Returns how many were claimed.
pub async fn run_batch(state: &AppState, worker: &str, limit: i64) -> anyhow::Result<usize> {
    let now = state.clock.now_ms();
    let jobs = state
        .store
        .claim_jobs(worker, &KINDS, now, crate::workers::LEASE_MS, limit)
        .await?;
    let claimed = jobs.len();
    process(state, worker, jobs).await?;
    Ok(claimed)
}

/// Runs claimed jobs of [`KINDS`] held by `worker`.
pub async fn process(state: &AppState, worker: &str, jobs: Vec<Job>) -> anyhow::Result<()> {
    let mut sends = Vec::new();
    let mut sandbox_receipts = Vec::new();
    for job in jobs {
        match job.task() {
            Ok(Task::SmsSend { message_id }) => sends.push((job, message_id)),
            Ok(Task::SmsSandboxReceipt { message_id }) => sandbox_receipts.push((job, message_id)),
            Ok(_) => {
                let error = crate::workers::JobError::Permanent(format!("{} is not dispatched in batches", job.kind));
                crate::workers::record_failure(state, worker, job, error).await?;
            }
            Err(e) => {
                let error = crate::workers::JobError::Permanent(e.to_string());
                crate::workers::record_failure(state, worker, job, error).await?;
            }
        }
    }
    sms::send_batch(state, worker, sends).await?;
    receipts::sandbox_batch(state, worker, sandbox_receipts).await?;
    Ok(())
}

/// Starts this node's dispatcher loops; they stop when `shutdown` turns true.
pub fn spawn(state: &AppState, node: &str, shutdown: &watch::Receiver<bool>) -> Vec<tokio::task::JoinHandle<()>> {
    (0..LOOPS)
        .map(|n| {
            let (state, mut shutdown) = (state.clone(), shutdown.clone());
            // `{node}:…`: a dead node's leases are released by its heartbeat.
            let worker = format!("{node}:send{n}");
            tokio::spawn(async move {
                loop {
                    if *shutdown.borrow() {
                        break;
                    }
                    match run_batch(&state, &worker, BATCH).await {
                        Ok(n) if n > 0 => continue,
                        Ok(_) => {}
                        Err(e) => tracing::error!(error = %e, "the send dispatcher could not reach the queue"),
                    }
                    tokio::select! {
                        _ = state.sends.accepted.notified() => {}
                        _ = tokio::time::sleep(IDLE_POLL) => {}
                        _ = shutdown.changed() => {}
                    }
                }
            })
        })
        .collect()
}
