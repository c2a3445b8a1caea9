//! Job workers: each loop claims a due job from the database queue, runs the
//! handler registered for its kind and records the outcome. Every node runs
//! workers; the queue's leases make sure a job runs on one of them at a time.

use crate::error::AppError;
use crate::AppState;
use futures::future::BoxFuture;
use recado_core::jobs::{JobKind, Task};
use recado_store::jobs::{retry_delay_ms, Job};
use recado_store::StoreError;
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
    /// This node cannot run it now, another one can (it holds the SMPP bind
    /// the job needs): back to the queue, the attempt not counted.
    Elsewhere { retry_after_ms: i64 },
    /// Not a failure: the job waits (its broadcast is paused) or has more
    /// to do; it runs again after this long, the attempt not counted.
    Later { after_ms: i64 },
}

impl JobError {
    /// A failure a later attempt may not meet (a provider or the network).
    pub fn retry(e: impl std::fmt::Display) -> JobError {
        JobError::Retry {
            message: e.to_string(),
            retry_after_ms: None,
        }
    }
}

/// The database was unreachable or busy: try again later. Only stored data
/// that cannot be read fails for good.
impl From<StoreError> for JobError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Corrupt(_) => JobError::Permanent(e.to_string()),
            e => JobError::retry(e),
        }
    }
}

/// A refusal of the domain (bad input, a rule) will be refused again; an
/// internal failure may pass on a later attempt.
impl From<AppError> for JobError {
    fn from(e: AppError) -> Self {
        if e.is_internal() {
            JobError::Retry {
                message: e.message,
                retry_after_ms: None,
            }
        } else {
            JobError::Permanent(format!("{}: {}", e.code, e.message))
        }
    }
}

/// A handler that replaces the built-in one of a kind (tests inject
/// failures with it).
pub type Handler = Arc<dyn Fn(AppState, Job) -> BoxFuture<'static, Result<(), JobError>> + Send + Sync>;

/// How jobs are run: the built-in handler of each task, unless one is
/// registered in its place.
#[derive(Clone, Default)]
pub struct Registry {
    overrides: HashMap<JobKind, Handler>,
}

impl Registry {
    /// The handlers the hub ships with.
    pub fn builtin() -> Registry {
        Registry::default()
    }

    /// Runs `handler` for jobs of `kind` instead of the built-in handler.
    pub fn register(&mut self, kind: JobKind, handler: Handler) {
        self.overrides.insert(kind, handler);
    }

    async fn run(&self, state: &AppState, job: Job) -> Result<(), JobError> {
        if let Some(handler) = self.overrides.get(&job.kind) {
            return handler(state.clone(), job).await;
        }
        let task = job.task().map_err(|e| JobError::Permanent(e.to_string()))?;
        run_task(state.clone(), job, task).await
    }

    fn overrides(&self, kind: JobKind) -> bool {
        self.overrides.contains_key(&kind)
    }
}

/// Settles what a buried job leaves behind. `job.last_error` holds the last
/// failure.
async fn settle_buried(state: &AppState, job: Job) {
    metrics::counter!("recado_jobs_total", "kind" => job.kind.as_str(), "outcome" => "dead").increment(1);
    let (id, kind) = (job.id.clone(), job.kind);
    let Ok(task) = job.task() else {
        return;
    };
    if let Err(e) = settle_task(state.clone(), job, task).await {
        tracing::error!(job = %id, %kind, error = ?e, "could not settle a buried job");
    }
}

/// The built-in handler of every task: one arm per kind of job, so a new
/// kind cannot be queued without a handler.
async fn run_task(state: AppState, job: Job, task: Task) -> Result<(), JobError> {
    use crate::{outbound_webhooks, sms, whatsapp};
    match task {
        Task::WhatsAppWebhook { event_id } => whatsapp::inbound::process_event_job(state, event_id).await,
        Task::WhatsAppSend { message_id } => whatsapp::send::send_job(state, job, message_id).await,
        Task::WhatsAppTemplateSync {} => whatsapp::templates::sync_job(state, job).await,
        // Run by `crate::dispatch`, which records their outcomes itself.
        Task::SmsSend { .. } | Task::SmsSandboxReceipt { .. } => Err(JobError::Permanent(format!(
            "{} jobs are run by the send dispatcher",
            job.kind
        ))),
        Task::SmsWebhook { event_id } => sms::http::process_job(state, event_id).await,
        Task::SmppReceipt {
            channel_id,
            part_id,
            delivery,
            error,
        } => sms::smpp::receipt_job(state, channel_id, part_id, delivery, error).await,
        Task::SmppInbound {
            channel_id,
            from,
            to,
            text,
        } => sms::smpp::inbound_job(state, channel_id, from, to, text).await,
        Task::WebhookDelivery { endpoint_id, event_id } => {
            outbound_webhooks::deliver_job(state, endpoint_id, event_id).await
        }
        Task::WorkflowContactChange {
            workspace_id,
            contact_id,
            run_id,
            change,
            ..
        } => Ok(crate::workflows::enrol::apply_change(&state, &workspace_id, &contact_id, &run_id, &change).await?),
        Task::WorkflowEnrolSegment {
            workspace_id,
            workflow_id,
            version,
            segment_id,
            after,
            enrol,
        } => Ok(crate::workflows::enrol::enrol_segment_page(
            &state,
            &workspace_id,
            &workflow_id,
            version,
            &segment_id,
            after.as_deref(),
            enrol,
        )
        .await?),
        Task::WorkflowEvent {
            workspace_id,
            workflow_id,
            contact_id,
            event,
            message_id,
            ..
        } => Ok(crate::workflows::enrol::on_event(
            &state,
            &workspace_id,
            &workflow_id,
            &contact_id,
            &event,
            message_id.as_deref(),
        )
        .await?),
        Task::BroadcastPrepare {
            workspace_id,
            broadcast_id,
        } => crate::broadcasts::prepare::job(state, workspace_id, broadcast_id).await,
        Task::EmailNotify {
            workspace_id,
            notification_id,
        } => crate::email::notify_job(state, workspace_id, notification_id).await,
        Task::VoiceDial {
            workspace_id,
            message_id,
            attempt,
        } => crate::voice::jobs::dial_job(state, workspace_id, message_id, attempt).await,
        Task::VoiceInput {
            workspace_id,
            message_id,
            input,
        } => crate::voice::jobs::input_job(state, workspace_id, message_id, input).await,
        Task::VoiceCommand {
            workspace_id,
            message_id,
            attempt,
            command,
        } => crate::voice::jobs::command_job(state, workspace_id, message_id, attempt, command).await,
        Task::VoiceKeyAction {
            workspace_id,
            message_id,
            key,
        } => crate::voice::jobs::key_action_job(state, job, workspace_id, message_id, key).await,
    }
}

/// What a buried job must still settle: a send's message ends in a final
/// state (SPEC §10), a call whose dial was never made ends; other jobs
/// leave nothing behind.
async fn settle_task(state: AppState, job: Job, task: Task) -> Result<(), JobError> {
    use crate::{sms, whatsapp};
    match task {
        Task::SmsSend { message_id } => sms::send::send_buried(state, job, message_id).await,
        Task::WhatsAppSend { message_id } => whatsapp::send::send_buried(state, job, message_id).await,
        Task::VoiceDial {
            workspace_id,
            message_id,
            attempt,
        } => crate::voice::jobs::dial_buried(state, workspace_id, message_id, attempt).await,
        _ => Ok(()),
    }
}

/// How long a claimed job may run before another worker may take it over.
pub(crate) const LEASE_MS: i64 = 60_000;

/// How often a node says it is alive, and how long after its last heartbeat
/// its leases go to the other nodes (a crashed node's work resumes within
/// seconds instead of after the whole lease).
pub const HEARTBEAT_EVERY_MS: i64 = 5_000;
pub const NODE_DEAD_AFTER_MS: i64 = 20_000;

/// How often a node returns expired leases (and those of dead nodes) to the
/// queue: a job whose worker is gone waits at most this much longer.
pub const LEASE_SWEEP_EVERY_MS: i64 = 1_000;

/// Claims and runs at most one due job. Returns whether a job was run; tests
/// drive the queue step by step with it.
pub async fn run_once(state: &AppState, registry: &Registry, worker: &str) -> anyhow::Result<bool> {
    run_one(state, registry, worker, None, &[]).await
}

/// [`run_once`] for jobs of the kind `only` (any kind when `None`) and not
/// of the kinds `except`.
async fn run_one(
    state: &AppState,
    registry: &Registry,
    worker: &str,
    only: Option<JobKind>,
    except: &[JobKind],
) -> anyhow::Result<bool> {
    let now = state.clock.now_ms();
    if state.node.lease_sweep_due(now, LEASE_SWEEP_EVERY_MS) {
        let dead_before = Some(now - NODE_DEAD_AFTER_MS);
        for buried in state.store.requeue_expired_leases(now, dead_before).await? {
            tracing::error!(job = %buried.id, kind = %buried.kind, "job buried: its lease ran out on its last attempt");
            settle_buried(state, buried).await;
        }
    }
    let Some(job) = state.store.claim_due(worker, only, except, now, LEASE_MS).await? else {
        return Ok(false);
    };
    // Sends run through the dispatcher's code, here as a batch of one.
    if crate::dispatch::KINDS.contains(&job.kind) && !registry.overrides(job.kind) {
        crate::dispatch::process(state, worker, vec![job]).await?;
        return Ok(true);
    }
    let outcome = registry.run(state, job.clone()).await;
    match outcome {
        Ok(()) => {
            let now = state.clock.now_ms();
            state.store.complete_job(&job.id, worker, now).await?;
            metrics::counter!("recado_jobs_total", "kind" => job.kind.as_str(), "outcome" => "done").increment(1);
            record_intake_lag(&job, now);
        }
        Err(error) => record_failure(state, worker, job, error).await?,
    }
    Ok(true)
}

/// Jobs that carry what a provider posted to the hub (webhooks, SMPP
/// receipts and inbound messages): their age when done is the intake's lag.
const INTAKE: [JobKind; 4] = [
    JobKind::WhatsAppWebhook,
    JobKind::SmsWebhook,
    JobKind::SmppReceipt,
    JobKind::SmppInbound,
];

/// `recado_webhook_lag_seconds{kind}`: from a provider's event being stored
/// (and acknowledged) to its effects being written.
fn record_intake_lag(job: &Job, done_at: i64) {
    if INTAKE.contains(&job.kind) {
        let lag_ms = (done_at - job.created_at).max(0);
        metrics::histogram!("recado_webhook_lag_seconds", "kind" => job.kind.as_str()).record(lag_ms as f64 / 1000.0);
    }
}

/// Records a failed attempt of a job `worker` holds: queued again after a
/// back-off, handed back untouched (`Elsewhere`), or buried and settled.
pub(crate) async fn record_failure(
    state: &AppState,
    worker: &str,
    job: Job,
    error: JobError,
) -> Result<(), StoreError> {
    let now = state.clock.now_ms();
    let (message, retry_at) = match error {
        JobError::Retry {
            message,
            retry_after_ms,
        } => {
            let at = now + retry_delay_ms(job.attempts - 1, retry_after_ms);
            (message, Some(at))
        }
        JobError::Permanent(message) => (message, None),
        JobError::Elsewhere { retry_after_ms } => {
            state
                .store
                .defer_job(&job.id, worker, now + retry_after_ms, now)
                .await?;
            metrics::counter!("recado_jobs_total", "kind" => job.kind.as_str(), "outcome" => "deferred").increment(1);
            return Ok(());
        }
        JobError::Later { after_ms } => {
            state.store.defer_job(&job.id, worker, now + after_ms, now).await?;
            metrics::counter!("recado_jobs_total", "kind" => job.kind.as_str(), "outcome" => "later").increment(1);
            return Ok(());
        }
    };
    let status = state.store.fail_job(&job.id, worker, &message, retry_at, now).await?;
    if status == Some(recado_store::jobs::DEAD) {
        tracing::error!(job = %job.id, kind = %job.kind, attempt = job.attempts, error = %message, "job failed for good");
        let buried = Job {
            last_error: Some(message),
            status: recado_store::jobs::DEAD.into(),
            ..job
        };
        settle_buried(state, buried).await;
    } else {
        tracing::warn!(job = %job.id, kind = %job.kind, attempt = job.attempts, error = %message, ?status, "job failed");
        metrics::counter!("recado_jobs_total", "kind" => job.kind.as_str(), "outcome" => "retry").increment(1);
    }
    Ok(())
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
        state.node.release();
    }
}

/// How often a node looks for uncertain sends to reconcile.
const RECONCILE_EVERY_MS: u64 = 60_000;

/// Starts `settings.workers` worker loops that stop when `shutdown` turns
/// true, on a node that beats every few seconds. Worker names are
/// `{node}:{n}`, which ties their leases to the node.
pub fn spawn(state: &AppState, shutdown: watch::Receiver<bool>) -> Workers {
    let registry = Registry::builtin();
    let node = state.node.id.clone();
    let mut loops = Vec::new();
    // Every node beats, workers or not: its heartbeat also tells the others
    // that the idempotency keys it holds are still being handled.
    {
        let (state, node, mut shutdown) = (state.clone(), node.clone(), shutdown.clone());
        loops.push(tokio::spawn(async move {
            loop {
                if let Err(e) = state.store.node_heartbeat(&node, state.clock.now_ms()).await {
                    tracing::error!(error = %e, "node heartbeat failed");
                }
                crate::channels::health::flush(&state).await;
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
    if state.settings.workers == 0 {
        return Workers { node, loops };
    }
    {
        // The workflow engine: due runs in batches, then due schedules.
        let (state, mut shutdown) = (state.clone(), shutdown.clone());
        let owner = format!("{node}:workflows");
        loops.push(tokio::spawn(async move {
            loop {
                if *shutdown.borrow() {
                    break;
                }
                let busy = match crate::workflows::engine::advance_due(&state, &owner).await {
                    Ok(n) => n > 0,
                    Err(e) => {
                        tracing::error!(error = %e, "the workflow engine could not advance runs");
                        false
                    }
                };
                if let Err(e) = crate::workflows::enrol::fire_schedules(&state).await {
                    tracing::error!(error = %e, "schedule triggers could not fire");
                }
                if busy {
                    continue;
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }));
    }
    {
        // Uncertain HTTP-provider sends, settled from the provider's list;
        // uncertain WhatsApp sends that no status settled, failed.
        let (state, mut shutdown) = (state.clone(), shutdown.clone());
        loops.push(tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(RECONCILE_EVERY_MS)) => {}
                    _ = shutdown.changed() => {}
                }
                if *shutdown.borrow() {
                    break;
                }
                match crate::sms::reconcile::run(&state).await {
                    Ok(done) if done.found + done.absent > 0 => {
                        tracing::info!(
                            found = done.found,
                            absent = done.absent,
                            open = done.open,
                            "uncertain sends reconciled"
                        );
                    }
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "uncertain sends could not be reconciled"),
                }
                if let Err(e) = crate::whatsapp::reconcile::run(&state).await {
                    tracing::error!(error = %e, "uncertain WhatsApp sends could not be reconciled");
                }
                if let Err(e) = crate::voice::reconcile::run(&state).await {
                    tracing::error!(error = %e, "interrupted calls could not be reconciled");
                }
            }
        }));
    }
    // The Asterisk applications this node holds: their events, their dials.
    loops.push(tokio::spawn(crate::voice::asterisk::run(
        state.clone(),
        shutdown.clone(),
    )));
    loops.extend(crate::dispatch::spawn(state, &node, &shutdown));
    // Dials wait for their channel's next slot (`max_cps`): they have loops
    // of their own, so what calls in progress need (their narrations, keys,
    // hang-ups) never queues behind a campaign's dials.
    for n in 0..DIAL_LOOPS {
        let worker = format!("{node}:dial{n}");
        loops.push(spawn_loop(
            state,
            &registry,
            &shutdown,
            worker,
            Some(JobKind::VoiceDial),
            Vec::new(),
        ));
    }
    let except: Vec<JobKind> = crate::dispatch::KINDS.into_iter().chain([JobKind::VoiceDial]).collect();
    for n in 0..state.settings.workers {
        let worker = format!("{node}:{n}");
        loops.push(spawn_loop(state, &registry, &shutdown, worker, None, except.clone()));
    }
    Workers { node, loops }
}

/// Loops claiming dial jobs, per node. Each waits at its channel's gate
/// most of the time; the others meanwhile originate, record acceptances
/// and claim the next dials, whose round trips on PostgreSQL under load
/// (tens of milliseconds at the 95th percentile) four loops could not
/// cover at 100 calls a second. Sixteen dialled as fast and made the keys
/// of calls in progress wait longer for the database.
const DIAL_LOOPS: usize = 8;

/// A worker loop running jobs of the kind `only` (any when `None`) and not
/// of the kinds `except`, until `shutdown` turns true.
fn spawn_loop(
    state: &AppState,
    registry: &Registry,
    shutdown: &watch::Receiver<bool>,
    worker: String,
    only: Option<JobKind>,
    except: Vec<JobKind>,
) -> tokio::task::JoinHandle<()> {
    let (state, registry, mut shutdown) = (state.clone(), registry.clone(), shutdown.clone());
    tokio::spawn(async move {
        loop {
            if *shutdown.borrow() {
                break;
            }
            match run_one(&state, &registry, &worker, only, &except).await {
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
    })
}
